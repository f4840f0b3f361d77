"""The land of an area program: 确权面积, 扣除面积 with its 扣除原因, and 补贴面积 = 确权 −
扣除 as the quantity paid on. Imported with the usual synonyms, refused as a whole
sheet when one row's land is wrong, shown on the application notice, and carried into
next year's import template."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from villageboard.domain.land import check_land
from villageboard.domain.models import Application
from villageboard.domain.money import entitlement_fen
from villageboard.io.headers import APPLICATION_FIELDS
from villageboard.io.tables import read_table
from villageboard.services import Services
from villageboard.services.import_common import ImportFailed
from villageboard.services.notice_document import build_document

YEAR = 2026
CODE = "GDDL"


def free(svc: Services, n: int, village_id: int | None = None) -> list:
    """Active households without a GDDL application this year."""
    return [
        h
        for h in svc.registry.households()
        if h.status == "active"
        and not h.void
        and (village_id is None or h.village_id == village_id)
        and svc.applications.existing(YEAR, h.id, CODE) is None
    ][:n]


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    for cell in ws["B"]:
        cell.number_format = "@"
    wb.save(path)
    return path


def app_of(svc: Services, household_id: int) -> Application:
    n = svc.applications.existing(YEAR, household_id, CODE)
    assert n is not None
    return svc.applications.get((YEAR, n))


def journal_state(svc: Services) -> tuple:
    return svc.store.journal.last_seq, len(svc.applications.list(YEAR, CODE))


# --- the rule itself -----------------------------------------------------------------


def test_check_land_works_out_the_subsidy_area_exactly() -> None:
    land, errors = check_land("4.35", "0.1", "修路占地")
    assert errors == [] and land is not None
    assert land.subsidy == Decimal("4.25") and isinstance(land.subsidy, Decimal)
    land, errors = check_land("10", "", "")
    assert errors == [] and land is not None and land.deducted == 0 and land.subsidy == 10
    assert check_land("2", "2", "退耕还林")[0] is None  # all deducted: nothing to pay on
    assert check_land("", "1", "建房")[1][0][0] == "certified_area"


# --- import ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["户主姓名", "身份证号码", "确权面积", "扣除面积", "扣除原因", "补贴面积"],
        ["户主姓名", "身份证号码", "承包面积(亩)", "核减面积", "扣除原因", "实际种植面积"],
    ],
)
def test_good_land_rows_are_imported_with_the_subsidy_area_as_quantity(svc: Services, tmp_path, header) -> None:
    hs = free(svc, 3)
    rows = [
        [hs[0].name, hs[0].id_number, "4.5", "0.5", "修路占地", "4"],
        [hs[1].name, hs[1].id_number, "10", None, None, None],  # nothing deducted, 补贴面积 worked out
        [hs[2].name, hs[2].id_number, 2.35, 0.1, "建房", None],  # numeric cells
    ]
    rep = svc.transfer.import_applications(write(tmp_path / "land.xlsx", header, rows), program=CODE, year=YEAR)
    assert rep.applications == 3
    rate = svc.programs.get(YEAR, CODE).rate_fen
    a, b, c = (app_of(svc, h.id) for h in hs)
    assert (a.certified_area, a.deducted_area, a.deduction_reason, a.quantity) == (
        Decimal("4.5"),
        Decimal("0.5"),
        "修路占地",
        Decimal("4"),
    )
    assert (b.certified_area, b.deducted_area, b.deduction_reason, b.quantity) == (
        Decimal(10),
        Decimal(0),
        "",
        Decimal(10),
    )
    assert (c.certified_area, c.deducted_area, c.quantity) == (Decimal("2.35"), Decimal("0.1"), Decimal("2.25"))
    assert a.amount_fen == entitlement_fen(Decimal(4), rate, svc.programs.get(YEAR, CODE).rounding)
    root = svc.root
    svc.close()
    with Services.open(root) as again:  # exact Decimals back from disk
        assert app_of(again, hs[2].id).deducted_area == Decimal("0.1")


BAD_ROWS = {
    "deduction without a reason": (["5", "1", "", ""], "扣除原因", "必须写明扣除原因"),
    "deduction above 确权": (["3", "3.5", "建房", ""], "扣除面积", "超过了确权面积"),
    "disagreeing 补贴面积": (["6", "1", "撂荒", "5.5"], "补贴面积", "（应为5亩）不符"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_land_row_refuses_the_whole_sheet(svc: Services, tmp_path, case: str) -> None:
    cells, column, words = BAD_ROWS[case]
    hs = free(svc, 3)
    header = ["户主姓名", "身份证号码", "确权面积", "扣除面积", "扣除原因", "补贴面积"]
    rows = [
        [hs[0].name, hs[0].id_number, "4", "", "", "4"],
        [hs[1].name, hs[1].id_number, *cells],
        [hs[2].name, hs[2].id_number, "2", "0.5", "退耕还林", ""],
    ]
    before = journal_state(svc)
    with pytest.raises(ImportFailed) as e:
        svc.transfer.import_applications(write(tmp_path / "bad.xlsx", header, rows), program=CODE, year=YEAR)
    [p] = e.value.problems
    assert (p.row, p.field) == (3, column) and words in p.reason
    assert "第3行" in str(p) and "没有导入任何数据" in str(e.value)
    assert journal_state(svc) == before
    assert all(svc.applications.existing(YEAR, h.id, CODE) is None for h in hs)


def test_a_sheet_with_only_a_quantity_still_works_and_old_rows_read_as_before(svc: Services, tmp_path) -> None:
    [h] = free(svc, 1)
    src = write(tmp_path / "q.xlsx", ["户主姓名", "身份证号码", "数量"], [[h.name, h.id_number, "3.5"]])
    assert svc.transfer.import_applications(src, program=CODE, year=YEAR).applications == 1
    a = app_of(svc, h.id)
    assert a.quantity == Decimal("3.5") and a.certified_area is None and a.deducted_area is None
    old = {k: v for k, v in a.to_dict().items() if k not in ("certified_area", "deducted_area", "deduction_reason")}
    assert Application.from_dict(old) == a
    with pytest.raises(ImportFailed, match="确权面积"):  # neither 数量 nor 确权面积: the message names both
        svc.transfer.import_applications(
            write(tmp_path / "n.xlsx", ["户主姓名", "身份证号码"], [[h.name, h.id_number]]), program=CODE, year=YEAR
        )


# --- notice and next year ---------------------------------------------------------------


def test_the_application_notice_shows_the_land_columns(svc: Services, tmp_path) -> None:
    v = next(v for v in svc.registry.villages() if len(free(svc, 2, v.id)) == 2)
    hs = free(svc, 2, v.id)
    header = ["户主姓名", "身份证号码", "确权面积", "扣除面积", "扣除原因", "数量"]
    rows = [[hs[0].name, hs[0].id_number, "7", "1.5", "修路占地", ""], [hs[1].name, hs[1].id_number, "", "", "", "2"]]
    svc.transfer.import_applications(write(tmp_path / "v.xlsx", header, rows), program=CODE, year=YEAR)
    n = svc.notices.create("application", YEAR, v.id, CODE)
    doc = build_document(n, svc.notices.snapshot(n))
    table = doc.tables[0]
    labels = [c.label for c in table.columns]
    assert labels[4:8] == ["确权面积（亩）", "扣除面积（亩）", "扣除原因", "补贴面积（亩）"]
    by_name = {r.cells[2]: r.cells for r in table.rows}
    # one number of decimals for the program's areas, so the points line up
    assert by_name[hs[0].name][4:8] == ["7.00", "1.50", "修路占地", "5.50"]
    assert by_name[hs[1].name][4:8] == ["", "", "", "2.00"]  # a row entered as a bare 数量


def test_land_carries_into_next_years_import_template(svc: Services, tmp_path) -> None:
    hs = free(svc, 2)
    header = ["户主姓名", "身份证号码", "确权面积", "扣除面积", "扣除原因"]
    rows = [[hs[0].name, hs[0].id_number, "8.8", "0.8", "建房"], [hs[1].name, hs[1].id_number, "3", "", ""]]
    svc.transfer.import_applications(write(tmp_path / "y.xlsx", header, rows), program=CODE, year=YEAR)
    rep = svc.transfer.carry_forward(YEAR, CODE, tmp_path / "next.xlsx")
    sheet = read_table(rep.path, APPLICATION_FIELDS)
    assert sheet.errors == []
    got = {r.values["id_number"]: r.values for r in sheet.rows}
    assert (
        got[hs[0].id_number]["certified_area"],
        got[hs[0].id_number]["deducted_area"],
        got[hs[0].id_number]["deduction_reason"],
        got[hs[0].id_number]["quantity"],
    ) == ("8.8", "0.8", "建房", "")
    assert (got[hs[1].id_number]["certified_area"], got[hs[1].id_number]["deducted_area"]) == ("3", "")
    assert {r.values["year"] for r in sheet.rows} == {str(YEAR + 1)}
    assert len(sheet.rows) == rep.rows

    # next year's program in place, the carried sheet imports as it stands
    p = svc.programs.get(YEAR, CODE)
    svc.programs.add(dataclasses.replace(p, year=YEAR + 1, rate_history=[]))
    again = svc.transfer.import_applications(rep.path, program=CODE, year=YEAR + 1)
    assert again.applications == rep.rows
    n = svc.applications.existing(YEAR + 1, hs[0].id, CODE)
    nxt = svc.applications.get((YEAR + 1, n))
    assert (nxt.certified_area, nxt.deducted_area, nxt.deduction_reason, nxt.quantity) == (
        Decimal("8.8"),
        Decimal("0.8"),
        "建房",
        Decimal(8),
    )


# --- flags ----------------------------------------------------------------------------


def kinds(svc: Services, app: Application) -> set[str]:
    return {f.kind for f in svc.flags.flags_for(app)}


def test_planted_area_above_the_households_land_is_flagged_by_the_township_line(svc: Services, tmp_path) -> None:
    from villageboard.services.township import update_settings

    hs = [h for h in free(svc, 60) if svc.applications.existing(YEAR, h.id, "ZLYC") is None][:3]
    land = write(
        tmp_path / "gd.xlsx",
        ["户主姓名", "身份证号码", "确权面积", "扣除面积", "扣除原因"],
        [[h.name, h.id_number, "5", "1", "建房"] for h in hs[:2]],
    )
    svc.transfer.import_applications(land, program=CODE, year=YEAR)
    planted = write(
        tmp_path / "zl.xlsx",
        ["户主姓名", "身份证号码", "实际种植面积"],
        [[hs[0].name, hs[0].id_number, "6"], [hs[1].name, hs[1].id_number, "4"], [hs[2].name, hs[2].id_number, "9"]],
    )
    svc.transfer.import_applications(planted, program="ZLYC", year=YEAR)
    over, equal, no_land = (svc.applications.get((YEAR, svc.applications.existing(YEAR, h.id, "ZLYC"))) for h in hs)
    [flag] = [f for f in svc.flags.flags_for(over) if f.kind == "planted"]
    assert flag.label == "种粮超耕地" and "6亩" in flag.message and "（4亩）" in flag.message
    assert "planted" not in kinds(svc, equal)
    assert "planted" not in kinds(svc, no_land)  # no 耕地 row with land: nothing to compare
    update_settings(svc, planted_limit="1.5")
    assert "planted" not in kinds(svc, over)  # 6 is not above 1.5 × 4
    assert svc.township.planted_limit == Decimal("1.5")


def test_a_deduction_without_its_reason_is_flagged(svc: Services) -> None:
    from villageboard.domain.land import Land

    [h] = free(svc, 1)
    program = svc.programs.get(YEAR, CODE)
    app, problems = svc.applications.build(h.id, program, "", land=Land(Decimal(5), Decimal(1), ""))
    assert app is not None and problems == [] and app.quantity == 4
    with svc.store.begin("申报.新增") as tx:
        svc.applications.insert(app, tx)
    [flag] = [f for f in svc.flags.flags_for(app) if f.kind == "deduction"]
    assert flag.label == "扣除无原因"
    svc.flags.clear(app.id, "扣除无原因", "村里核实：修路占地，已补写")
    assert [f.is_cleared for f in svc.flags.flags_for(app) if f.kind == "deduction"] == [True]


# --- changing the land ---------------------------------------------------------------


def test_editing_a_land_row_changes_the_land_and_the_quantity_follows(svc: Services, tmp_path) -> None:
    from villageboard.domain.errors import ValidationFailed, VBError

    hs = free(svc, 2)
    src = write(
        tmp_path / "e.xlsx",
        ["户主姓名", "身份证号码", "确权面积", "扣除面积", "扣除原因", "数量"],
        [[hs[0].name, hs[0].id_number, "6", "1", "建房", ""], [hs[1].name, hs[1].id_number, "", "", "", "3"]],
    )
    svc.transfer.import_applications(src, program=CODE, year=YEAR)
    a, b = app_of(svc, hs[0].id), app_of(svc, hs[1].id)
    with pytest.raises(VBError, match="请更正确权面积或扣除面积"):
        svc.applications.edit(a.id, quantity="9")
    with pytest.raises(ValidationFailed, match="超过了确权面积"):
        svc.applications.edit(a.id, land={"deducted_area": "7"})
    assert app_of(svc, hs[0].id).quantity == 5  # refused: nothing changed
    a = svc.applications.edit(a.id, land={"deducted_area": "2.5", "deduction_reason": "修路占地"})
    assert (a.deducted_area, a.deduction_reason, a.quantity) == (Decimal("2.5"), "修路占地", Decimal("3.5"))
    assert a.amount_fen == entitlement_fen(Decimal("3.5"), a.rate_fen, svc.programs.get(YEAR, CODE).rounding)
    b = svc.applications.edit(b.id, land={"certified_area": "4"})  # a bare 数量 row gains its land
    assert (b.certified_area, b.deducted_area, b.quantity) == (Decimal(4), Decimal(0), Decimal(4))


def test_a_correction_notice_corrects_the_land(svc: Services, tmp_path) -> None:
    v = next(v for v in svc.registry.villages() if free(svc, 1, v.id))
    [h] = free(svc, 1, v.id)
    src = write(
        tmp_path / "c.xlsx",
        ["户主姓名", "身份证号码", "确权面积", "扣除面积", "扣除原因"],
        [[h.name, h.id_number, "6", "1", "建房"]],
    )
    svc.transfer.import_applications(src, program=CODE, year=YEAR)
    a = app_of(svc, h.id)
    n = svc.notices.post(svc.notices.create("application", YEAR, v.id, CODE).code)
    o = svc.notices.add_objection(n.code, "确权面积应为8亩")
    _o, c = svc.notices.resolve_objection(
        o.id, "经核实更正", correct=True, edits=[(a.id, "certified_area", "8"), (a.id, "deducted_area", "1.5")]
    )
    fields = {ch["field"]: (ch["old"], ch["new"]) for ch in c.changes}
    assert fields["确权面积"] == ("6", "8") and fields["扣除面积"] == ("1", "1.5") and fields["数量"] == ("5", "6.5")
    assert "金额" in fields
    a = svc.applications.get(a.id)
    assert (a.certified_area, a.deducted_area, a.quantity) == (Decimal(8), Decimal("1.5"), Decimal("6.5"))
