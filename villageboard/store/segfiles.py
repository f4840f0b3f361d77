"""The journal's segment files, and the one way every reader reads them.

A segment is ``journal/NNNNNN.jsonl`` while it is appended to. Once the journal has
rolled over to the next one it is sealed (never written again) and may be stored
compressed as ``NNNNNN.jsonl.gz``: gzip, so a technician can ``zcat`` it, and its CRC
and length make a truncated or bit-flipped file fail to decompress (reported as
damage naming the file). The hash chain is over entries, not over file bytes, so a
compressed segment holds exactly the entries, and the bytes, it held plain.

The compressed form is written beside the plain one and renamed into place complete,
and only then is the plain one removed (compress.py). So a folder may hold both
forms of a number for a moment (or after a kill): both are then complete and equal,
and readers take the plain one. A reader that listed a plain segment the writer has
compressed since finds it gone when it opens it, and reads the compressed one.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from villageboard.store.storage import inflate_gzip

PLAIN = ".jsonl"
GZ = ".jsonl.gz"
#: No sealed segment comes near this decompressed (they roll over at 4 MB; one save
#: of a whole township's import is some tens of MB): more is a damaged or forged file.
MAX_SEGMENT = 1 << 30


def number(name: str) -> int | None:
    """The segment number of a segment file name (either form), else None."""
    for suffix in (GZ, PLAIN):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return int(stem) if len(stem) == 6 and stem.isdigit() else None
    return None


def key(path: Path) -> str:
    """The segment's number as six digits: the same for both forms of one segment."""
    return path.name.split(".", 1)[0]


def is_gz(path: Path) -> bool:
    return path.name.endswith(GZ)


def plain_of(path: Path) -> Path:
    return path.with_name(key(path) + PLAIN)


def gz_of(path: Path) -> Path:
    return path.with_name(key(path) + GZ)


def twin(path: Path) -> Path:
    """The other form of the same segment."""
    return plain_of(path) if is_gz(path) else gz_of(path)


def segments(folder: Path) -> list[Path]:
    """Every segment, in order, one file a number: the plain form where both exist."""
    if not folder.is_dir():
        return []
    found: dict[int, Path] = {}
    for p in folder.iterdir():
        n = number(p.name)
        if n is not None and (n not in found or not p.name.endswith(GZ)):
            found[n] = p
    return [found[n] for n in sorted(found)]


def inflate(seg: Path, blob: bytes) -> bytes:
    """The bytes a compressed segment holds; DamagedError naming it when they cannot
    all be had (truncated, altered, or not gzip at all)."""
    return inflate_gzip(seg, blob, MAX_SEGMENT, "压缩的修改记录文件")


def read_segment(seg: Path) -> tuple[Path, bytes]:
    """(the file read, the segment's bytes as the journal wrote them). A plain segment
    compressed since it was listed is read in its compressed form."""
    try:
        raw = seg.read_bytes()
    except FileNotFoundError:
        other = twin(seg)
        if is_gz(seg) or not other.exists():
            raise
        seg, raw = other, other.read_bytes()
    return seg, inflate(seg, raw) if is_gz(seg) else raw


def segment_bytes(seg: Path) -> bytes:
    return read_segment(seg)[1]


def split_lines(data: bytes) -> list[bytes]:
    """Lines as reading the file line by line gives them: split at ``\\n`` only."""
    return io.BytesIO(data).readlines()


def segment_lines(seg: Path) -> list[bytes]:
    return split_lines(segment_bytes(seg))


def last_line(path: Path) -> tuple[bytes, int, bytes]:
    """(last complete line, offset just after it, torn tail after it); offsets are in
    the segment's bytes as written (a compressed one is decompressed first)."""
    if is_gz(path):
        return last_line_of(segment_bytes(path))
    try:
        fh = open(path, "rb")
    except FileNotFoundError:  # compressed since it was listed
        return last_line_of(segment_bytes(path))
    with fh:
        size = os.fstat(fh.fileno()).st_size
        buf = b""
        pos = size
        while True:
            step = min(1 << 16, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
            last_nl = buf.rfind(b"\n")
            if last_nl >= 0:
                prev_nl = buf.rfind(b"\n", 0, last_nl)
                if prev_nl >= 0 or pos == 0:
                    return buf[prev_nl + 1 : last_nl], pos + last_nl + 1, buf[last_nl + 1 :]
            elif pos == 0:
                return b"", 0, buf
            if pos == 0:
                return b"", 0, buf


def last_line_of(data: bytes) -> tuple[bytes, int, bytes]:
    """:func:`last_line` of a segment's bytes."""
    last_nl = data.rfind(b"\n")
    if last_nl < 0:
        return b"", 0, data
    prev_nl = data.rfind(b"\n", 0, last_nl)
    return data[prev_nl + 1 : last_nl], last_nl + 1, data[last_nl + 1 :]
