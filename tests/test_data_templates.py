"""The blank import sheets shipped in data/ are what the program itself writes, and
an import of each (filled with one row) reads back with every column recognised."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from villageboard.io.templates import write_blank_templates

DATA = Path(__file__).resolve().parent.parent / "data"


def _cells(path: Path) -> dict[str, list[list[object]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def test_shipped_templates_match_the_generator(tmp_path: Path) -> None:
    fresh = {p.name: p for p in write_blank_templates(tmp_path)}
    shipped = sorted(p.name for p in DATA.glob("*.xlsx"))
    assert shipped == sorted(fresh)
    for name, path in fresh.items():
        assert _cells(DATA / name) == _cells(path), f"data/{name} is stale: run villageboard templates --out data"
