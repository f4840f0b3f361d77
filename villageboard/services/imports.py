"""Importing the household registry and the applications from the clerk's sheets.

* **One transaction.** New villages and groups, new and updated households, and the
  applications all go into one store transaction: the journal gets one entry, and a
  crash leaves either the whole import or none of it.
* **Nothing is guessed.** An ID that Excel stored as a number is rejected, never
  repaired. A blank cell never erases what the registry already holds. A person not yet
  registered is registered from the application row itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import Problem
from villageboard.domain.land import LAND_LABELS, Land, check_land
from villageboard.domain.masking import mask_card
from villageboard.domain.models import Application, Household, Program
from villageboard.domain.validate import check_id_number, check_name, squash
from villageboard.services.import_common import (
    NOTHING_IMPORTED,
    ImportReport,
    bulk,
    import_failed,
    tick,
)
from villageboard.services.import_persons import member_household, person_of
from villageboard.services.jobs import Cancel, Cancelled, Progress
from villageboard.services.registry import HOUSEHOLD_LABELS
from villageboard.services.sheet_places import GRef, SheetPlaces, VRef

if TYPE_CHECKING:
    from villageboard.io.tables import Sheet
    from villageboard.services.context import Services
    from villageboard.store import Store

__all__ = ["RegistryImports"]

_HH_KEY = {label: key for key, label in HOUSEHOLD_LABELS.items()}


def _relabel(sheet: Sheet, p: Problem) -> Problem:
    """A validator's problem, named by the clerk's own column header."""
    key = _HH_KEY.get(p.field or "")
    if key and (key in sheet.columns or key in {f.key for f in sheet.fields}):
        return Problem(p.reason, sheet.label(key), p.row, p.warning)
    return p


def _refresh_registry(reg: Any, households: list[Household]) -> None:
    """After a bulk commit: tell the registry's listeners about each household, or,
    when nobody listens, just drop its in-memory copy so it reloads from the store on
    the next use (much cheaper than copying 10,000 records one by one)."""
    if reg.listeners:
        reg.remember_all(households)
    else:
        reg.forget()


def _ready_to_save(total: int, progress: Progress | None, cancel: Cancel | None) -> None:
    """The last chance to cancel, just before an import's one transaction."""
    if cancel is not None and cancel():
        raise Cancelled(NOTHING_IMPORTED)
    if progress is not None:
        progress(total, total, "保存")


_INDEX: dict[int, tuple[list[Program], dict[tuple[int, str], Program]]] = {}


def _program_index(programs: list[Program]) -> dict[tuple[int, str], Program]:
    """(year, code or name as typed) -> the first program of ``programs`` it names, made
    once per list (an import passes the same list for every row)."""
    hit = _INDEX.get(id(programs))
    if hit is not None and hit[0] is programs:
        return hit[1]
    index: dict[tuple[int, str], Program] = {}
    for p in programs:
        index.setdefault((p.year, p.code), p)
        index.setdefault((p.year, p.name), p)
    _INDEX.clear()
    _INDEX[id(programs)] = (programs, index)
    return index


def _year_value(text: str) -> int | None:
    t = squash(text).removesuffix("年").removesuffix(".0")
    return int(t) if t.isdigit() and 2000 <= int(t) <= 2100 else None


class RegistryImports:
    """``import_households`` and ``import_applications`` of :class:`TransferService`."""

    svc: Services
    store: Store

    # ================================================================== households
    @bulk
    def import_households(
        self,
        path: str | Path,
        *,
        dry_run: bool = False,
        errors_out: str | Path | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        mask_private: bool = False,
    ) -> ImportReport:
        """Import (or, with ``dry_run``, check) a household sheet. A household whose ID
        is already registered is updated, not duplicated; blank cells keep what the
        registry has. A name or remark holding a full personal number is refused with
        its row and column (a remark is masked instead with ``mask_private``)."""
        from villageboard.io.headers import HOUSEHOLD_FIELDS
        from villageboard.io.tables import read_table

        path = Path(path)
        sheet = read_table(path, HOUSEHOLD_FIELDS)
        report = ImportReport("households", path, dry_run, rows=len(sheet.rows))
        problems = list(sheet.errors)
        report.warnings += sheet.warnings
        reported = {(p.row, p.field) for p in problems}
        bad_rows = {p.row for p in problems}
        reg = self.svc.registry
        households = reg.by_number()
        places = SheetPlaces(self.svc)
        seen: dict[str, int] = {}
        new_rows: list[tuple[int, dict[str, Any], VRef, GRef]] = []
        updates: list[tuple[int, Household, dict[str, Any], VRef, GRef | None]] = []
        vlabel, glabel, idlabel = sheet.label("village"), sheet.label("group"), sheet.label("id_number")
        total = len(sheet.rows)
        for i, r in enumerate(sheet.rows):
            tick(i, total, "检查", progress, cancel)
            v, row = r.values, r.row_number
            before = len(problems)
            idn = squash(v.get("id_number", "")).upper()
            existing = reg.live_number(idn) if idn else None
            clean, probs = reg.validate_household(v, row=row, exclude_id=existing, mask_private=mask_private)
            for p in probs:
                p = _relabel(sheet, p)
                if p.warning:
                    report.warnings.append(p)
                elif (row, p.field) not in reported:
                    problems.append(p)
            if idn and clean["id_number"] in seen and len(problems) == before:
                problems.append(Problem(f"身份证号与第{seen[clean['id_number']]}行重复", idlabel, row))
            elif idn:
                seen.setdefault(clean["id_number"], row)
            place = places.resolve(v.get("village", ""), v.get("group", ""), row, vlabel, glabel, problems)
            if len(problems) != before or place is None or row in bad_rows:
                continue
            vref, gref = place
            if existing is None:
                new_rows.append((row, clean, vref, gref))
            else:
                updates.append((row, households[existing], clean, vref, gref if squash(v.get("group", "")) else None))
        report.new_places = places.planned()
        if problems:
            raise import_failed(problems, report, sheet, errors_out)

        # work out what actually changes for registered households
        planned_updates: list[tuple[Household, Household, VRef, GRef]] = []
        for row, old, clean, vref, sheet_gref in updates:
            data = old.to_dict()
            changed: list[str] = []
            for key in ("name", "phone", "card_account", "bank", "remark"):
                value = clean.get(key) or ""
                if value and value != data.get(key):
                    data[key] = value
                    changed.append(HOUSEHOLD_LABELS[key])
            moved_village = not (isinstance(vref, int) and vref == old.village_id)
            if moved_village or (sheet_gref is not None and sheet_gref != old.group_id):
                changed.append("村" if moved_village else "组")
            if not changed:
                report.unchanged_households += 1
                continue
            report.changes.append(f"第{row}行 {old.name}（户编号{old.id}）：更新{'、'.join(changed)}")
            keep_group = sheet_gref if sheet_gref is not None else (0 if moved_village else old.group_id)
            planned_updates.append((old, Household.from_dict(data), vref, keep_group))
        report.new_households = len(new_rows)
        report.updated_households = len(planned_updates)
        if dry_run:
            return report
        _ready_to_save(total, progress, cancel)

        tx = self.store.begin("导入.农户名册")
        places.create(tx)
        docs = []
        for _row, clean, vref, gref in new_rows:
            vid, gid = places.ids(vref, gref)
            docs.append({**clean, "village_id": vid, "group_id": gid})
        added = reg.add_households_bulk(docs, tx)
        changed_hs: list[Household] = []
        for old, new, vref, gref in planned_updates:
            new.village_id, new.group_id = places.ids(vref, gref)
            changed_hs.append(reg.put_household(tx, old, new))
        report.seq = tx.commit()
        _refresh_registry(reg, [*added, *changed_hs])
        return report

    # ================================================================ applications
    @bulk
    def import_applications(
        self,
        path: str | Path,
        *,
        program: str | None = None,
        year: int | None = None,
        dry_run: bool = False,
        errors_out: str | Path | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        mask_private: bool = False,
    ) -> ImportReport:
        """Import applications. The program and year come from the sheet's columns or
        from ``program``/``year``. A person not yet in the registry is registered from
        the same row (village, name, ID, card), in the same transaction. Personal
        numbers in names and remarks are refused, or masked with ``mask_private``."""
        from villageboard.io.headers import APPLICATION_IMPORT_FIELDS
        from villageboard.io.tables import read_table

        path = Path(path)
        sheet = read_table(path, APPLICATION_IMPORT_FIELDS)
        report = ImportReport("applications", path, dry_run, rows=len(sheet.rows))
        problems = list(sheet.errors)
        report.warnings += sheet.warnings
        bad_rows = {p.row for p in problems}
        reported = {(p.row, p.field) for p in problems}
        apps = self.svc.applications
        places = SheetPlaces(self.svc)
        programs = self.svc.programs.list()
        fixed: Program | None = None
        if program:
            fixed = self.svc.programs.get(year or self.svc.today().year, program.strip().upper())
        label = sheet.label
        new_people: dict[str, tuple[int, Household, VRef, GRef]] = {}  # id -> first row, household, place
        built: list[tuple[int, Application, str | None]] = []  # row, app, new person's id
        seen: dict[tuple[str, int, str], int] = {}
        years: dict[str, int | None] = {}  # a sheet repeats its few years: read each once
        total = len(sheet.rows)
        for i, r in enumerate(sheet.rows):
            tick(i, total, "检查", progress, cancel)
            v, row = r.values, r.row_number
            before = len(problems)
            # year and program
            y = year
            if v.get("year"):
                y_row = years.get(v["year"], -1)
                if y_row == -1:
                    y_row = years[v["year"]] = _year_value(v["year"])
                if y_row is None:
                    problems.append(Problem(f"年度“{v['year']}”不对，应为4位数字如2026", label("year"), row))
                elif year is not None and y_row != year:
                    problems.append(Problem(f"年度{y_row}与导入时指定的{year}年不一致", label("year"), row))
                else:
                    y = y_row
            elif y is None:
                y = fixed.year if fixed else self.svc.today().year
            prog = self._program_of(v.get("program", ""), y, fixed, programs, row, label("program"), problems)
            land = self._land_of(v, row, sheet, prog, problems)
            # the entitled person of a per-person program, when the sheet names them apart
            person, h = person_of(self.svc, v, row, sheet, prog, problems, reported)
            # the household: found (or refused) through the entitled person when the row
            # leaves the head's ID number out, else by the head's ID number
            through_person = h is not None or bool(person and not v.get("id_number"))
            idc = check_id_number(v.get("id_number", ""), self.svc.today())
            if not through_person and (row, label("id_number")) not in reported:
                problems.extend(Problem(e, label("id_number"), row) for e in idc.errors)
            idn = h.id_number if h is not None else str(idc.value or "")
            if not through_person and idc.ok:
                if prog is not None and prog.per_person and "person_id" not in sheet.columns:
                    # a per-person sheet without 享受人 columns: the row's own name and ID are the person's
                    person = idn
                    h = member_household(self.svc, idn, v, row, sheet, problems)
                if h is None:
                    h = self._head_or_new(idn, v, row, sheet, places, problems, report, new_people, mask_private)
            new_id = idn if h is not None and idn in new_people and new_people[idn][1] is h else None
            if prog is None or h is None or len(problems) != before or row in bad_rows:
                continue
            if prog.per_person and not person:
                person = h.id_number  # no 享受人 written: the head is the person
            key = (person or idn, prog.year, prog.code)
            if key in seen:
                problems.append(
                    Problem(
                        f"与第{seen[key]}行是同一人同一项目，重复申报",
                        label("person_id" if person and "person_id" in sheet.columns else "id_number"),
                        row,
                    )
                )
                continue
            seen[key] = row
            app, probs = apps.build(
                h.id,
                prog,
                v.get("quantity", ""),
                v.get("remark", ""),
                row,
                household=h,
                mask_private=mask_private,
                land=land,
                person=person,
            )
            for p in probs:
                f = {
                    "数量": label("quantity"),
                    "农户": label("name"),
                    "备注": label("remark"),
                    "扣除原因": label("deduction_reason"),
                    "享受人": label("person_id" if "person_id" in sheet.columns else "id_number"),
                }.get(p.field or "", p.field)
                (report.warnings if p.warning else problems).append(Problem(p.reason, f, p.row, p.warning))
            if app is not None:
                built.append((row, app, new_id))
        report.new_places = places.planned()
        if problems:
            raise import_failed(problems, report, sheet, errors_out)
        return self._save_applications(report, built, new_people, places, dry_run, total, progress, cancel)

    def _head_or_new(
        self,
        idn: str,
        v: dict[str, str],
        row: int,
        sheet: Sheet,
        places: SheetPlaces,
        problems: list[Problem],
        report: ImportReport,
        new_people: dict[str, tuple[int, Household, VRef, GRef]],
        mask_private: bool,
    ) -> Household | None:
        """The household a row's head ID names: registered (the sheet must agree with
        the registry), met earlier in this sheet, or registered from this row."""
        hid = self.svc.registry.live_number(idn)
        if hid is not None:
            h = self.svc.registry.by_number()[hid]
            self._same_person(h, v, row, sheet, places, problems, report)
            return h
        if idn in new_people:
            h = new_people[idn][1]
            typed = str(check_name(v.get("name", "")).value or "")
            if typed and typed != h.name:
                problems.append(
                    Problem(f"与第{new_people[idn][0]}行同一身份证号，姓名却不同（{h.name}）", sheet.label("name"), row)
                )
            return h
        return self._new_person(v, row, sheet, places, problems, report, new_people, mask_private)

    def _save_applications(
        self,
        report: ImportReport,
        built: list[tuple[int, Application, str | None]],
        new_people: dict[str, tuple[int, Household, VRef, GRef]],
        places: SheetPlaces,
        dry_run: bool,
        total: int,
        progress: Progress | None,
        cancel: Cancel | None,
    ) -> ImportReport:
        """All the checked rows (and the households registered from them) in one save."""
        reg = self.svc.registry
        apps = self.svc.applications
        report.applications = len(built)
        report.amount_fen = sum(a.amount_fen for _r, a, _n in built)
        report.new_households = len(new_people)
        if dry_run:
            return report
        _ready_to_save(total, progress, cancel)

        tx = self.store.begin("导入.申报")
        places.create(tx)
        docs = []
        people = list(new_people.items())
        for _idn, (_row, h, vref, gref) in people:
            h.village_id, h.group_id = places.ids(vref, gref)
            docs.append(h.to_dict())
        added = reg.add_households_bulk(docs, tx)
        ids = {idn: saved for (idn, _x), saved in zip(people, added, strict=True)}
        try:
            for _row, app, new_id in built:
                if new_id is not None:
                    saved = ids[new_id]
                    app.household_id, app.village_id, app.group_id = saved.id, saved.village_id, saved.group_id
                apps.insert(app, tx)
            report.seq = tx.commit()
        except BaseException:
            for _row, app, _n in built:
                apps.forget(app)
            raise
        _refresh_registry(reg, added)
        return report

    def _program_of(
        self,
        text: str,
        year: int | None,
        fixed: Program | None,
        programs: list[Program],
        row: int,
        col: str,
        problems: list[Problem],
    ) -> Program | None:
        t = squash(text)
        if not t:
            if fixed is None:
                problems.append(Problem("请填写补贴项目，或导入时用 --program 指定", col, row))
                return None
            if year is not None and fixed.year != year:
                return self._find_program(fixed.code, year, programs, row, col, problems)
            return fixed
        if year is None:
            problems.append(Problem("请填写年度，或导入时用 --year 指定", col, row))
            return None
        p = self._find_program(t, year, programs, row, col, problems)
        if p is not None and fixed is not None and (p.code, p.year) != (fixed.code, fixed.year):
            problems.append(Problem(f"本行是“{p.name}”，与导入时指定的{fixed.code}（{fixed.name}）不一致", col, row))
            return None
        return p

    @staticmethod
    def _land_of(
        v: dict[str, str], row: int, sheet: Sheet, prog: Program | None, problems: list[Problem]
    ) -> Land | None:
        """The row's 确权/扣除 land when any of its columns is filled (then the quantity
        paid on is its 补贴面积, and a filled 数量/补贴面积 cell must agree), else None."""
        if not any(v.get(k) for k in LAND_LABELS):
            return None
        land, errors = check_land(
            v.get("certified_area", ""),
            v.get("deducted_area", ""),
            v.get("deduction_reason", ""),
            v.get("quantity", ""),
            prog.unit if prog is not None else "亩",
            sheet.label("quantity"),
        )
        problems.extend(Problem(why, sheet.label("quantity" if k == "subsidy_area" else k), row) for k, why in errors)
        return land

    @staticmethod
    def _find_program(
        text: str, year: int, programs: list[Program], row: int, col: str, problems: list[Problem]
    ) -> Program | None:
        if text == text.upper():  # then the index answers as the loop below would
            found = _program_index(programs).get((year, text))
            if found is not None:
                return found
        for p in programs:
            if p.year == year and (p.code == text.upper() or p.name == text):
                return p
        known = "、".join(f"{p.code}（{p.name}）" for p in programs if p.year == year) or "（本年度还没有项目）"
        problems.append(Problem(f"{year}年没有“{text}”这个补贴项目。本年度的项目：{known}", col, row))
        return None

    def _same_person(
        self,
        h: Household,
        v: dict[str, str],
        row: int,
        sheet: Sheet,
        places: SheetPlaces,
        problems: list[Problem],
        report: ImportReport,
    ) -> None:
        """A registered person: the sheet must agree with the registry on the name
        and the village; a different card is only a reminder (the registry wins)."""
        name = str(check_name(v.get("name", "")).value or "")  # same folding as the registry
        if name and name != h.name:
            problems.append(Problem(f"姓名与名册不符：名册中该身份证号是“{h.name}”", sheet.label("name"), row))
        vname = squash(v.get("village", ""))
        if vname and "village" in sheet.columns:
            reg_v = places.registered_name(h.village_id)
            if places.key(vname) != places.key(reg_v):
                problems.append(Problem(f"名册中该户在{reg_v}，不在“{vname}”", sheet.label("village"), row))
        card = squash(v.get("card_account", "")).replace("-", "")
        if card and card != h.card_account:
            report.warnings.append(
                Problem(
                    f"一卡通账号与名册不一致（名册尾号{mask_card(h.card_account) or '空'}），发放以名册为准；如需更正请导入农户名册",
                    sheet.label("card_account"),
                    row,
                    warning=True,
                )
            )

    def _new_person(
        self,
        v: dict[str, str],
        row: int,
        sheet: Sheet,
        places: SheetPlaces,
        problems: list[Problem],
        report: ImportReport,
        new_people: dict[str, tuple[int, Household, VRef, GRef]],
        mask_private: bool = False,
    ) -> Household | None:
        """Someone not yet registered: register them from this row."""
        if not squash(v.get("village", "")):
            problems.append(
                Problem(
                    "名册中没有这个身份证号；要同时登记这户，请填写“村”（最好先导入农户名册）",
                    sheet.label("id_number"),
                    row,
                )
            )
            return None
        before = len(problems)
        clean, probs = self.svc.registry.validate_household(v, row=row, mask_private=mask_private)
        for p in probs:
            p = _relabel(sheet, p)
            (report.warnings if p.warning else problems).append(p)
        place = places.resolve(
            v.get("village", ""), v.get("group", ""), row, sheet.label("village"), sheet.label("group"), problems
        )
        if place is None or len(problems) != before:
            return None
        h = Household(**clean)
        new_people[clean["id_number"]] = (row, h, place[0], place[1])
        return h
