"""The app opens on the demo township and shows it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from textual.widgets import DataTable, Static

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.tui.app import make_app


async def test_app_opens_on_demo_and_shows_township(demo_dir: Path) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # the counts fill in from a worker
        await pilot.pause()
        text = str(app.screen.query_one("#township", Static).render())
        assert "岳阳镇" in text and "古县" in text
        assert "岳阳镇" in app.sub_title
        households = str(app.screen.query_one("#count-households", Static).render())
        assert "240" in households
        assert app.screen.query_one("#posted", DataTable).row_count >= 1


def _due_texts(app) -> list[str]:
    from textual.widgets import OptionList

    due = app.screen.query_one("#due", OptionList)
    return [str(due.get_option_at_index(i).prompt) for i in range(due.option_count)]


async def test_home_shows_counts_first_then_risk_flags_after_the_phone_index(demo_dir: Path, monkeypatch) -> None:
    """On a start after a change the flag counts are not known: the home screen shows
    everything else at once, says the flags are being counted, and fills them in once
    the phone desk has loaded (they would compete with it)."""
    from villageboard.services.ui_support import home_extras
    from villageboard.tui.screens import home

    seen: list[list[str]] = []

    def spy(*a, **k):
        out = home_extras(*a, **k)
        seen.append([d.text for d in out.due])
        return out

    monkeypatch.setattr(home, "home_extras", spy)
    from villageboard.store import fingerprint

    monkeypatch.setattr(fingerprint, "RACY_NS", 0)  # the demo copy's files are seconds old
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await asyncio.to_thread(app.loader_done.wait, 30)  # the phone desk has loaded
        await settle(pilot, app)  # and the flags counted after it are on screen
        assert app.loader_done.is_set() and app.svc.phone.loading_years == []
        assert "风险提示正在统计…" in seen[0]  # the first pass left them for later
        final = _due_texts(app)
        assert not any("正在统计" in t for t in final)
        assert any("风险提示未核实" in t for t in final)
    # the next start knows the counts: one pass, made before the first drawing
    seen.clear()
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "240" in str(app.screen.query_one("#count-households", Static).render())
        assert not app.screen.busy
        await settle(pilot, app)
        assert len(seen) == 1 and not any("正在统计" in t for t in seen[0])
        assert any("风险提示未核实" in t for t in _due_texts(app))


async def test_after_a_save_the_first_frame_has_the_counts_and_only_the_flags_follow(
    demo_dir: Path, monkeypatch
) -> None:
    """The usual morning: yesterday's save changed one file, so the year's counts are
    made on mount from what was kept (one file afresh) and drawn at once; only the risk
    flags wait for the phone desk, and nothing is counted twice."""
    from villageboard.services import Services
    from villageboard.services.dashboard import home_summary
    from villageboard.services.ui_support import home_extras
    from villageboard.store import fingerprint
    from villageboard.tui.screens import home

    monkeypatch.setattr(fingerprint, "RACY_NS", 0)  # the demo copy's files are seconds old
    with Services.open(demo_dir, today=TODAY, operator="测试") as svc:
        s = home_summary(svc)
        home_extras(svc, s.year, failed=s.failed)  # all kept, flags included
        a = next(x for x in svc.applications.iter(TODAY.year) if not x.frozen_by and not x.void)
        svc.applications.edit(a.id, remark="昨天改的")
    seen: list[tuple[bool, list[str]]] = []
    threads: list[bool] = []

    def spy(*a, **k):
        out = home_extras(*a, **k)
        seen.append((k.get("flags", True), [d.text for d in out.due]))
        threads.append(threading.current_thread() is threading.main_thread())
        return out

    monkeypatch.setattr(home, "home_extras", spy)
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "240" in str(app.screen.query_one("#count-households", Static).render())
        assert threads[0], "the first counts were made in a worker, not before the first drawing"
        assert seen[0][0] is False and "风险提示正在统计…" in seen[0][1]
        assert await asyncio.to_thread(app.loader_done.wait, 30)  # the phone desk has loaded
        await settle(pilot, app)  # and the flags counted after it are on screen
        assert [flags for flags, _ in seen] == [False, True]  # counted once, then the flags
        final = _due_texts(app)
        assert not any("正在统计" in t for t in final)
        assert any("风险提示未核实" in t for t in final)


async def test_app_on_locked_data_opens_read_only(demo_dir: Path) -> None:
    from villageboard.store import Store

    writer = Store.open(demo_dir)
    try:
        app = make_app(demo_dir, today=TODAY)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.svc is not None and app.svc.readonly
            assert "只读" in app.sub_title
    finally:
        writer.close()


async def test_app_on_damaged_data_names_the_file(demo_dir: Path) -> None:
    reg = demo_dir / "registry.json"
    reg.write_bytes(b"\0" * 64)
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        msg = str(app.screen.query_one("#fatal-message", Static).render())
        assert "registry.json" in msg
    assert reg.read_bytes() == b"\0" * 64


async def test_first_start_of_the_day_takes_a_backup(demo_dir: Path, monkeypatch) -> None:
    from villageboard.store.backup import list_backups

    monkeypatch.setenv("VILLAGEBOARD_AUTO_BACKUP", "1")
    assert list_backups(demo_dir) == []
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert len(list_backups(demo_dir)) == 1
    app = make_app(demo_dir, today=TODAY)  # a second start the same day takes none
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert len(list_backups(demo_dir)) == 1


async def test_damaged_data_offers_the_last_backup_and_restores_it(demo_dir: Path) -> None:
    from villageboard.services import Services
    from villageboard.store.backup import make_backup

    with Services.open(demo_dir, today=TODAY) as svc:
        make_backup(svc.store)
    reg = demo_dir / "registry.json"
    reg.write_bytes(reg.read_bytes()[:50])
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        msg = str(app.screen.query_one("#fatal-message", Static).render())
        assert "registry.json" in msg and "备份" in msg
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("left", "enter")  # the dialog starts on 取消: move to 恢复
        await pilot.pause()
        await pilot.pause()
        assert app.svc is not None
        assert "岳阳镇" in str(app.screen.query_one("#township", Static).render())
    assert b"format" in reg.read_bytes()[:40]


async def test_the_daily_backup_updates_the_home_to_do_list_when_it_is_done(demo_dir: Path, monkeypatch) -> None:
    """The first start of a day backs up in the background; the home screen's to-do list
    then names that backup without the clerk pressing Ctrl+R."""
    monkeypatch.setenv("VILLAGEBOARD_AUTO_BACKUP", "1")
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)  # the counts, and the backup worker, have finished
        texts = _due_texts(app)
        assert any("最近一次备份" in t for t in texts), texts
        assert not any("还没有备份过数据" in t for t in texts), texts
