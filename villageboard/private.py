"""Files that hold people's numbers are for this user only, whatever the umask.

The data dir, the cache and the backup folder are 0700; the files in them, backups,
internal exports (bank and county sheets, call figures) and the error log are 0600.
Posters are not private: they have passed the privacy gate and are made to be shared,
so render/output.py leaves them readable.

On Windows ``chmod`` only toggles the read-only bit; there the user's profile folders
already keep other accounts out.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path | str) -> Path:
    """Create ``path`` (and any missing parents) as 0700, and tighten it if it exists."""
    path = Path(path)
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        _chmod(d, DIR_MODE)
    _chmod(path, DIR_MODE)
    return path


def private_file(path: Path | str) -> None:
    """Make an existing file readable and writable by its owner only."""
    _chmod(Path(path), FILE_MODE)


def open_private(path: Path | str, flags: int) -> int:
    """``os.open`` a file that is created 0600 (and made 0600 if it already existed)."""
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), FILE_MODE)
    if os.name == "posix":
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError:
            pass
    return fd


def _chmod(path: Path, mode: int) -> None:
    if os.name != "posix":
        return
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except OSError:
        pass  # not ours (a shared folder the clerk chose): leave it as it is
