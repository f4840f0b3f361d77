"""The app at 80x24, as a clerk on a small screen uses it: every screen's keys in view,
fields wide enough to type in, the field in use scrolled into view, lines that break
between words and never inside a code or number; and what the lists say about open
objections and payouts before a caller is verified."""

from __future__ import annotations

import random
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable, Input, OptionList, Select, Static

from tests.conftest import TODAY
from tests.tui_explore import MODE_KEY, settle
from villageboard.domain.validate import birth_date_of
from villageboard.services.phone_records import IN_HAND
from villageboard.tui.app import SCREENS_BY_MODE, VillageBoardApp, make_app
from villageboard.tui.dialogs import FormDialog
from villageboard.tui.screens.home import HomeScreen
from villageboard.tui.screens.notices import NoticeScreen
from villageboard.tui.text import break_lines
from villageboard.tui.widgets.navbar import NAV, nav_content

SIZE = (80, 24)


def visible(app: VillageBoardApp, widget) -> bool:  # type: ignore[no-untyped-def]
    r = widget.region
    return r.width > 0 and r.height > 0 and 0 <= r.y < app.size.height and r.right <= app.size.width


def row_texts(table: DataTable) -> list[list[str]]:  # type: ignore[type-arg]
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_every_screen_at_80x24_shows_all_screen_keys_and_fields_to_type_in(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        for mode in SCREENS_BY_MODE:
            await pilot.press(MODE_KEY[mode])
            await settle(pilot, app)
            screen = app.screen
            assert screen.has_class("-narrow") and screen.has_class("-short"), mode
            nav = str(screen.query_one("#navbar", Static).render())
            for key, _mode, _label in NAV:
                assert key.upper() in nav, (mode, key)
            assert screen.query_one("#navbar").region.width == SIZE[0]
            for box in [*screen.query(Input), *screen.query(Select)]:
                if box.display and all(a.display for a in box.ancestors_with_self if hasattr(a, "display")):
                    assert box.size.width >= 12, (mode, box.id, box.size.width)
            assert app.focused is None or visible(app, app.focused), (mode, app.focused)


async def test_household_form_at_80x24_brings_each_field_into_view(demo_dir: Path) -> None:
    """The form sits under the list at 80 columns: Enter moves field by field and the
    screen follows, so the clerk always sees where the typing goes."""
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f3", "ctrl+n")
        await settle(pilot, app)
        seen = []
        for _ in range(8):
            focused = app.focused
            assert focused is not None and visible(app, focused), (seen, focused)
            seen.append(focused.id)
            if focused.id == "in-remark":
                break
            await pilot.press("enter")
            await pilot.pause()
        assert seen[0] == "in-village" and seen[-1] == "in-remark", seen


def test_lines_break_between_chinese_characters_never_inside_a_code_or_number() -> None:
    tokens = ["2026-005396", "141025-2026-0025", "238,114.60元", "103.68元/亩", "0357-5221234"]
    rng = random.Random(15)
    for _ in range(200):
        words = [rng.choice(["申报编号", "应补合计", "，东沟村", "的", "东沟村", "（通过176）"]) for _ in range(8)]
        words[rng.randrange(8)] = rng.choice(tokens)
        text = "".join(words)
        width = rng.randrange(18, 40)  # wider than any one code: none needs folding
        lines = break_lines(text, width)
        assert "".join(lines) == text
        for line in lines:
            assert Text(line).cell_len <= width
        for token in tokens:
            if token in text:
                assert any(token in line for line in lines), (token, lines)
        # closing punctuation never starts a line
        assert not any(line.startswith(("，", "）")) for line in lines[1:]), lines


async def test_open_objections_show_on_f1_and_f7_with_the_days_left(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        counts = svc.notices.open_objection_counts(TODAY.year)
        assert counts, "the demo has an open objection"
        code = sorted(counts)[0]
        days = svc.notices.objection_days(svc.notices.get(code))
        days_text = "今天最后一天" if days == 1 else f"还有{days}天"
        home = app.screen
        assert isinstance(home, HomeScreen)
        rows = row_texts(home.query_one("#posted", DataTable))
        mine = next(r for r in rows if r[0].startswith(code))
        assert mine[2:4] == [f"{counts[code]}条", days_text]
        assert all(r[2] == "" for r in rows if not r[0].startswith(tuple(counts)))
        # the to-do line names the notice and Enter opens it on F7
        due = home.query_one("#due", OptionList)
        index = next(i for i in range(due.option_count) if "异议未处理" in str(due.get_option_at_index(i).prompt))
        assert code in str(due.get_option_at_index(index).prompt)
        due.focus()
        due.highlighted = index
        await pilot.press("enter")
        await settle(pilot, app)
        notices = app.screen
        assert isinstance(notices, NoticeScreen)
        current = notices.current()
        assert current is not None and current.notice.code == code
        table = notices.query_one("#notice-list", DataTable)
        assert [str(c) for c in table.get_row_at(table.cursor_row)][4:6] == [f"{counts[code]}条", days_text]
        assert f"有异议{len(counts)}份" in str(notices.query_one("#notice-count", Static).render())
        # and the objection list says how long objections may still come in
        await pilot.press("ctrl+o")
        await settle(pilot, app)
        note = str(app.screen.query_one("#objections-note", Static).render())
        assert ("最后一天" in note) if days == 1 else (f"还可以登记异议{days}天" in note)
        # the longest form of all, at 80x24: each field comes into view as Enter reaches it
        await pilot.press("enter")
        await settle(pilot, app)
        form = app.screen
        assert isinstance(form, FormDialog)
        for i, f in enumerate(f for f in form.fields if f.kind != "note"):
            assert app.focused is form.query_one(f"#field-{f.key}") and visible(app, app.focused), f.label
            if i < len([f for f in form.fields if f.kind != "note"]) - 1:
                await pilot.press("enter")
                await pilot.pause()
        assert visible(app, form.query_one("#submit"))


async def test_phone_desk_shows_a_paid_record_in_hand_until_its_result_notice_is_up(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        svc = app.svc
        assert svc is not None
        names: dict[str, int] = {}
        for h in svc.registry.households():
            names[h.name] = names.get(h.name, 0) + 1
        target = next(
            h
            for h in svc.registry.households()
            if names[h.name] == 1 and any(r.status == IN_HAND for r in svc.phone.household_view(h.id).records)
        )
        await pilot.press("f2", *target.name)
        await settle(pilot, app)
        history = row_texts(app.screen.query_one("#history", DataTable))
        public = {(r.year, r.program_name): r.status for r in svc.phone.household_view(target.id).records}
        shown = {(int(row[0]), row[1]): row[4] for row in history}
        assert shown == {(y, p): s for (y, p), s in public.items()}
        assert IN_HAND in shown.values()
        # what the bank reported, shown only once the caller is verified
        identity = svc.phone.check_identity(target.id, birth_date_of(target.id_number)).identity
        own = {(r.year, r.program_name): r.status for r in svc.phone.household_view(target.id, identity).records}
        for key, status in shown.items():
            if status == IN_HAND:
                assert own[key] in ("已发放", "发放失败"), (key, own[key])


def test_the_key_line_fits_every_width_from_60_columns_with_every_key() -> None:
    for width in range(56, 140):
        line = nav_content("settings", width)
        assert line.cell_length <= width, width
        for key, _mode, _label in NAV:
            assert key.upper() in line.plain, (width, key)
        assert "设置" in line.plain  # the last name is never cut off
    assert "F2 电话查询" in nav_content("home", 118).plain and "F2 电话" in nav_content("home", 78).plain
