"""Excel and CSV in and out: the household registry, applications, the bank payment
sheet and the bank's return, the county working sheet and the risk-flag list.

Why it is built this way:

* **All or nothing.** Every row is checked before anything is written; one bad row and
  nothing is imported. Every problem comes back at once with its row, column and reason,
  so the clerk fixes the sheet in one pass (``errors_out`` writes the sheet back with a
  错误原因 column; the same file can be imported again once fixed).
* **One transaction.** New villages and groups, new and updated households, and the
  applications all go into one store transaction: the journal gets one entry, and a
  crash leaves either the whole import or none of it.
* **Nothing is guessed.** A village the township does not have yet is created, but the
  dry run lists it first (将新建：东沟村一组), so a misspelt village is caught before
  anything is written. An ID that Excel stored as a number is rejected, never repaired.
  A blank cell never erases what the registry already holds.
* **Money leaves only through here.** The bank sheet carries full IDs and accounts, so
  it is marked 内部资料, and the rows it lists are marked as sent to the bank in the
  same step (never sent twice; the batch number is never reused).
* **Usable from the TUI.** Long runs take a ``progress(done, total, what)`` callback and
  a ``cancel()`` check; cancelling before the commit leaves no trace.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from villageboard.domain.errors import Problem, ValidationFailed, VBError
from villageboard.domain.masking import mask_card
from villageboard.domain.models import APP_STATUS, PAYOUT_STATUS, Application, Household, Program
from villageboard.domain.money import format_fen, parse_yuan
from villageboard.domain.places import group_key, group_label, village_key
from villageboard.domain.private_numbers import scan_text
from villageboard.domain.validate import check_date, check_id_number, check_name, squash
from villageboard.services.jobs import Cancel, Cancelled, Progress
from villageboard.services.paths import parse_app_number
from villageboard.services.payouts import issue_date
from villageboard.services.registry import HOUSEHOLD_LABELS

if TYPE_CHECKING:
    from villageboard.io.headers import FieldSpec
    from villageboard.io.tables import Sheet
    from villageboard.services.context import Services
    from villageboard.store import Tx

INTERNAL = "内部资料 注意保密"
NOTHING_IMPORTED = "已取消，没有导入任何数据。"
CHECK_EVERY = 250  # rows between progress reports and cancel checks

OK_WORDS = frozenset({"成功", "发放成功", "入账成功", "已入账", "已发放", "正常", "是", "success", "ok", "y"})
FAIL_WORDS = frozenset({"失败", "发放失败", "入账失败", "未入账", "退回", "退票", "不成功", "否", "failed", "fail", "n"})


class ImportFailed(ValidationFailed):
    """The sheet has problems; nothing was imported. Carries what the TUI needs to
    show the problems and to write the errors sheet afterwards."""

    def __init__(self, problems: list[Problem], summary: str, report: ImportReport, sheet: Sheet | None) -> None:
        super().__init__(problems, summary)
        self.report = report
        self.sheet = sheet

    def write_errors(self, out: str | Path) -> Path:
        """The clerk's sheet with a 错误原因 column beside each bad row."""
        from villageboard.io.errors_sheet import group_problems, write_errors_sheet

        if self.sheet is None or self.report.source is None:
            raise VBError("这个文件整体读不出来，没有可以标注的行")
        return write_errors_sheet(self.report.source, self.sheet, group_problems(self.problems), Path(out))


@dataclass
class ImportReport:
    """What an import found and did (or, in a dry run, would do)."""

    kind: str  # households | applications | payouts
    source: Path | None
    dry_run: bool
    rows: int = 0
    new_places: list[str] = field(default_factory=list)
    new_households: int = 0
    updated_households: int = 0
    unchanged_households: int = 0
    applications: int = 0
    amount_fen: int = 0
    paid: int = 0
    paid_fen: int = 0
    failed: int = 0
    failed_fen: int = 0
    still_pending: int = 0
    changes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    errors_out: Path | None = None
    seq: int | None = None  # journal entry of the commit

    def lines(self, max_detail: int = 30) -> list[str]:
        """The report in plain words, new places first (that is where a misspelt
        village shows)."""
        out: list[str] = []
        if self.new_places:
            out.append(("将新建：" if self.dry_run else "已新建：") + "、".join(self.new_places))
        will = "将" if self.dry_run else "已"
        if self.kind == "households":
            out.append(f"共{self.rows}行：{will}新增农户{self.new_households}户，{will}更新{self.updated_households}户，"
                       f"{self.unchanged_households}户与名册相同未改动。")
        elif self.kind == "applications":
            extra = f"（其中同时登记新农户{self.new_households}户）" if self.new_households else ""
            out.append(f"共{self.rows}行：{will}导入申报{self.applications}条{extra}，应发金额合计{format_fen(self.amount_fen)}元。")
        elif self.kind == "payouts":
            out.append(f"共{self.rows}行：{'将登记' if self.dry_run else '已登记'}发放成功{self.paid}笔 {format_fen(self.paid_fen)}元，"
                       f"发放失败{self.failed}笔 {format_fen(self.failed_fen)}元。")
            if self.still_pending:
                out.append(f"本项目还有{self.still_pending}笔已提交银行、尚未回盘。")
        for label, items in (("改动", self.changes), ("失败", self.failures)):
            for line in items[:max_detail]:
                out.append(f"  {line}")
            if len(items) > max_detail:
                out.append(f"  …另有{len(items) - max_detail}条{label}")
        for p in self.warnings[:max_detail]:
            out.append(str(p) if p.warning else f"提醒：{p}")
        if len(self.warnings) > max_detail:
            out.append(f"…另有{len(self.warnings) - max_detail}条提醒")
        if self.dry_run:
            out.append("这是试导入，没有保存任何数据。去掉 --dry-run 即正式导入。")
        return out


@dataclass
class ExportReport:
    path: Path
    batch: str = ""
    rows: int = 0
    amount_fen: int = 0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"已写出 {self.path}（{self.rows}行" + (f"，金额合计{format_fen(self.amount_fen)}元" if self.amount_fen else "") + "）"]
        if self.batch:
            out.append(f"发放批次：{self.batch}。表中各笔已登记为“已提交银行”，请把银行回盘用 villageboard import payouts 导入。")
        for s in self.skipped:
            out.append(f"未列入：{s}")
        return out + self.notes


# --- places -------------------------------------------------------------------------

_PLACE_CHARS = re.compile(r"[\u3400-\u9fff0-9·]+")


VRef = int | str  # existing village id, or the key of a village to create
GRef = int | tuple[VRef, str]  # existing group id (0 = none), or (village, key) to create


class _Places:
    """Matches the villages and groups named in a sheet to the township's, and plans
    the ones to create."""

    def __init__(self, svc: Services) -> None:
        reg = svc.registry
        self.reg = reg
        self.villages = {village_key(v.name): v for v in reg.villages()}
        self.groups = {(g.village_id, group_key(g.name)): g for g in reg.groups()}
        self.new_villages: dict[str, str] = {}
        self.new_groups: dict[tuple[VRef, str], str] = {}
        self.village_ids: dict[str, int] = {}
        self.group_ids: dict[tuple[VRef, str], int] = {}
        self._seen: dict[tuple[str, str], tuple[VRef, GRef]] = {}

    def resolve(self, vname: str, gname: str, row: int, vlabel: str, glabel: str, problems: list[Problem]) -> tuple[VRef, GRef] | None:
        """The village and group of one row (planning any to create), or None with the
        problem added. A sheet names the same few places thousands of times, so a
        good answer is remembered."""
        hit = self._seen.get((vname, gname))
        if hit is not None:
            return hit
        got = self._resolve(vname, gname, row, vlabel, glabel, problems)
        if got is not None:
            self._seen[(vname, gname)] = got
        return got

    def _resolve(self, vname: str, gname: str, row: int, vlabel: str, glabel: str, problems: list[Problem]) -> tuple[VRef, GRef] | None:
        vtext = squash(vname)
        if not vtext:
            problems.append(Problem("请填写所在的村", vlabel, row))
            return None
        vk = village_key(vtext)
        v = self.villages.get(vk)
        vref: VRef
        if v is not None:
            vref = v.id
        else:
            numbers = scan_text(vtext)
            if numbers:  # a village name is printed on every poster
                problems.append(Problem(f"村名含有{'、'.join(numbers)}；村名里不能写号码", vlabel, row))
                return None
            if len(vtext) < 2 or len(vtext) > 20 or not _PLACE_CHARS.fullmatch(vtext) or vtext.isdigit():
                problems.append(Problem(f"村名“{vname}”不对：应为2到20个汉字，如“东沟村”", vlabel, row))
                return None
            self.new_villages.setdefault(vk, vtext)
            vref = vk
        gtext = squash(gname)
        if not gtext:
            return vref, 0
        gk = group_key(gtext)
        if not gk or not _PLACE_CHARS.fullmatch(gk) or len(gk) > 10:
            problems.append(Problem(f"组名“{gname}”不对：应如“一组”或“3组”", glabel, row))
            return None
        if isinstance(vref, int):
            g = self.groups.get((vref, gk))
            if g is not None:
                return vref, g.id
        self.new_groups.setdefault((vref, gk), group_label(gk))
        return vref, (vref, gk)

    def village_name(self, vref: VRef) -> str:
        if isinstance(vref, int):
            return self.reg.village(vref).name
        return self.new_villages[vref]

    def planned(self) -> list[str]:
        out = [name for name in self.new_villages.values()]
        out += [self.village_name(vref) + gname for (vref, _k), gname in self.new_groups.items()]
        return out

    def create(self, tx: Tx) -> None:
        for vk, name in self.new_villages.items():
            self.village_ids[vk] = self.reg.add_village(name, tx).id
        for (vref, gk), name in self.new_groups.items():
            vid = vref if isinstance(vref, int) else self.village_ids[vref]
            self.group_ids[(vref, gk)] = self.reg.add_group(vid, name, tx).id

    def ids(self, vref: VRef, gref: GRef) -> tuple[int, int]:
        vid = vref if isinstance(vref, int) else self.village_ids[vref]
        gid = gref if isinstance(gref, int) else self.group_ids[gref]
        return vid, gid


# --- helpers ------------------------------------------------------------------------

_HH_KEY = {label: key for key, label in HOUSEHOLD_LABELS.items()}


def _relabel(sheet: Sheet, p: Problem) -> Problem:
    """A validator's problem, named by the clerk's own column header."""
    key = _HH_KEY.get(p.field or "")
    if key and (key in sheet.columns or key in {f.key for f in sheet.fields}):
        return Problem(p.reason, sheet.label(key), p.row, p.warning)
    return p


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.row or 0))


F = TypeVar("F", bound=Callable[..., Any])


def _bulk(fn: F) -> F:
    """Pause the cyclic garbage collector during a bulk import. An import makes
    hundreds of thousands of small objects (cells, rows, records) and no cycles; left
    on, the collector re-walks everything already loaded again and again, which cost
    about a third of a 10,000-row import."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        was_on = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_on:
                gc.enable()

    return run  # type: ignore[return-value]


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


def _tick(i: int, total: int, what: str, progress: Progress | None, cancel: Cancel | None) -> None:
    if i % CHECK_EVERY:
        return
    if cancel is not None and cancel():
        raise Cancelled(NOTHING_IMPORTED)
    if progress is not None:
        progress(i, total, what)


def _year_value(text: str) -> int | None:
    t = squash(text).removesuffix("年").removesuffix(".0")
    return int(t) if t.isdigit() and 2000 <= int(t) <= 2100 else None


def _result_of(text: str) -> tuple[str | None, str]:
    """(ok | failed | None, reason written inside the result cell)."""
    t = squash(text).lower()
    if t in OK_WORDS:
        return "ok", ""
    if t in FAIL_WORDS:
        return "failed", ""
    head, _sep, rest = _split_once(t)
    if head in FAIL_WORDS and rest:
        return "failed", rest.strip("）)")
    return None, ""


def _split_once(text: str) -> tuple[str, str, str]:
    """'失败：账户冻结' -> ('失败', '：', '账户冻结')."""
    m = re.search(r"[:：,，(（\-—]", text)
    if m is None:
        return text, "", ""
    return text[: m.start()], m.group(), text[m.end():]


#: What banks call the columns of their return that the generic reader does not know.
BANK_NAME_SYNONYMS = ("户名", "账户名称", "账户名", "收款人", "收款人姓名", "客户名称")


def _return_fields(base: Sequence[FieldSpec], spec: type[FieldSpec]) -> tuple[FieldSpec, ...]:
    """The bank-return columns: the reader's own, plus our application number (the
    surest way to match a row) and the name headers banks use (户名)."""
    out = []
    for f in base:
        if f.key == "name":
            f = replace(f, synonyms=tuple(dict.fromkeys((*f.synonyms, *BANK_NAME_SYNONYMS))))
        out.append(f)
    out.append(spec("app_no", "申报编号", ("申报编号", "申报号", "申请编号"), required=False))
    return tuple(out)


class TransferService:
    """Imports and exports. ``svc.transfer``."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store

    # ================================================================== households
    @_bulk
    def import_households(
        self, path: str | Path, *, dry_run: bool = False, errors_out: str | Path | None = None,
        progress: Progress | None = None, cancel: Cancel | None = None, mask_private: bool = False,
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
        households = reg._load()
        places = _Places(self.svc)
        seen: dict[str, int] = {}
        new_rows: list[tuple[int, dict[str, Any], VRef, GRef]] = []
        updates: list[tuple[int, Household, dict[str, Any], VRef, GRef | None]] = []
        vlabel, glabel, idlabel = sheet.label("village"), sheet.label("group"), sheet.label("id_number")
        total = len(sheet.rows)
        for i, r in enumerate(sheet.rows):
            _tick(i, total, "检查", progress, cancel)
            v, row = r.values, r.row_number
            before = len(problems)
            idn = squash(v.get("id_number", "")).upper()
            existing = reg._by_id_number.get(idn) if idn else None
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
            raise self._failed(problems, report, sheet, errors_out)

        # work out what actually changes for registered households
        planned_updates: list[tuple[Household, Household, VRef, GRef]] = []
        for row, old, clean, vref, gref in updates:
            data = old.to_dict()
            changed: list[str] = []
            for key in ("name", "phone", "card_account", "bank", "remark"):
                value = clean.get(key) or ""
                if value and value != data.get(key):
                    data[key] = value
                    changed.append(HOUSEHOLD_LABELS[key])
            moved_village = not (isinstance(vref, int) and vref == old.village_id)
            if moved_village or (gref is not None and gref != old.group_id):
                changed.append("村" if moved_village else "组")
            if not changed:
                report.unchanged_households += 1
                continue
            report.changes.append(f"第{row}行 {old.name}（户编号{old.id}）：更新{'、'.join(changed)}")
            keep_group = gref if gref is not None else (0 if moved_village else old.group_id)
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
    @_bulk
    def import_applications(
        self, path: str | Path, *, program: str | None = None, year: int | None = None,
        dry_run: bool = False, errors_out: str | Path | None = None,
        progress: Progress | None = None, cancel: Cancel | None = None, mask_private: bool = False,
    ) -> ImportReport:
        """Import applications. The program and year come from the sheet's columns or
        from ``program``/``year``. A person not yet in the registry is registered from
        the same row (village, name, ID, card), in the same transaction. Personal
        numbers in names and remarks are refused, or masked with ``mask_private``."""
        from villageboard.io.headers import APPLICATION_FIELDS
        from villageboard.io.tables import read_table

        path = Path(path)
        sheet = read_table(path, APPLICATION_FIELDS)
        report = ImportReport("applications", path, dry_run, rows=len(sheet.rows))
        problems = list(sheet.errors)
        report.warnings += sheet.warnings
        bad_rows = {p.row for p in problems}
        reported = {(p.row, p.field) for p in problems}
        reg = self.svc.registry
        households = reg._load()
        apps = self.svc.applications
        places = _Places(self.svc)
        programs = self.svc.programs.list()
        fixed: Program | None = None
        if program:
            fixed = self.svc.programs.get(year or self.svc.today().year, program.strip().upper())
        label = sheet.label
        new_people: dict[str, tuple[int, Household, VRef, GRef]] = {}  # id -> first row, household, place
        built: list[tuple[int, Application, str | None]] = []  # row, app, new person's id
        seen: dict[tuple[str, int, str], int] = {}
        total = len(sheet.rows)
        for i, r in enumerate(sheet.rows):
            _tick(i, total, "检查", progress, cancel)
            v, row = r.values, r.row_number
            before = len(problems)
            # year and program
            y = year
            if v.get("year"):
                y_row = _year_value(v["year"])
                if y_row is None:
                    problems.append(Problem(f"年度“{v['year']}”不对，应为4位数字如2026", label("year"), row))
                elif year is not None and y_row != year:
                    problems.append(Problem(f"年度{y_row}与导入时指定的{year}年不一致", label("year"), row))
                else:
                    y = y_row
            elif y is None:
                y = fixed.year if fixed else self.svc.today().year
            prog = self._program_of(v.get("program", ""), y, fixed, programs, row, label("program"), problems)
            # the person
            idc = check_id_number(v.get("id_number", ""), self.svc.today())
            if (row, label("id_number")) not in reported:
                problems.extend(Problem(e, label("id_number"), row) for e in idc.errors)
            idn = str(idc.value or "")
            h: Household | None = None
            new_id: str | None = None
            if idc.ok:
                hid = reg._by_id_number.get(idn)
                if hid is not None:
                    h = households[hid]
                    self._same_person(h, v, row, sheet, places, problems, report)
                elif idn in new_people:
                    h = new_people[idn][1]
                    new_id = idn
                    typed = str(check_name(v.get("name", "")).value or "")
                    if typed and typed != h.name:
                        problems.append(Problem(f"与第{new_people[idn][0]}行同一身份证号，姓名却不同（{h.name}）", label("name"), row))
                else:
                    h = self._new_person(v, row, sheet, places, problems, report, new_people, mask_private)
                    new_id = idn if h is not None else None
            if prog is None or h is None or len(problems) != before or row in bad_rows:
                continue
            key = (idn, prog.year, prog.code)
            if key in seen:
                problems.append(Problem(f"与第{seen[key]}行是同一人同一项目，重复申报", label("id_number"), row))
                continue
            seen[key] = row
            app, probs = apps.build(h.id, prog, v.get("quantity", ""), v.get("remark", ""), row, household=h,
                                    mask_private=mask_private)
            for p in probs:
                f = {"数量": label("quantity"), "农户": label("name"), "备注": label("remark")}.get(p.field or "", p.field)
                (report.warnings if p.warning else problems).append(Problem(p.reason, f, p.row, p.warning))
            if app is not None:
                built.append((row, app, new_id))
        report.new_places = places.planned()
        if problems:
            raise self._failed(problems, report, sheet, errors_out)
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
                apps._forget(app)
            raise
        _refresh_registry(reg, added)
        return report

    def _program_of(
        self, text: str, year: int | None, fixed: Program | None, programs: list[Program],
        row: int, col: str, problems: list[Problem],
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
    def _find_program(text: str, year: int, programs: list[Program], row: int, col: str, problems: list[Problem]) -> Program | None:
        for p in programs:
            if p.year == year and (p.code == text.upper() or p.name == text):
                return p
        known = "、".join(f"{p.code}（{p.name}）" for p in programs if p.year == year) or "（本年度还没有项目）"
        problems.append(Problem(f"{year}年没有“{text}”这个补贴项目。本年度的项目：{known}", col, row))
        return None

    def _same_person(self, h: Household, v: dict[str, str], row: int, sheet: Sheet, places: _Places, problems: list[Problem], report: ImportReport) -> None:
        """A registered person: the sheet must agree with the registry on the name
        and the village; a different card is only a reminder (the registry wins)."""
        name = str(check_name(v.get("name", "")).value or "")  # same folding as the registry
        if name and name != h.name:
            problems.append(Problem(f"姓名与名册不符：名册中该身份证号是“{h.name}”", sheet.label("name"), row))
        vname = squash(v.get("village", ""))
        if vname and "village" in sheet.columns:
            reg_v = places.reg.village(h.village_id).name
            if village_key(vname) != village_key(reg_v):
                problems.append(Problem(f"名册中该户在{reg_v}，不在“{vname}”", sheet.label("village"), row))
        card = squash(v.get("card_account", "")).replace("-", "")
        if card and card != h.card_account:
            report.warnings.append(Problem(
                f"一卡通账号与名册不一致（名册尾号{mask_card(h.card_account) or '空'}），发放以名册为准；如需更正请导入农户名册",
                sheet.label("card_account"), row, warning=True))

    def _new_person(
        self, v: dict[str, str], row: int, sheet: Sheet, places: _Places, problems: list[Problem],
        report: ImportReport, new_people: dict[str, tuple[int, Household, VRef, GRef]], mask_private: bool = False,
    ) -> Household | None:
        """Someone not yet registered: register them from this row."""
        if not squash(v.get("village", "")):
            problems.append(Problem("名册中没有这个身份证号；要同时登记这户，请填写“村”（最好先导入农户名册）", sheet.label("id_number"), row))
            return None
        before = len(problems)
        clean, probs = self.svc.registry.validate_household(v, row=row, mask_private=mask_private)
        for p in probs:
            p = _relabel(sheet, p)
            (report.warnings if p.warning else problems).append(p)
        place = places.resolve(v.get("village", ""), v.get("group", ""), row, sheet.label("village"), sheet.label("group"), problems)
        if place is None or len(problems) != before:
            return None
        h = Household(**clean)
        new_people[clean["id_number"]] = (row, h, place[0], place[1])
        return h

    # ================================================================ bank sheets
    def export_bank(self, program: str, year: int, out: str | Path, without_notice: str = "",
                    how: str = "--without-notice “原因”") -> ExportReport:
        """The bank payment sheet of approved rows not yet sent, marked 内部资料; the
        rows are marked sent in the same transaction. Rows without a card account, and
        rows whose village's 申报公示 has not run its course (services/work_order.py),
        are left out and listed; when no row is left the sheet is refused. With a
        written ``without_notice`` reason the held rows go too, the reason kept on
        each of them."""
        from villageboard.services.work_order import OrderGate, check_reason, refusal

        p = self.svc.programs.get(year, program.strip().upper())
        payable = self.svc.payouts.payable(year, p.code)
        reason = check_reason(without_notice) if without_notice.strip() else ""
        order = OrderGate(self.svc).check(year, p.code, payable)
        exempt: dict[str, str] = {}
        if order.blocked and reason:
            exempt = {a.id: reason for a in order.blocked}
        elif order.blocked:
            if not order.clear:
                raise VBError(refusal(p.name, year, order, how))
            payable = order.clear
        reg = self.svc.registry
        ready, skipped = [], []
        if order.blocked and not reason:
            skipped += [f"{line}（申报公示未走完，暂不发放）" for line in order.lines()]
        for a in payable:
            h = reg.household(a.household_id)
            if h.card_account:
                ready.append(a)
            else:
                skipped.append(f"{a.id} {h.name}（{reg.place_label(h.village_id, h.group_id)}）没有一卡通账号")
        if not ready:
            why = "；".join(skipped) if skipped else "审核通过、还没有提交银行的申报一笔也没有"
            raise VBError(f"{year}年{p.name}没有可以发放的申报：{why}")
        exempt = {k: v for k, v in exempt.items() if k in {a.id for a in ready}}
        action = f"发放.{p.name}.提交银行" + (f"（{len(exempt)}笔未经申报公示，原因：{reason}）" if exempt else "")
        tx = self.store.begin(action)
        batch = self.svc.payouts.new_batch(year, p.code, tx)
        self.svc.payouts.issue(ready, batch, tx, without_notice=exempt)
        report = self._write_bank_and_commit(p, batch, ready, out, tx, skipped)
        if exempt:
            names = "、".join(v.village for v in order.villages if set(v.apps) & exempt.keys())
            report.notes.append(f"{names}的{len(exempt)}笔未经申报公示期满即发放，原因：{reason}。已记入修改记录，并将印在发放结果公示上。")
        elif reason:
            report.notes.append("各村申报公示均已走完，填写的例外原因没有用上，未记录。")
        return report

    def reissue(self, program: str, year: int, out: str | Path | None = None, only: Sequence[str] = ()) -> ExportReport:
        """Send failed rows again (after the account was corrected) in a new batch, with
        a bank sheet of just those rows. Rows not ready yet are listed, not sent."""
        p = self.svc.programs.get(year, program.strip().upper())
        failed = [a for a in self.svc.applications.list(year, p.code) if a.payout_status == "failed"]
        if only:
            wanted = {f"{y}-{n:06d}" for y, n in (parse_app_number(x) for x in only)}
            missing = wanted - {a.id for a in failed}
            if missing:
                raise VBError(f"这些申报不是{p.name}的发放失败记录：{'、'.join(sorted(missing))}")
            failed = [a for a in failed if a.id in wanted]
        if not failed:
            raise VBError(f"{year}年{p.name}没有发放失败、等待重新发放的申报")
        tx = self.store.begin(f"发放.{p.name}.重新发放")
        batch = self.svc.payouts.new_batch(year, p.code, tx)
        sent, skipped = [], []
        for a in failed:
            try:
                sent.append(self.svc.payouts.reissue(a, batch, tx))
            except VBError as exc:
                skipped.append(str(exc))
        if not sent:
            raise VBError("没有可以重新发放的申报：\n" + "\n".join(skipped))
        target = Path(out) if out else Path.cwd() / f"银行发放表-{batch}.xlsx"
        return self._write_bank_and_commit(p, batch, sent, target, tx, skipped)

    def _write_bank_and_commit(self, p: Program, batch: str, apps: list[Application], out: str | Path, tx: Tx, skipped: list[str]) -> ExportReport:
        """Write the sheet first, then commit; if the commit fails the sheet is removed,
        so a file on disk always means its rows are on record as sent."""
        from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book

        reg = self.svc.registry
        rows = []
        for i, a in enumerate(apps, 1):
            h = reg.household(a.household_id)
            att = a.attempts[-1]
            rows.append({
                "seq": i, "app": a.id, "village": reg.village(h.village_id).name,
                "group": reg.group(h.group_id).name if h.group_id else "", "name": h.name,
                "id_number": h.id_number, "account": att["account"], "bank": att.get("bank", ""),
                "amount": att["amount_fen"], "program": p.name, "batch": batch,
            })
        total = sum(r["amount"] for r in rows)
        sheet = SheetOut(
            title="银行发放表",
            banner=f"{INTERNAL}｜{self.svc.township.name}{p.year}年{p.name} 银行发放表 批次{batch}",
            columns=[
                ColumnOut("序号", "seq", "int"), ColumnOut("申报编号", "app"),
                ColumnOut("村", "village"), ColumnOut("组", "group"), ColumnOut("户主姓名", "name"),
                ColumnOut("身份证号码", "id_number"), ColumnOut("一卡通账号", "account"),
                ColumnOut("开户银行", "bank"), ColumnOut("金额", "amount", "money_fen"),
                ColumnOut("补贴项目", "program"), ColumnOut("批次", "batch"),
                ColumnOut("处理结果", "result"), ColumnOut("失败原因", "reason"), ColumnOut("发放日期", "paid_date"),
            ],
            rows=rows,
            totals={"amount": total},
            notes=[
                "本表含完整身份证号和账号，只供银行发放使用，不得张贴、转发。",
                "银行请在“处理结果”填“成功”或“失败”，失败的在“失败原因”写明（如账户冻结、户名不符、账户已销户），原表返回。",
            ],
        )
        path = write_sheet_book(Path(out), [sheet])
        try:
            tx.commit()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return ExportReport(path, batch, len(rows), total, skipped)

    # ================================================================ bank return
    @_bulk
    def import_payouts(
        self, path: str | Path, *, program: str, year: int, dry_run: bool = False,
        errors_out: str | Path | None = None, paid_date: dt.date | None = None,
        progress: Progress | None = None, cancel: Cancel | None = None,
    ) -> ImportReport:
        """Record the bank's return: each row 成功, or 失败 with the bank's reason.
        Rows are matched by application number, else by ID within the program. A
        changed amount or account, an unknown row, or a row not waiting for the bank
        is an error; one error and nothing is recorded."""
        from villageboard.io.headers import PAYOUT_RETURN_FIELDS, FieldSpec
        from villageboard.io.tables import read_table

        p = self.svc.programs.get(year, program.strip().upper())
        fields = _return_fields(PAYOUT_RETURN_FIELDS, FieldSpec)
        path = Path(path)
        sheet = read_table(path, fields)
        report = ImportReport("payouts", path, dry_run, rows=len(sheet.rows))
        problems = list(sheet.errors)
        report.warnings += sheet.warnings
        bad_rows = {x.row for x in problems}
        label = sheet.label
        reg = self.svc.registry
        reg._load()
        apps = {a.id: a for a in self.svc.applications.list(year, p.code)}
        seen: dict[str, int] = {}
        results: list[tuple[Application, bool, str, dt.date]] = []
        default_day = paid_date or self.svc.today()
        total = len(sheet.rows)
        for i, r in enumerate(sheet.rows):
            _tick(i, total, "检查", progress, cancel)
            v, row = r.values, r.row_number
            before = len(problems)
            app = self._match_payout(v, row, p, apps, sheet, problems)
            ok, reason_in_result = _result_of(v.get("result", ""))
            if ok is None:
                shown = v.get("result", "")
                problems.append(Problem(f"处理结果“{shown}”看不懂，应为“成功”或“失败”" if shown else "处理结果是空的，应为“成功”或“失败”", label("result"), row))
            reason = (v.get("reason") or "").strip() or reason_in_result
            if ok == "failed" and not reason:
                problems.append(Problem("发放失败必须写明银行给出的原因（如账户冻结、户名不符、账户已销户）", label("reason"), row))
            try:
                amount = parse_yuan(v.get("amount", ""))
            except Exception:
                amount = None
                problems.append(Problem(f"金额“{v.get('amount', '')}”不是有效的金额", label("amount"), row))
            day = default_day
            if v.get("paid_date"):
                c = check_date(v["paid_date"], "发放日期")
                if c.errors:
                    problems.extend(Problem(e, label("paid_date"), row) for e in c.errors)
                else:
                    day = c.value  # type: ignore[assignment]
                    if day > self.svc.today():
                        problems.append(Problem("发放日期晚于今天", label("paid_date"), row))
            if app is not None:
                if app.id in seen:
                    problems.append(Problem(f"与第{seen[app.id]}行是同一笔（申报{app.id}），重复出现", label("app_no") if "app_no" in sheet.columns else label("id_number"), row))
                    continue
                seen[app.id] = row
                h = reg._households[app.household_id]  # type: ignore[index]
                last = app.attempts[-1] if app.attempts else {}
                if app.payout_status != "issued":
                    state = PAYOUT_STATUS.get(app.payout_status, app.payout_status)
                    problems.append(Problem(f"申报{app.id}（{h.name}）现在是“{state}”，不在等待银行回盘，不能再登记（是不是重复导入了同一份回盘？）", label("result"), row))
                typed = str(check_name(v.get("name", "")).value or "")
                if typed and typed != h.name:
                    problems.append(Problem(f"户名与发放表不符：申报{app.id}是“{h.name}”", label("name"), row))
                card = squash(v.get("card_account", "")).replace("-", "")
                if card and last and card != last.get("account"):
                    problems.append(Problem(f"账号与发放表不符：申报{app.id}发放到尾号{last.get('account', '')[-4:]}的账号", label("card_account"), row))
                issued = issue_date(last) if last else None
                if issued is not None and day < issued:
                    where = label("paid_date") if "paid_date" in sheet.columns else label("result")
                    problems.append(Problem(f"发放日期{day}早于银行发放表的生成日期{issued}（批次{last.get('batch', '')}）", where, row))
                if amount is not None and last and amount != last.get("amount_fen"):
                    problems.append(Problem(f"金额与发放表不符：发放表为{format_fen(last.get('amount_fen', 0))}元，回盘为{format_fen(amount)}元", label("amount"), row))
            if app is None or len(problems) != before or row in bad_rows or ok is None:
                continue
            results.append((app, ok == "ok", reason, day))
            h = reg._households[app.household_id]  # type: ignore[index]
            if ok == "ok":
                report.paid += 1
                report.paid_fen += app.amount_fen
            else:
                report.failed += 1
                report.failed_fen += app.amount_fen
                report.failures.append(f"第{row}行 {app.id} {h.name}：{reason}")
        if problems:
            raise self._failed(problems, report, sheet, errors_out)
        matched = {a.id for a, *_ in results}
        report.still_pending = sum(1 for a in apps.values() if a.payout_status == "issued" and a.id not in matched)
        if dry_run:
            return report
        if cancel is not None and cancel():
            raise Cancelled(NOTHING_IMPORTED)
        with self.store.begin(f"发放.{p.name}.银行回盘") as tx:
            for app, ok_, reason, day in results:
                self.svc.payouts.record_result(app, ok_, reason, day, tx)
        report.seq = self.store.journal.last_seq
        return report

    def _match_payout(self, v: dict[str, str], row: int, p: Program, apps: dict[str, Application], sheet: Sheet, problems: list[Problem]) -> Application | None:
        label = sheet.label
        prog = squash(v.get("program", ""))
        if prog and prog not in (p.code, p.name):
            problems.append(Problem(f"本行是“{prog}”，不是本次导入的{p.name}", label("program"), row))
            return None
        number = squash(v.get("app_no", ""))
        if number:
            try:
                y, n = parse_app_number(number)
                app = apps.get(f"{y}-{n:06d}")
            except ValueError:
                app = None
            if app is None:
                problems.append(Problem(f"申报编号“{number}”不是{p.year}年{p.name}的申报", label("app_no"), row))
            return app
        idn = squash(v.get("id_number", "")).upper()
        if not idn:
            problems.append(Problem("没有申报编号，也没有身份证号，对不上是哪一笔", label("id_number"), row))
            return None
        hid = self.svc.registry._by_id_number.get(idn)
        n = self.svc.applications.existing(p.year, hid, p.code) if hid is not None else None
        app = apps.get(f"{p.year}-{n:06d}") if n is not None else None
        if app is None:
            problems.append(Problem(f"这个身份证号在{p.year}年{p.name}中没有申报，对不上是哪一笔", label("id_number"), row))
        return app

    # ================================================================ failures
    def _failed(self, problems: list[Problem], report: ImportReport, sheet: Sheet, errors_out: str | Path | None) -> ImportFailed:
        problems = _sorted(problems)
        rows = len({p.row for p in problems if p.row is not None})
        lines = []
        if report.new_places:
            lines.append("表中这些村组本乡镇还没有，正式导入时会新建（如是写错请更正）：" + "、".join(report.new_places))
        lines.append(f"没有导入任何数据：表中有{len(problems)}处问题（涉及{rows}行），全部改好后才能导入。")
        exc = ImportFailed(problems, "\n".join(lines), report, sheet)
        if errors_out is not None:
            report.errors_out = exc.write_errors(errors_out)
            exc.args = (str(exc) + f"\n已把出错的行标在 {report.errors_out} 的“错误原因”列，改好后可以直接再导入这个文件。",)
        return exc

    # ================================================================ exports
    def export_county(self, year: int, out: str | Path) -> Path:
        """The county working sheet: per village × program totals and every row, real
        number cells, marked 内部资料."""
        from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book
        from villageboard.services.reconcile import reconcile

        rec = reconcile(self.svc, year)
        reg = self.svc.registry
        hs = reg._load()
        villages = {v.id: v.name for v in reg.villages(include_void=True)}
        groups = {g.id: g.name for g in reg.groups()}
        programs = {p.code: p for p in self.svc.programs.list(year, include_void=True)}
        applied: dict[tuple[str, int], int] = {}
        detail = []
        for a in self.svc.applications.list(year):
            applied[(a.program_code, a.village_id)] = applied.get((a.program_code, a.village_id), 0) + 1
            h = hs.get(a.household_id)
            p = programs.get(a.program_code)
            detail.append({
                "app": a.id, "village": villages.get(a.village_id, "?"), "group": groups.get(a.group_id, ""),
                "name": h.name if h else "?", "id_number": h.id_number if h else "",
                "account": (a.attempts[-1].get("account", "") if a.attempts else (h.card_account if h else "")),
                "program": p.name if p else a.program_code, "code": a.program_code, "quantity": a.quantity,
                "unit": p.unit if p else "", "rate": a.rate_fen, "amount": a.amount_fen,
                "status": APP_STATUS.get(a.status, a.status), "payout": PAYOUT_STATUS.get(a.payout_status, ""),
                "reason": self.svc.payouts.last_failure(a) if a.payout_status == "failed" else "",
                "paid_date": self.svc.payouts.paid_date(a), "batch": a.attempts[-1].get("batch", "") if a.attempts else "",
                "attempts": len(a.attempts),
            })
        summary = []
        for line in rec.lines:
            summary.append({
                "village": line.village, "program": line.program, "code": line.program_code, "unit": line.unit,
                "applied": applied.get((line.program_code, line.village_id or 0), 0),
                "households": line.approved.n, "quantity": line.quantity, "amount": line.approved.fen,
                "paid_n": line.paid.n, "paid": line.paid.fen, "failed_n": line.failed.n, "failed": line.failed.fen,
                "pending": line.pending.fen + line.not_issued.fen,
            })
        t = rec.township
        banner = f"{INTERNAL}｜{self.svc.township.county}{self.svc.township.name}{year}年涉农补贴申报发放情况（报县汇总用）"
        s1 = SheetOut(
            title="分村分项目汇总", banner=banner,
            columns=[
                ColumnOut("村", "village"), ColumnOut("补贴项目", "program"), ColumnOut("项目代码", "code"),
                ColumnOut("单位", "unit"), ColumnOut("申报户数", "applied", "int"),
                ColumnOut("审核通过户数", "households", "int"), ColumnOut("数量", "quantity", "quantity"),
                ColumnOut("应发金额", "amount", "money_fen"), ColumnOut("已发放户数", "paid_n", "int"),
                ColumnOut("已发放金额", "paid", "money_fen"), ColumnOut("发放失败户数", "failed_n", "int"),
                ColumnOut("发放失败金额", "failed", "money_fen"), ColumnOut("未发放金额", "pending", "money_fen"),
            ],
            rows=summary,
            totals={
                "applied": sum(applied.values()), "households": t.approved.n, "amount": t.approved.fen,
                "paid_n": t.paid.n, "paid": t.paid.fen, "failed_n": t.failed.n, "failed": t.failed.fen,
                "pending": t.pending.fen + t.not_issued.fen,
            },
            notes=["数量因各项目单位不同不作合计；金额单位为元。“未发放金额”含尚未提交银行和已提交等待回盘的。"],
        )
        s2 = SheetOut(
            title="申报发放明细", banner=banner,
            columns=[
                ColumnOut("申报编号", "app"), ColumnOut("村", "village"), ColumnOut("组", "group"),
                ColumnOut("户主姓名", "name"), ColumnOut("身份证号码", "id_number"), ColumnOut("一卡通账号", "account"),
                ColumnOut("补贴项目", "program"), ColumnOut("项目代码", "code"), ColumnOut("数量", "quantity", "quantity"),
                ColumnOut("单位", "unit"), ColumnOut("补贴标准（元）", "rate", "money_fen"), ColumnOut("金额", "amount", "money_fen"),
                ColumnOut("审核状态", "status"), ColumnOut("发放状态", "payout"), ColumnOut("失败原因", "reason"),
                ColumnOut("发放日期", "paid_date", "date"), ColumnOut("批次", "batch"), ColumnOut("发放次数", "attempts", "int"),
            ],
            rows=detail,
            totals={"amount": sum(r["amount"] for r in detail)},
        )
        return write_sheet_book(Path(out), [s1, s2])

    def export_flags(self, year: int, out: str | Path, program: str | None = None) -> Path:
        """Every risk flag of a year with its clearing note, for the office's checks.
        Full names and IDs, so 内部资料."""
        from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book

        reg = self.svc.registry
        hs = reg._load()
        villages = {v.id: v.name for v in reg.villages(include_void=True)}
        programs = {p.code: p.name for p in self.svc.programs.list(year, include_void=True)}
        rows = []
        for f in self.svc.flags.flags(year, program):
            h = hs.get(f.household_id)
            c = f.cleared or {}
            rows.append({
                "label": f.label, "app": f.app_id, "village": villages.get(f.village_id, "?"),
                "name": h.name if h else "?", "id_number": h.id_number if h else "",
                "program": programs.get(f.program_code, f.program_code), "message": f.message,
                "state": "已核实" if f.is_cleared else "待核实", "note": c.get("note", ""),
                "operator": c.get("operator", ""), "date": c.get("date", ""),
            })
        sheet = SheetOut(
            title="风险提示", banner=f"{INTERNAL}｜{self.svc.township.name}{year}年申报发放风险提示（供核实，不公开）",
            columns=[
                ColumnOut("提示类型", "label"), ColumnOut("申报编号", "app"), ColumnOut("村", "village"),
                ColumnOut("户主姓名", "name"), ColumnOut("身份证号码", "id_number"), ColumnOut("补贴项目", "program"),
                ColumnOut("情况", "message", width=60), ColumnOut("核实状态", "state"), ColumnOut("核实情况", "note", width=40),
                ColumnOut("核实人", "operator"), ColumnOut("核实日期", "date", "date"),
            ],
            rows=rows,
            notes=["风险提示不影响办理，只提醒核实；核实后请用 villageboard flag clear 记下核实情况。"],
        )
        return write_sheet_book(Path(out), [sheet])
