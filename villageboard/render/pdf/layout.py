"""NoticeDocument -> PDF poster, with fpdf2.

Design choices, and why:

* **Two passes.** A layout pass measures every string with the font that will be
  embedded, wraps cells, decides page breaks and records drawing operations; a drawing
  pass replays them. The page count is therefore known before anything is drawn, so
  every page prints "第 N 页 / 共 M 页" without fpdf2's alias substitution.
* **Fast fonts.** Only the characters this notice uses are embedded: the
  process-cached face is cut down by :mod:`villageboard.render.ttsubset` in a few
  milliseconds and fpdf2 embeds that small font. Text is placed with ``FPDF.text()``,
  fpdf2's cheapest text path (no per-cell ``multi_cell``), and text shaping stays off.
* **Never overflow.** Column widths come from measured text; long names and remarks wrap
  inside their cell (Chinese line-breaking rules: no line starts with "，。）" …), numbers
  stay on one line, the table font shrinks (never below the large-print minimum) when a
  wide table does not fit, and a cell taller than a page is cut with "…".
* **On every page:** the repeated table header, the page number, the QR code (error
  correction Q, 4-module quiet zone, symbol ≥ 25 mm wide) captioned 扫码核验 with the
  code, version and tag beside it, and the red archive stamp when ``doc.stamp`` is set.
* **Privacy first.** :func:`render_pdf` runs the privacy gate before any work.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from villageboard.render.document import Column, NoticeDocument, Row, Table
from villageboard.render.fonts import FontSet, resolve_fonts
from villageboard.render.privacy import gate_document
from villageboard.render.qr import QUIET_ZONE, qr_matrix

PT = 25.4 / 72  # millimetres per point

PAPERS: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "a3": (297.0, 420.0)}

# Colours (RGB 0–255).
BLACK = (0, 0, 0)
GRID = (90, 90, 90)
GREY_TEXT = (70, 70, 70)
HEADER_FILL = (225, 225, 225)
ZEBRA_FILL = (246, 246, 246)
SUBTOTAL_FILL = (232, 232, 232)
TOTAL_FILL = (214, 214, 214)
STAMP_RED = (200, 16, 16)

# Line-breaking (kinsoku) sets: never start a line with the first, never end with the second.
_NO_START = set("，。、；：？！）》」』】〕〉”’…—％%,.;:?!)]}·～~")
_NO_END = set("（《「『【〔〈“‘([{")
_AFTER_INTEGER = re.compile(r"(?<=\d)(?:[.．]\d+)?[^\d]*$")
_TOKEN = re.compile(r"[A-Za-z0-9_.,:;%/+\-*#@&'\"!?()\[\]=<>~^$|\\]+|\s+|.", re.S)


@dataclass(frozen=True)
class PrintSettings:
    """Page geometry and type sizes. ``large`` is the 适老化 variant: every body text
    (paragraphs, table, totals, footer) at ≥ 14 pt."""

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

    @property
    def content_width(self) -> float:
        return self.width - self.margin_left - self.margin_right


def print_settings(paper: str = "a4", large: bool = False, landscape: bool = False) -> PrintSettings:
    """The settings :func:`render_pdf` uses for this paper and print size. Pages are
    portrait; :func:`render_pdf` turns them to landscape only when a table cannot fit
    across a portrait page even at the smallest allowed size (large print on A4)."""
    key = (paper or "a4").lower()
    if key not in PAPERS:
        from villageboard.domain.errors import VBError

        raise VBError(f"纸张只能是 a4 或 a3，不能是“{paper}”。")
    w, h = PAPERS[key]
    if landscape:
        w, h = h, w
    a3 = key == "a3"
    if large:
        body, title, subtitle, band = 14.0, 24.0, 16.0, 12.0
        table, table_min, totals = 14.0, 14.0, 15.5
    else:
        body, title, subtitle, band = 10.5, 20.0, 12.0, 9.0
        table, table_min, totals = 10.5, 8.0, 12.0
    if a3:  # the same poster seen from further away
        title += 6
        subtitle += 2
    margin = 18.0 if a3 else 15.0
    return PrintSettings(
        paper=key, width=w, height=h,
        margin_left=margin, margin_right=margin, margin_top=12.0, margin_bottom=10.0,
        title_pt=title, subtitle_pt=subtitle, body_pt=body, table_pt=table,
        table_min_pt=table_min, totals_pt=totals, band_pt=band,
        qr_symbol_mm=32.0 if a3 else 26.0, landscape=landscape,
    )


# --- measuring and wrapping --------------------------------------------------------------

class _Metrics:
    """Text widths with the fonts actually embedded (main font + fallbacks)."""

    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        self._cache: dict[str, tuple[int, int]] = {}
        self._strings: dict[str, float] = {}
        self.asc = fonts.primary.ascent / 1000
        self.desc = -fonts.primary.descent / 1000

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
_NEEDS_CLEAN = re.compile(
    r"[\t\r\u00a0\u2000-\u200d\u202f\u205f\u2060\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def clean_text(text: str) -> str:
    """What is actually drawn: odd spaces become spaces, invisible marks go."""
    if not _NEEDS_CLEAN.search(text):
        return text
    return _ODD_SPACE_RE.sub(" ", _INVISIBLE_RE.sub("", text))


def wrap(m: _Metrics, text: str, width: float, size_pt: float, indent: float = 0.0) -> list[str]:
    """Break text into lines no wider than ``width`` mm: between CJK characters, at
    spaces, never inside a Latin word or number unless it alone is too wide, and with
    the usual Chinese rules about punctuation at line starts and ends."""
    lines: list[str] = []
    for para in clean_text(text).split("\n"):
        lines.extend(_wrap_one(m, para, width, size_pt, indent if not lines else 0.0))
    return lines or [""]


def wrap_label(m: _Metrics, label: str, width: float, size_pt: float) -> list[str]:
    """A column header: one line if it fits, else split before its bracketed unit
    ("补贴金额" / "（元）", "标准" / "（元/亩）"), else wrapped evenly."""
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


def _wrap_one(m: _Metrics, text: str, width: float, size_pt: float, indent: float) -> list[str]:
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
    lines: list[str] = []
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


def _fix_widow(m: _Metrics, lines: list[str], width: float, size_pt: float) -> None:
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

def _longest_token(m: _Metrics, text: str, size_pt: float) -> float:
    best = 0.0
    for tok in _TOKEN.findall(text):
        if not tok.isspace():
            best = max(best, m.width(tok, size_pt))
    return best


def table_fits(m: _Metrics, table: Table, avail: float, min_pt: float, pad: float) -> bool:
    """Whether the table fits ``avail`` mm at ``min_pt`` without splitting numbers, IDs or
    four-character words (the minimums :func:`fit_columns` guarantees)."""
    return fit_columns(m, table, avail, min_pt, min_pt, pad, strict=True)[1] > 0


def fit_columns(
    m: _Metrics, table: Table, avail: float, size_pt: float, min_pt: float, pad: float,
    strict: bool = False,
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

    longest1 = [max((longest(r.cells[ci]) for r in table.rows), default=0.0)
                for ci in range(len(cols))]
    label1 = [m.width(c.label, 1.0) for c in cols]
    split1 = [_label_split_width(m, c.label) for c in cols]
    max1 = [max((row[ci] for row in grid1), default=0.0) for ci in range(len(cols))]
    size = size_pt
    while True:
        em = size * PT
        natural: list[float] = []
        floor: list[float] = []
        for ci, col in enumerate(cols):
            w_label = label1[ci] * size
            # A long header may take two lines rather than widen a narrow column.
            label_need = w_label if w_label <= 4.2 * em else max(4 * em, split1[ci] * size)
            nat = max(max1[ci] * size, label_need) + 2 * pad
            natural.append(nat)
            if col.numeric:
                floor.append(nat)
            else:
                # Never split a token (an ID, a number, a Latin word) unless it is huge.
                tok = min(longest1[ci] * size, 0.35 * avail)
                floor.append(min(nat, max(4 * em, tok, label_need) + 2 * pad))
        if sum(natural) <= avail:
            extra = avail - sum(natural)
            # Spread spare width over the text columns (numbers stay tight).
            text_cols = [i for i, c in enumerate(cols) if not c.numeric] or list(
                range(len(natural)))
            share = sum(natural[i] for i in text_cols)
            widths = list(natural)
            for i in text_cols:
                widths[i] += extra * natural[i] / share if share else extra / len(text_cols)
            return widths, size
        if sum(floor) <= avail:
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


def _label_split_width(m: _Metrics, label: str) -> float:
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


# --- the layout pass -----------------------------------------------------------------------

Op = tuple[str, tuple[Any, ...]]
_CELL_PAD = 1.2  # mm of white space left and right of a cell's text


class _Layout:
    """Flows the document into pages of drawing operations."""

    def __init__(self, doc: NoticeDocument, s: PrintSettings, m: _Metrics, qr_n: int) -> None:
        self.doc = doc
        self.s = s
        self.m = m
        self.pages: list[list[Op]] = []
        self.chars: set[str] = set()
        module = s.qr_symbol_mm / (qr_n - 2 * QUIET_ZONE)
        self.qr_module = module
        self.qr_full = module * qr_n
        qr_top = s.height - s.margin_bottom - s.qr_symbol_mm - QUIET_ZONE * module
        self.bottom = qr_top - 2.0
        self.stamp_h = 0.0
        if doc.stamp:
            self.stamp_h = (s.band_pt + 8) * PT * 1.25 + s.band_pt * PT * 1.4 + 4.0
        self.top = s.margin_top + (self.stamp_h + 3.0 if doc.stamp else 0.0)
        self.y = self.top
        self.table: _TableLayout | None = None

    # recording -----------------------------------------------------------------------
    def op(self, name: str, *args: Any) -> None:
        self.pages[-1].append((name, args))

    def text(self, x: float, y: float, text: str, size: float, bold: bool = False,
             color: tuple[int, int, int] = BLACK) -> None:
        """Record text with its baseline at ``y`` (mm)."""
        if text:
            self.chars.update(text)
            self.op("text", x, y, text, size, bold, color)

    def baseline(self, top: float, line_h: float, size: float) -> float:
        em = size * PT
        return top + (line_h - (self.m.asc + self.m.desc) * em) / 2 + self.m.asc * em

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.top
        if self.table is not None:
            self.table.start_page(continued=True)

    def room(self) -> float:
        return self.bottom - self.y

    def ensure(self, h: float) -> None:
        if self.y + h > self.bottom + 1e-6:
            self.new_page()

    # blocks ----------------------------------------------------------------------------
    def lines_block(self, text: str, size: float, align: str = "L", bold: bool = False,
                    leading: float = 1.5, indent_em: float = 0.0,
                    color: tuple[int, int, int] = BLACK) -> None:
        s = self.s
        em = size * PT
        indent = indent_em * em
        lines = wrap(self.m, text, s.content_width, size, indent)
        if align == "C" and len(lines) > 1:
            lines = self.balanced(text, size, len(lines))
        line_h = em * leading
        for i, line in enumerate(lines):
            self.ensure(line_h)
            w = self.m.width(line, size)
            x = s.margin_left + (indent if i == 0 else 0.0)
            if align == "C":
                x = s.margin_left + (s.content_width - w) / 2
            elif align == "R":
                x = s.margin_left + s.content_width - w
            self.text(x, self.baseline(self.y, line_h, size), line, size, bold, color)
            self.y += line_h

    def balanced(self, text: str, size: float, count: int) -> list[str]:
        """The narrowest wrap with the same number of lines: a two-line title splits in
        the middle instead of leaving two characters alone on the second line."""
        lo, hi = self.s.content_width / count, self.s.content_width
        best = wrap(self.m, text, hi, size)
        for _ in range(14):
            mid = (lo + hi) / 2
            lines = wrap(self.m, text, mid, size)
            if len(lines) <= count:
                best, hi = lines, mid
            else:
                lo = mid
        return best

    def block_height(self, text: str, size: float, leading: float, indent_em: float = 0.0) -> float:
        lines = wrap(self.m, text, self.s.content_width, size, indent_em * size * PT)
        return len(lines) * size * PT * leading

    def run(self) -> list[list[Op]]:
        s, doc = self.s, self.doc
        self.pages.append([])
        self.lines_block(doc.title, s.title_pt, align="C", bold=True, leading=1.35)
        if doc.subtitle:
            self.y += 0.5
            self.lines_block(doc.subtitle, s.subtitle_pt, align="C", leading=1.4, color=GREY_TEXT)
        self.y += 3.0
        for p in doc.paragraphs:
            self.lines_block(p, s.body_pt, leading=1.6, indent_em=2.0)
            self.y += 1.2
        for table in doc.tables:
            self.y += 2.5
            self.table = _TableLayout(self, table)
            self.table.run()
            self.table = None
        self.ending()
        return self.pages

    def ending(self) -> None:
        """Totals, footer lines and the signature block, kept together when they fit on
        one page, so the notice does not end with a lone date on a new sheet."""
        s, doc = self.s, self.doc
        totals_h = sum(self.block_height(t, s.totals_pt, 1.5) for t in doc.totals_lines)
        footer_h = sum(self.block_height(t, s.body_pt, 1.55) for t in doc.footer_lines)
        sign_lines = [*doc.issuers, _cn_date(doc.issued_date)] if doc.issuers else []
        sign_h = len(sign_lines) * s.body_pt * PT * 1.6 + (6.0 if sign_lines else 0.0)
        need = totals_h + footer_h + sign_h + 8.0
        if need <= self.bottom - self.top and self.y + need > self.bottom:
            self.new_page()
        if doc.totals_lines:
            self.y += 3.0
            self.ensure(totals_h / max(1, len(doc.totals_lines)) + 1.0)
            self.op("hline", s.margin_left, s.margin_left + s.content_width, self.y, 0.4, BLACK)
            self.y += 1.5
            for t in doc.totals_lines:
                self.lines_block(t, s.totals_pt, bold=True, leading=1.5)
        if doc.footer_lines:
            self.y += 3.0
            for t in doc.footer_lines:
                self.lines_block(t, s.body_pt, leading=1.55)
        if sign_lines:
            self.y += 6.0
            for t in sign_lines:
                self.lines_block(t, s.body_pt + 0.5, align="R", leading=1.6)


class _TableLayout:
    """One table: widths, wrapped cells, rows flowed over pages with the header repeated."""

    def __init__(self, lay: _Layout, table: Table) -> None:
        self.lay = lay
        self.t = table
        s = lay.s
        self.pad = _CELL_PAD
        self.vpad = 0.8
        self.widths, self.size = fit_columns(
            lay.m, table, s.content_width, s.table_pt, s.table_min_pt, self.pad)
        self.line_h = self.size * PT * 1.32
        self.xs = [s.margin_left]
        for w in self.widths:
            self.xs.append(self.xs[-1] + w)
        self.header_lines = [
            wrap_label(lay.m, c.label, w - 2 * self.pad, self.size)
            for c, w in zip(table.columns, self.widths, strict=True)
        ]
        self.header_h = max((len(x) for x in self.header_lines), default=1) * self.line_h \
            + 2 * self.vpad
        self.title_h = (s.body_pt + 1) * PT * 1.6 if table.title else 0.0
        # Numbers line up on their decimal point: 2.4 under 13.76, 27 under 26.4.
        self.frac_max: dict[int, float] = {}
        for ci, col in enumerate(table.columns):
            if col.numeric and col.align == "R":
                self.frac_max[ci] = max(
                    (self.frac_width(r.cells[ci]) for r in table.rows), default=0.0)
        self.seg_top = 0.0
        self.data_index = 0

    def start_page(self, continued: bool) -> None:
        lay = self.lay
        if self.t.title:
            label = self.t.title + ("（续）" if continued else "")
            size = lay.s.body_pt + 1
            lay.text(lay.s.margin_left, lay.baseline(lay.y, self.title_h, size), label, size,
                     bold=True)
            lay.y += self.title_h
        self.seg_top = lay.y
        self.draw_header()

    def draw_header(self) -> None:
        lay = self.lay
        y = lay.y
        lay.op("fill", self.xs[0], y, self.xs[-1] - self.xs[0], self.header_h, HEADER_FILL)
        for ci, lines in enumerate(self.header_lines):
            block = len(lines) * self.line_h
            top = y + (self.header_h - block) / 2
            for li, line in enumerate(lines):
                w = lay.m.width(line, self.size)
                x = self.xs[ci] + (self.widths[ci] - w) / 2
                lay.text(x, lay.baseline(top + li * self.line_h, self.line_h, self.size), line,
                         self.size, bold=True)
        lay.y += self.header_h
        lay.op("hline", self.xs[0], self.xs[-1], lay.y, 0.3, GRID)

    def close_segment(self) -> None:
        lay = self.lay
        lay.op("grid", tuple(self.xs), self.seg_top, lay.y)

    def run(self) -> None:
        lay = self.lay
        first_row_h = self.row_height(self.t.rows[0]) if self.t.rows else 0.0
        if lay.room() < self.title_h + self.header_h + first_row_h:
            lay.table = None
            lay.new_page()
            lay.table = self
        self.start_page(continued=False)
        max_h = lay.bottom - lay.top - self.title_h - self.header_h
        for row in self.t.rows:
            cells, h = self.layout_row(row, max_h)
            if lay.y + h > lay.bottom + 1e-6:
                self.close_segment()
                lay.new_page()  # calls start_page(continued=True)
            self.draw_row(row, cells, h)
        self.close_segment()

    def frac_width(self, text: str) -> float:
        """Width of what follows the integer digits (".98亩", "亩", ".5"), so that
        integer parts line up even when a unit is written after the number."""
        m = _AFTER_INTEGER.search(text.strip())
        return self.lay.m.width(m.group(0), self.size) if m else 0.0

    def row_height(self, row: Row) -> float:
        return self.layout_row(row, 1e9)[1]

    def layout_row(self, row: Row, max_h: float) -> tuple[list[list[str]], float]:
        cells = []
        n = 1
        for ci, text in enumerate(row.cells):
            lines = wrap(self.lay.m, text, self.widths[ci] - 2 * self.pad, self.size)
            cells.append(lines)
            n = max(n, len(lines))
        h = n * self.line_h + 2 * self.vpad
        if h > max_h:  # a pathological cell taller than a page: cut it visibly
            keep = max(1, int((max_h - 2 * self.vpad) // self.line_h))
            for i, lines in enumerate(cells):
                if len(lines) > keep:
                    cut = lines[: keep]
                    cut[-1] = cut[-1][:-1] + "…" if len(cut[-1]) > 1 else "…"
                    cells[i] = cut
            h = keep * self.line_h + 2 * self.vpad
        return cells, h

    def draw_row(self, row: Row, cells: list[list[str]], h: float) -> None:
        lay = self.lay
        y = lay.y
        bold = row.kind != "data"
        fill = None
        if row.kind == "subtotal":
            fill = SUBTOTAL_FILL
        elif row.kind == "total":
            fill = TOTAL_FILL
        else:
            self.data_index += 1
            if self.data_index % 2 == 0:
                fill = ZEBRA_FILL
        if fill:
            lay.op("fill", self.xs[0], y, self.xs[-1] - self.xs[0], h, fill)
        for ci, lines in enumerate(cells):
            col: Column = self.t.columns[ci]
            block = len(lines) * self.line_h
            top = y + (h - block) / 2
            for li, line in enumerate(lines):
                if not line:
                    continue
                x0 = self.xs[ci] + self.pad
                inner = self.widths[ci] - 2 * self.pad
                if col.align != "L":
                    w = lay.m.width(line, self.size)
                    x0 += (inner - w) if col.align == "R" else (inner - w) / 2
                    if ci in self.frac_max and len(lines) == 1:
                        x0 -= self.frac_max[ci] - self.frac_width(line)
                lay.text(x0, lay.baseline(top + li * self.line_h, self.line_h, self.size), line,
                         self.size, bold=bold)
        lay.y += h
        lay.op("hline", self.xs[0], self.xs[-1], lay.y, 0.4 if row.kind == "total" else 0.15,
               GRID)


def _cn_date(text: str) -> str:
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", text or "")
    if m:
        return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    return text


# --- the drawing pass ---------------------------------------------------------------------

_TMP_LOCK = threading.Lock()
_TMP_DIR: Path | None = None


def _tmp_dir() -> Path:
    """A private folder for the per-document font subsets fpdf2 loads by path."""
    global _TMP_DIR
    with _TMP_LOCK:
        if _TMP_DIR is None or not _TMP_DIR.is_dir():
            import atexit
            import shutil

            _TMP_DIR = Path(tempfile.mkdtemp(prefix="villageboard-fonts-"))
            atexit.register(shutil.rmtree, _TMP_DIR, True)
        return _TMP_DIR


class _Painter:
    """Replays recorded operations on an FPDF, skipping redundant state changes."""

    def __init__(self, pdf: Any, m: _Metrics, families: list[str]) -> None:
        self.pdf = pdf
        self.m = m
        self.families = families
        self.color: tuple[int, int, int] | None = None
        self.font: tuple[int, float] | None = None

    def new_page(self) -> None:
        self.font = None  # fpdf2 re-selects the font on each page itself

    def text(self, x: float, y: float, text: str, size: float, bold: bool,
             color: tuple[int, int, int]) -> None:
        pdf = self.pdf
        if color != self.color:
            pdf.set_text_color(*color)
            self.color = color
        if bold:
            from fpdf.enums import TextMode

            # Faux bold (fill + a thin stroke): CJK fonts ship without a bold face.
            # local_context brackets it in q/Q, which also restores the font afterwards.
            with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=size * 0.028,
                                   draw_color=color):
                self.font = None
                self._runs(x, y, text, size)
            self.font = None
            self.color = None
        else:
            self._runs(x, y, text, size)

    def _runs(self, x: float, y: float, text: str, size: float) -> None:
        pdf = self.pdf
        for index, run in self.m.runs(text):
            if self.font != (index, size):
                pdf.set_font(self.families[index], size=size)
                self.font = (index, size)
            pdf.text(x, y, run)
            if len(self.families) > 1:
                x += self.m.width(run, size)

    def hline(self, x1: float, x2: float, y: float, width: float,
              color: tuple[int, int, int]) -> None:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y, x2, y)

    def fill(self, x: float, y: float, w: float, h: float, color: tuple[int, int, int]) -> None:
        self.pdf.set_fill_color(*color)
        self.pdf.rect(x, y, w, h, style="F")

    def grid(self, xs: tuple[float, ...], top: float, bottom: float) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*GRID)
        pdf.set_line_width(0.2)
        for x in xs[1:-1]:
            pdf.line(x, top, x, bottom)
        pdf.set_draw_color(*BLACK)
        pdf.set_line_width(0.35)
        pdf.rect(xs[0], top, xs[-1] - xs[0], bottom - top)


def _page_furniture(lay: _Layout, page_no: int, pages: int, qr_png: bytes) -> list[Op]:
    """What every page carries: QR with its caption and text, page number, stamp."""
    s, doc = lay.s, lay.doc
    ops: list[Op] = []
    mod = lay.qr_module
    sym = s.qr_symbol_mm
    sym_x = s.width - s.margin_right - sym
    sym_y = s.height - s.margin_bottom - sym
    qz = QUIET_ZONE * mod
    ops.append(("image", (qr_png, sym_x - qz, sym_y - qz, lay.qr_full)))
    size = s.band_pt
    lines = [
        ("扫码核验", size + 2.5, True),
        (f"公示编号：{doc.code}", size, False),
        (f"版本：第{doc.version}版", size, False),
        (f"核验码：{doc.tag or '草稿，公示后生成'}", size, False),
    ]
    if doc.issued_date:
        lines.append((f"发布日期：{doc.issued_date}", size, False))
    right = sym_x - qz - 1.0
    line_hs = [sz * PT * 1.45 for _t, sz, _b in lines]
    y = sym_y + (sym - sum(line_hs)) / 2
    for (text, sz, bold), lh in zip(lines, line_hs, strict=True):
        w = lay.m.width(text, sz)
        ops.append(("text", (right - w, lay.baseline(y, lh, sz), text, sz, bold, BLACK)))
        y += lh
    label = f"第 {page_no} 页 / 共 {pages} 页"
    ops.append(("text", (s.margin_left, s.height - s.margin_bottom - 1.0, label, size + 1,
                         False, BLACK)))
    if pages > 1 and page_no > 1:
        short = doc.title if len(doc.title) <= 40 else doc.title[:39] + "…"
        ops.append(("text", (s.margin_left, s.height - s.margin_bottom - 1.0 - (size + 1) * PT
                             * 1.6, short, size, False, GREY_TEXT)))
    if doc.stamp:
        ops.extend(_stamp_ops(lay))
    return ops


def _stamp_ops(lay: _Layout) -> list[Op]:
    s, doc = lay.s, lay.doc
    text = doc.stamp.strip()
    head, _sep, tail = text.rpartition(" ")
    if not head:
        head, tail = text, ""
    big = s.band_pt + 8
    small = s.band_pt + 1
    w = max(lay.m.width(head, big), lay.m.width(tail, small)) + 10.0
    h = lay.stamp_h
    x = s.width - s.margin_right - w
    y = s.margin_top
    ops: list[Op] = [("stamp_box", (x, y, w, h))]
    big_h = big * PT * 1.25
    ops.append(("text", (x + (w - lay.m.width(head, big)) / 2,
                         lay.baseline(y + 2.0, big_h, big), head, big, True, STAMP_RED)))
    if tail:
        ops.append(("text", (x + (w - lay.m.width(tail, small)) / 2,
                             lay.baseline(y + 2.0 + big_h, small * PT * 1.4, small), tail,
                             small, False, STAMP_RED)))
    return ops


def _furniture_chars(doc: NoticeDocument) -> str:
    return ("扫码核验公示编号：版本第核验码发布日期页共续/ …0123456789（）草稿，公示后生成" + doc.code + doc.tag
            + doc.issued_date + doc.stamp + doc.title)


def render_pdf(
    doc: NoticeDocument,
    paper: str = "a4",
    font: str | os.PathLike[str] | None = None,
    large: bool | None = None,
) -> bytes:
    """Render a notice to PDF bytes.

    ``font`` is the configured font path (it wins over $VILLAGEBOARD_FONT and the
    system fonts). ``large`` overrides ``doc.large`` when given. Raises PrivacyError
    (nothing rendered) when the gate finds a personal number, VBError when no font can
    print every character."""
    from fpdf import FPDF

    gate_document(doc, _pdf_label(doc))
    if large is not None and large != doc.large:
        doc = doc.replace(large=large)
    s = print_settings(paper, doc.large)
    texts = list(doc.texts())
    texts.append(("版面文字", _furniture_chars(doc)))
    fontset = resolve_fonts(texts, configured=font)
    m = _Metrics(fontset)
    if not all(table_fits(m, t, s.content_width, s.table_min_pt, _CELL_PAD) for t in doc.tables):
        s = print_settings(paper, doc.large, landscape=True)
    matrix = qr_matrix(doc.qr_payload)
    lay = _Layout(doc, s, m, len(matrix))
    pages = lay.run()
    total = len(pages)
    qr_png = _qr_image(matrix)
    furniture = [_page_furniture(lay, i + 1, total, qr_png) for i in range(total)]
    for ops in furniture:
        for name, args in ops:
            if name == "text":
                lay.chars.update(args[2])

    pdf = FPDF(orientation="P", unit="mm", format=(s.width, s.height))  # size already turned
    pdf.set_auto_page_break(False)
    pdf.set_margins(s.margin_left, s.margin_top, s.margin_right)
    pdf.set_title(doc.title)
    pdf.set_subject(f"{doc.code} 第{doc.version}版")
    pdf.set_creator("villageboard 村务公开栏工具包")
    pdf.set_lang("zh-CN")
    created = _creation_date(doc.issued_date)
    if created is not None:
        pdf.set_creation_date(created)

    tmp_files: list[Path] = []
    families: list[str] = []
    try:
        for i, f in enumerate(fontset.fonts):
            chars = [c for c in lay.chars if fontset.font_for(c) == i] if fontset.fallbacks \
                else list(lay.chars)
            data = f.subset([*chars, " "])
            path = _tmp_dir() / f"{uuid.uuid4().hex}{f.suffix}"
            path.write_bytes(data)
            tmp_files.append(path)
            family = f"vbfont{i}"
            pdf.add_font(family, fname=str(path))
            families.append(family)
            # The subset's glyph boxes are already right: spare fontTools recomputing
            # them for every glyph when fpdf2 writes the font (≈ a third of output time).
            ttfont = getattr(pdf.fonts.get(family), "ttfont", None)
            if ttfont is not None:
                ttfont.recalcBBoxes = False
        painter = _Painter(pdf, m, families)
        for page_ops, extra in zip(pages, furniture, strict=True):
            pdf.add_page()
            painter.new_page()
            for name, args in page_ops:
                getattr(painter, name)(*args)
            for name, args in extra:
                if name == "image":
                    png, x, y, side = args
                    pdf.image(io.BytesIO(png), x=x, y=y, w=side, h=side)
                elif name == "stamp_box":
                    _draw_stamp_box(pdf, *args)
                else:
                    getattr(painter, name)(*args)
        out = bytes(pdf.output())
    finally:
        for f in getattr(pdf, "fonts", {}).values():
            close = getattr(f, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    pass
        for path in tmp_files:
            try:
                path.unlink()
            except OSError:
                pass  # Windows may still hold it; the folder is removed at exit
    return out


def _draw_stamp_box(pdf: Any, x: float, y: float, w: float, h: float) -> None:
    pdf.set_draw_color(*STAMP_RED)
    pdf.set_line_width(0.8)
    pdf.rect(x, y, w, h)
    pdf.set_line_width(0.3)
    pdf.rect(x + 1.2, y + 1.2, w - 2.4, h - 2.4)


def _qr_image(matrix: tuple[tuple[bool, ...], ...]) -> bytes:
    """The symbol as a 1-bit PNG, 10 pixels a module: embedded once, placed on every page."""
    from PIL import Image

    n = len(matrix)
    img = Image.new("1", (n, n), 1)
    img.putdata([0 if d else 1 for row in matrix for d in row])
    img = img.resize((n * 10, n * 10), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _creation_date(text: str) -> dt.datetime | None:
    """A fixed creation date (the issue date) makes the same notice render to the same
    bytes, which the archive's checks rely on. Accepts 2026-11-03 or 2026年11月3日."""
    m = re.fullmatch(r"\s*(\d{4})(?:-|年)(\d{1,2})(?:-|月)(\d{1,2})日?\s*", text or "")
    if not m:
        return None
    try:
        d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


# --- batches -------------------------------------------------------------------------------

_WORKER_FONT: str | None = None


def _worker_init(font: str | None) -> None:
    """Each worker process loads the font once; every notice it renders reuses it."""
    global _WORKER_FONT
    _WORKER_FONT = font
    from villageboard.render.fonts import primary_font

    try:
        primary_font(font)
    except Exception:
        pass  # the real error is raised, with its message, by the first render


def _worker_render(doc: NoticeDocument, paper: str, large: bool | None) -> tuple[Any, ...]:
    """Errors travel back as plain tuples: the project's exceptions carry Chinese
    messages and extra fields that pickling across processes would lose."""
    from villageboard.domain.errors import PrivacyError, VBError

    try:
        return ("ok", render_pdf(doc, paper=paper, font=_WORKER_FONT, large=large))
    except PrivacyError as exc:
        return ("privacy", list(exc.findings), _pdf_label(doc))
    except VBError as exc:
        return ("error", str(exc))


def _pdf_label(doc: NoticeDocument) -> str:
    return f"公示《{doc.title}》的PDF"


def _unwrap(result: tuple[Any, ...]) -> bytes:
    from villageboard.domain.errors import PrivacyError, VBError

    if result[0] == "ok":
        return result[1]
    if result[0] == "privacy":
        raise PrivacyError(result[1], result[2])
    raise VBError(result[1])


def _can_spawn() -> bool:
    """A spawned worker re-imports the caller's main script; that is impossible when
    the main program came from stdin or an interactive prompt with a fake file name."""
    import sys

    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or Path(main_file).exists()


def _start_pool(ctx: Any, workers: int, font_arg: str | None) -> ProcessPoolExecutor:
    """Start the worker pool with the real stderr in place. A full-screen app (the TUI)
    replaces ``sys.stderr`` with an object whose file descriptor multiprocessing's
    helper process cannot inherit, which makes starting the pool fail."""
    saved = sys.stderr
    try:
        if getattr(sys, "__stderr__", None) is not None:
            sys.stderr = sys.__stderr__
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                   initargs=(font_arg,))
        # start the workers now, while stderr is the real one
        pool.submit(int).result()
        return pool
    finally:
        sys.stderr = saved


def render_pdf_batch(
    docs: Sequence[NoticeDocument],
    paper: str = "a4",
    large: bool | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    font: str | os.PathLike[str] | None = None,
) -> list[bytes]:
    """Render many notices (e.g. every village of a program) on ``workers`` processes.

    Results come back in the order of ``docs``. ``progress(done, total)`` is called in
    this process after each notice. Every notice is gated; the first failure (privacy,
    font) is raised after the pool stops, so nothing partial is returned."""
    docs = list(docs)
    total = len(docs)
    results: list[bytes | None] = [None] * total
    font_arg = str(font) if font else None
    if progress:
        progress(0, total)
    if workers <= 1 or total <= 1 or not _can_spawn():
        for i, d in enumerate(docs):
            results[i] = render_pdf(d, paper=paper, font=font_arg, large=large)
            if progress:
                progress(i + 1, total)
        return [r for r in results if r is not None]
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    # "spawn" everywhere: the same on Windows, and safe when the caller (the TUI) has
    # threads running, which "fork" is not.
    ctx = multiprocessing.get_context("spawn")
    done = 0
    try:
        pool_cm = _start_pool(ctx, min(workers, total), font_arg)
    except (OSError, ValueError):
        pool_cm = None  # no way to start worker processes here: render in this one
    if pool_cm is None:
        for i, d in enumerate(docs):
            results[i] = render_pdf(d, paper=paper, font=font_arg, large=large)
            if progress:
                progress(i + 1, total)
        return [r for r in results if r is not None]
    try:
        with pool_cm as pool:
            futures = {pool.submit(_worker_render, d, paper, large): i
                       for i, d in enumerate(docs)}
            try:
                for fut in as_completed(futures):
                    results[futures[fut]] = _unwrap(fut.result())
                    done += 1
                    if progress:
                        progress(done, total)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    except BrokenProcessPool:
        # A worker died (out of memory, killed, or no way to start one): finish here.
        for i, d in enumerate(docs):
            if results[i] is None:
                results[i] = render_pdf(d, paper=paper, font=font_arg, large=large)
                done += 1
                if progress:
                    progress(done, total)
    return [r for r in results if r is not None]
