"""One readable message: an error from any worker or action, or a report (an
import's summary). Never a traceback."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button

from villageboard.tui.widgets.prose import Prose


class MessageDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "关闭", id="message-close", tooltip="关闭这个窗口")]

    def __init__(self, title: str, message: str, error: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -error" if self.error else "dialog"):
            yield Prose(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(classes="dialog-scroll"):
                yield Prose(self.message, classes="dialog-message", markup=False, id="message-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("知道了", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
