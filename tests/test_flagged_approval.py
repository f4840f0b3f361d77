"""Approving a flagged row needs a confirmation and a note, which is journaled; the
flag thresholds are township settings that decide which flags fire."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TODAY
from tests.test_cli_core import vb
from tests.test_flags import add, apply, base, kinds, town  # noqa: F401  (town is a fixture)
from tests.test_tui_workflows import SIZE
from tests.tui_support import settle
from villageboard.domain.errors import ValidationFailed
from villageboard.services.applications import NeedsNote
from villageboard.services.township import update_settings
from villageboard.tui.app import make_app
from villageboard.tui.dialogs import FormDialog


def to_town_ok(svc, app) -> None:
    for step in ("village_ok", "town_ok"):
        svc.applications.set_status(app.id, step)


def test_flagged_approval_needs_a_note_which_is_journaled(town) -> None:  # noqa: F811
    h, plain = add(town, "韩增长"), add(town, "韩持平")
    base(town, h, "10", 2025)
    base(town, plain, "10", 2025)
    a, b = apply(town, h, "15"), apply(town, plain, "10")
    to_town_ok(town, a)
    to_town_ok(town, b)
    seq = town.store.journal.last_seq
    for note in ("", " ", "x"):
        with pytest.raises(NeedsNote, match="比上年增加") as caught:
            town.applications.set_status(a.id, "approved", note=note)
        assert [f.kind for f in caught.value.flags] == ["growth"]
    assert town.applications.get(a.id).status == "town_ok" and town.store.journal.last_seq == seq
    town.applications.set_status(a.id, "approved", note="经村组实地核实，新承包邻户土地5亩")
    assert town.applications.get(a.id).status == "approved"
    entry = town.store.journal.last_entry
    assert "核实风险提示" in entry["action"] and "新承包邻户土地5亩" in orjson.dumps(entry).decode()
    f = town.flags.flags_for(town.applications.get(a.id))[0]
    assert f.is_cleared and f.cleared["note"] == "经村组实地核实，新承包邻户土地5亩" and f.cleared["operator"] == "测试"
    town.applications.set_status(b.id, "approved")  # no flag: no question asked
    assert town.applications.get(b.id).status == "approved"


def test_a_page_at_once_leaves_flagged_rows_for_one_by_one(town) -> None:  # noqa: F811
    h, plain = add(town, "钟增长"), add(town, "钟持平")
    base(town, h, "10", 2025)
    base(town, plain, "10", 2025)
    a, b = apply(town, h, "13"), apply(town, plain, "11")
    to_town_ok(town, a)
    to_town_ok(town, b)
    done, skipped = town.applications.advance_many([(a.id, "approved"), (b.id, "approved")])
    assert (done, skipped) == (1, [a.id])
    assert town.applications.get(a.id).status == "town_ok" and town.applications.get(b.id).status == "approved"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old=st.integers(1, 5000),
    q=st.integers(1, 20000),
    limit=st.decimals(min_value=Decimal("1.01"), max_value=Decimal(10), places=2),
)
def test_the_growth_threshold_is_the_township_setting(town, old: int, q: int, limit: Decimal) -> None:  # noqa: F811
    """Whatever the setting, the flag fires exactly when q > limit × last year's."""
    update_settings(town, growth_limit=str(limit))
    h = add(town, "郑增长")
    base(town, h, str(Decimal(old) / 100), 2025)
    a = apply(town, h, str(Decimal(q) / 100))
    assert ("growth" in kinds(town, a)) == (Decimal(q) > limit * Decimal(old))


def test_the_outlier_threshold_is_the_township_setting(town) -> None:  # noqa: F811
    small = [add(town, f"冯{'甲乙丙丁'[i]}") for i in range(4)]
    apps = [apply(town, h, "2") for h in small]
    big = apply(town, add(town, "冯大"), "9")  # median 2: 4.5 times
    assert "outlier" in kinds(town, big) and not any("outlier" in kinds(town, x) for x in apps)
    update_settings(town, outlier_factor="4.5")
    assert "outlier" not in kinds(town, big)  # exactly 4.5 times is not above
    update_settings(town, outlier_factor="4.49")
    assert "outlier" in kinds(town, big)
    with pytest.raises(ValidationFailed, match="数量异常提示线"):
        update_settings(town, outlier_factor="1E2")
    with pytest.raises(ValidationFailed, match="比上年增加提示线"):
        update_settings(town, growth_limit="0.9")
    assert town.township.outlier_factor == Decimal("4.49")


def _flagged_open_app(svc) -> tuple[str, str]:
    """(application, flag label) of an open flag on a row not yet approved nor frozen."""
    for f in svc.flags.flags(TODAY.year, open_only=True):
        a = svc.applications.get(f.app_id)
        if (
            a.status in ("applied", "village_ok", "town_ok")
            and a.payout_status in ("", "none")
            and not svc.applications.frozen_by_posted(a)
        ):
            return a.id, f.label
    raise AssertionError("the demo has no open flag on a row under review")


def test_cli_refuses_a_flagged_approval_without_note(demo_dir: Path) -> None:
    from villageboard.services import Services

    d = demo_dir
    assert vb("settings", "--outlier-factor", "1.01", data=d).returncode == 0  # many rows above the median
    with Services.open(d, today=TODAY, operator="测试") as svc:
        number, label = _flagged_open_app(svc)
        a = svc.applications.get(number)
        for step in ("village_ok", "town_ok")[("applied", "village_ok", "town_ok").index(a.status) :]:
            svc.applications.set_status(number, step)
    r = vb("application", "status", number, "通过", data=d)
    assert r.returncode == 1 and label in r.stderr and "--note" in r.stderr and "Traceback" not in r.stderr
    shown = json.loads(vb("application", "show", number, "--json", data=d).stdout)
    assert shown["status"] == "town_ok"
    r = vb("application", "status", number, "通过", "--note", "经村组实地核实，地块确为本户承包", data=d)
    assert r.returncode == 0 and "核实情况已记入修改记录" in r.stdout
    shown = json.loads(vb("application", "show", number, "--json", data=d).stdout)
    assert shown["status"] == "approved"
    assert all(f["cleared"] and f["cleared"]["note"] == "经村组实地核实，地块确为本户承包" for f in shown["flags"])
    with Services.open(d, readonly=True) as svc:
        entry = svc.store.journal.last_entry
    assert "地块确为本户承包" in orjson.dumps(entry).decode() and entry["action"].startswith("申报.通过")
    assert vb("check", data=d).returncode == 0


async def test_the_app_asks_for_a_note_before_approving_a_flagged_row(demo_dir: Path) -> None:
    from villageboard.services import Services

    with Services.open(demo_dir, today=TODAY, operator="测试") as svc:
        update_settings(svc, outlier_factor="1.01")
        number, _label = _flagged_open_app(svc)
        a = svc.applications.get(number)
        for step in ("village_ok", "town_ok")[("applied", "village_ok", "town_ok").index(a.status) :]:
            svc.applications.set_status(number, step)
        program_key, village_id = f"{a.year}-{a.program_code}", a.village_id
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        from textual.widgets import DataTable, Select

        screen = app.screen
        screen.query_one("#filter-program", Select).value = program_key
        screen.query_one("#filter-village", Select).value = village_id
        await settle(pilot, app)
        table = screen.query_one("#app-table", DataTable)
        table.move_cursor(row=[x.id for x in screen.apps].index(number))
        table.focus()
        await pilot.press("a")  # 审核下一步
        await settle(pilot, app)
        assert isinstance(app.screen, FormDialog)
        await pilot.press("escape")  # no note: nothing changes
        await settle(pilot, app)
        assert app.svc.applications.get(number).status == "town_ok"
        await pilot.press("a")
        await settle(pilot, app)
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+s")  # the note is required
        await settle(pilot, app)
        assert isinstance(app.screen, FormDialog) and app.svc.applications.get(number).status == "town_ok"
        for ch in "经实地核实属实":
            await pilot.press(ch)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        saved = app.svc.applications.get(number)
        assert saved.status == "approved"
        assert any(c.get("note") == "经实地核实属实" for c in saved.cleared_flags)
        assert "经实地核实属实" in orjson.dumps(app.svc.store.journal.last_entry).decode()


async def test_the_thresholds_are_shown_and_set_in_f9(demo_dir: Path) -> None:
    from textual.widgets import Input

    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f9")
        await settle(pilot, app)
        box = app.screen.query_one("#in-outlier_factor", Input)
        assert box.value == "3" and app.screen.query_one("#in-growth_limit", Input).value == "1.2"
        before = len(app.svc.flags.flags(TODAY.year))
        box.value = "1,5"  # refused, never read as 15
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert "逗号" in str(app.screen.query_one("#msg-outlier_factor").render())
        assert app.svc.township.outlier_factor == Decimal(3)
        box.value = "1.5"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert app.svc.township.outlier_factor == Decimal("1.5")
        assert len(app.svc.flags.flags(TODAY.year)) > before  # a lower line raises more flags
