"""Work folders and temp files that a killed process can leave behind, and how to tell
a leftover from one that a live process is still using.

A process that makes a work folder (a backup's snapshot, a restore's staging area, a
backup check's unpacked copy) or a half-written backup file holds an OS file lock on
it for as long as it works. The lock dies with the process, so at the next start
anything whose lock can be taken is a leftover and is removed; anything still locked
belongs to a live process (a backup running in another window) and is left alone.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

INUSE = ".inuse"
#: Work folders in the data dir: backup snapshots and restore staging areas.
BACKUP_PREFIX = ".backup-"
RESTORE_PREFIX = ".restore-"
VERIFY_PREFIX = "vb-verify-"
ZIP_TMP_SUFFIX = ".zip.vbtmp"
#: A folder younger than this whose lock file is not there yet may be in the making.
YOUNG_S = 60.0


def _lock_fd(fd: int) -> bool:
    if sys.platform.startswith("win"):
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class Hold:
    """Marks a file (or a folder, through its ``.inuse`` file) as used by this process."""

    def __init__(self, path: Path) -> None:
        target = path / INUSE if path.is_dir() else path
        self.fd: int | None = os.open(target, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        _lock_fd(self.fd)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def lock_file(fd: int) -> None:
    """Hold an open file (a backup being written) for as long as it stays open. On
    Windows, where locks are mandatory, nothing is needed: an open file cannot be
    deleted there."""
    if not sys.platform.startswith("win"):
        _lock_fd(fd)


def in_use(path: Path) -> bool:
    """True when a live process holds ``path`` (a file, or a folder's ``.inuse``)."""
    if not path.is_dir() and sys.platform.startswith("win"):
        return False  # removing it fails while it is open
    target = path / INUSE if path.is_dir() else path
    try:
        fd = os.open(target, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        # a folder whose lock file is not made yet: in the making, if its maker lives
        alive = _maker_alive(path.name)
        if alive is not None:
            return alive
        try:
            return time.time() - path.stat().st_mtime < YOUNG_S
        except OSError:
            return False
    except OSError:
        return True
    try:
        return not _lock_fd(fd)
    finally:
        os.close(fd)


def _maker_alive(name: str) -> bool | None:
    """Whether the process named in a work folder's name (prefix-PID-random) runs;
    None when that cannot be told."""
    parts = name.split("-")
    if len(parts) < 3 or not parts[-2].isdigit() or sys.platform.startswith("win"):
        return None
    pid = int(parts[-2])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def work_dir(parent: Path, prefix: str) -> tuple[Path, Hold]:
    """A new work folder in ``parent``, held by this process."""
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
    return folder, Hold(folder)


def remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def clean(root: Path, backups: Path | None) -> int:
    """Remove what interrupted backups and checks left: snapshot folders in the data dir,
    unpacked copies in the temp folder, half-written backup files. Restore staging
    areas are handled by the restore itself (it may have to finish one)."""
    n = 0
    candidates: list[Path] = []
    if root.is_dir():
        candidates += [p for p in root.iterdir() if p.name.startswith(BACKUP_PREFIX)]
    try:
        tmp = Path(tempfile.gettempdir())
        candidates += [p for p in tmp.iterdir() if p.name.startswith(VERIFY_PREFIX)]
    except OSError:
        pass
    if backups is not None and backups.is_dir():
        candidates += [p for p in backups.iterdir() if p.name.endswith(ZIP_TMP_SUFFIX)]
    for p in candidates:
        if not in_use(p) and remove(p):
            n += 1
    return n
