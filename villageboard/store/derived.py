"""Values derived from data files, remembered between starts.

Some figures take a second or more to compute at a large township (a year's counts,
its risk flags, the phone desk's compact history of every year), yet the files they
come from rarely change: past years never do. Each derived value is kept, outside the
data dir, with a key made from the name, size, mtime and inode of every file it was
computed from (the same stat the start-up check trusts). When any of those files is
written, added or removed the key no longer matches and the value is computed again.

Rules that keep it safe:

- The key is taken under the store's lock (so no save is half-applied: commit
  listeners have cleared what they clear) together with the journal's sequence
  number. A value is kept only if no save committed while it was computed, and only
  for files last written more than a few seconds ago (two writes within one clock
  tick could leave the same size, mtime and inode: git's "racy" rule).
- The stamp includes a digest of the code that computes the value, so a new program
  version never serves figures made by the old one.
- Only the process holding the write lock stores values. A read-only process (another
  window is saving) may use stored values but never writes one, because its own file
  cache may lag behind the other process's saves.
- The cache file is sealed like a data file. A damaged or foreign one (another
  township now at this path, another program version) is simply a miss.
- Values are stored as JSON, or with ``codec="marshal"`` in the interpreter's own
  format: tuples, int keys and shared strings come back as they went in, made in C
  (the phone desk's half a million history records load several times faster). The
  interpreter's version is part of such a value's key.
- Nothing here is a record: deleting the folder only costs time. What is kept is
  counts, statuses, amounts, names, readings and the tails the phone desk searches
  by, never a whole ID, card or phone number (a test scans for them).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from villageboard.private import private_dir
from villageboard.store import storage as st
from villageboard.store.fingerprint import fingerprint, is_racy
from villageboard.store.verify import sealed_files

if TYPE_CHECKING:
    from villageboard.store.store import Store

T = TypeVar("T")

#: Bumped when the stored form of any derived value changes.
FORMAT = 3


@lru_cache(maxsize=64)
def code_stamp(*files: str) -> str:
    """A short digest of the source files that compute a value (pass ``__file__``)."""
    h = hashlib.blake2b(digest_size=8)
    for f in files:
        try:
            h.update(Path(f).read_bytes())
        except OSError:
            h.update(f.encode())
    return h.hexdigest()


def derived_dir_for(root: Path) -> Path | None:
    from villageboard.locations import derived_cache_dir

    try:
        return derived_cache_dir(root)
    except Exception:
        return None


class Derived:
    """``store.derived``: get a derived value, computing it only when its files changed."""

    def __init__(self, store: Store, folder: Path | None) -> None:
        self.store = store
        self.folder = folder
        self.where = str(Path(store.root).resolve())  # "data" and "/home/x/data" alike
        self._mem: dict[str, tuple[str, Any]] = {}
        self._lock = threading.Lock()
        self.closed = False  # set by Store.close(): nothing more is kept
        #: What was computed rather than served from what was kept, since the store
        #: opened: ``(name, "")`` for each :meth:`get` and ``(name, rel)`` for each
        #: file of :meth:`each`. Diagnostics: a start that finds everything kept
        #: computes nothing.
        self.computed: Counter[tuple[str, str]] = Counter()

    # -- keys ---------------------------------------------------------------------
    def _key(self, sources: Iterable[str]) -> tuple[str, bool]:
        """A digest of the stat of every file under the given data-dir paths (a file
        or a folder, walked recursively; a missing source counts as missing), and
        whether a source was written too recently to trust (racy)."""
        h = hashlib.blake2b(digest_size=20)
        h.update(str(self.store.meta.get("created", "")).encode())
        newest = 0
        for src in sources:
            h.update(b"\0" + src.encode())
            path = self.store.root / src
            try:
                s = path.stat()
            except FileNotFoundError:
                h.update(b"-")
                continue
            if path.is_dir():
                folder = str(path) + os.sep
                for rel in sealed_files(path, skip_dirs=()):
                    s = os.stat(folder + rel)
                    h.update(f"\n{rel} {fingerprint(s)}".encode())
                    newest = max(newest, s.st_mtime_ns)
            else:
                h.update(f" {fingerprint(s)}".encode())
                newest = max(newest, s.st_mtime_ns)
        return h.hexdigest(), is_racy(newest, time.time_ns())

    def _start(self, sources: Iterable[str], version: int | str, codec: str) -> tuple[str, bool, int]:
        """(key, racy, journal seq), taken together while no save is being applied."""
        with self.store.commit_lock:
            key, racy = self._key(sources)
            return f"{_stamp(version, codec)}:{key}", racy, self.store.journal.last_seq

    def _unchanged(self, seq: int) -> bool:
        """No save committed since ``seq`` (so what was computed matches its key)."""
        with self.store.commit_lock:
            return self.store.journal.last_seq == seq and not self.closed

    # -- values -------------------------------------------------------------------
    def get(
        self,
        name: str,
        sources: Iterable[str],
        compute: Callable[[], T],
        version: int | str = 1,
        remember: bool = True,
        codec: str = "json",
    ) -> T:
        """The value called ``name`` derived from ``sources``. ``compute`` must return
        something the codec can store (for JSON: dicts with str keys, lists, str, int,
        bool, None), and the caller must not change what it gets back: it may be
        shared. ``remember=False`` keeps a large value out of memory once returned."""
        key, racy, seq = self._start(sources, version, codec)
        got = self._lookup(name, key, codec)
        if got is not _MISS:
            return cast(T, got)
        value = compute()
        with self._lock:
            self.computed[(name, "")] += 1
        if not racy and self._unchanged(seq):
            self._write(name, key, value, codec)
            if remember:
                with self._lock:
                    self._mem[name] = (key, value)
        return value

    def cached(self, name: str, sources: Iterable[str], version: int | str = 1, codec: str = "json") -> Any:
        """The stored value if it is still valid, else None (nothing is computed)."""
        key, _racy, _seq = self._start(sources, version, codec)
        got = self._lookup(name, key, codec)
        return None if got is _MISS else got

    def _lookup(self, name: str, key: str, codec: str) -> Any:
        with self._lock:
            hit = self._mem.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        return self._read(name, key, codec)

    @overload
    def each(
        self,
        name: str,
        rels: Iterable[str],
        compute_one: Callable[[str], T],
        version: int | str = 1,
        remember: bool = True,
        most: None = None,
        codec: str = "json",
    ) -> dict[str, T]: ...

    @overload
    def each(
        self,
        name: str,
        rels: Iterable[str],
        compute_one: Callable[[str], T],
        version: int | str = 1,
        remember: bool = True,
        most: int | None = None,
        codec: str = "json",
    ) -> dict[str, T] | None: ...

    def each(
        self,
        name: str,
        rels: Iterable[str],
        compute_one: Callable[[str], T],
        version: int | str = 1,
        remember: bool = True,
        most: int | None = None,
        codec: str = "json",
    ) -> dict[str, T] | None:
        """``compute_one(rel)`` for every data file in ``rels``, each kept under its own
        file's stat: after one save only the file it wrote is computed again. With
        ``most``, None (and nothing computed) when more files than that need it.
        With ``remember=False`` the values returned are the caller's own."""
        base = str(self.store.root) + os.sep
        stamp = f"{_stamp(version, codec)}:{self.store.meta.get('created', '')}"
        keys: dict[str, list[int]] = {}
        racy: set[str] = set()
        with self.store.commit_lock:
            seq = self.store.journal.last_seq
            now = time.time_ns()
            for rel in rels:
                s = os.stat(base + rel)
                keys[rel] = fingerprint(s)
                if is_racy(s.st_mtime_ns, now):
                    racy.add(rel)
        with self._lock:
            hit = self._mem.get(name)
        stored: dict[str, list[Any]] = {}
        if hit is not None and hit[0] == stamp:
            stored = hit[1]
        else:
            got = self._read(name, stamp, codec)
            if isinstance(got, dict):
                stored = got
        if most is not None:
            stale = sum(1 for rel, key in keys.items() if (stored.get(rel) or (None,))[0] != key)
            if stale > most:
                return None
        out: dict[str, T] = {}
        fresh: dict[str, list[Any]] = {}
        for rel, key in keys.items():
            old = stored.get(rel)
            if old is not None and old[0] == key:
                out[rel] = old[1]
                fresh[rel] = old
            else:
                out[rel] = compute_one(rel)
                with self._lock:
                    self.computed[(name, rel)] += 1
                if rel not in racy:
                    fresh[rel] = [key, out[rel]]
        if not self._unchanged(seq):
            return out  # a save came in meanwhile: keep nothing of this pass
        if len(fresh) != len(stored) or any(stored.get(rel) is not v for rel, v in fresh.items()):
            self._write(name, stamp, fresh, codec)
        if remember:
            with self._lock:
                self._mem[name] = (stamp, fresh)
        return out

    def _file(self, name: str, codec: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{name}.{'bin' if codec == 'marshal' else 'json'}"

    def _read(self, name: str, key: str, codec: str) -> Any:
        path = self._file(name, codec)
        if path is None:
            return _MISS
        try:
            if codec == "marshal":
                body = marshal.loads(st.check_sealed(path, path.read_bytes()))
            else:
                body = st.read_sealed(path)
        except Exception:  # missing, damaged, unreadable: compute afresh
            return _MISS
        if not isinstance(body, dict) or body.get("key") != key or body.get("root") != self.where:
            return _MISS
        return body.get("value")

    def _write(self, name: str, key: str, value: Any, codec: str) -> None:
        path = self._file(name, codec)
        if path is None or self.store.readonly or self.closed:
            return
        try:
            private_dir(path.parent)  # names and payouts: this user only
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                body = {"key": key, "root": self.where, "value": value}
                fh.write(st.seal_bytes(marshal.dumps(body, 4)) if codec == "marshal" else st.seal(body))
            os.replace(tmp, path)  # no fsync: a value lost in a crash is computed again
            # the same value kept in the other form by an earlier program version
            path.with_suffix(".json" if path.suffix == ".bin" else ".bin").unlink(missing_ok=True)
        except Exception:
            pass  # only a cache


class _Miss:
    pass


_MISS = _Miss()


def _stamp(version: int | str, codec: str) -> str:
    if codec == "marshal":  # the interpreter's own format: only the same version reads it
        return f"{FORMAT}.{version}.py{sys.version_info[0]}.{sys.version_info[1]}"
    if codec != "json":
        raise ValueError(f"unknown codec {codec!r}")
    return f"{FORMAT}.{version}"
