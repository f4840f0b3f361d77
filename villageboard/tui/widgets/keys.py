"""Fields where Enter means "next field", as in every text box of the app.

Textual's own Select opens its list on Enter and its Checkbox ticks on Enter, so in a
form Enter at a dropdown or a tick box would do something the clerk did not mean (and
a dialog that submits on the last Enter would submit with a default nobody chose).
Here Enter asks the screen: a form's ``enter_on(field)`` decides (next field, or
submit on the last), any other screen moves to the next field. It is a direct call,
not a message, so keys typed right after Enter already reach the next field.
Space or ↓ opens the list, Space ticks the box. A tick box shows ☑ or ☐,
so ticked and not ticked differ by more than colour.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select


def field_enter(field: Widget) -> None:
    enter_on = getattr(field.screen, "enter_on", None)
    if enter_on is not None:
        enter_on(field)
    else:
        field.screen.focus_next()


class FieldSelect(Select[Any]):
    BINDINGS = [
        Binding("enter", "field_enter", "下一项", show=False),
        Binding("down,space,up", "show_overlay", "打开选项", show=False),
    ]

    def action_field_enter(self) -> None:
        field_enter(self)


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
        field_enter(self)


class FieldInput(Input):
    """A form's text box: Enter goes to the form at once (no Submitted message that
    would arrive after the next keys)."""

    async def action_submit(self) -> None:
        if getattr(self.screen, "enter_on", None) is None:
            await super().action_submit()
        else:
            field_enter(self)
