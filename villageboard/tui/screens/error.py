"""Shown instead of the app when the data dir cannot be opened safely."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class FatalErrorScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "app.quit", "退出", id="quit-error", tooltip="退出程序")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="fatal"):
            yield Static("无法打开数据", classes="title")
            yield Static(self.message, markup=False, id="fatal-message")
            yield Static("程序没有写入任何数据。按 Esc 退出。", classes="hint")
        yield Footer()
