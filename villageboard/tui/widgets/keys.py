"""Fields where Enter means "next field", as in every text box of the app.

Textual's own Select opens its list on Enter and its Checkbox ticks on Enter, so in a
form Enter at a dropdown or a tick box would do something the clerk did not mean (and
a dialog that submits on the last Enter would submit with a default nobody chose).
Here Enter posts :class:`FieldEnter` and the form decides (next field, or submit on
the last); Space or ↓ opens the list, Space ticks the box. A tick box shows ☑ or ☐,
so ticked and not ticked differ by more than colour.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Select


class FieldEnter(Message):
    """Enter was pressed on a field that has no Enter of its own."""

    def __init__(self, field: Widget) -> None:
        super().__init__()
        self.field = field


class FieldSelect(Select):  # type: ignore[type-arg]
    BINDINGS = [
        Binding("enter", "field_enter", "下一项", show=False),
        Binding("down,space,up", "show_overlay", "打开选项", show=False),
    ]

    def action_field_enter(self) -> None:
        self.post_message(FieldEnter(self))


class TickBox(Checkbox):
    BUTTON_LEFT = ""
    BUTTON_RIGHT = ""
    BINDINGS = [
        Binding("enter", "field_enter", "下一项", show=False),
        Binding("space", "toggle_button", "勾选", show=False),
    ]

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        return "☑" if self.value else "☐"

    def action_field_enter(self) -> None:
        self.post_message(FieldEnter(self))
