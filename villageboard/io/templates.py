"""Blank import sheets (农户导入模板.xlsx, 申报导入模板.xlsx) for the villages to fill in.

Why generate them instead of shipping binary files: the column names come from the same
:class:`~villageboard.io.headers.FieldSpec` the importer reads, so the template and the
importer cannot drift apart, and a township can get lists of its own villages and
programs as drop-downs.

What the templates do to prevent the usual mistakes:

* ID, bank account and phone columns are formatted as text *before* anything is typed,
  so Excel never turns an ID into ``1.41025E+17``;
* data validation stops an ID that is not 18 characters, a non-positive area and a
  phone number of the wrong length as it is typed;
* row 2 is a grey example row starting with 示例, which the importer skips (a template
  prefilled with last year's rows has none: its rows start on row 2);
* a 填表说明 sheet explains, in plain words, how to fill each column.

Run ``python -m villageboard.io.templates OUTDIR`` to write both files.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from villageboard.io.headers import (
    APPLICATION_FIELDS,
    HOUSEHOLD_FIELDS,
    FieldSpec,
)
from villageboard.io.xlsx_out import column_letter, display_width, save_workbook_atomic

__all__ = [
    "APPLICATION_TEMPLATE",
    "HOUSEHOLD_TEMPLATE",
    "main",
    "write_application_template",
    "write_blank_templates",
]

HOUSEHOLD_TEMPLATE = "农户导入模板.xlsx"
APPLICATION_TEMPLATE = "申报导入模板.xlsx"
DATA_ROWS = 2000  # rows prepared with text format and validation

_EXAMPLE: dict[str, object] = {
    "village": "东风村",
    "group": "3组",
    "name": "张三",
    "id_number": "11010519491231002X",
    "phone": "13800138000",
    "card_account": "6228480012345671",
    "bank": "农村信用社古县支行",
    "program": "耕地地力保护补贴",
    "year": 2026,
    "quantity": 3.5,
    "certified_area": 4,
    "deducted_area": 0.5,
    "deduction_reason": "修路占地",
    "remark": "这一行是示例，导入时自动跳过",
}

_HOW = {
    "village": "所在行政村的名称，如“东风村”",
    "group": "村民小组，如“3组”；没有分组的可以不填",
    "name": "户主姓名，只写汉字；少数民族姓名中间用“·”隔开",
    "id_number": "18位身份证号码，最后一位是X的写X（大小写都可以）",
    "phone": "11位手机号，或带区号的固定电话（如0357-5221234）",
    "card_account": "惠农一卡通（社保卡、存折）账号，只写数字",
    "bank": "开户银行或信用社名称",
    "program": "补贴项目名称或代码；导入时已选定项目的，可以不填",
    "year": "补贴年度，4位数字，如2026；导入时已选定年度的，可以不填",
    "quantity": "申报的亩数（或头数、台数），只写数字，最多两位小数，如3.5；"
    "填了确权面积的，可以不填（按确权面积减扣除面积计算），填了就必须相等",
    "certified_area": "按面积补贴的项目（如耕地地力保护补贴）：确权（承包）面积，只写数字，如4",
    "deducted_area": "确权面积中不再享受补贴的面积，没有扣除的不填或填0；不能超过确权面积",
    "deduction_reason": "有扣除面积的必须写明原因，如修路占地、退耕还林、建房、撂荒",
    "remark": "需要说明的情况，可以不填",
}

_TEXT_KEYS = ("id_number", "card_account", "phone")


@dataclass(frozen=True)
class _Template:
    filename: str
    sheet_title: str
    fields: tuple[FieldSpec, ...]
    header: dict[str, str]  # key -> header text written (decorated label)


def _header_text(f: FieldSpec) -> str:
    label = "数量（亩/头/台）" if f.key == "quantity" else f.label
    return f"*{label}" if f.required else label


def _template(filename: str, sheet_title: str, fields: Sequence[FieldSpec]) -> _Template:
    return _Template(filename, sheet_title, tuple(fields), {f.key: _header_text(f) for f in fields})


def _validations(ws: Any, columns: dict[str, str], lists: dict[str, str], last_row: int) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    def add(key: str, dv: DataValidation) -> None:
        if key not in columns:
            return
        dv.allow_blank = True
        dv.showErrorMessage = True
        dv.showInputMessage = True
        letter = columns[key]
        dv.add(f"{letter}2:{letter}{last_row}")
        ws.add_data_validation(dv)

    add(
        "id_number",
        DataValidation(
            type="textLength",
            operator="equal",
            formula1="18",
            errorTitle="身份证号码位数不对",
            error="身份证号码应为18位，请检查是否多输或少输了数字。",
            promptTitle="身份证号码",
            prompt="填18位身份证号码，最后一位是X的写X。",
        ),
    )
    add(
        "phone",
        DataValidation(
            type="textLength",
            operator="between",
            formula1="11",
            formula2="16",
            errorTitle="电话位数不对",
            error="请填11位手机号，或带区号的固定电话（如0357-5221234）。",
            promptTitle="联系电话",
            prompt="11位手机号，或带区号的固定电话。",
        ),
    )
    add(
        "card_account",
        DataValidation(
            type="textLength",
            operator="between",
            formula1="12",
            formula2="23",
            errorTitle="账号位数不对",
            error="一卡通账号一般是12到23位数字，请与存折或银行卡核对。",
            promptTitle="一卡通账号",
            prompt="只写数字，不要空格。",
        ),
    )
    add(
        "quantity",
        DataValidation(
            type="decimal",
            operator="greaterThan",
            formula1="0",
            errorTitle="数量不对",
            error="数量要大于0，只写数字（如3.5），最多两位小数。",
            promptTitle="数量",
            prompt="只写数字，如3.5；单位看补贴项目（亩、头、台）。",
        ),
    )
    add(
        "year",
        DataValidation(
            type="whole",
            operator="between",
            formula1="2000",
            formula2="2100",
            errorTitle="年度不对",
            error="年度写4位数字，如2026。",
        ),
    )
    for key, ref in lists.items():
        add(
            key,
            DataValidation(
                type="list",
                formula1=ref,
                errorTitle="不在名单里",
                error="请从下拉列表中选择；名单不对请联系乡镇经办人。",
            ),
        )


def _write_template(
    path: Path,
    tpl: _Template,
    choices: Mapping[str, Sequence[str]],
    rows: Sequence[Mapping[str, object]] = (),
) -> Path:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = tpl.sheet_title

    keys = ["seq", *(f.key for f in tpl.fields)]
    headers = ["序号", *(tpl.header[f.key] for f in tpl.fields)]
    columns = {key: column_letter(i + 1) for i, key in enumerate(keys)}
    last_row = DATA_ROWS + 1

    header_font = Font(bold=True)
    required_font = Font(bold=True, color="C00000")
    header_fill = PatternFill("solid", fgColor="D9D9D9")
    example_font = Font(italic=True, color="808080")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    specs = {f.key: f for f in tpl.fields}

    for i, (key, text) in enumerate(zip(keys, headers, strict=True), start=1):
        cell = ws.cell(row=1, column=i, value=text)
        cell.font = required_font if key in specs and specs[key].required else header_font
        cell.fill = header_fill
        cell.alignment = center
        if key in _HOW:
            cell.comment = Comment(_HOW[key], "villageboard")
        letter = column_letter(i)
        example = "示例" if key == "seq" else _EXAMPLE.get(key, "")
        width = max(display_width(text), display_width(str(example))) + 4
        ws.column_dimensions[letter].width = min(max(width, 8), 40)
        if key in _TEXT_KEYS:
            ws.column_dimensions[letter].number_format = "@"
            ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width, 22)
            for row in range(2, last_row + 1):
                ws.cell(row=row, column=i).number_format = "@"
        if rows:
            continue  # prefilled: the rows themselves show how it is filled
        ex = ws.cell(row=2, column=i, value=example if example != "" else None)
        ex.font = example_font
        if key in _TEXT_KEYS:
            ex.number_format = "@"
    first = 2 if rows else 3  # below the example row, when there is one
    for r, values in enumerate(rows, start=first):
        ws.cell(row=r, column=1, value=r - first + 1)
        for i, key in enumerate(keys[1:], start=2):
            value = values.get(key)
            if value is None or value == "":
                continue
            cell = ws.cell(row=r, column=i, value=str(value) if key in _TEXT_KEYS else value)
            if key in _TEXT_KEYS:
                cell.data_type = "s"
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    _fit_to_page_width(ws, landscape=True)

    lists: dict[str, str] = {}
    options = [(k, v) for k, v in choices.items() if k in specs and v]
    if options:
        opt = wb.create_sheet("选项")
        for col, (key, choice_values) in enumerate(options, start=1):
            letter = column_letter(col)
            opt.cell(row=1, column=col, value=specs[key].label)
            for r, v in enumerate(choice_values, start=2):
                opt.cell(row=r, column=col, value=str(v)).data_type = "s"
            lists[key] = f"'选项'!${letter}$2:${letter}${len(choice_values) + 1}"
        opt.sheet_state = "hidden"
    _validations(ws, columns, lists, last_row)

    notes = wb.create_sheet("填表说明")
    _write_instructions(notes, tpl, prefilled=bool(rows))
    wb.active = 0
    return save_workbook_atomic(wb, path)


def _fit_to_page_width(ws: Any, landscape: bool) -> None:
    """Print all columns on one page width (clerks print the sheet for the villages)."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _write_instructions(ws: Any, tpl: _Template, prefilled: bool = False) -> None:
    from openpyxl.styles import Alignment, Font

    title = tpl.filename.removesuffix(".xlsx").replace("模板", "表")
    lines = [
        f"{title} 填表说明",
        "",
        f"1. 在“{tpl.sheet_title}”页填写，每户一行。不要合并单元格，不要插入空行或小计行。",
        "2. 列名前带“*”的必须填写；其他列可以不填。列名不要改，列的先后顺序可以调整，也可以增加自己的列（如序号），导入时不看这些列。",
        (
            "3. 表中已填好上一年的名单，请逐户核对、改正，不再享受的整行删掉，新增的接着往下填。"
            if prefilled
            else "3. 第2行是灰色的示例，可以留着，也可以删掉，导入时会自动跳过。"
        ),
        "4. 身份证号码、一卡通账号、联系电话这几列已经设成“文本”格式，直接输入数字就行。"
        "从别的表复制过来时，请用“选择性粘贴—数值”或“只粘贴文本”，否则长数字会变成 1.41025E+17 这样，末几位就丢了，只能重新抄写。",
        "5. 数量只写数字，如 3.5，最多两位小数，不要写“亩”字也可以。",
        "6. 填好后保存为 .xlsx 文件；也可以另存为 CSV（逗号分隔），两种都能导入。",
        "7. 导入时如果有错，程序会生成一份同样的表，在最右边“错误原因”一列写明哪一行、哪一项不对，出错的格子标成红色。改好后直接再导入那份表即可。",
        "8. 表里有身份证号、账号等个人信息，属于内部资料，不要张贴、不要发到群里。",
        "",
        "各列怎么填：",
    ]
    widths = {"A": 20, "B": 10, "C": 50, "D": 24}
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    _fit_to_page_width(ws, landscape=False)
    row = 1
    wrap_line = Alignment(wrap_text=True, vertical="top")
    line_width = sum(widths.values()) - 8  # the four columns below, less a margin
    for i, line in enumerate(lines):
        cell = ws.cell(row=row, column=1, value=line or None)
        if i == 0:
            cell.font = Font(bold=True, size=14)
            ws.row_dimensions[row].height = 24
        elif line:
            # one merged, wrapped cell per paragraph so long lines neither spill into
            # the table's columns nor get cut off when printed
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
            cell.alignment = wrap_line
            lines_needed = -(-display_width(line) // line_width)
            ws.row_dimensions[row].height = 16 * max(lines_needed, 1)
        row += 1
    for col, text in enumerate(("列名", "是否必填", "怎么填", "示例"), start=1):
        ws.cell(row=row, column=col, value=text).font = Font(bold=True)
    row += 1
    wrap = Alignment(wrap_text=True, vertical="top")
    for f in tpl.fields:
        ws.cell(row=row, column=1, value=tpl.header[f.key])
        ws.cell(row=row, column=2, value="必填" if f.required else "可不填")
        ws.cell(row=row, column=3, value=_HOW.get(f.key, "")).alignment = wrap
        ex = ws.cell(row=row, column=4, value=str(_EXAMPLE.get(f.key, "")))
        ex.number_format = "@"
        row += 1
    ws.cell(row=row + 1, column=1, value="（本页只是说明，导入时不读取。）").font = Font(italic=True, color="808080")


def write_blank_templates(
    folder: str | Path,
    *,
    villages: Sequence[str] = (),
    groups: Sequence[str] = (),
    programs: Sequence[str] = (),
) -> list[Path]:
    """Write 农户导入模板.xlsx and 申报导入模板.xlsx into ``folder`` and return their paths.

    When the township's ``villages``, ``groups`` or ``programs`` are given, those columns
    get drop-down lists (kept on a hidden 选项 sheet, so long lists work).
    """
    folder = Path(folder)
    choices = {"village": villages, "group": groups, "program": programs}
    household = _template(HOUSEHOLD_TEMPLATE, "农户信息", HOUSEHOLD_FIELDS)
    application = _template(APPLICATION_TEMPLATE, "申报信息", APPLICATION_FIELDS)
    return [
        _write_template(folder / household.filename, household, choices),
        _write_template(folder / application.filename, application, choices),
    ]


def write_application_template(
    path: str | Path,
    rows: Sequence[Mapping[str, object]],
    *,
    villages: Sequence[str] = (),
    groups: Sequence[str] = (),
    programs: Sequence[str] = (),
) -> Path:
    """The application template with ``rows`` already filled in from row 2, no example
    row (field key -> value; IDs and accounts as text, areas as numbers): last year's list,
    land included, for the villages to check and correct instead of typing it again."""
    choices = {"village": villages, "group": groups, "program": programs}
    application = _template(APPLICATION_TEMPLATE, "申报信息", APPLICATION_FIELDS)
    return _write_template(Path(path), application, choices, rows)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m villageboard.io.templates OUTDIR``: write both blank templates."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in {"-h", "--help"}:
        print("用法：python -m villageboard.io.templates 输出文件夹", file=sys.stderr)
        return 2
    from villageboard.domain.errors import VBError

    try:
        paths = write_blank_templates(args[0])
    except VBError as e:
        print(str(e), file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
