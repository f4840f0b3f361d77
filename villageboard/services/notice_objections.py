"""Objections (异议) to a posted notice, and the correction version that resolving
one can make: the edits go to the applications, the old version is archived and the new
one lists every change."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, cast

from villageboard.domain.errors import NotFound, ValidationFailed, VBError
from villageboard.domain.land import LAND_LABELS
from villageboard.domain.models import NOTICE_STATES, Application, Notice, Objection
from villageboard.services.applications import land_quantity_refusal
from villageboard.services.notice_rows import diff_rows, notice_year
from villageboard.services.paths import objections_file
from villageboard.services.private_entry import check_text
from villageboard.services.publish_check import row_findings

if TYPE_CHECKING:
    from villageboard.services.notices import NoticeService

OBJECTIONS = "objections"
#: What a correction may change on a row (field -> the word the clerk sees).
EDITABLE = {
    "quantity": "数量",
    "certified_area": "确权面积",
    "deducted_area": "扣除面积",
    "deduction_reason": "扣除原因",
    "remark": "备注",
}


class NoticeObjections:
    """Recording, listing and resolving objections to the notices of ``notices``."""

    def __init__(self, notices: NoticeService) -> None:
        self.notices = notices
        self.svc = notices.svc
        self.store = notices.store

    def open_counts(self, year: int | None = None) -> dict[str, int]:
        """Notice code -> objections not yet resolved (only codes that have some)."""
        counts: dict[str, int] = {}
        for o in self.objections(year=year, state="open"):
            counts[o.notice_code] = counts.get(o.notice_code, 0) + 1
        return counts

    def days(self, n: Notice) -> int:
        """Days, today included, objections to ``n`` may still be recorded: its posting
        period from the day it went up (0 when not on the board, or not up yet)."""
        days = self.notices.days_left(n)
        if days is None or (n.start is not None and self.svc.today() < n.start):
            return 0
        return max(0, days)

    def add_objection(
        self,
        code: str,
        text: str,
        household_id: int | None = None,
        call_id: int | None = None,
        mask_private: bool = False,
    ) -> Objection:
        n = self.notices.get(code)
        state = self.notices.state_of(n)
        today = self.svc.today()
        if state != "posted" or (n.start and today < n.start):
            raise VBError(f"公示{code}现在是“{NOTICE_STATES[state]}”，只有公示期内才能登记异议")
        if not text.strip():
            raise VBError("请填写异议内容")
        text = check_text(text.strip(), "异议内容", mask_private)
        if household_id is not None:
            self.svc.registry.household(household_id)
        o = Objection(
            notice_code=code,
            notice_version=n.version,
            household_id=household_id,
            text=text.strip(),
            created=self.svc.now().isoformat(),
            call_id=call_id,
        )
        with self.store.begin(f"异议.登记 {code}") as tx:
            o.id = tx.insert(objections_file(n.year), OBJECTIONS, "objection", o.to_dict())
        return o

    def objections(self, year: int | None = None, code: str | None = None, state: str | None = None) -> list[Objection]:
        years = [notice_year(code)] if code else ([year] if year else self.store.years())
        out = []
        for y in years:
            for doc in self.store.table(objections_file(y), OBJECTIONS).values():
                o = Objection.from_dict(doc)
                if (code is None or o.notice_code == code) and (state is None or o.state == state):
                    out.append(o)
        return sorted(out, key=lambda o: o.id)

    def objection(self, obj_id: int) -> tuple[int, Objection]:
        for y in self.store.years():
            doc = self.store.table(objections_file(y), OBJECTIONS).get(str(obj_id))
            if doc is not None:
                return y, Objection.from_dict(doc)
        raise NotFound(f"没有编号为{obj_id}的异议")

    def resolve_objection(
        self,
        obj_id: int,
        text: str,
        correct: bool = False,
        edits: list[tuple[str, str, str]] | None = None,
        mask_private: bool = False,
    ) -> tuple[Objection, Notice | None]:
        """Close an objection. With ``correct``, make a correction version of its notice:
        ``edits`` (application number, field, new value) are applied to the frozen rows,
        the old version is archived, and the new one (a draft, to be posted) lists every
        change as row, field, old value and new value."""
        year, o = self.objection(obj_id)
        if o.state != "open":
            raise VBError(f"异议{obj_id}已经处理过了")
        if not text.strip():
            raise VBError("请填写处理结果")
        text = check_text(text.strip(), "处理结果", mask_private)
        edits = [
            (a, f, check_text(v.strip(), f"申报{a}的更正内容", mask_private) if f == "remark" else v)
            for a, f, v in edits or []
        ]
        correction = None
        key, n = self.notices.find(o.notice_code)
        if correct:
            if self.notices.state_of(n) not in ("posted", "ended") or n.version != o.notice_version:
                raise VBError(f"公示{n.code}已不是异议针对的那一版，不能再更正")
            correction = self._make_correction(key, n, edits or [])
        o.state, o.resolution, o.resolved = "resolved", text.strip(), self.svc.now().isoformat()
        if correction is not None:
            o.correction = f"{correction.code}/v{correction.version}"
        with self.store.begin(f"异议.处理 {o.notice_code}") as tx:
            tx.put(objections_file(year), OBJECTIONS, o.id, o.to_dict())
        return o, correction

    def _make_correction(self, key: int, old: Notice, edits: list[tuple[str, str, str]]) -> Notice:
        old_snap = self.notices.snapshot(old)
        base_kind = old_snap.get("base_kind") or old.kind
        shown = {r["app"] for r in old_snap["rows"]}
        apps_changed: list[Application] = []
        for number, field, value in edits:
            if number not in shown:
                raise VBError(f"申报{number}不在公示{old.code}上，不能在这里更正")
            if field not in EDITABLE:
                raise VBError(f"只能更正：{'、'.join(EDITABLE.values())}（姓名等请在农户名册中修改）")
            # two edits of one row (确权 and 扣除) work on the same record
            app = next((a for a in apps_changed if a.id == number), None) or self.svc.applications.get(number)
            if field in LAND_LABELS:
                p = self.svc.programs.get(app.year, app.program_code)
                try:
                    self.svc.applications.change_land(app, p, {field: value})
                except ValidationFailed as exc:
                    raise VBError(f"申报{number}：{exc.problems[0].reason if exc.problems else exc}") from None
            elif field == "quantity" and app.certified_area is not None:
                raise VBError(land_quantity_refusal(app))
            elif field == "quantity":
                from villageboard.domain.money import entitlement_fen
                from villageboard.domain.validate import check_quantity

                p = self.svc.programs.get(app.year, app.program_code)
                q = check_quantity(value, p.max_quantity, p.unit)
                if q.errors:
                    raise VBError(f"申报{number}：{q.errors[0]}")
                if app.payout_status in ("issued", "paid"):
                    raise VBError(f"申报{number}已发放，数量的更正请走补发或退回流程后再公示")
                app.quantity = cast(Decimal, q.value)
                app.amount_fen = entitlement_fen(app.quantity, app.rate_fen, p.rounding)
            else:
                app.remark = value.strip()
            if all(a is not app for a in apps_changed):
                apps_changed.append(app)
        new_snap = self.notices.build_snapshot(
            base_kind, old.year, old.village_id, old.program_code, overrides={a.id: a for a in apps_changed}
        )
        changes = diff_rows(old_snap["rows"], new_snap["rows"])
        unprintable = row_findings(new_snap)
        if unprintable:
            raise VBError(
                "更正后的公示仍会印出不能公开的号码，没有生成更正：\n"
                + "\n".join(f"  {line}" for line in unprintable)
                + "\n请用 --set 申报编号:remark=新内容 一并更正这些备注（户主姓名在农户名册中修改）。"
            )
        if not changes:
            raise VBError(
                "与原公示相比没有任何变化，不需要更正公示。请先更正数据（如农户姓名），或用 --set 指定更正内容"
            )
        new = Notice(
            code=old.code,
            version=old.version + 1,
            kind="correction",
            year=old.year,
            village_id=old.village_id,
            program_code=old.program_code,
            state="draft",
            created=self.svc.now().isoformat(),
            supersedes=f"{old.code}/v{old.version}",
            changes=changes,
            snapshot={"base_kind": base_kind},
        )
        with self.store.begin(f"公示.更正 {old.code}") as tx:
            for app in apps_changed:
                self.svc.applications.save(app, "", tx)
            self.notices.archive_now(tx, key, old)
            self.notices.put(tx, new)
        return new
