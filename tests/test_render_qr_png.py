"""QR payloads (format, parser, no personal data) and PNG pages."""

from __future__ import annotations

import io
import subprocess

import pytest

from tests.conftest_render import need_tool, result_notice
from villageboard.domain.errors import VBError
from villageboard.render.pdf.paint import render_pdf
from villageboard.render.png import pdf_to_pngs
from villageboard.render.qr import parse_qr_payload, qr_matrix, qr_payload, qr_png


def test_offline_payload_round_trip():
    p = qr_payload("141025-2026-0012", 3, "7k2p9qxm4zt3a")
    assert p == "VB1/141025-2026-0012/V3/7K2P9QXM4ZT3A"
    assert parse_qr_payload(p) == ("141025-2026-0012", 3, "7K2P9QXM4ZT3A")
    assert parse_qr_payload("vb1|141025-2026-0012|v3|7k2p9qxm4zt3a") == ("141025-2026-0012", 3, "7K2P9QXM4ZT3A")
    # uses QR alphanumeric characters only, so the symbol stays small
    assert set(p) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def test_portal_payload_round_trip():
    p = qr_payload("141025-2026-0012", 2, "ABC", "https://zw.example.gov.cn/vb/")
    assert p == "https://zw.example.gov.cn/vb/verify?c=141025-2026-0012&v=2&t=ABC"
    assert parse_qr_payload(p) == ("141025-2026-0012", 2, "ABC")
    assert qr_payload("X-1", 1, "T", "https://a.example/verify").startswith("https://a.example/verify?")


@pytest.mark.parametrize(
    "bad", ["", "hello", "VB1/abc", "VB2/a/V1/t", "https://x.example/?c=1", "VB1/141025-2026-0012/Vx/T"]
)
def test_parse_rejects_foreign_codes(bad):
    with pytest.raises(VBError, match="不是本系统"):
        parse_qr_payload(bad)


def test_qr_png_scans(tmp_path):
    zbar = need_tool("zbarimg")
    p = qr_payload("141025-2026-0012", 1, "7K2P9QXM4ZT3A", "https://zw.example.gov.cn")
    path = tmp_path / "q.png"
    path.write_bytes(qr_png(p))
    out = subprocess.run([zbar, "-q", "--raw", str(path)], capture_output=True, text=True).stdout
    assert out.strip() == p
    n = len(qr_matrix(p))
    assert (n - 8 - 17) % 4 == 0  # a real QR version, plus the 4-module quiet zone each side


def test_png_pages_decode_with_pillow():
    from PIL import Image

    pdf = render_pdf(result_notice(60, rare=False, stamp="公示期满存档 2026-12-01"))
    pngs = pdf_to_pngs(pdf)
    import pypdfium2 as pdfium

    assert len(pngs) == len(pdfium.PdfDocument(pdf)) >= 2
    for data in pngs:
        img = Image.open(io.BytesIO(data))
        img.load()
        assert img.format == "PNG"
        short, long = sorted(img.size)  # a wide table prints on a landscape page
        assert 880 <= short <= 940 and 1250 <= long <= 1320  # A4 at ~110 dpi
        rgb = img.convert("RGB")
        colors = {c for _n, c in rgb.getcolors(1 << 16)}
        assert any(r > 150 and g < 80 and b < 80 for r, g, b in colors), "red stamp lost"
    big = pdf_to_pngs(pdf, dpi=150)[0]
    assert Image.open(io.BytesIO(big)).size[0] > 1200
