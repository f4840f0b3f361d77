"""Excel/CSV import and export: pure functions over files (no UI, no database).

* :mod:`villageboard.io.tables` — read a clerk's xlsx/csv into text rows (with
  :mod:`~villageboard.io.headers`, :mod:`~villageboard.io.cells`,
  :mod:`~villageboard.io.xlsx_fast` and :mod:`~villageboard.io.csv_source`).
* :mod:`villageboard.io.errors_sheet` — write the errors sheet for fix-and-reimport.
* :mod:`villageboard.io.xlsx_out` — write workbooks for the bank and the county.
* :mod:`villageboard.io.templates` — the blank import sheets.

Importing this package opens nothing and does not import openpyxl's heavy parts until
a function is called.
"""

from __future__ import annotations

from villageboard.io.errors_sheet import ERRORS_COLUMN, group_problems, write_errors_sheet
from villageboard.io.headers import (
    APPLICATION_FIELDS,
    HOUSEHOLD_FIELDS,
    PAYOUT_RETURN_FIELDS,
    FieldSpec,
)
from villageboard.io.table_source import TableError
from villageboard.io.tables import Sheet, SheetRow, read_table
from villageboard.io.xlsx_out import ColumnOut, SheetOut, fen_to_yuan, write_sheet_book

__all__ = [
    "APPLICATION_FIELDS",
    "ERRORS_COLUMN",
    "HOUSEHOLD_FIELDS",
    "PAYOUT_RETURN_FIELDS",
    "ColumnOut",
    "FieldSpec",
    "Sheet",
    "SheetOut",
    "SheetRow",
    "TableError",
    "fen_to_yuan",
    "group_problems",
    "read_table",
    "write_errors_sheet",
    "write_sheet_book",
]
