"""The PDF poster: text, fonts, pages, header, totals, QR on every page, large print,
archive stamp, paper sizes, batches."""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest_render import (
    CODE,
    DOT_NAMES,
    RARE_NAME,
    TAG,
    correction_notice,
    name_in_text,
    need_tool,
    pdftotext,
    result_notice,
    squash,
    summary_notice,
)
from villageboard.domain.errors import PrivacyError, VBError
from villageboard.render import fonts
from villageboard.render.pdf.batch import render_pdf_batch
from villageboard.render.pdf.layout import print_settings
from villageboard.render.pdf.paint import render_pdf
from villageboard.render.qr import parse_qr_payload, qr_matrix

MM_PER_PT = 25.4 / 72


def rare_name_printable() -> bool:
    try:
        fonts.resolve_fonts([("测试", RARE_NAME)])
    except VBError:
        return False
    return True


@pytest.fixture(scope="module")
def notice():
    return result_notice(400, rare=rare_name_printable())


@pytest.fixture(scope="module")
def pdf(notice) -> bytes:
    return render_pdf(notice)


@pytest.fixture(scope="module")
def page_count(pdf) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def test_text_has_title_every_name_and_exact_totals(notice, pdf, tmp_path):
    text = squash(pdftotext(pdf, tmp_path))
    assert squash(notice.title) in text
    names = [row.cells[2] for row in notice.tables[0].rows]
    missing = [n for n in names if not name_in_text(n, text)]
    assert not missing, f"names not found in the PDF text: {missing[:10]}"
    for dotted in DOT_NAMES:
        assert name_in_text(dotted, text)
    if rare_name_printable():
        assert RARE_NAME in text
    for line in notice.totals_lines:
        assert squash(line) in text
    assert "人民币" in text and "元" in text


def test_font_is_embedded_subset(pdf, tmp_path):
    exe = need_tool("pdffonts")
    src = tmp_path / "n.pdf"
    src.write_bytes(pdf)
    out = subprocess.run([exe, str(src)], capture_output=True, text=True, check=True).stdout
    rows = [ln for ln in out.splitlines()[2:] if ln.strip()]
    assert rows, out
    for ln in rows:
        cols = ln.split()
        # name type... encoding emb sub uni object ID
        assert cols[-5] == "yes", f"font not embedded: {ln}"
        assert cols[-4] == "yes", f"font not subset: {ln}"


def test_every_page_has_number_and_repeated_header(pdf, page_count, tmp_path):
    assert page_count > 1
    for n in range(1, page_count + 1):
        text = pdftotext(pdf, tmp_path, first=n, last=n)
        assert f"第 {n} 页 / 共 {page_count} 页" in text
        flat = squash(text)
        if n < page_count or "户主姓名" in flat:  # the last page may hold only totals
            for label in ("序号", "户主姓名", "身份证号", "补贴金额"):
                assert label in flat, f"header {label} missing on page {n}"
        assert "扫码核验" in flat
        assert CODE in flat and TAG in flat


def test_qr_decodes_on_every_page(notice, pdf, page_count, tmp_path):
    pdftoppm = need_tool("pdftoppm")
    zbarimg = need_tool("zbarimg")
    src = tmp_path / "n.pdf"
    src.write_bytes(pdf)
    # Page 1 as a whole page, as a phone would see the poster...
    subprocess.run(
        [pdftoppm, "-r", "150", "-gray", "-png", "-f", "1", "-l", "1", str(src), str(tmp_path / "full")], check=True
    )
    # ...and the lower right part of every page (poppler draws CJK text slowly, and the
    # symbol sits there on every page by design).
    import pypdfium2 as pdfium

    pw, ph = pdfium.PdfDocument(pdf)[0].get_size()  # a wide table turns the page
    w, h = round(pw / 72 * 150), round(ph / 72 * 150)
    subprocess.run(
        [
            pdftoppm,
            "-r",
            "150",
            "-gray",
            "-png",
            "-x",
            str(w * 2 // 5),
            "-y",
            str(h * 3 // 5),
            "-W",
            str(w - w * 2 // 5),
            "-H",
            str(h - h * 3 // 5),
            str(src),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    images = sorted(tmp_path.glob("full-*.png")) + sorted(tmp_path.glob("p-*.png"))
    assert len(images) == page_count + 1
    for img in images:
        res = subprocess.run([zbarimg, "-q", "--raw", str(img)], capture_output=True, text=True)
        decoded = [ln for ln in res.stdout.splitlines() if ln.strip()]
        assert decoded == [notice.qr_payload], f"{img.name}: {res.stdout!r} {res.stderr!r}"
        assert parse_qr_payload(decoded[0]) == (CODE, 1, TAG)


def _image_bounds(pdf: bytes) -> list[list[tuple[float, float, float, float]]]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    out = []
    doc = pdfium.PdfDocument(pdf)
    try:
        for page in doc:
            boxes = []
            for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE]):
                boxes.append(obj.get_bounds())
            out.append(boxes)
            page.close()
    finally:
        doc.close()
    return out


def test_qr_is_at_least_25mm_with_quiet_zone(notice, pdf):
    n = len(qr_matrix(notice.qr_payload))
    # the matrix carries the 4-module quiet zone, all light, on every side
    matrix = qr_matrix(notice.qr_payload)
    for k in range(4):
        assert not any(matrix[k]) and not any(matrix[n - 1 - k])
        assert not any(row[k] for row in matrix) and not any(row[n - 1 - k] for row in matrix)
    for boxes in _image_bounds(pdf):
        assert len(boxes) == 1
        left, bottom, right, top = boxes[0]
        width_mm = (right - left) * MM_PER_PT
        symbol_mm = width_mm * (n - 8) / n
        assert symbol_mm >= 25.0, symbol_mm
        assert abs((top - bottom) - (right - left)) < 0.5


def test_qr_error_correction_is_q():
    import qrcode
    from qrcode.constants import ERROR_CORRECT_Q

    payload = "VB1/141025-2026-0012/V1/7K2P9QXM4ZT3A"
    ref = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=4)
    ref.add_data(payload)
    ref.make(fit=True)
    assert qr_matrix(payload) == tuple(tuple(bool(v) for v in r) for r in ref.get_matrix())


def _text_sizes(pdf: bytes, needle: str) -> list[float]:
    """Font sizes (pt) of text objects containing ``needle``."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    sizes = []
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        textpage = page.get_textpage()
        for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT]):
            n = raw.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
            buf = ctypes.create_string_buffer(n)
            raw.FPDFTextObj_GetText(obj.raw, textpage.raw, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)), n)
            text = buf.raw[: n - 2].decode("utf-16-le", errors="replace")
            if needle in text:
                size = ctypes.c_float()
                raw.FPDFTextObj_GetFontSize(obj.raw, ctypes.byref(size))
                sizes.append(size.value)
        textpage.close()
        page.close()
    finally:
        doc.close()
    return sizes


def test_large_print_body_at_least_14pt(notice, tmp_path):
    s = print_settings("a4", large=True)
    assert s.body_pt >= 14 and s.table_pt >= 14 and s.table_min_pt >= 14 and s.totals_pt >= 14
    normal = print_settings("a4", large=False)
    assert normal.table_pt >= 12 and normal.table_min_pt >= 12 and normal.body_pt >= 12
    assert normal.panel_pt >= 14 and s.panel_pt >= 14
    posted_before = print_settings("a4", large=False, layout=1)  # reprints as posted
    assert 10 <= posted_before.body_pt <= 11 and posted_before.table_pt == 10.5
    doc = result_notice(60, rare=False)
    pdf = render_pdf(doc, large=True)
    first_name = doc.tables[0].rows[0].cells[2]
    sizes = _text_sizes(pdf, first_name)
    assert sizes and min(sizes) >= 14.0, sizes
    para_sizes = _text_sizes(pdf, "根据")
    assert para_sizes and min(para_sizes) >= 14.0
    text = squash(pdftotext(pdf, tmp_path))
    for row in doc.tables[0].rows:
        assert name_in_text(row.cells[2], text), row.cells[2]
    normal_sizes = _text_sizes(render_pdf(doc), first_name)
    assert normal_sizes and max(normal_sizes) < 14.0


def test_archive_stamp_on_every_page(tmp_path):
    doc = result_notice(80, rare=False, stamp="公示期满存档 2026-12-01")
    pdf = render_pdf(doc)
    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(pdf))
    assert pages > 1
    for n in range(1, pages + 1):
        flat = squash(pdftotext(pdf, tmp_path, first=n, last=n))
        assert "公示期满存档" in flat and "2026-12-01" in flat
    plain = squash(pdftotext(render_pdf(result_notice(80, rare=False)), tmp_path))
    assert "公示期满存档" not in plain


def test_a3_paper_and_unknown_paper():
    import pypdfium2 as pdfium

    for paper, (want_w, want_h) in (("a4", (210, 297)), ("a3", (297, 420))):
        doc = result_notice(30, rare=False)
        page = pdfium.PdfDocument(render_pdf(doc, paper=paper))[0]
        w, h = page.get_size()
        s = print_settings(paper, landscape=w > h)  # the remark column turns an A4 page
        assert sorted((round(w * MM_PER_PT), round(h * MM_PER_PT))) == [want_w, want_h]
        assert (s.width, s.height) == pytest.approx((w * MM_PER_PT, h * MM_PER_PT), abs=0.01)
    with pytest.raises(VBError, match="a4 或 a3"):
        render_pdf(result_notice(5, rare=False), paper="letter")


def test_same_notice_same_bytes():
    doc = result_notice(50, rare=False)
    assert render_pdf(doc) == render_pdf(doc)


def test_long_cells_wrap_and_never_overflow(tmp_path):
    long_remark = "因土地承包经营权确权登记后面积发生变化，" * 3 + "经村民代表大会讨论通过。"
    huge = "很长的备注" * 400  # taller than a page: must be cut, not crash or overflow
    doc = result_notice(40, rare=False, remark={2: long_remark, 3: huge})
    pdf = render_pdf(doc)
    import pypdfium2 as pdfium

    # in drawing order: poppler may read a narrow cell's lines beside its neighbours'
    pages = pdfium.PdfDocument(pdf)
    text = squash("".join(pages[i].get_textpage().get_text_range() for i in range(len(pages))))
    assert squash(long_remark) in text
    assert "…" in text
    import pypdfium2.raw as raw

    # no text object may leave the page's printable width
    pdoc = pdfium.PdfDocument(pdf)
    s = print_settings("a4", landscape=pdoc[0].get_size()[0] > pdoc[0].get_size()[1])
    for page in pdoc:
        for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT]):
            left, _b, right, _t = obj.get_bounds()
            assert left >= (s.margin_left - 4) / MM_PER_PT
            assert right <= (s.width - s.margin_right + 4) / MM_PER_PT


def test_summary_and_correction_render(tmp_path):
    summary = render_pdf(summary_notice())
    text = squash(pdftotext(summary, tmp_path))
    assert "耕地地力保护补贴小计" in text and "全部项目合计" in text
    corr = render_pdf(correction_notice())
    text = squash(pdftotext(corr, tmp_path))
    assert "更正内容" in text and "张玮" in text and "21.5" in text and "发放明细" in text


def test_render_refuses_personal_numbers_before_rendering():
    doc = result_notice(10, rare=False, remark={4: "身份证号11010519491231002X"})
    with pytest.raises(PrivacyError) as info:
        render_pdf(doc)
    assert "“备注”" in str(info.value) and "11010519491231002X" not in str(info.value)


RARE = RARE_NAME[0]  # 𠮷, U+20BB7


def _fonts_for_rare_notice(doc, tmp_path: Path) -> tuple[Path, Path]:
    """Two fonts cut from the installed CJK font: ``main`` has every character of the
    notice but 𠮷; ``extra`` has those and a 𠮷 (吉's glyph under U+20BB7's code)."""
    import io

    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

    from villageboard.render.pdf.furniture import furniture_chars

    fonts.clear_cache()  # what an earlier test learnt about 𠮷 and the system fonts
    src = fonts.primary_font()
    if not src.face.is_truetype:
        pytest.skip("需要 TrueType 字体来制作测试字体")
    chars = {ord(c) for _w, t in doc.texts() for c in t} | {ord(c) for c in furniture_chars(doc)}
    chars |= set(range(0x20, 0x7F)) | {ord("吉")}
    chars.discard(ord(RARE))
    main = tmp_path / "main.ttf"
    main.write_bytes(src.face.subset(chars))
    font = TTFont(io.BytesIO(main.read_bytes()))
    table = font["cmap"].getcmap(3, 10)
    if table is None:
        table = CmapSubtable.newSubtable(12)
        table.platformID, table.platEncID, table.language = 3, 10, 0
        table.cmap = dict(font.getBestCmap())
        font["cmap"].tables.append(table)
    table.cmap[ord(RARE)] = font.getBestCmap()[ord("吉")]
    extra = tmp_path / "extra.ttf"
    font.save(str(extra))
    return main, extra


def test_rare_character_in_no_font_is_reported_with_row_and_field(tmp_path, monkeypatch):
    doc = result_notice(12, rare=True)
    main, _extra = _fonts_for_rare_notice(doc, tmp_path)
    monkeypatch.setattr(fonts, "system_fonts", lambda: [main])
    with pytest.raises(VBError, match=r"“𠮷”（U\+20BB7）：第6行 𠮷祥 “户主姓名”"):
        render_pdf(doc, font=main)


def test_rare_character_prints_from_a_fallback_font(tmp_path, monkeypatch):
    import pypdfium2 as pdfium

    doc = result_notice(12, rare=True)
    main, extra = _fonts_for_rare_notice(doc, tmp_path)
    monkeypatch.setattr(fonts, "system_fonts", lambda: [main, extra])
    pdf = render_pdf(doc, font=main)
    page = pdfium.PdfDocument(pdf)[0]
    assert RARE_NAME in page.get_textpage().get_text_range()
    assert pdf.count(b"/FontFile2") == 2  # the main font and the fallback, both embedded


def test_unprintable_character_is_reported_with_where():
    nowhere = None
    for ch in ("\ue000", "\U0003134a", "\U0002ebf0", "\U000f0000"):
        try:
            fonts.resolve_fonts([("x", ch)])
        except VBError:
            nowhere = ch
            break
    if nowhere is None:
        pytest.skip("本机每个候选字都有字体覆盖")
    doc = result_notice(10, rare=False, remark={4: f"字{nowhere}"})
    with pytest.raises(VBError) as info:
        render_pdf(doc)
    msg = str(info.value)
    assert f"U+{ord(nowhere):04X}" in msg and "第4行" in msg and "“备注”" in msg


def test_batch_uses_workers_keeps_order_and_reports_progress():
    docs = [result_notice(30, seed=s, rare=False).replace(title=f"第{s}号测试公示") for s in range(3)]
    calls: list[tuple[int, int]] = []
    out = render_pdf_batch(docs, workers=2, progress=lambda d, t: calls.append((d, t)))
    assert len(out) == 3 and all(b.startswith(b"%PDF") for b in out)
    assert calls[-1] == (3, 3)
    for s, b in enumerate(out):
        assert b == render_pdf(docs[s])


def test_batch_stops_on_privacy_failure():
    bad = result_notice(10, rare=False, remark={2: "电话13812345678"})
    with pytest.raises(PrivacyError):
        render_pdf_batch([result_notice(10, rare=False), bad], workers=2)


def test_columns_fit_page_width():
    from villageboard.render.pdf.layout import Metrics, fit_columns, table_fits

    doc = result_notice(100, rare=False)
    m = Metrics(fonts.resolve_fonts(doc.texts()))
    s = print_settings("a4")
    # a remark column does not fit across a portrait page at 12 pt: the page turns
    assert not table_fits(m, doc.tables[0], s.content_width, s.table_min_pt, 1.2)
    s = print_settings("a4", landscape=True)
    assert table_fits(m, doc.tables[0], s.content_width, s.table_min_pt, 1.2)
    widths, size = fit_columns(m, doc.tables[0], s.content_width, s.table_pt, s.table_min_pt, 1.2)
    assert abs(sum(widths) - s.content_width) < 0.01
    assert size >= s.table_min_pt
    # the masked ID column is wide enough for an unbroken ID
    assert widths[3] >= m.width("141025********123X", size) + 2.4 - 1e-6


def test_paths_are_not_left_behind(tmp_path, monkeypatch):
    from villageboard.render.pdf.paint import tmp_dir

    render_pdf(result_notice(5, rare=False))
    leftovers = [p for p in Path(tmp_dir()).iterdir()]
    assert leftovers == []


def test_page_label_counts_match_pdf(pdf, page_count, tmp_path):
    text = pdftotext(pdf, tmp_path)
    labels = re.findall(r"第 (\d+) 页 / 共 (\d+) 页", text)
    assert [int(a) for a, _ in labels] == list(range(1, page_count + 1))
    assert {int(b) for _, b in labels} == {page_count}
