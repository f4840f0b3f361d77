"""The layout pass of the PDF poster: the document flowed into pages of drawing operations.

* **Two passes.** This pass measures every string with the font that will be embedded,
  wraps cells, decides page breaks and records drawing operations; the drawing pass
  (:mod:`villageboard.render.pdf.paint`) replays them. The page count is therefore known
  before anything is drawn, so every page prints "第 N 页 / 共 M 页" without fpdf2's alias
  substitution.
* **Tables over pages.** Rows flow over pages with the header repeated and the title
  marked （续）; a cell taller than a page is cut with "…".
* **On every page:** the page number, the QR code (error correction Q, 4-module quiet
  zone, symbol ≥ 25 mm wide) captioned 扫码核验 with the code, version and tag beside it,
  and the red archive stamp when ``doc.stamp`` is set
  (:mod:`villageboard.render.pdf.furniture`).

Each table is flowed by :mod:`villageboard.render.pdf.table`, its page sums written by
:mod:`villageboard.render.pdf.sums`.
"""

from __future__ import annotations

from typing import Any

from villageboard.domain.dates import cn_date
from villageboard.render.document import NoticeDocument, Table
from villageboard.render.pdf.layout import (
    BLACK,
    GREY_TEXT,
    PANEL_FILL,
    PT,
    Metrics,
    PrintSettings,
    clean_text,
    wrap,
)
from villageboard.render.pdf.signing import draw_signatures, signatures_height
from villageboard.render.pdf.table import TableLayout
from villageboard.render.qr import QUIET_ZONE

Op = tuple[str, tuple[Any, ...]]


class Layout:
    """Flows the document into pages of drawing operations."""

    def __init__(self, doc: NoticeDocument, s: PrintSettings, m: Metrics, qr_n: int) -> None:
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
        if not doc.qr:  # a signed paper: only the page number and its code below the text
            self.bottom = s.height - s.margin_bottom - (s.band_pt + 1) * PT * 4.0
        self.stamp_h = 0.0
        if doc.stamp:
            self.stamp_h = (s.band_pt + 8) * PT * 1.25 + s.band_pt * PT * 1.4 + 4.0
        self.top = s.margin_top + (self.stamp_h + 3.0 if doc.stamp else 0.0)
        self.y = self.top
        self.table: TableLayout | None = None
        self.wrapped_rows = 0  # table rows taller than one line
        self.table_rows = 0

    # recording -----------------------------------------------------------------------
    def op(self, name: str, *args: Any) -> None:
        self.pages[-1].append((name, args))

    def text(
        self, x: float, y: float, text: str, size: float, bold: bool = False, color: tuple[int, int, int] = BLACK
    ) -> None:
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
    def lines_block(
        self,
        text: str,
        size: float,
        align: str = "L",
        bold: bool = False,
        leading: float = 1.5,
        indent_em: float = 0.0,
        color: tuple[int, int, int] = BLACK,
    ) -> None:
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
        if s.layout >= 2:
            self.title_block(doc.title)
        else:  # as notices posted in layout 1 were printed
            self.lines_block(doc.title, s.title_pt, align="C", bold=True, leading=1.35)
        if doc.subtitle:
            self.y += 0.5
            self.lines_block(doc.subtitle, s.subtitle_pt, align="C", leading=1.4, color=GREY_TEXT)
        self.y += 3.0
        if doc.panel:
            self.panel()
            self.y += 3.0
        for p in doc.paragraphs:
            self.lines_block(p, s.body_pt, leading=1.6, indent_em=2.0)
            self.y += 1.2
        for i, table in enumerate(doc.tables):
            self.y += 2.5
            last = i == len(doc.tables) - 1
            keep = self.ending_height() if last and s.layout >= 2 else 0.0
            after = doc.tables[i + 1 :]
            if s.layout >= 2 and table.page_sum and after and not any(t.page_sum for t in after):
                # a short list after the counted one (e.g. the applications not passed)
                # stays on the page of its last rows, with the totals
                tail = self.ending_height() + sum(self.table_height(t) for t in after)
                if tail <= (self.bottom - self.top) / 2:
                    keep = tail
            self.table = TableLayout(self, table, keep_h=keep)
            self.table.run()
            self.table = None
        self.ending()
        return self.pages

    def table_height(self, table: Table) -> float:
        """The height of a whole table on one page (title, header and rows)."""
        t = TableLayout(self, table)
        max_h = self.bottom - self.top
        return 2.5 + t.title_h + t.header_h + sum(t.layout_row(r, max_h)[1] for r in table.rows)

    def title_block(self, text: str) -> None:
        """The title on one line, shrunk by up to a fifth when that is enough; else
        broken between words (after the village, the year, the program), never inside
        one ("涉农/补贴资金")."""
        s = self.s
        size = s.title_pt
        width = s.content_width
        lines = [text]
        if self.m.width(text, size) > width:
            fit = width / self.m.width(text, 1.0)
            if fit >= s.title_pt * 0.8:
                size = min(size, int(fit * 2) / 2)
            else:
                lines = word_break(self.m, text, width, size) or self.balanced(text, size, 2)
        line_h = size * PT * 1.35
        for line in lines:
            self.ensure(line_h)
            w = self.m.width(line, size)
            self.text(s.margin_left + (width - w) / 2, self.baseline(self.y, line_h, size), line, size, True)
            self.y += line_h

    def panel(self) -> None:
        """The key panel: a boxed block of the facts a villager looks for first, large."""
        s, doc = self.s, self.doc
        size = s.panel_pt
        pad = 3.0
        inner = s.content_width - 2 * pad
        line_h = size * PT * 1.45
        wrapped = [wrap(self.m, line, inner, size) for line in doc.panel]
        h = sum(len(w) for w in wrapped) * line_h + 2 * pad
        top = self.y
        x0, x1 = s.margin_left, s.margin_left + s.content_width
        self.op("fill", x0, top, x1 - x0, h, PANEL_FILL)
        self.op("grid", (x0, x1), top, top + h)
        y = top + pad
        for line, lines in zip(doc.panel, wrapped, strict=True):
            bold = line.startswith(("户数", "大写", "异议截止"))
            for piece in lines:
                self.text(x0 + pad, self.baseline(y, line_h, size), piece, size, bold)
                y += line_h
        self.y = top + h

    def _sign_lines(self) -> list[str]:
        doc = self.doc
        return [*doc.issuers, cn_date(doc.issued_date)] if doc.issuers else []

    def _seal_grid(self) -> tuple[float, int, float]:
        """With seal spaces: each issuer's cell width, cells per row, and the height of
        the block (a row of seal circles over the issuers' names, then the date)."""
        s, doc = self.s, self.doc
        size = s.body_pt + 0.5
        line_h = size * PT * 1.6
        names = max((self.m.width(u, size) for u in doc.issuers), default=0.0)
        cell_w = min(s.content_width, max(SEAL_MM + 8.0, names + 8.0))
        per_row = max(1, int(s.content_width // cell_w))
        rows = -(-len(doc.issuers) // per_row)
        return cell_w, per_row, rows * (SEAL_MM + 2.0) + line_h + 6.0

    def _seals(self) -> None:
        """For each issuer a light circle, （盖章） in its upper half and the issuer's name
        across its lower half (where the seal goes on a real notice), right-aligned in
        rows, and the issue date under them all."""
        s, doc = self.s, self.doc
        size = s.body_pt + 0.5
        line_h = size * PT * 1.6
        cell_w, per_row, block_h = self._seal_grid()
        self.ensure(block_h)
        self.y += 6.0
        right = s.margin_left + s.content_width
        mark_w = self.m.width(SEAL_MARK, size)
        for start in range(0, len(doc.issuers), per_row):
            units = doc.issuers[start : start + per_row]
            x = right - len(units) * cell_w
            for unit in units:
                cx, cy = x + cell_w / 2, self.y + SEAL_MM / 2
                self.op("circle", cx, cy, SEAL_MM / 2, SEAL_LINE)
                self.text(cx - mark_w / 2, self.baseline(cy - line_h, line_h, size), SEAL_MARK, size, False, SEAL_TEXT)
                w = self.m.width(unit, size)
                self.text(cx - w / 2, self.baseline(cy + 1.0, line_h, size), unit, size)
                x += cell_w
            self.y += SEAL_MM + 2.0
        self.lines_block(cn_date(doc.issued_date), size, align="R", leading=1.6)

    def _side_by_side(self) -> bool:
        """Whether the signature block fits to the right of the footer lines (a wide
        page): the ending is then shorter by the signature's height."""
        s, doc = self.s, self.doc
        sign = self._sign_lines()
        if not (s.compact_ending and sign and doc.footer_lines) or doc.seals:
            return False
        footer_w = max(self.m.width(clean_text(t), s.body_pt) for t in doc.footer_lines)
        sign_w = max(self.m.width(t, s.body_pt + 0.5) for t in sign)
        return footer_w + sign_w + 12.0 <= s.content_width

    def ending_height(self) -> float:
        s, doc = self.s, self.doc
        totals_h = sum(self.block_height(t, s.totals_pt, 1.5) for t in doc.totals_lines)
        footer_h = sum(self.block_height(t, s.body_pt, 1.55) for t in doc.footer_lines)
        sign_lines = self._sign_lines()
        sign_h = len(sign_lines) * (s.body_pt + 0.5) * PT * 1.6 + (6.0 if sign_lines else 0.0)
        if doc.seals and doc.issuers:
            sign_h = self._seal_grid()[2]
        lower = max(footer_h + 3.0, sign_h) if self._side_by_side() else footer_h + 3.0 + sign_h
        lower += signatures_height(self)
        return totals_h + lower + 5.0 + (3.0 if doc.totals_lines else 0.0)

    def ending(self) -> None:
        """Totals, footer lines and the signature block, kept together when they fit on
        one page, so the notice does not end with a lone date on a new sheet (the last
        table already keeps its last rows with them). On a wide page the signature
        block stands to the right of the footer lines."""
        s, doc = self.s, self.doc
        totals_h = sum(self.block_height(t, s.totals_pt, 1.5) for t in doc.totals_lines)
        sign_lines = self._sign_lines()
        need = self.ending_height()
        if need <= self.bottom - self.top and self.y + need > self.bottom:
            self.new_page()
        if doc.totals_lines:
            self.y += 3.0
            self.ensure(totals_h / max(1, len(doc.totals_lines)) + 1.0)
            self.op("hline", s.margin_left, s.margin_left + s.content_width, self.y, 0.4, BLACK)
            self.y += 1.5
            for t in doc.totals_lines:
                self.lines_block(t, s.totals_pt, bold=True, leading=1.5)
        side = self._side_by_side()
        top = self.y + 3.0
        if doc.footer_lines:
            self.y += 3.0
            for t in doc.footer_lines:
                self.lines_block(t, s.body_pt, leading=1.55)
        if sign_lines and doc.seals:
            self._seals()
        elif sign_lines:
            if side:
                below = self.y
                self.y = top
            else:
                self.y += 6.0
            for t in sign_lines:
                self.lines_block(t, s.body_pt + 0.5, align="R", leading=1.6)
            if side:
                self.y = max(self.y, below)
        draw_signatures(self)


#: The seal space beside each issuer: a light circle this wide (mm), marked （盖章）.
SEAL_MM = 30.0
SEAL_MARK = "（盖章）"
SEAL_LINE = (170, 170, 170)
SEAL_TEXT = (150, 150, 150)

#: Where a title may break: after these words (the place, the year, the program).
_TITLE_BREAKS = ("镇", "乡", "村", "社区", "年度", "补贴", "补偿", "资金", "结果", "）")


def word_break(m: Metrics, text: str, width: float, size: float) -> list[str]:
    """Two lines split after a whole word (see ``_TITLE_BREAKS``), the most even split
    whose lines both fit; [] when there is none."""
    best: tuple[float, list[str]] | None = None
    for word in _TITLE_BREAKS:
        start = 0
        while (i := text.find(word, start)) >= 0:
            cut = i + len(word)
            start = i + 1
            head, tail = text[:cut], text[cut:]
            if not tail or tail[0] in "（(":
                continue
            wh, wt = m.width(head, size), m.width(tail, size)
            if wh <= width and wt <= width and (best is None or max(wh, wt) < best[0]):
                best = (max(wh, wt), [head, tail])
    return best[1] if best else []
