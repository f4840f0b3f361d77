"""Shown instead of the app when the data dir cannot be opened safely. When a backup
exists it is offered: one key and a confirmation restore it and open the data."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from villageboard.tui.widgets.prose import Prose


class FatalErrorScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.quit", "退出", id="quit-error", tooltip="退出程序"),
        Binding(
            "r",
            "restore",
            "恢复最近的备份",
            id="restore-backup",
            tooltip="用最近一次完好的备份替换损坏的数据（会先确认）",
        ),
        Binding(
            "o",
            "restore_other",
            "选其他备份…",
            id="restore-other",
            tooltip="从U盘或其他文件夹选一个备份文件来恢复（会先确认）",
        ),
    ]

    def __init__(self, message: str, backup: Path | None = None) -> None:
        super().__init__()
        self.message = message
        self.backup = backup

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="fatal"):
            yield Prose("无法打开数据", classes="title")
            yield Prose(self.message, markup=False, id="fatal-message")
            hint = "程序没有写入任何数据。"
            if self.backup is not None:
                hint += "按 R 用最近的备份恢复，"
            if self.damaged:
                hint += "按 O 从U盘或其他文件夹选备份文件，"
            hint += "按 Esc 退出。"
            yield Prose(hint, classes="hint")
        yield Footer()

    @property
    def damaged(self) -> bool:
        """The data is damaged (not merely locked): a backup may replace it."""
        return self.backup is not None or bool(getattr(self.app, "open_damaged", False))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":
            return self.backup is not None
        if action == "restore_other":
            return self.damaged
        return True

    def action_restore_other(self) -> None:
        """Pick a backup file anywhere (a USB stick, another folder), then confirm."""
        from villageboard.tui.dialogs.chooser import PathChooser

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.backup = path
                self.action_restore()

        self.app.push_screen(
            PathChooser("选择要恢复的备份文件", None, files=True, note="只列出文件夹和备份文件（.zip）。"), chosen
        )

    def action_restore(self) -> None:
        from villageboard.tui.dialogs import ConfirmDialog

        if self.backup is None:
            return
        msg = f"用这个备份替换现在的数据？\n{self.backup}\n\n现在（损坏）的数据会先打包备份一次，不会丢。"
        self.app.push_screen(
            ConfirmDialog("恢复数据", msg, confirm="恢复", danger=True), lambda ok: self._restore() if ok else None
        )

    def _restore(self, passphrase: str | None = None) -> None:
        from villageboard.services.backup import PassphraseError, restore_into
        from villageboard.tui.errors import describe_error

        app = self.app
        if self.backup is None:
            return
        try:
            restore_into(app.data_dir, self.backup, passphrase=passphrase)  # type: ignore[attr-defined]
        except PassphraseError:  # an encrypted backup: nothing was restored; ask (again)
            from villageboard.tui.dialogs.passphrase import PassphraseDialog

            assert self.backup is not None
            wrong = "密码不对，没有恢复任何数据。请重新输入，或按 Esc 取消。" if passphrase else ""
            self.app.push_screen(
                PassphraseDialog(
                    "这个备份有密码",
                    note=f"备份文件 {self.backup.name} 加了密码。请输入备份时设的密码。",
                    confirm=False,
                    go="恢复",
                    error=wrong,
                ),
                lambda word: self._restore(word) if word else None,
            )
            return
        except Exception as exc:  # shown, never raised into Textual
            self.query_one("#fatal-message", Static).update(describe_error(exc))
            return
        app.recover_after_restore()  # type: ignore[attr-defined]
