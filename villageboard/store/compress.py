"""Compressing sealed journal segments, in the background of the writer.

A sealed segment (every one but the last) is stored as ``NNNNNN.jsonl.gz`` once
:func:`compress_segment` has made it, in these steps, each one durable before the
next::

    1. deflate the plain segment into a temp file beside it, fsync it
    2. read the temp file back: it must decompress to exactly the plain bytes
    3. rename it to NNNNNN.jsonl.gz, fsync the folder
    4. remove NNNNNN.jsonl, fsync the folder

A kill before 3 leaves a temp file (removed at the next writer open with every other
one) and the plain segment; a kill between 3 and 4 leaves both forms, complete and
equal, and readers take the plain one. The routine is idempotent: run again on such
a segment it checks the compressed form against the plain one (rewriting it from the
plain one if it does not match) and goes on with step 4.

It never runs in a save: the writer hands each segment it rolls over from to a
background thread (:class:`Compressor`), and at every writer open the thread takes
the sealed plain segments left from before (an older program's journal, or a kill).
zlib works with the interpreter released, so a save meanwhile does not wait for it.
A backup's snapshot needs no pause: either form of a sealed segment is complete, and
the snapshot links whichever it finds (snapshot.py).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.domain.errors import DamagedError
from villageboard.private import open_private
from villageboard.store.killpoints import kill_point
from villageboard.store.segfiles import gz_of, inflate, is_gz, segments
from villageboard.store.storage import TMP_SUFFIX, deflate_gzip, fsync_dir

if TYPE_CHECKING:
    from villageboard.store.store import Store

#: The compression thread's nice value where a thread can have its own (Linux).
NICE = 10

#: From this data format on, sealed journal segments are compressed.
COMPRESSED_SCHEMA = 3

#: Told (plain segment's stat before, compressed file) after each segment is done.
Done = Callable[[os.stat_result, Path], None]


def compress_segment(plain: Path) -> Path | None:
    """Store one sealed plain segment compressed (steps in the module docstring).
    Returns the compressed file, or None when the plain one is not there or does not
    end with a complete line (a sealed segment always does: the start-up check
    reports such a one, so it is left as it is)."""
    try:
        data = plain.read_bytes()
    except FileNotFoundError:
        return None
    if not data.endswith(b"\n"):
        return None
    gz = gz_of(plain)
    folder = plain.parent
    if not _holds(gz, data):
        blob = deflate_gzip(data)
        tmp = folder / f".{gz.name}.{os.getpid()}{TMP_SUFFIX}"
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
            st = plain.stat()
            times = (st.st_atime_ns, st.st_mtime_ns)  # the segment's own time
            if os.utime in os.supports_fd:
                os.utime(fd, ns=times)
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.utime not in os.supports_fd:
            os.utime(tmp, ns=times)
        kill_point("journal.gz-written")
        if not _holds(tmp, data):
            tmp.unlink(missing_ok=True)
            raise OSError(f"compressed copy of {plain.name} does not read back")
        os.replace(tmp, gz)
        fsync_dir(folder)
        kill_point("journal.gz-renamed")
    plain.unlink()
    fsync_dir(folder)
    kill_point("journal.plain-removed")
    return gz


def _holds(gz: Path, data: bytes) -> bool:
    """Does the compressed file ``gz`` decompress to exactly ``data``?"""
    try:
        return inflate(gz, gz.read_bytes()) == data
    except (OSError, DamagedError):
        return False


def sealed_plain(folder: Path) -> list[Path]:
    """Sealed segments not yet compressed: every plain one but the last."""
    segs = segments(folder)
    return [p for p in segs[:-1] if not is_gz(p)]


class Compressor:
    """A background thread compressing the segments it is handed, oldest first.

    :meth:`close` finishes the segment in progress and every segment sealed while
    this store was open (one each 4 MB saved); sealed segments found at the open
    and not reached yet are left for the next open."""

    def __init__(self, folder: Path, done: Done) -> None:
        self.folder = folder
        self._done = done
        self._queue: queue.Queue[tuple[Path, bool] | None] = queue.Queue()
        self._stopping = threading.Event()
        #: Problems met (a segment that could not be compressed stays plain).
        self.failed: list[tuple[Path, str]] = []
        self._thread = threading.Thread(target=self._run, name="journal-compress", daemon=True)
        self._thread.start()

    def backlog(self) -> None:
        """Queue the sealed plain segments there are now (at a writer open)."""
        for p in sealed_plain(self.folder):
            self._queue.put((p, False))

    def submit(self, plain: Path) -> None:
        """Queue a segment the journal has just rolled over from."""
        self._queue.put((plain, True))

    def wait(self) -> None:
        """Until every segment queued so far is done."""
        self._queue.join()

    def close(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        if sys.platform.startswith("linux"):  # a thread's own nice value (Linux only): saves come first
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
            except OSError:
                pass
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                plain, sealed_here = item
                if self._stopping.is_set() and not sealed_here:
                    continue
                self._one(plain)
            finally:
                self._queue.task_done()

    def _one(self, plain: Path) -> None:
        try:
            before = plain.stat()
        except FileNotFoundError:
            return  # done already
        try:
            gz = compress_segment(plain)
        except OSError as exc:
            self.failed.append((plain, str(exc)))  # stays plain: read as before, tried again at the next open
            return
        if gz is not None:
            self._done(before, gz)


def start_for(store: Store) -> None:
    """A writer of a folder at format 3 or later compresses its sealed journal segments
    in the background: each one it rolls over from, and those left from before."""
    if store.readonly or store.compressor is not None or store.meta.get("schema", 0) < COMPRESSED_SCHEMA:
        return

    def done(before: os.stat_result, gz: Path) -> None:
        verifier = store.verifier  # (no lock: close() waits for this thread, maybe under one)
        if verifier is not None:
            verifier.compressed(before, gz)

    store.compressor = Compressor(store.journal.folder, done)
    store.journal.on_sealed = store.compressor.submit
    store.compressor.backlog()


def stop_for(store: Store) -> None:
    """Stop handing segments over; finish the ones already handed over."""
    store.journal.on_sealed = None
    if store.compressor is not None:
        store.compressor.close()
