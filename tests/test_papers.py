"""The papers a township signs, on a tiny township worked by hand: each household's
申报确认表, the village 发放清册 and the county sheet, as PDF and xlsx.

东沟村, GDDL 100.00元/亩:
  甲大户  确权 12 扣除 2（修路占地）→ 10亩   1,000.00  通过; also YMSC 4亩 200.00 通过
  乙小户  确权 5.5                   → 5.5亩    550.00  通过
  丙三户  3亩                                  300.00  不通过
  丁四户  确权 4                     → 4亩      400.00  not yet reviewed
西沟村: 戊西户 GDDL 2.5亩 250.00 通过.

So the 东沟村 GDDL 清册 holds 甲 and 乙: 2 户, 2 户次, 15.5亩, 1,550.00元; its forms are
甲, 乙 and 丁 (a refused row gets none); the county sheet counts 3 户 (甲 乙 戊) and
4 户次, 2,000.00元 approved (not 2,700.00 with 丙 and 丁).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from stdnum.cn import ric

from tests.conftest import TODAY
from tests.test_flags import approve, card, town  # noqa: F401  (town is a fixture)
from tests.test_privacy_sweep import scan
from villageboard.domain.models import Program
from villageboard.domain.money import capital_amount, format_fen
from villageboard.render.pdf.paint import render_pdf_many
from villageboard.services.paper_county import county_paper
from villageboard.services.paper_sheets import write_paper
from villageboard.services.papers import confirmation_forms, village_rolls

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "papers"

ROLL_FEN = 100_000 + 55_000
COUNTY_FEN = 100_000 + 20_000 + 55_000 + 25_000


def fixed_id(born: str, serial: int) -> str:
    body = f"141025{born}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def person(svc, name: str, serial: int, village: str = "东沟村"):
    h, _w = svc.registry.add_household(
        {
            "name": name,
            "id_number": fixed_id("19650302", serial),
            "card_account": card(9000 + serial),
            "village": village,
            "group": "一组",
        }
    )
    return h


@pytest.fixture
def paper_town(town):  # noqa: F811
    svc = town
    svc.programs.add(
        Program(
            code="YMSC",
            year=2026,
            name="玉米生产者补贴",
            unit="亩",
            rate_fen=5000,
            hotline="0357-5221234",
            eligibility="种植玉米的农户",
            procedure="村申报镇审核",
            materials="身份证",
            office="镇农业中心",
        )
    )
    jia, yi, bing, ding = (person(svc, n, i) for i, n in enumerate(("甲大户", "乙小户", "丙三户", "丁四户"), 1))
    wu = person(svc, "戊西户", 5, village="西沟村")
    apps = svc.applications
    a = apps.add(jia.id, "GDDL", 2026, "10")
    apps.edit(a.id, land={"certified_area": "12", "deducted_area": "2", "deduction_reason": "修路占地"})
    approve(svc, a)
    approve(svc, apps.add(jia.id, "YMSC", 2026, "4"))
    b = apps.add(yi.id, "GDDL", 2026, "5.5")
    apps.edit(b.id, land={"certified_area": "5.5"})
    approve(svc, b)
    apps.set_status(apps.add(bing.id, "GDDL", 2026, "3").id, "rejected", "面积不实")
    d = apps.add(ding.id, "GDDL", 2026, "4")
    apps.edit(d.id, land={"certified_area": "4"})
    approve(svc, apps.add(wu.id, "GDDL", 2026, "2.5"))
    return svc


def page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range().replace("\r", "") for i in range(len(doc))]
    finally:
        doc.close()


def flat(text: str) -> str:
    return "".join(text.split())


def cells_of(path: Path) -> list[list[str]]:
    """Every non-empty cell of every sheet, row by row, as text."""
    wb = load_workbook(path)
    return [
        [str(c) for c in row if c is not None]
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        if any(c is not None for c in row)
    ]


def assert_nothing_private(svc, texts: list[str]) -> None:
    """No full ID or card of anyone, however the text is split, and nothing the
    private-number scanner of the poster tests finds."""
    joined = "\n".join(texts)
    for h in svc.registry.households():
        assert h.id_number not in flat(joined) and h.card_account not in flat(joined), h.name
    for t in texts:
        assert scan(t) == [], t


def test_the_hand_worked_totals_in_capitals() -> None:
    assert capital_amount(ROLL_FEN) == "人民币壹仟伍佰伍拾元整"
    assert capital_amount(COUNTY_FEN) == "人民币贰仟元整"
    assert capital_amount(100_000) == "人民币壹仟元整"


def test_village_roll_lists_approved_rows_and_counts_households_and_rows(paper_town) -> None:
    (doc,) = village_rolls(paper_town, 2026, "GDDL", "东沟村")
    text = flat("\n".join(page_texts(render_pdf_many([doc]))))
    assert "东沟村2026年耕地地力保护补贴发放清册" in text
    assert "甲大户" in text and "乙小户" in text and "丙三户" not in text and "丁四户" not in text
    assert "12" in text and "修路占地" in text and "确权面积" in text and "扣除原因" in text
    assert (
        f"合计：共2户、2户次，补贴面积15.5亩，补贴金额{format_fen(ROLL_FEN)}元（大写：{capital_amount(ROLL_FEN)}）"
        in text
    )
    assert "另有申报2笔（不通过1笔、尚未审核通过1笔）未列入本清册" in text
    assert "2户" in text and "2户次" in text
    for label in ("村委会（盖章）：", "村务监督委员会：", "经办人：", "审核人：", "负责人：", "日期："):
        assert label in text
    assert "141025********" in text  # the farmer finds their own row by the masked ID


def test_every_village_roll_goes_in_one_file(paper_town) -> None:
    docs = village_rolls(paper_town, 2026, "GDDL")
    assert [d.title[:3] for d in docs] == ["东沟村", "西沟村"]
    pages = page_texts(render_pdf_many(docs))
    west = flat(pages[-1])
    assert (
        "戊西户" in west
        and f"合计：共1户、1户次，补贴面积2.5亩，补贴金额250.00元（大写：{capital_amount(25_000)}）" in west
    )
    assert "确权面积" not in west  # a village without land on record prints 数量


def test_a_confirmation_form_per_household_with_its_land_and_capitals(paper_town) -> None:
    docs = confirmation_forms(paper_town, 2026, "GDDL", "东沟村")
    pages = [flat(t) for t in page_texts(render_pdf_many(docs))]
    assert len(pages) == 3  # 甲, 乙, 丁: one page each; 丙 (refused) has none
    jia, yi, ding = pages
    assert "甲大户" in jia and "乙小户" not in jia
    assert "12" in jia and "修路占地" in jia and "10" in jia and "100.00" in jia
    assert f"补贴金额：{format_fen(100_000)}元（大写：{capital_amount(100_000)}）" in jia
    assert f"（大写：{capital_amount(55_000)}）" in yi and f"（大写：{capital_amount(40_000)}）" in ding
    for page in pages:
        assert "第1页/共1页" in page
        for label in ("申报人签字（按手印）：", "日期：", "经办人：", "村委会（盖章）："):
            assert label in page
    app = next(a for a in paper_town.applications.list(2026, "GDDL") if a.amount_fen == 100_000)
    assert f"申报编号：{app.id}" in jia


def test_county_paper_counts_approved_only_with_right_labels(paper_town) -> None:
    doc = county_paper(paper_town, 2026)
    text = flat("\n".join(page_texts(render_pdf_many([doc]))))
    assert "审核通过户数" in text and "审核通过户次" in text
    assert (
        f"合计（审核通过）：共3户、4户次，应发金额{format_fen(COUNTY_FEN)}元（大写：{capital_amount(COUNTY_FEN)}）"
        in text
    )
    assert "2,700.00" not in text
    for label in ("制表人：", "审核人：", "负责人：", "乡镇人民政府（盖章）：", "日期："):
        assert label in text
    assert "甲大户" not in text  # a summary: no one's name


def test_each_paper_as_xlsx_reads_back(paper_town, tmp_path: Path) -> None:
    svc = paper_town
    roll = cells_of(write_paper(svc, "roll", 2026, tmp_path / "清册.xlsx", "GDDL", "东沟村").path)
    lines = ["".join(r) for r in roll]
    assert f"合计：共 2 户、2 户次，补贴面积 15.5 亩，补贴金额 1,550.00 元（大写：{capital_amount(ROLL_FEN)}）" in lines
    total = next(r for r in roll if r[0] == "合计")
    assert total[1:3] == ["2户", "2户次"] and total[-1] == "1550"
    assert any(line.startswith("村委会（盖章）：") and "村务监督委员会：" in line for line in lines)
    assert any("审核人：" in line and "负责人：" in line for line in lines)

    report = write_paper(svc, "forms", 2026, tmp_path / "确认表.xlsx", "GDDL", "东沟村")
    assert report.pages == 3
    wb = load_workbook(report.path)
    assert len(wb.worksheets) == 3
    jia = ["".join(str(c) for c in row if c is not None) for row in wb.worksheets[0].iter_rows(values_only=True)]
    assert f"补贴金额：1,000.00元（大写：{capital_amount(100_000)}）" in jia
    assert any("申报人签字（按手印）：" in line for line in jia)
    assert any("修路占地" in line for line in jia)

    county = write_paper(svc, "county", 2026, tmp_path / "报县.xlsx").path
    notes = ["".join(r) for r in cells_of(county)]
    assert f"应发金额合计（审核通过）：2,000.00元（大写：{capital_amount(COUNTY_FEN)}）" in notes
    assert any(line.startswith("制表人：") for line in notes)


def test_no_paper_shows_a_full_id_or_card(paper_town, tmp_path: Path) -> None:
    svc = paper_town
    texts: list[str] = []
    for kind, program in (("forms", "GDDL"), ("roll", "GDDL"), ("county", "")):
        pdf = write_paper(svc, kind, 2026, tmp_path / f"{kind}.pdf", program).path
        texts += page_texts(pdf.read_bytes())
        if kind != "county":  # the county xlsx is the internal working sheet, with full data
            sheet = write_paper(svc, kind, 2026, tmp_path / f"{kind}.xlsx", program).path
            texts += [cell for row in cells_of(sheet) for cell in row]  # a cell is read on its own
    assert_nothing_private(svc, texts)
    if os.name == "posix":
        assert all((tmp_path / f"{k}.pdf").stat().st_mode & 0o777 == 0o600 for k in ("forms", "roll", "county"))


def test_page_one_snapshots_of_each_paper(paper_town) -> None:
    """Page 1 of each paper, as text. Set VILLAGEBOARD_UPDATE_SNAPSHOTS=1 to rewrite
    them after a deliberate change."""
    update = os.environ.get("VILLAGEBOARD_UPDATE_SNAPSHOTS") == "1"
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    papers = {
        "forms": confirmation_forms(paper_town, 2026, "GDDL", "东沟村"),
        "roll": village_rolls(paper_town, 2026, "GDDL", "东沟村"),
        "county": [county_paper(paper_town, 2026)],
    }
    for name, docs in papers.items():
        text = page_texts(render_pdf_many(docs))[0]
        path = SNAPSHOTS / f"page1-{name}.txt"
        if update:
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"{path.name} is missing: run once with VILLAGEBOARD_UPDATE_SNAPSHOTS=1"
        assert text == path.read_text(encoding="utf-8"), f"page 1 of the {name} paper changed ({path.name})"


def test_cli_makes_each_paper_and_refuses_a_wrong_file_type(paper_town, tmp_path: Path) -> None:
    root = paper_town.root
    paper_town.close()
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())

    def vb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "villageboard", "--data-dir", str(root), "export", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    out = tmp_path / "out"
    for args in (
        ("forms", "--program", "GDDL", "--year", "2026", "--village", "东沟村", "--out", str(out / "确认表.pdf")),
        ("roll", "--program", "gddl", "--year", "2026", "--out", str(out / "清册.xlsx")),
        ("county", "--year", "2026", "--out", str(out / "报县汇总表.pdf")),
    ):
        r = vb(*args)
        assert r.returncode == 0, r.stderr
        assert "已写出" in r.stdout and "Traceback" not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["报县汇总表.pdf", "清册.xlsx", "确认表.pdf"]
    assert len(page_texts((out / "确认表.pdf").read_bytes())) == 3
    bad = vb("roll", "--program", "GDDL", "--year", "2026", "--out", str(out / "清册.doc"))
    assert bad.returncode == 1 and "只能保存为 .pdf 或 .xlsx" in bad.stderr + bad.stdout
    assert re.search(r"Traceback", bad.stderr) is None


def test_the_privacy_gate_stops_a_paper_naming_it(paper_town) -> None:
    """A number that slipped past entry (here put in by hand) stops the whole PDF, and
    the message names the paper without echoing the number."""
    from villageboard.domain.errors import PrivacyError

    doc = confirmation_forms(paper_town, 2026, "GDDL", "东沟村")[0]
    full = paper_town.registry.households()[0].id_number
    bad = doc.replace(footer_lines=[*doc.footer_lines, f"备注：{full}"])
    with pytest.raises(PrivacyError) as err:
        render_pdf_many([doc, bad])
    assert "申报确认表" in str(err.value) and full not in str(err.value)
