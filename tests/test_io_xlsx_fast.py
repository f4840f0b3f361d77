"""The streaming sheet parser used by read_table gives exactly what openpyxl's read-only
``iter_rows(values_only=True)`` gives (with data_only=True), on openpyxl-written files,
Excel-style files (shared strings, prefixed namespaces, phonetic runs) and LibreOffice
files."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.datetime import WINDOWS_EPOCH

from villageboard.io.xlsx_fast import iter_worksheet, parse_sheet_xml


def trimmed(rows) -> list[tuple[int, list[object]]]:
    """Rows with trailing empty cells removed (openpyxl pads styled empty cells)."""
    out = []
    for number, cells in rows:
        cells = list(cells)
        while cells and cells[-1] is None:
            cells.pop()
        out.append((number, cells))
    while out and not out[-1][1]:
        out.pop()
    return out


def both(path: Path) -> tuple[list, list]:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        fast = trimmed(iter_worksheet(wb, ws))
        ws.reset_dimensions()
        slow = trimmed(enumerate(ws.iter_rows(min_row=1, values_only=True), start=1))
    finally:
        wb.close()
    return fast, slow


values = st.one_of(
    st.none(),
    st.text(max_size=20).map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s)),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from(["=1+1", "=SUM(A1:A2)", "  spaced  ", "户主姓名", "𠮷"]),
)
grids = st.lists(st.lists(values, max_size=6), max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=grids, gap=st.integers(0, 3), write_only=st.booleans())
def test_same_values_as_openpyxl(grid: list[list[object]], gap: int, write_only: bool) -> None:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.xlsx"
        wb = Workbook(write_only=write_only)
        ws = wb.create_sheet("s") if write_only else wb.active
        for _ in range(gap):
            ws.append([])
        for row in grid:
            ws.append(row)
        wb.save(path)
        fast, slow = both(path)
        assert fast == slow


def test_merged_and_styled_cells_match(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "标题"
    ws.merge_cells("A1:D1")
    ws["B3"] = 3.5
    ws["B3"].number_format = "0.00"
    ws["C3"] = dt.datetime(2026, 3, 1, 8, 30)
    ws["D3"] = dt.time(8, 30)
    ws["E3"] = dt.timedelta(hours=30)
    ws["F3"].number_format = "@"  # styled but empty
    ws["A7"] = "after a gap"
    wb.save(tmp_path / "a.xlsx")
    fast, slow = both(tmp_path / "a.xlsx")
    assert fast == slow
    assert fast[2] == (3, [None, 3.5, dt.datetime(2026, 3, 1, 8, 30), dt.time(8, 30), dt.timedelta(hours=30)])
    assert [n for n, _ in fast] == list(range(1, 8))


SHEET_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<x:dimension ref="A1:D5"/>
<x:sheetData>
<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="C1" t="s"><x:v>1</x:v></x:c></x:row>
<x:row r="3"><x:c r="A3" t="inlineStr"><x:is><x:r><x:t>张</x:t></x:r><x:r><x:t xml:space="preserve">三 </x:t></x:r><x:rPh sb="0" eb="1"><x:t>ちょう</x:t></x:rPh></x:is></x:c>
<x:c r="B3"><x:v>1.41025199001011E+17</x:v></x:c><x:c r="C3" s="1"><x:v>46082</x:v></x:c><x:c r="D3" t="b"><x:v>1</x:v></x:c></x:row>
<x:row><x:c t="str"><x:f>A1&amp;"x"</x:f><x:v>abc&amp;x</x:v></x:c><x:c t="e"><x:v>#N/A</x:v></x:c><x:c><x:f>1+1</x:f></x:c><x:c t="d"><x:v>2026-03-01T00:00:00</x:v></x:c></x:row>
<x:row r="2"><x:c r="A2"><x:v>99</x:v></x:c></x:row>
</x:sheetData>
<x:mergeCells count="1"><x:mergeCell ref="A1:B1"/></x:mergeCells>
</x:worksheet>"""


def test_excel_style_xml() -> None:
    rows = list(
        parse_sheet_xml(
            io.BytesIO(SHEET_XML.encode()), ["户主姓名", "身份证号码"], {1}, set(), WINDOWS_EPOCH, chunk_size=7
        )
    )
    assert rows == [
        (1, ["户主姓名", None, "身份证号码"]),
        (2, []),
        (3, ["张三 ", 1.41025199001011e17, dt.datetime(2026, 3, 1), True]),
        (4, ["abc&x", "#N/A", None, dt.datetime(2026, 3, 1)]),
        # the out-of-order row 2 is dropped, as openpyxl does
    ]


def test_dtd_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet><sheetData/></worksheet>'
    with pytest.raises(ValueError):
        list(parse_sheet_xml(io.BytesIO(bomb), [], set(), set(), WINDOWS_EPOCH))


@pytest.mark.skipif(not (shutil.which("libreoffice") or shutil.which("soffice")), reason="LibreOffice not installed")
def test_libreoffice_written_file_matches(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["户主姓名", "身份证号码", "面积", "日期", "备注"])
    ws.append(["张三", "141025198001010011", 3.5, dt.date(2026, 3, 1), "  有空格 "])
    ws.append(["李四", 141025198001010000, 2, None, "=1+1"])
    ws.append([])
    ws.append(["王五", "14102519800101002X", 1.25, dt.datetime(2026, 3, 2, 9, 0), None])
    src = tmp_path / "src" / "a.xlsx"
    src.parent.mkdir()
    wb.save(src)
    exe = shutil.which("libreoffice") or shutil.which("soffice")
    subprocess.run(
        [
            exe,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path / "lo-out"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    fast, slow = both(tmp_path / "lo-out" / "a.xlsx")
    assert fast == slow
    assert fast[1][1][:3] == ["张三", "141025198001010011", 3.5]


def test_falls_back_to_openpyxl_when_internals_change(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["户主姓名", 1, dt.date(2026, 3, 1)])
    wb.active.append([])
    wb.active.append(["张三", 2.5, None])
    wb.save(tmp_path / "a.xlsx")
    ro = load_workbook(tmp_path / "a.xlsx", read_only=True, data_only=True)
    ws = ro.worksheets[0]
    expected = trimmed(iter_worksheet(ro, ws))
    # a workbook object without the internals the fast path reads (as if a future
    # openpyxl renamed them): openpyxl's own iter_rows is used instead
    assert trimmed(iter_worksheet(object(), ws)) == expected
    ro.close()


def test_a_sheet_read_in_small_pieces_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("villageboard.io.xlsx_fast.PIECE", 40)  # a piece every row or two
    wb = Workbook()
    ws = wb.active
    ws.append(["户主姓名", "身份证号码", "面积"])
    for i in range(60):
        ws.append([f"张{i}", f"14102519800101{i:04d}", i / 4 if i % 3 else None, "a&b<c>" if i % 7 == 0 else i])
    wb.save(tmp_path / "a.xlsx")
    fast, slow = both(tmp_path / "a.xlsx")
    assert fast == slow
    assert len(fast) == 61
