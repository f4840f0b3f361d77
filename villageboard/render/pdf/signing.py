"""The signature blanks of a signed paper (申报确认表, 发放清册, the county sheet): each
label followed by a line to sign or write on, laid out in rows, tall enough for a
signature, a thumbprint or a seal pressed over it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from villageboard.render.pdf.layout import BLACK, PT

if TYPE_CHECKING:
    from villageboard.render.pdf.paging import Layout

#: height of one row of blanks (mm): room for a signature and a thumbprint
ROW_MM = 15.0
#: the shortest line left to write on (mm) when choosing how many blanks share a row
MIN_LINE_MM = 32.0
GAP_MM = 6.0


def _size(lay: Layout) -> float:
    return lay.s.body_pt + 0.5


def _per_row(lay: Layout) -> int:
    """As many blanks a row (at most three) as leave each a line of ``MIN_LINE_MM``."""
    labels = lay.doc.signatures
    size = _size(lay)
    widest = max((lay.m.width(f"{t}：", size) for t in labels), default=0.0)
    for n in (3, 2):
        if len(labels) >= n and lay.s.content_width / n - GAP_MM - widest >= MIN_LINE_MM:
            return n
    return 1


def signatures_height(lay: Layout) -> float:
    labels = lay.doc.signatures
    if not labels:
        return 0.0
    rows = -(-len(labels) // _per_row(lay))
    return 4.0 + rows * ROW_MM


def draw_signatures(lay: Layout) -> None:
    """The blanks, row by row, each line running to the end of its cell."""
    labels = lay.doc.signatures
    if not labels:
        return
    s = lay.s
    size = _size(lay)
    per_row = _per_row(lay)
    cell_w = s.content_width / per_row
    lay.ensure(signatures_height(lay))
    lay.y += 4.0
    line_h = size * PT * 1.6
    for start in range(0, len(labels), per_row):
        lay.ensure(ROW_MM)
        for j, label in enumerate(labels[start : start + per_row]):
            x = s.margin_left + j * cell_w
            text = f"{label}："
            base = lay.baseline(lay.y + ROW_MM - line_h - 1.0, line_h, size)
            lay.text(x, base, text, size)
            x1 = x + lay.m.width(text, size) + 1.0
            x2 = x + cell_w - GAP_MM
            if x2 > x1:
                lay.op("hline", x1, x2, base + 1.0, 0.3, BLACK)
        lay.y += ROW_MM
