"""Sealed files: atomic, durable, self-checking.

Every data file is a one-line header followed by the UTF-8 JSON body::

    {"format":"villageboard","schema":1,"bytes":1234,"sha256":"..."}
    {"households":{"1":{...}}}

The header lets any reader tell a truncated, zeroed or bit-flipped file from a good
one before trusting it. Writes go to a temp file in the same folder, are fsynced and
``os.replace``d over the old file: the old file stays byte-identical until the new one
is complete, and after a power cut the name holds one complete version or the other.
:func:`atomic_write` then fsyncs the folder too (the new version is the durable one);
the store's data files skip that step and leave it to the store's checkpoint
(store.py), which fsyncs every folder written since the last one.

Every step of a write is reported to :data:`OBSERVERS` (tests use it to rebuild what a
power cut may leave on disk).

A write-once file (a notice's frozen snapshot, ``years/<Y>/snapshots/*.json``: see
:func:`stored_compressed`) is sealed with its body deflated (gzip framing, no time
stamp, so the same body always gives the same bytes)::

    {"format":"villageboard","schema":1,"bytes":210,"sha256":"...","encoding":"gzip"}
    <210 bytes of gzip>

``bytes`` and ``sha256`` then cover the stored (compressed) bytes: the length and
hash are checked before anything is inflated, and gzip's own CRC-32 and length cover
the inflated JSON. Readers take either form of any file; the header keys are exactly
the plain ones, or those plus ``encoding`` with a value in :data:`ENCODINGS`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from villageboard.domain.errors import DamagedError, StorageError
from villageboard.private import open_private, private_dir

FORMAT = "villageboard"
SCHEMA = 1
TMP_SUFFIX = ".vbtmp"
HEADER_KEYS = {"format", "schema", "bytes", "sha256"}
#: Body encodings a sealed file may name in its header (key ``encoding``).
GZIP = "gzip"
ENCODINGS = {GZIP}
GZIP_WBITS = 31  # zlib's gzip framing: header, deflate, CRC-32 and length
#: zlib level: 6 keeps about 6 % of a journal segment's bytes, in some 0.1 s for 4 MB.
GZIP_LEVEL = 6
_GZIP_MAGIC = b"\x1f\x8b"  # no JSON (nor marshal) body starts so
#: No data file comes near this inflated: more is a damaged or forged file.
MAX_BODY = 1 << 30


#: Called with every step that changes a file: ("write", temp, bytes) for a whole new
#: file, ("fsync", file, None), ("rename", temp, target), ("fsync_dir", folder, None),
#: ("overwrite", file, bytes) for a hint written in place, ("append", segment, bytes) and
#: ("truncate", segment, size) for the journal.
OBSERVERS: list[Callable[[str, Path, Any], None]] = []


def emit(event: str, path: Path, arg: Any = None) -> None:
    for fn in OBSERVERS:
        fn(event, path, arg)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (a no-op on Windows)."""
    if sys.platform.startswith("win"):
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    emit("fsync_dir", Path(folder))


def _replace(src: Path, dst: Path) -> None:
    """os.replace, retried on Windows where a reader or a virus scanner may briefly
    hold the target open."""
    delay = 0.01
    for attempt in range(8):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if not sys.platform.startswith("win") or attempt == 7:
                raise
            time.sleep(delay)
            delay *= 2


def storage_error(path: Path, exc: OSError) -> StorageError:
    if exc.errno == errno.ENOSPC:
        why = "磁盘空间已满"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "没有写入权限（文件或文件夹是只读的）"
    else:
        why = exc.strerror or str(exc)
    return StorageError(f"保存失败：{why}。文件 {path} 保持原样，本次修改没有保存。")


def write_file(path: Path, data: bytes) -> None:
    """The raw write of a whole file: temp file, fsync, rename (the folder is not
    fsynced here). Tests replace this to simulate a full disk."""
    _write(path, data, sync=True)


def write_hint(path: Path, data: bytes) -> None:
    """Overwrite a file in place with no fsync at all: for a file that is only a hint,
    which a kill or a power cut may leave torn and whoever reads it rebuilds (its seal
    tells a torn one). No temp file and no rename: a rename costs as much as the rest.
    A file with another hard link (a backup's snapshot, a copy made by linking) is
    replaced by a new one instead, so the other name keeps what it had."""
    try:
        links = os.stat(path).st_nlink
    except FileNotFoundError:
        links = 0
    if links != 1:
        _write(path, data, sync=False)
        return
    try:
        fd = open_private(path, os.O_WRONLY)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)
        emit("overwrite", path, data)
    except OSError as exc:
        raise storage_error(path, exc) from exc


def _write(path: Path, data: bytes, sync: bool) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            emit("write", tmp, data)
            if sync:
                os.fsync(fd)
                emit("fsync", tmp)
        finally:
            os.close(fd)
        _replace(tmp, path)
        emit("rename", tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise storage_error(path, exc) from exc


def atomic_write(path: Path, data: bytes, sync_dir: bool = True) -> None:
    """Replace ``path`` whole; with ``sync_dir`` the new version is durable on return."""
    if not path.parent.is_dir():
        private_dir(path.parent)
    write_file(path, data)
    if sync_dir:
        try:
            fsync_dir(path.parent)
        except OSError as exc:
            raise storage_error(path, exc) from exc


def seal(body: Any) -> bytes:
    return seal_bytes(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS))


def seal_bytes(raw: bytes, compress: bool = False) -> bytes:
    """A header line over any body bytes (``check_sealed`` gives the body back),
    the body deflated when ``compress`` (module docstring)."""
    if compress:
        raw = deflate_gzip(raw)
    header: dict[str, Any] = {
        "format": FORMAT,
        "schema": SCHEMA,
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    if compress:
        header["encoding"] = GZIP
    return orjson.dumps(header) + b"\n" + raw + b"\n"


def stored_compressed(path: Path) -> bool:
    """Is ``path`` a data file the program stores compressed? Only notice snapshots,
    ``years/<Y>/snapshots/<code>-v<n>.json``: written once and never rewritten, so
    deflating them costs no save anything. Every other file is rewritten on saves."""
    parent = path.parent
    return path.suffix == ".json" and parent.name == "snapshots" and parent.parent.parent.name == "years"


def seal_for(path: Path, body: Any) -> bytes:
    """Seal ``body`` in the form the program stores at ``path``."""
    return seal_bytes(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS), compress=stored_compressed(path))


def is_compressed(data: bytes) -> bool:
    """Does a sealed file's header name a compressed body? (No check: a damaged
    header reads as plain, and check_sealed reports it.)"""
    nl = data.find(b"\n")
    try:
        header = orjson.loads(data[:nl]) if nl > 0 else None
    except orjson.JSONDecodeError:
        return False
    return isinstance(header, dict) and header.get("encoding") == GZIP


def deflate_gzip(raw: bytes) -> bytes:
    """``raw`` deflated in gzip framing with no time stamp: the same bytes give the
    same result (compressed journal segments and sealed files alike)."""
    return zlib.compress(raw, GZIP_LEVEL, wbits=GZIP_WBITS)


def inflate_gzip(path: Path, blob: bytes, most: int, what: str = "压缩保存的内容") -> bytes:
    """The bytes a gzip blob holds (at most ``most``); DamagedError naming ``path``,
    with ``what`` for the thing inflated, when they cannot all be had."""
    d = zlib.decompressobj(GZIP_WBITS)
    try:
        data = d.decompress(blob, most)
    except zlib.error:
        raise DamagedError(path, f"{what}无法解压，被截断或被改动") from None
    if d.unconsumed_tail:
        raise DamagedError(path, f"{what}解压后大得不正常，已损坏或被伪造")
    if not d.eof:
        raise DamagedError(path, f"{what}不完整，可能被截断")
    if d.unused_data:
        raise DamagedError(path, f"{what}末尾多出了数据，被改动")
    return data


def check_sealed(path: Path, data: bytes, inflate: bool = True) -> bytes:
    """Verify a sealed file's header, length and hash; return the JSON body bytes
    (inflated, for a compressed body, once its stored bytes have passed). Raises
    DamagedError naming the file. With ``inflate=False`` a compressed body is checked
    and returned as stored: the start-up check's way, as the hash over the stored
    bytes catches any change made to them since they were written (gzip's own CRC,
    checked on every read, is the second line), at a seventh of the time."""
    if not data:
        raise DamagedError(path, "文件是空的")
    nl = data.find(b"\n")
    if nl < 0:
        raise DamagedError(path, "文件不完整")
    try:
        header = orjson.loads(data[:nl])
    except orjson.JSONDecodeError:
        raise DamagedError(path, "文件头无法读取") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DamagedError(path, "不是本程序的数据文件")
    # every byte of the header counts: a damaged key or schema number is damage too
    keys = header.keys()
    encoding = header.get("encoding")
    if keys != HEADER_KEYS and not (keys == HEADER_KEYS | {"encoding"} and encoding in ENCODINGS):
        raise DamagedError(path, "文件头被改动或损坏")
    if header.get("schema") != SCHEMA or type(header.get("bytes")) is not int:
        raise DamagedError(path, "文件头被改动或损坏")
    body = data[nl + 1 :]
    if body.endswith(b"\n"):
        body = body[:-1]
    if len(body) != header.get("bytes"):
        raise DamagedError(path, f"文件长度不对（应为{header.get('bytes')}字节，实际{len(body)}字节），可能被截断")
    if hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise DamagedError(path, "内容校验值不符，文件被改动或损坏")
    if encoding == GZIP:
        return inflate_gzip(path, body, MAX_BODY) if inflate else body
    if body.startswith(_GZIP_MAGIC):  # a compressed body whose header lost its encoding
        raise DamagedError(path, "文件头被改动或损坏")
    return body


def unseal(path: Path, data: bytes) -> Any:
    """Verify and decode a sealed file's bytes; raise DamagedError naming the file."""
    body = check_sealed(path, data)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise DamagedError(path, "内容无法解析") from None


def read_sealed(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DamagedError(path, f"无法读取：{exc.strerror}") from exc
    return unseal(path, data)


class SealedStorage(Storage):
    """TinyDB storage over one sealed file, with the parsed data cached in memory.

    ``read()`` hands TinyDB a shallow copy so that a failed write cannot leave the
    cache holding changes that never reached the disk.
    """

    def __init__(self, path: str | os.PathLike[str], readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._cache: dict[str, Any] | None = None
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            try:
                self._cache = read_sealed(self.path)
            except FileNotFoundError:
                self._cache = None
            self._loaded = True

    def read(self) -> dict[str, Any] | None:
        self._load()
        if self._cache is None:
            return None
        return {name: dict(table) for name, table in self._cache.items()}

    def write(self, data: dict[str, Any]) -> None:
        if self.readonly:
            from villageboard.domain.errors import ReadOnlyError

            raise ReadOnlyError()
        blob = seal_for(self.path, data)
        try:
            atomic_write(self.path, blob, sync_dir=False)  # the store's checkpoint fsyncs the folder
        except Exception:
            self._cache = None
            self._loaded = False
            raise
        self._cache = data
        self._loaded = True

    def peek(self) -> dict[str, Any]:
        """The cached data itself, for read-only use inside the store (no copy: every
        ``Store.table`` call goes through here)."""
        self._load()
        return self._cache or {}

    def close(self) -> None:
        self._cache = None
        self._loaded = False
