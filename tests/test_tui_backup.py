"""Backups where the clerk needs them, driven through the app: 备份到… a folder picked in
the chooser or a USB stick listed by name, with or without a passphrase; F1 showing
the last backup; restoring an encrypted backup (a wrong passphrase restores nothing)
and a backup of another township (only after typing this township's name)."""

from __future__ import annotations

import os
import stat
from functools import partial
from pathlib import Path

import pytest
import pyzipper
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.services import Services
from villageboard.services import backup as backup_service
from villageboard.services.township import update_settings
from villageboard.tui.app import VillageBoardApp, make_app
from villageboard.tui.dialogs import ChoiceDialog, ConfirmDialog, FormDialog, MessageDialog
from villageboard.tui.dialogs.chooser import PathChooser
from villageboard.tui.dialogs.passphrase import PassphraseDialog

SIZE = (120, 40)
WORD = "门前大树2026"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The clerk's home folder, where the chooser starts."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    return h


@pytest.fixture
def sticks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where USB sticks are mounted: folders in it whose name starts with
    STICK count as mounted, the others are left-over mount folders."""
    media = tmp_path / "media" / "clerk"
    media.mkdir(parents=True)
    real = backup_service.removable_drives
    monkeypatch.setattr(
        backup_service,
        "removable_drives",
        partial(real, bases=[media], is_mount=lambda p: Path(p).name.startswith("STICK")),
    )
    return media


async def wait_for(pilot: Pilot, ok, what: str, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    """Until ``ok()``: each round waits for what the app has in hand (its messages, its
    workers: a backup, a restore, a folder being read) to finish, never for the clock."""
    for _ in range(rounds):
        await settle(pilot, pilot.app)  # type: ignore[arg-type]
        if ok():
            return
        await pilot.pause()
    raise AssertionError(f"{what} never came; screen is {pilot.app.screen!r}")


def options(app: VillageBoardApp) -> list[str]:
    ol = app.screen.query_one(OptionList)
    return [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]


def message(app: VillageBoardApp) -> str:
    return str(app.screen.query_one("#message-text", Static).render())


def encrypted_unreadable(path: Path) -> bool:
    with pyzipper.AESZipFile(path) as zf:
        names = zf.namelist()
        try:
            zf.read(names[0])
        except RuntimeError:
            return True
    return False


async def open_settings(pilot: Pilot, app: VillageBoardApp) -> None:
    await settle(pilot, app)
    await pilot.press("f9")
    await settle(pilot, app)


async def test_backup_to_a_chosen_folder_with_a_passphrase_then_f1_shows_it(
    demo_dir: Path, home: Path, sticks: Path
) -> None:
    target = home / "U盘备份"
    target.mkdir()
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        labels = options(app)
        assert labels[0].startswith("备份文件夹") and labels[-1] == "选择其他文件夹…" and len(labels) == 2
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PathChooser), "the folder chooser")
        chooser = app.screen
        await wait_for(pilot, lambda: chooser.tree.root.children, "the folders of home")
        assert [n.label.plain for n in chooser.tree.root.children] == ["U盘备份"]  # folders only
        await pilot.press("down")
        await pilot.pause()
        assert "U盘备份" in str(chooser.query_one("#chooser-chosen", Static).render())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PassphraseDialog), "the passphrase")
        note = str(app.screen.query_one("#passphrase-note", Static).render())
        assert "U盘备份" in note and "个人信息" in note
        await pilot.press(*WORD)
        await pilot.press("enter")  # to the second box: nothing starts yet
        await pilot.pause()
        assert isinstance(app.screen, PassphraseDialog) and not list(target.iterdir())
        await pilot.press(*WORD[:-1], "x", "enter")  # not the same: refused
        await pilot.pause()
        assert isinstance(app.screen, PassphraseDialog)
        assert "不一样" in str(app.screen.query_one("#passphrase-message", Static).render())
        await pilot.press("backspace", WORD[-1], "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MessageDialog), "the backup")
        said = message(app)
        found = list(target.glob("villageboard-*.zip"))
        assert len(found) == 1, list(target.iterdir())
        assert found[0].name in said and "密码" in said and "已检查完好" in said
        assert encrypted_unreadable(found[0])
        with pyzipper.AESZipFile(found[0]) as zf:
            zf.setpassword(WORD.encode())
            assert zf.read("registry.json")
        assert stat.S_IMODE(found[0].stat().st_mode) == 0o600
        assert app.svc is not None
        last = app.svc.backups.last()
        assert last is not None and last.where == found[0] and last.encrypted and last.verified
        await pilot.press("escape", "f1")
        await settle(pilot, app)
        line = next(t for t in options(app) if "备份" in t)
        assert "U盘备份" in line and "已检查完好" in line and "有密码" in line and "还没有" not in line


async def test_backup_to_a_usb_stick_listed_by_name_without_passphrase(
    demo_dir: Path, home: Path, sticks: Path
) -> None:
    (sticks / "STICK-KINGSTON").mkdir()
    (sticks / "OLD-MOUNT").mkdir()  # an empty folder left from an earlier stick
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        labels = options(app)
        assert len(labels) == 3 and "U盘 STICK-KINGSTON" in labels[1] and not any("OLD" in t for t in labels)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PassphraseDialog), "the passphrase")
        assert app.svc is not None
        real_make = app.svc.backups.make
        seen: list[tuple[bool, object]] = []

        def make(*a, **k):  # type: ignore[no-untyped-def]
            # the job holds no write lock (the clerk's saves go on) and zips in a child process
            free = app.write_lock.acquire(blocking=False)
            if free:
                app.write_lock.release()
            seen.append((free, k.get("isolate")))
            return real_make(*a, **k)

        app.svc.backups.make = make  # type: ignore[method-assign]
        await pilot.press("enter", "enter")  # no passphrase
        await wait_for(pilot, lambda: isinstance(app.screen, MessageDialog), "the backup")
        said = message(app)
        assert seen == [(True, True)] and "已检查完好" in said
        assert "个人信息" in said and "STICK-KINGSTON" in said
        found = list((sticks / "STICK-KINGSTON").glob("villageboard-*.zip"))
        assert len(found) == 1 and not encrypted_unreadable(found[0])
        assert stat.S_IMODE(found[0].stat().st_mode) == 0o600
        await pilot.press("escape", "f1")
        await settle(pilot, app)
        line = next(t for t in options(app) if "备份" in t)
        assert "STICK-KINGSTON" in line and "没有密码" in line


def test_removable_drives_lists_mounted_folders_only(tmp_path: Path) -> None:
    media = tmp_path / "media"
    for name in ("STICK-A", "STICK-B", "leftover"):
        (media / name).mkdir(parents=True)
    (media / "STICK-file").write_text("x")
    # plain folders of one file system are not mounts
    assert backup_service.removable_drives(bases=[media]) == []
    seen = backup_service.removable_drives(
        bases=[media, tmp_path / "missing"], is_mount=lambda p: Path(p).name.startswith("STICK")
    )
    assert seen == [media / "STICK-A", media / "STICK-B"]
    if os.path.ismount("/proc"):  # the real mount check, on a real mount
        assert Path("/proc") in backup_service.removable_drives(bases=[Path("/")])


async def test_restore_an_encrypted_backup_wrong_passphrase_restores_nothing(
    demo_dir: Path, home: Path, sticks: Path
) -> None:
    stick = sticks / "STICK-1"
    stick.mkdir()
    with Services.open(demo_dir, today=TODAY) as svc:
        old = svc.township.hotline
        svc.backups.make(out=stick, passphrase=WORD, isolate=False)
        update_settings(svc, hotline="0357-9999999")
    before = {p: p.read_bytes() for p in demo_dir.rglob("*") if p.is_file()}
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        labels = options(app)
        assert labels[0] == "从U盘 STICK-1 选备份文件…" and labels[-1] == "从其他文件夹选备份文件…"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PathChooser), "the file chooser")
        chooser = app.screen
        await wait_for(pilot, lambda: chooser.tree.root.children, "the files on the stick")
        await pilot.press("down", "enter")  # the one .zip: chosen
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("left", "enter")  # the dialog starts on 取消
        await wait_for(pilot, lambda: isinstance(app.screen, PassphraseDialog), "the passphrase")
        await pilot.press(*"wrong-word", "enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, PassphraseDialog)
                and "密码不对" in str(app.screen.query_one("#passphrase-message", Static).render())
            ),
            "the wrong-passphrase message",
        )
        await settle(pilot, app)
        assert app.svc is not None and app.svc.township.hotline == "0357-9999999"
        after = {p: p.read_bytes() for p in demo_dir.rglob("*") if p.is_file() and p in before}
        assert after == before  # nothing restored, nothing changed
        await pilot.press(*WORD, "enter")
        await wait_for(pilot, lambda: app.svc is not None and app.svc.township.hotline == old, "the restore")
        await settle(pilot, app)
    with Services.open(demo_dir, today=TODAY, readonly=True) as svc:
        assert svc.township.hotline == old


async def test_restore_of_another_township_only_after_typing_this_name(
    demo_dir: Path, home: Path, sticks: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "data"
    other.parent.mkdir()
    import shutil

    shutil.copytree(demo_dir, other)
    with Services.open(other, today=TODAY) as svc:
        update_settings(svc, name="石门乡", code="141026")
        backup = svc.backups.make(out=home, isolate=False).path
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("enter")  # 从其他文件夹选…: the chooser starts at home
        await wait_for(pilot, lambda: isinstance(app.screen, PathChooser), "the file chooser")
        chooser = app.screen
        await wait_for(pilot, lambda: chooser.tree.root.children, "the files at home")
        await pilot.press("down", "ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("left", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog), "the township question")
        note = str(app.screen.query_one(".dialog-message", Static).render())
        assert "石门乡" in note and "岳阳镇" in note and "--" not in note
        await pilot.press(*"石门乡", "enter")  # their name, not ours: refused
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert app.svc is not None and app.svc.township.name == "岳阳镇"
        await pilot.press("end", "backspace", "backspace", "backspace", *"岳阳镇", "enter")
        await wait_for(pilot, lambda: app.svc is not None and app.svc.township.name == "石门乡", "the restore")
        await settle(pilot, app)
    assert backup.exists()


async def test_a_folder_typed_in_the_chooser_and_never_inside_the_data(
    demo_dir: Path, home: Path, sticks: Path
) -> None:
    from textual import events
    from textual.widgets import Input

    elsewhere = home / "别处" / "备份"
    elsewhere.mkdir(parents=True)
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, app)

        async def choose(folder: Path) -> None:
            await pilot.press("ctrl+b")
            await pilot.pause()
            await pilot.press("down", "enter")  # 选择其他文件夹…
            await wait_for(pilot, lambda: isinstance(app.screen, PathChooser), "the folder chooser")
            await pilot.press("shift+tab")  # the place box above the tree
            box = app.screen.focused
            assert isinstance(box, Input) and box.id == "chooser-place"
            await pilot.press("home", "ctrl+k")
            box.post_message(events.Paste(str(folder)))
            await pilot.pause()
            await pilot.press("enter")  # goes there; chooses nothing yet
            await wait_for(pilot, lambda: Path(app.screen.tree.path) == folder, "the typed folder")
            assert isinstance(app.screen, PathChooser)
            await pilot.press("ctrl+s")
            await pilot.pause()

        await choose(demo_dir / "attachments" if (demo_dir / "attachments").is_dir() else demo_dir)
        assert isinstance(app.screen, MessageDialog) and "数据文件夹" in message(app)
        await pilot.press("escape")
        await pilot.pause()
        await choose(elsewhere)
        assert isinstance(app.screen, PassphraseDialog)
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MessageDialog), "the backup")
        assert len(list(elsewhere.glob("villageboard-*.zip"))) == 1
    assert not list(demo_dir.rglob("villageboard-*.zip"))


async def test_damaged_data_restores_from_an_encrypted_backup_after_the_passphrase(demo_dir: Path) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        svc.backups.make(passphrase=WORD, isolate=False)  # the standard folder, encrypted
    reg = demo_dir / "registry.json"
    reg.write_bytes(reg.read_bytes()[:50])
    damaged = reg.read_bytes()
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("left", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PassphraseDialog), "the passphrase")
        await pilot.press(*"not-it", "enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, PassphraseDialog)
                and "密码不对" in str(app.screen.query_one("#passphrase-message", Static).render())
            ),
            "the wrong-passphrase message",
        )
        assert app.svc is None and reg.read_bytes() == damaged
        await pilot.press(*WORD, "enter")
        await wait_for(pilot, lambda: app.svc is not None, "the restore")
        await settle(pilot, app)
        assert "岳阳镇" in str(app.screen.query_one("#township", Static).render())


async def test_chooser_goes_up_with_backspace_and_esc_backs_up_nothing(
    demo_dir: Path, home: Path, sticks: Path
) -> None:
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PathChooser), "the folder chooser")
        assert Path(app.screen.tree.path) == home
        await pilot.press("backspace")
        await wait_for(pilot, lambda: Path(app.screen.tree.path) == home.parent, "the folder above")
        await wait_for(
            pilot, lambda: "home" in [n.label.plain for n in app.screen.tree.root.children], "the home folder listed"
        )
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (PathChooser, PassphraseDialog))
        assert app.svc is not None and app.svc.backups.last() is None
