"""The order of work (DESIGN.md §9): for each program, year and village,

申报 → 申报公示 posted, its whole period run, its posting photo kept → objections
resolved, corrections posted and run → review → bank sheet → bank return → 发放结果公示.

This module answers one question for the bank sheet: which approved rows may go to the
bank today, and for the others, which village blocks them, why, and from which day they
clear. A row clears when an application notice (申报公示, or its latest correction) that
lists it was posted, has run every day of its period (the day after the last day is the
first day money may leave), carries its posting photo, and has no open objection.

A row that was entered after its village's notice was posted was never shown to the
village; it waits for the next application notice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from villageboard.domain.dates import cn_date
from villageboard.domain.errors import VBError

if TYPE_CHECKING:
    from villageboard.domain.models import Application, Notice
    from villageboard.services.context import Services

#: The shortest reason accepted for sending rows to the bank before their notice cleared.
MIN_REASON = 4


@dataclass
class Hold:
    """Why one application notice (all its versions) does not yet clear its rows."""

    reason: str
    clears: dt.date | None = None  # None: it clears only when the clerk acts


@dataclass
class VillageBlock:
    """One village whose rows may not go to the bank yet."""

    village_id: int
    village: str
    apps: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    clears: dt.date | None = None
    waits_for_clerk: bool = False
    unposted: bool = False  # some rows are on no posted 申报公示 at all

    @property
    def clears_text(self) -> str:
        if self.unposted:
            return "张贴申报公示、公示期满后才能发放"
        if self.waits_for_clerk or self.clears is None:
            return "办完上述事项后才能发放"
        return f"{cn_date(self.clears)}起可以发放"

    def line(self) -> str:
        return f"{self.village}（{len(self.apps)}笔）：{'；'.join(self.reasons)}，{self.clears_text}"


@dataclass
class OrderCheck:
    """The rows split into those that may go to the bank and the blocked villages."""

    clear: list[Application]
    blocked: list[Application]
    villages: list[VillageBlock]

    def lines(self) -> list[str]:
        return [v.line() for v in self.villages]


def check_reason(reason: str) -> str:
    """The exception's written reason, tidied; refused when it says nothing."""
    text = " ".join((reason or "").split())
    if len(text.replace(" ", "")) < MIN_REASON:
        raise VBError(
            f"未经申报公示就发放，必须写明原因（至少{MIN_REASON}个字），如：县里统一发放，申报公示已在县平台公示"
        )
    return text


class OrderGate:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def _holds(self, year: int, program_code: str) -> tuple[dict[str, Hold | None], dict[int, list[str]], set[int]]:
        """For each application-notice code of the program: None when it clears its
        rows, else why not. Also each village's notices never posted, and the villages
        with a notice that was posted."""
        ns = self.svc.notices
        today = self.svc.today()
        by_code: dict[str, list[Notice]] = defaultdict(list)
        for n in ns.all(year):
            base = n.snapshot.get("base_kind") or n.kind
            if n.program_code == program_code and base == "application" and not n.void:
                by_code[n.code].append(n)
        open_objections: dict[str, int] = defaultdict(int)
        for o in ns.objections(year, state="open"):
            open_objections[o.notice_code] += 1
        holds: dict[str, Hold | None] = {}
        drafts: dict[int, list[str]] = defaultdict(list)
        posted: set[int] = set()
        for code, versions in by_code.items():
            latest = max(versions, key=lambda n: n.version)
            if ns.state_of(latest) == "draft" and latest.version == 1:
                drafts[latest.village_id].append(code)
                continue
            posted.add(latest.village_id)
            what = f"申报公示{code}" + (f"（更正第{latest.version}版）" if latest.version > 1 else "")
            if ns.state_of(latest) == "draft":
                holds[code] = Hold(f"{what}还没有张贴")
                continue
            reasons: list[str] = []
            clears = None
            if latest.end is not None and latest.end >= today:
                clears = latest.end + dt.timedelta(days=1)
                reasons.append(f"{what}公示期到{cn_date(latest.end)}")
            waits = False
            if not latest.photo:
                reasons.append(f"{what}没有登记张贴照片")
                waits = True
            if open_objections.get(code):
                reasons.append(f"{what}有{open_objections[code]}条异议还没有处理")
                waits = True
            holds[code] = Hold("；".join(reasons), None if waits else clears) if reasons else None
        return holds, drafts, posted

    def check(self, year: int, program_code: str, apps: list[Application]) -> OrderCheck:
        holds, drafts, posted = self._holds(year, program_code)
        reg = self.svc.registry
        clear: list[Application] = []
        blocked: list[Application] = []
        by_village: dict[int, VillageBlock] = {}
        for a in apps:
            mine = [c for c in a.frozen_by if c in holds]
            if any(holds[c] is None for c in mine):
                clear.append(a)
                continue
            blocked.append(a)
            vb = by_village.get(a.village_id)
            if vb is None:
                vb = by_village[a.village_id] = VillageBlock(a.village_id, reg.village(a.village_id).name)
            vb.apps.append(a.id)
            if not mine:
                vb.waits_for_clerk = vb.unposted = True
                if drafts.get(a.village_id):
                    _add(vb, f"申报公示{'、'.join(drafts[a.village_id])}还是草稿，没有登记张贴")
                elif a.village_id in posted:
                    _add(vb, "有申报是在申报公示张贴之后才登记的，没有经过公示，需要为这些申报再张贴一次申报公示")
                else:
                    _add(vb, "还没有张贴申报公示")
                continue
            for c in mine:
                h = holds[c]
                assert h is not None
                _add(vb, h.reason)
                if h.clears is None:
                    vb.waits_for_clerk = True
                elif vb.clears is None or h.clears > vb.clears:
                    vb.clears = h.clears
        villages = sorted(by_village.values(), key=lambda v: v.village_id)
        return OrderCheck(clear, blocked, villages)


def _add(vb: VillageBlock, reason: str) -> None:
    if reason not in vb.reasons:
        vb.reasons.append(reason)


def refusal(program_name: str, year: int, check: OrderCheck, how: str = "--without-notice “原因”") -> str:
    """The Chinese message when no row may go to the bank. ``how`` says where the
    exception's reason is written (the CLI option, or the field in the TUI)."""
    lines = [
        f"不能生成{year}年{program_name}的银行发放表：下列村的申报公示还没有走完，这些申报不能提交银行（没有生成任何文件）："
    ]
    lines += [f"  {line}" for line in check.lines()]
    lines.append(
        f"如确需先发放（如县里统一发放、已在县平台公示），请写明原因：{how}。原因记入修改记录，并印在发放结果公示上。"
    )
    return "\n".join(lines)
