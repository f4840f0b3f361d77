"""Applications (申报): one household × program × year, with its payout fields."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from villageboard.domain.errors import NotFound, Problem, ValidationFailed, VBError
from villageboard.domain.land import LAND_LABELS, Land, check_land
from villageboard.domain.masking import mask_id
from villageboard.domain.models import APP_FLOW, APP_STATUS, Application, Household, Program
from villageboard.domain.money import entitlement_fen, format_quantity
from villageboard.domain.validate import check_quantity, check_quantity_of
from villageboard.services.paths import (
    app_counter,
    app_number,
    applications_dir,
    applications_file,
    parse_app_number,
)
from villageboard.services.private_entry import check_text, refusal, screen

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.services.flags import Flag
    from villageboard.store import Tx

APPLICATIONS = "applications"


def land_quantity_refusal(app: Application) -> str:
    """Why the 数量 of a row with land cannot be changed by itself."""
    if app.certified_area is None:
        return f"申报{app.id}改面积时，数量按确权面积减扣除面积计算，不用另填数量"
    return (
        f"申报{app.id}按面积补贴，数量就是补贴面积（确权面积{format_quantity(app.certified_area or 0)}"
        f"减扣除面积{format_quantity(app.deducted_area or 0)}），请更正确权面积或扣除面积"
    )


class NeedsNote(VBError):
    """Approving a row with open risk flags needs a note saying what was checked."""

    def __init__(self, number: str, flags: Sequence[Flag]) -> None:
        self.number = number
        self.flags = list(flags)
        listed = "；".join(f"{f.label}：{f.message}" for f in self.flags)
        super().__init__(f"申报{number}有风险提示（{listed}）。确认通过须写明核实情况，核实情况记入修改记录。")


class ApplicationService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store
        self._where: dict[int, dict[int, str]] = {}  # year -> number -> file
        self._taken: dict[int, dict[tuple[int, str], int]] = {}  # year -> (household, program) -> number
        # year -> (entitled person's ID number, program) -> number: one person is paid
        # once per program and year, whichever household they are in
        self._persons: dict[int, dict[tuple[str, str], tuple[int, int]]] = {}  # ... -> (number, household)

    # -- locating -----------------------------------------------------------------
    def _year(self, year: int) -> dict[int, str]:
        if year not in self._where:
            where: dict[int, str] = {}
            taken: dict[tuple[int, str], int] = {}
            persons: dict[tuple[str, str], tuple[int, int]] = {}
            for rel in self.store.list_files(applications_dir(year)):
                for key, doc in self.store.table(rel, APPLICATIONS).items():
                    where[int(key)] = rel
                    if doc.get("void"):
                        continue
                    if doc.get("person_id_number"):
                        persons[(doc["person_id_number"], doc["program_code"])] = (int(key), doc["household_id"])
                    else:
                        taken[(doc["household_id"], doc["program_code"])] = int(key)
            self._where[year] = where
            self._taken[year] = taken
            self._persons[year] = persons
        return self._where[year]

    def get(self, number: str | tuple[int, int]) -> Application:
        year, n = parse_app_number(number) if isinstance(number, str) else number
        rel = self._year(year).get(n)
        if rel is None:
            raise NotFound(f"没有编号为{app_number(year, n)}的申报")
        return Application.from_dict(self.store.get(rel, APPLICATIONS, n) or {})

    def files(self, year: int, program_code: str | None = None, village_id: int | None = None) -> list[str]:
        files = self.store.list_files(applications_dir(year))
        if program_code:
            files = [f for f in files if f.split("/")[3] == program_code]
        if village_id is not None:
            files = [f for f in files if f.endswith(f"/{village_id:04d}.json")]
        return files

    def iter(
        self, year: int, program_code: str | None = None, village_id: int | None = None, include_void: bool = False
    ) -> Iterator[Application]:
        for rel in self.files(year, program_code, village_id):
            for doc in self.store.table(rel, APPLICATIONS).values():
                if include_void or not doc.get("void"):
                    yield Application.from_dict(doc)

    def list(
        self, year: int, program_code: str | None = None, village_id: int | None = None, include_void: bool = False
    ) -> list[Application]:
        return sorted(self.iter(year, program_code, village_id, include_void), key=lambda a: a.id)

    def for_household(self, household_id: int, year: int) -> builtins.list[Application]:
        self._year(year)
        out = []
        for (hid, _code), n in self._taken[year].items():
            if hid == household_id:
                out.append(self.get((year, n)))
        for n, hid in self._persons[year].values():
            if hid == household_id:
                out.append(self.get((year, n)))
        return sorted(out, key=lambda a: a.id)

    def existing(self, year: int, household_id: int, program_code: str) -> int | None:
        self._year(year)
        return self._taken[year].get((household_id, program_code))

    def existing_person(self, year: int, id_number: str, program_code: str) -> int | None:
        """The live application of a per-person program already naming this person."""
        self._year(year)
        hit = self._persons[year].get((id_number, program_code))
        return hit[0] if hit is not None else None

    def _head_taken(self, h: Household, program: Program, row: int | None) -> builtins.list[Problem]:
        """A head whose ID number another household record holds (a voided registration,
        or one the head led before a change of head) and which already has a live row of
        this program and year not refused: registering the person again must not pay
        them twice."""
        for other in sorted(self.svc.registry.holders().get(h.id_number, set()) - {h.id}):
            taken = self.existing(program.year, other, program.code)
            if taken is not None and self.get((program.year, taken)).status != "rejected":
                return [
                    Problem(
                        f"身份证号为{mask_id(h.id_number)}的{h.name}本年度已在户编号{other}名下申报过{program.name}"
                        f"（编号{app_number(program.year, taken)}），同一人不能领取两次",
                        "农户",
                        row,
                    )
                ]
        return []

    def _person_problems(
        self, h: Household, program: Program, person: str, row: int | None
    ) -> tuple[str, str, builtins.list[Problem]]:
        """(ID number, name, problems) of the entitled person a row names. A per-person
        program needs one: the head or a live member of the household, not yet on a
        live application of this program and year (in any household or village)."""
        from villageboard.services.payees import person_in

        person = str(person or "").strip().upper()
        if not program.per_person:
            if person and person != h.id_number:
                return "", "", [Problem(f"{program.name}按户发放，不用填写享受人", "享受人", row)]
            return "", "", []
        if not person:
            return "", "", [Problem(f"{program.name}按人发放，请写明享受人（户主或家庭成员）的身份证号", "享受人", row)]
        found = person_in(h, person)
        if found is None:
            return (
                "",
                "",
                [Problem(f"{mask_id(person)}不是{h.name}户的户主或家庭成员，请先登记家庭成员", "享受人", row)],
            )
        dup = self.existing_person(program.year, found.id_number, program.code)
        if dup is not None:
            other = self.get((program.year, dup))
            where = self.svc.registry.place_label(other.village_id, other.group_id)
            return (
                "",
                "",
                [
                    Problem(
                        f"{found.name}（{mask_id(found.id_number)}）本年度已作为享受人申报过{program.name}"
                        f"（编号{other.id}，{where} 户编号{other.household_id}），同一人不能领取两次",
                        "享受人",
                        row,
                    )
                ],
            )
        return found.id_number, found.name, []

    # -- writing ------------------------------------------------------------------
    def build(
        self,
        household_id: int,
        program: Program,
        quantity: object,
        remark: str = "",
        row: int | None = None,
        household: Household | None = None,
        mask_private: bool = False,
        land: Land | None = None,
        person: str = "",
    ) -> tuple[Application | None, builtins.list[Problem]]:
        """Validate one application without saving it. An importer that registers the
        household in the same transaction passes it as ``household`` (not yet saved,
        so it cannot be looked up). A remark holding a full personal number is refused,
        or masked with ``mask_private`` (then a warning comes back with the application).
        With ``land`` (an area program's 确权/扣除), the quantity paid on is its 补贴面积.
        A per-person program's row names its entitled person by ID number (``person``)."""
        if land is not None:
            quantity = land.subsidy
        problems: list[Problem] = []
        if household is not None:
            h = household
        else:
            try:
                h = self.svc.registry.household(household_id)
            except NotFound as exc:
                return None, [Problem(str(exc), "农户", row)]
        if h.void:
            problems.append(Problem("该农户已作废", "农户", row))
        qty_value, qty_errors = check_quantity_of(quantity, program.max_quantity, program.unit)
        problems += [Problem(e, "数量", row) for e in qty_errors]
        person_idn, person_name, person_problems = self._person_problems(h, program, person, row)
        problems += person_problems
        dup = None if program.per_person else self.existing(program.year, household_id, program.code)
        if dup is not None:
            problems.append(
                Problem(f"{h.name}本年度已申报过{program.name}（编号{app_number(program.year, dup)}）", "农户", row)
            )
        elif not program.per_person:
            problems += self._head_taken(h, program, row)
        text = {"remark": str(remark or "").strip(), "deduction_reason": land.reason if land is not None else ""}
        notes = screen(text, {"remark": "备注", "deduction_reason": "扣除原因"}, row, mask_private)
        problems += [p for p in notes if not p.warning]
        if problems:
            return None, problems
        qty = cast(Decimal, qty_value)
        app = Application(
            year=program.year,
            program_code=program.code,
            household_id=h.id,
            village_id=h.village_id,
            group_id=h.group_id,
            person_id_number=person_idn,
            person_name=person_name,
            quantity=qty,
            rate_fen=program.rate_fen,
            amount_fen=entitlement_fen(qty, program.rate_fen, program.rounding),
            certified_area=land.certified if land is not None else None,
            deducted_area=land.deducted if land is not None else None,
            deduction_reason=text["deduction_reason"],
            remark=text["remark"],
            created=self.svc.now().isoformat(),
        )
        return app, notes

    def insert(self, app: Application, tx: Tx) -> Application:
        rel = applications_file(app.year, app.program_code, app.village_id)
        n = tx.insert(rel, APPLICATIONS, app_counter(app.year), app.to_dict(), key_field=None)
        app.id = app_number(app.year, n)
        doc = app.to_dict()
        doc["_ctr"] = app_counter(app.year)
        tx.put(rel, APPLICATIONS, n, doc)
        self._year(app.year)[n] = rel
        if app.person_id_number:
            self._persons[app.year][(app.person_id_number, app.program_code)] = (n, app.household_id)
        else:
            self._taken[app.year][(app.household_id, app.program_code)] = n
        return app

    def add(
        self,
        household_id: int,
        program_code: str,
        year: int,
        quantity: object,
        remark: str = "",
        mask_private: bool = False,
        person: str = "",
    ) -> Application:
        program = self.svc.programs.get(year, program_code)
        app, problems = self.build(household_id, program, quantity, remark, mask_private=mask_private, person=person)
        if app is None:
            raise refusal(problems, "申报有误，没有保存：")
        with self.store.begin("申报.新增") as tx:
            try:
                self.insert(app, tx)
            except BaseException:
                self.forget(app)
                raise
        return app

    def forget(self, app: Application) -> None:
        """Undo the in-memory index after a failed save."""
        self._where.pop(app.year, None)
        self._taken.pop(app.year, None)
        self._persons.pop(app.year, None)

    def save(self, app: Application, action: str, tx: Tx | None = None) -> Application:
        year, n = parse_app_number(app.id)
        rel = self._year(year)[n]
        doc = app.to_dict()
        doc["_ctr"] = app_counter(year)
        if tx is not None:
            tx.put(rel, APPLICATIONS, n, doc)
        else:
            with self.store.begin(action) as t:
                t.put(rel, APPLICATIONS, n, doc)
        if app.void and app.person_id_number:
            self._persons.get(year, {}).pop((app.person_id_number, app.program_code), None)
        elif app.void:
            self._taken.get(year, {}).pop((app.household_id, app.program_code), None)
        return app

    def _check_editable(self, app: Application) -> None:
        if app.void:
            raise VBError(f"申报{app.id}已作废")
        frozen = self.frozen_by_posted(app)
        if frozen:
            raise VBError(f"申报{app.id}已在公示{frozen}中，公示内容不能直接修改；如有错误请受理异议后做更正公示。")

    def frozen_by_posted(self, app: Application) -> str:
        """The code of a posted notice that shows this row, if any."""
        if not app.frozen_by:
            return ""
        from villageboard.services.paths import notices_file

        docs = self.store.table(notices_file(app.year), "notices").values()
        live = {d["code"] for d in docs if d.get("state") == "posted"}
        for code in app.frozen_by:
            if code in live:
                return code
        return ""

    def edit(
        self,
        number: str,
        quantity: object | None = None,
        remark: str | None = None,
        mask_private: bool = False,
        land: Mapping[str, object] | None = None,
    ) -> Application:
        """Change the quantity or the remark, or the land (``land``: any of
        certified_area, deducted_area, deduction_reason), of a row not frozen by a posted
        notice. A row with land is paid on its 补贴面积, so its 数量 follows the land."""
        app = self.get(number)
        self._check_editable(app)
        if remark is not None:
            remark = check_text(remark.strip(), "备注", mask_private)
        if quantity is not None and (land or app.certified_area is not None):
            raise VBError(land_quantity_refusal(app))
        if land:
            self.change_land(app, self.svc.programs.get(app.year, app.program_code), land, mask_private)
        if quantity is not None:
            if app.payout_status in ("issued", "paid"):
                raise VBError(f"申报{app.id}已提交银行发放，数量和金额不能再改")
            program = self.svc.programs.get(app.year, app.program_code)
            q = check_quantity(quantity, program.max_quantity, program.unit)
            if q.errors:
                raise ValidationFailed([Problem(e, "数量") for e in q.errors], "申报有误，没有保存：")
            app.quantity = cast(Decimal, q.value)
            # an unpaid row is worked out at the program's rate (a rate change re-prices
            # unpaid rows, so this is the rate it already carries, unless it was at the
            # bank when the rate changed)
            app.rate_fen = program.rate_fen
            app.amount_fen = entitlement_fen(app.quantity, app.rate_fen, program.rounding)
        if remark is not None:
            app.remark = remark.strip()
        return self.save(app, "申报.修改")

    def change_land(
        self, app: Application, program: Program, changes: Mapping[str, object], mask_private: bool = False
    ) -> None:
        """New 确权面积 / 扣除面积 / 扣除原因 for ``app`` (in memory; the caller saves):
        the others stay, and its 补贴面积 (the quantity) and amount follow at the row's
        own rate. A row entered as a bare 数量 gains land this way."""
        unknown = set(changes) - set(LAND_LABELS)
        if unknown:
            raise VBError(f"面积只能改：{'、'.join(LAND_LABELS.values())}")
        if app.payout_status in ("issued", "paid"):
            raise VBError(f"申报{app.id}已提交银行发放，面积和金额不能再改")
        now = {
            "certified_area": format_quantity(app.certified_area) if app.certified_area is not None else "",
            "deducted_area": format_quantity(app.deducted_area) if app.deducted_area else "",
            "deduction_reason": app.deduction_reason,
        }
        now.update({k: str(v if v is not None else "") for k, v in changes.items()})
        land, errors = check_land(
            now["certified_area"], now["deducted_area"], now["deduction_reason"], unit=program.unit
        )
        if land is not None:
            errors += [("quantity", e) for e in check_quantity(land.subsidy, program.max_quantity, program.unit).errors]
        if land is None or errors:
            raise ValidationFailed(
                [Problem(why, LAND_LABELS.get(k, "补贴面积")) for k, why in errors], "申报有误，没有保存："
            )
        reason = check_text(land.reason, "扣除原因", mask_private) if land.reason else ""
        app.certified_area, app.deducted_area, app.deduction_reason = land.certified, land.deducted, reason
        app.quantity = land.subsidy
        app.amount_fen = entitlement_fen(app.quantity, app.rate_fen, program.rounding)

    def set_status(
        self,
        number: str,
        status: str,
        reason: str = "",
        tx: Tx | None = None,
        note: str = "",
    ) -> Application:
        """Move along 申报 → 村审核 → 乡镇审核 → 通过, or to 不通过 with a reason.

        Approving a row with an open risk flag needs ``note``: what the clerk checked.
        The note is kept on the row as each flag's 核实情况 and so goes into the journal
        with the approval; without it :class:`NeedsNote` is raised and nothing changes."""
        return self._set_status(number, status, reason, tx, note, None)

    def advance_many(
        self,
        targets: Sequence[tuple[str, str]],
        progress: Callable[[int, int, str], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        refused: builtins.list[tuple[str, str]] | None = None,
    ) -> tuple[int, builtins.list[str]]:
        """Each (number, status) in its own save, for a page of rows at once. Approvals
        of rows with an open risk flag are left out (each needs its own note) and
        returned. The flags are computed once: a status change moves no flag. With
        ``refused``, a row the rules refuse is listed there (number, why) and the rest go on."""
        open_flags: dict[str, list[Flag]] = {}
        for year in sorted({parse_app_number(n)[0] for n, s in targets if s == "approved"}):
            for f in self.svc.flags.flags(year, open_only=True):
                open_flags.setdefault(f.app_id, []).append(f)
        done, skipped = 0, []
        for i, (number, status) in enumerate(targets):
            if cancelled is not None and cancelled():
                break
            if progress is not None:
                progress(i, len(targets), number)
            if status == "approved" and open_flags.get(number):
                skipped.append(number)
                continue
            try:
                self._set_status(number, status, "", None, "", open_flags.get(number, []))
            except VBError as exc:
                if refused is None:
                    raise
                refused.append((number, str(exc)))
                continue
            done += 1
        return done, skipped

    def _set_status(
        self,
        number: str,
        status: str,
        reason: str,
        tx: Tx | None,
        note: str,
        known: builtins.list[Flag] | None,
    ) -> Application:
        app = self.get(number)
        if app.void:
            raise VBError(f"申报{app.id}已作废")
        if status not in APP_STATUS:
            raise VBError(f"状态只能是：{'、'.join(APP_STATUS.values())}")
        cur = app.status
        if status == "rejected":
            if cur in ("approved", "rejected"):
                raise VBError(f"申报{app.id}已是“{APP_STATUS[cur]}”，不能再改为不通过")
            if not reason.strip():
                raise VBError("不通过必须填写原因")
            app.reject_reason = reason.strip()
        elif cur == "rejected" and status == "applied":
            app.reject_reason = ""
        else:
            if cur not in APP_FLOW or status not in APP_FLOW or APP_FLOW.index(status) != APP_FLOW.index(cur) + 1:
                nxt = APP_FLOW[APP_FLOW.index(cur) + 1] if cur in APP_FLOW[:-1] else None
                if cur == "rejected":
                    hint = f"如需重新审核，先退回为“{APP_STATUS['applied']}”"
                else:
                    hint = f"下一步只能是“{APP_STATUS[nxt]}”" if nxt else "已是最终状态"
                raise VBError(f"申报{app.id}现在是“{APP_STATUS[cur]}”，不能直接改为“{APP_STATUS[status]}”：{hint}")
        if app.payout_status in ("issued", "paid"):
            raise VBError(f"申报{app.id}已提交银行发放，不能再改状态")
        action = f"申报.{APP_STATUS[status]}"
        if status == "approved":
            flagged = known if known is not None else [f for f in self.svc.flags.flags_for(app) if not f.is_cleared]
            if flagged:
                note = " ".join(str(note).split())
                if len(note) < 2:
                    raise NeedsNote(app.id, flagged)
                today, who = self.svc.today().isoformat(), self.svc.operator
                app.cleared_flags = [
                    *app.cleared_flags,
                    *(
                        {
                            "kind": f.kind,
                            "note": note,
                            "operator": who,
                            "date": today,
                            "message": f.message,
                            "on": "approved",
                        }
                        for f in flagged
                    ),
                ]
                action = f"申报.{APP_STATUS[status]}（核实风险提示：{'、'.join(f.label for f in flagged)}）"
        app.status = status
        return self.save(app, action, tx)

    def void(self, number: str, reason: str) -> Application:
        app = self.get(number)
        if not reason.strip():
            raise VBError("作废需要填写原因")
        self._check_editable(app)
        if app.payout_status in ("issued", "paid"):
            raise VBError(f"申报{app.id}已提交银行发放，不能作废")
        app.void, app.void_reason = True, reason.strip()
        return self.save(app, "申报.作废")

    def add_many(
        self,
        items: Iterable[tuple[int, str, int, object, str]],
        action: str = "申报.批量新增",
        mask_private: bool = False,
    ) -> builtins.list[Application]:
        """All or nothing: (household_id, program_code, year, quantity, remark) items."""
        built: list[Application] = []
        problems: list[Problem] = []
        programs: dict[tuple[int, str], Program] = {}
        seen: set[tuple[int, int, str]] = set()
        for row, (hid, code, year, qty, remark) in enumerate(items, 1):
            key = (year, code)
            if key not in programs:
                programs[key] = self.svc.programs.get(year, code)
            if (year, hid, code) in seen:
                problems.append(Problem("同一农户同一项目重复出现", "农户", row))
                continue
            seen.add((year, hid, code))
            app, probs = self.build(hid, programs[key], qty, remark, row, mask_private=mask_private)
            problems += [p for p in probs if not p.warning]
            if app is not None:
                built.append(app)
        if problems:
            raise refusal(problems, "申报有误，全部没有保存：")
        with self.store.begin(action) as tx:
            try:
                for app in built:
                    self.insert(app, tx)
            except BaseException:
                for app in built:
                    self.forget(app)
                raise
        return built

    def totals(self, apps: Iterable[Application]) -> dict[str, Any]:
        apps = list(apps)
        return {
            "households": len({a.household_id for a in apps}),
            "quantity": sum((a.quantity for a in apps), Decimal(0)),
            "amount_fen": sum(a.amount_fen for a in apps),
        }
