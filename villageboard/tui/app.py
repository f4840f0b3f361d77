"""The app and its factory. The CLI entry point and the tests build it the same way.

Each working screen is a Textual *mode* with its own stack, reached by one F-key from
anywhere. F1–F9 and Ctrl+P first close whatever dialog is open (a form keeps what was
typed as a draft, see :meth:`VillageBoardApp.close_dialogs`), then act. The app
owns the open :class:`Services`, the one place errors become a readable dialog, and
the write lock that keeps a background import and a save typed meanwhile from
committing at the same time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from villageboard.domain.errors import DamagedError, LockedError, VBError
from villageboard.services import Services
from villageboard.tui.commands import DomainCommands, Palette
from villageboard.tui.errors import clerk_words, describe_error
from villageboard.tui.printing import print_file
from villageboard.tui.widgets.message import MessageLine
from villageboard.tui.widgets.navbar import NAV

T = TypeVar("T")

#: mode -> (module, screen class). Only the home screen is imported at start; the
#: others when first visited (importing all of them costs a tenth of a second).
SCREENS_BY_MODE: dict[str, tuple[str, str]] = {
    "home": ("home", "HomeScreen"),
    "phone": ("phone", "PhoneDeskScreen"),
    "households": ("households", "HouseholdScreen"),
    "programs": ("programs", "ProgramScreen"),
    "applications": ("applications", "ApplicationScreen"),
    "payouts": ("payouts", "PayoutScreen"),
    "notices": ("notices", "NoticeScreen"),
    "archive": ("archive", "ArchiveScreen"),
    "settings": ("settings", "SettingsScreen"),
}


def screen_class(mode: str) -> type[Screen[Any]]:
    module, name = SCREENS_BY_MODE[mode]
    cls: type[Screen[Any]] = getattr(importlib.import_module(f"villageboard.tui.screens.{module}"), name)
    return cls


def _factory(mode: str) -> Callable[[], Screen[Any]]:
    return lambda: screen_class(mode)()


_NAV_TIPS = {
    "home": "回到首页：本年概况、正在公示的公示和待办事项",
    "phone": "来电查询：从任何界面按F2，输入听到的名字或号码尾号",
    "households": "农户名册：查找、新增、修改，登记已故或迁出",
    "programs": "补贴项目（政策清单）和申报指南",
    "applications": "申报录入、审核和导入",
    "payouts": "银行发放表、银行回盘、对账和重新发放",
    "notices": "公示：新建、预览、张贴、打印、异议和更正",
    "archive": "已存档的公示：查找、打印存档件、核验",
    "settings": "乡镇信息、遮挡规则、字体、备份和恢复",
}


class VillageBoardApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "村务公开栏工具包"
    COMMANDS = {DomainCommands}
    MODES = {mode: _factory(mode) for mode in SCREENS_BY_MODE}
    NOTIFICATION_TIMEOUT = 6
    #: Every screen (dialogs too) carries -narrow below 100 columns and -short below 32
    #: rows; app.tcss stacks and shortens what does not fit at 80x24. -tiny (below 64
    #: columns) puts each label above its field.
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (64, "-narrow"), (100, "-roomy")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        *[
            Binding(key, f"go('{mode}')", label, show=False, priority=True, id=f"go-{mode}", tooltip=_NAV_TIPS[mode])
            for key, mode, label in NAV
        ],
        Binding(
            "ctrl+p",
            "command_palette",
            "查找命令",
            priority=True,
            id="palette",
            tooltip="按名称找要做的事：打印公示、查询农户、导入、备份…",
        ),
        Binding("ctrl+q", "quit", "退出", id="quit", tooltip="退出程序（每次保存都已写入磁盘）"),
    ]

    def __init__(self, data_dir: Path, readonly: bool = False, today: dt.date | None = None) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.start_readonly = readonly
        self.today = today
        self.svc: Services | None = None
        self.open_error: str = ""
        self.open_damaged = False
        #: Held by a background job that saves (an import) and tried by every save made
        #: from the screens, so two transactions never commit at once.
        self.write_lock = threading.Lock()
        #: How a finished poster reaches paper; tests replace it.
        self.printer: Callable[[Path], str] = print_file
        #: Set once the phone desk has loaded every year: slower counts that can wait
        #: (the home screen's risk flags after a change) wait for it rather than compete.
        self.loader_done = threading.Event()
        #: The folder posters and bank sheets were last written to (this session).
        self.output_dir: Path | None = None
        #: What was typed in forms closed without submitting, by dialog (this session).
        self.drafts: dict[str, Any] = {}

    # -- opening --------------------------------------------------------------------
    def open_services(self) -> None:
        self.open_damaged = False
        try:
            self.svc = Services.open(
                self.data_dir, readonly=self.start_readonly, fallback_readonly=True, today=self.today
            )
        except DamagedError as exc:
            from villageboard.services.backup import newest_backup_file

            self.open_error = str(DamagedError(exc.path, exc.reason, newest_backup_file(self.data_dir)))
            self.open_damaged = True
        except (LockedError, VBError) as exc:
            self.open_error = str(exc)

    def on_mount(self) -> None:
        self.open_services()
        if self.svc is None:
            self._show_fatal()
            return
        self._start()

    def _show_fatal(self) -> None:
        from villageboard.services.backup import newest_backup_file
        from villageboard.tui.screens.error import FatalErrorScreen

        backup = newest_backup_file(self.data_dir) if self.open_damaged else None
        self.push_screen(FatalErrorScreen(self.open_error, backup))

    def recover_after_restore(self) -> None:
        """The damaged data was replaced by a backup: open it and start normally."""
        self.open_services()
        if self.svc is None:
            self.pop_screen()
            self._show_fatal()
            return
        self.pop_screen()
        self.say("已用备份恢复数据。", timeout=8)
        self._start()

    def _start(self) -> None:
        assert self.svc is not None
        self._set_sub_title()
        self.switch_mode("home")
        if self.svc.readonly and not self.start_readonly:
            self.say("另一个窗口正在修改数据，本窗口以只读方式打开，只能查看。", warning=True, timeout=10)
        for msg in self.svc.open_messages:
            self.say(msg, timeout=8)
        # The phone desk's loader and the daily backup wait until the home screen shows
        # its counts (it calls home_shown): their threads would compete with it for the
        # interpreter. The timer starts them anyway should the counts never arrive.
        self._background_started = False
        self.set_timer(3.0, self.home_shown)

    def home_shown(self) -> None:
        """The home screen has its first counts on screen: start the background work."""
        if self._background_started or self.svc is None:
            return
        self._background_started = True
        self._start_phone_loader()
        self._start_daily_backup()

    def _start_daily_backup(self) -> None:
        """Once a day, on the first start, back the data up in the background (the last
        30 are kept), so a clerk who never thinks of backups still has yesterday's."""
        svc = self.svc
        if os.environ.get("VILLAGEBOARD_AUTO_BACKUP", "1") == "0":
            return  # the test suite turns it off so screens stay deterministic
        if svc is None or svc.readonly or not svc.backups.daily_due(dt.date.today()):
            return

        def backup() -> None:
            # no write lock: the backup is a consistent snapshot while saves go on
            info = svc.backups.make(reason="每日自动备份")
            self.call_from_thread(self._daily_backup_done, info.path.name)

        self.run_worker(backup, name="daily-backup", group="backup", thread=True, exit_on_error=False)

    def _daily_backup_done(self, name: str) -> None:
        self.say(f"已自动备份今天的数据：{name}", timeout=5)
        done = getattr(self.screen, "backup_done", None)  # a screen that names the last backup
        if done is not None:
            done()

    def _set_sub_title(self) -> None:
        assert self.svc is not None
        t = self.svc.township
        self.sub_title = f"{t.county}{t.name}" + ("（只读）" if self.svc.readonly else "")

    def _start_phone_loader(self) -> None:
        """Index the registry and this year for the phone desk, then older years in the
        background (the phone screen says 往年数据还在载入 until done)."""
        svc = self.svc
        if svc is None:
            return

        def load() -> None:
            try:
                svc.phone.start_background().join()
            finally:
                self.loader_done.set()

        self.run_worker(load, name="archive-loader", group="loader", thread=True, exit_on_error=False)

    def reopen(self) -> None:
        """After a restore: open the data dir again and start every screen afresh."""
        if self.svc is not None:
            self.svc.phone.cancel()
            self.svc.close()
            self.svc = None
        self.open_services()
        if self.svc is None:
            self._show_fatal()
            return
        self._set_sub_title()

        async def fresh() -> None:
            # Screens hold what they showed of the old data: replace every one. The
            # current mode cannot be removed, so stand on a blank one meanwhile.
            if "reopening" not in self._modes:
                self.add_mode("reopening", Screen)
            await self.switch_mode("reopening")
            for mode in SCREENS_BY_MODE:
                if mode in self._modes:
                    await self.remove_mode(mode)
                self.add_mode(mode, _factory(mode))
            await self.switch_mode("settings")
            await self.remove_mode("reopening")
            self._start_phone_loader()

        self.run_worker(fresh(), name="reopen", exit_on_error=False)

    def on_unmount(self) -> None:
        if self.svc is not None:
            self.svc.phone.cancel()
            self.svc.close()
            self.svc = None

    # -- moving around --------------------------------------------------------------
    async def close_dialogs(self) -> None:
        """Close every dialog over the current screen, as Esc would: a form keeps what
        was typed as a draft (reopening it brings the text back), a question counts as
        answered "no". Global keys call this first, so they act on a screen, never on
        a dialog that happens to be on top."""
        for _ in range(20):  # a dialog's callback may open the next; never loop forever
            screen = self.screen
            if len(self.screen_stack) < 2 or not isinstance(screen, ModalScreen):
                return
            keep_draft = getattr(screen, "keep_draft", None)
            if keep_draft is not None:
                keep_draft()
            await screen.dismiss(getattr(screen, "CLOSED_RESULT", None))

    async def action_go(self, mode: str) -> None:
        if self.svc is None or mode not in SCREENS_BY_MODE:
            return
        await self.close_dialogs()
        if self.current_mode != mode:
            await self.switch_mode(mode)
            await self.close_dialogs()  # one a background job left on that screen
        new_call = getattr(self.screen, "new_call", None)
        if mode == "phone" and new_call is not None:
            new_call()

    async def action_go_and(self, mode: str, action: str) -> None:
        """Go to a screen and run one of its actions (the command palette uses this)."""
        await self.action_go(mode)
        if action:
            await self.screen.run_action(action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("go", "go_and", "command_palette") and self.svc is None:
            return False
        return True

    async def action_command_palette(self) -> None:  # type: ignore[override]  # Textual awaits an async action
        if not self.use_command_palette or CommandPalette.is_open(self):  # type: ignore[arg-type]
            return
        await self.close_dialogs()
        self.push_screen(
            Palette(id="--command-palette", placeholder="输入要做的事（汉字、拼音或首字母都行），如 备份、beifen、bf")
        )

    def action_help_quit(self) -> None:
        self.say("退出请按 Ctrl+Q。", timeout=3)

    # -- telling the clerk ------------------------------------------------------------
    def say(
        self, message: str, warning: bool = False, error: bool = False, timeout: float | None = None, tries: int = 3
    ) -> None:
        """A message on the message line; the text is never read as markup."""
        severity = "error" if error else "warning" if warning else "information"
        message = clerk_words(message)
        line = self.message_line()
        if line is None and tries > 0 and self.svc is not None:  # the screen is still being built
            self.call_after_refresh(self.say, message, warning, error, timeout, tries - 1)
            return
        if line is None:  # no working screen (the damaged-data screen)
            self.notify(message, severity=severity, timeout=timeout, markup=False)  # type: ignore[arg-type]
            return
        line.show(message, severity, self.NOTIFICATION_TIMEOUT if timeout is None else timeout)

    def message_line(self) -> MessageLine | None:
        """The message line of the working screen under any open dialogs."""
        for screen in reversed(self.screen_stack):
            try:
                line: MessageLine = screen.query_one(MessageLine)
                return line
            except NoMatches:
                continue
        return None

    def clear_notifications(self) -> None:
        super().clear_notifications()
        for screen in self.screen_stack:
            for line in screen.query(MessageLine):
                line.clear()

    def show_error(self, error: BaseException | str, title: str = "没有完成") -> None:
        from villageboard.tui.dialogs import MessageDialog

        text = clerk_words(error) if isinstance(error, str) else describe_error(error)
        self.push_screen(MessageDialog(title, text, error=True))

    def attempt(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Call a service that saves. On failure show the reason and return None."""
        if not self.write_lock.acquire(blocking=False):
            self.show_error("后台正在保存（导入、恢复或备份），请等它完成后再保存。")
            return None
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self.show_error(exc)
            return None
        finally:
            self.write_lock.release()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Errors of workers no screen took care of: one readable dialog."""
        if event.state == WorkerState.ERROR and event.worker.group != "loader":
            self.show_error(event.worker.error)  # type: ignore[arg-type]


def make_app(data_dir: Path, readonly: bool = False, today: dt.date | None = None) -> VillageBoardApp:
    """The one factory for the app, used by the command line and by the tests."""
    return VillageBoardApp(data_dir, readonly=readonly, today=today)
