"""Reconciliation (对账): what was approved, sent to the bank, paid and failed, per
village and program, adding up to the program and the township.

Every figure is a sum of stored rows (integer fen), and each level is the sum of the
level below it, so the county sheet, the result notices and the bank's own total can
be checked against each other. ``Tally.check`` states the identities that must hold:

* sent to the bank = paid + failed + waiting for the bank's return;
* approved = sent to the bank + not yet sent.

A failed row that was reissued counts once, in its latest state; every attempt stays in
the row's history (``attempts``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from villageboard.domain.masking import mask_card
from villageboard.domain.money import format_fen
from villageboard.services.applications import APPLICATIONS

if TYPE_CHECKING:
    from villageboard.services.context import Services

#: measure -> label a clerk reads
MEASURES = {
    "approved": "审核通过",
    "issued": "已提交银行",
    "paid": "已发放",
    "failed": "发放失败",
    "pending": "等待回盘",
    "not_issued": "未提交银行",
}


@dataclass
class Tally:
    """Count and amount of one measure. ``quantity`` is kept too, for the rows where
    units agree (one program)."""

    n: int = 0
    fen: int = 0

    def add(self, fen: int) -> None:
        self.n += 1
        self.fen += fen

    def merge(self, other: Tally) -> None:
        self.n += other.n
        self.fen += other.fen


@dataclass
class ReconLine:
    """One village × program (or a program total, or the township total when the
    names are blank)."""

    village_id: int | None
    village: str
    program_code: str
    program: str
    unit: str = ""
    quantity: Decimal = Decimal(0)  # approved quantity (only meaningful per program)
    approved: Tally = field(default_factory=Tally)
    issued: Tally = field(default_factory=Tally)
    paid: Tally = field(default_factory=Tally)
    failed: Tally = field(default_factory=Tally)
    pending: Tally = field(default_factory=Tally)
    not_issued: Tally = field(default_factory=Tally)
    attempts: int = 0  # bank attempts made, all batches
    reissued: int = 0  # rows sent more than once

    def merge(self, other: ReconLine) -> None:
        for m in MEASURES:
            getattr(self, m).merge(getattr(other, m))
        self.attempts += other.attempts
        self.reissued += other.reissued
        if self.program_code:
            self.quantity += other.quantity

    def check(self) -> list[str]:
        """The identities that must hold; returns what does not (empty when balanced)."""
        bad = []
        parts = Tally(self.paid.n + self.failed.n + self.pending.n, self.paid.fen + self.failed.fen + self.pending.fen)
        if parts != self.issued:
            bad.append(
                f"{self.where}：已提交银行{self.issued.n}笔{format_fen(self.issued.fen)}元，"
                f"不等于已发放+失败+等待回盘（{parts.n}笔{format_fen(parts.fen)}元）"
            )
        whole = Tally(self.issued.n + self.not_issued.n, self.issued.fen + self.not_issued.fen)
        if whole != self.approved:
            bad.append(f"{self.where}：审核通过{self.approved.n}笔，不等于已提交银行+未提交银行（{whole.n}笔）")
        return bad

    @property
    def where(self) -> str:
        return (self.village or "全乡镇") + (f" {self.program}" if self.program else "")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["quantity"] = str(self.quantity) if self.program_code else None
        for m in MEASURES:
            d[m] = {"count": getattr(self, m).n, "amount_fen": getattr(self, m).fen}
        return d

    def text(self) -> str:
        parts = [
            f"{MEASURES[m]}{getattr(self, m).n}笔 {format_fen(getattr(self, m).fen)}元"
            for m in ("approved", "issued", "paid", "failed", "pending")
        ]
        if self.not_issued.n:
            parts.append(f"未提交银行{self.not_issued.n}笔 {format_fen(self.not_issued.fen)}元")
        if self.reissued:
            parts.append(f"重新发放{self.reissued}笔")
        return "，".join(parts)


@dataclass
class FailedRow:
    app_id: str
    village: str
    name: str
    program_code: str
    amount_fen: int
    reason: str
    account_tail: str
    batch: str
    returned: str = ""  # the bank return's date for this failure


@dataclass
class Reconciliation:
    year: int
    lines: list[ReconLine]  # village × program
    programs: list[ReconLine]  # per program (village blank)
    township: ReconLine
    failures: list[FailedRow]

    def problems(self) -> list[str]:
        """Every identity that fails, at every level, plus any level that is not the
        sum of the level below."""
        out = []
        for line in [*self.lines, *self.programs, self.township]:
            out += line.check()
        for p in self.programs:
            parts = [x for x in self.lines if x.program_code == p.program_code]
            for m in MEASURES:
                if sum(getattr(x, m).fen for x in parts) != getattr(p, m).fen:
                    out.append(f"{p.program}：各村{MEASURES[m]}金额之和与项目合计不符")
        for m in MEASURES:
            if sum(getattr(p, m).fen for p in self.programs) != getattr(self.township, m).fen:
                out.append(f"全乡镇：各项目{MEASURES[m]}金额之和与合计不符")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "lines": [x.to_dict() for x in self.lines],
            "programs": [x.to_dict() for x in self.programs],
            "township": self.township.to_dict(),
            "failures": [asdict(f) for f in self.failures],
        }


def reconcile(svc: Services, year: int, program: str | None = None) -> Reconciliation:
    """Tally a year (or one program) from the raw stored rows: a row's latest payout
    state decides where it counts."""
    villages = {v.id: v.name for v in svc.registry.villages(include_void=True)}
    programs = {p.code: p for p in svc.programs.list(year, include_void=True)}
    lines: dict[tuple[str, int], ReconLine] = {}
    failures: list[FailedRow] = []
    households = svc.registry.by_number()
    for rel in svc.applications.files(year, program):
        for d in svc.store.table(rel, APPLICATIONS).values():
            if d.get("void") or d.get("status") != "approved":
                continue
            code, vid = d["program_code"], d["village_id"]
            key = (code, vid)
            line = lines.get(key)
            if line is None:
                p = programs.get(code)
                line = lines[key] = ReconLine(
                    vid,
                    villages.get(vid, "?"),
                    code,
                    p.name if p else code,
                    p.unit if p else "",
                )
            fen = int(d["amount_fen"])
            line.approved.add(fen)
            line.quantity += Decimal(str(d["quantity"]))
            status = d.get("payout_status") or ""
            attempts = d.get("attempts") or []
            line.attempts += len(attempts)
            if len(attempts) > 1:
                line.reissued += 1
            if not status:
                line.not_issued.add(fen)
                continue
            line.issued.add(fen)
            if status == "paid":
                line.paid.add(fen)
            elif status == "failed":
                line.failed.add(fen)
                last = attempts[-1] if attempts else {}
                h = households.get(d["household_id"])
                failures.append(
                    FailedRow(
                        d["id"],
                        villages.get(vid, "?"),
                        (last.get("name") if d.get("person_id_number") else "") or (h.name if h else "?"),
                        code,
                        fen,
                        last.get("reason", ""),
                        mask_card(last.get("account", "")),
                        last.get("batch", ""),
                        last.get("returned", ""),
                    )
                )
            else:
                line.pending.add(fen)
    ordered = sorted(lines.values(), key=lambda x: (x.program_code, x.village_id or 0))
    by_program: dict[str, ReconLine] = {}
    for line in ordered:
        total = by_program.get(line.program_code)
        if total is None:
            total = by_program[line.program_code] = ReconLine(None, "", line.program_code, line.program, line.unit)
        total.merge(line)
    township = ReconLine(None, "", "", "")
    for total in by_program.values():
        township.merge(total)
    failures.sort(key=lambda f: f.app_id)
    return Reconciliation(year, ordered, list(by_program.values()), township, failures)
