"""Small read helpers the terminal app needs on top of the workflow services.

Nothing here decides business rules: every save still goes through the services
(registry, programs, applications, notices, transfer, calls). These functions only
gather what a screen shows in one call (the home screen's to-do list, a notice's
poster preview, which notices a batch prints) and wrap the render layer so a notice
becomes files in one step. No Textual here; the CLI may use them too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from villageboard.domain.errors import NotFound, VBError
from villageboard.domain.models import NOTICE_KINDS, Household, Notice
from villageboard.domain.validate import Check, check_date, squash
from villageboard.services.jobs import Cancel, Cancelled, Progress

if TYPE_CHECKING:
    from villageboard.render.document import NoticeDocument
    from villageboard.services.context import Services
    from villageboard.services.notices import NoticeRow

# --------------------------------------------------------------------------- dates


def parse_date(text: str) -> dt.date | None:
    """A date as a clerk types it: 1965-03-12, 1965/3/12, 1965.3.12, 1965年3月12日
    or 19650312. None when it is not a date (or far outside the working range)."""
    c = _date_check(text)
    return cast(dt.date, c.value) if c.ok else None


def date_problem(text: str, example: str = "2026-11-28") -> str:
    """ "" for a date :func:`parse_date` reads, else why not (for a form's red line)."""
    c = _date_check(text)
    if c.ok:
        return ""
    return c.errors[0] if "范围" in c.errors[0] else f"日期写法不对，如 {example}"


def _date_check(text: str) -> Check:
    t = squash(text)
    if re.fullmatch(r"\d{8}", t):
        t = f"{t[:4]}-{t[4:6]}-{t[6:]}"
    return check_date(t) if t else check_date("-")


# --------------------------------------------------------------------------- registry


def place_names(svc: Services, h: Household) -> tuple[str, str]:
    """(village, group) names of a household, "?" for a village not found."""
    return svc.registry.place_names(h, unknown="?")


def search_households(
    svc: Services,
    query: str,
    village_id: int | None = None,
    limit: int = 300,
) -> tuple[list[Household], int]:
    """Households for the registry screen: the phone desk's index for a query (name in
    汉字 or pinyin, ID or phone tail), else the village's households in order. Returns
    (shown, total found)."""
    reg = svc.registry
    q = query.strip()
    if not q:
        hs = reg.households(village_id)
        return hs[:limit], len(hs)
    svc.phone.ensure_ready()
    out = []
    for hit in svc.phone.index.search(q, limit=max(limit, 50)):
        try:
            h = reg.household(hit.household_id)
        except NotFound:
            continue
        if h.void or (village_id is not None and h.village_id != village_id):
            continue
        out.append(h)
    return out[:limit], len(out)


def pick_households(svc: Services, query: str, village_id: int | None = None, limit: int = 5) -> list[Household]:
    """Best matches for the application form's household box (village first)."""
    q = query.strip()
    if not q:
        return []
    svc.phone.ensure_ready()
    reg = svc.registry
    inside: list[Household] = []
    outside: list[Household] = []
    for hit in svc.phone.index.search(q, limit=40):
        try:
            h = reg.household(hit.household_id)
        except NotFound:
            continue
        if h.void:
            continue
        (inside if village_id is None or h.village_id == village_id else outside).append(h)
    return (inside or outside)[:limit]


# --------------------------------------------------------------------------- home


@dataclass
class DueItem:
    """One line of the home screen's to-do list; ``target`` names the screen that
    deals with it."""

    text: str
    target: str
    urgent: bool = False


@dataclass
class HomeExtras:
    due: list[DueItem] = field(default_factory=list)
    open_flags: dict[str, int] = field(default_factory=dict)
    #: Notice code -> objections not yet resolved.
    open_objections: dict[str, int] = field(default_factory=dict)
    #: True when the risk flags were left to be counted later (see home_extras).
    flags_pending: bool = False


def home_extras(
    svc: Services,
    year: int | None = None,
    failed: int | None = None,
    flags: bool = True,
) -> HomeExtras:
    """What the home screen lists as due beyond dashboard.home_summary: notices whose
    period ended (to archive), drafts not yet posted, open objections, failed payouts,
    open risk flags and the year-end summary deadline. With ``flags=False`` the risk
    flags are only taken when already counted since the last change (counting them
    afresh takes a second at a large township); else ``flags_pending`` is set."""
    today = svc.today()
    year = year or today.year
    out = HomeExtras()
    ns = svc.notices
    ended = drafts = 0
    for n in ns.all(year):
        state = ns.state_of(n)
        if state == "ended":
            ended += 1
        elif state == "draft" and not n.void:
            drafts += 1
    if ended:
        out.due.append(DueItem(f"{ended}份公示期满，待存档（回车立即存档）", "archive_due", urgent=True))
    if drafts:
        out.due.append(DueItem(f"{drafts}份公示草稿还没有张贴", "notices"))
    out.open_objections = ns.open_objection_counts(year)
    if out.open_objections:
        total = sum(out.open_objections.values())
        first = min(out.open_objections)
        which = "、".join(notice_place(svc, code) for code in sorted(out.open_objections)[:3])
        more = "等" if len(out.open_objections) > 3 else ""
        out.due.append(DueItem(f"{total}条异议未处理：{which}{more}", f"objection:{first}", urgent=True))
    if failed is None:  # the home screen passes the count home_summary already made
        from villageboard.services.dashboard import year_counts

        failed = year_counts(svc, year)["failed"]
    if failed:
        out.due.append(DueItem(f"{failed}笔发放失败，待更正账号后重新发放", "payouts", urgent=True))
    try:
        counts = svc.flags.counts(year) if flags else svc.flags.counts_if_known(year)
    except Exception:  # the flag service is optional for the home screen
        counts = {}
    if counts is None:
        out.flags_pending = True
        out.due.append(DueItem("风险提示正在统计…", "applications"))
        counts = {}
    out.open_flags = {k: v for k, v in counts.items() if v}
    if out.open_flags:
        from villageboard.services.flags import FLAG_KINDS

        parts = "、".join(f"{FLAG_KINDS[k][0]}{v}条" for k, v in out.open_flags.items())
        out.due.append(DueItem(f"风险提示未核实：{parts}", "applications"))
    deadline = dt.date(year, 12, 31)
    if today <= deadline:
        summaries = [n for n in ns.all(year) if n.kind == "summary" or n.snapshot.get("base_kind") == "summary"]
        posted = {n.village_id for n in summaries if ns.state_of(n) in ("posted", "ended", "archived")}
        left = len([v for v in svc.registry.villages() if v.id not in posted])
        if left:
            days = (deadline - today).days + 1  # counting today, as every countdown does
            out.due.append(
                DueItem(
                    f"年度汇总公示须在{deadline.month}月{deadline.day}日前张贴，还有{left}个村未张贴（剩{days}天）",
                    "notices",
                    urgent=days <= 14,
                )
            )
    return out


# --------------------------------------------------------------------------- notices


def notice_place(svc: Services, code: str) -> str:
    """A notice named by its village and number: 东沟村（141025-2026-0025）."""
    try:
        n = svc.notices.get(code)
        village = svc.registry.village(n.village_id).name
    except (NotFound, VBError):
        return code
    return f"{village}（{code}）"


def notice_label(svc: Services, n: Notice) -> str:
    """One line naming a notice: 东沟村 耕地地力保护补贴 发放结果公示."""
    try:
        village = svc.registry.village(n.village_id).name
    except NotFound:
        village = "?"
    program = "全部项目"
    if n.program_code:
        try:
            program = svc.programs.get(n.year, n.program_code).name
        except NotFound:
            program = n.program_code
    return f"{village} {program} {NOTICE_KINDS.get(n.kind, n.kind)}"


def notice_document(svc: Services, n: Notice, archive_copy: bool = False, large: bool = False) -> NoticeDocument:
    """The poster exactly as it will print. A draft has no tag yet (it is made when the
    notice is posted), so its preview carries a placeholder in the QR payload."""
    from villageboard.services.wording import poster_document

    snap = svc.notices.snapshot(n)
    shown = n if n.tag else Notice.from_dict({**n.to_dict(), "tag": "DRAFT"})
    return poster_document(svc, shown, snap, archive_copy=archive_copy, large=large)


def render_notice(
    svc: Services,
    n: Notice,
    out_dir: Path,
    formats: Sequence[str] = ("pdf",),
    paper: str = "a4",
    large: bool = False,
    archive_copy: bool = False,
) -> list[Path]:
    """Write a posted (or archived) notice's poster files. Drafts are refused: a poster
    is printed from the frozen content, with its verification tag."""
    from villageboard.services.posters import render_notice as render

    return render(svc, n.code, Path(out_dir), formats, paper, large, n.version, archive_copy)


def current_notices(svc: Services, kind: str, year: int, program: str = "") -> tuple[list[Notice], list[str]]:
    """For a batch of posters: the latest version of each village's notice of this kind
    and program that is on the board. Villages without one are listed, not printed."""
    ns = svc.notices
    program = (program or "").upper()
    latest: dict[int, Notice] = {}
    for n in ns.all(year):
        if n.void or n.program_code != program:
            continue
        if (n.snapshot.get("base_kind") or n.kind) != kind:
            continue
        cur = latest.get(n.village_id)
        if cur is None or (n.code, n.version) > (cur.code, cur.version):
            latest[n.village_id] = n
    ready, skipped = [], []
    for v in svc.registry.villages():
        found = latest.get(v.id)
        if found is None:
            skipped.append(f"{v.name}：还没有{NOTICE_KINDS[kind]}")
        elif ns.state_of(found) != "posted":
            state = {"draft": "还是草稿，未张贴", "ended": "公示期已满", "archived": "已存档"}.get(
                ns.state_of(found), ""
            )
            skipped.append(f"{v.name}：{found.code} {state}")
        else:
            ready.append(found)
    return ready, skipped


def render_many(
    svc: Services,
    notices: Sequence[Notice],
    out_dir: Path,
    formats: Sequence[str] = ("pdf",),
    paper: str = "a4",
    large: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[Path]:
    """Render several notices on both cores (services.posters), reporting progress and
    stopping when cancelled; nothing half-written is left behind."""
    from villageboard.services import posters

    def tick(done: int, total: int) -> None:
        if progress is not None:
            label = notice_label(svc, notices[done - 1]) if 0 < done <= total else ("完成" if done else "")
            progress(done, total, "完成" if done == total else label)

    try:
        return posters.render_notices(svc, notices, Path(out_dir), formats, paper, large, tick, cancel)
    except Cancelled:
        raise Cancelled("已取消，没有生成公示文件。") from None


def create_for_villages(svc: Services, kind: str, year: int, program: str = "") -> tuple[list[Notice], list[str]]:
    """Make a draft for every village that has rows and no open notice of this kind."""
    made, skipped = [], []
    for v in svc.registry.villages():
        try:
            made.append(svc.notices.create(kind, year, v.id, program))
        except VBError as exc:
            skipped.append(str(exc))
    return made, skipped


def posted_notices_for(svc: Services, household_id: int, year: int | None = None) -> list[Notice]:
    """Notices on the board now that list this household (a caller's objection can be
    recorded against them)."""
    out = []
    years = [year] if year else sorted({svc.today().year, svc.today().year - 1})
    for y in years:
        for n in svc.notices.all(y):
            if svc.notices.state_of(n) != "posted":
                continue
            rows = svc.notices.snapshot(n).get("rows", [])
            if any(r.get("household_id") == household_id for r in rows):
                out.append(n)
    return out


def archived_rows(
    svc: Services,
    year: int | None = None,
    village_id: int | None = None,
    program: str | None = None,
    text: str = "",
) -> list[NoticeRow]:
    """Archived notices, filtered; ``text`` matches the code, village, program, kind
    or a household name on the notice."""
    rows = svc.notices.rows(year, "archived")
    t = text.strip()
    out = []
    for r in rows:
        n = r.notice
        if village_id is not None and n.village_id != village_id:
            continue
        if program and n.program_code != program:
            continue
        if t:
            hay = f"{n.code} {r.village} {r.program} {r.kind_label}"
            if t not in hay:
                names = {row.get("name", "") for row in svc.notices.snapshot(n).get("rows", [])}
                if not any(t in name for name in names):
                    continue
        out.append(r)
    return out


# --------------------------------------------------------------------------- backups


def backups(svc: Services) -> list[Path]:
    return svc.backups.list()


def backup_label(path: Path) -> str:
    """villageboard-20261128-093000-123456.zip -> 2026-11-28 09:30."""
    m = re.search(r"(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})", path.name)
    if not m:
        return path.name
    y, mo, d, h, mi = m.groups()
    return f"{y}-{mo}-{d} {h}:{mi}"
