"""The store: partitioned TinyDB files, a redo journal, persisted counters and a lock.

Layout of a data directory::

    villageboard.json              what this folder is, and its schema version
    registry.json                  settings, villages, groups, programs
    households/<village>.json      the household registry, one file a village
    counters.json                  record-number counters (never go back; a hint)
    HEAD.json                      seq and hash of the last applied journal entry (a hint)
    CHECKPOINT.json                seq, hash and counters up to which the data files are durable
    journal/000001.jsonl           the hash-chained journal (redo log); sealed segments
                                   are kept compressed, 000001.jsonl.gz (compress.py)
    years/2026/applications/<program>/<village>.json
    years/2026/notices.json        notice versions (metadata)
    years/2026/snapshots/<code>-v<version>.json   frozen notice rows (write once,
                                   stored compressed: storage.py)
    years/2026/objections.json, years/2026/calls.json
    attachments/                   posting photos, by SHA-256

A transaction is appended to the journal and fsynced first: that is the commit point,
the only fsync a save waits for besides one per data file it rewrites. Each file it
touches is then replaced whole (temp file, fsync, rename; the folder is not fsynced),
then counters and HEAD are rewritten with no fsync. Every few hundred saves, at close
and before a backup, a checkpoint fsyncs the folders written since the last one and
records the point in CHECKPOINT.json (checkpoint.py). Opening for writing redoes every
journal entry after the checkpoint, so a kill or a power cut at any point after the
journal append loses nothing, and one before it leaves no trace. Only one process
writes at a time.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import filelock
import orjson

from villageboard.domain.errors import (
    ArchivedError,
    LockedError,
    ReadOnlyError,
    StorageError,
    VBError,
)
from villageboard.private import FILE_MODE, private_dir
from villageboard.store import checkpoint as ck
from villageboard.store import compress
from villageboard.store import storage as st
from villageboard.store.changes import Commit, Listener
from villageboard.store.compress import Compressor
from villageboard.store.derived import Derived, derived_dir_for
from villageboard.store.journal import GENESIS, Journal, apply_change, merge_counters
from villageboard.store.verify import Verifier, cache_path_for, sealed_files

#: The data folder format this program writes (3: compressed journal segments, 4:
#: checkpointed saves, 5: compressed notice snapshots); older ones are upgraded on open.
SCHEMA_VERSION = 5
WAL_SCHEMA = 4  # from this format on HEAD and counters are hints, CHECKPOINT.json durable
META = "villageboard.json"
REGISTRY = "registry.json"
COUNTERS = ck.COUNTERS
HEAD = ck.HEAD
CHECKPOINT = ck.CHECKPOINT
JOURNAL_DIR = "journal"
LOCK = ".lock"
ATTACHMENTS = "attachments"
CACHE_FILES = 1500
#: Folders that hold partitioned data files.
DATA_FOLDERS = ("households", "years")


def now_iso() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()


def is_data_dir(root: Path) -> bool:
    return (root / META).is_file()


def is_empty_dir(root: Path) -> bool:
    return not root.exists() or not any(p for p in root.iterdir() if p.name != LOCK)


class Store:
    """One open data directory. Use :meth:`open`; close when done."""

    def __init__(self, root: Path, readonly: bool) -> None:
        self.root = Path(root)
        self.readonly = readonly
        self.operator = ""
        self.lock: filelock.BaseFileLock | None = None
        self.journal = Journal(self.root / JOURNAL_DIR)
        self.counters: dict[str, int] = {}
        self.head: dict[str, Any] = {"seq": 0, "hash": GENESIS}
        self.meta: dict[str, Any] = {}
        self._files: OrderedDict[str, st.SealedStorage] = OrderedDict()
        self._pinned: dict[str, st.SealedStorage] = {}
        self._listeners: list[Listener] = []
        self.recovered = False
        #: What the open did about a restore a kill interrupted (words for the clerk).
        self.restore_note: str | None = None
        self.verifier: Verifier | None = None
        #: The writer's background compression of sealed journal segments (compress.py).
        self.compressor: Compressor | None = None
        #: Figures computed from data files, remembered between starts (derived.py).
        self.derived = Derived(self, derived_dir_for(self.root))
        #: Checkpointed protocol (checkpoint.py); False for a folder not yet migrated to it.
        self.wal = True
        self.checkpoint_every = ck.EVERY
        self.dirty_dirs: set[Path] = set()  # folders renamed into since the last checkpoint
        self.ckpt_seq = 0
        self.since_checkpoint = 0
        self.loaded = False  # the open finished: only then may close() checkpoint
        # The app reads from worker threads while the clerk saves: one lock guards the
        # file cache and every commit.
        self._lock = threading.RLock()

    def subscribe(self, fn: Listener) -> None:
        """Call ``fn`` with a :class:`Commit` after every save, while the save still
        holds :attr:`commit_lock` (so readers under that lock see the listener's work too)."""
        self._listeners.append(fn)

    def unsubscribe(self, fn: Listener) -> None:
        self._listeners.remove(fn)

    @property
    def commit_lock(self) -> threading.RLock:
        """Held while a save is applied and while the file cache is used: a reader that
        takes it sees no save half applied."""
        return self._lock

    def _make_verifier(self) -> Verifier:
        return Verifier(
            self.root,
            cache_path_for(self.root),
            sealed_files(self.root, (JOURNAL_DIR, ATTACHMENTS)),
            self.root / JOURNAL_DIR,
            self.root / ATTACHMENTS,
            identity=str(self.meta.get("created", "")),
            hints=(HEAD, COUNTERS) if self.wal else (),
        )

    def note(self, path: Path) -> None:
        """Tell the start-up check record that this program wrote ``path``."""
        if self.verifier is not None:
            self.verifier.note(path)

    def write_durable(self, name: str, body: Any) -> None:
        st.atomic_write(self.root / name, st.seal(body))
        self.note(self.root / name)

    def write_hint(self, name: str, body: Any) -> None:
        """HEAD or counters: rewritten on every save with no fsync (checkpoint.py)."""
        st.write_hint(self.root / name, st.seal(body))
        self.note(self.root / name)

    def checkpoint(self) -> bool:
        """Make every save so far durable in the data files (checkpoint.py)."""
        return ck.checkpoint(self)

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, root: Path, meta: dict[str, Any] | None = None) -> Store:
        """Make a new data dir (refusing a non-empty one) and open it for writing."""
        root = Path(root)
        if not is_empty_dir(root):
            raise VBError(f"文件夹 {root} 里已经有内容。为防止覆盖，请换一个空文件夹。")
        private_dir(root)
        store = cls(root, readonly=False)
        store.acquire()
        body = {"format": "villageboard", "schema": SCHEMA_VERSION, "created": dt.datetime.now().isoformat()}
        body.update(meta or {})
        store.meta = body
        store.verifier = store._make_verifier()
        store.verifier.files, store.verifier.segs = {}, {}
        store.write_durable(COUNTERS, {})
        store.write_durable(HEAD, store.head)
        store.write_durable(CHECKPOINT, {"seq": 0, "hash": GENESIS, "counters": {}})
        store.write_durable(META, body)  # last: a folder with it is whole
        compress.start_for(store)
        store.loaded = True
        return store

    @classmethod
    def open(cls, root: Path, readonly: bool = False, fallback_readonly: bool = False) -> Store:
        """Open an existing data dir. A second writer gets :class:`LockedError`, or a
        read-only store when ``fallback_readonly`` is set."""
        from villageboard.store.restore import pending

        root = Path(root)
        if not is_data_dir(root) and not pending(root):
            if is_empty_dir(root):
                raise VBError(
                    f"数据文件夹 {root} 还没有建立乡镇数据。请先运行 villageboard init（正式使用）"
                    "或 villageboard demo（演示数据）。"
                )
            raise VBError(f"文件夹 {root} 不是本程序的数据文件夹（缺少 {META}）。")
        store = cls(root, readonly=readonly)
        if not readonly:
            private_dir(root)  # a data dir made by an older version was world-readable
            try:
                store.acquire()
            except LockedError:
                if not fallback_readonly:
                    raise
                store.readonly = True
        if store.readonly and pending(root):
            store.close()
            raise VBError(
                "数据正在从备份恢复（或上次恢复被中断，还没有补完）。请等恢复完成，"
                "或关闭其他正在使用数据的窗口后重新打开。"
            )
        try:
            store._load()
        except BaseException:
            store.close()
            raise
        return store

    def acquire(self) -> None:
        self.lock = filelock.FileLock(str(self.root / LOCK), timeout=0, mode=FILE_MODE)
        try:
            self.lock.acquire()
        except filelock.Timeout:
            self.lock = None
            raise LockedError(self.root) from None

    def _load(self) -> None:
        if not self.readonly:
            from villageboard.locations import backups_dir
            from villageboard.store import leftovers
            from villageboard.store.restore import finish_pending

            self.restore_note = finish_pending(self.root)
            self.clean_temp_files()
            leftovers.clean(self.root, backups_dir(self.root))
        self.meta = st.read_sealed(self.root / META)
        schema = self.meta.get("schema", 0)
        self.wal = schema >= WAL_SCHEMA
        if schema > SCHEMA_VERSION:  # before the start-up check: a newer format may not pass it here
            raise VBError(f"数据文件夹是新版本程序（格式{schema}）建立的，请升级本程序后再打开。")
        self.verifier = self._make_verifier()
        self.verifier.verify()
        self.journal.load_tail()
        ck.recover(self)
        if not self.readonly and self.journal.torn is not None:
            seg = self.journal.torn[0]
            self.journal.cut_torn_tail()  # an append that a crash cut short: never acknowledged
            self.verifier.note_segment(seg, None, first=False)
        self._pin(REGISTRY)
        if schema < SCHEMA_VERSION and not self.readonly:
            self._migrate()
        compress.start_for(self)
        # Read-only processes save what they verified too (the cache lives outside the
        # data dir), or every lookup opened beside the app would re-hash everything.
        self.verifier.save()
        self.loaded = True

    def _migrate(self) -> None:
        from villageboard.store.migrations import migrate

        migrate(self, SCHEMA_VERSION)

    def set_schema(self, schema: int) -> None:
        """Record that the folder's files are now in format ``schema`` (migrations.py)."""
        if self.readonly:
            raise ReadOnlyError()
        if schema >= WAL_SCHEMA and not self.wal:
            # CHECKPOINT.json is durable before the folder says it has one
            self.wal = True
            if self.verifier is not None:
                self.verifier.hints = (HEAD, COUNTERS)
            ck.checkpoint(self, strict=True)
        self.meta = {**self.meta, "schema": schema}
        self.write_durable(META, self.meta)

    def clean_temp_files(self) -> int:
        n = 0
        for dirpath, dirs, files in os.walk(self.root):
            if dirpath == str(self.root):  # work folders of backups and restores: leftovers.py
                dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith(st.TMP_SUFFIX):
                    try:
                        os.unlink(os.path.join(dirpath, name))
                        n += 1
                    except OSError:
                        pass
        return n

    def close(self) -> None:
        self.derived.closed = True  # a loader thread still running keeps nothing now
        if self.loaded and self.lock is not None and (self.dirty_dirs or self.ckpt_seq != self.head.get("seq")):
            ck.checkpoint(self)
        compress.stop_for(self)
        if self.verifier is not None:
            self.verifier.save()
        self.journal.close()
        for s in list(self._files.values()) + list(self._pinned.values()):
            s.close()
        self._files.clear()
        self._pinned.clear()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def retire(self) -> None:
        """Before a restore swaps the files: this store's caches and its start-up check
        record describe data about to be replaced, so none of them is kept or saved.
        The store only closes after this."""
        self.derived.closed = True
        compress.stop_for(self)
        self.verifier = None
        self.journal.close()
        for s in list(self._files.values()) + list(self._pinned.values()):
            s.close()
        self._files.clear()
        self._pinned.clear()
        self.readonly = True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading
    def _pin(self, rel: str) -> st.SealedStorage:
        s = self._pinned.get(rel)
        if s is None:
            s = st.SealedStorage(self.root / rel, readonly=self.readonly)
            s.read()
            self._pinned[rel] = s
        return s

    def storage(self, rel: str) -> st.SealedStorage:
        """The cached storage of one data file (the store's own writes go through it)."""
        with self._lock:
            return self._storage_locked(rel)

    def _storage_locked(self, rel: str) -> st.SealedStorage:
        if rel in self._pinned:
            return self._pinned[rel]
        s = self._files.get(rel)
        if s is None:
            s = st.SealedStorage(self.root / rel, readonly=self.readonly)
            self._files[rel] = s
            if len(self._files) > CACHE_FILES:
                _old, evicted = self._files.popitem(last=False)
                evicted.close()
        else:
            self._files.move_to_end(rel)
        return s

    def table(self, rel: str, table: str) -> dict[str, dict[str, Any]]:
        """All docs of one table, keyed by the doc id as a string. Read-only: callers
        must copy before changing anything."""
        with self._lock:
            docs: dict[str, dict[str, Any]] = self._storage_locked(rel).peek().get(table, {})
            return docs

    def scan(self, rel: str, table: str) -> dict[str, dict[str, Any]]:
        """Like :meth:`table`, for a pass over many files: a file not already held in
        the cache is read from disk without being kept, so one pass over a year (500
        files at a large township) does not fill memory. Read-only, like table()."""
        with self._lock:
            held = self._pinned.get(rel) or self._files.get(rel)
            if held is not None:
                docs: dict[str, dict[str, Any]] = held.peek().get(table, {})
                return docs
        try:
            docs = self.read_raw(rel).get(table, {})
        except FileNotFoundError:
            return {}
        return docs

    def get(self, rel: str, table: str, key: int) -> dict[str, Any] | None:
        doc = self.table(rel, table).get(str(key))
        return orjson.loads(orjson.dumps(doc)) if doc is not None else None

    def exists(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def list_files(self, prefix: str) -> list[str]:
        """Relative paths of data files under a folder, sorted."""
        base = self.root / prefix
        if not base.is_dir():
            return []
        out = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.endswith(".json") and not name.startswith("."):
                    out.append(Path(dirpath, name).relative_to(self.root).as_posix())
        return sorted(out)

    def years(self) -> list[int]:
        base = self.root / "years"
        if not base.is_dir():
            return []
        return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit())

    def cached_files(self) -> set[str]:
        """The data files held in the file cache now (pinned ones not included)."""
        with self._lock:
            return set(self._files)

    def forget(self, rel: str) -> None:
        """Drop a cached file (bulk readers use this to bound memory)."""
        s = self._files.pop(rel, None)
        if s is not None:
            s.close()

    def read_raw(self, rel: str) -> Any:
        """Read and verify one sealed file without caching it."""
        return st.read_sealed(self.root / rel)

    # ------------------------------------------------------------------ writing
    def begin(self, action: str) -> Tx:
        if self.readonly:
            raise ReadOnlyError()
        return Tx(self, action)

    def _commit(self, tx: Tx) -> int:
        with self._lock:
            return self._commit_locked(tx)

    def _commit_locked(self, tx: Tx) -> int:
        if not tx.changes and not tx.counters:
            return self.journal.last_seq
        body = {
            "ts": now_iso(),
            "op": self.operator,
            "action": tx.action,
            "changes": [{"f": f, "t": t, "k": k, "b": c["b"], "a": c["a"]} for (f, t, k), c in tx.changes.items()],
            "counters": tx.counters,
        }
        j = self.journal
        prev = (j.last_entry, j.last_seq, j.last_hash)
        before = (self.counters, self.head)
        entry = j.make_entry(body)
        seg, offset = j.append(entry)
        if self.verifier is not None:
            self.verifier.note_segment(seg, entry, first=offset == 0)
        try:
            self._apply(entry)
        except StorageError:
            self._undo(entry, offset, prev, before)
            if self.verifier is not None:
                self.verifier.forget_segment(seg)
            raise
        self.since_checkpoint += 1
        if not self.wal or self.since_checkpoint >= self.checkpoint_every or offset == 0:
            ck.checkpoint(self)
        if self._listeners:
            event = Commit.from_entry(entry)
            for fn in list(self._listeners):
                fn(event)
        return int(entry["seq"])

    def _undo(self, entry: dict[str, Any], offset: int, prev: tuple[Any, int, str], before: tuple[Any, Any]) -> None:
        """Best effort after a failed apply: put back files already written, then cut
        the entry from the journal, so the failed save leaves no trace."""
        by_file: dict[str, list[dict[str, Any]]] = {}
        for c in entry["changes"]:
            by_file.setdefault(c["f"], []).append(c)
        for rel, changes in by_file.items():
            s = self.storage(rel)
            data = s.read() or {}
            if not any(data.get(c["t"], {}).get(str(c["k"]), {}).get("_jseq") == entry["seq"] for c in changes):
                continue
            for c in changes:
                tbl = data.setdefault(c["t"], {})
                if c["b"] is None:
                    tbl.pop(str(c["k"]), None)
                else:
                    tbl[str(c["k"])] = c["b"]
            try:
                s.write(data)
                self.note(s.path)
            except StorageError:
                return  # leave the journal entry: the next open finishes the save
        self.journal.rollback(offset, *prev)
        if self.counters != before[0] and self.wal:
            try:
                self.write_hint(COUNTERS, before[0])
            except StorageError:
                pass  # a hint: a writer's open rebuilds it, and it is only ever too high
        self.counters, self.head = before

    def _apply(self, entry: dict[str, Any]) -> None:
        seq = entry["seq"]
        by_file: dict[str, list[dict[str, Any]]] = {}
        for c in entry["changes"]:
            by_file.setdefault(c["f"], []).append(c)
        for rel, changes in by_file.items():
            s = self.storage(rel)
            data = s.read() or {}
            for c in changes:
                apply_change(data, c, seq)
            self.dirty_dirs.add(s.path.parent)
            s.write(data)
            self.note(s.path)
        head = {"seq": seq, "hash": entry["hash"]}
        if entry.get("counters"):
            merged = dict(self.counters)
            merge_counters(merged, entry["counters"])
            if self.wal:
                self.write_hint(COUNTERS, merged)
            self.counters = merged
        if self.wal:  # the old protocol writes both durably at its checkpoint, next
            self.write_hint(HEAD, head)
        self.head = head

    # ------------------------------------------------------------------ attachments
    def put_attachment(self, data: bytes, suffix: str) -> tuple[str, str]:
        """Store a file by content hash; returns (relative path, sha256)."""
        import hashlib

        if self.readonly:
            raise ReadOnlyError()
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{ATTACHMENTS}/{digest}{suffix.lower()}"
        path = self.root / rel
        if not path.exists():
            st.atomic_write(path, data)
            self.note(path)
        return rel, digest

    def attachment_path(self, rel: str) -> Path:
        return self.root / rel


class Tx:
    """Collects changes; :meth:`commit` makes them durable all at once."""

    def __init__(self, store: Store, action: str) -> None:
        self.store = store
        self.action = action
        self.changes: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.counters: dict[str, int] = {}
        self.done = False

    def next_number(self, counter: str) -> int:
        value = self.counters.get(counter, self.store.counters.get(counter, 0)) + 1
        self.counters[counter] = value
        return value

    def current(self, rel: str, table: str, key: int) -> dict[str, Any] | None:
        pending = self.changes.get((rel, table, key))
        if pending is not None:
            doc: dict[str, Any] = pending["a"]
            return doc
        return self.store.get(rel, table, key)

    def put(self, rel: str, table: str, key: int, doc: dict[str, Any]) -> None:
        """Insert or replace one document with ``doc`` (a full document)."""
        ident = (rel, table, int(key))
        if ident in self.changes:
            before = self.changes[ident]["b"]
        else:
            before = self.store.get(rel, table, key)
        if before is not None and before.get("_readonly"):
            raise ArchivedError(before.get("_what", "该记录"))
        after = {k: v for k, v in doc.items() if k != "_jseq"}
        if before is not None:
            before = {k: v for k, v in before.items() if k != "_jseq"}
            if "_ctr" in before:
                after.setdefault("_ctr", before["_ctr"])
        self.changes[ident] = {"b": before, "a": orjson.loads(orjson.dumps(after))}

    def insert(self, rel: str, table: str, counter: str, doc: dict[str, Any], key_field: str | None = "id") -> int:
        """Insert a new document numbered from ``counter``; returns the number."""
        key = self.next_number(counter)
        doc = dict(doc)
        if key_field:
            doc[key_field] = key
        doc["_ctr"] = counter
        self.put(rel, table, key, doc)
        return key

    def commit(self) -> int:
        if self.done:
            raise RuntimeError("transaction already committed")
        self.done = True
        return self.store._commit(self)

    def __enter__(self) -> Tx:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None and not self.done:
            self.commit()
