"""One labelled entry on a form, with its message underneath: red for an error that
blocks saving, yellow for a warning that does not."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from villageboard.tui.widgets.prose import Prose


class FieldRow(Vertical):
    def __init__(
        self, key: str, label: str, value: str = "", placeholder: str = "", widget: Widget | None = None, unit: str = ""
    ) -> None:
        super().__init__(classes="field", id=f"row-{key}")
        self.key = key
        self.label = label
        self.value = value
        self.placeholder = placeholder
        self.widget = widget
        self.unit = unit

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(self.label, classes="form-label", markup=False)
            if self.widget is not None:
                yield self.widget
            else:
                yield Input(self.value, placeholder=self.placeholder, id=f"in-{self.key}", compact=True)
            if self.unit:
                yield Label(self.unit, classes="form-unit", markup=False, id=f"unit-{self.key}")
        yield Prose("", id=f"msg-{self.key}", classes="form-message", markup=False)

    def set_message(self, text: str, warning: bool = False) -> None:
        msg = self.query_one(f"#msg-{self.key}", Static)
        msg.update(text)
        msg.set_class(bool(text) and warning, "-warning")
        msg.set_class(bool(text) and not warning, "-error")
