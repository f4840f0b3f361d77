"""write_sheet_book: real numbers for money (exact from fen), text cells for IDs and
accounts, frozen header, banner, totals; re-opened with openpyxl to check the types."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from villageboard.domain.errors import StorageError
from villageboard.io.xlsx_out import (
    ColumnOut,
    SheetOut,
    display_width,
    fen_to_yuan,
    safe_sheet_title,
    write_sheet_book,
)

COLUMNS = [
    ColumnOut("序号", "seq", "int"),
    ColumnOut("户主姓名", "name"),
    ColumnOut("身份证号码", "id_number"),
    ColumnOut("一卡通账号", "card"),
    ColumnOut("联系电话", "phone"),
    ColumnOut("面积（亩）", "quantity", "quantity"),
    ColumnOut("金额（元）", "amount", "money_fen"),
    ColumnOut("发放日期", "date", "date"),
]
ROWS = [
    {
        "seq": 1,
        "name": "张三",
        "id_number": "141025198001010011",
        "card": "0062284800123456789",
        "phone": "013800138000",
        "quantity": Decimal("3.5"),
        "amount": 123456789,
        "date": dt.date(2026, 3, 1),
    },
    {
        "seq": 2,
        "name": '=HYPERLINK("http://x")',
        "id_number": "14102519800101002X",
        "card": "6228480012345671",
        "phone": None,
        "quantity": "0.01",
        "amount": 1,
        "date": "2026-03-02",
    },
    {
        "seq": 3,
        "name": "买买提·艾力",
        "id_number": "141025198001010038",
        "card": "",
        "phone": "0357-5221234",
        "quantity": Decimal("12"),
        "amount": 10,
        "date": None,
    },
]


def book(tmp_path: Path, **kw) -> Path:
    sheet = SheetOut("发放清单", COLUMNS, ROWS, **kw)
    return write_sheet_book(tmp_path / "bank.xlsx", [sheet])


def test_money_is_numeric_and_exact(tmp_path: Path) -> None:
    ws = load_workbook(book(tmp_path)).active
    cell = ws["G2"]
    assert cell.data_type == "n"
    assert cell.value == 1234567.89
    assert Decimal(str(cell.value)) == Decimal("1234567.89")
    assert cell.number_format == "#,##0.00"
    assert ws["G3"].value == 0.01 and ws["G4"].value == 0.1
    assert fen_to_yuan(123456789) == Decimal("1234567.89")
    assert fen_to_yuan(-5) == Decimal("-0.05")
    # the XML holds the exact decimal text, not a float's drift
    import zipfile

    xml = zipfile.ZipFile(tmp_path / "bank.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<v>1234567.89</v>" in xml


def test_money_rejects_floats(tmp_path: Path) -> None:
    bad = SheetOut("x", [ColumnOut("金额", "a", "money_fen")], [{"a": 12.5}])
    with pytest.raises(TypeError):
        write_sheet_book(tmp_path / "x.xlsx", [bad])
    assert not (tmp_path / "x.xlsx").exists()


def test_text_cells_keep_leading_zeros_and_18_digits(tmp_path: Path) -> None:
    ws = load_workbook(book(tmp_path)).active
    assert ws["C2"].value == "141025198001010011" and ws["C2"].data_type == "s"
    assert ws["C2"].number_format == "@"
    assert ws["D2"].value == "0062284800123456789"
    assert ws["E2"].value == "013800138000"
    assert ws["B3"].value == '=HYPERLINK("http://x")' and ws["B3"].data_type == "s"
    assert ws["C3"].value == "14102519800101002X"
    assert ws["B4"].value == "买买提·艾力"
    assert ws.column_dimensions["C"].number_format == "@"


def test_quantities_ints_and_dates(tmp_path: Path) -> None:
    ws = load_workbook(book(tmp_path)).active
    assert ws["F2"].value == 3.5 and ws["F2"].number_format == "0.00"
    assert ws["F3"].value == 0.01
    assert ws["A2"].value == 1 and ws["A2"].data_type == "n"
    assert ws["H2"].value == dt.datetime(2026, 3, 1) and ws["H2"].number_format == "yyyy-mm-dd"
    assert ws["H3"].value == dt.datetime(2026, 3, 2)
    assert ws["H4"].value is None


def test_header_frozen_banner_totals_filter(tmp_path: Path) -> None:
    path = book(tmp_path, banner="内部资料 注意保密", totals={"quantity": Decimal("15.51"), "amount": 123456800})
    ws = load_workbook(path).active
    assert ws.title == "发放清单"
    assert ws["A1"].value == "内部资料 注意保密"
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == [c.label for c in COLUMNS]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:H5"
    assert ws.print_title_rows == "$2:$2"
    assert "内部资料" in ws.oddHeader.center.text
    assert ws["A6"].value == "合计"
    assert ws["F6"].value == 15.51
    assert ws["G6"].value == 1234568.0 and ws["G6"].number_format == "#,##0.00"
    assert ws["G6"].font.b


def test_without_banner_header_is_row_one(tmp_path: Path) -> None:
    ws = load_workbook(book(tmp_path)).active
    assert ws["A1"].value == "序号"
    assert ws.freeze_panes == "A2"


def test_column_widths_count_chinese_as_two(tmp_path: Path) -> None:
    assert display_width("户主姓名") == 8
    assert display_width("ab１") == 4
    ws = load_workbook(book(tmp_path)).active
    assert ws.column_dimensions["C"].width >= 18 + 2  # 18-digit ID
    assert ws.column_dimensions["B"].width >= display_width('=HYPERLINK("http://x")')


def test_several_sheets_unique_titles(tmp_path: Path) -> None:
    cols = [ColumnOut("村", "village"), ColumnOut("金额", "amount", "money_fen")]
    sheets = [
        SheetOut("汇总/按村", cols, [{"village": "东风村", "amount": 100}]),
        SheetOut("汇总/按村", cols, []),
        SheetOut("明细" * 20, cols, []),
    ]
    path = write_sheet_book(tmp_path / "county.xlsx", sheets)
    wb = load_workbook(path)
    assert wb.sheetnames == ["汇总_按村", "汇总_按村(2)", ("明细" * 20)[:31]]
    assert safe_sheet_title("a:b?") == "a_b_"


def test_atomic_write_keeps_old_file_on_error(tmp_path: Path) -> None:
    path = book(tmp_path)
    before = path.read_bytes()
    bad = SheetOut("x", [ColumnOut("数量", "q", "quantity")], [{"q": "三亩"}])
    with pytest.raises(ValueError):
        write_sheet_book(path, [bad])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.xlsx"]


def test_unwritable_folder_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError):
        write_sheet_book(blocker / "out.xlsx", [SheetOut("x", [ColumnOut("a", "a")], [])])


@pytest.mark.skipif(not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed")
def test_libreoffice_opens_it(tmp_path: Path) -> None:
    path = book(tmp_path, banner="内部资料 注意保密", totals={"amount": 123456800})
    exe = shutil.which("libreoffice") or shutil.which("soffice")
    subprocess.run(
        [
            exe,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path / "csv"),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    text = (tmp_path / "csv" / "bank.csv").read_text(encoding="utf-8")
    assert "141025198001010011" in text
    assert "0062284800123456789" in text
    assert "1,234,567.89" in text
