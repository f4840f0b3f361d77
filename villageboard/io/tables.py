"""Reading the clerk's own tables (xlsx, or csv from Excel/WPS) into plain text rows, and
writing the same table back with an added 错误原因 column.

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
* Imports are all-or-nothing. The errors sheet returns the clerk's own table, same rows
  and same columns, with the reasons beside the bad rows, so it can be fixed in place and
  imported again; the 错误原因 column is just an unknown column to the reader.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Literal

from villageboard.domain.errors import Problem, VBError
from villageboard.domain.validate import halfwidth, luhn_valid
from villageboard.io.xlsx_out import (
    column_letter,
    declare_dimension,
    discard_workbook,
    display_width,
    safe_sheet_title,
    save_workbook_atomic,
)

__all__ = [
    "APPLICATION_FIELDS",
    "ERRORS_COLUMN",
    "HEADER_SCAN_ROWS",
    "HOUSEHOLD_FIELDS",
    "PAYOUT_RETURN_FIELDS",
    "FieldSpec",
    "Sheet",
    "SheetRow",
    "TableError",
    "excel_number_text",
    "group_problems",
    "norm_header",
    "parse_sheet_xml",
    "read_table",
    "write_errors_sheet",
]

HEADER_SCAN_ROWS = 20
"""How many rows from the top are searched for the header (title rows sit above it)."""

ERRORS_COLUMN = "错误原因"

SourceKind = Literal["xlsx", "csv"]
CleanKind = Literal["compact", "name", "text"]


class TableError(VBError):
    """The file as a whole cannot be read (missing, old .xls, damaged, unknown encoding).

    Row-level trouble is never raised: it is returned in ``Sheet.problems`` so the clerk
    gets every problem at once.
    """


# --- field specifications -----------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One column the importer understands.

    ``label`` is the name we print (and put in blank templates); ``synonyms`` are the
    other names clerks actually use. ``clean`` says how much may be cleaned off a value:
    ``compact`` removes every space and folds full-width characters (IDs, numbers, codes),
    ``name`` only removes spaces (the validator folds the various middle dots itself),
    ``text`` trims and collapses spaces (remarks, bank names, failure reasons).
    ``text_only`` marks columns whose values must never be numeric cells in Excel, because
    Excel keeps only 15 significant digits (IDs, bank accounts).
    """

    key: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = True
    clean: CleanKind = "compact"
    text_only: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """The label first, then the synonyms, without duplicates (order = preference)."""
        seen: dict[str, None] = {self.label: None}
        for s in self.synonyms:
            seen.setdefault(s, None)
        return tuple(seen)

    def optional(self) -> FieldSpec:
        return replace(self, required=False)

    def needed(self) -> FieldSpec:
        return replace(self, required=True)


NAME = FieldSpec(
    "name",
    "户主姓名",
    ("户主姓名", "户主", "姓名", "农户姓名", "户主名称", "户名", "账户名称", "补贴对象"),
    clean="name",
)
ID_NUMBER = FieldSpec(
    "id_number", "身份证号码", ("身份证号码", "身份证号", "公民身份号码", "身份证"), text_only=True
)
PHONE = FieldSpec("phone", "联系电话", ("联系电话", "电话", "手机号", "手机号码"), required=False)
CARD = FieldSpec(
    "card_account",
    "一卡通账号",
    ("一卡通账号", "一卡通", "账号", "银行账号", "卡号", "存折账号", "存折号", "账户", "社保卡号"),
    required=False,
    text_only=True,
)
BANK = FieldSpec("bank", "开户银行", ("开户银行", "银行", "开户行"), required=False, clean="text")
VILLAGE = FieldSpec("village", "村", ("村", "村名", "行政村", "所在村"))
GROUP = FieldSpec("group", "组", ("组", "村民小组", "小组"), required=False)
QUANTITY = FieldSpec(
    "quantity", "数量", ("面积", "数量", "亩数", "补贴面积", "申报面积", "台数", "头数")
)
PROGRAM = FieldSpec("program", "补贴项目", ("补贴项目", "项目", "项目代码"), required=False)
YEAR = FieldSpec("year", "年度", ("年度", "年份", "申报年度", "补贴年度"), required=False)
RESULT = FieldSpec(
    "result", "处理结果", ("结果", "处理结果", "状态", "发放结果", "交易状态", "处理状态")
)
REASON = FieldSpec(
    "reason", "失败原因", ("失败原因", "原因", "备注说明", "失败说明"), required=False, clean="text"
)
AMOUNT = FieldSpec("amount", "金额", ("金额", "发放金额", "补贴金额", "实发金额", "交易金额"))
REMARK = FieldSpec("remark", "备注", ("备注",), required=False, clean="text")
PAID_DATE = FieldSpec(
    "paid_date", "发放日期", ("发放日期", "入账日期", "处理日期", "日期"), required=False
)

HOUSEHOLD_FIELDS: tuple[FieldSpec, ...] = (
    VILLAGE,
    GROUP,
    NAME,
    ID_NUMBER,
    PHONE,
    CARD,
    BANK,
    REMARK,
)
APPLICATION_FIELDS: tuple[FieldSpec, ...] = (
    VILLAGE.optional(),
    GROUP,
    NAME,
    ID_NUMBER,
    PROGRAM,
    YEAR,
    QUANTITY,
    CARD,
    REMARK,
)
PAYOUT_RETURN_FIELDS: tuple[FieldSpec, ...] = (
    NAME,
    ID_NUMBER.optional(),
    CARD.needed(),
    AMOUNT,
    RESULT,
    REASON,
    PAID_DATE,
    VILLAGE.optional(),
    PROGRAM,
    REMARK,
)


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


# --- text cleaning -----------------------------------------------------------------

_WS = re.compile(r"[\s\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff]+")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BRACKETED = re.compile(r"[（(\[【〔<《][^（()）\[\]【】〔〕<>《》]*[）)\]】〕>》]")
_OPEN_TAIL = re.compile(r"[（(\[【〔<《].*$")
_DECORATION = re.compile(r"[*＊※★☆#:：\"'“”‘’]")
_NUMBERING = re.compile(r"^\d{1,2}[.、]")
_SPLIT = re.compile(r"[/|、或]")
_OWNER_PREFIXES = ("户主", "农户", "收款人", "收款", "申请人", "补贴对象", "持卡人")
_TOTAL_WORDS = frozenset({"合计", "总计", "小计", "累计", "本页合计", "本页小计", "总合计", "全村合计"})


def norm_header(value: object) -> str:
    """A header cell reduced to the bare column name.

    Clerks decorate headers: ``*户主姓名``, ``身份证号码（必填）``, ``面积(亩)``,
    ``户 主 姓 名``, full-width letters. All of that is dropped before comparing.
    """
    if value is None:
        return ""
    t = _WS.sub("", halfwidth(str(value)))
    t = _BRACKETED.sub("", t)
    t = _OPEN_TAIL.sub("", t)
    t = _DECORATION.sub("", t)
    t = _NUMBERING.sub("", t)
    for suffix in ("必填", "选填", "必须填写"):
        t = t.removesuffix(suffix)
    return t.strip("._-—").replace("帐", "账").lower()  # 帐号 and 账号 are both in use


def _is_blank(value: object) -> bool:
    """Empty, or only spaces and control characters (which xlsx cannot even hold)."""
    return value is None or (isinstance(value, str) and not _WS.sub("", _ILLEGAL_XML.sub("", value)))


def excel_number_text(value: float | int) -> str:
    """A number as Excel's General format shows it in the formula bar for long numbers.

    Used for ID/account columns that were stored as numbers: ``141025199001011000``
    becomes ``1.41025199001011E+17`` — recognisably broken, never silently "repaired".
    """
    f = float(value)
    if not math.isfinite(f):
        return ""
    if f.is_integer() and abs(f) < 1e11:
        return str(int(f))
    if abs(f) < 1e11:
        return format(f, ".15g")
    mantissa, exponent = f"{f:.14E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{int(exponent):+03d}"


def _number_text(value: float | int) -> str:
    """A numeric cell as the clerk sees it: integral values without ``.0``, others with
    at most 15 significant digits (what Excel stores), so 1.1*3 reads as 3.3."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return format(value, ".15g")


# anything _clean_text would change: spaces, control and full-width characters, quotes
_NEEDS_CLEANING = re.compile(
    r"[\s\x00-\x1f\u3000\u00a0\u200b-\u200d\u2060\ufeff\uff01-\uff5e'`‘’=]"
)


def _clean_text(text: str, kind: CleanKind) -> str:
    if not _NEEDS_CLEANING.search(text):
        return text  # the common case, checked with one scan
    text = _ILLEGAL_XML.sub("", text)  # control characters are never data
    if kind == "text":
        return _WS.sub(" ", text).strip()
    if kind == "name":
        return _WS.sub("", text)
    t = _WS.sub("", halfwidth(text))
    # Excel/WPS tricks for keeping long numbers as text in CSV: ="0123", '0123, `0123
    if len(t) >= 3 and t.startswith('="') and t.endswith('"'):
        t = t[2:-1]
    return t.lstrip("'`‘’")


def _cell_text(value: object, spec: FieldSpec) -> tuple[str, bool]:
    """(text, stored_as_number) for one cell of one field."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int | float):
        if spec.text_only or spec.key in _NUMBER_SENSITIVE:
            return excel_number_text(value), True
        return _number_text(value), False
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), False
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(), False
    if isinstance(value, str):
        return _clean_text(value, spec.clean), False
    return _clean_text(str(value), spec.clean), False


_NUMBER_SENSITIVE = frozenset({"id_number", "card_account"})
_NOUN = {"id_number": "身份证号", "card_account": "账号"}


def _id_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def _lost_digits_hint(key: str, text: str) -> bool:
    """A long number whose tail became zeros and whose check digit fails: the typical
    trace of Excel's 15-digit limit after the sheet was saved as CSV or copied around."""
    if not text.isdigit() or len(text) < 16:
        return False
    if not text.endswith("0" * (len(text) - 15)):
        return False
    if key == "id_number":
        return len(text) == 18 and _id_check_digit(text[:17]) != text[17]
    return not luhn_valid(text)


# --- header detection ---------------------------------------------------------------


class _Matcher:
    def __init__(self, fields: Sequence[FieldSpec]) -> None:
        self.index: dict[str, tuple[str, int]] = {}
        for f in fields:
            for prio, name in enumerate(f.names):
                self.index.setdefault(norm_header(name), (f.key, prio))

    def match(self, value: object) -> tuple[str, int] | None:
        if value is None or isinstance(value, bool | int | float | dt.date | dt.time):
            return None
        n = norm_header(value)
        if not n:
            return None
        hit = self.index.get(n)
        if hit is not None:
            return hit
        for part in _SPLIT.split(n):
            hit = self.index.get(part) if part else None
            if hit is not None:
                return hit
        # 户主身份证号码, 收款人姓名, 收款账号: a whose-prefix in front of a known name
        for prefix in _OWNER_PREFIXES:
            rest = n.removeprefix(prefix)
            if rest != n and len(rest) >= 2:
                hit = self.index.get(rest)
                if hit is not None:
                    return hit
        return None


@dataclass
class _Header:
    row: int
    columns: dict[str, int]
    labels: dict[str, str]
    problems: list[Problem]
    score: int


def _header_text(value: object) -> str:
    return _WS.sub(" ", str(value)).strip()


def _try_header(
    row_number: int, cells: Sequence[object], above: Sequence[object] | None, matcher: _Matcher
) -> _Header:
    """Map one candidate header row. Empty cells may take their name from the row above:
    that is how a two-row header with vertically merged cells looks when read."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    width = max(len(cells), len(above) if above is not None else 0)
    for col in range(width):
        value = cells[col] if col < len(cells) else None
        source = value
        if _is_blank(value) and above is not None and col < len(above):
            source = above[col]
        hit = matcher.match(source)
        if hit is None:
            continue
        key, prio = hit
        found.setdefault(key, []).append((prio, col, _header_text(source)))
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    problems: list[Problem] = []
    for key, cands in found.items():
        cands.sort()
        prio, col, text = cands[0]
        columns[key] = col
        labels[key] = text
        for other_prio, other_col, other_text in cands[1:]:
            where = f"第{column_letter(col + 1)}列“{text}”和第{column_letter(other_col + 1)}列“{other_text}”"
            if other_prio == prio:
                problems.append(
                    Problem(
                        f"{where}是同一项内容，不知道该用哪一列，请删掉或改名其中一列",
                        field=text,
                        row=row_number,
                    )
                )
            else:
                problems.append(
                    Problem(
                        f"{where}是同一项内容，按第{column_letter(col + 1)}列读取，"
                        f"第{column_letter(other_col + 1)}列没有使用",
                        field=other_text,
                        row=row_number,
                        warning=True,
                    )
                )
    return _Header(row_number, columns, labels, problems, len(columns))


def _find_header(
    top: Sequence[tuple[int, Sequence[object]]], matcher: _Matcher
) -> _Header | None:
    best: _Header | None = None
    above: Sequence[object] | None = None
    for row_number, cells in top:
        cand = _try_header(row_number, cells, above, matcher)
        if cand.score and (best is None or cand.score > best.score):
            best = cand
        above = cells
    return best


# --- sources ------------------------------------------------------------------------

_XLSX_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class _Source:
    kind: SourceKind
    rows: Iterator[tuple[int, list[object]]]
    top: list[tuple[int, list[object]]]
    encoding: str | None = None
    sheet_name: str | None = None
    delimiter: str | None = None
    closer: object = None
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    filled: dict[int, set[int]] = field(default_factory=dict)

    def close(self) -> None:
        close = getattr(self.closer, "close", None)
        if close is not None:
            close()

    def all_rows(self) -> Iterator[tuple[int, list[object]]]:
        yield from self.top
        yield from self.rows


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


def _open_source(
    path: Path, matcher: _Matcher, sheet_name: str | None = None,
    encoding: str | None = None, delimiter: str | None = None, fill_merges: bool = True,
) -> _Source:
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
        return _open_xlsx(path, matcher, sheet_name, fill_merges)
    if suffix in _XLSX_SUFFIXES:
        raise TableError(f"“{path.name}”不是有效的 xlsx 文件（可能已损坏或只复制了一半），请重新保存后再导入")
    if suffix in {".ods", ".numbers", ".wps", ".doc", ".docx", ".pdf"}:
        raise TableError(f"不能导入“{path.name}”这种文件，请在表格软件里另存为 .xlsx 或 .csv")
    return _open_csv(path, matcher, encoding, delimiter)


def _open_xlsx(
    path: Path, matcher: _Matcher, sheet_name: str | None, fill_merges: bool = True
) -> _Source:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on damaged files
        raise TableError(
            f"“{path.name}”打不开，可能已损坏或不是 Excel 文件（{type(e).__name__}）。"
            "请用 Excel 或 WPS 打开后另存为 .xlsx 再导入"
        ) from None
    try:
        if sheet_name is not None:
            if sheet_name not in wb.sheetnames:
                raise TableError(f"“{path.name}”里没有名为“{sheet_name}”的工作表")
            candidates = [wb[sheet_name]]
        else:
            sheets = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
            sheets = sheets or list(wb.worksheets)
            active = wb.active if wb.active in sheets else None
            candidates = ([active] if active is not None else []) + [s for s in sheets if s is not active]
        if not candidates:
            raise TableError(f"“{path.name}”里没有工作表")
        best: tuple[int, object, Iterator[tuple[int, list[object]]], list] | None = None
        for ws in candidates:
            it = _iter_worksheet(wb, ws)
            top = list(islice(it, HEADER_SCAN_ROWS))
            header = _find_header(top, matcher)
            score = header.score if header else 0
            if best is None or score > best[0]:
                if best is not None:
                    best[2].close()  # type: ignore[attr-defined]
                best = (score, ws, it, top)
            else:
                it.close()  # type: ignore[attr-defined]
        assert best is not None
        _score, ws, it, top = best
        merges = _merged_ranges(wb, ws)
        filled: dict[int, set[int]] = {}
        if fill_merges and any(m[1] > m[0] for m in merges):
            top = list(_fill_merged(iter(top), merges, filled))
            it = _fill_merged(it, merges, filled)
        return _Source(
            "xlsx", it, top, sheet_name=ws.title, closer=wb, merges=merges, filled=filled  # type: ignore[attr-defined]
        )
    except TableError:
        wb.close()
        raise
    except Exception as e:
        wb.close()
        raise TableError(f"“{path.name}”内容读不出来，可能已损坏（{type(e).__name__}），请另存为 .xlsx 后再导入") from None


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _merged_ranges(wb: object, ws: object) -> list[tuple[int, int, int, int]]:
    """Merged ranges as (first row, last row, first col, last col), 1-based.

    Clerks merge the 村 or 组 cell over all its households; Excel shows the value on
    every one of those rows, so the reader must too. openpyxl's read-only mode does not
    report merges, so the ``<mergeCell>`` elements are read from the sheet's XML (a
    quick scan; on any trouble merges are simply not filled).
    """
    try:
        data = wb._archive.read(ws._worksheet_path)  # type: ignore[attr-defined]
    except Exception:
        return []
    out = []
    for m in _MERGE_REF.finditer(data):
        c1, r1, c2, r2 = _column_number(m[1]), int(m[2]), _column_number(m[3]), int(m[4])
        if r2 >= r1 and c2 >= c1:
            out.append((r1, r2, c1, c2))
    return out


def _fill_merged(
    rows: Iterator[tuple[int, list[object]]],
    merges: list[tuple[int, int, int, int]],
    filled: dict[int, set[int]],
) -> Iterator[tuple[int, list[object]]]:
    """Copy each vertically merged cell's value into every cell of its range, noting in
    ``filled`` (row → 0-based columns) which values came from a merge."""
    starts: dict[int, list[tuple[int, int, int, int]]] = {}
    for m in merges:
        if m[1] > m[0]:
            starts.setdefault(m[0], []).append(m)
    active: list[tuple[int, int, int, object]] = []  # (last row, first col, last col, value)
    for number, cells in rows:
        if active:
            active = [a for a in active if a[0] >= number]
        for _r1, r2, c1, c2 in starts.get(number, ()):
            value = cells[c1 - 1] if c1 - 1 < len(cells) else None
            if value is not None:
                active.append((r2, c1, c2, value))
        for _last, c1, c2, value in active:
            if len(cells) < c2:
                cells.extend([None] * (c2 - len(cells)))
            for c in range(c1 - 1, c2):
                if cells[c] is None:
                    cells[c] = value
                    filled.setdefault(number, set()).add(c)
        yield number, cells


def _iter_worksheet(wb: object, ws: object) -> Iterator[tuple[int, list[object]]]:
    """Rows of a worksheet as (Excel row number, values), blank rows included.

    The sheet XML is streamed through :func:`parse_sheet_xml` (expat, a few callbacks per
    cell), which reads a 10,000-row sheet several times faster than openpyxl's own
    read-only row parser while giving the same values. The workbook parts it needs
    (shared strings, which styles are dates, the date epoch) still come from openpyxl's
    ``load_workbook(read_only=True, data_only=True)``. Should those internals ever be
    missing, openpyxl's ``iter_rows`` is used instead.
    """
    try:
        shared = ws._shared_strings  # type: ignore[attr-defined]
        date_styles = set(wb._date_formats)  # type: ignore[attr-defined]
        timedelta_styles = set(wb._timedelta_formats)  # type: ignore[attr-defined]
        epoch = wb.epoch  # type: ignore[attr-defined]
        opener = wb._archive.open  # type: ignore[attr-defined]
        part = ws._worksheet_path  # type: ignore[attr-defined]
    except AttributeError:
        ws.reset_dimensions()  # type: ignore[attr-defined]  # some writers record a wrong size
        rows = ws.iter_rows(min_row=1, values_only=True)  # type: ignore[attr-defined]
        for number, values in enumerate(rows, start=1):
            yield number, list(values)
        return
    with opener(part) as stream:
        yield from parse_sheet_xml(stream, shared, date_styles, timedelta_styles, epoch)


class _SheetHandler:
    """expat callbacks for ``<sheetData>``: builds each row's value list the way
    openpyxl's read-only reader with ``data_only=True`` would."""

    def __init__(
        self, shared: Sequence[object], date_styles: set[int], timedelta_styles: set[int],
        epoch: dt.datetime,
    ) -> None:
        self.shared = shared
        self.date_styles = date_styles
        self.timedelta_styles = timedelta_styles
        self.epoch = epoch
        self.done: list[tuple[int, list[object]]] = []
        self.row_number = 0
        self.cells: list[object] = []
        self.col = 0
        self.ctype = "n"
        self.style = 0
        self.text: list[str] | None = None  # collecting <v> or inline <t>
        self.value: str | None = None
        self.inline: list[str] | None = None
        self.in_is = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                n = 0
                for ch in letters.upper():
                    n = n * 26 + ord(ch) - 64
                self.col = n
            else:
                self.col += 1
            self.ctype = attrs.get("t", "n")
            sid = attrs.get("s")
            self.style = int(sid) if sid else 0
            self.value = None
            self.inline = None
        elif tag == "v":
            self.text = []
        elif tag == "row":
            ref = attrs.get("r")
            if ref:
                try:
                    self.row_number = int(ref)
                except ValueError:
                    self.row_number = int(float(ref))
            else:
                self.row_number += 1
            self.cells = []
            self.col = 0
        elif tag == "is":
            self.in_is = True
            self.inline = []
        elif tag == "t" and self.in_is and not self.phonetic:
            self.text = []
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            value = self._cell_value()
            if value is not None:
                cells = self.cells
                if len(cells) < self.col:
                    cells.extend([None] * (self.col - len(cells)))
                cells[self.col - 1] = value
        elif tag == "v":
            self.value = "".join(self.text) if self.text is not None else None
            self.text = None
        elif tag == "row":
            self.done.append((self.row_number, self.cells))
        elif tag == "t" and self.text is not None and self.in_is:
            assert self.inline is not None
            self.inline.append("".join(self.text))
            self.text = None
        elif tag == "is":
            self.in_is = False
        elif tag == "rPh":
            self.phonetic -= 1

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _cell_value(self) -> object:
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        t = self.ctype
        if t == "inlineStr":
            return "".join(self.inline) if self.inline is not None else None
        v = self.value or None
        if v is None:
            return None
        if t == "n":
            number: int | float = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
            if self.style in self.date_styles:
                try:
                    return from_excel(number, self.epoch, timedelta=self.style in self.timedelta_styles)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if t == "s":
            return self.shared[int(v)]
        if t == "b":
            return bool(int(v))
        if t == "d":
            return from_ISO8601(v)
        return v  # "str" (a formula's text result), "e" (#N/A …)


def _refuse_dtd(*_args: object) -> None:
    raise ValueError("表格文件里含有 DTD，不是正常的 Excel 文件")


def parse_sheet_xml(
    stream: io.RawIOBase | io.BufferedIOBase | object,
    shared: Sequence[object],
    date_styles: set[int],
    timedelta_styles: set[int],
    epoch: dt.datetime,
    chunk_size: int = 1 << 16,
) -> Iterator[tuple[int, list[object]]]:
    """Stream a worksheet part: yield (row number, values) for every row from 1 up to
    the last one, with ``[]`` for rows the file leaves out — exactly the rows and values
    openpyxl's read-only ``iter_rows(values_only=True)`` gives with ``data_only=True``.

    DTDs and entity declarations are refused outright (no "billion laughs").
    """
    import xml.parsers.expat as expat

    handler = _SheetHandler(shared, date_styles, timedelta_styles, epoch)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.chars
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    expected = 1
    read = stream.read  # type: ignore[attr-defined]
    while True:
        chunk = read(chunk_size)
        parser.Parse(chunk, not chunk)
        if handler.done:
            for number, cells in handler.done:
                if number < expected:
                    continue  # out of order: openpyxl drops these too
                while expected < number:
                    yield expected, []
                    expected += 1
                yield number, cells
                expected += 1
            handler.done.clear()
        if not chunk:
            break


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """BOM → that encoding; otherwise strict UTF-8; otherwise GB18030 (a superset of GBK,
    which is what Excel and WPS write on Chinese Windows)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    raise TableError(
        f"“{name}”的文字编码认不出来。请用 Excel 或 WPS 打开，另存为“CSV UTF-8”或 .xlsx 后再导入"
    )


def _decode_as(data: bytes, encoding: str) -> str:
    if encoding == "utf-8-sig":
        return data.decode("utf-8-sig")
    return data.decode(encoding)


_DELIMITERS = (",", "\t", ";")


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[object]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):  # noqa: B007 - used in except
            yield number, list(record)
    except csv.Error as e:
        raise TableError(f"第{number + 1}行格式不对，读不下去（{e}）。请用 Excel 打开后重新另存为 CSV") from None


def _open_csv(
    path: Path, matcher: _Matcher, encoding: str | None = None, delimiter: str | None = None
) -> _Source:
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)  # long remarks must not abort the import
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TableError(f"读取文件 {path} 失败：{e.strerror or e}") from None
    if encoding is not None:
        text = _decode_as(data, encoding)
    else:
        text, encoding = _decode(data, path.name)
    head = text.lstrip()[:200].lower()
    if head.startswith(("<html", "<!doctype", "<table", "<?xml")):
        raise TableError(
            f"“{path.name}”其实是网页格式（有的系统导出的“xls”就是这样）。"
            "请用 Excel 或 WPS 打开，另存为 .xlsx 后再导入"
        )
    if delimiter is None:
        best: tuple[int, int, str] | None = None
        for d in _DELIMITERS:
            top = list(islice(_csv_records(text, d), HEADER_SCAN_ROWS))
            header = _find_header(top, matcher)
            width = max((len(r) for _n, r in top), default=0)
            score = (header.score if header else 0, width)
            if best is None or score > best[:2]:
                best = (score[0], score[1], d)
        delimiter = best[2] if best else ","
    it = _csv_records(text, delimiter)
    top = list(islice(it, HEADER_SCAN_ROWS))
    return _Source("csv", it, top, encoding=encoding, delimiter=delimiter)


# --- reading ------------------------------------------------------------------------


def read_table(
    path: str | Path, fields: Sequence[FieldSpec], *, sheet_name: str | None = None
) -> Sheet:
    """Read an xlsx or csv table into text rows keyed by field.

    Raises :class:`TableError` only when the file as a whole cannot be read. Everything
    else — missing columns, IDs stored as numbers, skipped total/example rows — is in
    ``Sheet.problems`` with the Excel row number and the clerk's own column header.
    When several worksheets exist, the one whose header matches best is used (so a
    填表说明 sheet in front of the data does not matter).
    """
    path = Path(path)
    fields = tuple(fields)
    matcher = _Matcher(fields)
    source = _open_source(path, matcher, sheet_name)
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


def _read(source: _Source, fields: tuple[FieldSpec, ...], matcher: _Matcher, path: Path) -> Sheet:
    header = _find_header(source.top, matcher)
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
        examples = "、".join(f"“{f.label}”" for f in fields if f.required) or "、".join(
            f"“{f.label}”" for f in fields
        )
        sheet.problems.append(
            Problem(
                f"前{HEADER_SCAN_ROWS}行里没有找到表头（应有{examples}等列名）。"
                "请确认选对了文件，表头写在表格最上面"
            )
        )
    for f in fields:
        if f.required and f.key not in sheet.columns:
            sheet.problems.append(
                Problem(
                    f"表中没有“{f.label}”这一列。列名可以写成：{'、'.join(f.names)}",
                    field=f.label,
                    row=header.row if header else None,
                )
            )
    if header is None:
        return sheet

    mapped = [(f, sheet.columns.get(f.key)) for f in fields]
    used_cols = sorted(c for _f, c in mapped if c is not None)
    for row_number, cells in source.all_rows():
        if row_number <= header.row:
            continue
        merged_in = source.filled.get(row_number, ())
        if all(c >= len(cells) or c in merged_in or _is_blank(cells[c]) for c in used_cols):
            continue  # blank (or only 序号, or only a merged 村 cell): nothing to import
        leading = _leading_texts(cells)
        if leading and (leading[0].startswith("示例") or leading[0].startswith(("例:", "例："))):
            sheet.problems.append(Problem("这一行是填表示例，已跳过", row=row_number, warning=True))
            continue
        values: dict[str, str] = {}
        for f, col in mapped:
            value = cells[col] if col is not None and col < len(cells) else None
            text, as_number = _cell_text(value, f)
            values[f.key] = text
            if as_number:
                label = sheet.label(f.key)
                noun = _NOUN.get(f.key, label)
                sheet.problems.append(
                    Problem(
                        f"{noun}被表格存成了数字，末几位可能已丢失，请把该列设为文本后重新填写",
                        field=label,
                        row=row_number,
                    )
                )
            elif f.key in _NUMBER_SENSITIVE and _lost_digits_hint(f.key, text):
                noun = _NOUN[f.key]
                sheet.problems.append(
                    Problem(
                        f"{noun}末几位是0且校验不对，可能被表格存成过数字、末几位已丢失，请按原件重新填写",
                        field=sheet.label(f.key),
                        row=row_number,
                        warning=True,
                    )
                )
        if (
            any(w in _TOTAL_WORDS for w in leading)
            and not values.get("id_number")
            and not values.get("card_account")
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


def squash_cell(value: object) -> str:
    """Any cell as compact text (for recognising 合计/示例 rows); control characters
    are dropped as everywhere else, since the errors sheet cannot even hold them."""
    if value is None:
        return ""
    return _WS.sub("", halfwidth(_ILLEGAL_XML.sub("", str(value))))


def group_problems(problems: Iterable[Problem]) -> dict[int, list[Problem]]:
    """Problems that name a row, grouped by row number — the shape ``write_errors_sheet``
    takes. Problems without a row (a missing column) are left to the caller."""
    out: dict[int, list[Problem]] = {}
    for p in problems:
        if p.row is not None:
            out.setdefault(p.row, []).append(p)
    return out


# --- the errors sheet ---------------------------------------------------------------

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
    value = _ILLEGAL_XML.sub("", value)
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
    source = _open_source(
        src, _Matcher(sheet.fields), sheet.sheet_name, sheet.encoding, sheet.delimiter,
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
                if not _is_blank(cells[col]):
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
            if not _is_blank(value):
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


def _copy_cell(ws: object, value: object) -> object:
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
