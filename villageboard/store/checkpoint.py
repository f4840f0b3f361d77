"""The checkpoint: the point up to which every data file is known durable, and the
redo from there when a writer opens.

Tests kill the process inside a checkpoint with ``VILLAGEBOARD_KILL_AT`` (restore.py):
``checkpoint.folders`` (folders fsynced, CHECKPOINT.json not yet written) and
``checkpoint.written``.

A save is durable once its journal entry is fsynced (the commit point). Its data files
are then written whole (temp file, fsync, rename) but their folders are not fsynced,
so after a power cut each data file holds some complete version it once had, perhaps
one from before the last few saves, or is missing if it was new. HEAD.json and
counters.json are overwritten in place on each save with no fsync at all
(storage.write_hint): they are hints, for readers beside the writer and for
``check``, and a kill or a power cut may leave them old, empty or torn. Nothing
trusts them: a backup's snapshot starts from the checkpoint too (snapshot.py).

CHECKPOINT.json ``{seq, hash, counters}`` is written durably (fsync, then the folder)
only after every folder written since the last checkpoint has been fsynced, so every
data file then holds at least its version as of entry ``seq``. The writer checkpoints
when it opens, when it closes, before a backup, every ``Store.checkpoint_every`` saves
and with the first entry of each new journal segment (so the entries a redo reads are
in the last segment); a failed checkpoint is only tried again later (the journal
keeps every save).

Opening for writing redoes, in order, every journal entry after the checkpoint. Each
entry holds the full new version of every record it changes and counters only grow,
so an entry redone twice changes nothing. HEAD and counters are then rewritten from
the journal and the checkpoint, whatever a power cut left of them. A journal that
ends before the checkpoint, or whose entry at the checkpoint has another hash, is
damage. A folder of an older format (no CHECKPOINT.json) was written under the old
protocol, where HEAD and counters were fsynced on every save: they serve as its
checkpoint, and until its migration the store keeps that protocol (a checkpoint
after every save, writing HEAD and counters durably and no CHECKPOINT.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import DamagedError, StorageError
from villageboard.store import storage as st
from villageboard.store.journal import apply_change, entries_after, merge_counters
from villageboard.store.killpoints import kill_point

if TYPE_CHECKING:
    from villageboard.store.store import Store

CHECKPOINT = "CHECKPOINT.json"
HEAD = "HEAD.json"
COUNTERS = "counters.json"
#: Saves between two checkpoints (each costs one fsync per folder written since the last).
EVERY = 256


def _read(path: Path) -> Any:
    try:
        return st.read_sealed(path)
    except FileNotFoundError:
        raise DamagedError(path, "文件不见了") from None


def _hint(path: Path) -> Any:
    """A hint file's body, or None when a power cut left it unreadable."""
    try:
        body = st.read_sealed(path)
    except (FileNotFoundError, DamagedError):
        return None
    return body if isinstance(body, dict) else None


def recover(store: Store) -> None:
    """Find where the data stands (journal loaded) and, for a writer, redo every entry
    after the checkpoint; raises DamagedError naming what does not fit."""
    root, j = store.root, store.journal
    seg = j.segment or (root / "journal")
    if store.wal:
        ckpt = _read(root / CHECKPOINT)
        head, counters = _hint(root / HEAD), _hint(root / COUNTERS)
    else:  # the old protocol: HEAD and counters were durable
        head, counters = _read(root / HEAD), _read(root / COUNTERS)
        ckpt = {"seq": head.get("seq", 0), "hash": head.get("hash"), "counters": counters}
    cseq, chash = int(ckpt.get("seq", 0)), str(ckpt.get("hash"))
    store.ckpt_seq = cseq
    if store.readonly:
        # Another process may be saving right now: HEAD and counters as it last wrote
        # them (the checkpoint when a power cut spoiled them); never redo anything.
        where = head or ckpt
        store.head = {"seq": where.get("seq", 0), "hash": where.get("hash")}
        store.counters = dict(counters if counters is not None else ckpt.get("counters") or {})
        if j.last_seq < store.head["seq"]:
            raise DamagedError(seg, f"修改记录少了（只到第{j.last_seq}条，应有第{store.head['seq']}条）")
        if j.last_seq == store.head["seq"] and j.last_hash != store.head["hash"]:
            raise DamagedError(seg, "修改记录与最后保存的位置对不上")
        return
    for seq in (cseq, int(head.get("seq", 0)) if head else 0):
        if j.last_seq < seq:
            raise DamagedError(seg, f"修改记录少了（只到第{j.last_seq}条，应有第{seq}条）")
    if j.last_seq == cseq:
        if j.last_hash != chash:
            raise DamagedError(seg, "修改记录与最后保存的位置对不上")
        entries: list[dict[str, Any]] = []
    else:
        # (the start-up check has verified the chain, so the entry after the checkpoint
        # naming the checkpoint's hash as its previous one is the checkpoint's entry
        # being in the journal; it need not be read, it may be in an older segment)
        entries, _at = entries_after(j.folder, cseq)
        first = entries[0] if entries else {}
        if first.get("seq") != cseq + 1 or first.get("prev") != chash or entries[-1]["seq"] != j.last_seq:
            raise DamagedError(seg, "修改记录与数据对不上")
    if head is not None and int(head.get("seq", 0)) >= cseq:
        seq = int(head.get("seq", 0))
        if (entries[seq - cseq - 1]["hash"] if seq > cseq else chash) != head.get("hash"):
            raise DamagedError(seg, "修改记录与最后保存的位置对不上")
    merged: dict[str, int] = dict(ckpt.get("counters") or {})
    for entry in entries:
        merge_counters(merged, entry.get("counters") or {})
    store.recovered = bool(entries) and (head is None or int(head.get("seq", 0)) < j.last_seq)
    _redo(store, entries)
    store.counters = merged
    store.head = {"seq": j.last_seq, "hash": j.last_hash}
    if store.wal and (head != store.head or counters != merged):
        store.write_hint(COUNTERS, merged)
        store.write_hint(HEAD, store.head)
    if entries:
        checkpoint(store)


def _redo(store: Store, entries: list[dict[str, Any]]) -> None:
    """Apply entries to the data files exactly as a save does, each file written once."""
    by_file: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for c in entry["changes"]:
            data = by_file.get(c["f"])
            if data is None:
                data = by_file[c["f"]] = store.storage(c["f"]).read() or {}
            apply_change(data, c, entry["seq"])
    for rel, data in by_file.items():
        s = store.storage(rel)
        store.dirty_dirs.add(s.path.parent)
        s.write(data)
        store.note(s.path)


def checkpoint(store: Store, strict: bool = False) -> bool:
    """Make every save so far durable in the data files themselves and record that in
    CHECKPOINT.json (HEAD and counters, durably, under the old protocol). False when
    the disk refused (the journal still holds every save; ``strict`` raises instead)."""
    if store.readonly or store.verifier is None:
        return False
    with store.commit_lock:
        root = store.root.resolve()
        folders: set[Path] = set()
        for d in store.dirty_dirs:
            d = d.resolve()
            while d not in folders and d != root and d.is_relative_to(root):
                folders.add(d)
                d = d.parent
        folders.add(root)
        try:
            for d in sorted(folders, key=lambda p: -len(p.parts)):
                st.fsync_dir(d)
            kill_point("checkpoint.folders")
            if store.wal:
                body = {"seq": store.head["seq"], "hash": store.head["hash"], "counters": store.counters}
                store.write_durable(CHECKPOINT, body)
            else:
                store.write_durable(COUNTERS, store.counters)
                store.write_durable(HEAD, store.head)
        except (OSError, StorageError):
            if strict:
                raise
            return False
        kill_point("checkpoint.written")
        store.dirty_dirs.clear()
        store.ckpt_seq = int(store.head["seq"])
        store.since_checkpoint = 0
        return True
