"""Asked before anything that posts, voids, overwrites or sends money again."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from villageboard.tui.widgets.prose import Prose


class ConfirmDialog(ModalScreen[bool]):
    """Returns True only when the clerk chose the confirm button."""

    BINDINGS = [
        Binding("escape", "cancel", "取消", id="confirm-cancel", tooltip="不做，关闭这个窗口"),
        Binding("left,right", "app.focus_next", show=False, id="confirm-switch", tooltip="在两个按钮之间切换"),
    ]
    CLOSED_RESULT = False

    def __init__(
        self, title: str, message: str, confirm: str = "确定", cancel: str = "取消", danger: bool = False
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.confirm_label = confirm
        self.cancel_label = cancel
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Prose(self.title_text, classes="dialog-title", markup=False)
            yield Prose(self.message, classes="dialog-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")
                yield Button(self.cancel_label, id="cancel")

    def on_mount(self) -> None:
        # Something that cannot be undone starts on 取消: the clerk moves to it on purpose.
        self.query_one("#cancel" if self.danger else "#confirm", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)
