"""Pick one of a few actions with the arrow keys and Enter."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from villageboard.tui.widgets.prose import Prose, broken


class ChoiceDialog(ModalScreen[str | None]):
    """``choices`` are (key, label); returns the chosen key, or None."""

    BINDINGS = [Binding("escape", "cancel", "取消", id="choice-cancel", tooltip="不做，关闭这个窗口")]

    def __init__(self, title: str, choices: list[tuple[str, str]], note: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.choices = choices
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Prose(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Prose(self.note, classes="dialog-message", markup=False)
            yield OptionList(*[Option(broken(label), id=key) for key, label in self.choices], id="choices")
            yield Prose("↑↓ 选择，回车确定，Esc 取消", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
