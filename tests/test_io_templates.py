"""Blank import templates: the importer reads them (header found, example row skipped),
ID/account/phone columns are text, and data validation is in place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from villageboard.io.headers import APPLICATION_FIELDS, HOUSEHOLD_FIELDS
from villageboard.io.tables import read_table
from villageboard.io.templates import main, write_blank_templates


def validations(ws) -> dict[str, tuple[str, str | None, str | None]]:
    """column letter → (type, operator, formula1)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord.split(":")[0].rstrip("0123456789")] = (dv.type, dv.operator, dv.formula1)
    return out


def test_templates_read_back_empty_and_clean(tmp_path: Path) -> None:
    household, application = write_blank_templates(tmp_path)
    assert household.name == "农户导入模板.xlsx" and application.name == "申报导入模板.xlsx"

    for path, fields in ((household, HOUSEHOLD_FIELDS), (application, APPLICATION_FIELDS)):
        sheet = read_table(path, fields)
        assert sheet.header_row == 1
        assert sheet.errors == []
        assert sheet.rows == []  # the 示例 row is skipped
        assert [p.row for p in sheet.warnings] == [2]
        assert set(sheet.columns) == {f.key for f in fields}


def test_household_template_formats_and_validation(tmp_path: Path) -> None:
    household, _ = write_blank_templates(tmp_path)
    wb = load_workbook(household)
    assert wb.sheetnames[0] == "农户信息"
    assert "填表说明" in wb.sheetnames
    ws = wb["农户信息"]
    header = [c.value for c in ws[1]]
    assert header[0] == "序号"
    assert "*户主姓名" in header and "*身份证号码" in header
    assert ws.freeze_panes == "A2"
    id_col = "ABCDEFGHIJ"[header.index("*身份证号码")]
    card_col = "ABCDEFGHIJ"[header.index("一卡通账号")]
    phone_col = "ABCDEFGHIJ"[header.index("联系电话")]
    for col in (id_col, card_col, phone_col):
        assert ws[f"{col}2"].number_format == "@"
        assert ws[f"{col}500"].number_format == "@"
        assert ws.column_dimensions[col].number_format == "@"
    assert ws["A2"].value == "示例"
    assert ws["A2"].font.i and ws[f"{id_col}2"].font.color.rgb.endswith("808080")
    dvs = validations(ws)
    assert dvs[id_col] == ("textLength", "equal", "18")
    assert dvs[phone_col][0] == "textLength"
    assert dvs[card_col][0] == "textLength"
    notes = wb["填表说明"]
    text = "\n".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    assert "文本" in text and "示例" in text and "错误原因" in text


def test_application_template_quantity_validation_and_lists(tmp_path: Path) -> None:
    _, application = write_blank_templates(tmp_path, villages=["东风村", "红旗村"], programs=["耕地地力保护补贴"])
    wb = load_workbook(application)
    ws = wb["申报信息"]
    header = [c.value for c in ws[1]]
    qty_col = "ABCDEFGHIJ"[header.index("*数量（亩/头/台）")]
    village_col = "ABCDEFGHIJ"[header.index("村")]
    dvs = validations(ws)
    assert dvs[qty_col] == ("decimal", "greaterThan", "0")
    assert dvs[village_col][0] == "list" and "选项" in dvs[village_col][2]
    assert wb["选项"].sheet_state == "hidden"
    assert [c.value for c in wb["选项"]["A"]] == ["村", "东风村", "红旗村"]
    # the filled template imports (hidden 选项 sheet does not confuse the reader)
    ws.append([1, "东风村", "1组", "张三", "11010519491231002X", "耕地地力保护补贴", 2026, 3.5, None])
    wb.save(application)
    sheet = read_table(application, APPLICATION_FIELDS)
    assert [r.values["quantity"] for r in sheet.rows] == ["3.5"]
    assert sheet.sheet_name == "申报信息"


def test_module_entry_point(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "a")]) == 0
    assert "农户导入模板.xlsx" in capsys.readouterr().out
    assert main([]) == 2
    result = subprocess.run(
        [sys.executable, "-m", "villageboard.io.templates", str(tmp_path / "b")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "b" / "申报导入模板.xlsx").exists()
