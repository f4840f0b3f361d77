"""Files without typing paths: the chooser, driven by the keyboard at 80x24, picks a
sheet on a USB stick for an import and a folder for a written sheet; what it picked
is offered again as a recent folder."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.conftest import TODAY
from tests.test_transfer import person, write_xlsx
from tests.tui_explore import settle
from villageboard.services import backup as backup_service
from villageboard.tui.app import VillageBoardApp, make_app
from villageboard.tui.dialogs import FormDialog, MessageDialog
from villageboard.tui.dialogs.chooser import FolderTree, PathChooser
from villageboard.tui.recent import recent_folders

SIZE = (80, 24)


@pytest.fixture
def stick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A USB stick the system has mounted, and a home folder of the clerk's own."""
    home = tmp_path / "home"
    (home / "桌面").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    media = tmp_path / "media" / "clerk"
    (media / "STICK1").mkdir(parents=True)
    monkeypatch.setattr(
        backup_service,
        "removable_drives",
        partial(backup_service.removable_drives, bases=[media], is_mount=lambda p: Path(p).name.startswith("STICK")),
    )
    return media / "STICK1"


async def tree_shows(pilot: Pilot, app: VillageBoardApp, folder: Path, entries: bool = True) -> FolderTree:
    """The chooser's tree once it shows ``folder`` (and its entries: they load in the
    background)."""
    tree = app.screen.query_one(FolderTree)
    for _ in range(200):
        await pilot.pause()
        if Path(tree.path) == folder and (tree.root.children or not entries):
            return tree
    raise AssertionError(f"the tree never showed {folder}")


async def open_place(pilot: Pilot, app: VillageBoardApp, label: str) -> None:
    """In the chooser: Tab to the places, pick the one whose label starts with ``label``."""
    chooser = app.screen
    assert isinstance(chooser, PathChooser)
    await pilot.press("tab")
    places = chooser.query_one("#chooser-places", OptionList)
    assert app.focused is places
    labels = [str(places.get_option_at_index(i).prompt) for i in range(places.option_count)]
    index = next(i for i, text in enumerate(labels) if text.startswith(label))
    await pilot.press(*["down"] * index, "enter")
    await pilot.pause()


async def test_import_a_sheet_picked_on_a_usb_stick(demo_dir: Path, stick: Path) -> None:
    rows = [person(900 + i, 户主姓名=name) for i, name in enumerate(["欧阳秀兰", "司马建国"])]
    sheet = write_xlsx(stick / "新增农户.xlsx", rows)
    (stick / "说明.txt.bak").write_text("not offered", encoding="utf-8")
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f3", "ctrl+g")
        await settle(pilot, app)
        form = app.screen
        assert isinstance(form, FormDialog)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, PathChooser)
        await open_place(pilot, app, "U盘 STICK1")
        tree = await tree_shows(pilot, app, stick)
        assert app.focused is tree
        assert [Path(n.data.path).name for n in tree.root.children] == ["新增农户.xlsx"]  # type: ignore[union-attr]
        await pilot.press("down", "enter")  # the sheet: chosen
        await settle(pilot, app)
        assert app.screen is form
        assert form.query_one("#field-path", Input).value == str(sheet)
        assert app.focused is form.query_one("#field-dry")  # on to the next field
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog)
        assert app.svc is not None
        for r in rows:
            h = app.svc.registry.by_id_number(r["身份证号码"])
            assert h is not None and h.name == r["户主姓名"]
    assert recent_folders()[0] == stick.resolve()


async def test_county_sheet_written_to_a_folder_picked_from_recent_folders(
    demo_dir: Path, stick: Path, tmp_path: Path
) -> None:
    out = tmp_path / "报表"
    out.mkdir()
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        # a folder picked once (here: typed into the chooser's place box) is offered again
        await pilot.press("f6", "ctrl+k")
        await settle(pilot, app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        place = app.screen.query_one("#chooser-place", Input)
        place.value = str(out)
        place.focus()
        await pilot.press("enter")
        await tree_shows(pilot, app, out, entries=False)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, FormDialog)
        await pilot.press("escape")
        await settle(pilot, app)
        # again: this time from the recent folders
        await pilot.press("ctrl+k", "ctrl+o")
        await settle(pilot, app)
        await open_place(pilot, app, "最近 报表")
        await tree_shows(pilot, app, out, entries=False)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.query_one("#field-folder", Input).value == str(out.resolve())
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    assert [p.name for p in out.iterdir()] == [f"报县汇总表-{TODAY.year}.xlsx"]
