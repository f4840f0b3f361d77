"""The append-only, hash-chained journal of every change.

Each line is one transaction::

    {"seq":12,"ts":"…","op":"王会计","action":"农户.新增","changes":[…],
     "counters":{…},"prev":"<hash of line 11>","hash":"<sha256 of this entry>"}

The journal is written *before* the data files, so it doubles as a redo log: a writer's
open redoes every entry after the last checkpoint (checkpoint.py), finishing whatever a
crash or a power cut left of the data files.
Segments roll over at ``SEGMENT_BYTES``; the chain runs across them. A segment the
journal has rolled over from is sealed: ``on_sealed`` is told, and it may then be
stored compressed (segfiles.py, compress.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from villageboard.domain.errors import DamagedError
from villageboard.private import open_private, private_dir
from villageboard.store.segfiles import PLAIN, is_gz, key, last_line, segment_bytes, segment_lines, segments
from villageboard.store.storage import emit, fsync_dir, storage_error

__all__ = ["GENESIS", "SEGMENT_BYTES", "Journal", "entries_after", "entry_hash", "last_line", "sealed_line", "segments"]

SEGMENT_BYTES = 4 * 1024 * 1024
GENESIS = "0" * 64


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


# The end of a line as :meth:`Journal.append` writes it (keys sorted): the entry's hash,
# then its operator, the previous hash, its number and its time, and nothing else.
_TAIL = re.compile(
    rb',"hash":"([0-9a-f]{64})","op":"(?:[^"\\]|\\.)*","prev":"([0-9a-f]{64})","seq":(\d+),"ts":"(?:[^"\\]|\\.)*"}\n'
)
_HASH_MEMBER = len(b',"hash":"') + 64 + 1


def sealed_line(raw: bytes) -> tuple[int, str, str] | None:
    """(seq, prev, hash) of a journal line whose bytes are exactly what the journal
    writes for an entry with that hash, read without parsing the line: the hash is
    taken over the line's own bytes less its hash member, which for a line as written
    are the bytes :func:`entry_hash` hashes. None for any other line (the caller then
    parses it and applies :func:`entry_hash`, as for every line before)."""
    at = raw.rfind(b',"hash":"')
    if at < 0:
        return None
    m = _TAIL.match(raw, at)
    if m is None or m.end() != len(raw):
        return None
    h = hashlib.sha256()
    view = memoryview(raw)
    h.update(view[:at])
    h.update(view[at + _HASH_MEMBER : -1])
    digest = m[1].decode()
    if h.hexdigest() != digest:
        return None
    return int(m[3]), m[2].decode(), digest


def apply_change(data: dict[str, Any], change: dict[str, Any], seq: int) -> None:
    """Set one journaled change in a data file's tables: its after-image, stamped with
    the entry's number (``_jseq``), or no record when the after-image is None. Every
    save, every redo and a backup's redo go through here."""
    table = data.setdefault(change["t"], {})
    if change["a"] is None:
        table.pop(str(change["k"]), None)
    else:
        table[str(change["k"])] = {**change["a"], "_jseq": seq}


def merge_counters(counters: dict[str, int], more: dict[str, int]) -> None:
    """Counters only grow: each takes the larger of what it had and what ``more`` says."""
    for name, value in more.items():
        counters[name] = max(counters.get(name, 0), value)


def entries_after(folder: Path, seq: int) -> tuple[list[dict[str, Any]], str | None]:
    """The complete entries with a number above ``seq``, oldest first, read from the
    journal's end (a torn last line is left out), and the hash of entry ``seq`` itself
    (GENESIS for 0; None when the journal does not hold it)."""
    found: list[dict[str, Any]] = []
    at_hash = GENESIS if seq == 0 else None
    for seg in reversed(segments(folder)):
        data = segment_bytes(seg)
        for raw in reversed(data[: data.rfind(b"\n") + 1].splitlines()):
            if not raw:
                continue
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise DamagedError(seg, "修改记录有一行无法读取") from None
            if entry["seq"] <= seq:
                if entry["seq"] == seq:
                    at_hash = entry["hash"]
                found.reverse()
                return found, at_hash
            found.append(entry)
    found.reverse()
    return found, at_hash


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.last_seq = 0
        self.last_hash = GENESIS
        self.last_entry: dict[str, Any] | None = None
        self._fh: Any = None
        self._seg: Path | None = None
        self.torn: tuple[Path, int] | None = None
        #: Told each segment the journal rolls over from (sealed: never written again).
        self.on_sealed: Callable[[Path], None] | None = None

    @property
    def segment(self) -> Path | None:
        """The segment file the last entry is in (the next append's, unless it is full)."""
        return self._seg

    # -- reading ------------------------------------------------------------------
    def load_tail(self) -> None:
        """Find the last complete entry. A torn final line (a crash mid-append, never
        acknowledged) is remembered in ``torn`` and cut only by :meth:`cut_torn_tail`,
        once the store has decided the journal is otherwise sound."""
        self.torn = None
        segs = segments(self.folder)
        first = True
        while segs:
            seg = segs[-1]
            line, good_end, torn = last_line(seg)
            if torn and first:
                self.torn = (seg, good_end)
            first = False
            if line:
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise DamagedError(seg, "修改记录的最后一行无法读取") from None
                if entry_hash(entry) != entry.get("hash"):
                    raise DamagedError(seg, "修改记录的最后一行校验值不符")
                self.last_entry = entry
                self.last_seq = entry["seq"]
                self.last_hash = entry["hash"]
                self._seg = segments(self.folder)[-1]
                return
            if len(segs) == 1:
                self._seg = seg
                return
            segs.pop()
        self._seg = None

    def cut_torn_tail(self) -> None:
        if self.torn is None:
            return
        seg, good_end = self.torn
        with open(seg, "r+b") as fh:
            fh.truncate(good_end)
            fh.flush()
            emit("truncate", seg, good_end)
            os.fsync(fh.fileno())
            emit("fsync", seg)
        self.torn = None

    def entries(self) -> Iterator[tuple[Path, int, bytes]]:
        """Every line of every segment: (segment, line number, raw bytes)."""
        for seg in segments(self.folder):
            for n, raw in enumerate(segment_lines(seg), 1):
                yield seg, n, raw

    # -- writing ------------------------------------------------------------------
    def _next(self, seg: Path) -> Path:
        return self.folder / f"{int(key(seg)) + 1:06d}{PLAIN}"

    def _handle(self, extra: int) -> Any:
        sealed = None
        if self._fh is not None and self._seg is not None:
            if self._fh.tell() + extra <= SEGMENT_BYTES or self._fh.tell() == 0:
                return self._fh
            self._fh.close()
            self._fh = None
            sealed, self._seg = self._seg, self._next(self._seg)
        if self._seg is None:
            self._seg = self.folder / f"{1:06d}{PLAIN}"
        elif is_gz(self._seg) or (
            self._seg.exists() and self._seg.stat().st_size + extra > SEGMENT_BYTES and self._seg.stat().st_size > 0
        ):
            sealed, self._seg = self._seg, self._next(self._seg)
        private_dir(self.folder)
        new = not self._seg.exists()
        self._fh = os.fdopen(open_private(self._seg, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "ab")
        if new:
            fsync_dir(self.folder)
        if sealed is not None and self.on_sealed is not None and not is_gz(sealed):
            self.on_sealed(sealed)
        return self._fh

    def make_entry(self, body: dict[str, Any]) -> dict[str, Any]:
        entry = dict(body)
        entry["seq"] = self.last_seq + 1
        entry["prev"] = self.last_hash
        entry["hash"] = entry_hash(entry)
        return entry

    def append(self, entry: dict[str, Any]) -> tuple[Path, int]:
        """Write and fsync one entry. Returns (segment, offset before) for rollback."""
        line = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n"
        fh = self._handle(len(line))
        assert self._seg is not None
        offset = fh.tell()
        try:
            fh.write(line)
            fh.flush()
            emit("append", self._seg, line)
            os.fsync(fh.fileno())
            emit("fsync", self._seg)
        except OSError as exc:
            self._truncate(offset)
            raise storage_error(self._seg, exc) from exc
        self.last_seq = entry["seq"]
        self.last_hash = entry["hash"]
        self.last_entry = entry
        return self._seg, offset

    def _truncate(self, offset: int) -> None:
        try:
            self._fh.truncate(offset)
            self._fh.seek(offset)
            if self._seg is not None:
                emit("truncate", self._seg, offset)
            os.fsync(self._fh.fileno())
        except OSError:
            pass

    def rollback(self, offset: int, prev_entry: dict[str, Any] | None, prev_seq: int, prev_hash: str) -> None:
        """Undo the last append after its data writes failed."""
        self._truncate(offset)
        self.last_seq, self.last_hash, self.last_entry = prev_seq, prev_hash, prev_entry

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
