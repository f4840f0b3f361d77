"""The papers to sign from the 发放 screen: the dialog picks the paper, the village and
the form, the folder comes from the file chooser, and the file lands there."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from textual.widgets import Input

from tests.conftest import TODAY
from tests.tui_explore import settle
from villageboard.tui.app import make_app
from villageboard.tui.dialogs import FormDialog

SIZE = (120, 40)


async def test_village_roll_written_to_a_folder_picked_in_the_chooser(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "签字用表"
    out.mkdir()
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f6", "ctrl+u")
        await settle(pilot, app)
        form = app.screen
        assert isinstance(form, FormDialog)
        await pilot.press("ctrl+o")
        await settle(pilot, app)
        place = app.screen.query_one("#chooser-place", Input)
        place.value = str(out)
        place.focus()
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("ctrl+s")  # choose the folder
        await settle(pilot, app)
        assert app.screen is form
        assert form.query_one("#field-folder", Input).value == str(out.resolve())
        await pilot.press("ctrl+s")  # make the paper
        await settle(pilot, app)
        assert not isinstance(app.screen, FormDialog)
    made = list(out.iterdir())
    assert len(made) == 1 and made[0].name.startswith("发放清册-") and made[0].name.endswith("-各村.pdf")
    pdf = pdfium.PdfDocument(made[0].read_bytes())
    try:
        last = "".join(pdf[len(pdf) - 1].get_textpage().get_text_range().split())
    finally:
        pdf.close()
    assert "发放清册（续）" in last and "户次" in last and "（大写：人民币" in last and "村务监督委员会：" in last
