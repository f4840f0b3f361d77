"""The county sheet's counts on a tiny township worked by hand: money totals of
approved rows only, 户数 as households and 户次 as rows, and a 大写 total line."""

from __future__ import annotations

from openpyxl import load_workbook

from tests.test_flags import add, apply, approve, town  # noqa: F401  (town is a fixture)
from villageboard.domain.models import Program


def tiny(svc):
    """东沟村: 甲 GDDL 10亩 通过 (1,000.00), 甲 YMSC 4亩 通过 (200.00), 乙 GDDL 5亩
    不通过 (500.00), 乙 YMSC 3亩 not reviewed (150.00); 西沟村: 丙 GDDL 2.5亩 通过
    (250.00). GDDL 100.00元/亩, YMSC 50.00元/亩."""
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
    jia, yi, bing = add(svc, "甲大户"), add(svc, "乙小户"), add(svc, "丙西户", village="西沟村")
    approve(svc, apply(svc, jia, "10"))
    approve(svc, apply(svc, jia, "4", code="YMSC"))
    svc.applications.set_status(apply(svc, yi, "5").id, "rejected", "面积不实")
    apply(svc, yi, "3", code="YMSC")
    approve(svc, apply(svc, bing, "2.5"))


def read(path):
    wb = load_workbook(path)
    return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]


def test_county_sheet_counts_households_and_rows_and_totals_approved_only(town, tmp_path) -> None:  # noqa: F811
    tiny(town)
    summary, detail = read(town.transfer.export_county(2026, tmp_path / "county.xlsx"))
    head = summary[1]
    assert "申报户数" not in head and "已发放户数" not in head
    lines = {(r[0], r[2]): dict(zip(head, r, strict=True)) for r in summary[2:] if r[2]}
    assert set(lines) == {("东沟村", "GDDL"), ("东沟村", "YMSC"), ("西沟村", "GDDL")}
    east_g, east_y, west_g = lines[("东沟村", "GDDL")], lines[("东沟村", "YMSC")], lines[("西沟村", "GDDL")]
    assert (east_g["申报户次"], east_g["审核通过户数"], east_g["审核通过户次"], east_g["应发金额"]) == (2, 1, 1, 1000)
    assert (east_y["申报户次"], east_y["审核通过户数"], east_y["审核通过户次"], east_y["应发金额"]) == (2, 1, 1, 200)
    assert (west_g["申报户次"], west_g["审核通过户数"], west_g["审核通过户次"], west_g["应发金额"]) == (1, 1, 1, 250)
    total = next(dict(zip(head, r, strict=True)) for r in summary if r[0] == "合计")
    # 5 rows applied; 甲 (two programs) and 丙 are 2 households, 3 approved rows
    assert (total["申报户次"], total["审核通过户数"], total["审核通过户次"]) == (5, 2, 3)
    assert total["应发金额"] == 1450  # 1,000 + 200 + 250; not 2,100 with 乙's rows
    notes = [r[0] for r in summary if r[0] and r[1] is None]
    assert "应发金额合计（审核通过）：1,450.00元（大写：人民币壹仟肆佰伍拾元整）" in notes

    d_head = detail[1]
    rows = [dict(zip(d_head, r, strict=True)) for r in detail[2:] if r[0] and str(r[0]).startswith("2026-")]
    assert len(rows) == 5  # every row is listed, the rejected and unreviewed too
    assert sorted(r["审核状态"] for r in rows) == ["不通过", "申报", "通过", "通过", "通过"]
    d_total = next(dict(zip(d_head, r, strict=True)) for r in detail if r[0] == "合计（审核通过）")
    assert d_total["金额"] == 1450
    assert "应发金额合计（审核通过）：1,450.00元（大写：人民币壹仟肆佰伍拾元整）" in [r[0] for r in detail]
