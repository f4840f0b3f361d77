"""The 补贴项目 screen shows and sets 发放方式 (按户发放 / 按人发放): a new program saved
as 按人发放 is per person; a program with applications keeps its 发放方式, and the
form says why beside the field."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Static

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.tui.app import make_app

SIZE = (120, 40)


async def test_program_form_sets_per_person_and_keeps_it_once_rows_exist(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        await pilot.press("f4")
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        values = {
            "code": "PXBZ",
            "name": "农民培训补贴",
            "basis": "县农业农村局培训补贴办法",
            "department": "县农业农村局",
            "rate": "500",
            "eligibility": "本镇农业从业人员",
            "procedure": "本人申请、村审核、镇审核",
            "materials": "身份证",
            "office": "镇农业中心",
        }
        for key, value in values.items():
            screen.query_one(f"#in-{key}", Input).value = value
        payee = screen.query_one("#in-payee", Select)
        assert payee.value == "household"
        payee.value = "person"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        p = svc.programs.get(TODAY.year, "PXBZ")
        assert p.per_person
        # a program with applications keeps how it pays
        gddl = svc.programs.get(TODAY.year, "GDDL")
        assert svc.applications.list(TODAY.year, "GDDL")
        screen.load(gddl)
        await pilot.pause()
        assert screen.query_one("#in-payee", Select).value == "household"
        screen.query_one("#in-payee", Select).value = "person"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        msg = str(screen.query_one("#msg-payee", Static).render())
        assert "该项目已有申报，不能由按户发放改为按人发放" in msg
        assert not svc.programs.get(TODAY.year, "GDDL").per_person
