"""The 发放 screen keeps the order of work: a bank sheet for rows whose 申报公示 has not
run is refused with the villages named; a written reason in the dialog sends them."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Static

from tests.conftest import TODAY
from tests.order_support import review
from tests.test_tui_workflows import SIZE, paste
from tests.tui_support import settle
from villageboard.services import Services
from villageboard.tui.app import make_app
from villageboard.tui.dialogs import ConfirmDialog, FormDialog, MessageDialog

REASON = "县里统一发放，申报公示已在县平台公示"


async def test_the_bank_sheet_is_refused_with_the_villages_named_then_sent_with_a_reason(
    demo_dir: Path, tmp_path: Path
) -> None:
    with Services.open(demo_dir, today=TODAY, operator="测试") as svc:
        review(svc, "STGY")  # approved, no 申报公示 yet
    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f6")
        await settle(pilot, app)
        app.screen.query_one("#payout-program", Select).value = "2026-STGY"  # approved, no 申报公示 yet
        await settle(pilot, app)
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-folder", Input).value = str(tmp_path)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog)
        shown = str(app.screen.query_one("#message-text", Static).render())
        assert "不能生成2026年生态公益林补偿的银行发放表" in shown
        assert "东沟村" in shown and "还没有张贴申报公示" in shown
        assert "在“未经公示发放的原因”一栏写明" in shown and "--without-notice" not in shown
        assert not list(tmp_path.glob("*.xlsx"))
        await pilot.press("escape")
        await settle(pilot, app)

        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert app.focused is not None and app.focused.id == "field-folder"  # the first empty box
        await paste(pilot, str(tmp_path))
        await pilot.press("enter", "enter")  # past the file name, on to the reason box
        assert app.focused is not None and app.focused.id == "field-without_notice"
        await paste(pilot, REASON)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, MessageDialog)
        shown = str(app.screen.query_one("#message-text", Static).render())
        assert f"未经申报公示期满即发放，原因：{REASON}" in shown
        assert len(list(tmp_path.glob("*.xlsx"))) == 1
    s = Services.open(demo_dir, today=TODAY, readonly=True)
    try:
        sent = [a for a in s.applications.list(2026, "STGY") if a.payout_status == "issued"]
        assert sent and all(a.attempts[-1]["without_notice"] == REASON for a in sent)
    finally:
        s.close()
