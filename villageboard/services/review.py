"""Review many applications at once (批量审核): every row of a program and year (or one
village) moved step by step, 申报 → 村审核 → 乡镇审核 → 通过, up to a chosen status.

The same rules as a single status change, and as the review page's 整页推进: each step
of each row is its own save (and journal entry), and an approval of a row with an open
risk flag is left for the clerk to check and note row by row. Following the order of
work (services/work_order.py), a row is reviewed only once a 申报公示 that lists it has
been posted, has run its whole period, has its posting photo and no open objection.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from villageboard.domain.dates import cn_date
from villageboard.domain.errors import VBError
from villageboard.domain.models import APP_FLOW, APP_STATUS

if TYPE_CHECKING:
    from villageboard.services.context import Services


@dataclass
class ReviewResult:
    """What a bulk review did: steps per transition, and each row left where it was, with why."""

    target: str = "approved"
    moved: Counter[tuple[str, str]] = field(default_factory=Counter)
    rows_moved: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (row, why)
    blocked: list[str] = field(default_factory=list)  # villages waiting for their 申报公示

    def lines(self) -> list[str]:
        out = [f"已推进{len(self.rows_moved)}笔申报。"]
        out += [f"  {APP_STATUS[a]} → {APP_STATUS[b]}：{n}笔" for (a, b), n in self.moved.items()]
        if self.skipped:
            out.append(f"没有推进到“{APP_STATUS[self.target]}”的{len(self.skipped)}笔：")
            for why, n in Counter(why for _, why in self.skipped).items():
                out.append(f"  {why}：{n}笔")
            out += [f"  {number}：{why}" for number, why in self.skipped if why != WAITING]
        if self.blocked:
            out.append("下列村的申报公示还没有走完，这些村的申报办完后再审核：")
            out += [f"  {line}" for line in self.blocked]
        return out


FLAGGED = "有风险提示，须逐笔核实、写明核实情况后通过"
WAITING = "申报公示还没有走完"


def review_to(svc: Services, year: int, program_code: str, village_id: int | None, target: str) -> ReviewResult:
    """Move every eligible row of the program (and village) up to ``target``."""
    from villageboard.services.work_order import OrderGate

    if target not in APP_FLOW[1:]:
        raise VBError(f"批量审核只能推进到：{'、'.join(APP_STATUS[s] for s in APP_FLOW[1:])}")
    program = svc.programs.get(year, program_code)
    goal = APP_FLOW.index(target)
    result = ReviewResult(target)
    apps = svc.applications.list(year, program.code, village_id)
    todo: list[str] = []
    waiting: list[str] = []
    for a in apps:
        if a.status == "rejected":
            result.skipped.append((a.id, f"已是“{APP_STATUS['rejected']}”（{a.reject_reason}）"))
        elif a.status in APP_FLOW and APP_FLOW.index(a.status) < goal:
            todo.append(a.id)
    if todo:
        wanted = set(todo)
        order = OrderGate(svc).check(year, program.code, [a for a in apps if a.id in wanted])
        held = {number for v in order.villages for number in v.apps}
        result.blocked = [
            f"{v.village}（{len(v.apps)}笔）：{'；'.join(v.reasons)}"
            + (f"，{cn_date(v.clears)}起可以审核" if v.clears and not v.waits_for_clerk else "")
            for v in order.villages
        ]
        waiting = [n for n in todo if n in held]
        todo = [n for n in todo if n not in held]
    result.skipped += [(n, WAITING) for n in waiting]
    status = {a.id: a.status for a in apps}
    while todo:
        targets = [(n, APP_FLOW[APP_FLOW.index(status[n]) + 1]) for n in todo]
        refused: list[tuple[str, str]] = []
        _, flagged = svc.applications.advance_many(targets, refused=refused)
        stopped = set(flagged) | {n for n, _ in refused}
        result.skipped += [(n, FLAGGED) for n in flagged] + refused
        for n, nxt in targets:
            if n not in stopped:
                result.moved[(status[n], nxt)] += 1
                result.rows_moved.add(n)
                status[n] = nxt
        todo = [n for n in todo if n not in stopped and APP_FLOW.index(status[n]) < goal]
    return result
