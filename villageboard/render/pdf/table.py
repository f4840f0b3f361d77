"""One table of the PDF poster flowed over pages: column widths, wrapped cells, rows
with the header repeated and the title marked （续）, the last rows kept on the page of
the totals, and a 本页小计 row at each page break."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from villageboard.render.document import Column, Row, Table
from villageboard.render.pdf.layout import (
    CELL_PAD,
    GRID,
    HEADER_FILL,
    PT,
    SUBTOTAL_FILL,
    TOTAL_FILL,
    ZEBRA_FILL,
    fit_columns,
    wrap,
    wrap_label,
)
from villageboard.render.pdf.sums import column_sum, with_sum_row

if TYPE_CHECKING:
    from villageboard.render.pdf.paging import Layout

_AFTER_INTEGER = re.compile(r"(?<=\d)(?:[.．]\d+)?[^\d]*$")


class TableLayout:
    """One table: widths, wrapped cells, rows flowed over pages with the header repeated."""

    def __init__(self, lay: Layout, table: Table, keep_h: float = 0.0) -> None:
        self.lay = lay
        self.t = table
        self.keep_h = keep_h  # what must follow the last rows on their page (totals, signatures)
        s = lay.s
        self.pad = CELL_PAD
        self.vpad = 0.8
        self.widths, self.size = fit_columns(
            lay.m,
            with_sum_row(table, s.page_sums),
            s.content_width,
            s.table_pt,
            s.table_min_pt,
            self.pad,
            word_em=s.word_em,
        )
        self.line_h = self.size * PT * 1.32
        self.xs = [s.margin_left]
        for w in self.widths:
            self.xs.append(self.xs[-1] + w)
        self.header_lines = [
            wrap_label(lay.m, c.label, w - 2 * self.pad, self.size)
            for c, w in zip(table.columns, self.widths, strict=True)
        ]
        self.header_h = max((len(x) for x in self.header_lines), default=1) * self.line_h + 2 * self.vpad
        self.title_h = (s.body_pt + 1) * PT * 1.6 if table.title else 0.0
        # Numbers line up on their decimal point: 2.4 under 13.76, 27 under 26.4.
        self.frac_max: dict[int, float] = {}
        for ci, col in enumerate(table.columns):
            if col.numeric and col.align == "R":
                self.frac_max[ci] = max((self.frac_width(r.cells[ci]) for r in table.rows), default=0.0)
        self.seg_top = 0.0
        self.data_index = 0
        self.sums = list(table.page_sum) if s.page_sums else []
        self.sum_h = self.line_h + 2 * self.vpad if self.sums else 0.0
        self.page_rows: list[Row] = []
        self.breaks = 0

    def start_page(self, continued: bool) -> None:
        lay = self.lay
        if self.t.title:
            label = self.t.title + ("（续）" if continued else "")
            size = lay.s.body_pt + 1
            lay.text(lay.s.margin_left, lay.baseline(lay.y, self.title_h, size), label, size, bold=True)
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
                lay.text(x, lay.baseline(top + li * self.line_h, self.line_h, self.size), line, self.size, bold=True)
        lay.y += self.header_h
        lay.op("hline", self.xs[0], self.xs[-1], lay.y, 0.3, GRID)

    def close_segment(self) -> None:
        lay = self.lay
        lay.op("grid", tuple(self.xs), self.seg_top, lay.y)

    def run(self) -> None:
        lay = self.lay
        rows = self.t.rows
        max_h = lay.bottom - lay.top - self.title_h - self.header_h - self.sum_h
        laid = [self.layout_row(row, max_h) for row in rows]
        heights = [h for _c, h in laid]
        one_line = self.line_h + 2 * self.vpad + 1e-6
        lay.wrapped_rows += sum(1 for h in heights if h > one_line)
        lay.table_rows += len(rows)
        # The last data rows (three, or all when fewer) stay on the page of the totals.
        # (Fewer when three and the totals are taller than a page: a large-print archive
        # copy on a landscape page.)
        data_at = [i for i, r in enumerate(rows) if r.kind == "data"]
        k, fits_a_page, tail_need = 0, False, 0.0
        for keep in (3, 2, 1):
            k = data_at[-keep] if len(data_at) >= keep else 0
            tail_need = sum(heights[k:]) + self.sum_h + self.keep_h
            fits_a_page = self.keep_h > 0 and tail_need <= max_h + 1e-6
            if fits_a_page:
                break
        first_row_h = heights[0] if rows else 0.0
        need_first = self.title_h + self.header_h + (tail_need if k == 0 and fits_a_page else first_row_h)
        if lay.room() < need_first:
            lay.table = None
            lay.new_page()
            lay.table = self
        self.start_page(continued=False)
        for i, row in enumerate(rows):
            cells, h = laid[i]
            if (
                i == k
                and i > 0
                and fits_a_page
                and self.page_rows
                and lay.y + sum(heights[k:]) + self.sum_h + self.keep_h > lay.bottom + 1e-6
            ):
                self.page_break()
            if lay.y + h + self.sum_h > lay.bottom + 1e-6 and self.page_rows:
                self.page_break()
            if row.kind == "total" and i == len(rows) - 1 and self.breaks:
                self.draw_page_sum()  # this page's sum above the table's total
                self.breaks = 0
            self.draw_row(row, cells, h)
            self.page_rows.append(row)
        if self.breaks:
            self.draw_page_sum()
        self.close_segment()

    def page_break(self) -> None:
        self.draw_page_sum()
        self.close_segment()
        self.breaks += 1
        self.page_rows = []
        self.lay.new_page()  # calls start_page(continued=True)

    def draw_page_sum(self) -> None:
        """The 本页小计 row: the summed columns over this page's data rows."""
        data = [r for r in self.page_rows if r.kind == "data"]
        if not self.sums or not data:
            return
        cells = [""] * len(self.t.columns)
        cells[self.t.page_sum_label] = "本页小计"
        for ci in self.sums:
            cells[ci] = column_sum([r.cells[ci] for r in data])
        row = Row(cells, kind="subtotal")
        laid, h = self.layout_row(row, 1e9)
        self.draw_row(row, laid, h)

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
                    cut = lines[:keep]
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
                lay.text(x0, lay.baseline(top + li * self.line_h, self.line_h, self.size), line, self.size, bold=bold)
        lay.y += h
        lay.op("hline", self.xs[0], self.xs[-1], lay.y, 0.4 if row.kind == "total" else 0.15, GRID)
