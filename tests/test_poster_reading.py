"""Posters read from a step away: the key panel on page 1, type sizes measured in the
PDF, the last rows kept with the totals, a 本页小计 on every page, the QR as a sentence
that a phone shows and ``verify`` holds field by field against the archive, and the
stamps of archive copies."""

from __future__ import annotations

import ctypes
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as raw
import pytest

from tests.conftest import TODAY
from tests.conftest_render import need_tool, result_notice
from villageboard.domain.dates import cn_date
from villageboard.domain.errors import VBError
from villageboard.domain.money import capital_amount, format_fen
from villageboard.render.pdf.paint import render_pdf
from villageboard.services import Services
from villageboard.services.notice_document import build_document
from villageboard.services.posters import document_for, render_notice

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "posters"
MASKED_ID = re.compile(r"\d{6}\*{8}\d{3}[\dX]")


def vb(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    return subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def flat(text: str) -> str:
    return "".join(text.split())


def text_sizes(pdf: bytes) -> list[list[tuple[str, float]]]:
    """Every text object of every page with its font size in points, as the PDF says."""
    out = []
    doc = pdfium.PdfDocument(pdf)
    try:
        for page in doc:
            textpage = page.get_textpage()
            found = []
            for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT]):
                n = raw.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
                buf = ctypes.create_string_buffer(n)
                raw.FPDFTextObj_GetText(obj.raw, textpage.raw, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)), n)
                size = ctypes.c_float()
                raw.FPDFTextObj_GetFontSize(obj.raw, ctypes.byref(size))
                text = buf.raw[: n - 2].decode("utf-16-le", errors="replace").strip()
                found.append((text, round(size.value, 2)))
            out.append(found)
            textpage.close()
            page.close()
    finally:
        doc.close()
    return out


def live(svc: Services, kind: str):
    """The latest posted (or archived) notice of a kind in the demo township."""
    ns = svc.notices
    cands = [n for n in ns.all() if n.kind == kind and ns.state_of(n) in ("posted", "ended", "archived")]
    return max(cands, key=lambda n: (n.year, n.code, n.version))


KINDS = ["application", "result", "summary", "correction"]


@pytest.mark.parametrize("kind", KINDS)
def test_page_one_holds_the_key_facts(svc: Services, tmp_path: Path, kind: str) -> None:
    pdftotext = need_tool("pdftotext")
    n = live(svc, kind)
    snap = svc.notices.snapshot(n)
    pdf = next(p for p in render_notice(svc, n.code, tmp_path, ["pdf"], version=n.version) if p.suffix == ".pdf")
    page1 = flat(
        subprocess.run(
            [pdftotext, "-enc", "UTF-8", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, check=True
        ).stdout.decode()
    )
    total = snap["totals"]["amount_fen"]
    assert capital_amount(total) in page1 and format_fen(total) in page1
    assert f"{snap['totals']['households']}户" in page1
    assert f"异议截止：{cn_date(n.end)}" in page1
    t = snap["township"]
    hotline = (snap.get("program") or {}).get("hotline") or t["hotline"]
    assert f"咨询电话：{hotline}" in page1 and f"监督举报电话：{t['supervision_hotline']}" in page1
    assert "扫右下角二维码" in page1
    if (snap.get("base_kind") or n.kind) == "application":
        assert "审核中" in page1 or "已审核通过" in page1
        assert not re.search(r"(村审核|乡镇审核|申报)(?=\d|$)", page1)


def test_page_one_snapshots_of_each_kind(svc: Services) -> None:
    """Page 1 of each kind, as text (the tag, different in every township, masked).
    Set VILLAGEBOARD_UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change."""
    update = os.environ.get("VILLAGEBOARD_UPDATE_SNAPSHOTS") == "1"
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        n = live(svc, kind)
        doc, _stem = document_for(svc, n)
        text = page_texts(render_pdf(doc))[0].replace(n.tag, "XXXX-XXXX-XXXX-XXXX").replace("\r", "")
        path = SNAPSHOTS / f"page1-{kind}.txt"
        if update:
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"{path.name} is missing: run once with VILLAGEBOARD_UPDATE_SNAPSHOTS=1"
        assert text == path.read_text(encoding="utf-8"), f"page 1 of the {kind} notice changed ({path.name})"


def test_qr_sentence_decodes_from_the_png_and_a_half_quality_jpeg(svc: Services, tmp_path: Path) -> None:
    zbar = need_tool("zbarimg")
    from PIL import Image

    n = live(svc, "result")
    doc, _stem = document_for(svc, n)
    snap = svc.notices.snapshot(n)
    payload = doc.qr_payload
    t = snap["township"]
    assert payload.startswith(f"{t['county']}{t['name']}{snap['village']} {n.year}年{snap['program']['name']}")
    assert (
        f"第{n.version}版 {snap['totals']['households']}户 合计{format_fen(snap['totals']['amount_fen'])}元" in payload
    )
    assert f"核验码{n.tag}" in payload and payload.endswith(f"核验电话{t['supervision_hotline']}")
    paths = render_notice(svc, n.code, tmp_path, ["png"])
    png = next(p for p in paths if p.name.endswith(("-1.png", "发放结果公示.png")))
    jpeg = tmp_path / "photo.jpg"
    Image.open(png).convert("RGB").save(jpeg, quality=50)
    for image in (png, jpeg):
        out = subprocess.run([zbar, "-q", "--raw", str(image)], capture_output=True).stdout.decode("utf-8")
        assert out.strip() == payload, image.name


def test_the_qr_symbol_is_at_least_25mm_on_every_page(svc: Services) -> None:
    from villageboard.render.qr import qr_matrix

    doc, _stem = document_for(svc, live(svc, "result"))
    modules = len(qr_matrix(doc.qr_payload))
    pdf = pdfium.PdfDocument(render_pdf(doc))
    for page in pdf:
        (image,) = list(page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE]))
        left, _b, right, _t = image.get_bounds()
        assert (right - left) * 25.4 / 72 * (modules - 8) / modules >= 25.0


def test_verify_accepts_each_form_and_refuses_any_changed_field(svc: Services) -> None:
    n = live(svc, "result")
    doc, _stem = document_for(svc, n)
    payload = doc.qr_payload
    found, problems = svc.notices.verify_text(payload)
    assert found is not None and problems == [] and found["code"] == n.code
    assert svc.notices.verify_text(f"VB1/{n.code}/V{n.version}/{n.tag}") == (found, [])
    assert svc.notices.verify(n.code, n.tag.lower().replace("-", " ")) is not None  # typed by hand
    snap = svc.notices.snapshot(n)
    households, amount = snap["totals"]["households"], format_fen(snap["totals"]["amount_fen"])
    other = next(v.name for v in svc.registry.villages() if v.name != snap["village"])
    changes = {
        "版本": payload.replace(f"第{n.version}版", f"第{n.version + 1}版"),
        "村名": payload.replace(snap["village"], other, 1),
        "户数": payload.replace(f" {households}户", f" {households + 1}户"),
        "合计金额": payload.replace(f"合计{amount}元", f"合计{format_fen(snap['totals']['amount_fen'] + 100)}元"),
        "年度": payload.replace(f" {n.year}年", f" {n.year - 1}年"),
        "公示名称": payload.replace("发放结果公示", "申报公示"),
        "核验电话": payload.replace(snap["township"]["supervision_hotline"], "0357-1111111"),
    }
    for field, forged in changes.items():
        assert forged != payload
        got, problems = svc.notices.verify_text(forged)
        assert got is not None and len(problems) == 1 and problems[0].startswith(f"{field}不符"), (field, problems)
    bad_tag = payload.replace(n.tag, n.tag[:-1] + ("0" if n.tag[-1] != "0" else "1"))
    assert svc.notices.verify_text(bad_tag) == (None, [])
    with pytest.raises(VBError, match="不是本系统"):
        svc.notices.verify_text("岳阳镇 随便写的一句话")


def test_verify_refuses_the_short_form_of_another_version(svc: Services) -> None:
    """A version-1 tag under a "V2" label names the version it belongs to."""
    corrected = live(svc, "correction")
    first = svc.notices.get(corrected.code, 1)
    found, problems = svc.notices.verify_text(f"VB1/{first.code}/V{corrected.version}/{first.tag}")
    assert found is not None and found["version"] == 1
    assert problems == [f"版本不符：二维码写的是第{corrected.version}版，这个核验码属于第1版"]


def test_cli_verify_sentence_and_refusal(demo_dir: Path) -> None:
    svc = Services.open(demo_dir, today=TODAY, operator="测试")
    try:
        n = live(svc, "result")
        payload = document_for(svc, n)[0].qr_payload
        households = svc.notices.snapshot(n)["totals"]["households"]
    finally:
        svc.close()
    ok = vb(demo_dir, "verify", payload)
    assert ok.returncode == 0 and "核验通过" in ok.stdout, ok.stdout + ok.stderr
    ok = vb(demo_dir, "verify", *payload.split(" "))  # pasted without quotes
    assert ok.returncode == 0, ok.stdout + ok.stderr
    ok = vb(demo_dir, "verify", n.code, n.tag)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = vb(demo_dir, "verify", payload.replace(f" {households}户", f" {households + 3}户"))
    assert bad.returncode == 1 and "户数不符" in bad.stdout and "Traceback" not in bad.stderr


def rows_on(page_text: str) -> int:
    return len(MASKED_ID.findall(page_text))


def test_no_last_page_without_at_least_three_rows_and_every_page_has_its_subtotal() -> None:
    """Over notices of 3 to 90 rows (so the page break falls everywhere in the last
    page): the last page always holds ≥ 3 rows with the totals, and each page of a
    table running over pages ends with a 本页小计 that adds up."""
    seen_multi = 0
    for rows in range(3, 91, 3):
        for remark in (None, {}):
            doc = result_notice(
                rows, seed=rows, rare=False, remark=remark if remark is None else {i: "" for i in range(1, rows + 1)}
            )
            texts = page_texts(render_pdf(doc))
            assert rows_on(texts[-1]) >= 3, (rows, [rows_on(t) for t in texts])
            assert sum(rows_on(t) for t in texts) == rows
            if sum(1 for t in texts if rows_on(t)) == 1:
                continue  # the table on one page: its total is the 合计
            seen_multi += 1
            amounts = Decimal(0)
            for text in (t for t in texts if rows_on(t)):
                lines = [ln for ln in text.splitlines() if ln.strip()]
                assert any("本页小计" in ln for ln in lines), (rows, text[:200])
                page_rows = [r for r in doc.tables[0].rows if r.cells[3] in text]
                page_sum = sum((Decimal(r.cells[6].replace(",", "")) for r in page_rows), Decimal(0))
                assert f"{page_sum:,.2f}" in text
                amounts += page_sum
            assert amounts == sum((Decimal(r.cells[6].replace(",", "")) for r in doc.tables[0].rows), Decimal(0))
    assert seen_multi > 10


def test_measured_type_sizes(svc: Services) -> None:
    """Standard A4: table text ≥ 12 pt and the key panel ≥ 14 pt; large print: every
    text on every page ≥ 14 pt."""
    n = live(svc, "result")
    doc, _stem = document_for(svc, n)
    names = {r.cells[2] for r in doc.tables[0].rows}
    pages = text_sizes(render_pdf(doc))
    table = [size for page in pages for text, size in page if text in names]
    assert table and min(table) >= 12.0, min(table)
    panel = [size for text, size in pages[0] if text.startswith(("异议截止", "大写", "户数", "核验："))]
    assert len(panel) >= 4 and min(panel) >= 14.0
    for kind in ("result", "summary"):
        big, _stem = document_for(svc, live(svc, kind), large=True)
        sizes = [size for page in text_sizes(render_pdf(big)) for _text, size in page]
        assert min(sizes) >= 14.0, (kind, min(sizes))


def test_year_summary_has_a_row_per_household_and_whole_program_names(svc: Services) -> None:
    """One row per household, a column per program and the household's total; the large
    print turns the page; program names break only between words ("耕地地力" / "保护补贴")."""
    from villageboard.services.notice_document import header_lines

    n = live(svc, "summary")
    snap = svc.notices.snapshot(n)
    doc, _stem = document_for(svc, n, large=True)
    table = doc.tables[0]
    data = [r for r in table.rows if r.kind == "data"]
    assert len(data) == len({r["household_id"] for r in snap["rows"]}) == snap["totals"]["households"]
    programs = [sub["name"] for sub in snap["subtotals"]]
    assert len(table.columns) == 4 + len(programs) + 1
    for r in data:  # each household's total is the sum of its program cells
        cells = [Decimal(c.replace(",", "")) for c in r.cells[4:-1] if c]
        assert sum(cells, Decimal(0)) == Decimal(r.cells[-1].replace(",", ""))
    total = table.rows[-1]
    assert total.kind == "total" and total.cells[-1] == format_fen(snap["totals"]["amount_fen"])
    pdf = pdfium.PdfDocument(render_pdf(doc))
    w, h = pdf[0].get_size()
    assert w > h
    lines = {ln.strip() for i in range(len(pdf)) for ln in pdf[i].get_textpage().get_text_range().splitlines()}
    for name in programs:
        parts = header_lines(name).split("\n")
        assert "".join(parts) == name and all(part in lines for part in parts), (name, parts)
    assert header_lines("耕地地力保护补贴") == "耕地地力\n保护补贴"
    assert header_lines("种粮农民一次性补贴") == "种粮农民\n一次性补贴"


def test_archive_copy_is_refused_unless_archived(demo_dir: Path, tmp_path: Path) -> None:
    svc = Services.open(demo_dir, today=TODAY, operator="测试")
    try:
        n = next(x for x in svc.notices.all(TODAY.year, "posted") if x.kind == "result")
        with pytest.raises(VBError, match="还没有存档"):
            render_notice(svc, n.code, tmp_path / "svc", ["pdf"], archive_copy=True)
    finally:
        svc.close()
    assert not (tmp_path / "svc").exists()
    r = vb(demo_dir, "notice", "render", n.code, "--out", str(tmp_path / "cli"), "--archive-copy")
    assert r.returncode == 1 and "还没有存档" in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "cli").exists() or not any((tmp_path / "cli").iterdir())


def test_a_replaced_version_is_stamped_corrected_with_the_date(svc: Services) -> None:
    corrected = live(svc, "correction")
    first = svc.notices.get(corrected.code, 1)
    assert first.state == "archived"
    doc, stem = document_for(svc, first)
    when = cn_date(first.archived_at[:10])
    assert doc.stamp == f"已更正，以第{corrected.version}版为准 {when}"
    texts = page_texts(render_pdf(doc))
    assert all("已更正，以第2版为准" in flat(t) and when in flat(t) for t in texts)
    assert not any("公示期满存档" in flat(t) for t in texts)
    # a notice archived at the end of its period keeps the usual stamp
    ended = next(n for n in svc.notices.all(TODAY.year - 1) if n.state == "archived" and n.kind == "result")
    assert document_for(svc, ended)[0].stamp.startswith("公示期满存档")


def test_result_notice_elements(svc: Services) -> None:
    """发放日期, the failed amount, two decimals on every area, separators on totals."""
    n = next(
        x
        for x in svc.notices.all(TODAY.year)
        if x.kind == "result" and x.state != "draft" and svc.notices.snapshot(x).get("failed")
    )
    snap = svc.notices.snapshot(n)
    doc, _stem = document_for(svc, n)
    lines = "\n".join(doc.totals_lines)
    days = sorted(r["paid_date"] for r in snap["rows"] if r["status"] == "已发放")
    assert f"发放日期：{cn_date(days[0])}" in lines
    failed = sum(r["amount_fen"] for r in snap["rows"] if r["status"] == "发放失败")
    assert f"（金额{format_fen(failed)}元）" in lines
    areas = [r.cells[4] for r in doc.tables[0].rows]
    assert len({len(a.split(".")[1]) for a in areas}) == 1  # one number of decimals
    assert re.search(r"面积 [\d,]+\.\d{2} 亩", lines)


def test_a_notice_posted_in_the_earlier_layout_reprints_in_it(svc: Services) -> None:
    """Kept wording without a layout: posted before the key panel, printed as posted."""
    n = live(svc, "result")
    snap = svc.notices.snapshot(n)
    before = {**snap, "wording": {k: v for k, v in snap["wording"].items() if k not in ("panel", "layout")}}
    doc = build_document(n, before)
    assert doc.layout == 1 and doc.panel == [] and doc.qr_payload.startswith("VB1/")
    sizes = {size for page in text_sizes(render_pdf(doc)) for _text, size in page}
    assert 10.5 in sizes and 14.0 not in sizes
    assert "本页小计" not in "".join(page_texts(render_pdf(doc)))
    now = build_document(n, snap)
    assert now.layout == 2 and now.panel and now.totals_lines == doc.totals_lines


def test_png_page_is_a_whole_a4_page(svc: Services) -> None:
    from PIL import Image

    from villageboard.render.png import pdf_to_pngs

    doc, _stem = document_for(svc, live(svc, "result"))
    png = pdf_to_pngs(render_pdf(doc))[0]
    assert sorted(Image.open(io.BytesIO(png)).size)[1] > 1200


def test_a_correction_lists_each_change_as_a_whole_row(svc: Services) -> None:
    n = live(svc, "correction")
    doc, _stem = document_for(svc, n)
    changes, full = doc.tables
    assert [c.label for c in changes.columns] == ["序号", "户主姓名", "身份证号", "更正项目", "原内容", "更正为"]
    snap = svc.notices.snapshot(n)
    by_app = {r["app"]: r for r in snap["rows"]}
    for row, change in zip(changes.rows, n.changes, strict=True):
        assert row.cells[1] == change["name"] and MASKED_ID.fullmatch(row.cells[2])
        assert row.cells[2] == by_app[change["app"]]["id_masked"]
        assert row.cells[4] == (change["old"] or "空") and row.cells[5] == (change["new"] or "空")
    marked = [r.cells[2] for r in full.rows if r.cells[2].endswith("※")]
    assert sorted(m.rstrip("※") for m in marked) == sorted(c["name"] for c in n.changes)
    assert any("※" in line for line in doc.totals_lines)


def test_png_resolution_and_one_long_image_for_a_chat_group(svc: Services, tmp_path: Path) -> None:
    from PIL import Image

    n = live(svc, "result")
    pages = [p for p in render_notice(svc, n.code, tmp_path / "pages", ["pdf", "png"], dpi=200) if p.suffix == ".png"]
    assert len(pages) > 1
    assert sorted(Image.open(pages[0]).size)[0] == pytest.approx(210 / 25.4 * 200, abs=3)
    (long,) = render_notice(svc, n.code, tmp_path / "long", ["png"], long=True)
    assert long.name.endswith("-长图.png")
    image = Image.open(long)
    assert image.height > len(pages) * image.width  # every page, one under the other
    top = tmp_path / "top.png"
    image.crop((0, 0, image.width, image.width // 3)).save(top)  # the QR band at the top
    zbar = need_tool("zbarimg")
    payload = document_for(svc, n)[0].qr_payload
    assert subprocess.run([zbar, "-q", "--raw", str(top)], capture_output=True).stdout.decode().strip() == payload
    with pytest.raises(VBError, match="72到600"):
        render_notice(svc, n.code, tmp_path / "bad", ["png"], dpi=20)


def test_the_web_page_carries_the_key_panel_too(svc: Services) -> None:
    from villageboard.render.html import render_html
    from villageboard.services.ui_support import notice_document

    n = live(svc, "result")
    doc = notice_document(svc, n)
    html = render_html(doc, svc.root)
    assert '<div class="panel">' in html
    assert all(line in html for line in doc.panel)
