"""write_errors_sheet: the clerk gets the same table back with 错误原因 beside the bad rows,
fixes the cells in Excel, and imports the same file again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from villageboard.domain.errors import Problem
from villageboard.domain.validate import check_id_number, check_name, check_quantity
from villageboard.io.errors_sheet import ERRORS_COLUMN, group_problems, write_errors_sheet
from villageboard.io.headers import APPLICATION_FIELDS
from villageboard.io.tables import Sheet, read_table

TODAY = dt.date(2026, 11, 28)


def make_id(seed: int) -> str:
    body = f"14102519800101{seed % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def validate(sheet: Sheet) -> dict[int, list[Problem]]:
    """What the import service will do: reader problems plus validator errors per cell."""
    out = group_problems(sheet.errors)
    checks = {"name": check_name, "quantity": check_quantity, "id_number": lambda v: check_id_number(v, today=TODAY)}
    for row in sheet.rows:
        for key, check in checks.items():
            result = check(row.values[key])
            for e in result.errors:
                p = Problem(e, field=sheet.label(key), row=row.row_number)
                if p not in out.get(row.row_number, []):
                    out.setdefault(row.row_number, []).append(p)
    return out


def build_source(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "东风村"
    ws["A1"] = "2026年耕地地力保护补贴申报表"
    ws.merge_cells("A1:F1")
    ws.append(["序号", "户主姓名", "身份证号码", "面积（亩）", "申报日期", "备注"])
    ws.append([1, "张三", make_id(1), 3.5, dt.datetime(2026, 3, 1), None])
    ws.append([2, "李四", 141025198001010000, 2, dt.datetime(2026, 3, 2), "身份证存成了数字"])
    ws.append([3, "王五x", make_id(3), "三亩", None, "=1+1 不是公式"])
    ws.append([])
    ws.append([5, "赵六", make_id(5), 1.25, None, None])
    ws["F5"].data_type = "s"
    wb.save(path)
    return path


def test_errors_sheet_round_trip(tmp_path: Path) -> None:
    src = build_source(tmp_path / "申报.xlsx")
    sheet = read_table(src, APPLICATION_FIELDS)
    assert [r.row_number for r in sheet.rows] == [3, 4, 5, 7]
    errors = validate(sheet)
    assert set(errors) == {4, 5}

    out = write_errors_sheet(src, sheet, errors, tmp_path / "申报-错误.xlsx")

    wb = load_workbook(out)
    ws = wb.active
    assert ws.title == "东风村"
    assert ws.freeze_panes == "A3"
    assert ws["A1"].value == "2026年耕地地力保护补贴申报表"
    assert [c.value for c in ws[2]] == [
        "序号",
        "户主姓名",
        "身份证号码",
        "面积（亩）",
        "申报日期",
        "备注",
        ERRORS_COLUMN,
    ]
    assert ws["G3"].value is None and ws["G7"].value is None  # good rows left blank
    assert "被表格存成了数字" in ws["G4"].value
    assert "姓名" in ws["G5"].value and "数量" in ws["G5"].value
    assert ws["C4"].fill.fgColor.rgb.endswith("FFC7CE")  # the bad ID cell is red
    assert ws["B5"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["D5"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["B3"].fill.fill_type is None
    assert ws["C4"].number_format == "@"  # retyped IDs will stay text
    assert ws["F5"].value == "=1+1 不是公式" and ws["F5"].data_type == "s"
    assert isinstance(ws["E3"].value, dt.datetime)

    again = read_table(out, APPLICATION_FIELDS)
    assert again.header_row == sheet.header_row
    assert [(r.row_number, r.values) for r in again.rows] == [(r.row_number, r.values) for r in sheet.rows]
    assert ERRORS_COLUMN not in again.labels.values()

    # the clerk fixes the flagged cells in Excel and saves
    wb = load_workbook(out)
    ws = wb.active
    ws["C4"] = make_id(4)
    ws["C4"].number_format = "@"
    ws["B5"] = "王五"
    ws["D5"] = 3
    wb.save(out)

    fixed = read_table(out, APPLICATION_FIELDS)
    assert fixed.errors == []
    assert validate(fixed) == {}
    assert [r.row_number for r in fixed.rows] == [3, 4, 5, 7]
    assert fixed.rows[1].values["id_number"] == make_id(4)

    # a second round reuses the 错误原因 column and clears old reasons
    wb = load_workbook(out)
    wb.active["B7"] = "赵"
    wb.save(out)
    second = read_table(out, APPLICATION_FIELDS)
    out2 = write_errors_sheet(out, second, validate(second), tmp_path / "第二轮.xlsx")
    ws = load_workbook(out2).active
    assert [c.value for c in ws[2]].count(ERRORS_COLUMN) == 1
    assert ws.max_column == 7
    assert ws["G4"].value is None and ws["G5"].value is None
    assert "姓名" in ws["G7"].value


def test_errors_sheet_from_gbk_csv(tmp_path: Path) -> None:
    src = tmp_path / "申报.csv"
    lines = [
        "户主姓名,身份证号码,面积,备注",
        f"张三,{make_id(1)},3.5,",
        '李四,12345,2,=HYPERLINK("x")',
        "",
        f"王五,{make_id(2)},1,",
    ]
    src.write_bytes("\r\n".join(lines).encode("gbk"))
    sheet = read_table(src, APPLICATION_FIELDS)
    errors = validate(sheet)
    assert set(errors) == {3}

    out = write_errors_sheet(src, sheet, errors, tmp_path / "err.xlsx")

    ws = load_workbook(out).active
    assert ws["E1"].value == ERRORS_COLUMN
    assert "18位" in ws["E3"].value
    assert ws["B2"].value == make_id(1) and ws["B2"].data_type == "s"
    assert ws["D3"].data_type == "s"  # CSV text never becomes a formula
    again = read_table(out, APPLICATION_FIELDS)
    assert [(r.row_number, r.values) for r in again.rows] == [(r.row_number, r.values) for r in sheet.rows]


def test_plain_string_messages_and_unknown_columns(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text(f"姓名,身份证号,面积\n张三,{make_id(1)},1\n", encoding="utf-8")
    sheet = read_table(src, APPLICATION_FIELDS)
    out = write_errors_sheet(src, sheet, {2: ["该户已死亡，不能申报", "身份证号与户籍不符"]}, tmp_path / "e.xlsx")
    ws = load_workbook(out).active
    assert ws["D2"].value == "该户已死亡，不能申报；身份证号与户籍不符"
    assert ws["B2"].fill.fgColor.rgb.endswith("FFC7CE")  # 身份证 named in a message
    assert ws["A2"].fill.fill_type is None


def test_output_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text(f"姓名,身份证号,面积\n张三,{make_id(1)},1\n", encoding="utf-8")
    sheet = read_table(src, APPLICATION_FIELDS)
    out = tmp_path / "out" / "e.xlsx"
    write_errors_sheet(src, sheet, {}, out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["e.xlsx"]


def test_errors_sheet_keeps_merged_cells(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "东风村申报表"
    ws.merge_cells("A1:E1")
    ws.append(["村", "户主姓名", "身份证号码", "面积", "备注"])
    ws.append(["东风村", "张三", make_id(1), 1, None])
    ws.append([None, "李四x", make_id(2), 2, None])
    ws.append([None, None, None, None, None])
    ws.merge_cells("A3:A5")
    wb.save(tmp_path / "a.xlsx")
    sheet = read_table(tmp_path / "a.xlsx", APPLICATION_FIELDS)
    assert [r.values["village"] for r in sheet.rows] == ["东风村", "东风村"]

    out = write_errors_sheet(tmp_path / "a.xlsx", sheet, validate(sheet), tmp_path / "e.xlsx")

    ws = load_workbook(out).active
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:E1", "A3:A5"}
    assert ws["F2"].value == ERRORS_COLUMN and "姓名" in ws["F4"].value
    again = read_table(out, APPLICATION_FIELDS)
    assert [(r.row_number, r.values) for r in again.rows] == [(r.row_number, r.values) for r in sheet.rows]
