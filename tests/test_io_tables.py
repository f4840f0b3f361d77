"""read_table: the shapes of sheets clerks really bring (xlsx and csv, any column order,
title rows, merged headers, GBK, numbers where text belongs)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from openpyxl import Workbook
from stdnum.cn import ric

from villageboard.domain.validate import check_card, check_id_number, check_name, check_quantity
from villageboard.io.cells import excel_number_text
from villageboard.io.headers import (
    APPLICATION_FIELDS,
    HOUSEHOLD_FIELDS,
    PAYOUT_RETURN_FIELDS,
    FieldSpec,
    norm_header,
)
from villageboard.io.table_source import TableError
from villageboard.io.tables import read_table


def make_id(seed: int, region: str = "141025", birth: str = "19800101") -> str:
    body = f"{region}{birth}{seed % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def write_xlsx(path: Path, rows: list[list[object]], title: str = "Sheet1") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


HOUSEHOLDS = [
    {
        "village": "东风村",
        "group": "1组",
        "name": "王建国",
        "id_number": make_id(1),
        "phone": "13912345678",
        "card_account": "6228480012345671",
        "bank": "古县农商银行",
        "remark": "",
    },
    {
        "village": "东风村",
        "group": "2组",
        "name": "买买提·艾力",
        "id_number": make_id(2),
        "phone": "",
        "card_account": "",
        "bank": "",
        "remark": "低保户",
    },
    {
        "village": "红旗村",
        "group": "",
        "name": "欧阳秀英",
        "id_number": make_id(3),
        "phone": "0357-5221234",
        "card_account": "",
        "bank": "",
        "remark": "新 增 户",
    },
]
LABELS = {
    "village": "村",
    "group": "组",
    "name": "户主姓名",
    "id_number": "身份证号码",
    "phone": "联系电话",
    "card_account": "一卡通账号",
    "bank": "开户银行",
    "remark": "备注",
}


def test_xlsx_shuffled_columns_and_extra_columns(tmp_path: Path) -> None:
    keys = list(LABELS)
    random.Random(4).shuffle(keys)
    header = ["序号", *(LABELS[k] for k in keys), "家庭人口"]
    rows = [header]
    for i, h in enumerate(HOUSEHOLDS, start=1):
        rows.append([i, *(h[k] or None for k in keys), 3])
    path = write_xlsx(tmp_path / "农户.xlsx", rows)

    sheet = read_table(path, HOUSEHOLD_FIELDS)

    assert sheet.source_kind == "xlsx"
    assert sheet.encoding is None
    assert sheet.header_row == 1
    assert sheet.errors == []
    assert [r.row_number for r in sheet.rows] == [2, 3, 4]
    for got, want in zip(sheet.rows, HOUSEHOLDS, strict=True):
        assert got.values == want
        assert got.raw[0] == got.row_number - 1  # the 序号 column is kept in raw
    assert sheet.columns["id_number"] == header.index("身份证号码")
    assert sheet.labels["name"] == "户主姓名"


def test_header_synonyms_and_decorations(tmp_path: Path) -> None:
    header = ["*户主", "公民身份号码（必填）", "所在村", "村民小组", "手机号码", "一卡通/存折账号", "开户行 ", "备 注"]
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [header, ["张三", make_id(5), "东风村", "3组", "13800138000", "6228480012345671", "信用社", "无"]],
    )
    sheet = read_table(path, HOUSEHOLD_FIELDS)
    assert sheet.errors == []
    assert sheet.rows[0].values["card_account"] == "6228480012345671"
    assert sheet.labels["id_number"] == "公民身份号码（必填）"
    assert norm_header("＊户 主 姓 名（必填）") == "户主姓名"
    assert norm_header("面积(亩)") == "面积"


@pytest.mark.parametrize(
    "encoding,expected",
    [("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
)
def test_csv_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    rare = encoding not in {"gbk"}
    name = "吉𠮷祥" if rare else "吉祥"
    lines = [
        "户主姓名,身份证号码,村,组,面积",
        f"{name},{make_id(7)},东风村,1组,3.5",
        f"买买提·艾力,{make_id(8)},东风村,2组,2",
    ]
    path = tmp_path / f"申报-{encoding}.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")

    sheet = read_table(path, APPLICATION_FIELDS)

    assert sheet.source_kind == "csv"
    assert sheet.encoding == expected
    assert sheet.delimiter == ","
    assert sheet.errors == []
    assert [r.values["name"] for r in sheet.rows] == [name, "买买提·艾力"]
    assert check_name(sheet.rows[1].values["name"]).ok
    assert sheet.rows[0].values["quantity"] == "3.5"
    assert [r.row_number for r in sheet.rows] == [2, 3]


def test_gbk_file_lacking_rare_char_is_not_misread_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(f"姓名,身份证号,面积\n张三,{make_id(9)},1\n".encode("gbk"))
    sheet = read_table(path, APPLICATION_FIELDS)
    assert sheet.encoding == "gb18030"
    assert sheet.rows[0].values["name"] == "张三"


def test_tab_separated_and_utf16(tmp_path: Path) -> None:
    text = f"户主姓名\t身份证号码\t面积\r\n张三\t{make_id(10)}\t1.5\r\n"
    tsv = tmp_path / "a.txt"
    tsv.write_bytes(text.encode("gbk"))
    sheet = read_table(tsv, APPLICATION_FIELDS)
    assert sheet.delimiter == "\t"
    expected = {f.key: "" for f in APPLICATION_FIELDS}
    expected.update(name="张三", id_number=make_id(10), quantity="1.5")
    assert sheet.rows[0].values == expected

    # Excel's "Unicode text" is UTF-16 with a BOM and tabs
    u16 = tmp_path / "b.txt"
    u16.write_bytes(text.encode("utf-16"))
    sheet = read_table(u16, APPLICATION_FIELDS)
    assert sheet.encoding == "utf-16"
    assert sheet.rows[0].values["name"] == "张三"


def test_title_row_and_merged_header_cells_above_real_header(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "2026年耕地地力保护补贴申报表"
    ws.merge_cells("A1:G1")
    ws["A2"] = "填报单位：东风村委会"
    ws["E2"] = "填报日期：2026年3月1日"
    ws["A3"] = "农户信息"
    ws.merge_cells("A3:C3")
    ws["D3"] = "申报情况"
    ws.merge_cells("D3:G3")
    ws.append(["序号", "户主姓名", "身份证号码", "补贴面积（亩）", "项目", "年度", "备注"])
    ws.append([1, "张三", make_id(11), 3.5, "耕地地力保护补贴", 2026, None])
    ws.append([2, "李四", make_id(12), 12, "耕地地力保护补贴", 2026, "承包地"])
    wb.save(tmp_path / "t.xlsx")

    sheet = read_table(tmp_path / "t.xlsx", APPLICATION_FIELDS)

    assert sheet.header_row == 4
    assert sheet.errors == []
    assert [r.row_number for r in sheet.rows] == [5, 6]
    assert sheet.rows[0].values["quantity"] == "3.5"
    assert sheet.rows[1].values["quantity"] == "12"
    assert sheet.rows[1].values["year"] == "2026"


def test_two_row_header_with_vertically_merged_cells(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["东风村2026年补贴申报汇总"])
    ws.append(["序号", "户主姓名", "身份证号码", "面积情况", None, "备注"])
    ws.append([None, None, None, "申报面积", "核定面积", None])
    for col in "ABCF":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("D2:E2")
    ws.append([1, "张三", make_id(13), 4, 3.8, None])
    wb.save(tmp_path / "t.xlsx")

    sheet = read_table(tmp_path / "t.xlsx", APPLICATION_FIELDS)

    assert sheet.header_row == 3
    assert sheet.errors == []
    assert sheet.labels["name"] == "户主姓名"
    assert sheet.labels["quantity"] == "申报面积"
    assert sheet.rows[0].values["quantity"] == "4"
    assert sheet.rows[0].row_number == 4


@pytest.mark.parametrize(
    "cell,shown",
    [
        (1.41025199001011e17, "1.41025199001011E+17"),
        (141025199001011000, "1.41025199001011E+17"),
        (float(141025199001011234), "1.41025199001011E+17"),
    ],
)
def test_id_stored_as_number_is_flagged_never_repaired(tmp_path: Path, cell: object, shown: str) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["户主姓名", "身份证号码", "面积"], ["张三", cell, 2]])

    sheet = read_table(path, APPLICATION_FIELDS)

    value = sheet.rows[0].values["id_number"]
    assert value == shown
    assert not value.isdigit()  # never "repaired" into a plausible 18-digit number
    [problem] = sheet.errors
    assert problem.row == 2
    assert problem.field == "身份证号码"
    assert "被表格存成了数字" in problem.reason and "文本" in problem.reason
    check = check_id_number(value, today=dt.date(2026, 1, 1))
    assert not check.ok and "被表格存成了数字" in check.errors[0]


def test_card_account_stored_as_number_is_flagged(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["户主姓名", "账号", "金额", "处理结果"],
            ["张三", 6228480012345671, 125.5, "成功"],
            ["李四", "6228480012345671", "125.50", "成功"],
        ],
    )
    sheet = read_table(path, PAYOUT_RETURN_FIELDS)
    first, second = sheet.rows
    assert first.values["card_account"] == "6.22848001234567E+15"
    assert not check_card(first.values["card_account"]).ok
    assert first.values["amount"] == "125.5"
    assert second.values["card_account"] == "6228480012345671"
    assert [(p.row, p.field) for p in sheet.errors] == [(2, "账号")]
    assert "账号被表格存成了数字" in sheet.errors[0].reason


def test_csv_id_with_zeroed_tail_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("姓名,身份证号,面积\n张三,141025199001011000,1\n", encoding="utf-8")
    sheet = read_table(path, APPLICATION_FIELDS)
    [hint] = sheet.warnings
    assert hint.row == 2 and "存成过数字" in hint.reason
    assert sheet.rows[0].values["id_number"] == "141025199001011000"


def test_fullwidth_digits_and_spaces_cleaned_units_kept(tmp_path: Path) -> None:
    full_id = make_id(21).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["户主姓名", "身份证号码", "面积", "联系电话", "备注"],
            [
                "  买买提 · 艾力\u3000",
                f" {full_id[:6]} {full_id[6:]}\u00a0",
                "3.5亩",
                "１３８ ００１３ ８０００",
                "  东头  那块地 ",
            ],
            ["张三", make_id(22).lower(), "３．５", "\t13800138000", None],
        ],
    )
    sheet = read_table(path, APPLICATION_FIELDS + (FieldSpec("phone", "联系电话", ("电话",), False),))
    a, b = sheet.rows
    assert a.values["name"] == "买买提·艾力"
    assert check_name(a.values["name"]).ok
    assert a.values["id_number"] == make_id(21)
    assert a.values["quantity"] == "3.5亩"
    assert check_quantity(a.values["quantity"]).value == check_quantity("3.5").value
    assert a.values["phone"] == "13800138000"
    assert a.values["remark"] == "东头 那块地"
    assert b.values["quantity"] == "3.5"
    assert b.values["phone"] == "13800138000"
    assert check_id_number(b.values["id_number"], today=dt.date(2026, 1, 1)).ok


def test_csv_text_tricks_for_long_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    the_id = make_id(23)
    path.write_text(
        f'姓名,身份证号,面积\n张三,"=""{the_id}""",1\n李四,\'{the_id},1\n王五,"\t{the_id}",1\n', encoding="utf-8-sig"
    )
    sheet = read_table(path, APPLICATION_FIELDS)
    assert [r.values["id_number"] for r in sheet.rows] == [the_id] * 3


def test_missing_required_column_is_one_clear_problem(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["户主姓名", "面积", "村"], ["张三", 1, "东风村"]])
    sheet = read_table(path, APPLICATION_FIELDS)
    [problem] = sheet.errors
    assert problem.field == "身份证号码"
    assert problem.row == 1
    for synonym in ("身份证号码", "身份证号", "公民身份号码", "身份证"):
        assert synonym in problem.reason
    assert "第1行" in str(problem)


def test_no_header_at_all(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["甲", "乙"], [1, 2]])
    sheet = read_table(path, HOUSEHOLD_FIELDS)
    assert sheet.header_row == 0
    assert sheet.rows == []
    assert "没有找到表头" in sheet.errors[0].reason
    missing = {p.field for p in sheet.errors[1:]}
    assert missing == {"村", "户主姓名", "身份证号码"}


def test_blank_rows_skipped_row_numbers_as_excel_shows(tmp_path: Path) -> None:
    rows: list[list[object]] = [["户主姓名", "身份证号码", "面积", "申报日期"]]
    rows += [
        ["张三", make_id(31), 1, dt.datetime(2026, 3, 1)],
        [],
        [None, "  ", None, None],
        [8, None, None, None],  # a pre-numbered 序号-only row would land here too
        ["李四", make_id(32), 2, dt.date(2026, 3, 2)],
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    fields = APPLICATION_FIELDS + (FieldSpec("date", "申报日期", ("申报日期",), False),)
    sheet = read_table(path, fields)
    assert [r.row_number for r in sheet.rows] == [2, 5, 6]
    assert sheet.rows[0].values["date"] == "2026-03-01"
    assert sheet.rows[2].values["date"] == "2026-03-02"
    # row 5 has only a number in the name column: kept, for the validator to reject
    assert sheet.rows[1].values["name"] == "8"


def test_example_and_total_rows_are_skipped_with_a_note(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["序号", "户主姓名", "身份证号码", "面积"],
            ["示例", "张三", "11010519491231002X", 3.5],
            [1, "李四", make_id(41), 2],
            ["合计", None, None, 2],
        ],
    )
    sheet = read_table(path, APPLICATION_FIELDS)
    assert [r.row_number for r in sheet.rows] == [3]
    assert sheet.errors == []
    assert {(p.row, p.reason) for p in sheet.warnings} == {
        (2, "这一行是填表示例，已跳过"),
        (4, "这一行是合计行，已跳过"),
    }


def test_duplicate_columns_are_reported(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx", [["户主姓名", "身份证号", "身份证号", "面积"], ["张三", make_id(1), make_id(2), 1]]
    )
    sheet = read_table(path, APPLICATION_FIELDS)
    [problem] = sheet.errors
    assert "第B列" in problem.reason and "第C列" in problem.reason

    path = write_xlsx(tmp_path / "b.xlsx", [["户主姓名", "姓名", "身份证号", "面积"], ["张三", "张", make_id(1), 1]])
    sheet = read_table(path, APPLICATION_FIELDS)
    assert sheet.errors == []
    assert sheet.rows[0].values["name"] == "张三"
    assert "没有使用" in sheet.warnings[0].reason


def test_payout_return_reason_is_not_confused_with_errors_column(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["姓名", "卡号", "发放金额", "状态", "失败原因", "错误原因"],
            ["张三", "6228480012345671", "1,234.50", "失败", "账户已销户", "旧的错误"],
        ],
    )
    sheet = read_table(path, PAYOUT_RETURN_FIELDS)
    assert sheet.errors == []
    assert sheet.rows[0].values["reason"] == "账户已销户"
    assert sheet.rows[0].values["amount"] == "1,234.50"
    assert sheet.rows[0].values["result"] == "失败"


def test_picks_the_data_sheet_among_several(tmp_path: Path) -> None:
    wb = Workbook()
    notes = wb.active
    notes.title = "填表说明"
    notes.append(["请按要求填写"])
    notes.append(["户主姓名：写户主"])
    data = wb.create_sheet("申报")
    data.append(["户主姓名", "身份证号码", "面积"])
    data.append(["张三", make_id(3), 1])
    wb.save(tmp_path / "a.xlsx")
    sheet = read_table(tmp_path / "a.xlsx", APPLICATION_FIELDS)
    assert sheet.sheet_name == "申报"
    assert len(sheet.rows) == 1
    assert read_table(tmp_path / "a.xlsx", APPLICATION_FIELDS, sheet_name="填表说明").rows == []


def test_old_xls_gets_a_clear_chinese_error(tmp_path: Path) -> None:
    path = tmp_path / "老表.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(TableError) as err:
        read_table(path, HOUSEHOLD_FIELDS)
    assert ".xlsx" in str(err.value) and "另存为" in str(err.value)


@pytest.mark.parametrize(
    "name,content,words",
    [
        ("坏.xlsx", b"PK\x03\x04garbage", "打不开"),
        ("半截.xlsx", b"not a zip at all", "不是有效的 xlsx"),
        ("网页.xls", "<html><table><tr><td>户主姓名</td></tr></table></html>".encode(), "网页格式"),
        ("空.csv", b"", "空的"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TableError, match=words):
        read_table(path, HOUSEHOLD_FIELDS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="找不到文件"):
        read_table(tmp_path / "无.xlsx", HOUSEHOLD_FIELDS)


def test_excel_number_text() -> None:
    assert excel_number_text(141025199001011000) == "1.41025199001011E+17"
    assert excel_number_text(1.4102519900101e17) == "1.4102519900101E+17"
    assert excel_number_text(6228480012345671) == "6.22848001234567E+15"
    assert excel_number_text(12345) == "12345"
    assert excel_number_text(float("nan")) == ""


def test_bank_return_headers_as_banks_write_them(tmp_path: Path) -> None:
    path = tmp_path / "回盘.csv"
    path.write_bytes(
        "序号,户名,收款帐号,交易金额,交易状态,失败原因,代领人身份证号\n"
        "1,张三,6228480012345671,125.50,失败,账户已销户,\n".encode("gbk")
    )
    sheet = read_table(path, PAYOUT_RETURN_FIELDS)
    assert sheet.errors == []
    assert sheet.rows[0].values["name"] == "张三"
    assert sheet.rows[0].values["card_account"] == "6228480012345671"
    assert sheet.rows[0].values["id_number"] == ""  # 代领人's ID is not the household's
    assert "id_number" not in sheet.columns
    assert read_table(path, PAYOUT_RETURN_FIELDS).labels["card_account"] == "收款帐号"


def test_vertically_merged_village_cells_apply_to_every_row(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["村", "组", "户主姓名", "身份证号码", "面积"])
    ws.append(["东风村", "1组", "张三", make_id(51), 1])
    ws.append([None, None, "李四", make_id(52), 2])
    ws.append([None, "2组", "王五", make_id(53), 3])
    ws.append(["红旗村", None, "赵六", make_id(54), 4])
    ws.append([None, None, None, None, None])  # merged 村 reaches past the last household
    ws.merge_cells("A2:A4")
    ws.merge_cells("B2:B3")
    ws.merge_cells("A5:A6")
    wb.save(tmp_path / "a.xlsx")

    sheet = read_table(tmp_path / "a.xlsx", HOUSEHOLD_FIELDS)

    assert [(r.row_number, r.values["village"], r.values["group"]) for r in sheet.rows] == [
        (2, "东风村", "1组"),
        (3, "东风村", "1组"),
        (4, "东风村", "2组"),
        (5, "红旗村", ""),
    ]
    assert (2, 4, 1, 1) in sheet.merges
