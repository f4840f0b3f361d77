"""Helpers for showing values: user text as rich ``Text`` (never markup), money,
paths shortened so a screen never shows a long temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text

from villageboard.domain.money import format_fen


def cell(value: object, style: str = "") -> Text:
    """A table cell: plain text, whatever it contains (names like ``[b]x[/b]`` stay
    literal)."""
    return Text("" if value is None else str(value), style=style, no_wrap=True)


def num(value: object, style: str = "") -> Text:
    """A right-aligned number cell."""
    t = cell(value, style)
    t.justify = "right"
    return t


def yuan(fen: int | None) -> str:
    return "" if fen is None else format_fen(fen)


def display_path(path: Path | str) -> str:
    """A path as the clerk should read it: relative to the current folder when inside
    it, with ``~`` for the home folder, else in full."""
    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path.cwd().resolve())
        return str(rel) if str(rel) != "." else "."
    except (ValueError, OSError):
        pass
    home = Path(os.path.expanduser("~"))
    try:
        return str(Path("~") / p.resolve().relative_to(home.resolve()))
    except (ValueError, OSError):
        return str(p)


def default_output_dir() -> Path:
    """Where posters and bank sheets go unless the clerk says otherwise: a folder in the
    user's documents."""
    try:
        import platformdirs

        docs = Path(platformdirs.user_documents_dir())
    except Exception:
        docs = Path.home()
    return docs / "村务公开栏"
