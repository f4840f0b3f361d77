"""Each of these is defined in exactly one module, so a fix made there holds everywhere:
the Chinese date, the job callbacks and their Cancelled error, the registry file's name,
the Chinese digits, and the stat fingerprint with its racy window."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as hs

from villageboard.domain.dates import cn_date

PKG = Path(__file__).resolve().parents[1] / "villageboard"

ONE_PLACE = {
    "a Chinese date formatter": (r"\}年\{[^}]*\}月\{[^}]*\}日", "domain/dates.py"),
    "class Cancelled": (r"^class Cancelled\b", "services/jobs.py"),
    "the Progress callback": (r"^Progress\s*=", "services/jobs.py"),
    "the Cancel callback": (r"^Cancel\s*=", "services/jobs.py"),
    "REGISTRY": (r"^REGISTRY\s*=", "store/store.py"),
    "the Chinese digits": (r"\{\s*\"〇\"\s*:\s*0", "domain/places.py"),
    "RACY_NS": (r"^RACY_NS\s*=", "store/fingerprint.py"),
    "a stat fingerprint": (r"st_size\b.*st_mtime_ns\b.*st_ino\b", "store/fingerprint.py"),
}


def test_each_shared_thing_is_defined_once() -> None:
    sources = {p.relative_to(PKG).as_posix(): p.read_text("utf-8") for p in PKG.rglob("*.py")}
    for what, (pattern, home) in ONE_PLACE.items():
        found = sorted(rel for rel, text in sources.items() if re.search(pattern, text, re.M))
        assert found == [home], f"{what} is defined in {found}, expected only in {home}"


@given(hs.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_cn_date_reads_a_date_and_its_iso_text_alike(d: dt.date) -> None:
    text = cn_date(d)
    assert text == cn_date(d.isoformat()) == cn_date(f" {d.year}-{d.month}-{d.day} ")
    m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    assert m and dt.date(*map(int, m.groups())) == d


def test_cn_date_leaves_other_text_alone() -> None:
    assert cn_date(None) == "" and cn_date("") == ""
    assert cn_date("另行通知") == "另行通知"
    assert cn_date("2026-11-03T09:00") == "2026-11-03T09:00"
