"""What every page of the PDF poster carries: the QR code with its caption, the page
number, the short title on later pages, and the red archive stamp."""

from __future__ import annotations

from villageboard.render.document import NoticeDocument
from villageboard.render.pdf.layout import BLACK, GREY_TEXT, PT, STAMP_RED
from villageboard.render.pdf.paging import Layout, Op
from villageboard.render.qr import QUIET_ZONE


def page_furniture(lay: Layout, page_no: int, pages: int, qr_png: bytes) -> list[Op]:
    """What every page carries: QR with its caption and text, page number, stamp."""
    s, doc = lay.s, lay.doc
    if not doc.qr:
        return paper_furniture(lay, page_no, pages)
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
    ops.append(("text", (s.margin_left, s.height - s.margin_bottom - 1.0, label, size + 1, False, BLACK)))
    if pages > 1 and page_no > 1:
        short = doc.title if len(doc.title) <= 40 else doc.title[:39] + "…"
        ops.append(
            (
                "text",
                (
                    s.margin_left,
                    s.height - s.margin_bottom - 1.0 - (size + 1) * PT * 1.6,
                    short,
                    size,
                    False,
                    GREY_TEXT,
                ),
            )
        )
    if doc.stamp:
        ops.extend(stamp_ops(lay))
    return ops


def paper_furniture(lay: Layout, page_no: int, pages: int) -> list[Op]:
    """A signed paper's page: its number at the left and its code at the right of the
    bottom line (no QR: it is not a notice to verify)."""
    s, doc = lay.s, lay.doc
    size = s.band_pt + 1
    y = s.height - s.margin_bottom - 1.0
    ops: list[Op] = [("text", (s.margin_left, y, f"第 {page_no} 页 / 共 {pages} 页", size, False, BLACK))]
    if doc.code:
        w = lay.m.width(doc.code, size)
        ops.append(("text", (s.width - s.margin_right - w, y, doc.code, size, False, GREY_TEXT)))
    if pages > 1 and page_no > 1:  # which paper a loose page belongs to
        short = doc.title if len(doc.title) <= 40 else doc.title[:39] + "…"
        ops.append(("text", (s.margin_left, y - size * PT * 1.6, short + "（续）", size - 1, False, GREY_TEXT)))
    if doc.stamp:
        ops.extend(stamp_ops(lay))
    return ops


def stamp_ops(lay: Layout) -> list[Op]:
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
    ops.append(
        ("text", (x + (w - lay.m.width(head, big)) / 2, lay.baseline(y + 2.0, big_h, big), head, big, True, STAMP_RED))
    )
    if tail:
        ops.append(
            (
                "text",
                (
                    x + (w - lay.m.width(tail, small)) / 2,
                    lay.baseline(y + 2.0 + big_h, small * PT * 1.4, small),
                    tail,
                    small,
                    False,
                    STAMP_RED,
                ),
            )
        )
    return ops


def furniture_chars(doc: NoticeDocument) -> str:
    return (
        "扫码核验公示编号：版本第核验码发布日期页共续/ …0123456789,.-（）草稿，公示后生成本页小计"
        + doc.code
        + doc.tag
        + doc.issued_date
        + doc.stamp
        + doc.title
    )
