"""家庭成员 from the 农户 screen (F3): Ctrl+O adds a member with their own card,
registers a card later, refuses a bad card with the dialog kept open, and moves a
member out (the record stays)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select

from tests.conftest import TODAY
from tests.test_cli_households import card, make_id
from tests.tui_explore import Route, on_dialog, open_route, settle
from villageboard.tui.app import make_app
from villageboard.tui.dialogs import FormDialog, MessageDialog

SIZE = (120, 40)


def fill(app, **values: str) -> None:
    for key, value in values.items():
        w = app.screen.query_one(f"#field-{key}")
        if isinstance(w, Select):
            w.value = value
        else:
            assert isinstance(w, Input)
            w.value = value


async def test_members_from_the_households_screen(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        await open_route(pilot, app, Route("households", ("ctrl+o",)))
        assert isinstance(app.screen, FormDialog)
        target = app.screen_stack[-2].editing
        assert target is not None
        son = make_id(876, "19990101")
        fill(app, name="测小军", id_number=son, relation="子", card=card(876), bank="邮储银行")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert not on_dialog(app)
        [m] = [m for m in svc.registry.household(target.id).members if m["id_number"] == son]
        assert (m["name"], m["relation"], m["card_account"], m["bank"]) == ("测小军", "子", card(876), "邮储银行")
        # a bad card for the member: refused, the dialog stays, nothing saved
        await pilot.press("ctrl+o")
        await settle(pilot, app)
        fill(app, member=son, card="12345")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog) and "一卡通账号位数不对" in app.screen.message
        await pilot.press("escape")
        await settle(pilot, app)
        fill(app, card=card(877))
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert not on_dialog(app)
        [m] = [m for m in svc.registry.household(target.id).members if m["id_number"] == son]
        assert m["card_account"] == card(877)
        # moved out: kept on the record, no longer a live member
        await pilot.press("ctrl+o")
        await settle(pilot, app)
        fill(app, member=son, remove="迁出")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        [m] = [m for m in svc.registry.household(target.id).members if m["id_number"] == son]
        assert m["void"] and m["void_reason"] == "迁出"
