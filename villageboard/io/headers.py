"""The columns the importer understands, and finding them in a clerk's sheet.

Clerks bring whatever the village sent them: a title row on top, merged header cells,
columns in any order, extra columns, decorated names (``*户主姓名``, ``面积(亩)``). The
header is found by matching known column names and their synonyms in the first
:data:`HEADER_SCAN_ROWS` rows instead of assuming row 1; every unknown column is ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from villageboard.domain.errors import Problem
from villageboard.domain.validate import halfwidth
from villageboard.io.cells import SPACES, CleanKind, is_blank
from villageboard.io.xlsx_out import column_letter

__all__ = [
    "APPLICATION_FIELDS",
    "APPLICATION_IMPORT_FIELDS",
    "HEADER_SCAN_ROWS",
    "HOUSEHOLD_FIELDS",
    "PAYOUT_RETURN_FIELDS",
    "FieldSpec",
    "Header",
    "HeaderMatcher",
    "find_header",
    "norm_header",
]

HEADER_SCAN_ROWS = 20
"""How many rows from the top are searched for the header (title rows sit above it)."""


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
    Excel keeps only 15 significant digits (IDs, bank accounts). A required column may
    stand back ``unless`` one of the columns named there (by key) is in the sheet: an
    area sheet with 确权面积 needs no 数量.
    """

    key: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = True
    clean: CleanKind = "compact"
    text_only: bool = False
    unless: tuple[str, ...] = ()

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
ID_NUMBER = FieldSpec("id_number", "身份证号码", ("身份证号码", "身份证号", "公民身份号码", "身份证"), text_only=True)
PHONE = FieldSpec("phone", "联系电话", ("联系电话", "电话", "手机号", "手机号码"), required=False)
CARD = FieldSpec(
    "card_account",
    "一卡通账号",
    ("一卡通账号", "一卡通", "账号", "银行账号", "卡号", "存折账号", "存折号", "账户", "社保卡号"),
    required=False,
    text_only=True,
)
BANK = FieldSpec("bank", "开户银行", ("开户银行", "银行", "开户行", "银行名称"), required=False, clean="text")
VILLAGE = FieldSpec("village", "村", ("村", "村名", "行政村", "所在村"))
GROUP = FieldSpec("group", "组", ("组", "村民小组", "小组"), required=False)
QUANTITY = FieldSpec(
    "quantity",
    "数量",
    ("面积", "数量", "亩数", "补贴面积", "申报面积", "实际种植面积", "种植面积", "台数", "头数"),
)
# The land of an area program (domain/land.py). 补贴面积 = 确权 − 扣除 is the quantity paid
# on: with 确权面积 in the sheet the 数量 (补贴面积) column may be left out, and where it is
# filled it must agree.
CERTIFIED_AREA = FieldSpec(
    "certified_area", "确权面积", ("确权面积", "承包面积", "确权承包面积", "承包地面积"), required=False
)
DEDUCTED_AREA = FieldSpec("deducted_area", "扣除面积", ("扣除面积", "核减面积", "扣减面积"), required=False)
DEDUCTION_REASON = FieldSpec(
    "deduction_reason", "扣除原因", ("扣除原因", "核减原因", "扣减原因"), required=False, clean="text"
)
PROGRAM = FieldSpec("program", "补贴项目", ("补贴项目", "项目", "项目代码"), required=False)
YEAR = FieldSpec("year", "年度", ("年度", "年份", "申报年度", "补贴年度"), required=False)
RESULT = FieldSpec("result", "处理结果", ("结果", "处理结果", "状态", "发放结果", "交易状态", "处理状态"))
REASON = FieldSpec("reason", "失败原因", ("失败原因", "原因", "备注说明", "失败说明"), required=False, clean="text")
AMOUNT = FieldSpec("amount", "金额", ("金额", "发放金额", "补贴金额", "实发金额", "交易金额"))
REMARK = FieldSpec("remark", "备注", ("备注",), required=False, clean="text")
PAID_DATE = FieldSpec("paid_date", "发放日期", ("发放日期", "入账日期", "处理日期", "日期"), required=False)

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
    replace(QUANTITY, unless=("certified_area",)),
    CERTIFIED_AREA,
    DEDUCTED_AREA,
    DEDUCTION_REASON,
    CARD,
    REMARK,
)
# The entitled person (享受人) of a per-person program, when the sheet names them apart
# from the household's head. With these columns the head's may be left out: the person
# is then found as a head or a registered member.
PERSON_NAME = FieldSpec(
    "person_name",
    "享受人姓名",
    (
        "享受人姓名",
        "享受人",
        "享受对象姓名",
        "领取人姓名",
        "领取人",
        "补贴对象姓名",
        "成员姓名",
        "补助对象姓名",
    ),
    required=False,
    clean="name",
)
PERSON_ID = FieldSpec(
    "person_id",
    "享受人身份证号码",
    (
        "享受人身份证号码",
        "享受人身份证号",
        "享受人身份证",
        "享受对象身份证号码",
        "享受对象身份证号",
        "领取人身份证号码",
        "领取人身份证号",
        "补贴对象身份证号码",
        "补贴对象身份证号",
        "成员身份证号码",
        "成员身份证号",
        "补助对象身份证号码",
    ),
    required=False,
    text_only=True,
)
#: What `import applications` reads: the template's columns, the entitled person's, and
#: the bank of a household the import registers.
APPLICATION_IMPORT_FIELDS: tuple[FieldSpec, ...] = tuple(
    replace(f, unless=("person_id",)) if f.key in ("name", "id_number") else f for f in APPLICATION_FIELDS
) + (PERSON_NAME, PERSON_ID, BANK)

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


# --- header detection ---------------------------------------------------------------

_BRACKETED = re.compile(r"[（(\[【〔<《][^（()）\[\]【】〔〕<>《》]*[）)\]】〕>》]")
_OPEN_TAIL = re.compile(r"[（(\[【〔<《].*$")
_DECORATION = re.compile(r"[*＊※★☆#:：\"'“”‘’]")
_NUMBERING = re.compile(r"^\d{1,2}[.、]")
_SPLIT = re.compile(r"[/|、或]")
_OWNER_PREFIXES = ("户主", "农户", "收款人", "收款", "申请人", "补贴对象", "持卡人")


def norm_header(value: object) -> str:
    """A header cell reduced to the bare column name.

    Clerks decorate headers: ``*户主姓名``, ``身份证号码（必填）``, ``面积(亩)``,
    ``户 主 姓 名``, full-width letters. All of that is dropped before comparing.
    """
    if value is None:
        return ""
    t = SPACES.sub("", halfwidth(str(value)))
    t = _BRACKETED.sub("", t)
    t = _OPEN_TAIL.sub("", t)
    t = _DECORATION.sub("", t)
    t = _NUMBERING.sub("", t)
    for suffix in ("必填", "选填", "必须填写"):
        t = t.removesuffix(suffix)
    return t.strip("._-—").replace("帐", "账").lower()  # 帐号 and 账号 are both in use


class HeaderMatcher:
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
class Header:
    row: int
    columns: dict[str, int]
    labels: dict[str, str]
    problems: list[Problem]
    score: int


def _header_text(value: object) -> str:
    return SPACES.sub(" ", str(value)).strip()


def _try_header(
    row_number: int, cells: Sequence[object], above: Sequence[object] | None, matcher: HeaderMatcher
) -> Header:
    """Map one candidate header row. Empty cells may take their name from the row above:
    that is how a two-row header with vertically merged cells looks when read."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    width = max(len(cells), len(above) if above is not None else 0)
    for col in range(width):
        value = cells[col] if col < len(cells) else None
        source = value
        if is_blank(value) and above is not None and col < len(above):
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
    return Header(row_number, columns, labels, problems, len(columns))


def find_header(top: Sequence[tuple[int, Sequence[object]]], matcher: HeaderMatcher) -> Header | None:
    best: Header | None = None
    above: Sequence[object] | None = None
    for row_number, cells in top:
        cand = _try_header(row_number, cells, above, matcher)
        if cand.score and (best is None or cand.score > best.score):
            best = cand
        above = cells
    return best
