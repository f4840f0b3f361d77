"""Keys that always work: F2 (and every screen key) from inside every dialog closes
it cleanly and keeps a draft; Enter in a dialog moves field by field and never
submits before the last field; the palette finds jobs by 汉字, pinyin and initials."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static

from tests.conftest import TODAY
from tests.tui_explore import Route, journal_size, on_dialog, open_route, routes
from tests.tui_support import settle
from villageboard.tui.app import SCREENS_BY_MODE, VillageBoardApp, make_app
from villageboard.tui.commands import DOMAIN_COMMANDS, match_score
from villageboard.tui.dialogs import FormDialog, MessageDialog
from villageboard.tui.errors import clerk_words
from villageboard.tui.screens.phone import PhoneDeskScreen

SIZE = (120, 40)
TYPED = "草稿内容"
Started = tuple[VillageBoardApp, Pilot]  # type: ignore[type-arg]


#: Dialogs the walk must reach, by screen (a screen's walk that finds none of its dialogs
#: is a walk that went wrong).
EXPECTED = {
    "home": set(),
    "programs": set(),
    "phone": {"phone:ctrl+o"},
    "households": {"households:ctrl+t", "households:ctrl+g"},
    "notices": {"notices:ctrl+n", "notices:ctrl+o", "notices:ctrl+o+ctrl+n", "notices:ctrl+t", "notices:ctrl+b"},
    "payouts": {"payouts:ctrl+f"},
    "archive": {"archive:ctrl+y", "archive:ctrl+r"},
    "settings": {"settings:ctrl+r"},
    "applications": {"applications:enter", "applications:ctrl+g"},
}


def test_the_walk_expects_something_of_every_screen() -> None:
    assert set(EXPECTED) == set(SCREENS_BY_MODE)
    assert sum(len(v) for v in EXPECTED.values()) >= 14


#: The walks that take longest (from a quarter of a minute to over a minute on two cores) run with the slow set;
#: CI runs both.
LONG_WALKS = {"settings", "notices", "households", "applications", "payouts", "archive"}


@pytest.mark.parametrize(
    "mode", [pytest.param(m, marks=pytest.mark.slow) if m in LONG_WALKS else m for m in SCREENS_BY_MODE]
)
async def test_every_dialog_enter_moves_on_and_f2_closes_it_keeping_a_draft(demo_dir: Path, mode: str) -> None:
    """One walk through every dialog of a screen (they take long to reach, so both
    checks share it): in a form, Enter goes field by field from the first and never
    submits before the last; then, from inside any dialog, F2 closes it and answers the
    phone."""
    app = make_app(demo_dir, today=TODAY)
    seen: list[str] = []
    forms: list[str] = []
    drafts: list[tuple[Route, str]] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        async for route in routes(pilot, app, [mode]):
            seen.append(str(route))
            dialog = app.screen
            if isinstance(dialog, FormDialog):
                forms.append(str(route))
                fields = [f for f in dialog.fields if f.kind != "note"]
                assert app.focused is dialog.query_one(f"#field-{fields[0].key}"), f"{route}: not on its first field"
                before = journal_size(demo_dir)
                for f in fields[1:]:
                    await pilot.press("enter")
                    assert app.screen is dialog, f"{route}: Enter submitted before the last field"
                    assert app.focused is dialog.query_one(f"#field-{f.key}"), f"{route}: Enter skipped {f.label}"
                assert journal_size(demo_dir) == before, f"{route}: something was saved"
            typed_into = ""
            if isinstance(dialog, FormDialog) and isinstance(app.focused, Input):
                box = app.focused
                await pilot.press(*TYPED)
                kinds = {f"field-{f.key}": f.kind for f in dialog.fields}
                if kinds.get(box.id or "") == "text":  # drafts keep free text, not numbers or dates
                    typed_into = box.id or ""
            await pilot.press("f2")
            await settle(pilot, app)
            assert not on_dialog(app), f"{route}: a dialog is still open"
            assert isinstance(app.screen, PhoneDeskScreen), route
            assert app.focused is not None and app.focused.id == "query", route
            if typed_into and not drafts:
                # reopening the dialog brings back what was typed; at once, before the walk
                # goes on (its later routes may add records and move the screen's
                # selection, and a draft belongs to the record it was typed for)
                await open_route(pilot, app, route)
                assert isinstance(app.screen, FormDialog), route
                assert TYPED in app.screen.query_one(f"#{typed_into}", Input).value, (route, "draft lost")
                await pilot.press("escape")
                await settle(pilot, app)
            if typed_into:
                drafts.append((route, typed_into))
        # the phone desk itself still works after all that (F2 also closes the report
        # of a job that finished meanwhile, such as 检查数据)
        await pilot.press("f2", *"zhangwei")
        await settle(pilot, app)
        assert app.screen.query_one("#hits", DataTable).row_count > 0
    assert EXPECTED[mode] <= set(seen), sorted(EXPECTED[mode] - set(seen))
    if any(r in forms for r in EXPECTED[mode]):
        assert drafts, (forms, drafts)


async def test_a_date_typed_for_posting_survives_every_global_key(demo_dir: Path) -> None:
    """F7, Ctrl+D (张贴 on a chosen date): what was typed comes back after F1, F5, the
    palette or Esc closed the dialog, on the same notice."""
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        route = Route("notices", ("ctrl+d",))
        typed = "2026-11-20"
        for key in ["f1", "f5", "ctrl+p", "escape"]:
            await open_route(pilot, app, route)
            dialog = app.screen
            assert isinstance(dialog, FormDialog) and app.focused is dialog.query_one("#field-start")
            box = dialog.query_one("#field-start", Input)
            box.value = ""
            await pilot.press(*typed, "enter", "backspace", *"15")
            await pilot.press(key)
            await settle(pilot, app)
            assert not isinstance(app.screen, FormDialog), key
            if key == "ctrl+p":
                await pilot.press("escape")
                await settle(pilot, app)
            await open_route(pilot, app, route)
            dialog = app.screen
            assert isinstance(dialog, FormDialog)
            values = (dialog.query_one("#field-start", Input).value, dialog.query_one("#field-days", Input).value)
            assert values == (typed, "15"), (key, values)
            await pilot.press("ctrl+s")  # 下一步: the question before posting, on the typed date
            await settle(pilot, app)
            assert "公示期：2026-11-20" in str(app.screen.query_one(".dialog-message", Static).render()), key
            await pilot.press("escape")
            await settle(pilot, app)


async def test_marking_deceased_takes_a_chosen_state_and_a_typed_date(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        await open_route(pilot, app, Route("households", ("ctrl+t",)))
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        before = journal_size(demo_dir)
        await pilot.press("enter", "enter", "enter")  # nothing chosen, nothing typed: refused
        await settle(pilot, app)
        assert app.screen is dialog and journal_size(demo_dir) == before
        await pilot.press("shift+tab", "space", "down", "down", "enter")  # 状态: open, past 正常 to 已故
        await settle(pilot, app)
        await pilot.press("enter", *"2026-03-01", "enter")
        await settle(pilot, app)
        assert not on_dialog(app)
        changed = [
            h
            for h in svc.registry.households()
            if h.status == "deceased" and h.status_date is not None and h.status_date.isoformat() == "2026-03-01"
        ]
        assert len(changed) == 1
        # the next keys went nowhere near the form: the name box did not get the date
        assert app.screen.query_one("#in-name", Input).value == changed[0].name


def _palette_texts(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(o.prompt) for o in app.screen.query_one(OptionList).options]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def started(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Started]:
    """One app started on a copy of the demo for the palette tests of this module: they
    only move between screens, and each begins on the home screen with nothing open."""
    base = tmp_path_factory.mktemp("palette")
    with pytest.MonkeyPatch.context() as mp:  # as tests/conftest.py isolates each test
        for var, name in (("VILLAGEBOARD_HOME", "home"), ("VILLAGEBOARD_CACHE", "cache")):
            (base / name).mkdir()
            mp.setenv(var, str(base / name))
        mp.setenv("VILLAGEBOARD_TODAY", TODAY.isoformat())
        mp.setenv("VILLAGEBOARD_AUTO_BACKUP", "0")
        shutil.copytree(demo_template, base / "data")
        app = make_app(base / "data", today=TODAY)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            yield app, pilot


async def from_home(started: Started) -> Started:
    """The shared app with every dialog the last test opened closed, on the home screen."""
    app, pilot = started
    for key in ("f7", "f9", "f1"):  # the screens the palette tests open things on
        await pilot.press(key)
        await settle(pilot, app)
        while len(app.screen_stack) > 1:
            await pilot.press("escape")
            await settle(pilot, app)
    assert app.current_mode == "home" and len(app.screen_stack) == 1
    return app, pilot


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("query", ["beifen", "bf", "备份"])
async def test_palette_finds_backup_by_hanzi_pinyin_and_initials(started: Started, query: str) -> None:
    app, pilot = await from_home(started)
    await pilot.press("f7", "ctrl+n")  # from inside a dialog
    await settle(pilot, app)
    assert on_dialog(app)
    await pilot.press("ctrl+p")
    await settle(pilot, app)
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    await settle(pilot, app)  # the palette's search is a worker
    texts = _palette_texts(app)
    assert texts and texts[0].startswith("备份"), texts
    await pilot.press("enter")
    await settle(pilot, app)
    assert app.current_mode == "settings"


@pytest.mark.asyncio(loop_scope="module")
async def test_palette_says_no_match_in_chinese(started: Started) -> None:
    app, pilot = await from_home(started)
    await pilot.press("ctrl+p", *"qqxq")
    await settle(pilot, app)
    await pilot.pause(0.6)  # the palette says "no matches" on a half-second timer of its own
    texts = _palette_texts(app)
    assert any("没有找到" in t for t in texts), texts
    assert not any("No matches" in t for t in texts), texts


def test_palette_has_every_screen_and_the_jobs_clerks_asked_for() -> None:
    assert {c.mode for c in DOMAIN_COMMANDS} == set(SCREENS_BY_MODE)
    for query, expected in [
        ("对账", "对账"),
        ("duizhang", "对账"),
        ("风险", "核实风险提示"),
        ("fx", "核实风险提示"),
        ("设置", "设置"),
        ("shezhi", "设置"),
        ("备份", "备份…"),
        ("yiyi", "处理异议…"),
        ("chaxun", "电话查询…（来电）"),
    ]:
        ranked = sorted(DOMAIN_COMMANDS, key=lambda c: -match_score(c, query))
        assert match_score(ranked[0], query) > 0 and expected in [c.name for c in ranked[:3]], (query, ranked[:3])
    assert all(match_score(c, "qqxq") == 0 for c in DOMAIN_COMMANDS)


async def test_saved_message_keeps_every_wide_character_at_80x24(demo_dir: Path) -> None:
    """Toasts over a form lost characters ("已保存：赵    ，南庄村三组"): the message
    line shows the whole sentence as the screen really draws it."""
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f3", "ctrl+n", "enter", "enter", *"赵小明", "enter", *"141025198003150019")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        line = app.message_line()
        assert line is not None and line.text.startswith("已保存：赵小明，"), line and line.text
        svg = app.export_screenshot()
        drawn = [html.unescape(t).replace("\xa0", " ") for t in re.findall(r">([^<>]*)</text>", svg)]
        assert any(line.text[:30] in t for t in drawn), [t for t in drawn if "赵" in t]


async def test_a_refused_submit_keeps_the_dialog_and_the_text_and_names_no_flag(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        posted = app.screen.query_one("#posted", DataTable)
        keys = [str(k.value) for k in posted.rows]
        code = next(k for k in reversed(keys) if svc.notices.get(k).version == 1)
        posted.focus()
        await pilot.press(*(["down"] * keys.index(code)), "enter")
        await settle(pilot, app)
        await pilot.press("ctrl+o")
        await settle(pilot, app)
        await pilot.press("ctrl+n", *"我家代耕情况没有写上", "ctrl+s")
        await settle(pilot, app)
        [objection] = svc.notices.objections(code=code, state="open")
        await pilot.press("enter")  # resolve the highlighted one
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        # 生成更正公示 ticked, but nothing to correct: the service refuses
        await pilot.press(*"经村委会核实", "enter", "space", "ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog)
        message = str(app.screen.query_one("#message-text", Static).render())
        assert "--" not in message and "改为" in message, message
        await pilot.press("enter")  # 知道了
        await settle(pilot, app)
        assert app.screen is dialog
        assert dialog.query_one("#field-text", Input).value == "经村委会核实"
        assert svc.notices.objection(objection.id)[1].state == "open"


def test_no_command_line_flag_reaches_the_clerk_in_the_app() -> None:
    """Every message literal in the services that names a flag reads without it here."""
    root = Path(__file__).resolve().parent.parent / "villageboard" / "services"
    found = 0
    for path in root.glob("*.py"):
        for literal in re.findall(r'f?"([^"\n]*[\u4e00-\u9fff][^"\n]*--[a-z][^"\n]*)"', path.read_text("utf-8")):
            found += 1
            shown = clerk_words(literal)
            assert not re.search(r"--[a-z]", shown), (path.name, literal, shown)
            assert "villageboard " not in shown, (path.name, literal, shown)
    assert found >= 4  # the scan finds the flags it is meant to (--program, --set, --year, --dry-run)


async def test_a_refused_application_edit_keeps_what_was_typed(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f5", "ctrl+t", "enter")
        await settle(pilot, app)
        choices = app.screen.query_one("#choices", OptionList)
        await pilot.press(*(["down"] * choices.get_option_index("edit")), "enter")
        await settle(pilot, app)
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        before = journal_size(demo_dir)
        await pilot.press("end", *(["backspace"] * 12), *"十二亩半", "ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog)
        await pilot.press("enter")
        await settle(pilot, app)
        # the first box: 数量, or 确权面积 on a row with land (its 数量 follows the land)
        typed = dialog.query("#field-quantity, #field-certified_area").first(Input)
        assert app.screen is dialog and typed.value == "十二亩半"
        assert journal_size(demo_dir) == before
