"""Helpers for showing values: user text as rich ``Text`` (never markup), money,
paths shortened so a screen never shows a long temporary folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

from rich.cells import cell_len
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
# Terminal wrappers break only at spaces, and Chinese has none: a whole paragraph is one
# "word", folded wherever the line ends, so "2026-005396" or "238,114.60" came out split
# over two lines, and a path folded in the middle of a folder name. ``break_lines`` cuts
# text into lines itself, at the points a line may end; the message widgets show what
# it returns (see ``widgets.prose``), so the terminal never has to fold.

#: Characters two cells wide (CJK, kana, full-width forms and punctuation).
_WIDE = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3200-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
#: Punctuation that never starts a line, and that never ends one.
_CLOSING = "，。、；：！？）》」』】”’,.;:!?)%"
_OPENING = "（《「『【“‘("
#: Measure words kept with the number before them ("238.60元", "12笔", "2026年").
_UNITS = "元亩台户笔份天条个年月日号版角分"
#: One unit a line may break around: a wide character, or a run of narrow characters
#: (a code, a number, a word) with the measure word after it; "/" joins units
#: ("元/亩"); opening punctuation stays with what follows, closing with what precedes,
#: and spaces with what precedes (a line never starts with one it broke at).
_PIECE = rf"(?:[{_WIDE}]|[^\s{_WIDE}]+[{_UNITS}]?)"
_UNIT = re.compile(rf"[{_OPENING}]*{_PIECE}(?:/{_PIECE})*[{_CLOSING}]*[^\S\n]*|[^\S\n]+|.", re.S)
#: A file path: a run of characters with "/" (or "\\") in it, up to a space or Chinese
#: punctuation. It breaks only after a separator (each folder is one unit).
_PATH_CHAR = r"[^\s/\\，。、；：！？）（》《」「』『】【”“’‘]"
_PATH_RUN = re.compile(rf"{_PATH_CHAR}*(?:[/\\]{_PATH_CHAR}*)+")
_FOLDER = re.compile(rf"{_PATH_CHAR}*[/\\]|{_PATH_CHAR}+")
_NARROW = re.compile(rf"[^{_WIDE}]")
_CLOSERS_ONLY = re.compile(rf"[{_CLOSING}]+[^\S\n]*")
ELLIPSIS = "…"


def _units(paragraph: str) -> list[tuple[str, bool]]:
    """The paragraph in units a line may end after, each marked whether it is a folder
    of a path (too wide, it is shortened rather than folded)."""
    out: list[tuple[str, bool]] = []

    def add_text(text: str) -> None:
        for m in _UNIT.finditer(text):
            unit = m.group(0)
            if out and _CLOSERS_ONLY.fullmatch(unit):  # "，" after a path or a space
                out[-1] = (out[-1][0] + unit, out[-1][1])
            else:
                out.append((unit, False))

    end = 0
    for m in _PATH_RUN.finditer(paragraph):
        start = _path_start(m.group(0))
        if start < 0:
            continue
        add_text(paragraph[end : m.start() + start])
        folders = _FOLDER.findall(m.group(0)[start:])
        if len(folders) > 1 and folders[0] in ("/", "\\"):
            folders[:2] = [folders[0] + folders[1]]  # never a lone "/" at a line's end
        out.extend((f, True) for f in folders)
        end = m.end()
    add_text(paragraph[end:])
    return out


def _path_start(run: str) -> int:
    """Where a path starts in a run of characters with a separator in it (-1: none).
    Text runs into a path with no space in Chinese ("已保存到/home/…"): the path starts
    at a separator, or at the narrow name just before it ("到data/…"). Only what reads
    as a path counts: "/" then a narrow name and another separator ("/home/…"); a start
    such as "~/", "./" or "D:\\"; or two separators and a letter ("data/backups/…").
    "元/亩" and "2026/11/28" stay as they are."""
    for i, ch in enumerate(run):
        if ch not in "/\\":
            continue
        start = i
        while start > 0 and _NARROW.match(run[start - 1]):
            start -= 1
        path = run[start:]
        separators = path.count("/") + path.count("\\")
        if start == i:
            if separators >= 2 and len(path) > 1 and _NARROW.match(path[1]) and path[1] not in "/\\":
                return start
        elif re.match(r"~[/\\]|\.\.?[/\\]|[A-Za-z]:[/\\]", path) or (separators >= 2 and re.search("[A-Za-z]", path)):
            return start
    return -1


def _fold(unit: str, width: int) -> list[str]:
    """A unit wider than the line, cut by characters (never through a wide one)."""
    lines, line = [], ""
    for ch in unit:
        if line and cell_len(line + ch) > width and ch.strip():
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line]


def _tail(folder: str, width: int) -> str:
    """A folder name too wide for a line: its end, with "…" in front."""
    tail = ""
    for ch in reversed(folder.rstrip()):
        if cell_len(ELLIPSIS + ch + tail) > width:
            break
        tail = ch + tail
    return ELLIPSIS + tail


def break_lines(text: str, width: int) -> list[str]:
    """Text cut into lines of at most ``width`` cells (spaces at a line's end aside).

    A line ends only between units: between two Chinese characters, after a code or a
    number with its measure word ("2026-005396", "238,114.60元"), after a path's "/",
    never before closing punctuation or after opening punctuation. Joined, the lines
    give back the text ("\n" ends a line too and stays at its end), except where one
    unit alone is wider than the line: a code is then cut by characters (never through
    a wide one) and a folder name shows its end after "…"."""
    width = max(width, 2)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for unit, folder in _units(paragraph):
            if line and cell_len((line + unit).rstrip()) > width:
                lines.append(line)
                line = ""
            if not line and cell_len(unit.rstrip()) > width:
                pieces = [_tail(unit, width) + unit[len(unit.rstrip()) :]] if folder else _fold(unit, width)
                lines.extend(pieces[:-1])
                line = pieces[-1]
            else:
                line += unit
        lines.append(line + "\n")
    lines[-1] = lines[-1][:-1]
    return lines
