"""The 本页小计 (page sum) of a PDF table: exact column sums of printed numbers."""

from __future__ import annotations

import re
from decimal import Decimal

from villageboard.render.document import Row, Table

_NUMBER = re.compile(r"^\s*(-?[\d,]+(?:\.(\d+))?)(.*?)\s*$")


def with_sum_row(table: Table, page_sums: bool = True) -> Table:
    """The table as its columns are measured: with a 本页小计 row as wide as the widest
    one can be (the whole table's sum), so that no page's sum has to wrap."""
    if not page_sums or not table.page_sum:
        return table
    cells = [""] * len(table.columns)
    cells[table.page_sum_label] = "本页小计"
    data = [r for r in table.rows if r.kind == "data"]
    for ci in table.page_sum:
        cells[ci] = column_sum([r.cells[ci] for r in data])
    return Table(table.title, table.columns, [*table.rows, Row(cells, kind="subtotal")])


def column_sum(cells: list[str]) -> str:
    """The exact sum of a column of printed numbers ("1,234.50", "12.5亩"), written with
    as many decimals as its widest cell, thousands separators and the cells' common
    unit; "" when a cell is not a number."""
    total = Decimal(0)
    places = 0
    units = set()
    for text in cells:
        if not text.strip():
            continue  # nothing in this column for the row (a program it had no payment of)
        m = _NUMBER.match(text)
        if not m:
            return ""
        total += Decimal(m.group(1).replace(",", ""))
        places = max(places, len(m.group(2) or ""))
        units.add(m.group(3))
    if not units:
        return ""
    unit = units.pop() if len(units) == 1 else ""
    return f"{total:,.{places}f}{unit}"
