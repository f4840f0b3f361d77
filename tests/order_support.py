"""Test support for the order of work: put each village's 申报公示 up on an earlier day
(with its posting photo), so that by the tests' TODAY its period has run."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from villageboard.services import Services

EARLIER = dt.date(2026, 11, 1)  # 7 days: last day 11-07, long before TODAY (11-28)


def post_application_notices(svc: Services, program: str, year: int = 2026, day: dt.date = EARLIER) -> list[str]:
    """Post and photograph the application notice of ``program`` in every village
    that has rows of it, on ``day``. Returns the notice codes."""
    s = Services(svc.store, today=day, operator="测试")
    codes = []
    with tempfile.TemporaryDirectory() as tmp:
        for v in s.registry.villages():
            if not s.applications.list(year, program, v.id):
                continue
            n = s.notices.create("application", year, v.id, program)
            s.notices.post(n.code, start=day, days=7)
            photo = Path(tmp) / f"{n.code}.jpg"
            photo.write_bytes(b"\xff\xd8 board photo " + n.code.encode() + b"\xff\xd9")
            s.notices.attach_photo(n.code, photo)
            codes.append(n.code)
    return codes


def review(svc: Services, program: str, year: int = 2026, note: str = "经村组核实属实") -> list[str]:
    """Review after the 申报公示 ran, as the township does: every row not yet decided goes
    村审核 → 乡镇审核 → 通过 (one with a risk flag approved with a note). Returns the
    numbers approved."""
    from villageboard.domain.models import APP_FLOW

    done = []
    for a in svc.applications.list(year, program):
        if a.void or a.status not in APP_FLOW[:-1]:
            continue
        for step in APP_FLOW[APP_FLOW.index(a.status) + 1 :]:
            svc.applications.set_status(a.id, step, note=note)
        done.append(a.id)
    return done
