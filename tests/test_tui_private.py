"""The TUI offers 遮挡后保存 when typed text holds a full personal number."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TODAY
from tests.test_tui_workflows import SIZE, type_text
from tests.tui_support import settle
from villageboard.tui.app import make_app
from villageboard.tui.dialogs import ConfirmDialog


async def _enter(pilot, app, h, remark: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+n")
    await type_text(pilot, h.id_number[-6:])
    await pilot.press("enter")
    await type_text(pilot, "3")
    await pilot.press("enter")
    await type_text(pilot, remark)
    await pilot.press("enter")
    await pilot.pause()


async def test_application_remark_with_a_phone_number_is_saved_masked_on_request(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        village = svc.registry.villages()[0]
        free = [
            h
            for h in svc.registry.households(village.id)
            if h.status == "active" and svc.applications.existing(2026, h.id, "GDDL") is None
        ][:2]
        await pilot.press("f5")
        await settle(pilot, app)
        # 回去修改: nothing is saved
        await _enter(pilot, app, free[0], "电话138.0013.8000")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert svc.applications.existing(2026, free[0].id, "GDDL") is None
        # 遮挡后保存: saved, with the number masked
        await _enter(pilot, app, free[1], "代领人电话一三八〇〇一三八〇〇〇")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await pilot.pause()
        n = svc.applications.existing(2026, free[1].id, "GDDL")
        assert n is not None
        saved = svc.applications.get((2026, n))
        assert saved.remark == "代领人电话***********"
