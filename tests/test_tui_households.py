"""F3 (农户): opening a household shows its own village and group, and saving it
untouched changes nothing stored, whichever village the form showed before."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.tui.app import VillageBoardApp, make_app

SIZE = (120, 40)


def _stored(svc) -> tuple:
    return svc.store.journal.last_seq, [h.to_dict() for h in svc.registry.households(include_void=True)]


async def _open_by_search(pilot: Pilot, app: VillageBoardApp, query: str) -> None:
    """Type the query into the search box, go to the list and open the first row."""
    await pilot.press("ctrl+f")
    search = app.screen.query_one("#search", Input)
    search.value = query
    await settle(pilot, app)
    await pilot.press("enter")  # to the list
    await pilot.press("enter")  # open the highlighted row
    await settle(pilot, app)


async def test_saving_a_household_from_another_village_changes_nothing(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        villages = svc.registry.villages()
        first = villages[0].id
        # a household of the last village, not in the village's first group: the form
        # opens showing the first village and its first group
        target = next(
            h
            for h in svc.registry.households(villages[-1].id)
            if h.group_id and h.group_id != svc.registry.groups(villages[-1].id)[0].id
        )
        assert target.village_id != first
        await pilot.press("f3")
        await settle(pilot, app)
        assert app.screen.query_one("#in-village", Select).value == first
        before = _stored(svc)
        await _open_by_search(pilot, app, target.id_number)
        table = app.screen.query_one("#household-list", DataTable)
        assert table.row_count == 1
        assert app.screen.query_one("#in-village", Select).value == target.village_id
        assert app.screen.query_one("#in-group", Select).value == target.group_id
        assert app.screen.query_one("#in-name", Input).value == target.name
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert _stored(svc) == before
        assert svc.registry.household(target.id).to_dict() == target.to_dict()
