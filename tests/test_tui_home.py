"""The app opens on the demo township and shows it."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from tests.conftest import TODAY
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
