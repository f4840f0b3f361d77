"""The app and its factory. The CLI entry point and the tests build it the same way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from villageboard.domain.errors import DamagedError, LockedError, VBError
from villageboard.services import Services


class VillageBoardApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "村务公开栏工具包"
    BINDINGS = [
        Binding("ctrl+q", "quit", "退出", id="quit", tooltip="退出程序（数据随时已保存）"),
        Binding("f1", "home", "首页", id="home", tooltip="回到首页"),
    ]

    def __init__(self, data_dir: Path, readonly: bool = False, today: dt.date | None = None) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.start_readonly = readonly
        self.today = today
        self.svc: Services | None = None
        self.open_error: str = ""

    def open_services(self) -> None:
        try:
            self.svc = Services.open(
                self.data_dir, readonly=self.start_readonly, fallback_readonly=True, today=self.today
            )
        except DamagedError as exc:
            from villageboard.store.backup import last_backup

            self.open_error = str(DamagedError(exc.path, exc.reason, last_backup(self.data_dir)))
        except (LockedError, VBError) as exc:
            self.open_error = str(exc)

    def on_mount(self) -> None:
        self.open_services()
        if self.svc is None:
            from villageboard.tui.screens.error import FatalErrorScreen

            self.push_screen(FatalErrorScreen(self.open_error))
            return
        t = self.svc.township
        self.sub_title = f"{t.county}{t.name}" + ("（只读）" if self.svc.readonly else "")
        from villageboard.tui.screens.home import HomeScreen

        self.push_screen(HomeScreen())
        if self.svc.readonly and not self.start_readonly:
            self.notify("另一个窗口正在修改数据，本窗口以只读方式打开，只能查看。", severity="warning", timeout=10)
        for msg in self.svc.open_messages:
            self.notify(msg, timeout=8)

    def action_home(self) -> None:
        from villageboard.tui.screens.home import HomeScreen

        while len(self.screen_stack) > 2:
            self.pop_screen()
        if not isinstance(self.screen, HomeScreen) and self.svc is not None:
            self.push_screen(HomeScreen())

    def on_unmount(self) -> None:
        if self.svc is not None:
            self.svc.close()
            self.svc = None


def make_app(data_dir: Path, readonly: bool = False, today: dt.date | None = None) -> VillageBoardApp:
    """The one factory for the app, used by the command line and by the tests."""
    return VillageBoardApp(data_dir, readonly=readonly, today=today)
