"""Arbitrary cell texts — junk, formulas, very long strings — never crash read_table, and
every row it returns carries the row number it has in the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from villageboard.io.errors_sheet import write_errors_sheet
from villageboard.io.headers import APPLICATION_FIELDS
from villageboard.io.table_source import TableError
from villageboard.io.tables import read_table

HEADER = ["户主姓名", "身份证号码", "面积", "备注"]
KEYS = ["name", "id_number", "quantity", "remark"]

junk = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "=1+1",
            "=SUM(A1:A3)",
            "#N/A",
            "1.41025199001011E+17",
            "３．５亩",
            "合 计",
            "示例",
            " ",
            "\u3000",
            "𠮷",
            "TRUE",
            "'0123",
            '="0123"',
            "",
            "户主姓名",
        ]
    ),
    # very long strings, cheaply: a short piece repeated (up to ~60,000 characters)
    st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=20), st.integers(100, 3000)),
    st.integers(min_value=-(10**18), max_value=10**18).map(str),
)
cell = st.one_of(st.none(), junk)
grid = st.lists(st.lists(cell, min_size=0, max_size=7), min_size=0, max_size=12)
settings_ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def xlsx_safe(value: str | None) -> str | None:
    """What openpyxl stores: no control characters, at most 32,767 characters (Excel's
    limit); XML reads a CR back as LF."""
    if value is None:
        return None
    return ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")[:32767]


def expected_row(cells: list[str | None]) -> dict[str, str]:
    """What the cleaning rules must make of the four known columns (text cells)."""
    out = {}
    for i, key in enumerate(KEYS):
        v = cells[i] if i < len(cells) else None
        out[key] = "" if v is None else v
    return out


def check_rows(sheet, written: dict[int, list[str | None]]) -> None:
    numbers = [r.row_number for r in sheet.rows]
    assert numbers == sorted(set(numbers))
    for row in sheet.rows:
        assert row.row_number in written, row.row_number
        source = written[row.row_number]
        raw = [None if v == "" else v for v in row.raw]
        assert raw[: len(source)] == [None if v == "" else v for v in source][: len(raw)]
        for key, text in row.values.items():
            assert isinstance(text, str), key


@settings_
@given(title=st.lists(cell, max_size=3), top=st.integers(0, 4), body=grid)
def test_xlsx_junk_never_crashes(title: list[str | None], top: int, body: list[list[str | None]]) -> None:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "junk.xlsx"
        wb = Workbook()
        ws = wb.active
        written: dict[int, list[str | None]] = {}
        rows = [title] * top + [HEADER] + body
        for number, cells in enumerate(rows, start=1):
            cells = [xlsx_safe(c) for c in cells]
            for col, value in enumerate(cells, start=1):
                if value is not None:
                    c = ws.cell(row=number, column=col, value=value)
                    c.data_type = "s"  # the text exactly as typed, '=1+1' included
            written[number] = cells
        wb.save(path)

        sheet = read_table(path, APPLICATION_FIELDS)

        assert sheet.header_row >= 1
        check_rows(sheet, written)
        out = write_errors_sheet(path, sheet, {r.row_number: ["错"] for r in sheet.rows}, Path(tmp) / "e.xlsx")
        again = read_table(out, APPLICATION_FIELDS)
        assert [(r.row_number, r.values) for r in again.rows] == [(r.row_number, r.values) for r in sheet.rows]


@settings_
@given(body=grid)
def test_xlsx_formulas_never_crash(body: list[list[str | None]]) -> None:
    """Default openpyxl binding turns '=…' into formulas without a cached value."""
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.xlsx"
        wb = Workbook()
        ws = wb.active
        ws.append(HEADER)
        for cells in body:
            ws.append([xlsx_safe(c) for c in cells])
        wb.save(path)
        sheet = read_table(path, APPLICATION_FIELDS)
        assert all(2 <= r.row_number <= len(body) + 1 for r in sheet.rows)
        for row in sheet.rows:
            source = body[row.row_number - 2]
            assert any(v is not None and not str(v).startswith("=") for v in source)


@settings_
@given(body=grid, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), delimiter=st.sampled_from([",", "\t"]))
def test_csv_junk_never_crashes(body: list[list[str | None]], encoding: str, delimiter: str) -> None:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "junk.csv"
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=delimiter)
        rows = [HEADER] + [["" if c is None else c for c in cells] for cells in body]
        writer.writerows(rows)
        path.write_bytes(buf.getvalue().encode(encoding))

        try:
            sheet = read_table(path, APPLICATION_FIELDS)
        except TableError:
            return  # a clear message is fine; a traceback is not
        written = {n: list(r) for n, r in enumerate(rows, start=1)}
        if sheet.header_row == 1:
            check_rows(sheet, written)
        out = write_errors_sheet(path, sheet, {r.row_number: ["错"] for r in sheet.rows}, Path(tmp) / "e.xlsx")
        again = read_table(out, APPLICATION_FIELDS)
        if sheet.header_row == 1:
            assert [r.row_number for r in again.rows] == [r.row_number for r in sheet.rows]
