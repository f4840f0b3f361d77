"""What the phone desk holds and shows: each application compacted to a plain tuple
(``Rec``'s field order), the notices that made records public, and the views of one
household's history handed to the screen and the command line.

Before the caller's identity is confirmed a record shows only what posted notices
already made public (see ``record_view``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from sys import intern
from typing import Any, NamedTuple

from villageboard.domain.masking import mask_long_numbers
from villageboard.domain.models import APP_STATUS, NOTICE_KINDS
from villageboard.domain.money import format_quantity
from villageboard.services.identity import CheckResult

PENDING = "申报中"
#: A record the bank has handled whose result notice is not on the board yet: the
#: public may know it is in hand, not how it ended.
IN_HAND = "正在办理"
PUBLIC_PAYOUT = {"paid": "已发放", "failed": "发放失败", "issued": "发放中"}

#: Values repeated across hundreds of thousands of records, held once (see compact_record).
_QUANTITIES: dict[str, str] = {}
_NOTICE_TUPLES: dict[tuple[str, ...], tuple[str, ...]] = {}


class Rec(NamedTuple):
    """One application, compacted for the phone desk's history.

    The desk makes each record as a plain tuple in this field order, keeps a household's
    year of them packed in one bytes object (phone.py), and hands out ``Rec`` views of
    one household's records at a time."""

    app_id: str
    year: int
    program: str
    quantity: str
    amount_fen: int
    status: str  # application status code
    payout: str  # "" | issued | paid | failed
    reason: str  # bank failure reason (private)
    paid_date: str
    reject_reason: str
    notices: tuple[str, ...]  # codes that froze this row
    void: bool


#: Positions in a stored record tuple, and sort keys over them.
YEAR, PROGRAM, NOTICES, VOID = (Rec._fields.index(f) for f in ("year", "program", "notices", "void"))
BY_YEAR, BY_PROGRAM = itemgetter(YEAR), itemgetter(PROGRAM)


@dataclass
class NoticeRef:
    code: str
    version: int
    kind: str  # base kind of the code (application / result / summary)
    start: dt.date | None
    end: dt.date | None
    state: str
    label: str = ""  # "141025-2026-0012 发放结果公示", made once (shown on every record)
    dates: str = ""  # "2026-11-25至2026-12-02"

    def __post_init__(self) -> None:
        self.label = f"{self.code} {NOTICE_KINDS.get(self.kind, '')}"
        if self.start is not None:
            self.dates = (
                f"{self.start.isoformat()}至{self.end.isoformat()}" if self.end else f"{self.start.isoformat()}起"
            )


#: (public, on a result notice, the notice to show) for the codes that froze a record.
Posted = tuple[bool, bool, NoticeRef | None]


@dataclass(slots=True)
class LookupRecord:
    year: int
    program: str
    program_name: str
    unit: str
    status: str
    public: bool
    quantity: str | None = None
    amount_fen: int | None = None
    notice: str = ""
    notice_dates: str = ""
    app_id: str = ""
    # private fields (only after identity confirmation)
    reason: str = ""
    paid_date: str = ""

    def to_json(self, private: bool) -> dict[str, Any]:
        d: dict[str, Any] = {"year": self.year, "program": self.program_name, "status": self.status}
        if self.public or private:
            d.update(
                quantity=self.quantity,
                amount_fen=self.amount_fen,
                notice=(f"{self.notice}（{self.notice_dates}）" if self.notice else None),
            )
        else:
            d.update(quantity=None, amount_fen=None, notice=None)
        if private:
            d.update(reason=self.reason or None, paid_date=self.paid_date or None, application=self.app_id)
        return d


@dataclass
class LookupHit:
    household_id: int
    name: str
    village: str
    group: str
    id_masked: str
    matched: str
    records: list[LookupRecord]
    confirmed: bool = False
    phone_tail: str = ""
    card_tail: str = ""
    status: str = ""

    def to_json(self) -> dict[str, Any]:
        h: dict[str, Any] = {
            "id": self.household_id,
            "name": self.name,
            "village": self.village,
            "group": self.group,
            "id_masked": self.id_masked,
        }
        if self.confirmed:
            h.update(
                confirmed=True,
                card_tail=self.card_tail or None,
                phone_tail=self.phone_tail or None,
                failure_reason=next((r.reason for r in self.records if r.reason), None),
            )
        return {"household": h, "records": [r.to_json(self.confirmed) for r in self.records]}


@dataclass
class LookupAnswer:
    hits: list[LookupHit]
    loading_years: list[int] = field(default_factory=list)
    check: CheckResult | None = None  # the identity check made with the lookup, if any

    @property
    def note(self) -> str:
        if not self.loading_years:
            return ""
        return f"往年数据（{min(self.loading_years)}–{max(self.loading_years)}年）还在载入，历史记录可能不全"


def compact_record(doc: Mapping[str, Any]) -> tuple[Any, ...]:
    """One compact record, a plain tuple in Rec's field order. Half a million of
    them stay in memory for the whole archive, so every repeated value (program,
    status, dates, the tuple of notice codes, the formatted quantity) is shared
    rather than held once per record."""
    g = doc.get
    reason = paid = ""  # free text is kept outside the data dir: long numbers masked
    attempts = g("attempts")
    if attempts:
        failed_now = g("payout_status") == "failed"
        for a in reversed(attempts):
            result = a.get("result")
            if result == "failed" and failed_now and not reason:
                reason = intern(mask_long_numbers(a.get("reason", "")))
            elif result == "paid" and not paid:
                paid = intern(a.get("paid_date", ""))
    q = g("quantity", "0")
    shown = _QUANTITIES.get(q)
    if shown is None:
        shown = _QUANTITIES.setdefault(q, intern(format_quantity(q)))
    frozen = g("frozen_by")
    if frozen:
        key = tuple(frozen)
        notices = _NOTICE_TUPLES.setdefault(key, key)
    else:
        notices = ()
    rr = g("reject_reason")
    return (
        g("id", ""),
        doc["year"],
        intern(doc["program_code"]),
        shown,
        g("amount_fen", 0),
        intern(g("status", "applied")),
        intern(g("payout_status", "")),
        reason,
        paid,
        intern(mask_long_numbers(rr)) if rr else "",
        notices,
        bool(g("void")),
    )


def notice_refs(docs: Any) -> dict[str, NoticeRef]:
    first_kind: dict[str, str] = {}
    latest: dict[str, dict[str, Any]] = {}
    for d in docs:
        if d.get("version") == 1:
            first_kind[d["code"]] = d["kind"]
        if d.get("state") in ("posted", "archived") and d.get("start"):
            cur = latest.get(d["code"])
            if cur is None or d["version"] > cur["version"]:
                latest[d["code"]] = d
    out = {}
    for code, d in latest.items():
        out[code] = NoticeRef(
            code=code,
            version=d["version"],
            kind=first_kind.get(code, d["kind"]),
            start=dt.date.fromisoformat(d["start"]),
            end=dt.date.fromisoformat(d["end"]) if d.get("end") else None,
            state=d["state"],
        )
    return out


def record_view(t: tuple[Any, ...], name: str, unit: str, confirmed: bool, posted: Posted) -> LookupRecord:
    """What the phone screen shows of one stored record (a tuple in Rec's order)."""
    app_id, year, program, quantity, amount_fen, status, payout, reason, paid_date, _rj, _n, _v = t
    public, on_result, shown = posted
    if confirmed:  # the caller's own record: the payout as the bank reported it
        label = PUBLIC_PAYOUT.get(payout) or APP_STATUS.get(status, status)
    elif on_result and payout in PUBLIC_PAYOUT:
        label = PUBLIC_PAYOUT[payout]
    elif payout in PUBLIC_PAYOUT:
        label = IN_HAND
    elif public:
        label = APP_STATUS.get(status, status)
    else:
        label = PENDING
    shown_too = public or confirmed
    return LookupRecord(
        year=year,
        program=program,
        program_name=name,
        unit=unit,
        status=label,
        public=public,
        quantity=quantity if shown_too else None,
        amount_fen=amount_fen if shown_too else None,
        notice=shown.label if shown is not None else "",
        notice_dates=shown.dates if shown is not None else "",
        app_id=app_id,
        reason=reason if confirmed else "",
        paid_date=paid_date if confirmed else "",
    )
