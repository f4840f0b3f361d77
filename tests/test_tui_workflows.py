"""Pilot tests: each workflow driven through the keyboard, as a clerk would, then
checked against what the services stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar, Static

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.domain.validate import birth_date_of
from villageboard.tui.app import VillageBoardApp, make_app
from villageboard.tui.dialogs import ConfirmDialog, FormDialog, MessageDialog

SIZE = (120, 40)


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


async def paste(pilot: Pilot, text: str) -> None:
    """What the terminal sends when the clerk pastes (a path copied from the file
    manager): one bracketed-paste event to the focused box."""
    assert pilot.app.focused is not None
    pilot.app.focused.post_message(events.Paste(text))
    await pilot.pause()


def text_of(app: VillageBoardApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_household_with_bad_id_is_not_saved_until_fixed(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        before = svc.registry.count()
        await pilot.press("f3")
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        assert app.focused is not None and app.focused.id == "in-village"  # 村 first, then 组
        await pilot.press("enter", "enter")
        await type_text(pilot, "测试户")
        await pilot.press("enter")
        good = "141025198003150019"
        bad = good[:-1] + "8"  # wrong check digit
        await type_text(pilot, bad)
        await pilot.pause()
        assert "校验位不对" in text_of(app, "#msg-id_number")
        await pilot.press("enter")
        await type_text(pilot, "13912345678")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert svc.registry.count() == before
        assert svc.registry.by_id_number(bad) is None
        # fix the last digit and save with Enter through to the last box
        await pilot.press("shift+tab")
        await pilot.press("end", "backspace")
        await type_text(pilot, good[-1])
        await pilot.pause()
        assert text_of(app, "#msg-id_number") == ""
        for _ in range(5):  # to phone, card, bank, remark, then saved
            await pilot.press("enter")
        await pilot.pause()
        saved = svc.registry.by_id_number(good)
        assert saved is not None and saved.name == "测试户" and saved.phone == "13912345678"
        assert svc.registry.count() == before + 1


async def test_three_applications_in_a_row(demo_dir: Path) -> None:
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
        ][:3]
        assert len(free) == 3
        before = len(svc.applications.list(2026, "GDDL", village.id))
        await pilot.press("f5")
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        for h, qty in zip(free, ("12.5", "3", "7.25"), strict=True):
            await type_text(pilot, h.id_number[-6:])
            await pilot.press("enter")
            await type_text(pilot, qty)
            await pilot.press("enter", "enter")
            await pilot.pause()
            assert isinstance(app.focused, Input) and app.focused.id == "in-household"
        apps = svc.applications.list(2026, "GDDL", village.id)
        assert len(apps) == before + 3
        got = {a.household_id: str(a.quantity) for a in apps}
        assert [got[h.id] for h in free] == ["12.5", "3", "7.25"]
        assert app.screen.query_one("#app-table", DataTable).row_count == before + 3


async def _choose(pilot: Pilot, downs: int) -> None:
    """Open the focused Select (Space; Enter would move on), move down, pick."""
    await pilot.press("space")
    await pilot.press(*(["down"] * downs))
    await pilot.press("enter")


async def test_create_post_and_render_a_result_notice(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "公示输出"
    app = make_app(demo_dir, today=TODAY)
    printed: list[Path] = []
    app.printer = lambda p: printed.append(p) or f"已送到打印机：{p.name}"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        codes = [p.code for p in svc.programs.list(2026)]
        await pilot.press("f7")
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("tab")  # kind stays 发放结果公示; program:
        await _choose(pilot, codes.index("ZLYC") - codes.index("GDDL"))
        await pilot.press("tab")  # village: 全部村 -> 东沟村
        await _choose(pilot, 1)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        drafts = [n for n in svc.notices.all(2026, "draft") if n.program_code == "ZLYC" and n.village_id == 1]
        assert len(drafts) == 1
        code = drafts[0].code
        # post: one confirmation
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot, app)
        n = svc.notices.get(code)
        assert n.state == "posted" and n.start == TODAY and n.tag
        # render into the chosen folder, and print
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+u")
        await paste(pilot, str(out))
        await pilot.press("tab", "tab", "tab", "tab", "tab", "tab", "space")  # tick 生成后打印
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        pdfs = list(out.glob("*.pdf"))
        assert len(pdfs) == 1 and code in pdfs[0].name
        assert pdfs[0].read_bytes().startswith(b"%PDF")
        assert printed == pdfs


async def test_phone_call_finds_zhang_wei_confirms_and_logs(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        target = next(h for h in svc.registry.households() if h.name == "章伟")
        birth = birth_date_of(target.id_number)
        await pilot.press("f5")  # from any screen
        await settle(pilot, app)
        await pilot.press("f2")
        await type_text(pilot, "zhang wei")
        await settle(pilot, app)
        screen = app.screen
        hits = [h.household_id for h in screen.answer.hits]  # type: ignore[attr-defined]
        assert target.id in hits
        await pilot.press(*(["down"] * hits.index(target.id)))
        await pilot.press("enter")
        assert isinstance(app.focused, Input) and app.focused.id == "birth"
        await type_text(pilot, birth.strftime("%Y%m%d"))
        await pilot.press("enter")
        await pilot.pause()
        script = text_of(app, "#script")
        assert "章伟户" in script
        assert "身份已核实" in text_of(app, "#identity")
        assert target.card_account[-4:] in text_of(app, "#hit-private")
        await pilot.press("ctrl+l")
        await pilot.pause()
        calls = svc.calls.list(TODAY.year)
        assert len(calls) == 1
        assert calls[0].household_id == target.id and calls[0].question_type == "补贴金额"
        assert "章伟户" in calls[0].answer
        # a wrong birth date shows only what is public
        await pilot.press("escape")
        await type_text(pilot, "zhang wei")
        await settle(pilot, app)
        await pilot.press(*(["down"] * hits.index(target.id)))
        await pilot.press("enter")
        await type_text(pilot, (birth + dt.timedelta(days=1)).isoformat())
        await pilot.press("enter")
        await pilot.pause()
        assert "未核实" in text_of(app, "#identity")
        assert target.card_account[-4:] not in text_of(app, "#hit-private")


async def test_objection_becomes_a_correction(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        # from the home screen's board: the notice with most days left that is no correction
        posted = app.screen.query_one("#posted", DataTable)
        keys = [str(k.value) for k in posted.rows]
        code = next(k for k in reversed(keys) if svc.notices.get(k).version == 1)
        posted.focus()
        await pilot.press(*(["down"] * keys.index(code)))
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.current_mode == "notices"
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await type_text(pilot, "我家代耕情况没有写上")
        await pilot.press("tab")
        await _choose(pilot, 1)  # the first household on the notice
        await pilot.press("ctrl+s")
        await pilot.pause()
        objections = svc.notices.objections(code=code, state="open")
        assert len(objections) == 1
        await pilot.press("enter")  # resolve the highlighted one
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "经村委会核实，补记代耕情况")
        await pilot.press("enter", "enter", "enter", "enter")  # 生成更正公示, 更正哪一户, 更正项目, 改为
        await type_text(pilot, "由亲属代耕")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        o = svc.notices.objection(objections[0].id)[1]
        assert o.state == "resolved" and o.correction == f"{code}/v2"
        versions = svc.notices.versions(code)
        assert [v.state for v in versions] == ["archived", "draft"]
        assert versions[1].kind == "correction"
        assert any(c["field"] == "备注" and c["new"] == "由亲属代耕" for c in versions[1].changes)


async def test_batch_posters_for_every_village_with_progress(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "各村"
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f7")
        await settle(pilot, app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("enter", "enter")  # 公示类别, 补贴项目 -> 文件夹
        await pilot.press("ctrl+u")
        await paste(pilot, str(out))
        steps: list[tuple[float | None, float]] = []
        bar = app.screen_stack[0].query_one("#job-bar", ProgressBar)
        bar.watch(bar, "progress", lambda p: steps.append((bar.total, p)), init=False)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog)
        pdfs = sorted(out.glob("*.pdf"))
        shown = str(app.screen.query_one("#message-text", Static).render())
        assert len(pdfs) == 4, shown  # every village's GDDL result notice on the board
        assert bar.total == 4 and bar.progress == 4
        assert any(p < 4 for _t, p in steps)


async def test_worker_error_ends_in_a_readable_dialog(demo_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "坏表.xlsx"
    bad.write_bytes(b"not a spreadsheet")
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f3")
        await settle(pilot, app)
        await pilot.press("ctrl+g")
        await pilot.pause()
        await paste(pilot, str(bad))
        await pilot.press("ctrl+s")  # start the import
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog)
        msg = str(app.screen.query_one("#message-text", Static).render())
        assert "Traceback" not in msg and msg.strip()


async def test_names_and_remarks_are_never_markup(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        draft = next(n for n in svc.notices.all(2026, "draft"))
        row = svc.notices.snapshot(draft)["rows"][0]
        svc.applications.edit(row["app"], remark="[bold red]x[/bold red]")
        await pilot.press("f7")
        await settle(pilot, app)
        preview = app.screen.query_one("#preview", DataTable)
        cells = [str(c) for c in preview.get_row_at(0)]
        assert "[bold red]x[/bold red]" in cells
