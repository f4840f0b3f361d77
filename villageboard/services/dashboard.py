"""What the home screen shows: the township at a glance (the to-do list is
ui_support.home_extras)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, overload

from villageboard.domain.models import NOTICE_KINDS
from villageboard.services.paths import notices_file
from villageboard.store.derived import code_stamp

if TYPE_CHECKING:
    from villageboard.services.backup import LastBackup
    from villageboard.services.context import Services


@dataclass
class PostedNotice:
    code: str
    version: int
    kind: str
    village: str
    program: str
    start: dt.date
    end: dt.date
    days_left: int


@dataclass
class HomeSummary:
    township: str
    county: str
    year: int
    villages: int
    households: int
    applications: int
    approved: int
    paid: int
    failed: int
    amount_paid_fen: int
    posted: list[PostedNotice] = field(default_factory=list)
    last_backup: str = ""  # YYYYMMDD
    backup: LastBackup | None = None  # when, where, checked, encrypted


def days_left(end: dt.date, today: dt.date) -> int:
    """Calendar days the notice still hangs, counting today (0 once it has ended)."""
    return max(0, (end - today).days + 1)


@overload
def year_counts(svc: Services, year: int, known_only: Literal[False] = False) -> dict[str, int]: ...


@overload
def year_counts(svc: Services, year: int, known_only: bool) -> dict[str, int] | None: ...


def year_counts(svc: Services, year: int, known_only: bool = False) -> dict[str, int] | None:
    """The year's live applications counted straight from the stored documents, no
    Application objects (a large township has ~50,000 rows a year). Each file's counts
    are kept between starts until that file changes. ``known_only``: None rather than
    count more than a few files afresh."""
    per_file = svc.store.derived.each(
        f"year-counts-{year}",
        svc.applications.files(year),
        lambda rel: _count_file(svc, rel),
        version=code_stamp(__file__),
        most=KNOWN_ONLY_FILES if known_only else None,
    )
    if per_file is None:
        return None
    out = dict.fromkeys(("applications", "approved", "paid", "failed", "amount_paid_fen"), 0)
    for counts in per_file.values():
        for k, v in counts.items():
            out[k] += v
    return out


def _count_file(svc: Services, rel: str) -> dict[str, int]:
    from villageboard.services.applications import APPLICATIONS

    n = approved = paid = failed = amount = 0
    for d in svc.store.scan(rel, APPLICATIONS).values():
        if d.get("void"):
            continue
        n += 1
        if d.get("status") == "approved":
            approved += 1
        ps = d.get("payout_status")
        if ps == "paid":
            paid += 1
            amount += d.get("amount_fen", 0)
        elif ps == "failed":
            failed += 1
    return {"applications": n, "approved": approved, "paid": paid, "failed": failed, "amount_paid_fen": amount}


#: How many changed application files a "known only" count still counts afresh.
KNOWN_ONLY_FILES = 20


def home_summary(svc: Services, year: int | None = None, known_only: bool = False) -> HomeSummary | None:
    """The home screen's figures. ``known_only``: None when the year's counts would
    have to be made afresh from more than a few files (the caller counts later)."""
    today = svc.today()
    year = year or today.year
    t = svc.township
    c = year_counts(svc, year, known_only=known_only)
    if c is None:
        return None
    s = HomeSummary(
        township=t.name,
        county=t.county,
        year=year,
        villages=len(svc.registry.villages()),
        households=svc.registry.count(),
        applications=c["applications"],
        approved=c["approved"],
        paid=c["paid"],
        failed=c["failed"],
        amount_paid_fen=c["amount_paid_fen"],
    )
    names = {v.id: v.name for v in svc.registry.villages(include_void=True)}
    programs = {p.code: p.name for p in svc.programs.list(year)}
    for doc in svc.store.table(notices_file(year), "notices").values():
        if doc.get("state") != "posted" or doc.get("void"):
            continue
        start, end = dt.date.fromisoformat(doc["start"]), dt.date.fromisoformat(doc["end"])
        s.posted.append(
            PostedNotice(
                code=doc["code"],
                version=doc.get("version", 1),
                kind=NOTICE_KINDS.get(doc["kind"], doc["kind"]),
                village=names.get(doc["village_id"], "?"),
                program=programs.get(doc.get("program_code", ""), "全部项目"),
                start=start,
                end=end,
                days_left=days_left(end, today),
            )
        )
    s.posted.sort(key=lambda n: (n.end, n.code))
    b = svc.backups.last()  # wherever it went (a USB stick too)
    s.last_backup = b.when[:10].replace("-", "") if b else ""
    s.backup = b
    return s
