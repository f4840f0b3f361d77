"""PDF pages -> PNG images for village chat groups (pypdfium2).

The PNGs are rasterised from the already gated PDF, so they can never show more than
the PDF does. ~110 dpi keeps an A4 page readable on a phone when zoomed (≈ 910 × 1290
pixels) while staying small enough to forward in a chat group.
"""

from __future__ import annotations

import io

DEFAULT_DPI = 110


def pdf_to_pngs(
    pdf_bytes: bytes,
    dpi: float = DEFAULT_DPI,
    scale: float | None = None,
    compress_level: int = 3,
    palette: bool = True,
) -> list[bytes]:
    """Render every page of a PDF to PNG bytes. ``scale`` (pixels per PDF point)
    overrides ``dpi`` when given. Pages are rendered in colour (the archive stamp is
    red); with ``palette`` they are reduced to 16 colours, which keeps text edges smooth
    and makes a page about a third of the size (≈ 90 KB) for forwarding in chat
    groups, and is faster to encode than full colour."""
    import pypdfium2 as pdfium

    factor = scale if scale is not None else dpi / 72.0
    out: list[bytes] = []
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        for i in range(len(doc)):
            page = doc[i]
            try:
                bitmap = page.render(scale=factor, may_draw_forms=False)
                image = bitmap.to_pil()
                if palette:
                    from PIL import Image

                    image = image.quantize(colors=16, method=Image.Quantize.FASTOCTREE)
                buf = io.BytesIO()
                image.save(buf, format="PNG", compress_level=compress_level)
                out.append(buf.getvalue())
            finally:
                page.close()
    finally:
        doc.close()
    return out


#: How far up from the bottom edge a page's QR band reaches (QR, its caption, margin).
QR_BAND_MM = 50.0


def long_png(pdf_bytes: bytes, dpi: float = DEFAULT_DPI) -> bytes:
    """One tall image of every page, for a village chat group: the QR band of page 1
    (QR code, 扫码核验, code and tag) at the top, then the pages one under the other,
    so the QR is at the top and at the bottom."""
    import pypdfium2 as pdfium
    from PIL import Image

    factor = dpi / 72.0
    images = []
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        for i in range(len(doc)):
            page = doc[i]
            try:
                images.append(page.render(scale=factor, may_draw_forms=False).to_pil().convert("RGB"))
            finally:
                page.close()
    finally:
        doc.close()
    first = images[0]
    band_h = min(first.height, round(QR_BAND_MM / 25.4 * dpi))
    band = first.crop((first.width * 2 // 5, first.height - band_h, first.width, first.height))
    width = max(im.width for im in images)
    gap = max(2, round(dpi / 25.4 * 2))  # a 2 mm grey line between pages
    height = band.height + sum(im.height + gap for im in images)
    out = Image.new("RGB", (width, height), (255, 255, 255))
    out.paste(band, (width - band.width, 0))
    y = band.height
    for im in images:
        out.paste((200, 200, 200), (0, y, width, y + gap))
        y += gap
        out.paste(im, (0, y))
        y += im.height
    out = out.quantize(colors=16, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    out.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def png_outputs(stem: str, pdf_bytes: bytes, dpi: float = DEFAULT_DPI, long: bool = False) -> list[tuple[str, bytes]]:
    """The PNG files of a notice: one per page, or one tall image (``long``)."""
    if long:
        return [(f"{stem}-长图.png", long_png(pdf_bytes, dpi))]
    pngs = pdf_to_pngs(pdf_bytes, dpi=dpi)
    return [(f"{stem}.png" if len(pngs) == 1 else f"{stem}-{i}.png", png) for i, png in enumerate(pngs, 1)]


def check_dpi(dpi: float) -> float:
    if not 72 <= dpi <= 600:
        from villageboard.domain.errors import VBError

        raise VBError(f"图片分辨率应在72到600之间（现在是{dpi:g}）。")
    return dpi


def render_pngs(
    doc: object, paper: str = "a4", large: bool | None = None, font: str | None = None, dpi: float = DEFAULT_DPI
) -> list[bytes]:
    """NoticeDocument -> PNG pages (gated, via the PDF)."""
    from villageboard.render.pdf.paint import render_pdf

    return pdf_to_pngs(render_pdf(doc, paper=paper, font=font, large=large), dpi=dpi)  # type: ignore[arg-type]
