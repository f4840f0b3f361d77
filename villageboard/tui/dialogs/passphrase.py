"""The passphrase of a backup: chosen (typed twice, may be left empty) before a backup,
asked once before restoring an encrypted one. The boxes hide what is typed, and the
passphrase is never kept anywhere but in the backup's encryption.

Enter moves to the next box and, from the last one, goes ahead; Esc cancels.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from villageboard.tui.widgets.keys import FieldInput
from villageboard.tui.widgets.prose import Prose


class PassphraseDialog(ModalScreen[str | None]):
    """``confirm=True``: a new passphrase, typed twice; both empty means none (returns
    ""). ``confirm=False``: the passphrase of an encrypted backup. None: cancelled."""

    BINDINGS = [Binding("escape", "cancel", "取消", id="passphrase-cancel", tooltip="不做，关闭这个窗口")]

    def __init__(self, title: str, note: str = "", confirm: bool = True, go: str = "确定", error: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.note = note
        self.confirm = confirm
        self.go_label = go
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Prose(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Prose(self.note, classes="dialog-message", markup=False, id="passphrase-note")
            with Horizontal(classes="form-row"):
                yield Label("备份密码", classes="form-label", markup=False)
                yield FieldInput(
                    password=True,
                    id="passphrase",
                    compact=True,
                    placeholder="不设密码就空着" if self.confirm else "备份时设的密码",
                )
            if self.confirm:
                with Horizontal(classes="form-row"):
                    yield Label("再输入一遍", classes="form-label", markup=False)
                    yield FieldInput(password=True, id="passphrase-again", compact=True, placeholder="和上面一样")
            yield Prose(self.error, id="passphrase-message", classes="form-message -error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.go_label, id="go", variant="primary")
                yield Button("取消", id="cancel")
            yield Prose("回车到下一项，最后一项回车即确定；Esc 取消", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def problem(self) -> str:
        first = self.query_one("#passphrase", Input).value
        if not self.confirm:
            return "" if first.strip() else "请输入备份的密码"
        again = self.query_one("#passphrase-again", Input).value
        if first != again:
            return "两次输入的密码不一样"
        if first and not first.strip():
            return "密码不能只有空格"
        return ""

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.error:  # the message about the last try stays until the clerk types
            self.error = ""
        msg = self.problem() if event.input.id == "passphrase-again" else ""
        self.query_one("#passphrase-message", Static).update(msg)

    def enter_on(self, field: Widget) -> None:
        """Enter in a box: on to the second box at once (keys typed or pasted right
        after Enter land there, not in the first), or go from the last one."""
        if field.id == "passphrase" and self.confirm:
            self.set_focus(self.query_one("#passphrase-again", Input))
        else:
            self.action_go()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "go":
            self.action_go()
        else:
            self.dismiss(None)

    def action_go(self) -> None:
        msg = self.problem()
        if msg:
            self.query_one("#passphrase-message", Static).update(msg)
            self.app.bell()
            return
        self.dismiss(self.query_one("#passphrase", Input).value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
