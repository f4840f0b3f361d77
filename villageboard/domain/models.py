"""Domain records as plain dataclasses. Stored as JSON dicts: Decimal quantities as
strings, dates as ISO strings, money as integer fen."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Record")

# --- labels a clerk reads -----------------------------------------------------------

HOUSEHOLD_STATUS = {"active": "正常", "deceased": "已故", "moved": "迁出"}
APP_STATUS = {
    "applied": "申报",
    "village_ok": "村审核",
    "town_ok": "乡镇审核",
    "approved": "通过",
    "rejected": "不通过",
}
APP_FLOW = ["applied", "village_ok", "town_ok", "approved"]
PAYOUT_STATUS = {"": "未发放", "issued": "已提交银行", "paid": "已发放", "failed": "发放失败"}
NOTICE_KINDS = {
    "application": "申报公示",
    "result": "发放结果公示",
    "summary": "年度汇总公示",
    "correction": "更正公示",
}
NOTICE_STATES = {"draft": "草稿", "posted": "公示中", "ended": "公示期满", "archived": "已存档"}
UNITS = ("亩", "头", "只", "台", "户", "套", "株", "人")
QUESTION_TYPES = ("补贴金额", "发放时间", "异议", "政策咨询", "其他")
#: whom a program pays: the household (to the head's card) or each entitled person (to
#: that person's own card)
PAYEE_MODES = {"household": "按户发放", "person": "按人发放"}


def _converter(tp: Any) -> Any:
    """A function turning a JSON value into the annotated type, or None when the JSON
    value is already right. Worked out once per field, not per record."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _converter(args[0]) if args else None
    if tp is Decimal:
        return lambda v: Decimal(str(v))
    if tp is dt.date:
        return lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v
    if tp is dt.datetime:
        return lambda v: dt.datetime.fromisoformat(v) if isinstance(v, str) else v
    if origin in (list, dict) or tp in (list, dict):
        return copy.deepcopy  # never share a mutable value with the store's cache
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value):
        return value.to_dict()  # type: ignore[union-attr]
    return value


@dataclass
class Record:
    """Base for stored records: JSON round-trip with exact types."""

    _hints: ClassVar[dict[str, Any] | None] = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        plan = cls.__dict__.get("_plan")
        if plan is None:
            hints = typing.get_type_hints(cls)
            plan = [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls)]
            cls._plan = plan  # type: ignore[attr-defined]
        kwargs = {}
        for name, conv in plan:
            if name in data:
                v = data[name]
                kwargs[name] = conv(v) if conv is not None and v is not None else v
        return cls(**kwargs)


def plain_rate(rate_fen: Decimal | int | str) -> int | str:
    """A rate in fen as stored: an int when whole (as every record made before rates
    kept 4 decimals), else its exact decimal string ("10368.5" is 103.685 yuan)."""
    d = Decimal(str(rate_fen))
    return int(d) if d == d.to_integral_value() else str(d.normalize())


class RatedRecord(Record):
    """A record with a ``rate_fen`` (fen per unit, exact Decimal, up to 2 decimals of a
    fen = 4 decimals of a yuan). Old records stored it as an int; those read as the
    same Decimal, and whole rates are still written as ints."""

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rate_fen"] = plain_rate(out["rate_fen"])
        return out


@dataclass
class Township(Record):
    name: str = ""
    county: str = ""
    code: str = ""  # 6-digit administrative code of the county or township prefix
    hotline: str = ""  # township consultation phone
    supervision_hotline: str = ""  # county supervision / report phone
    supervision_address: str = ""
    issuing_units: list[str] = field(default_factory=list)
    portal_url: str = ""
    font_path: str = ""
    # what notices print, besides the township's own details
    village_cosign: bool = False  # the village committee signs beside the issuing units, with seal spaces
    card_tail_column: bool = False  # a 一卡通尾号 column (last 4 digits, as the masking policy allows)
    # risk-flag thresholds (services/flags.py): a quantity above growth_limit × last
    # year's, or above outlier_factor × the village median of the program, is flagged
    growth_limit: Decimal = Decimal("1.2")
    outlier_factor: Decimal = Decimal(3)
    # a 种粮 area above planted_limit × the household's 耕地 补贴面积 is flagged
    planted_limit: Decimal = Decimal(1)
    tag_key: str = ""  # hex HMAC key made at setup; never shown or exported
    created: str = ""
    demo: bool = False


@dataclass
class Village(Record):
    id: int = 0
    name: str = ""
    void: bool = False


@dataclass
class Group(Record):
    id: int = 0
    village_id: int = 0
    name: str = ""
    void: bool = False


@dataclass
class Household(Record):
    id: int = 0
    name: str = ""  # 户主姓名
    id_number: str = ""
    phone: str = ""
    card_account: str = ""
    bank: str = ""
    village_id: int = 0
    group_id: int = 0
    status: str = "active"  # active | deceased | moved
    status_date: dt.date | None = None
    remark: str = ""
    void: bool = False
    void_reason: str = ""
    # earlier heads (户主变更): name, id_number, card_account, bank, phone, reason, date,
    # recorded — oldest first; the household, its land and its history stay
    former_heads: list[dict[str, Any]] = field(default_factory=list)
    name_since: str = ""  # ISO date the head's name (or the head) last changed; "" = since entry
    # household members (家庭成员): name, id_number, relation, added, and the member's own
    # card_account and bank (paid by per-person programs; records made before have none);
    # a member is never removed, only marked void with a reason
    members: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Program(RatedRecord):
    """One subsidy in the policy list (政策清单), for one year."""

    code: str = ""
    year: int = 0
    name: str = ""
    basis: str = ""  # 政策依据 (the document's title)
    basis_no: str = ""  # its 文号, e.g. 晋财农〔2026〕12号 (records made before it have none)
    department: str = ""
    unit: str = "亩"
    rate_fen: Decimal = Decimal(0)  # fen per unit, exact (up to 4 decimals of a yuan)
    rounding: str = "half_up"
    posting_days: int = 7
    hotline: str = ""
    max_quantity: Decimal | None = None
    eligibility: str = ""  # 补贴对象
    scope: str = ""
    procedure: str = ""  # 办理程序
    materials: str = ""  # 申报材料
    office: str = ""  # 受理机构
    time_limit: str = ""
    rate_history: list[dict[str, Any]] = field(default_factory=list)
    payee: str = "household"  # household (按户, the head's card) | person (按人, each person's own card)
    void: bool = False

    @property
    def per_person(self) -> bool:
        return self.payee == "person"

    @property
    def key(self) -> str:
        return f"{self.year}-{self.code}"


@dataclass
class PayoutAttempt(Record):
    batch: str = ""
    issued: str = ""  # date the bank sheet was made
    name: str = ""  # 户名 the bank sheet carried ("" on attempts made before it was kept)
    account: str = ""
    bank: str = ""
    amount_fen: int = 0
    result: str = "issued"  # issued | paid | failed
    reason: str = ""
    paid_date: str = ""
    returned: str = ""  # date on the bank's return (paid or failed), kept for the history
    without_notice: str = ""  # the written reason when sent before its 申报公示 cleared


@dataclass
class Application(RatedRecord):
    id: str = ""  # e.g. 2026-000123, never reused
    year: int = 0
    program_code: str = ""
    household_id: int = 0
    village_id: int = 0
    group_id: int = 0
    # a per-person program's entitled person (享受人): the head or a member of the household,
    # by ID number, and the name when entered; "" on per-household rows
    person_id_number: str = ""
    person_name: str = ""
    quantity: Decimal = Decimal(0)  # paid on; for a row with land, its 补贴面积
    rate_fen: Decimal = Decimal(0)  # the rate this row's amount was worked out with
    amount_fen: int = 0
    # the land of an area program (domain/land.py); None on a row entered as a bare 数量
    certified_area: Decimal | None = None  # 确权面积
    deducted_area: Decimal | None = None  # 扣除面积
    deduction_reason: str = ""  # 扣除原因
    status: str = "applied"
    reject_reason: str = ""
    remark: str = ""
    payout_status: str = ""  # "" | issued | paid | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)
    frozen_by: list[str] = field(default_factory=list)  # notice codes that froze this row
    cleared_flags: list[dict[str, Any]] = field(default_factory=list)
    # 代领/委托: who collected for the entitled person (kind, name, relation, date, note);
    # the bank sheet still pays the entitled household's own card
    collections: list[dict[str, Any]] = field(default_factory=list)
    created: str = ""
    void: bool = False
    void_reason: str = ""


@dataclass
class Notice(Record):
    code: str = ""
    version: int = 1
    kind: str = "result"
    year: int = 0
    village_id: int = 0
    program_code: str = ""  # empty for a year summary
    state: str = "draft"
    created: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    posted_at: str = ""
    archived_at: str = ""
    tag: str = ""
    snapshot: dict[str, Any] = field(default_factory=dict)
    photo: dict[str, Any] = field(default_factory=dict)
    supersedes: str = ""  # code/version this corrects
    changes: list[dict[str, Any]] = field(default_factory=list)
    void: bool = False


@dataclass
class Objection(Record):
    id: int = 0
    notice_code: str = ""
    notice_version: int = 1
    household_id: int | None = None
    text: str = ""
    created: str = ""
    state: str = "open"  # open | resolved
    resolution: str = ""
    resolved: str = ""
    correction: str = ""  # code/version of the correction, if any
    call_id: int | None = None


@dataclass
class CallLogEntry(Record):
    id: int = 0
    time: str = ""
    caller_name: str = ""
    household_id: int | None = None
    question_type: str = "其他"
    question: str = ""
    answer: str = ""
    operator: str = ""
    objection_id: int | None = None
