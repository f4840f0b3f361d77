"""The phone desk's identity check cannot be guessed or broadcast: one selected
household at a time, three wrong birth dates a household a day (kept in the store, so
separate processes share the count), a supervisor override with a note, every failed
check journaled without the date that was tried, and counted in the call figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TODAY
from villageboard.domain.errors import VBError
from villageboard.domain.validate import birth_date_of
from villageboard.services import Services
from villageboard.services.identity import MAX_WRONG
from villageboard.store.changes import Commit

NOTE = "王主任核对户口本后同意放行"


def birth(svc: Services, hid: int) -> dt.date:
    return birth_date_of(svc.registry.household(hid).id_number)


def date_forms(d: dt.date) -> list[str]:
    """Ways a date might be written into a record or a log."""
    return [d.isoformat(), d.strftime("%Y%m%d"), f"{d.year}年{d.month}月{d.day}日", d.strftime("%Y/%m/%d")]


def wrong_dates(right: dt.date, n: int) -> list[dt.date]:
    """``n`` dates near the right one, none of them equal to it."""
    return [right + dt.timedelta(days=k) for k in range(1, n + 1)]


def svc_on(svc: Services, day: dt.date) -> Services:
    """The same open data dir seen on another day."""
    return Services(svc.store, today=day, operator=svc.operator)


def journal_text(commits: list[Commit]) -> str:
    return json.dumps([dataclasses.asdict(c) for c in commits], ensure_ascii=False)


# -- service level ---------------------------------------------------------------------


def test_ten_wrong_dates_then_the_right_one_does_not_confirm_that_day(svc: Services) -> None:
    hid = svc.registry.households()[3].id
    right = birth(svc, hid)
    outcomes = [svc.phone.check_identity(hid, d) for d in wrong_dates(right, 10)]
    assert [o.outcome for o in outcomes] == ["wrong"] * MAX_WRONG + ["locked"] * (10 - MAX_WRONG)
    assert not any(o.confirmed for o in outcomes)
    last = svc.phone.check_identity(hid, right)
    assert not last.confirmed and last.outcome == "locked"  # the answer gives nothing away
    assert "当面核实" in last.message and "明天" in last.message
    view = svc.phone.household_view(hid, last.identity)
    assert not view.confirmed and view.card_tail == "" and view.phone_tail == ""
    with pytest.raises(VBError, match="身份未核实"):
        svc.phone.answer_script(hid, last.identity)
    # another household is not locked by it
    other = svc.registry.households()[4].id
    assert svc.phone.check_identity(other, birth(svc, other)).confirmed
    # the next day the right date confirms again
    tomorrow = svc_on(svc, TODAY + dt.timedelta(days=1))
    nxt = tomorrow.phone.check_identity(hid, right)
    assert nxt.confirmed and nxt.identity is not None
    assert tomorrow.phone.household_view(hid, nxt.identity).card_tail
    # a passed check is for its own household and day only
    assert not svc.phone.household_view(hid, nxt.identity).confirmed


_days = itertools.count(1)
#: (household, day, the right date?, with an override?): two households over two days,
#: so that a household often runs out of tries.
step = st.tuples(st.integers(0, 1), st.integers(0, 1), st.booleans(), st.booleans())


steps_ = st.lists(step, max_size=16)
offsets_ = st.lists(st.integers(1, 4000), min_size=16, max_size=16)
relaxed = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=25, deadline=None, suppress_health_check=relaxed)
@given(steps=steps_, offsets=offsets_)
def test_random_checks_follow_the_daily_limit(
    svc: Services, steps: list[tuple[int, int, bool, bool]], offsets: list[int]
) -> None:
    check_sequence(svc, steps, offsets)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=relaxed)
@given(steps=steps_, offsets=offsets_)
def test_random_checks_follow_the_daily_limit_long(
    svc: Services, steps: list[tuple[int, int, bool, bool]], offsets: list[int]
) -> None:
    check_sequence(svc, steps, offsets)


def check_sequence(svc: Services, steps: list[tuple[int, int, bool, bool]], offsets: list[int]) -> None:
    """Any sequence of checks, right or wrong, with or without an override, on a few
    households over a few days: the desk confirms exactly when the model says so,
    the call figures count every failure, and no journal entry holds a tried date."""
    base = TODAY + dt.timedelta(days=40 * next(_days))  # each example has days of its own
    hids = [h.id for h in svc.registry.households()[:2]]
    entries: list[Commit] = []
    svc.store.subscribe(entries.append)
    wrong: dict[tuple[int, dt.date], int] = {}
    want = {"failed": 0, "wrong": 0, "locked": 0, "overrides": 0}
    years = {(base + dt.timedelta(days=d)).year for d in range(2)}
    before = {y: svc.calls.figures(y).checks for y in years}
    try:
        for (h, d, right, override), off in zip(steps, offsets, strict=False):
            day, hid = base + dt.timedelta(days=d), hids[h]
            # the same services on that day (the checks keep nothing in memory; a new
            # Services for each step would leave its listeners on the shared store)
            svc.set_today(day)
            desk = svc.phone
            real = birth(svc, hid)
            tried = real if right else real + dt.timedelta(days=off)
            seen = len(entries)
            result = desk.check_identity(hid, tried, NOTE if override else None)
            count = wrong.get((hid, day), 0)
            locked = count >= MAX_WRONG
            expect = right and (not locked or override)
            assert result.confirmed == expect
            assert desk.household_view(hid, result.identity).confirmed == expect
            if locked and override:
                want["overrides"] += 1
            if not right and (not locked or override):
                wrong[(hid, day)] = count + 1
                want["wrong"] += 1
            elif locked and not override:
                want["locked"] += 1
            want["failed"] += not expect
            new = journal_text(entries[seen:])
            assert len(entries) - seen == (0 if expect and not (locked and override) else 1)
            for form in date_forms(tried):
                assert form not in new
    finally:
        svc.set_today(TODAY)
        svc.store.unsubscribe(entries.append)
    after = {y: svc.calls.figures(y).checks for y in years}
    for key, n in want.items():
        assert sum(getattr(after[y], key) - getattr(before[y], key) for y in years) == n


def test_a_query_that_finds_several_households_confirms_nobody(svc: Services) -> None:
    desk = svc.phone
    hits = desk.lookup("zhang", limit=50).hits
    assert len(hits) > 1
    # the date is right for the first of them, yet nobody is confirmed
    ans = desk.lookup("zhang", birth=birth(svc, hits[0].household_id), limit=50)
    assert ans.check is not None and ans.check.outcome == "several" and not ans.check.confirmed
    assert not any(h.confirmed or h.card_tail or h.phone_tail for h in ans.hits)
    assert "一次只能核实一户" in ans.check.message
    # a limit of one does not hide the others
    one = desk.lookup("zhang", birth=birth(svc, hits[0].household_id), limit=1)
    assert len(one.hits) == 1 and not one.hits[0].confirmed
    # picking one row checks that row only
    picked = desk.lookup("zhang", birth=birth(svc, hits[1].household_id), limit=50, household=hits[1].household_id)
    assert [h.household_id for h in picked.hits] == [hits[1].household_id] and picked.hits[0].confirmed
    with pytest.raises(VBError, match="不在这次查询的结果里"):
        desk.lookup("zhang", birth=birth(svc, hits[0].household_id), household=10**6)
    f = svc.calls.figures(TODAY.year).checks
    assert f.several == 2 and f.failed == 2


def test_override_needs_a_note_confirms_once_and_is_journaled(svc: Services) -> None:
    hid = svc.registry.households()[7].id
    right = birth(svc, hid)
    for d in wrong_dates(right, MAX_WRONG):
        svc.phone.check_identity(hid, d)
    with pytest.raises(VBError, match="理由"):
        svc.phone.check_identity(hid, right, override_note="  \t ")
    entries: list[Commit] = []
    svc.store.subscribe(entries.append)
    # a note that carries the date and an ID keeps neither
    h = svc.registry.household(hid)
    note = f"{NOTE}（生日{right.isoformat()}，证号{h.id_number}）"
    res = svc.phone.check_identity(hid, right, override_note=note)
    assert res.confirmed and res.identity is not None and res.identity.override
    assert "主管放行" in res.message
    [entry] = entries
    assert entry.action == "身份核实.主管放行" and entry.operator == "测试"
    [change] = entry.changes
    doc = change.after
    assert doc["household_id"] == hid and doc["override"] is True and doc["result"] == "confirmed"
    assert doc["operator"] == "测试" and doc["time"].startswith(TODAY.isoformat())
    assert NOTE in doc["note"]
    text = journal_text([entry])
    for secret in [*date_forms(right), h.id_number, h.id_number[6:14]]:
        assert secret not in text
    # the override was for that one check: the household stays locked today
    assert svc.phone.check_identity(hid, right).outcome == "locked"
    f = svc.calls.figures(TODAY.year).checks
    assert (f.wrong, f.locked, f.overrides, f.failed) == (MAX_WRONG, 1, 1, MAX_WRONG + 1)


def test_a_read_only_desk_does_not_check_at_all(demo_dir: Path) -> None:
    """A check that could not be recorded would be a free guess."""
    with Services.open(demo_dir, readonly=True, today=TODAY) as ro:
        hid = ro.registry.households()[0].id
        with pytest.raises(VBError, match="只读"):
            ro.phone.check_identity(hid, birth(ro, hid))


def test_failed_checks_in_call_figures_and_export(svc: Services, tmp_path: Path) -> None:
    hids = [h.id for h in svc.registry.households()[:2]]
    for hid in hids:
        svc.phone.check_identity(hid, birth(svc, hid) + dt.timedelta(days=2))
    f = svc.calls.figures(TODAY.year)
    assert f.checks.failed == 2 and f.checks.wrong == 2
    assert svc.calls.figures(TODAY.year - 1).checks.failed == 0
    out = svc.calls.export_figures(TODAY.year, tmp_path / "calls.xlsx")
    rows = {r[0]: r[1] for r in openpyxl.load_workbook(out)["汇总"].iter_rows(values_only=True) if r[0]}
    assert rows["身份核实未通过"] == 2 and rows["其中：出生日期不符"] == 2 and rows["主管放行"] == 0


# -- through the command line, each try its own process --------------------------------


def run(demo_dir: Path, *args: str, day: dt.date = TODAY) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VILLAGEBOARD_TODAY=day.isoformat())
    return subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(demo_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def everything_written(demo_dir: Path) -> str:
    """The journal, every data file and any error log, as text."""
    parts = [p.read_bytes().decode("utf-8", "replace") for p in demo_dir.rglob("*") if p.is_file()]
    logs = [
        *Path(os.environ["VILLAGEBOARD_CACHE"]).rglob("*.log"),
        Path(tempfile.gettempdir(), "villageboard-error.log"),
    ]
    parts += [p.read_text("utf-8", "replace") for p in logs if p.is_file()]
    return "\n".join(parts)


def test_cli_brute_force_in_separate_processes(demo_dir: Path) -> None:
    with Services.open(demo_dir, readonly=True, today=TODAY) as svc:
        h = svc.registry.households()[10]
        right = birth(svc, h.id)
    pick = [h.name, "--household", str(h.id)]
    tried = wrong_dates(right, 10)
    baseline = everything_written(demo_dir)
    for d in tried:
        r = run(demo_dir, "lookup", *pick, "--birth", d.isoformat())
        assert r.returncode == 0, r.stderr
        assert "身份已核实" not in r.stdout and "尾号" not in r.stdout
    assert "今天不能再在电话里核实" in r.stdout
    r = run(demo_dir, "lookup", *pick, "--birth", right.isoformat(), "--json")
    [hit] = json.loads(r.stdout)
    assert "confirmed" not in hit["household"] and "card_tail" not in hit["household"]
    assert "当面核实" in r.stderr
    r = run(demo_dir, "lookup", *pick, "--birth", right.isoformat(), "--script")
    assert r.returncode != 0 and "尾号" not in r.stdout
    # no tried date was written anywhere: journal, data files, error log
    written = everything_written(demo_dir)
    for d in tried:
        for form in date_forms(d):
            assert written.count(form) == baseline.count(form), form
    # counted in the figures, text and JSON
    r = run(demo_dir, "call", "figures", "--json")
    checks = json.loads(r.stdout)["identity_checks"]
    assert checks["wrong"] == MAX_WRONG and checks["locked"] == 10 - MAX_WRONG + 2 and checks["failed"] == 12
    assert "身份核实未通过：12" in run(demo_dir, "call", "figures").stdout
    # the next day the right date confirms
    r = run(demo_dir, "lookup", *pick, "--birth", right.isoformat(), day=TODAY + dt.timedelta(days=1))
    assert "身份已核实" in r.stdout and f"一卡通尾号{h.card_account[-4:]}" in r.stdout


def test_cli_override_with_a_note(demo_dir: Path) -> None:
    with Services.open(demo_dir, readonly=True, today=TODAY) as svc:
        h = svc.registry.households()[11]
        right = birth(svc, h.id)
    pick = [h.name, "--household", str(h.id), "--birth"]
    for d in wrong_dates(right, MAX_WRONG):
        run(demo_dir, "lookup", *pick, d.isoformat())
    locked = run(demo_dir, "lookup", *pick, right.isoformat()).stdout
    assert "身份已核实" not in locked and "--override-note" in locked
    r = run(demo_dir, "lookup", h.name, "--override-note", NOTE)
    assert r.returncode != 0 and "--birth" in r.stderr
    r = run(demo_dir, "lookup", *pick, right.isoformat(), "--override-note", NOTE, "--script")
    assert r.returncode == 0, r.stderr
    assert "身份已核实（主管放行）" in r.stdout and f"一卡通尾号{h.card_account[-4:]}" in r.stdout
    assert f"{h.name}户" in r.stdout  # the answer script
    with Services.open(demo_dir, readonly=True, today=TODAY) as svc:
        docs = [json.loads(raw) for _seg, _n, raw in svc.store.journal.entries()]
        [entry] = [e for e in docs if e["action"] == "身份核实.主管放行"]
        assert entry["changes"][0]["a"]["note"] == NOTE and entry["changes"][0]["a"]["household_id"] == h.id
        assert svc.calls.figures(TODAY.year).checks.overrides == 1


def test_cli_village_wide_query_with_a_birth_date_confirms_nobody(demo_dir: Path) -> None:
    """The broadcast of the report: a whole village and one date."""
    with Services.open(demo_dir, readonly=True, today=TODAY) as svc:
        village = svc.registry.villages()[0]
        members = svc.registry.households(village.id)
        date = birth(svc, members[0].id)
        tails = {h.card_account[-4:] for h in members} | {h.phone[-4:] for h in members if h.phone}
    r = run(demo_dir, "lookup", village.name, "--limit", "5000", "--birth", date.isoformat(), "--json")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert len(hits) > 1
    for hit in hits:
        assert {"confirmed", "card_tail", "phone_tail", "failure_reason"}.isdisjoint(hit["household"])
    assert "一次只能核实一户" in r.stderr
    r = run(demo_dir, "lookup", village.name, "--limit", "5000", "--birth", date.isoformat())
    assert "身份已核实" not in r.stdout and "尾号" not in r.stdout and "--household" in r.stdout
    assert not any(f"尾号{t}" in r.stdout for t in tails)
