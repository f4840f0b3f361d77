"""Every path the kit uses is resolved here, and nothing is opened at import time.

The data directory is chosen in this order: an explicit ``--data-dir``, then the
``VILLAGEBOARD_HOME`` environment variable, then the platform's user data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "VILLAGEBOARD_HOME"
ENV_FONT = "VILLAGEBOARD_FONT"
ENV_CACHE = "VILLAGEBOARD_CACHE"

#: The repository (or source tree) root: templates/ and data/ live beside the package
#: there, and inside it (villageboard/templates, villageboard/data) in an installed wheel.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: What the kit ships besides code: the Jinja2 templates and the blank import sheets.
SHIPPED_FOLDERS = ("templates", "data")


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory, without creating it."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("villageboard", appauthor=False)).resolve()


def demo_data_dir() -> Path:
    """Where ``--demo`` keeps its township when no data dir is given."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve() / "demo"
    import platformdirs

    return Path(platformdirs.user_data_dir("villageboard", appauthor=False)).resolve() / "demo"


def backups_dir(data: Path) -> Path:
    """Backups sit beside the data they protect, never inside it, so a restore cannot
    overwrite them and a backup never contains earlier backups."""
    return data.parent / f"{data.name}-backups"


def template_dirs(data: Path | None = None) -> list[Path]:
    """Template search path: a county's edited copies in the data dir win over the
    shipped ones."""
    dirs: list[Path] = []
    if data is not None:
        dirs.append(data / "templates")
    dirs.append(shipped("templates"))
    return [d for d in dirs if d.is_dir()]


def shipped(name: str) -> Path:
    """The shipped folder ``name`` (one of :data:`SHIPPED_FOLDERS`): inside the installed package
    when there is one, else at the top of the source tree (a checkout or an editable
    install). The path may not exist when the installation is incomplete."""
    if name not in SHIPPED_FOLDERS:
        raise ValueError(name)
    from importlib.resources import files

    inside = files("villageboard").joinpath(name)
    if isinstance(inside, Path) and inside.is_dir():
        return inside
    return PROJECT_ROOT / name


def cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("villageboard", appauthor=False)).resolve()


def recent_folders_file() -> Path:
    """The folders the clerk last picked files in (the file chooser offers them)."""
    return cache_dir() / "recent-folders.json"


def _dir_digest(data: Path) -> str:
    import hashlib

    return hashlib.sha256(str(Path(data).resolve()).encode("utf-8")).hexdigest()[:16]


def verify_cache_file(data: Path) -> Path:
    """Where the start-up check remembers what it verified for one data dir. Kept
    outside the data dir so that backups and restores stay byte-exact."""
    return cache_dir() / f"verified-{_dir_digest(data)}.json"


def derived_cache_dir(data: Path) -> Path:
    """Where figures derived from one data dir (counts, flags, the phone desk's
    history) are remembered between starts; see store/derived.py."""
    return cache_dir() / f"derived-{_dir_digest(data)}"
