"""A consistent copy of a data dir, taken while saves go on, by any process.

How it is made (no lock is taken; the writer never waits for it)::

    1. link CHECKPOINT.json           -> h0, a save applied to every file (HEAD.json in
                                         a folder of the older format: the last one)
    2. link every other data file     (each link freezes one whole version of a file)
    3. copy the journal               -> L, its last complete entry
    4. redo entries h0+1 .. L on the linked copies; write counters, HEAD and the
       checkpoint afresh, at L
    5. link attachments and templates

Invariant: the snapshot is exactly the data as it stood right after journal entry L
was applied. Why it holds:

- The store only ever replaces a data file whole (temp file, fsync, rename), so a hard
  link taken at any instant is one complete version of that file, and later saves
  never change it (they make a new file). Where links are impossible, a copy of the
  bytes read at that instant serves the same purpose.
- The checkpoint is written only after every change of entries 1..h0 is in every
  data file (so was HEAD, written last in every save, under the older format). Files
  linked later (step 2) hold those changes and possibly some later ones, never older
  versions. HEAD and counters are hints a power cut may spoil, so they are never
  trusted here: both are rebuilt from the checkpoint and the journal.
- A save appends its journal entry (fsynced) before it touches any data file, and the
  journal is read after the links (step 3), so every change found in a linked file
  has its entry at or before L.
- Each journal entry holds the full new version of every record it changes. Redoing
  entries h0+1..L in order sets every record they touch to its version at L, whatever
  version the linked file held; a record no entry in that range touches was last
  written at or before h0 and is already right. Counters only grow, so the largest
  value seen is the value at L.
- Attachments are written once, before the save that names them, and never deleted;
  listing them after step 3 finds every one that entries up to L name.

So every save acknowledged before the snapshot began (its entry is in the journal
before step 3 reads it) is in the snapshot, and the snapshot is a state that really
existed. A torn last line (an append still being written) is not acknowledged and is
left out.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from villageboard.store import leftovers
from villageboard.store import storage as st
from villageboard.store.journal import apply_change, entries_after, merge_counters, segments
from villageboard.store.segfiles import key as seg_key
from villageboard.store.segfiles import read_segment, twin
from villageboard.store.verify import sealed_files

META = "villageboard.json"
COUNTERS = "counters.json"
HEAD = "HEAD.json"
CHECKPOINT = "CHECKPOINT.json"
JOURNAL_DIR = "journal"
ATTACHMENTS = "attachments"
TEMPLATES = "templates"

#: Every file a data dir may hold, as a relative POSIX path. A backup holds only these,
#: and a restore refuses a backup holding anything else.
KNOWN = re.compile(
    r"(villageboard|registry|counters|HEAD|CHECKPOINT)\.json"
    r"|households/[^/]{1,64}\.json"
    r"|years/\d{4}/([^/]{1,64}/){0,3}[^/]{1,96}\.json"
    r"|journal/\d{6}\.jsonl(\.gz)?"
    r"|attachments/[0-9a-f]{64}(\.[a-z0-9]{1,8})?"
    r"|templates/[A-Za-z0-9_\-.]{1,64}\.j2"
)


def known(rel: str) -> bool:
    return KNOWN.fullmatch(rel) is not None and ".." not in rel.split("/")


@dataclass
class Snapshot:
    folder: Path  # a complete data dir (inside a work folder that is removed after)
    seq: int  # the last journal entry it holds
    redone: int  # entries redone on top of the linked files
    skipped: list[str] = field(default_factory=list)  # files in the data dir it left out
    hold: leftovers.Hold | None = None

    def members(self) -> list[tuple[str, Path]]:
        out = []
        for dirpath, dirs, files in os.walk(self.folder):
            dirs.sort()
            for name in sorted(files):
                p = Path(dirpath, name)
                rel = p.relative_to(self.folder).as_posix()
                if known(rel):
                    out.append((rel, p))
        return out

    def discard(self) -> None:
        if self.hold is not None:
            self.hold.release()
        shutil.rmtree(self.folder.parent, ignore_errors=True)


def quick_check(snap_folder: Path, root: Path) -> list[str]:
    """Check a snapshot the way the start-up check checks a data dir: every file's seal
    and the whole journal chain, hashing only what the live data dir's start-up record
    has not already verified (linked files keep their size, mtime and inode), and
    HEAD against the journal's last entry. Records against the journal need no check
    here: they agree by construction (module docstring); ``check`` proves it on any
    backup, and every restore runs it."""
    from villageboard.domain.errors import DamagedError
    from villageboard.store.journal import Journal
    from villageboard.store.verify import Verifier, cache_path_for

    v = Verifier(
        snap_folder,
        None,
        sealed_files(snap_folder, (JOURNAL_DIR, ATTACHMENTS)),
        snap_folder / JOURNAL_DIR,
        snap_folder / ATTACHMENTS,
    )
    cache = cache_path_for(root)
    if cache is not None:
        try:
            body = st.read_sealed(cache)
        except (OSError, DamagedError):
            body = {}
        if body.get("root") == str(Path(root).resolve()):
            # every data file the live record knows must be in the snapshot (data files
            # are never deleted): one that is not is reported as missing
            v.files = {rel: key for rel, key in body.get("files", {}).items() if known(rel)}
            held = {seg_key(p) for p in segments(snap_folder / JOURNAL_DIR)}
            v.segs = {k: c for name, c in body.get("segments", {}).items() if (k := seg_key(Path(name))) in held}
    try:
        v.verify()
        head = st.read_sealed(snap_folder / HEAD)
        j = Journal(snap_folder / JOURNAL_DIR)
        j.load_tail()
    except DamagedError as exc:
        return [
            f"{exc.path.relative_to(snap_folder) if exc.path.is_relative_to(snap_folder) else exc.path}：{exc.reason}"
        ]
    if (head.get("seq"), head.get("hash")) != (j.last_seq, j.last_hash):
        return [f"{HEAD}：最后保存的位置（第{head.get('seq')}条）与修改记录（共{j.last_seq}条）对不上"]
    return []


def _link(src: Path, dst: Path) -> bool:
    """Hard-link (or copy) ``src`` to ``dst``; False when ``src`` is gone.

    A save replacing ``src`` at this very instant can make link() fail with ENOENT
    although the name never stops existing (Linux refuses to link an inode whose last
    name was just taken by the rename): that is retried, never taken for "gone"."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(100):
        try:
            os.link(src, dst)
            return True
        except FileNotFoundError:
            if not os.path.lexists(src):
                return False
            continue  # replaced meanwhile: link the new one
        except FileExistsError:
            os.unlink(dst)
            continue
        except OSError:
            break  # no hard links here: copy
    for _attempt in range(100):
        try:
            shutil.copyfile(src, dst)
            return True
        except FileNotFoundError:
            if not os.path.lexists(src):
                return False
    raise OSError(f"cannot copy {src}")


def _copy_tail(src: Path, dst: Path) -> None:
    """Copy a journal segment that may be appended to right now, up to its last
    complete line (plain: the writer may have sealed and compressed it meanwhile)."""
    data = read_segment(src)[1]
    cut = data.rfind(b"\n") + 1
    dst.write_bytes(data[:cut])


def _link_segment(seg: Path, folder: Path) -> None:
    """Link a sealed segment into the snapshot's journal: the form listed, or the
    other one when the writer replaced it meanwhile (both are complete)."""
    if not _link(seg, folder / seg.name):
        other = twin(seg)
        if not _link(other, folder / other.name):
            raise FileNotFoundError(seg)


def _redo(folder: Path, entries: list[dict[str, Any]], start: dict[str, Any], counters: dict[str, int]) -> None:
    """Apply entries to the snapshot's files exactly as a save does, from the point
    ``start`` (seq and hash) with its ``counters``; then HEAD, counters and, when the
    folder has one, the checkpoint, all at the last entry."""
    by_file: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for c in entry["changes"]:
            data = by_file.get(c["f"])
            if data is None:
                path = folder / c["f"]
                try:
                    data = st.read_sealed(path)
                except FileNotFoundError:
                    data = {}
                by_file[c["f"]] = data
            apply_change(data, c, entry["seq"])
        merge_counters(counters, entry.get("counters") or {})
    for rel, data in by_file.items():
        _rewrite(folder / rel, st.seal_for(folder / rel, data))
    head = {"seq": entries[-1]["seq"], "hash": entries[-1]["hash"]} if entries else start
    _rewrite(folder / COUNTERS, st.seal(counters))
    _rewrite(folder / HEAD, st.seal(head))
    if (folder / CHECKPOINT).exists():
        _rewrite(folder / CHECKPOINT, st.seal({**head, "counters": counters}))


def _rewrite(path: Path, blob: bytes) -> None:
    """Replace a snapshot file (breaking its link: the live file is never touched)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".redo")
    tmp.write_bytes(blob)
    os.replace(tmp, path)


def take(root: Path, work_parent: Path | None = None) -> Snapshot:
    """A consistent snapshot of the data dir ``root`` (see the module docstring).
    The caller zips ``snapshot.folder`` and then calls ``discard()``."""
    root = Path(root)
    parent = work_parent or root
    try:
        work, hold = leftovers.work_dir(parent, leftovers.BACKUP_PREFIX)
    except OSError:  # a data dir we may not write into: copy into the temp folder
        import tempfile

        work, hold = leftovers.work_dir(Path(tempfile.gettempdir()), leftovers.BACKUP_PREFIX)
    folder = work / "data"
    folder.mkdir()
    snap = Snapshot(folder, 0, 0, hold=hold)
    try:
        # 1. the checkpoint first (HEAD in a folder of the older format): h0
        first = CHECKPOINT if (root / CHECKPOINT).exists() else HEAD
        if not _link(root / first, folder / first):
            raise FileNotFoundError(root / first)
        start = st.read_sealed(folder / first)
        h0 = int(start.get("seq", 0))
        # 2. every other data file
        for rel in sealed_files(root, (JOURNAL_DIR, ATTACHMENTS, TEMPLATES)):
            if rel == first:
                continue
            if not known(rel):
                snap.skipped.append(rel)
                continue
            _link(root / rel, folder / rel)
        # 3. the journal: whole segments are never changed again, except the last
        segs = segments(root / JOURNAL_DIR)
        (folder / JOURNAL_DIR).mkdir()
        for i, seg in enumerate(segs):
            if i == len(segs) - 1:
                _copy_tail(seg, folder / JOURNAL_DIR / f"{seg_key(seg)}.jsonl")
            else:
                _link_segment(seg, folder / JOURNAL_DIR)
        # 4. redo
        entries, _at = entries_after(folder / JOURNAL_DIR, h0)
        if first == CHECKPOINT:
            counters = dict(start.get("counters") or {})
        else:  # the older format wrote counters durably, before HEAD
            counters = st.read_sealed(folder / COUNTERS)
        _redo(folder, entries, {"seq": h0, "hash": start.get("hash")}, counters)
        snap.redone = len(entries)
        snap.seq = entries[-1]["seq"] if entries else h0
        # 5. attachments and templates (written once, never deleted)
        for sub in (ATTACHMENTS, TEMPLATES):
            base = root / sub
            if not base.is_dir():
                continue
            for p in sorted(base.iterdir()):
                rel = f"{sub}/{p.name}"
                if p.is_file() and known(rel):
                    _link(p, folder / rel)
                elif not p.name.startswith("."):
                    snap.skipped.append(rel)
        return snap
    except BaseException:
        snap.discard()
        raise
