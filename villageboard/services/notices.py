"""Notices (公示): the public entry point. Reading and listing notices, and their
lifecycle: create, post (freeze + tag), archive, posting photos. Objections and
corrections live in notice_objections, verification in notice_verify, and what a
notice shows (its rows and totals) in notice_rows.

States: draft → posted (start, end = start + N − 1: N calendar days counted inclusively) → ended → archived.
Posting freezes the rows as a write-once snapshot and fixes the tag. A posted notice
whose end date has passed is "ended" and is archived the next time any command or the
app starts. Archived versions are marked read-only in the store itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import ArchivedError, NotFound, VBError
from villageboard.domain.models import NOTICE_KINDS, NOTICE_STATES, Application, Notice, Objection
from villageboard.services import notice_rows
from villageboard.services.notice_objections import NoticeObjections
from villageboard.services.notice_rows import notice_year
from villageboard.services.notice_verify import NoticeVerifier
from villageboard.services.paths import notices_file, snapshot_file
from villageboard.services.publish_check import check_printable
from villageboard.services.tags import make_tag

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.store import Tx

NOTICES, SNAPSHOT = "notices", "snapshot"
KINDS_WITH_PROGRAM = ("application", "result")
DEFAULT_DAYS = 7


def period_end(start: dt.date, days: int) -> dt.date:
    """The last day of a posting period of ``days`` days, counted inclusively: 7 days
    from 06-01 end on 06-07."""
    return start + dt.timedelta(days=days - 1)


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
        self.objection_desk = NoticeObjections(self)
        self.verifier = NoticeVerifier(self)

    # ------------------------------------------------------------------ reading
    def docs(self, year: int) -> dict[str, dict[str, Any]]:
        return self.store.table(notices_file(year), NOTICES)

    def find(self, code: str, version: int | None = None) -> tuple[int, Notice]:
        year = notice_year(code)
        best: tuple[int, Notice] | None = None
        for key, doc in self.docs(year).items():
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
        return self.find(code, version)[1]

    def versions(self, code: str) -> list[Notice]:
        year = notice_year(code)
        out = [Notice.from_dict(d) for d in self.docs(year).values() if d.get("code") == code]
        return sorted(out, key=lambda n: n.version)

    def all(self, year: int | None = None, state: str | None = None) -> list[Notice]:
        years = [year] if year else self.store.years()
        out = []
        for y in years:
            for doc in self.docs(y).values():
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
        return self.objection_desk.open_counts(year)

    def objection_days(self, n: Notice) -> int:
        """Days, today included, objections to ``n`` may still be recorded: its posting
        period from the day it went up (0 when not on the board, or not up yet)."""
        return self.objection_desk.days(n)

    def snapshot(self, n: Notice) -> dict[str, Any]:
        """The frozen rows of a posted or archived version; a live build for a draft."""
        if n.state == "draft":
            return self.build_snapshot(n.kind, n.year, n.village_id, n.program_code, n.snapshot.get("base_kind", ""))
        doc = self.store.table(snapshot_file(n.year, n.code, n.version), SNAPSHOT).get("1")
        if doc is None:
            raise VBError(f"公示{n.code}第{n.version}版的存档内容不见了，请运行 villageboard check")
        data: dict[str, Any] = doc["data"]
        return data

    def build_snapshot(
        self,
        kind: str,
        year: int,
        village_id: int,
        program_code: str = "",
        base_kind: str = "",
        overrides: dict[str, Application] | None = None,
    ) -> dict[str, Any]:
        """Everything the poster shows, as plain data (see notice_rows.build_snapshot)."""
        return notice_rows.build_snapshot(self.svc, kind, year, village_id, program_code, base_kind, overrides)

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
            self.put(tx, n)
        return n

    def put(self, tx: Tx, n: Notice, key: int | None = None) -> int:
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
        key, n = self.find(code)
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
            self.put(tx, n, key)
            if row_kind in KINDS_WITH_PROGRAM:
                for r in snap["rows"]:
                    app = self.svc.applications.get(r["app"])
                    if code not in app.frozen_by:
                        app.frozen_by = [*app.frozen_by, code]
                        self.svc.applications.save(app, "", tx)
        return n

    @staticmethod
    def tag_content(n: Notice, snap: dict[str, Any]) -> dict[str, Any]:
        return notice_rows.tag_content(n, snap)

    # ------------------------------------------------------------------ archiving
    def archive_due(self) -> str:
        """Archive every posted notice whose period has ended. Run at every start."""
        today = self.svc.today()
        due = []
        for year in {today.year - 1, today.year}:
            for key, doc in self.docs(year).items():
                if doc.get("state") == "posted" and doc.get("end") and dt.date.fromisoformat(doc["end"]) < today:
                    due.append((int(key), Notice.from_dict(doc)))
        if not due:
            return ""
        with self.store.begin("公示.期满存档") as tx:
            for number, n in due:
                n.state, n.archived_at = "archived", self.svc.now().isoformat()
                self.put(tx, n, number)
        return f"{len(due)}份公示期满，已自动存档。"

    def archive_now(self, tx: Tx, key: int, n: Notice) -> None:
        n.state, n.archived_at = "archived", self.svc.now().isoformat()
        self.put(tx, n, key)

    # ------------------------------------------------------------------ photo
    def attach_photo(self, code: str, path: Path) -> Notice:
        key, n = self.find(code)
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
            self.put(tx, n, key)
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
        return self.objection_desk.add_objection(code, text, household_id, call_id, mask_private)

    def objections(self, year: int | None = None, code: str | None = None, state: str | None = None) -> list[Objection]:
        return self.objection_desk.objections(year, code, state)

    def objection(self, obj_id: int) -> tuple[int, Objection]:
        return self.objection_desk.objection(obj_id)

    def resolve_objection(
        self,
        obj_id: int,
        text: str,
        correct: bool = False,
        edits: list[tuple[str, str, str]] | None = None,
        mask_private: bool = False,
    ) -> tuple[Objection, Notice | None]:
        """Close an objection, with ``correct`` making a correction version of its notice
        (see NoticeObjections.resolve_objection)."""
        return self.objection_desk.resolve_objection(obj_id, text, correct, edits, mask_private)

    # ------------------------------------------------------------------ verifying
    def verify(self, code: str, tag: str) -> dict[str, Any] | None:
        """The archived summary when ``tag`` is genuine for some version of ``code``."""
        return self.verifier.verify(code, tag)

    def verify_text(self, text: str) -> tuple[dict[str, Any] | None, list[str]]:
        """The archived summary of the notice whose tag a scanned QR text carries, and
        every field of the text that disagrees (see NoticeVerifier.verify_text)."""
        return self.verifier.verify_text(text)

    def require_not_archived(self, code: str, version: int) -> None:
        n = self.get(code, version)
        if n.state == "archived":
            raise ArchivedError(f"公示{code}第{version}版")
