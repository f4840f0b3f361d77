"""Page geometry, text measuring, line breaking and column widths for the PDF poster.

* **Measured with the embedded font.** Every width comes from the font (and fallbacks)
  that will be embedded, at 1 pt and cached per string, so what is measured here is
  what is printed.
* **Never overflow.** Column widths come from measured text; long names and remarks wrap
  inside their cell (Chinese line-breaking rules: no line starts with "，。）" …), numbers
  stay on one line, and the table font shrinks (never below the large-print minimum)
  when a wide table does not fit.

The pages themselves are flowed in :mod:`villageboard.render.pdf.paging`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from villageboard.render.document import Table
from villageboard.render.fonts import FontSet

PT = 25.4 / 72  # millimetres per point

PAPERS: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "a3": (297.0, 420.0)}

# Colours (RGB 0–255).
BLACK = (0, 0, 0)
GRID = (90, 90, 90)
GREY_TEXT = (70, 70, 70)
HEADER_FILL = (225, 225, 225)
ZEBRA_FILL = (246, 246, 246)
PANEL_FILL = (255, 248, 225)
SUBTOTAL_FILL = (232, 232, 232)
TOTAL_FILL = (214, 214, 214)
STAMP_RED = (200, 16, 16)

# Line-breaking (kinsoku) sets: never start a line with the first, never end with the second.
_NO_START = set("，。、；：？！）》」』】〕〉”’…—％%,.;:?!)]}·～~")
_NO_END = set("（《「『【〔〈“‘([{")
_TOKEN = re.compile(r"[A-Za-z0-9_.,:;%/+\-*#@&'\"!?()\[\]=<>~^$|\\]+|\s+|.", re.S)

CELL_PAD = 1.2  # mm of white space left and right of a cell's text


@dataclass(frozen=True)
class PrintSettings:
    """Page geometry and type sizes. ``large`` is the 适老化 variant: every body text
    (paragraphs, table, totals, footer) at ≥ 14 pt. ``panel_pt`` is the key panel's
    size (≥ 14 pt on every version)."""

    paper: str
    width: float
    height: float
    margin_left: float
    margin_right: float
    margin_top: float
    margin_bottom: float
    title_pt: float
    subtitle_pt: float
    body_pt: float
    table_pt: float
    table_min_pt: float
    totals_pt: float
    band_pt: float
    qr_symbol_mm: float
    landscape: bool = False
    panel_pt: float = 14.0
    page_sums: bool = True
    #: a header longer than this many characters takes two lines when its column is narrower
    word_em: float = 4.0
    #: the signature block may stand beside the footer lines
    compact_ending: bool = False
    #: the poster layout (see :func:`print_settings`)
    layout: int = 2

    @property
    def content_width(self) -> float:
        return self.width - self.margin_left - self.margin_right


def print_settings(paper: str = "a4", large: bool = False, landscape: bool = False, layout: int = 2) -> PrintSettings:
    """The settings :func:`render_pdf` uses for this paper and print size. Pages are
    portrait; :func:`render_pdf` turns them to landscape when a table cannot fit across
    a portrait page at its smallest allowed size.

    ``layout`` 2 (what new postings get) is read from a step away: table text 12 pt
    (14 pt large print) and never smaller, a key panel at 14 pt (16 pt), a 30 mm QR.
    Layout 1 is how notices posted before it were printed (10.5 pt table, shrinking to
    8 pt), kept so that their reprints look as posted."""
    key = (paper or "a4").lower()
    if key not in PAPERS:
        from villageboard.domain.errors import VBError

        raise VBError(f"纸张只能是 a4 或 a3，不能是“{paper}”。")
    w, h = PAPERS[key]
    if landscape:
        w, h = h, w
    a3 = key == "a3"
    panel = 16.0 if large else 14.0
    if large:
        body, title, subtitle, band = 14.0, 24.0, 16.0, (14.0 if layout >= 2 else 12.0)
        table, table_min, totals = 14.0, 14.0, 15.5
    elif layout >= 2:
        body, title, subtitle, band = 12.0, 20.0, 12.0, 9.5
        table, table_min, totals = 12.0, 12.0, 13.0
    else:
        body, title, subtitle, band = 10.5, 20.0, 12.0, 9.0
        table, table_min, totals = 10.5, 8.0, 12.0
    if a3:  # the same poster seen from further away
        title += 6
        subtitle += 2
    margin = (18.0 if a3 else 15.0) if layout < 2 else (15.0 if a3 else 12.0)
    qr = (32.0 if a3 else 26.0) if layout < 2 else (34.0 if a3 else 30.0)
    return PrintSettings(
        paper=key,
        width=w,
        height=h,
        margin_left=margin,
        margin_right=margin,
        margin_top=12.0,
        margin_bottom=10.0,
        title_pt=title,
        subtitle_pt=subtitle,
        body_pt=body,
        table_pt=table,
        table_min_pt=table_min,
        totals_pt=totals,
        band_pt=band,
        qr_symbol_mm=qr,
        landscape=landscape,
        panel_pt=panel,
        page_sums=layout >= 2,
        word_em=4.0 if layout < 2 else 3.0,
        compact_ending=layout >= 2,
        layout=layout,
    )


# --- measuring and wrapping --------------------------------------------------------------


class Metrics:
    """Text widths with the fonts actually embedded (main font + fallbacks)."""

    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        self._cache: dict[str, tuple[int, int]] = {}
        self._strings: dict[str, float] = {}
        self.asc: float = fonts.primary.ascent / 1000
        self.desc: float = -fonts.primary.descent / 1000

    def char(self, ch: str) -> tuple[int, int]:
        hit = self._cache.get(ch)
        if hit is None:
            i = self.fonts.font_for(ch)
            hit = (i, self.fonts.fonts[i].char_width(ch))
            self._cache[ch] = hit
        return hit

    def width(self, text: str, size_pt: float) -> float:
        """Width in mm (strings repeat a lot in a notice — "已发放", "125.00" — so the
        width at 1 pt is cached per string)."""
        w = self._strings.get(text)
        if w is None:
            char = self.char
            w = sum(char(c)[1] for c in text) * PT / 1000
            if len(self._strings) < 200_000:
                self._strings[text] = w
        return w * size_pt

    def runs(self, text: str) -> list[tuple[int, str]]:
        """Split text into (font index, run) pieces; one piece without fallbacks."""
        if not self.fonts.fallbacks:
            return [(0, text)]
        out: list[tuple[int, str]] = []
        for ch in text:
            i = self.char(ch)[0]
            if out and out[-1][0] == i:
                out[-1] = (i, out[-1][1] + ch)
            else:
                out.append((i, ch))
        return out


_INVISIBLE_RE = re.compile(r"[\u200b-\u200d\u2060\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_ODD_SPACE_RE = re.compile(r"[\t\r\u00a0\u2000-\u200a\u202f\u205f]")
_NEEDS_CLEAN = re.compile(r"[\t\r\u00a0\u2000-\u200d\u202f\u205f\u2060\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def clean_text(text: str) -> str:
    """What is actually drawn: odd spaces become spaces, invisible marks go."""
    if not _NEEDS_CLEAN.search(text):
        return text
    return _ODD_SPACE_RE.sub(" ", _INVISIBLE_RE.sub("", text))


def wrap(m: Metrics, text: str, width: float, size_pt: float, indent: float = 0.0) -> list[str]:
    """Break text into lines no wider than ``width`` mm: between CJK characters, at
    spaces, never inside a Latin word or number unless it alone is too wide, and with
    the usual Chinese rules about punctuation at line starts and ends."""
    lines: list[str] = []
    for para in clean_text(text).split("\n"):
        lines.extend(_wrap_one(m, para, width, size_pt, indent if not lines else 0.0))
    return lines or [""]


def wrap_label(m: Metrics, label: str, width: float, size_pt: float) -> list[str]:
    """A column header: one line if it fits, else split before its bracketed unit
    ("补贴金额" / "（元）", "标准" / "（元/亩）"), else wrapped evenly. A header written
    with line breaks (a program name split between words) keeps them."""
    if "\n" in label:
        return [piece for line in label.split("\n") for piece in wrap(m, line, width, size_pt)]
    if m.width(label, size_pt) <= width:
        return [label]
    for bracket in ("（", "("):
        cut = label.rfind(bracket)
        if cut > 0:
            head, unit = label[:cut], label[cut:]
            if m.width(head, size_pt) <= width and m.width(unit, size_pt) <= width:
                return [head, unit]
    lines = wrap(m, label, width, size_pt)
    if len(lines) == 2:  # even split: "发放" / "状态" rather than "发放状" / "态"
        lo, hi = width / 2, width
        for _ in range(12):
            mid = (lo + hi) / 2
            trial = wrap(m, label, mid, size_pt)
            if len(trial) <= 2:
                lines, hi = trial, mid
            else:
                lo = mid
    return lines


def _wrap_one(m: Metrics, text: str, width: float, size_pt: float, indent: float) -> list[str]:
    if m.width(text, size_pt) + indent <= width:
        return [text]
    if "·" in text and not indent:
        # A minority name (阿依古丽·买买提) breaks best after its dot.
        parts = [p + "·" for p in text.split("·")[:-1]] + [text.split("·")[-1]]
        if all(m.width(p, size_pt) <= width for p in parts):
            lines: list[str] = []
            for part in parts:
                if lines and m.width(lines[-1] + part, size_pt) <= width:
                    lines[-1] += part
                else:
                    lines.append(part)
            return lines
    tokens = _TOKEN.findall(text)
    lines = []
    cur: list[str] = []
    cur_w = indent
    limit = width

    def flush() -> None:
        nonlocal cur, cur_w
        line = "".join(cur).rstrip()
        lines.append(line)
        cur, cur_w = [], 0.0

    for tok in tokens:
        tw = m.width(tok, size_pt)
        if tok.isspace():
            if cur:
                cur.append(" ")
                cur_w += m.width(" ", size_pt)
            continue
        if cur_w + tw <= limit + 1e-6:
            cur.append(tok)
            cur_w += tw
            continue
        # Does not fit. A closing mark may not start the next line: carry the last
        # token down with it. An opening mark may not end this line.
        carry: list[str] = []
        if tok[0] in _NO_START and len(cur) > 1:
            carry.append(cur.pop())
        while len(cur) > 1 and cur[-1] and cur[-1][-1] in _NO_END:
            carry.insert(0, cur.pop())
        if cur:
            flush()
        cur = carry
        cur_w = m.width("".join(cur), size_pt)
        if cur_w + tw <= limit + 1e-6:
            cur.append(tok)
            cur_w += tw
            continue
        # A single token wider than the line (a long number or word): break by char.
        for ch in tok:
            cw = m.width(ch, size_pt)
            if cur and cur_w + cw > limit + 1e-6:
                flush()
            cur.append(ch)
            cur_w += cw
    if cur:
        flush()
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    _fix_widow(m, lines, width, size_pt)
    return lines


def _fix_widow(m: Metrics, lines: list[str], width: float, size_pt: float) -> None:
    """Do not leave one or two characters alone on the last line ("元。"): bring the
    previous line's last word down when it fits."""
    if len(lines) < 2 or len(lines[-1].strip()) > 2:
        return
    tokens = _TOKEN.findall(lines[-2])
    if len(tokens) < 4:
        return
    moved = tokens[-1]
    keep = tokens[:-1]
    while keep and (moved[0] in _NO_START or keep[-1][-1:] in _NO_END) and len(keep) > 3:
        moved = keep.pop() + moved
    candidate = moved.lstrip() + lines[-1]
    if len(keep) >= 3 and m.width(candidate, size_pt) <= width:
        lines[-2] = "".join(keep).rstrip()
        lines[-1] = candidate


# --- column widths -----------------------------------------------------------------------


def _longest_token(m: Metrics, text: str, size_pt: float) -> float:
    best = 0.0
    for tok in _TOKEN.findall(text):
        if not tok.isspace():
            best = max(best, m.width(tok, size_pt))
    return best


def table_fits(m: Metrics, table: Table, avail: float, min_pt: float, pad: float, word_em: float = 4.0) -> bool:
    """Whether the table fits ``avail`` mm at ``min_pt`` without splitting numbers, IDs or
    words of ``word_em`` characters (the minimums :func:`fit_columns` guarantees)."""
    return fit_columns(m, table, avail, min_pt, min_pt, pad, strict=True, word_em=word_em)[1] > 0


def fit_columns(
    m: Metrics,
    table: Table,
    avail: float,
    size_pt: float,
    min_pt: float,
    pad: float,
    strict: bool = False,
    word_em: float = 4.0,
) -> tuple[list[float], float]:
    """Column widths (mm) summing to ``avail``, and the font size to use.

    Numeric columns get their natural width (they never wrap). Text columns start at
    four characters, or their longest unbreakable token (an ID), or their header;
    the spare width then goes where it saves the most printed lines (see
    :func:`_least_lines`), so one long minority name may wrap while a column of long
    remarks gets room. Whatever is left brings columns up to their natural width. If the
    minimums do not fit, the table font shrinks in 0.5 pt steps down to ``min_pt``; at
    ``min_pt`` every column may wrap (``strict`` returns size 0 instead)."""
    # Widths scale with the font size: measure once at 1 pt.
    cols = table.columns
    grid1 = [[m.width(clean_text(c), 1.0) for c in r.cells] for r in table.rows]
    tokens: dict[str, float] = {}

    def longest(text: str) -> float:
        w = tokens.get(text)
        if w is None:
            w = tokens[text] = _longest_token(m, clean_text(text), 1.0)
        return w

    longest1 = [max((longest(r.cells[ci]) for r in table.rows), default=0.0) for ci in range(len(cols))]
    label1 = [max(m.width(line, 1.0) for line in c.label.split("\n")) for c in cols]
    split1 = [label1[i] if "\n" in c.label else _label_split_width(m, c.label) for i, c in enumerate(cols)]
    max1 = [max((row[ci] for row in grid1), default=0.0) for ci in range(len(cols))]
    size = size_pt
    while True:
        em = size * PT
        natural: list[float] = []
        floor: list[float] = []
        for ci, col in enumerate(cols):
            w_label = label1[ci] * size
            # A long header may take two lines rather than widen a narrow column.
            label_need = w_label if w_label <= (word_em + 0.2) * em else max(word_em * em, split1[ci] * size)
            nat = max(max1[ci] * size, label_need) + 2 * pad
            natural.append(nat)
            if col.numeric or col.whole:
                floor.append(nat)
            else:
                # Never split a token (an ID, a number, a Latin word) unless it is huge.
                tok = min(longest1[ci] * size, 0.35 * avail)
                floor.append(min(nat, max(4 * em, tok, label_need) + 2 * pad))
        if sum(natural) <= avail:
            extra = avail - sum(natural)
            # Spread spare width over the text columns (numbers stay tight).
            text_cols = [i for i, c in enumerate(cols) if not c.numeric] or list(range(len(natural)))
            share = sum(natural[i] for i in text_cols)
            widths = list(natural)
            for i in text_cols:
                widths[i] += extra * natural[i] / share if share else extra / len(text_cols)
            return widths, size
        if sum(floor) <= avail:
            if strict:  # only asked whether it fits: the widths themselves are not needed
                return _water_fill(natural, floor, avail), size
            grid = [[w * size for w in row] for row in grid1]
            widths = _least_lines(grid, floor, natural, avail, pad)
            return _water_fill(natural, widths, avail), size
        if size - 0.5 >= min_pt - 1e-9:
            size -= 0.5
            continue
        if strict:
            return [], 0.0
        # Last resort at the minimum size: everything may wrap, down to two characters.
        floors = [min(n, 2 * em + 2 * pad) for n in natural]
        if sum(floors) > avail:
            return [avail * n / sum(natural) for n in natural], size
        return _water_fill(natural, floors, avail), size


def _least_lines(
    grid: list[list[float]], floor: list[float], natural: list[float], avail: float, pad: float
) -> list[float]:
    """Grow columns from their floors, each step buying the most saved table lines per
    millimetre, until no step saves a line. A row is as tall as its tallest cell, so
    this is what actually shortens the poster (and saves paper)."""
    widths = list(floor)
    free = avail - sum(widths)
    flex = [c for c in range(len(widths)) if natural[c] > widths[c] + 1e-6]
    if not flex or free <= 1e-6:
        return widths
    # Only cells that wrap at the floor width matter; identical rows are counted once.
    groups: dict[tuple[float, ...], int] = {}
    for row in grid:
        key = tuple(row[c] if row[c] > floor[c] - 2 * pad + 1e-6 else 0.0 for c in flex)
        if any(key):
            groups[key] = groups.get(key, 0) + 1
    items = list(groups.items())
    if not items:
        return widths

    def lines(w: float, width: float) -> int:
        inner = width - 2 * pad
        return 1 if w <= inner + 1e-6 else math.ceil(w / inner - 1e-9)

    for _ in range(400):
        cur = [[lines(k[j], widths[c]) for j, c in enumerate(flex)] for k, _n in items]
        best: tuple[float, int, float] | None = None
        for j, c in enumerate(flex):
            if widths[c] >= natural[c] - 1e-6:
                continue
            other = [max([1] + [row[jj] for jj in range(len(flex)) if jj != j]) for row in cur]
            base = sum(n * max(other[i], cur[i][j]) for i, (_k, n) in enumerate(items))
            cands = set()
            for i, (k, _n) in enumerate(items):
                n_lines = cur[i][j]
                if n_lines > 1:
                    t = k[j] / (n_lines - 1) + 2 * pad + 1e-4
                    if t - widths[c] <= free + 1e-9 and t <= natural[c] + 1e-3:
                        cands.add(t)
            for t in sorted(cands)[:32]:
                total = sum(n * max(other[i], lines(k[j], t)) for i, (k, n) in enumerate(items))
                gain = base - total
                if gain > 0:
                    ratio = gain / max(t - widths[c], 1e-6)
                    if best is None or ratio > best[0]:
                        best = (ratio, c, t)
        if best is None:
            break
        _ratio, c, t = best
        free -= t - widths[c]
        widths[c] = t
    return widths


def _label_split_width(m: Metrics, label: str) -> float:
    """Width (at 1 pt) a header needs on two lines: split before its bracketed unit
    when it has one, else roughly in half."""
    for bracket in ("（", "("):
        cut = label.rfind(bracket)
        if cut > 0:
            return max(m.width(label[:cut], 1.0), m.width(label[cut:], 1.0))
    return m.width(label, 1.0) / 2 + m.width("字", 1.0)


def _water_fill(natural: list[float], floor: list[float], avail: float) -> list[float]:
    """Give every column its floor, then share the rest equally among the columns that
    still want more, never beyond a column's natural width. Equal shares (not
    proportional ones) mean short columns such as names reach their full width first
    and only the genuinely long ones (remarks) wrap."""
    widths = list(floor)
    free = avail - sum(widths)
    active = [i for i in range(len(natural)) if natural[i] > widths[i] + 1e-9]
    while free > 1e-6 and active:
        share = free / len(active)
        satisfied = [i for i in active if natural[i] - widths[i] <= share]
        if not satisfied:
            for i in active:
                widths[i] += share
            free = 0.0
            break
        for i in satisfied:
            free -= natural[i] - widths[i]
            widths[i] = natural[i]
        active = [i for i in active if i not in satisfied]
    if free > 1e-6:  # every column at its natural width: spread the remainder evenly
        for i in range(len(widths)):
            widths[i] += free / len(widths)
    return widths
