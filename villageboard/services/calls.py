"""The call log (来电记录): every phone call, its question and answer, and the yearly
figures the township's openness report needs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.domain.errors import NotFound, VBError
from villageboard.domain.models import QUESTION_TYPES, CallLogEntry, Objection
from villageboard.services.identity import CheckFigures, IdentityChecks
from villageboard.services.paths import calls_file

if TYPE_CHECKING:
    from villageboard.services.context import Services

CALLS = "calls"


@dataclass
class CallFigures:
    year: int
    total: int
    by_type: dict[str, int] = field(default_factory=dict)
    by_village: dict[str, int] = field(default_factory=dict)
    objections: int = 0
    #: identity checks that failed (wrong date, household locked for the day, several
    #: households found) and supervisor overrides
    checks: CheckFigures = field(default_factory=CheckFigures)


class CallLogService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store

    def log(
        self,
        caller_name: str,
        question_type: str,
        answer: str,
        household_id: int | None = None,
        question: str = "",
        operator: str | None = None,
    ) -> CallLogEntry:
        if question_type not in QUESTION_TYPES:
            raise VBError(f"问题类型只能是：{'、'.join(QUESTION_TYPES)}")
        if household_id is not None:
            self.svc.registry.household(household_id)
        now = self.svc.now()
        c = CallLogEntry(
            time=now.isoformat(),
            caller_name=caller_name.strip(),
            household_id=household_id,
            question_type=question_type,
            question=question.strip(),
            answer=answer.strip(),
            operator=operator or self.svc.operator,
        )
        with self.store.begin("来电.记录") as tx:
            c.id = tx.insert(calls_file(now.year), CALLS, "call", c.to_dict())
        return c

    def get(self, call_id: int) -> tuple[int, CallLogEntry]:
        for y in sorted(self.store.years(), reverse=True):
            doc = self.store.table(calls_file(y), CALLS).get(str(call_id))
            if doc is not None:
                return y, CallLogEntry.from_dict(doc)
        raise NotFound(f"没有编号为{call_id}的来电记录")

    def list(self, year: int) -> list[CallLogEntry]:
        return sorted(
            (CallLogEntry.from_dict(d) for d in self.store.table(calls_file(year), CALLS).values()), key=lambda c: c.id
        )

    def to_objection(self, call_id: int, notice_code: str, text: str = "", mask_private: bool = False) -> Objection:
        """Turn a caller's complaint into an objection on a posted notice, in one step."""
        year, c = self.get(call_id)
        if c.objection_id:
            raise VBError(f"来电{call_id}已经登记过异议（编号{c.objection_id}）")
        o = self.svc.notices.add_objection(
            notice_code, text or c.question or c.answer, c.household_id, call_id=c.id, mask_private=mask_private
        )
        c.objection_id = o.id
        if c.question_type != "异议":
            c.question_type = "异议"
        with self.store.begin("来电.转为异议") as tx:
            tx.put(calls_file(year), CALLS, c.id, c.to_dict())
        return o

    def figures(self, year: int) -> CallFigures:
        calls = self.list(year)
        names: dict[int, str] = {}
        for v in self.svc.registry.villages(include_void=True):
            names[v.id] = v.name
        by_village: Counter[str] = Counter()
        for c in calls:
            if c.household_id is None:
                by_village["（未找到农户）"] += 1
            else:
                try:
                    by_village[names.get(self.svc.registry.household(c.household_id).village_id, "?")] += 1
                except NotFound:
                    by_village["?"] += 1
        by_type = {t: 0 for t in QUESTION_TYPES}
        for c in calls:
            by_type[c.question_type] = by_type.get(c.question_type, 0) + 1
        return CallFigures(
            year=year,
            total=len(calls),
            by_type=by_type,
            by_village=dict(sorted(by_village.items())),
            objections=sum(1 for c in calls if c.objection_id),
            checks=IdentityChecks(self.svc).figures(year),
        )

    def export_figures(self, year: int, out: Path) -> Path:
        from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book

        f = self.figures(year)
        sheets = [
            SheetOut(
                title="按问题类型",
                columns=[ColumnOut("问题类型", "k"), ColumnOut("来电次数", "n", "int")],
                rows=[{"k": k, "n": v} for k, v in f.by_type.items()],
                banner=f"{year}年电话咨询情况（按问题类型）",
            ),
            SheetOut(
                title="按村",
                columns=[ColumnOut("村", "k"), ColumnOut("来电次数", "n", "int")],
                rows=[{"k": k, "n": v} for k, v in f.by_village.items()],
                banner=f"{year}年电话咨询情况（按村）",
            ),
            SheetOut(
                title="汇总",
                columns=[ColumnOut("项目", "k"), ColumnOut("数量", "n", "int")],
                rows=[
                    {"k": "来电总数", "n": f.total},
                    {"k": "由来电转为异议", "n": f.objections},
                    *({"k": k, "n": n} for k, n in check_lines(f.checks)),
                ],
                banner=f"{year}年政务公开电话解答情况",
            ),
        ]
        return write_sheet_book(out, sheets)


def check_lines(f: CheckFigures) -> list[tuple[str, int]]:
    """The identity-check figures as the report words them."""
    return [
        ("身份核实未通过", f.failed),
        ("其中：出生日期不符", f.wrong),
        ("其中：当天错满次数后再核实", f.locked),
        ("其中：查到多户未核实", f.several),
        ("主管放行", f.overrides),
    ]
