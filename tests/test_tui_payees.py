"""变更户主 from the 农户 screen (F3): Ctrl+B opens a dialog with the command's fields;
a refusal keeps the dialog open and saves nothing, then the change is saved."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TODAY
from tests.test_cli_households import make_id
from tests.tui_explore import Route, journal_size, on_dialog, open_route, settle
from villageboard.tui.app import make_app
from villageboard.tui.dialogs import FormDialog, MessageDialog

SIZE = (120, 40)


async def test_change_head_from_the_households_screen(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        await open_route(pilot, app, Route("households", ("ctrl+b",)))
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        target = app.screen_stack[-2].editing
        assert target is not None
        new_id = make_id(987, "19550505")
        assert svc.registry.by_id_number(new_id) is None
        before = journal_size(demo_dir)
        seq = svc.store.journal.last_seq
        # a date in the future: refused, nothing saved, the dialog stays
        await pilot.press(*"李秀英", "enter", *new_id, "enter", "enter", *"户主死亡", "enter", *"2026-12-01", "enter")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog) and "“变更日期”：2026-12-01晚于今天" in app.screen.message
        assert journal_size(demo_dir) == before
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen is dialog
        for _ in range(10):
            await pilot.press("backspace")
        await pilot.press(*"2026-11-01", "enter")
        await settle(pilot, app)
        assert not on_dialog(app)
        h = svc.registry.household(target.id)
        assert (h.name, h.id_number, h.card_account) == ("李秀英", new_id, "")
        assert h.former_heads[-1]["name"] == target.name and h.former_heads[-1]["reason"] == "户主死亡"
        assert svc.store.journal.last_seq == seq + 1
