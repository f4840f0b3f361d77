"""Writing Excel workbooks for the bank, the county and the office.

Why it is built this way:

* Money is stored as integer fen. It is written as a real number of yuan (so the bank
  and the county can sum it) computed with :class:`~decimal.Decimal` from the fen, never
  by float arithmetic, and shown with ``#,##0.00``.
* IDs, bank accounts and phone numbers are text cells with the ``@`` format: as numbers
  Excel would keep only 15 digits and drop leading zeros.
* Text that starts with ``=`` is stored as text, never as a formula, so a name typed as
  ``=HYPERLINK(...)`` cannot turn into one in the bank's copy.
* Column widths count East-Asian wide characters as 2, so Chinese headers are not cut.
* Files are written to a temp file in the same folder and moved into place, so a crash
  or a full disk never leaves half a bank sheet under the real name.
* Rows are streamed (openpyxl write-only mode): the county working sheet can hold
  100,000 rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from villageboard.domain.errors import StorageError
from villageboard.domain.money import format_fen

__all__ = [
    "ColumnOut",
    "SheetOut",
    "column_letter",
    "declare_dimension",
    "discard_workbook",
    "display_width",
    "fen_to_yuan",
    "safe_sheet_title",
    "save_workbook_atomic",
    "write_sheet_book",
]

ColumnKind = Literal["text", "int", "money_fen", "quantity", "date"]

MONEY_FORMAT = "#,##0.00"
QUANTITY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
_MAX_CELL = 32767
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class ColumnOut:
    """One output column. ``key`` picks the value from each row dict."""

    label: str
    key: str
    kind: ColumnKind = "text"
    width: float | None = None


@dataclass
class SheetOut:
    """One worksheet: an optional banner (merged title row, e.g. 内部资料 注意保密), the
    header, the rows and an optional totals row labelled ``totals_label``.

    ``totals`` maps column key → value (computed by the caller as the sum of the rounded
    rows, the same figure the notice prints). ``notes`` are plain lines written below
    the table (制表人、审核人、日期 and the like). ``landscape`` = None picks the
    orientation from the total column width.
    """

    title: str
    columns: list[ColumnOut]
    rows: Sequence[Mapping[str, object]]
    banner: str = ""
    totals: Mapping[str, object] | None = None
    totals_label: str = "合计"
    freeze: bool = True
    autofilter: bool = True
    landscape: bool | None = None
    notes: list[str] = field(default_factory=list)


def column_letter(index: int) -> str:
    """1 → 'A', 28 → 'AB' (openpyxl's helper, without importing openpyxl at start-up)."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def display_width(text: str) -> int:
    """Width in Excel character units: wide (CJK) characters count as 2."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def fen_to_yuan(fen: int) -> Decimal:
    """123456789 → Decimal('1234567.89'): exact, no float on the way."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        if isinstance(fen, Decimal) and fen == fen.to_integral_value():
            fen = int(fen)
        else:
            raise TypeError(f"金额应为整数分，收到 {fen!r}")
    return Decimal(fen).scaleb(-2)


def safe_sheet_title(title: str, used: set[str] | None = None) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the book."""
    t = re.sub(r"[\[\]:*?/\\]", "_", unicodedata.normalize("NFC", title)).strip("'").strip()
    t = (t or "Sheet")[:31]
    if used is not None:
        base, n = t, 2
        while t.lower() in used:
            suffix = f"({n})"
            t = base[: 31 - len(suffix)] + suffix
            n += 1
        used.add(t.lower())
    return t


def _text(value: object) -> str:
    return _ILLEGAL_XML.sub("", str(value))[:_MAX_CELL]


def _to_decimal(value: object, column: ColumnOut) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        d = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"“{column.label}”列的值 {value!r} 不是数字") from None
    if not d.is_finite():
        raise ValueError(f"“{column.label}”列的值 {value!r} 不是数字")
    return d


def _to_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class _Styles:
    """The handful of styles every sheet uses, built once."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="808080")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.header_font = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor="D9D9D9")
        self.header_align = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.banner_font = Font(bold=True, size=14)
        self.banner_align = Alignment(horizontal="center", vertical="center")
        self.total_font = Font(bold=True)
        self.note_font = Font(italic=True, color="595959")


# A converted value: (cell value, number format, force text, text Excel shows)
_Converted = tuple[object, str | None, bool, str]
_FORMATS = {"money_fen": MONEY_FORMAT, "quantity": QUANTITY_FORMAT, "int": "0", "date": DATE_FORMAT}


def _convert(value: object, column: ColumnOut) -> _Converted:
    """The cell value for one output value, checked before anything is written (a
    half-streamed workbook cannot be rolled back, so errors must come first)."""
    kind = column.kind
    if value is None or (isinstance(value, str) and value == ""):
        return None, TEXT_FORMAT if kind == "text" else None, False, ""
    if kind == "money_fen":
        yuan = fen_to_yuan(value)  # type: ignore[arg-type]
        return yuan, MONEY_FORMAT, False, format_fen(int(value))  # type: ignore[call-overload]
    if kind == "quantity":
        d = _to_decimal(value, column)
        return d, QUANTITY_FORMAT, False, f"{d:.2f}"
    if kind == "int":
        if isinstance(value, bool):
            raise TypeError(f"“{column.label}”列应为整数，收到 {value!r}")
        d = _to_decimal(value, column)
        if d != d.to_integral_value():
            raise ValueError(f"“{column.label}”列应为整数，收到 {value!r}")
        return int(d), "0", False, str(int(d))
    if kind == "date":
        day = _to_date(value)
        if day is None:
            text = _text(value)
            return text, None, True, text
        return day, DATE_FORMAT, False, day.isoformat()
    if kind != "text":
        raise ValueError(f"未知的列类型 {kind!r}")
    text = _text(value)
    return text, TEXT_FORMAT, True, text  # text: never a formula, never a number


class _StyleCache:
    """One prototype cell per (number format, bold); new cells copy its style array.

    Setting ``cell.border`` hashes the whole Border object on every call, which made
    a 10,000-row sheet take seconds; copying the finished style array is what openpyxl
    itself does when it copies cells.
    """

    def __init__(self, ws: Any, styles: _Styles) -> None:
        self.ws = ws
        self.styles = styles
        self.protos: dict[tuple[str | None, bool], object] = {}

    def style_of(self, number_format: str | None, bold: bool) -> object:
        from openpyxl.cell import WriteOnlyCell

        key = (number_format, bold)
        proto = self.protos.get(key)
        if proto is None:
            proto = WriteOnlyCell(self.ws)
            if number_format:
                proto.number_format = number_format
            proto.border = self.styles.border
            if bold:
                proto.font = self.styles.total_font
            self.protos[key] = proto
        return proto._style  # type: ignore[attr-defined]


def _cell(ws: Any, conv: _Converted, cache: _StyleCache, bold: bool = False) -> Any:
    from openpyxl.cell import WriteOnlyCell

    value, number_format, force_text, _shown = conv
    cell = WriteOnlyCell(ws, value)
    if force_text:
        cell.data_type = "s"
    cell._style = copy(cache.style_of(number_format, bold))
    return cell


def _write_sheet(ws: Any, sheet: SheetOut, styles: _Styles) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet.header_footer import HeaderFooter
    from openpyxl.worksheet.properties import PageSetupProperties

    columns = sheet.columns
    if not columns:
        raise ValueError(f"工作表“{sheet.title}”没有列")
    ncols = len(columns)
    last = column_letter(ncols)

    # convert (and so check) everything first; widths come from the converted text
    rows = [[_convert(row.get(c.key), c) for c in columns] for row in sheet.rows]
    totals = None
    if sheet.totals is not None:
        totals = [_convert(sheet.totals[c.key], c) if c.key in sheet.totals else None for c in columns]
    total_width = 0.0
    for i, col in enumerate(columns):
        if col.width is not None:
            width = col.width
        else:
            longest = display_width(col.label)
            for converted in rows:
                longest = max(longest, display_width(converted[i][3]))
            if totals is not None and totals[i] is not None:
                longest = max(longest, display_width(totals[i][3]))  # type: ignore[index]
            width = min(max(longest + 2, 6), 60)
        total_width += width
        dim = ws.column_dimensions[column_letter(i + 1)]
        dim.width = width
        if col.kind == "text":
            dim.number_format = TEXT_FORMAT  # cells typed later stay text too

    # everything written at the top of the sheet XML must be set before the first row
    header_row = 2 if sheet.banner else 1
    total_rows = header_row + len(rows) + (1 if totals is not None else 0) + len(sheet.notes)
    declare_dimension(ws, f"A1:{last}{total_rows}")
    if sheet.freeze:
        ws.freeze_panes = f"A{header_row + 1}"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if sheet.banner:
        ws.row_dimensions[1].height = 24

    if sheet.banner:
        cell = WriteOnlyCell(ws, _text(sheet.banner))
        cell.data_type = "s"
        cell.font = styles.banner_font
        cell.alignment = styles.banner_align
        ws.append([cell])
        if ncols > 1:
            ws.merged_cells.add(f"A1:{last}1")
    header = []
    for col in columns:
        cell = WriteOnlyCell(ws, _text(col.label))
        cell.data_type = "s"
        cell.font = styles.header_font
        cell.fill = styles.header_fill
        cell.alignment = styles.header_align
        cell.border = styles.border
        header.append(cell)
    ws.append(header)

    cache = _StyleCache(ws, styles)
    for converted in rows:
        ws.append([_cell(ws, conv, cache) for conv in converted])
    last_data_row = header_row + len(rows)

    if totals is not None:
        label_col = next((i for i, t in enumerate(totals) if t is None), None)
        cells = []
        for i, conv in enumerate(totals):
            if i == label_col:
                cell = WriteOnlyCell(ws, _text(sheet.totals_label))
                cell.data_type = "s"
                cell.font = styles.total_font
                cell.border = styles.border
            elif conv is not None:
                cell = _cell(ws, conv, cache, bold=True)
            else:
                cell = WriteOnlyCell(ws)
                cell.border = styles.border
            cells.append(cell)
        ws.append(cells)

    for note in sheet.notes:
        cell = WriteOnlyCell(ws, _text(note))
        cell.data_type = "s"
        cell.font = styles.note_font
        ws.append([cell])

    if sheet.autofilter:
        ws.auto_filter.ref = f"A{header_row}:{last}{last_data_row}"

    # printing: header on every page, fit to the page width, banner in the page header
    ws.print_title_rows = f"{header_row}:{header_row}"
    landscape = sheet.landscape if sheet.landscape is not None else total_width > 100
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    hf = HeaderFooter()
    if sheet.banner:
        hf.oddHeader.center.text = sheet.banner.replace("&", "&&")
    hf.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.HeaderFooter = hf


def write_sheet_book(path: str | Path, sheets: Iterable[SheetOut]) -> Path:
    """Write one workbook with the given sheets, atomically. Returns the path written.

    Raises ``TypeError``/``ValueError`` for a programming error in the rows (a float as
    money, a non-number as a quantity) before anything is written, and
    :class:`~villageboard.domain.errors.StorageError` when the disk refuses.
    """
    from openpyxl import Workbook

    sheets = list(sheets)
    if not sheets:
        raise ValueError("至少要有一个工作表")
    wb = Workbook(write_only=True)
    styles = _Styles()
    used: set[str] = set()
    try:
        for sheet in sheets:
            ws = wb.create_sheet(safe_sheet_title(sheet.title, used))
            _write_sheet(ws, sheet, styles)
    except BaseException:
        discard_workbook(wb)
        raise
    return save_workbook_atomic(wb, Path(path))


def declare_dimension(ws: Any, ref: str) -> None:
    """Tell a write-only sheet its final size so the file carries a ``<dimension>`` as
    Excel's do. Without it openpyxl's read-only reader parses the whole sheet twice when
    the file is imported again (the errors sheet is meant to be re-imported)."""
    ws.calculate_dimension = lambda: ref


def discard_workbook(wb: object) -> None:
    """Finish the row streams of a write-only workbook that will not be saved.

    openpyxl streams rows into a generator per sheet; left open, it fails noisily when
    garbage-collected at some random later moment.
    """
    for ws in getattr(wb, "worksheets", ()):
        if getattr(ws, "closed", True):
            continue
        with contextlib.suppress(Exception):
            ws.close()


# --- atomic save ----------------------------------------------------------------------


def _replace(src: str, dst: Path) -> None:
    """``os.replace``, retried briefly on Windows where a virus scanner or the search
    indexer may hold the old file for a moment."""
    delay = 0.05
    for attempt in range(6):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 5:
                raise
            time.sleep(delay)
            delay *= 2


def save_workbook_atomic(wb: object, path: Path) -> Path:
    """Save an openpyxl workbook to ``path`` via a temp file in the same folder.

    The old file (if any) stays intact until the new one is complete and synced.
    """
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        discard_workbook(wb)
        raise StorageError(f"无法创建文件夹 {folder}：{e.strerror or e}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=folder)
    except OSError as e:
        discard_workbook(wb)
        raise StorageError(_write_message(path, e)) from None
    os.close(fd)
    try:
        wb.save(tmp)  # type: ignore[attr-defined]
        with open(tmp, "r+b") as fh:
            os.fsync(fh.fileno())
        _replace(tmp, path)
        if os.name != "nt":
            with contextlib.suppress(OSError):
                dir_fd = os.open(folder, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
    except OSError as e:
        discard_workbook(wb)
        raise StorageError(_write_message(path, e)) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return path


def _write_message(path: Path, e: OSError) -> str:
    if isinstance(e, PermissionError):
        return f"无法写入 {path}：文件可能正在 Excel 或 WPS 中打开，或没有写入权限。请关闭该文件后重试"
    if e.errno == errno.ENOSPC:
        return f"无法写入 {path}：磁盘空间不足，原来的文件没有改动"
    return f"无法写入 {path}（{e.strerror or e}），原来的文件没有改动"
