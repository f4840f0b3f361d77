"""Reading the clerk's own tables (xlsx, or csv from Excel/WPS) into plain text rows.

Why it is built this way:

* Clerks bring whatever the village sent them: a title row on top, merged header cells,
  columns in any order, extra columns, CSV saved by Excel on Chinese Windows (GBK), tab
  separated exports. We find the header by matching known column names instead of
  assuming row 1, and ignore everything we do not know.
* Every value comes back as *text*. The domain validators decide what is valid; this
  layer only cleans what is certainly noise (full-width digits, stray spaces) and never
  "repairs" data. In particular an ID or bank account that Excel stored as a number has
  already lost its last digits; converting it back would invent a wrong number, so it is
  flagged and kept in the form the clerk sees in Excel (``1.41025199001011E+17``).
* Row numbers are the ones Excel shows, so every message can say 第N行 and the clerk can
  find the row.
* Imports are all-or-nothing: row problems come back all at once in ``Sheet.problems``,
  and :mod:`villageboard.io.errors_sheet` writes them beside the clerk's own rows.

The parts: :mod:`~villageboard.io.headers` (the known columns, finding the header),
:mod:`~villageboard.io.cells` (one cell as text), :mod:`~villageboard.io.xlsx_fast` and
:mod:`~villageboard.io.csv_source` (the two kinds of file), this module (choosing the
source and reading the rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from villageboard.domain.errors import Problem
from villageboard.io.cells import (
    NUMBER_NOUNS,
    NUMBER_SENSITIVE,
    cell_text,
    is_blank,
    lost_digits_hint,
    squash_cell,
)
from villageboard.io.csv_source import open_csv
from villageboard.io.headers import HEADER_SCAN_ROWS, FieldSpec, HeaderMatcher, find_header
from villageboard.io.table_source import Source, SourceKind, TableError
from villageboard.io.xlsx_fast import open_xlsx
from villageboard.io.xlsx_out import column_letter

__all__ = ["Sheet", "SheetRow", "open_source", "read_table"]

_XLSX_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TOTAL_WORDS = frozenset({"合计", "总计", "小计", "累计", "本页合计", "本页小计", "总合计", "全村合计"})


# --- results ----------------------------------------------------------------------


@dataclass
class SheetRow:
    """One data row. ``values`` has every field key (``""`` when blank or absent);
    ``raw`` is the whole row as read (xlsx types kept, csv strings)."""

    row_number: int
    values: dict[str, str]
    raw: list[object]


@dataclass
class Sheet:
    """What ``read_table`` found.

    ``columns`` maps field key → 0-based position in ``raw``; ``labels`` maps field key →
    the header text exactly as the clerk wrote it (used in every message). ``merges``
    lists the merged ranges of an xlsx sheet as 1-based (first row, last row, first
    column, last column); vertically merged cells are read as if the value were on
    every row, and the errors sheet writes the merges back.
    """

    header_row: int
    columns: dict[str, int]
    rows: list[SheetRow]
    problems: list[Problem]
    source_kind: SourceKind
    encoding: str | None
    labels: dict[str, str] = field(default_factory=dict)
    fields: tuple[FieldSpec, ...] = ()
    path: Path | None = None
    sheet_name: str | None = None
    delimiter: str | None = None
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    def label(self, key: str) -> str:
        """The header as written in the clerk's sheet, else our own label."""
        if key in self.labels:
            return self.labels[key]
        for f in self.fields:
            if f.key == key:
                return f.label
        return key

    def column_letter(self, key: str) -> str:
        return column_letter(self.columns[key] + 1)


# --- sources ------------------------------------------------------------------------


def _sniff(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(8)
    except FileNotFoundError:
        raise TableError(f"找不到文件：{path}") from None
    except IsADirectoryError:
        raise TableError(f"{path} 是一个文件夹，请选择要导入的表格文件") from None
    except PermissionError:
        raise TableError(f"没有权限读取文件：{path}（可能正在被别的程序使用）") from None
    except OSError as e:
        raise TableError(f"读取文件 {path} 失败：{e.strerror or e}") from None


def open_source(
    path: Path,
    matcher: HeaderMatcher,
    sheet_name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    fill_merges: bool = True,
) -> Source:
    head = _sniff(path)
    if not head:
        raise TableError(f"文件是空的：{path.name}")
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        raise TableError(
            f"“{path.name}”是旧版 Excel（.xls/.et）文件，或设置了打开密码。"
            "请用 Excel 或 WPS 打开它，点“文件—另存为”，保存类型选“Excel 工作簿（*.xlsx）”"
            "（不要设密码），再导入新保存的文件"
        )
    if head.startswith(b"PK"):
        return open_xlsx(path, matcher, sheet_name, fill_merges)
    if suffix in _XLSX_SUFFIXES:
        raise TableError(f"“{path.name}”不是有效的 xlsx 文件（可能已损坏或只复制了一半），请重新保存后再导入")
    if suffix in {".ods", ".numbers", ".wps", ".doc", ".docx", ".pdf"}:
        raise TableError(f"不能导入“{path.name}”这种文件，请在表格软件里另存为 .xlsx 或 .csv")
    return open_csv(path, matcher, encoding, delimiter)


# --- reading ------------------------------------------------------------------------


def read_table(path: str | Path, fields: Sequence[FieldSpec], *, sheet_name: str | None = None) -> Sheet:
    """Read an xlsx or csv table into text rows keyed by field.

    Raises :class:`TableError` only when the file as a whole cannot be read. Everything
    else — missing columns, IDs stored as numbers, skipped total/example rows — is in
    ``Sheet.problems`` with the Excel row number and the clerk's own column header.
    When several worksheets exist, the one whose header matches best is used (so a
    填表说明 sheet in front of the data does not matter).
    """
    path = Path(path)
    fields = tuple(fields)
    matcher = HeaderMatcher(fields)
    source = open_source(path, matcher, sheet_name)
    try:
        return _read(source, fields, matcher, path)
    except TableError:
        raise
    except Exception as e:
        raise TableError(
            f"“{path.name}”内容读不出来，可能已损坏（{type(e).__name__}），请另存为 .xlsx 后再导入"
        ) from None
    finally:
        source.close()


def _read(source: Source, fields: tuple[FieldSpec, ...], matcher: HeaderMatcher, path: Path) -> Sheet:
    header = find_header(source.top, matcher)
    sheet = Sheet(
        header_row=header.row if header else 0,
        columns=dict(header.columns) if header else {},
        rows=[],
        problems=list(header.problems) if header else [],
        source_kind=source.kind,
        encoding=source.encoding,
        labels=dict(header.labels) if header else {},
        fields=fields,
        path=path,
        sheet_name=source.sheet_name,
        delimiter=source.delimiter,
        merges=source.merges,
    )
    if header is None:
        examples = "、".join(f"“{f.label}”" for f in fields if f.required) or "、".join(f"“{f.label}”" for f in fields)
        sheet.problems.append(
            Problem(
                f"前{HEADER_SCAN_ROWS}行里没有找到表头（应有{examples}等列名）。请确认选对了文件，表头写在表格最上面"
            )
        )
    for f in fields:
        if f.required and f.key not in sheet.columns and not any(k in sheet.columns for k in f.unless):
            instead = [g.label for g in fields if g.key in f.unless]
            sheet.problems.append(
                Problem(
                    f"表中没有“{f.label}”这一列。列名可以写成：{'、'.join(f.names)}"
                    + (f"；按面积补贴的，也可以填写{'或'.join(f'“{x}”' for x in instead)}" if instead else ""),
                    field=f.label,
                    row=header.row if header else None,
                )
            )
    if header is None:
        return sheet

    mapped = [(f, sheet.columns.get(f.key)) for f in fields]
    used_cols = sorted(c for _f, c in mapped if c is not None)
    filled = source.filled
    for row_number, cells in source.all_rows():
        if row_number <= header.row:
            continue
        merged_in = filled.get(row_number, ()) if filled else ()
        n = len(cells)
        for c in used_cols:
            if c < n and c not in merged_in and not is_blank(cells[c]):
                break
        else:
            continue  # blank (or only 序号, or only a merged 村 cell): nothing to import
        first = _leading_texts(cells, 1)
        if first and (first[0].startswith("示例") or first[0].startswith(("例:", "例："))):
            sheet.problems.append(Problem("这一行是填表示例，已跳过", row=row_number, warning=True))
            continue
        values: dict[str, str] = {}
        for f, col in mapped:
            if col is None or col >= n:
                values[f.key] = ""
                continue
            text, as_number = cell_text(cells[col], f)
            values[f.key] = text
            if as_number:
                label = sheet.label(f.key)
                noun = NUMBER_NOUNS.get(f.key, label)
                sheet.problems.append(
                    Problem(
                        f"{noun}被表格存成了数字，末几位可能已丢失，请把该列设为文本后重新填写",
                        field=label,
                        row=row_number,
                    )
                )
            elif f.key in NUMBER_SENSITIVE and lost_digits_hint(f.key, text):
                noun = NUMBER_NOUNS[f.key]
                sheet.problems.append(
                    Problem(
                        f"{noun}末几位是0且校验不对，可能被表格存成过数字、末几位已丢失，请按原件重新填写",
                        field=sheet.label(f.key),
                        row=row_number,
                        warning=True,
                    )
                )
        if (
            not values.get("id_number")
            and not values.get("card_account")
            and any(w in _TOTAL_WORDS for w in _leading_texts(cells))
        ):
            sheet.problems.append(Problem("这一行是合计行，已跳过", row=row_number, warning=True))
            continue
        sheet.rows.append(SheetRow(row_number, values, cells))
    return sheet


def _leading_texts(cells: Sequence[object], count: int = 3) -> list[str]:
    """The first few non-blank cells as compact text (a 合计 or 示例 marker sits there)."""
    out: list[str] = []
    for value in cells:
        if value is None or isinstance(value, int | float | dt.date | dt.time):
            continue
        text = squash_cell(value)
        if text:
            out.append(text)
            if len(out) == count:
                break
    return out
