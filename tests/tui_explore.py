"""Driving the app to every dialog, for the key tests: which key on which screen opens
which dialog, found from the screens' own key bindings (``App.active_bindings``), so
a dialog added later is reached without changing the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, OptionList

from tests.tui_support import settle
from villageboard.store.store import JOURNAL_DIR
from villageboard.tui.app import SCREENS_BY_MODE, VillageBoardApp
from villageboard.tui.widgets import NAV

MODE_KEY = {mode: key for key, mode, _label in NAV}
GLOBAL_KEYS = {key for key, _m, _l in NAV} | {"ctrl+p", "ctrl+q", "escape"}


def journal_size(data_dir: Path) -> int:
    """Bytes in the journal: every save appends to it, so equal sizes mean no save."""
    return sum(p.stat().st_size for p in (data_dir / JOURNAL_DIR).rglob("*") if p.is_file())


def on_dialog(app: VillageBoardApp) -> bool:
    return len(app.screen_stack) > 1 and isinstance(app.screen, ModalScreen)


def posted_household_name(app: VillageBoardApp) -> str:
    """A household on a notice that is on the board, with a name no other has (the
    phone desk's first hit is then that household)."""
    svc = app.svc
    assert svc is not None
    names: dict[str, int] = {}
    for h in svc.registry.households():
        names[h.name] = names.get(h.name, 0) + 1
    for n in svc.notices.all(svc.today().year, "posted"):
        for row in svc.notices.snapshot(n).get("rows", []):
            if names.get(row["name"]) == 1:
                return str(row["name"])
    raise AssertionError("no posted notice with a household of a unique name")


async def prepare(pilot: Pilot, app: VillageBoardApp, mode: str) -> None:
    """Go to a screen and put it where its dialogs can open: a household found on the
    phone desk, one opened on 农户, the first row of a list highlighted."""
    await pilot.press(MODE_KEY[mode])
    await settle(pilot, app)
    if mode == "phone":
        await pilot.press(*posted_household_name(app))
        await settle(pilot, app)
        await pilot.press("enter")  # take the first hit: the birth date box
    elif mode == "households":
        await pilot.press("ctrl+f", "enter", "enter")  # search -> list -> open the first household
    elif mode == "applications":
        await pilot.press("ctrl+t")
    await settle(pilot, app)


def screen_keys(app: VillageBoardApp) -> list[str]:
    """The keys of the current screen's own bindings that are enabled now (not a text
    box's editing keys)."""
    keys = []
    for key, active in app.active_bindings.items():
        if not isinstance(active.node, Screen) or key in GLOBAL_KEYS or not active.enabled:
            continue
        if key in ("up", "down", "left", "right", "tab", "shift+tab"):
            continue
        keys.append(key)
    return sorted(set(keys))


@dataclass(frozen=True)
class Route:
    """How to open one dialog: a screen, then keys ("enter" on a list opens the
    row's dialog; a choice is made with downs and Enter)."""

    mode: str
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.mode}:{'+'.join(self.keys)}"


async def open_route(pilot: Pilot, app: VillageBoardApp, route: Route, prepared: bool = False) -> None:
    if not prepared:
        await prepare(pilot, app, route.mode)
    for key in route.keys:
        await pilot.press(key)
        await settle(pilot, app)


async def routes(pilot: Pilot, app: VillageBoardApp, modes: Iterable[str] = SCREENS_BY_MODE) -> AsyncIterator[Route]:
    """Every dialog reachable with one screen key, Enter on a list, one choice in a
    choice dialog, or one key inside a dialog that has keys of its own (异议), on the
    given screens (all of them unless told)."""
    for mode in modes:
        await prepare(pilot, app, mode)
        keys = screen_keys(app)
        if isinstance(app.focused, DataTable):
            keys.append("enter")
        prepared = True
        for key in keys:
            route = Route(mode, (key,))
            await open_route(pilot, app, route, prepared)
            prepared = False
            if not on_dialog(app):
                continue
            inner = [k for k in screen_keys(app) if k != "enter"]
            choices = app.screen.query("#choices")  # a choice dialog's list
            count = choices.first(OptionList).option_count if choices else 0
            has_input = bool(app.screen.query("Input"))
            yield route  # the caller does what it tests, then the dialog is opened afresh
            if count:
                for i in range(count):
                    sub = Route(mode, (key, *(["down"] * i), "enter"))
                    await open_route(pilot, app, sub)
                    if on_dialog(app):
                        yield sub
            elif not has_input:
                for k in inner:
                    sub = Route(mode, (key, k))
                    await open_route(pilot, app, sub)
                    if on_dialog(app) and len(app.screen_stack) > 2:
                        yield sub
