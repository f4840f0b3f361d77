"""The phone desk's identity check in the app, driven from the keyboard: it applies
to the selected household, locks after three wrong dates, says to verify in person,
and a supervisor's override needs a note and is journaled."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.domain.validate import birth_date_of
from villageboard.services import Services
from villageboard.store.changes import Commit
from villageboard.tui.app import VillageBoardApp, make_app
from villageboard.tui.dialogs import FormDialog

SIZE = (120, 40)


def text_of(app: VillageBoardApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def enter_birth(pilot: Pilot, date: dt.date) -> None:
    await pilot.press("ctrl+u", *date.strftime("%Y%m%d"), "enter")
    await pilot.pause()


async def test_three_wrong_dates_lock_the_selected_household_until_a_supervisor_overrides(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        await pilot.press("f2", *"zhang wei")
        await settle(pilot, app)
        hits = [h.household_id for h in app.screen.answer.hits]  # type: ignore[attr-defined]
        assert len(hits) > 1
        # the clerk selects the second row: the check is for that household only
        target = svc.registry.household(hits[1])
        first = svc.registry.household(hits[0])
        right = birth_date_of(target.id_number)
        await pilot.press("down", "enter")
        assert isinstance(app.focused, Input) and app.focused.id == "birth"
        entries: list[Commit] = []
        svc.store.subscribe(entries.append)
        # the first row's date does not confirm the selected second row
        await enter_birth(pilot, birth_date_of(first.id_number))
        assert "未核实" in text_of(app, "#identity") and "还可以再核对2次" in text_of(app, "#identity")
        for k in (1, 2):
            await enter_birth(pilot, right + dt.timedelta(days=k))
        locked = text_of(app, "#identity")
        assert "今天不能再在电话里核实" in locked and "当面核实" in locked and "Ctrl+R" in locked
        # now even the right date does not confirm
        await enter_birth(pilot, right)
        assert "身份已核实" not in text_of(app, "#identity")
        assert target.card_account[-4:] not in text_of(app, "#hit-private")
        assert "今天" in text_of(app, "#identity")
        assert [e.action for e in entries] == ["身份核实.未通过"] * 4
        assert [e.changes[0].after["result"] for e in entries] == ["wrong"] * 3 + ["locked"]
        assert {e.changes[0].after["household_id"] for e in entries} == {target.id}
        # Ctrl+R: the override dialog needs a note
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+s")  # empty note: not accepted
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press(*"村主任当面认识来电人")
        await pilot.press("enter")
        await settle(pilot, app)
        assert "身份已核实（主管放行）" in text_of(app, "#identity")
        assert target.card_account[-4:] in text_of(app, "#hit-private")
        assert f"{target.name}户" in text_of(app, "#script")
        override = entries[-1]
        assert override.action == "身份核实.主管放行"
        assert override.changes[0].after["note"] == "村主任当面认识来电人"
        text = json.dumps([dataclasses.asdict(e) for e in entries], ensure_ascii=False)
        for k in range(0, 3):
            d = right + dt.timedelta(days=k)
            assert d.isoformat() not in text and d.strftime("%Y%m%d") not in text
        assert svc.calls.figures(TODAY.year).checks.failed == 4
    # another start of the app still finds the household locked for today
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f2", *"zhang wei")
        await settle(pilot, app)
        await pilot.press("down", "enter")
        assert "今天不能电话核实" in text_of(app, "#identity")
        await enter_birth(pilot, right)
        assert "身份已核实" not in text_of(app, "#identity")
    with Services.open(demo_dir, readonly=True, today=TODAY + dt.timedelta(days=1)) as nxt:
        assert nxt.phone.checks.wrong_today(target.id) == 0
