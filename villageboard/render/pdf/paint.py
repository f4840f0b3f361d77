"""The drawing pass of the PDF poster, and :func:`render_pdf`, which runs both passes.

* **Fast fonts.** Only the characters this notice uses are embedded: the
  process-cached face is cut down by :mod:`villageboard.render.ttsubset` in a few
  milliseconds and fpdf2 embeds that small font. Text is placed with ``FPDF.text()``,
  fpdf2's cheapest text path (no per-cell ``multi_cell``), and text shaping stays off.
* **Same notice, same bytes.** The creation date is the issue date.
* **Privacy first.** :func:`render_pdf` runs the privacy gate before any work.

fpdf2 and Pillow are imported on first use.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from villageboard.render.document import NoticeDocument
from villageboard.render.fonts import resolve_fonts
from villageboard.render.pdf.furniture import furniture_chars, page_furniture
from villageboard.render.pdf.layout import (
    BLACK,
    CELL_PAD,
    GRID,
    STAMP_RED,
    Metrics,
    PrintSettings,
    print_settings,
    table_fits,
)
from villageboard.render.pdf.paging import Layout, Op
from villageboard.render.pdf.sums import with_sum_row
from villageboard.render.privacy import gate_document
from villageboard.render.qr import qr_matrix

_TMP_LOCK = threading.Lock()
_TMP_DIR: Path | None = None


def tmp_dir() -> Path:
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

    def __init__(self, pdf: Any, m: Metrics, families: list[str]) -> None:
        self.pdf = pdf
        self.m = m
        self.families = families
        self.color: tuple[int, int, int] | None = None
        self.font: tuple[int, float] | None = None

    def new_page(self) -> None:
        self.font = None  # fpdf2 re-selects the font on each page itself

    def text(self, x: float, y: float, text: str, size: float, bold: bool, color: tuple[int, int, int]) -> None:
        pdf = self.pdf
        if color != self.color:
            pdf.set_text_color(*color)
            self.color = color
        if bold:
            from fpdf.enums import TextMode

            # Faux bold (fill + a thin stroke): CJK fonts ship without a bold face.
            # local_context brackets it in q/Q, which also restores the font afterwards.
            with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=size * 0.028, draw_color=color):
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

    def hline(self, x1: float, x2: float, y: float, width: float, color: tuple[int, int, int]) -> None:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y, x2, y)

    def circle(self, cx: float, cy: float, r: float, color: tuple[int, int, int]) -> None:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(0.3)
        self.pdf.ellipse(cx - r, cy - r, 2 * r, 2 * r)

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


def pdf_label(doc: NoticeDocument) -> str:
    """How the privacy gate names this notice's PDF in its message."""
    return f"{doc.kind_label}《{doc.title}》的PDF"


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
    gate_document(doc, pdf_label(doc))
    if large is not None and large != doc.large:
        doc = doc.replace(large=large)
    return _render([doc], paper, font)


def render_pdf_many(
    docs: Sequence[NoticeDocument],
    paper: str = "a4",
    font: str | os.PathLike[str] | None = None,
) -> bytes:
    """Several documents in one PDF, each starting on a new page and numbered on its
    own (第 1 页 / 共 1 页 on each household's 申报确认表 of a village). Every document
    passes the privacy gate before anything is laid out; one font subset serves all."""
    docs = list(docs)
    if not docs:
        raise ValueError("render_pdf_many needs at least one document")
    for doc in docs:
        gate_document(doc, pdf_label(doc))
    return _render(docs, paper, font)


def _render(docs: list[NoticeDocument], paper: str, font: str | os.PathLike[str] | None) -> bytes:
    """Both passes over documents that have passed the gate."""
    texts = [t for doc in docs for t in doc.texts()]
    texts += [("版面文字", furniture_chars(doc)) for doc in docs]
    fontset = resolve_fonts(texts, configured=font)
    m = Metrics(fontset)
    planned = [_plan(doc, paper, m) for doc in docs]
    first = docs[0]
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=(planned[0][0].width, planned[0][0].height))
    pdf.set_auto_page_break(False)
    pdf.set_title(first.title)
    pdf.set_subject(f"{first.code} 第{first.version}版" if first.qr else first.kind_label)
    pdf.set_creator("villageboard 村务公开栏工具包")
    pdf.set_lang("zh-CN")
    created = _creation_date(first.issued_date)
    if created is not None:
        pdf.set_creation_date(created)
    chars: set[str] = set()
    for _s, lay, _pages, furniture in planned:
        chars |= lay.chars
        for ops in furniture:
            for name, args in ops:
                if name == "text":
                    chars.update(args[2])

    tmp_files: list[Path] = []
    families: list[str] = []
    try:
        for i, f in enumerate(fontset.fonts):
            used = [c for c in chars if fontset.font_for(c) == i] if fontset.fallbacks else list(chars)
            data = f.subset([*used, " "])
            path = tmp_dir() / f"{uuid.uuid4().hex}{f.suffix}"
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
        for s, _lay, pages, furniture in planned:
            pdf.set_margins(s.margin_left, s.margin_top, s.margin_right)
            for page_ops, extra in zip(pages, furniture, strict=True):
                pdf.add_page(format=(s.width, s.height))  # size already turned
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


def _plan(doc: NoticeDocument, paper: str, m: Metrics) -> tuple[PrintSettings, Layout, list[list[Op]], list[list[Op]]]:
    """The layout pass of one document: settings (turned to landscape when a table
    needs it), its pages of operations and each page's furniture."""
    s = print_settings(paper, doc.large, layout=doc.layout)
    if not all(
        table_fits(m, with_sum_row(t, s.page_sums), s.content_width, s.table_min_pt, CELL_PAD, s.word_em)
        for t in doc.tables
    ):
        s = print_settings(paper, doc.large, landscape=True, layout=doc.layout)
    matrix = qr_matrix(doc.qr_payload) if doc.qr else ()
    qr_n = len(matrix) or 29
    lay = Layout(doc, s, m, qr_n)
    pages = lay.run()
    if doc.layout >= 2 and not s.landscape and len(pages) > 1 and lay.wrapped_rows * 20 >= lay.table_rows:
        # Cells wrap on the portrait page (long remarks in a narrow column, in one row
        # of twenty or more): turn the page when that prints the notice on fewer sheets.
        wide = print_settings(paper, doc.large, landscape=True, layout=doc.layout)
        other = Layout(doc, wide, m, qr_n)
        turned = other.run()
        if len(turned) < len(pages):
            s, lay, pages = wide, other, turned
    total = len(pages)
    qr_png = _qr_image(matrix) if matrix else b""
    furniture = [page_furniture(lay, i + 1, total, qr_png) for i in range(total)]
    return s, lay, pages, furniture


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
