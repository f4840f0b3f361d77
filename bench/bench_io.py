"""Benchmark: read a 10,000-row application sheet (xlsx and csv) with read_table.

Target (DESIGN.md §8): import of a 10,000-row xlsx ≤ 3 s; reading is only part of it,
so it should take well under that. Also times writing a 10,000-row bank sheet and an
errors sheet for the same file.

    .venv/bin/python bench/bench_io.py [ROWS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

from villageboard.io.errors_sheet import write_errors_sheet
from villageboard.io.headers import APPLICATION_FIELDS
from villageboard.io.tables import read_table
from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book

HEADER = ["序号", "村", "组", "户主姓名", "身份证号码", "补贴项目", "年度", "面积（亩）", "一卡通账号", "备注"]
CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(n: int) -> str:
    body = f"141025{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, CHECK_WEIGHTS, strict=True)) % 11]


def rows(n: int) -> list[list[object]]:
    out: list[list[object]] = []
    for i in range(n):
        out.append(
            [
                i + 1,
                f"第{i % 50}村",
                f"{i % 9 + 1}组",
                "张三丰" if i % 3 else "买买提·艾力",
                make_id(i),
                "耕地地力保护补贴",
                2026,
                round(1 + (i % 400) / 20, 2),
                f"62284800{i:08d}",
                "" if i % 7 else "承包地",
            ]
        )
    return out


def write_excel_like(path: Path, table: Sequence[Sequence[object]]) -> None:
    """An xlsx laid out the way Excel and WPS save it: shared strings and a <dimension>.

    openpyxl itself writes inline strings and no dimension, which its read-only reader
    handles about twice as slowly; clerks' files come from Excel/WPS, so the benchmark
    uses this layout (and reports the openpyxl-written file separately).
    """
    strings: dict[str, int] = {}
    out_rows = []
    width = max(len(r) for r in table)
    for r_idx, row in enumerate(table, start=1):
        cells = []
        for c_idx, value in enumerate(row):
            ref = f"{chr(65 + c_idx)}{r_idx}"
            if value is None or value == "":
                continue
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                idx = strings.setdefault(str(value), len(strings))
                cells.append(f'<c r="{ref}" t="s"><v>{idx}</v></c>')
        out_rows.append(f'<row r="{r_idx}" spans="1:{width}">{"".join(cells)}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {ns} {rel_ns}>'
        f'<dimension ref="A1:{chr(64 + width)}{len(table)}"/><sheetData>{"".join(out_rows)}</sheetData></worksheet>'
    )
    sst = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst {ns} count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>"
    )
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook {ns} {rel_ns}>'
            '<sheets><sheet name="申报" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": sst,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)


def median_time(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """(wall, CPU) medians. CPU time is the steadier figure on a shared, busy machine."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def fmt(t: tuple[float, float]) -> str:
    return f"{t[0]:.3f} s (CPU {t[1]:.3f} s)"


def main(n: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = rows(n)

        xlsx = folder / "申报.xlsx"
        write_excel_like(xlsx, [["2026年耕地地力保护补贴申报表"], HEADER, *data])

        by_openpyxl = folder / "openpyxl.xlsx"
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("申报")
        ws.append(["2026年耕地地力保护补贴申报表"])
        ws.append(HEADER)
        for r in data:
            ws.append(r)
        wb.save(by_openpyxl)

        csv_path = folder / "申报.csv"
        lines = [",".join(HEADER)] + [",".join(str(v) for v in r) for r in data]
        csv_path.write_bytes("\r\n".join(lines).encode("gb18030"))

        sheet = read_table(xlsx, APPLICATION_FIELDS)
        assert len(sheet.rows) == n and not sheet.errors, sheet.errors[:3]
        t_xlsx = median_time(lambda: read_table(xlsx, APPLICATION_FIELDS))
        t_csv = median_time(lambda: read_table(csv_path, APPLICATION_FIELDS))
        t_openpyxl = median_time(lambda: read_table(by_openpyxl, APPLICATION_FIELDS))

        errors = {r.row_number: ["身份证号校验位不对"] for r in sheet.rows[::10]}
        t_err = median_time(lambda: write_errors_sheet(xlsx, sheet, errors, folder / "错误.xlsx"), 1)

        columns = [
            ColumnOut("户主姓名", "name"),
            ColumnOut("身份证号码", "id"),
            ColumnOut("账号", "card"),
            ColumnOut("面积", "q", "quantity"),
            ColumnOut("金额", "fen", "money_fen"),
        ]
        out_rows = [
            {"name": r[3], "id": r[4], "card": r[8], "q": Decimal(str(r[7])), "fen": int(r[7] * 10950)} for r in data
        ]
        bank = SheetOut(
            "发放清单", columns, out_rows, banner="内部资料 注意保密", totals={"fen": sum(r["fen"] for r in out_rows)}
        )
        t_out = median_time(lambda: write_sheet_book(folder / "bank.xlsx", [bank]), 1)

    print(f"rows: {n}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"read_table xlsx (Excel layout)     median of 3: {fmt(t_xlsx)}   target: whole import ≤ 3 s")
    print(f"read_table xlsx (openpyxl-written) median of 3: {fmt(t_openpyxl)}")
    print(f"read_table csv (GB18030)           median of 3: {fmt(t_csv)}")
    print(f"write_errors_sheet, 10% bad rows   once:        {fmt(t_err)}")
    print(f"write_sheet_book, bank sheet       once:        {fmt(t_out)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
