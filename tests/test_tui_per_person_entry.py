"""申报 (F5) for a per-person program: the candidates under the household box are the
head and each member; choosing a member saves the application for that person."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select, Static

from tests.conftest import TODAY
from tests.test_per_person_services import PX, member
from tests.tui_support import settle
from villageboard.domain.models import Program
from villageboard.services import Services
from villageboard.tui.app import make_app

SIZE = (120, 40)


async def test_entering_a_per_person_application_names_the_member(demo_dir: Path) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        svc.programs.add(Program(**PX))
        village = svc.registry.villages()[0]
        h = next(h for h in svc.registry.households(village.id) if h.status == "active" and not h.members)
        son = member(svc, h, "测小军", card_account="")
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        await pilot.press("f5")
        await settle(pilot, app)
        app.screen.query_one("#filter-program", Select).value = f"{TODAY.year}-PXBZ"
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        await pilot.press(*h.id_number[-6:])
        await pilot.pause()
        await pilot.press("down", "enter")  # the head first, then the member
        await pilot.pause()
        picked = str(app.screen.query_one("#picked", Static).render())
        assert "享受人：测小军（子）" in picked and "还没有登记本人的一卡通账号" in picked
        await pilot.press("1", "enter", "enter")
        await settle(pilot, app)
        [row] = svc.applications.list(TODAY.year, "PXBZ")
        assert (row.household_id, row.person_id_number, row.person_name) == (h.id, son, "测小军")
        # the member is now listed as 已申报, and picking them again is refused
        await pilot.press(*h.id_number[-6:])
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        msg = str(app.screen.query_one("#entry-message", Static).render())
        assert "测小军本年度已申报过农民培训补贴" in msg and "同一人不能领取两次" in msg
