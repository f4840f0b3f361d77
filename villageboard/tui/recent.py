"""The folders files were last picked from or written to, newest first, kept between
runs so the file chooser can offer them. A missing or unreadable list is an empty
one: it is a convenience, never a reason for an error."""

from __future__ import annotations

import json
from pathlib import Path

from villageboard.locations import recent_folders_file

KEEP = 8


def recent_folders() -> list[Path]:
    """Remembered folders that still exist, newest first."""
    try:
        names = json.loads(recent_folders_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out: list[Path] = []
    for name in names if isinstance(names, list) else []:
        p = Path(str(name))
        try:
            if p.is_dir() and p not in out:
                out.append(p)
        except OSError:
            continue
    return out


def remember_folder(path: Path) -> None:
    """Put ``path`` (a folder, or the folder of a file) first in the list."""
    folder = Path(path).expanduser()
    try:
        if not folder.is_dir():
            folder = folder.parent
        folder = folder.resolve()
    except OSError:
        return
    names = [str(folder)] + [str(p) for p in recent_folders() if p != folder]
    target = recent_folders_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(names[:KEEP], ensure_ascii=False), encoding="utf-8")
        tmp.replace(target)
    except OSError:
        return
