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


# -- line breaking ------------------------------------------------------------------
#: Characters two cells wide (CJK, kana, full-width forms and punctuation).
_WIDE = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3200-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
#: Punctuation that never starts a line, and that never ends one.
_CLOSING = "，。、；：！？）》」』】”’,.;:!?)%"
_OPENING = "（《「『【“‘("
#: Measure words kept with the number before them ("238.60元", "12笔", "2026年").
_UNITS = "元亩台户笔份天条个年月日号版角分"
#: One unit a line may break around: a wide character, or a run of narrow characters
#: (a code, a number, a word) with the measure word after it; "/" joins units
#: ("元/亩"); opening punctuation stays with what follows, closing with what precedes.
_PIECE = rf"(?:[{_WIDE}]|[^\s{_WIDE}]+[{_UNITS}]?)"
_BREAK_UNIT = rf"\s*[{_OPENING}]*{_PIECE}(?:/{_PIECE})*[{_CLOSING}]*\s*"


def break_lines_between_words() -> None:
    """Make wrapped text break between Chinese characters, never inside a code or a
    number. The wrapper Textual uses (Rich's) breaks only at spaces, and Chinese has
    none: a whole paragraph is one "word", folded wherever the line ends, so
    "2026-005396" or "238,114.60" came out split over two lines. Splitting the text
    into units a line may end after fixes every wrapped label at once; table cells
    (never wrapped) are unaffected."""
    import re

    from rich import _wrap

    if hasattr(_wrap, "re_word"):
        _wrap.re_word = re.compile(_BREAK_UNIT)
