"""Notices (公示): create, post (freeze + tag), archive, objections, corrections,
posting photos and verification.

States: draft → posted (start, end = start + N − 1: N calendar days counted inclusively) → ended → archived.
Posting freezes the rows as a write-once snapshot and fixes the tag. A posted notice
whose end date has passed is "ended" and is archived the next time any command or the
app starts. Archived versions are marked read-only in the store itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from villageboard.domain.errors import ArchivedError, NotFound, ValidationFailed, VBError
from villageboard.domain.land import LAND_LABELS
from villageboard.domain.masking import mask_id, tail
from villageboard.domain.models import (
    APP_STATUS,
    NOTICE_KINDS,
    NOTICE_STATES,
    Application,
    Household,
    Notice,
    Objection,
    plain_rate,
)
from villageboard.domain.money import format_quantity
from villageboard.domain.private_numbers import mask_numbers
from villageboard.services.applications import land_quantity_refusal
from villageboard.services.paths import notices_file, objections_file, snapshot_file
from villageboard.services.private_entry import check_text
from villageboard.services.publish_check import check_printable, row_findings
from villageboard.services.tags import make_tag, tags_equal

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.store import Tx

NOTICES, SNAPSHOT, OBJECTIONS = "notices", "snapshot", "objections"
KINDS_WITH_PROGRAM = ("application", "result")
DEFAULT_DAYS = 7


def _card_tail(app: Application, h: Household) -> str:
    """The last 4 digits of the card paid (or to be paid): the one part of the account
    the masking policy lets a notice print."""
    account = next((att.get("account", "") for att in reversed(app.attempts) if att.get("account")), "")
    return tail(re.sub(r"\D", "", account or h.card_account), 4)


PUBLIC_STATUS = {"paid": "已发放", "failed": "发放失败", "issued": "发放中"}


def period_end(start: dt.date, days: int) -> dt.date:
    """The last day of a posting period of ``days`` days, counted inclusively: 7 days
    from 06-01 end on 06-07."""
    return start + dt.timedelta(days=days - 1)


def _no_year(subject: str) -> str:
    return re.sub(r"^\d{4}年", "", subject)


def _paid_date(app: Application) -> str:
    """The day the bank paid the row (the last successful attempt), "" when unpaid."""
    for a in reversed(app.attempts):
        if a.get("result") == "paid":
            return str(a.get("paid_date", ""))
    return ""


def notice_year(code: str) -> int:
    """Codes read TOWNSHIPCODE-YEAR-SEQ (e.g. 141025-2026-0012)."""
    try:
        return int(code.strip().split("-")[1])
    except (IndexError, ValueError):
        raise NotFound(f"公示编号“{code}”格式不对，应为 乡镇代码-年度-序号（如 141025-2026-0012）") from None


@dataclass
class NoticeRow:
    """One notice with what every list shows: names, state, days left, totals."""

    notice: Notice
    village: str
    program: str
    state: str
    days_left: int | None
    households: int
    amount_fen: int
    #: Objections recorded against the notice (any version) and not yet resolved.
    open_objections: int = 0

    @property
    def state_label(self) -> str:
        return NOTICE_STATES.get(self.state, self.state)

    @property
    def kind_label(self) -> str:
        return NOTICE_KINDS.get(self.notice.kind, self.notice.kind)


class NoticeService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store

    # ------------------------------------------------------------------ reading
    def _docs(self, year: int) -> dict[str, dict[str, Any]]:
        return self.store.table(notices_file(year), NOTICES)

    def _find(self, code: str, version: int | None = None) -> tuple[int, Notice]:
        year = notice_year(code)
        best: tuple[int, Notice] | None = None
        for key, doc in self._docs(year).items():
            if doc.get("code") != code.strip():
                continue
            if version is not None and doc.get("version") != version:
                continue
            if best is None or doc["version"] > best[1].version:
                best = (int(key), Notice.from_dict(doc))
        if best is None:
            what = f"{code}（第{version}版）" if version else code
            raise NotFound(f"没有编号为{what}的公示")
        return best

    def get(self, code: str, version: int | None = None) -> Notice:
        return self._find(code, version)[1]

    def versions(self, code: str) -> list[Notice]:
        year = notice_year(code)
        out = [Notice.from_dict(d) for d in self._docs(year).values() if d.get("code") == code]
        return sorted(out, key=lambda n: n.version)

    def all(self, year: int | None = None, state: str | None = None) -> list[Notice]:
        years = [year] if year else self.store.years()
        out = []
        for y in years:
            for doc in self._docs(y).values():
                n = Notice.from_dict(doc)
                if state is None or self.state_of(n) == state:
                    out.append(n)
        return sorted(out, key=lambda n: (n.year, n.code, n.version))

    def state_of(self, n: Notice) -> str:
        if n.state == "posted" and n.end is not None and n.end < self.svc.today():
            return "ended"
        return n.state

    def days_left(self, n: Notice) -> int | None:
        if self.state_of(n) != "posted" or n.end is None:
            return None
        return (n.end - self.svc.today()).days + 1

    def rows(self, year: int | None = None, state: str | None = None) -> list[NoticeRow]:
        villages = {v.id: v.name for v in self.svc.registry.villages(include_void=True)}
        open_objections = self.open_objection_counts(year)
        out = []
        for n in self.all(year, state):
            snap = self.snapshot(n) if n.state != "draft" else {}
            totals = snap.get("totals", {})
            prog = ""
            if n.program_code:
                try:
                    prog = self.svc.programs.get(n.year, n.program_code).name
                except NotFound:
                    prog = n.program_code
            out.append(
                NoticeRow(
                    notice=n,
                    village=villages.get(n.village_id, "?"),
                    program=prog or "全部项目",
                    state=self.state_of(n),
                    days_left=self.days_left(n),
                    households=totals.get("households", 0),
                    amount_fen=totals.get("amount_fen", 0),
                    open_objections=open_objections.get(n.code, 0),
                )
            )
        return out

    def open_objection_counts(self, year: int | None = None) -> dict[str, int]:
        """Notice code -> objections not yet resolved (only codes that have some)."""
        counts: dict[str, int] = {}
        for o in self.objections(year=year, state="open"):
            counts[o.notice_code] = counts.get(o.notice_code, 0) + 1
        return counts

    def objection_days(self, n: Notice) -> int:
        """Days, today included, objections to ``n`` may still be recorded: its posting
        period from the day it went up (0 when not on the board, or not up yet)."""
        days = self.days_left(n)
        if days is None or (n.start is not None and self.svc.today() < n.start):
            return 0
        return max(0, days)

    def snapshot(self, n: Notice) -> dict[str, Any]:
        """The frozen rows of a posted or archived version; a live build for a draft."""
        if n.state == "draft":
            return self.build_snapshot(n.kind, n.year, n.village_id, n.program_code, n.snapshot.get("base_kind", ""))
        doc = self.store.table(snapshot_file(n.year, n.code, n.version), SNAPSHOT).get("1")
        if doc is None:
            raise VBError(f"公示{n.code}第{n.version}版的存档内容不见了，请运行 villageboard check")
        data: dict[str, Any] = doc["data"]
        return data

    # ------------------------------------------------------------------ building
    def _eligible(self, kind: str, app: Application) -> bool:
        if app.void:
            return False
        if kind == "application":
            return app.status != "rejected"
        return app.payout_status in ("paid", "failed")

    def build_snapshot(
        self,
        kind: str,
        year: int,
        village_id: int,
        program_code: str = "",
        base_kind: str = "",
        overrides: dict[str, Application] | None = None,
    ) -> dict[str, Any]:
        """Everything the poster shows, as plain data. Only masked identifiers enter.
        ``overrides`` are rows about to be saved (a correction builds from them)."""
        overrides = overrides or {}
        reg = self.svc.registry
        village = reg.village(village_id)
        t = self.svc.township
        row_kind = base_kind or kind
        groups = {g.id: g.name for g in reg.groups(village_id)}
        programs = {p.code: p for p in self.svc.programs.list(year)}
        codes = [program_code] if program_code else sorted(programs)
        rows: list[dict[str, Any]] = []
        exceptions: dict[str, int] = defaultdict(int)  # reason → rows sent before their 申报公示 cleared
        for code in codes:
            listed = [overrides.get(a.id, a) for a in self.svc.applications.list(year, code, village_id)]
            apps = [a for a in listed if self._eligible(row_kind, a)]
            if row_kind == "summary":
                apps = [a for a in apps if a.payout_status == "paid"]
            p = programs.get(code)
            for a in sorted(apps, key=lambda a: (a.group_id, a.id)):
                h = reg.household(a.household_id)
                if row_kind == "application":
                    status = APP_STATUS[a.status]
                else:
                    status = PUBLIC_STATUS.get(a.payout_status, "")
                rows.append(
                    {
                        "app": a.id,
                        "household_id": h.id,
                        "name": h.name,
                        "id_masked": mask_id(h.id_number),
                        "group": groups.get(a.group_id, ""),
                        "program": code,
                        "program_name": p.name if p else code,
                        "unit": p.unit if p else "",
                        "quantity": format_quantity(a.quantity),
                        "rate_fen": plain_rate(a.rate_fen),
                        "amount_fen": a.amount_fen,
                        "status": status,
                        "remark": a.remark,
                        **({"card_tail": _card_tail(a, h)} if t.card_tail_column and row_kind != "summary" else {}),
                        **({"paid_date": _paid_date(a)} if row_kind != "application" else {}),
                    }
                )
                if a.certified_area is not None:  # the land of an area program, when kept
                    rows[-1].update(
                        certified=format_quantity(a.certified_area),
                        deducted=format_quantity(a.deducted_area or 0),
                        deduction_reason=a.deduction_reason,
                    )
                if row_kind == "result":
                    for why in {w for att in a.attempts if (w := att.get("without_notice"))}:
                        exceptions[why] += 1
        # Applications not passed are shown to villagers apart from the list, with the
        # reason, and never counted into the notice's totals.
        rejected: list[dict[str, Any]] = []
        if row_kind == "application":
            for code in codes:
                p = programs.get(code)
                for a in self.svc.applications.list(year, code, village_id):
                    a = overrides.get(a.id, a)
                    if a.void or a.status != "rejected":
                        continue
                    h = reg.household(a.household_id)
                    rejected.append(
                        {
                            "app": a.id,
                            "household_id": h.id,
                            "name": h.name,
                            "id_masked": mask_id(h.id_number),
                            "group": groups.get(a.group_id, ""),
                            "program": code,
                            "unit": p.unit if p else "",
                            "quantity": format_quantity(a.quantity),
                            "reason": a.reject_reason,
                            "_order": (a.group_id, a.id),
                        }
                    )
            rejected.sort(key=lambda r: r.pop("_order"))
        counted = [r for r in rows if row_kind != "result" or r["status"] == "已发放"]
        totals: dict[str, Any] = {
            "households": len({r["household_id"] for r in counted}),
            "rows": len(counted),
            "amount_fen": sum(r["amount_fen"] for r in counted),
        }
        if program_code:
            totals["quantity"] = format_quantity(sum((Decimal(r["quantity"]) for r in counted), Decimal(0)))
        subtotals = []
        if row_kind == "summary":
            by: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in rows:
                by[r["program"]].append(r)
            for code, rs in by.items():
                subtotals.append(
                    {
                        "program": code,
                        "name": programs[code].name,
                        "unit": programs[code].unit,
                        "households": len({r["household_id"] for r in rs}),
                        "quantity": format_quantity(sum((Decimal(r["quantity"]) for r in rs), Decimal(0))),
                        "amount_fen": sum(r["amount_fen"] for r in rs),
                    }
                )
        prog = programs.get(program_code) if program_code else None
        return {
            "kind": kind,
            "base_kind": base_kind,
            "year": year,
            "village": village.name,
            "village_id": village_id,
            "program": None
            if prog is None
            else {
                "code": prog.code,
                "name": prog.name,
                "unit": prog.unit,
                "rate_fen": plain_rate(prog.rate_fen),
                "basis": prog.basis,
                **({"basis_no": prog.basis_no} if prog.basis_no else {}),
                "department": prog.department,
                "hotline": prog.hotline,
                "eligibility": prog.eligibility,
            },
            "township": {
                "name": t.name,
                "county": t.county,
                "hotline": t.hotline,
                "supervision_hotline": t.supervision_hotline,
                "supervision_address": t.supervision_address,
                "issuing_units": list(t.issuing_units),
                "portal_url": t.portal_url,
                # what the township set notices to print (absent when off, as before they existed)
                **({"village_cosign": True} if t.village_cosign else {}),
                **({"card_tail_column": True} if t.card_tail_column and row_kind != "summary" else {}),
            },
            "rows": rows,
            "totals": totals,
            "subtotals": subtotals,
            "failed": sum(1 for r in rows if r["status"] == "发放失败"),
            **(
                {"without_notice": [{"reason": k, "rows": v} for k, v in sorted(exceptions.items())]}
                if exceptions
                else {}
            ),
            **({"rejected": rejected} if rejected else {}),
        }

    # ------------------------------------------------------------------ creating
    def create(self, kind: str, year: int, village: str | int, program_code: str = "") -> Notice:
        if kind not in ("application", "result", "summary"):
            raise VBError(
                "公示类别只能是：application（申报公示）、result（发放结果公示）、summary（年度汇总公示）；更正公示由受理异议时生成"
            )
        v = (
            self.svc.registry.village(village)
            if isinstance(village, int)
            else self.svc.registry.require_village(village)
        )
        program_code = (program_code or "").upper()
        if kind in KINDS_WITH_PROGRAM:
            if not program_code:
                raise VBError(f"{NOTICE_KINDS[kind]}需要指定补贴项目（--program）")
            self.svc.programs.require_guide(self.svc.programs.get(year, program_code))
        elif program_code:
            raise VBError("年度汇总公示包括全年所有项目，不用指定项目")
        for other in self.all(year):
            if (
                other.kind == kind
                and other.village_id == v.id
                and other.program_code == program_code
                and self.state_of(other) in ("draft", "posted")
            ):
                raise VBError(
                    f"{v.name}已有一份{NOTICE_KINDS[kind]}（{other.code}，{NOTICE_STATES[self.state_of(other)]}），"
                    "请先处理那一份"
                )
        snap = self.build_snapshot(kind, year, v.id, program_code)
        if not snap["rows"]:
            what = {"application": "申报记录", "result": "发放记录", "summary": "已发放的记录"}[kind]
            raise VBError(f"{v.name}{year}年没有可公示的{what}")
        t = self.svc.township
        with self.store.begin(f"公示.新建{NOTICE_KINDS[kind]}") as tx:
            seq = tx.next_number(f"notice:{year}")
            n = Notice(
                code=f"{t.code}-{year}-{seq:04d}",
                version=1,
                kind=kind,
                year=year,
                village_id=v.id,
                program_code=program_code,
                state="draft",
                created=self.svc.now().isoformat(),
            )
            self._put(tx, n)
        return n

    def _put(self, tx: Tx, n: Notice, key: int | None = None) -> int:
        doc = n.to_dict()
        doc["_what"] = f"公示{n.code}第{n.version}版"
        if n.state == "archived":
            doc["_readonly"] = True
        if key is None:
            return tx.insert(notices_file(n.year), NOTICES, f"notice_doc:{n.year}", doc, key_field=None)
        tx.put(notices_file(n.year), NOTICES, key, doc)
        return key

    # ------------------------------------------------------------------ posting
    def post(self, code: str, start: dt.date | None = None, days: int | None = None) -> Notice:
        key, n = self._find(code)
        if n.state != "draft":
            raise VBError(f"公示{code}现在是“{NOTICE_STATES[self.state_of(n)]}”，只有草稿可以张贴")
        if days is None:
            days = DEFAULT_DAYS
            if n.program_code:
                days = self.svc.programs.get(n.year, n.program_code).posting_days
        if not 1 <= days <= 90:
            raise VBError("公示天数应在1到90天之间（一般不少于7天）")
        today = self.svc.today()
        start = start or today
        if start > today + dt.timedelta(days=30):  # checked first: 9999-12-31 has no end date
            raise VBError(f"开始日期{start}太晚（最多提前30天登记）")
        end = period_end(start, days)
        if end < today:
            raise VBError(f"公示期{start}至{end}已经过去，请填写实际张贴的日期")
        base_kind = n.snapshot.get("base_kind", "")
        snap = self.build_snapshot(n.kind, n.year, n.village_id, n.program_code, base_kind)
        if n.kind == "correction":
            snap["changes"] = n.changes
            snap["supersedes"] = n.supersedes
        if not snap["rows"]:
            raise VBError("没有可公示的记录")
        n.state, n.start, n.end = "posted", start, end
        n.posted_at = self.svc.now().isoformat()
        from villageboard.services import wording  # jinja2 loads only when posting

        snap["wording"], page_sources = wording.capture(self.svc, n, snap)  # reprints word for word
        n.tag = make_tag(self.svc.township.tag_key, self.tag_content(n, snap))
        check_printable(self.svc, n, snap)  # every posted notice prints
        row_kind = base_kind or n.kind
        with self.store.begin(f"公示.张贴 {code}") as tx:
            wording.keep(self.svc, tx, n.year, page_sources)
            tx.put(
                snapshot_file(n.year, n.code, n.version),
                SNAPSHOT,
                1,
                {
                    "data": snap,
                    "_readonly": True,
                    "_what": f"公示{code}第{n.version}版的存档内容",
                },
            )
            self._put(tx, n, key)
            if row_kind in KINDS_WITH_PROGRAM:
                for r in snap["rows"]:
                    app = self.svc.applications.get(r["app"])
                    if code not in app.frozen_by:
                        app.frozen_by = [*app.frozen_by, code]
                        self.svc.applications.save(app, "", tx)
        return n

    @staticmethod
    def tag_content(n: Notice, snap: dict[str, Any]) -> dict[str, Any]:
        return {
            "code": n.code,
            "version": n.version,
            "kind": n.kind,
            "year": n.year,
            "village_id": n.village_id,
            "program_code": n.program_code,
            "start": n.start.isoformat() if n.start else "",
            "end": n.end.isoformat() if n.end else "",
            "snapshot": snap,
        }

    # ------------------------------------------------------------------ archiving
    def archive_due(self) -> str:
        """Archive every posted notice whose period has ended. Run at every start."""
        today = self.svc.today()
        due = []
        for year in {today.year - 1, today.year}:
            for key, doc in self._docs(year).items():
                if doc.get("state") == "posted" and doc.get("end") and dt.date.fromisoformat(doc["end"]) < today:
                    due.append((int(key), Notice.from_dict(doc)))
        if not due:
            return ""
        with self.store.begin("公示.期满存档") as tx:
            for number, n in due:
                n.state, n.archived_at = "archived", self.svc.now().isoformat()
                self._put(tx, n, number)
        return f"{len(due)}份公示期满，已自动存档。"

    def _archive_now(self, tx: Tx, key: int, n: Notice) -> None:
        n.state, n.archived_at = "archived", self.svc.now().isoformat()
        self._put(tx, n, key)

    # ------------------------------------------------------------------ photo
    def attach_photo(self, code: str, path: Path) -> Notice:
        key, n = self._find(code)
        # a photo taken on the board may be brought in after the period, but never replaces one
        if self.state_of(n) == "draft" or (self.state_of(n) != "posted" and n.photo):
            raise VBError(
                f"只能给正在公示的公示添加张贴照片，公示期满的只能补登一次（{code}现在是“{NOTICE_STATES[self.state_of(n)]}”）"
            )
        path = Path(path)
        if not path.is_file():
            raise VBError(f"找不到照片文件：{path}")
        data = path.read_bytes()
        if not data:
            raise VBError(f"照片文件是空的：{path}")
        rel, digest = self.store.put_attachment(data, path.suffix or ".jpg")
        n.photo = {"file": rel, "sha256": digest, "name": path.name, "attached": self.svc.now().isoformat()}
        with self.store.begin(f"公示.张贴照片 {code}") as tx:
            self._put(tx, n, key)
        return n

    # ------------------------------------------------------------------ objections
    def add_objection(
        self,
        code: str,
        text: str,
        household_id: int | None = None,
        call_id: int | None = None,
        mask_private: bool = False,
    ) -> Objection:
        n = self.get(code)
        state = self.state_of(n)
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
        key, n = self._find(o.notice_code)
        if correct:
            if self.state_of(n) not in ("posted", "ended") or n.version != o.notice_version:
                raise VBError(f"公示{n.code}已不是异议针对的那一版，不能再更正")
            correction = self._make_correction(key, n, edits or [])
        o.state, o.resolution, o.resolved = "resolved", text.strip(), self.svc.now().isoformat()
        if correction is not None:
            o.correction = f"{correction.code}/v{correction.version}"
        with self.store.begin(f"异议.处理 {o.notice_code}") as tx:
            tx.put(objections_file(year), OBJECTIONS, o.id, o.to_dict())
        return o, correction

    EDITABLE = {
        "quantity": "数量",
        "certified_area": "确权面积",
        "deducted_area": "扣除面积",
        "deduction_reason": "扣除原因",
        "remark": "备注",
    }

    def _make_correction(self, key: int, old: Notice, edits: list[tuple[str, str, str]]) -> Notice:
        old_snap = self.snapshot(old)
        base_kind = old_snap.get("base_kind") or old.kind
        shown = {r["app"] for r in old_snap["rows"]}
        apps_changed: list[Application] = []
        for number, field, value in edits:
            if number not in shown:
                raise VBError(f"申报{number}不在公示{old.code}上，不能在这里更正")
            if field not in self.EDITABLE:
                raise VBError(f"只能更正：{'、'.join(self.EDITABLE.values())}（姓名等请在农户名册中修改）")
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
        new_snap = self.build_snapshot(
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
            self._archive_now(tx, key, old)
            self._put(tx, new)
        return new

    # ------------------------------------------------------------------ verifying
    def verify(self, code: str, tag: str) -> dict[str, Any] | None:
        """The archived summary when ``tag`` is genuine for some version of ``code``."""
        try:
            versions = self.versions(code.strip())
        except NotFound:
            return None
        for n in versions:
            if n.tag and tags_equal(n.tag, tag):
                return self._summary(n, versions)
        return None

    def _summary(self, n: Notice, versions: list[Notice]) -> dict[str, Any] | None:
        snap = self.snapshot(n)
        if make_tag(self.svc.township.tag_key, self.tag_content(n, snap)) != n.tag:
            return None  # stored content no longer matches its tag
        t = snap["totals"]
        prog = snap.get("program") or {}
        from villageboard.services.notice_document import qr_words

        place, subject = qr_words(n, snap)
        t_snap = snap["township"]
        return {
            "code": n.code,
            "version": n.version,
            "kind": NOTICE_KINDS.get(n.kind, n.kind),
            "village": snap["village"],
            "program": prog.get("name", "全部项目"),
            "year": n.year,
            "households": t["households"],
            "amount_fen": t["amount_fen"],
            "start": n.start.isoformat() if n.start else "",
            "end": n.end.isoformat() if n.end else "",
            "state": NOTICE_STATES[self.state_of(n)],
            "latest": n.version == versions[-1].version,
            "place": place,
            "subject": subject,
            "phones": {
                p.replace(" ", "")
                for p in (t_snap.get("supervision_hotline"), prog.get("hotline"), t_snap.get("hotline"))
                if p
            },
        }

    def verify_text(self, text: str) -> tuple[dict[str, Any] | None, list[str]]:
        """Verify what a phone scanned from a poster's QR (the sentence, the short
        ``VB1/…`` form or the portal address): the archived summary of the notice whose
        tag it carries, and every field of the text that disagrees with the archive (in
        Chinese, one line each). (None, []) when no notice has that tag. Raises VBError
        when the text is no payload of this system."""
        from villageboard.render.qr import read_payload

        claim = read_payload(text)
        found = self._by_tag(claim.tag, claim.code, claim.year)
        if found is None:
            return None, []
        from villageboard.domain.money import format_fen

        problems = []
        if claim.version is not None and claim.version != found["version"]:
            problems.append(f"版本不符：二维码写的是第{claim.version}版，这个核验码属于第{found['version']}版")
        if claim.year is not None and claim.year != found["year"]:
            problems.append(f"年度不符：二维码写的是{claim.year}年，存档是{found['year']}年")
        if claim.place is not None and claim.place != found["place"]:
            problems.append(f"村名不符：二维码写的是“{claim.place}”，存档是“{found['place']}”")
        if claim.subject is not None and _no_year(claim.subject) != _no_year(found["subject"]):
            problems.append(f"公示名称不符：二维码写的是“{claim.subject}”，存档是“{found['subject']}”")
        if claim.households is not None and claim.households != found["households"]:
            problems.append(f"户数不符：二维码写的是{claim.households}户，存档是{found['households']}户")
        if claim.amount_fen is not None and claim.amount_fen != found["amount_fen"]:
            problems.append(
                f"合计金额不符：二维码写的是{format_fen(claim.amount_fen)}元，存档是{format_fen(found['amount_fen'])}元"
            )
        if claim.phone is not None and claim.phone not in found["phones"]:
            problems.append(
                f"核验电话不符：二维码写的是{claim.phone}，不是本公示印的咨询或监督电话"
                f"（{'、'.join(sorted(found['phones']))}），请不要拨打"
            )
        return found, problems

    def _by_tag(self, tag: str, code: str = "", year: int | None = None) -> dict[str, Any] | None:
        if code:
            return self.verify(code, tag)
        years = self.store.years()
        if year in years:  # the year the text names first; a wrong one is reported, not a miss
            years = [year, *(y for y in years if y != year)]
        for y in years:
            for doc in self._docs(y).values():
                if doc.get("tag") and tags_equal(doc["tag"], tag):
                    return self.verify(doc["code"], tag)
        return None

    def require_not_archived(self, code: str, version: int) -> None:
        n = self.get(code, version)
        if n.state == "archived":
            raise ArchivedError(f"公示{code}第{version}版")


ROW_FIELDS = {
    "name": "户主姓名",
    "group": "组",
    "id_masked": "身份证号",
    "certified": "确权面积",
    "deducted": "扣除面积",
    "deduction_reason": "扣除原因",
    "quantity": "数量",
    "amount_fen": "金额（分）",
    "status": "状态",
    "remark": "备注",
}


def diff_rows(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every change between two row lists: row (name and application), field, old, new.
    The old value is masked: a correction of a remark that held a number must print."""
    from villageboard.domain.money import format_fen

    def show(field: str, value: Any) -> str:
        return format_fen(value) + "元" if field == "amount_fen" else str(value)

    old_by = {(r["app"], r["program"]): r for r in old}
    new_by = {(r["app"], r["program"]): r for r in new}
    out = []
    for k, r in old_by.items():
        if k not in new_by:
            out.append(
                {
                    "app": r["app"],
                    "name": mask_numbers(r["name"]),
                    "field": "整行",
                    "old": "列入公示",
                    "new": "移出公示",
                }
            )
            continue
        for field, label in ROW_FIELDS.items():
            if r.get(field) != new_by[k].get(field):
                out.append(
                    {
                        "app": r["app"],
                        "name": new_by[k]["name"],
                        "field": label.removesuffix("（分）"),
                        "old": mask_numbers(show(field, r.get(field))),
                        "new": show(field, new_by[k].get(field)),
                    }
                )
    for k, r in new_by.items():
        if k not in old_by:
            out.append({"app": r["app"], "name": r["name"], "field": "整行", "old": "未列入", "new": "列入公示"})
    return out
