"""Snapshot tests: every screen at 80×24 and at 120×40 on the demo township, dates
frozen, and the dialogs most used at 80×24.

Deterministic on purpose: the date is fixed (make_app(today=TODAY)), the phone desk's
background loading is awaited, notifications are cleared, cursors do not blink, and the
current folder is the demo's parent so paths on screen read ``data``. Review the SVGs
in tests/__snapshots__/ before accepting a change (pytest -n 0 --snapshot-update)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.domain.validate import birth_date_of
from villageboard.tui.app import VillageBoardApp, make_app

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
Steps = Callable[[Pilot, VillageBoardApp], Awaitable[None]]


def _shoot(
    snap_compare,
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    steps: Steps,  # type: ignore[no-untyped-def]
    size: tuple[int, int],
) -> bool:
    monkeypatch.chdir(demo_dir.parent)
    app = make_app(demo_dir, today=TODAY)

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot, app)
        # the phone desk's loader starts once the home screen has its counts
        assert await asyncio.to_thread(app.loader_done.wait, 30), "the phone desk never finished loading"
        await settle(pilot, app)
        await steps(pilot, app)
        await settle(pilot, app)
        for screen in app.screen_stack:
            for box in screen.query(Input):
                box.cursor_blink = False
        update_note = getattr(app.screen, "update_note", None)
        if update_note is not None:
            update_note()
        app.clear_notifications()
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=run_before)


def _keys(*keys: str) -> Steps:
    async def steps(pilot: Pilot, app: VillageBoardApp) -> None:
        for key in keys:
            await pilot.press(key)
            await settle(pilot, app)

    return steps


async def _phone_answer(pilot: Pilot, app: VillageBoardApp) -> None:
    assert app.svc is not None
    target = next(h for h in app.svc.registry.households() if h.name == "张伟")
    await pilot.press("f2", *"zhang wei")
    await settle(pilot, app)
    await pilot.press("enter", *birth_date_of(target.id_number).strftime("%Y%m%d"), "enter")


#: Each screen as a clerk sees it at work: a call answered, a household being added
#: with a bad ID number, a program opened, an application being typed.
SCREENS: dict[str, Steps] = {
    "home": _keys(),
    "phone_answer_script": _phone_answer,
    "households_with_a_bad_id": _keys("f3", "ctrl+n", "enter", "enter", *"测试户", "enter", *"141025198003150018"),
    "programs": _keys("f4", "tab", "enter"),
    "applications": _keys("f5", "ctrl+n", *"zhang"),
    "payouts": _keys("f6"),
    "notices": _keys("f7"),
    "archive": _keys("f8"),
    "settings": _keys("f9"),
}

#: The dialogs a clerk meets most, at the smallest size.
DIALOGS: dict[str, Steps] = {
    "import_households": _keys("f3", "ctrl+g"),
    "objections": _keys("f7", "down", "ctrl+o"),
}


class TestScreens:
    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize("screen", SCREENS)
    def test_screen(
        self,
        snap_compare,
        demo_dir: Path,
        monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
        screen: str,
        size: str,
    ) -> None:
        assert _shoot(snap_compare, demo_dir, monkeypatch, SCREENS[screen], SIZES[size])


class TestDialogs:
    @pytest.mark.parametrize("dialog", DIALOGS)
    def test_dialog_at_80x24(
        self,
        snap_compare,
        demo_dir: Path,
        monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
        dialog: str,
    ) -> None:
        assert _shoot(snap_compare, demo_dir, monkeypatch, DIALOGS[dialog], SIZES["80x24"])
