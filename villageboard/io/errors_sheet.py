"""The errors sheet: the clerk's own table written back with a 错误原因 column.

Imports are all-or-nothing. The errors sheet returns the clerk's table, same rows and
same columns, with the reasons beside the bad rows and the bad cells filled, so it can be
fixed in place and imported again; the 错误原因 column is just an unknown column to the
reader.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.domain.errors import Problem
from villageboard.io.cells import CONTROL_CHARS, is_blank
from villageboard.io.headers import HeaderMatcher, norm_header
from villageboard.io.tables import Sheet, open_source
from villageboard.io.xlsx_out import (
    column_letter,
    declare_dimension,
    discard_workbook,
    display_width,
    safe_sheet_title,
    save_workbook_atomic,
)

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

__all__ = ["ERRORS_COLUMN", "group_problems", "write_errors_sheet"]

ERRORS_COLUMN = "错误原因"


def group_problems(problems: Iterable[Problem]) -> dict[int, list[Problem]]:
    """Problems that name a row, grouped by row number — the shape ``write_errors_sheet``
    takes. Problems without a row (a missing column) are left to the caller."""
    out: dict[int, list[Problem]] = {}
    for p in problems:
        if p.row is not None:
            out.setdefault(p.row, []).append(p)
    return out


# Words in a validator message that point at a column even when the clerk's header
# differs (the message says 身份证号, the header says 公民身份号码).
_MESSAGE_NOUNS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证",),
    "card_account": ("账号", "一卡通", "卡号"),
    "phone": ("电话", "手机"),
    "name": ("姓名",),
    "quantity": ("数量", "面积"),
    "amount": ("金额",),
    "program": ("项目",),
    "year": ("年度",),
}
_TEXT_FORMAT_KEYS = frozenset({"id_number", "card_account", "phone"})
_MAX_CELL = 32767  # Excel refuses to open a file with a longer cell


def _message_text(msg: str | Problem, sheet: Sheet) -> str:
    if not isinstance(msg, Problem):
        return str(msg)
    text = msg.reason
    if msg.field:
        label = sheet.label(msg.field) if msg.field in sheet.columns else msg.field
        if label not in text:
            text = f"“{label}”：{text}"
    return f"提醒：{text}" if msg.warning else text


def _message_columns(msg: str | Problem, sheet: Sheet) -> set[int]:
    if isinstance(msg, Problem) and msg.field:
        if msg.field in sheet.columns:
            return {sheet.columns[msg.field]}
        for key, label in sheet.labels.items():
            if label == msg.field:
                return {sheet.columns[key]}
        for f in sheet.fields:
            if msg.field in f.names and f.key in sheet.columns:
                return {sheet.columns[f.key]}
    text = msg.reason if isinstance(msg, Problem) else str(msg)
    hits: set[int] = set()
    for key, col in sheet.columns.items():
        label = sheet.labels.get(key, "")
        if label and (f"“{label}”" in text or (len(label) >= 2 and label in text)):
            hits.add(col)
        elif any(noun in text for noun in _MESSAGE_NOUNS.get(key, ())):
            hits.add(col)
    return hits


def _sanitize(value: str) -> str:
    value = CONTROL_CHARS.sub("", value)
    return value[:_MAX_CELL]


def write_errors_sheet(
    src: str | Path,
    sheet: Sheet,
    errors: Mapping[int, Sequence[str | Problem]],
    out: str | Path,
) -> Path:
    """Write the clerk's table back with a 错误原因 column beside each bad row.

    All rows are written, in their original places (title rows and the header too), so
    the row numbers in every message still match and the clerk can fix the cells and
    import the very same file again. Bad cells are filled red, the header is frozen and
    ID/account/phone columns are set to text so that retyped numbers stay intact. An
    existing 错误原因 column (from an earlier round) is reused and cleared.
    ``errors`` maps Excel row number → messages (strings or :class:`Problem`).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.properties import PageSetupProperties

    src = Path(src)
    source = open_source(
        src,
        HeaderMatcher(sheet.fields),
        sheet.sheet_name,
        sheet.encoding,
        sheet.delimiter,
        fill_merges=False,  # the merges are written back as merges instead
    )
    try:
        grid = list(source.all_rows())
    finally:
        source.close()
    last = grid[-1][0] if grid else 0
    wanted = max((r for r in errors if errors[r]), default=0)
    grid += [(n, []) for n in range(last + 1, wanted + 1)]

    header_row = max(sheet.header_row, 1)
    header_cells = next((cells for n, cells in grid if n == header_row), [])
    reason_col = None
    for col, value in enumerate(header_cells):
        if isinstance(value, str) and norm_header(value) == ERRORS_COLUMN:
            reason_col = col
    if reason_col is None:
        width = 0
        for _n, cells in grid:
            for col in range(len(cells) - 1, -1, -1):
                if not is_blank(cells[col]):
                    width = max(width, col + 1)
                    break
        reason_col = width
    ncols = max(reason_col + 1, max((len(c) for _n, c in grid), default=0))

    text_cols = {sheet.columns[k] for k in _TEXT_FORMAT_KEYS if k in sheet.columns}
    red_fill = PatternFill("solid", fgColor="FFC7CE")
    amber_fill = PatternFill("solid", fgColor="FFEB9C")
    red_font = Font(color="9C0006")
    bold_red = Font(bold=True, color="9C0006")
    wrap = Alignment(wrap_text=True, vertical="top")

    wb = Workbook(write_only=True)
    try:
        ws = wb.create_sheet(safe_sheet_title(sheet.sheet_name or "导入数据"))
        widths = [8.0] * ncols
        for col, value in enumerate(header_cells):
            if not is_blank(value):
                widths[col] = max(widths[col], min(display_width(str(value)) + 4, 40))
        for col in text_cols:
            widths[col] = max(widths[col], 22)
        widths[reason_col] = 60
        for col, w in enumerate(widths):
            dim = ws.column_dimensions[column_letter(col + 1)]
            dim.width = w
            if col in text_cols:
                dim.number_format = "@"
        ws.freeze_panes = f"A{header_row + 1}"
        declare_dimension(ws, f"A1:{column_letter(ncols)}{max(len(grid), 1)}")
        for r1, r2, c1, c2 in source.merges:
            if c1 - 1 <= reason_col <= c2 - 1:
                continue  # never merge over the reasons
            ws.merged_cells.add(f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}")
        # printable: header on every page, landscape, all columns on one page width
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

        for row_number, cells in grid:
            msgs = list(errors.get(row_number, ())) if row_number > header_row else []
            bad_cols: dict[int, bool] = {}  # column -> is an error (not just a warning)
            for m in msgs:
                is_error = not (isinstance(m, Problem) and m.warning)
                for c in _message_columns(m, sheet):
                    bad_cols[c] = bad_cols.get(c, False) or is_error
            texts = list(dict.fromkeys(_message_text(m, sheet) for m in msgs))
            if texts:
                # wrapped reasons need a taller row (set before the row is streamed)
                lines = -(-display_width("；".join(texts)) // int(widths[reason_col] - 4))
                if lines > 1:
                    ws.row_dimensions[row_number].height = 15 * min(lines, 10)
            out_cells = []
            for col in range(ncols):
                if col == reason_col:
                    if row_number == header_row:
                        cell = WriteOnlyCell(ws, ERRORS_COLUMN)
                        cell.font = bold_red
                    elif texts:
                        cell = WriteOnlyCell(ws, _sanitize("；".join(texts)))
                        cell.data_type = "s"
                        cell.font = red_font
                        cell.alignment = wrap
                    else:
                        cell = WriteOnlyCell(ws, None)
                    out_cells.append(cell)
                    continue
                value = cells[col] if col < len(cells) else None
                cell = _copy_cell(ws, value)
                if row_number > header_row and col in text_cols:
                    cell.number_format = "@"
                if col in bad_cols:
                    cell.fill = red_fill if bad_cols[col] else amber_fill
                out_cells.append(cell)
            if msgs and not bad_cols:  # no column named: mark the reason itself
                only_warnings = all(isinstance(m, Problem) and m.warning for m in msgs)
                out_cells[reason_col].fill = amber_fill if only_warnings else red_fill
            ws.append(out_cells)
    except BaseException:
        discard_workbook(wb)
        raise
    return save_workbook_atomic(wb, Path(out))


def _copy_cell(ws: object, value: object) -> WriteOnlyCell:
    """A cell carrying the source value unchanged in type: text stays text (never turned
    into a formula), dates keep a date format, numbers stay numbers."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        cell = WriteOnlyCell(ws, _sanitize(value))
        cell.data_type = "s"  # '=1+1' typed by a clerk is text, not a formula
        return cell
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(ws, value.replace(tzinfo=None))
        has_time = value.time() != dt.time(0)
        cell.number_format = "yyyy-mm-dd hh:mm:ss" if has_time else "yyyy-mm-dd"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, dt.time | dt.timedelta | bool | int | float) or value is None:
        if isinstance(value, float) and not math.isfinite(value):
            return WriteOnlyCell(ws, None)
        return WriteOnlyCell(ws, value)
    cell = WriteOnlyCell(ws, _sanitize(str(value)))
    cell.data_type = "s"
    return cell
