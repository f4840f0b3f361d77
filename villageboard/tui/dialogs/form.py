"""A small form in a dialog: a few text boxes, choices and tick boxes.

Enter moves to the next text box and, from the last one, submits; Ctrl+S submits from
anywhere; Esc cancels. Each field may carry a check that returns a Chinese message;
messages show under the field as the clerk types, and the form cannot be submitted
while one remains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static


@dataclass
class FormField:
    key: str
    label: str
    value: Any = ""
    kind: str = "text"  # text | select | check | note
    options: Sequence[tuple[str, Any]] = ()
    placeholder: str = ""
    check: Callable[[str], str] | None = None
    required: bool = False


class FormDialog(ModalScreen[dict[str, Any] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "取消", id="form-cancel", tooltip="不保存，关闭这个窗口"),
        Binding("ctrl+s", "submit", "确定", id="form-submit", tooltip="检查并提交这个表"),
    ]

    def __init__(self, title: str, fields: Sequence[FormField], submit: str = "确定", note: str = "",
                 wide: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.fields = list(fields)
        self.submit_label = submit
        self.note = note
        self.wide = wide
        self.touched: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide" if self.wide else "dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Static(self.note, classes="dialog-message", markup=False)
            with VerticalScroll(classes="dialog-form"):
                for f in self.fields:
                    if f.kind == "note":
                        yield Static(str(f.value), classes="form-note", markup=False)
                        continue
                    with Horizontal(classes="form-row"):
                        yield Label("" if f.kind == "check" else f.label, classes="form-label", markup=False)
                        if f.kind == "select":
                            options = [(Text(str(label)), value) for label, value in f.options]
                            yield Select(options, value=f.value if f.value not in ("", None) else Select.NULL,
                                         prompt="请选择", allow_blank=not f.required, id=f"field-{f.key}", compact=True)
                        elif f.kind == "check":
                            yield Checkbox(Text(f.label), value=bool(f.value), id=f"field-{f.key}", compact=True)
                        else:
                            yield Input(str(f.value or ""), placeholder=f.placeholder, id=f"field-{f.key}", compact=True)
                    yield Static("", id=f"msg-{f.key}", classes="form-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.submit_label, id="submit", variant="primary")
                yield Button("取消", id="cancel")
            yield Static("回车到下一项，最后一项回车即提交；Ctrl+S 提交；Esc 取消", classes="hint")

    def on_mount(self) -> None:
        """Focus the first empty text box (else the first text box, else the first
        field), so a prefilled dialog submits with one Enter."""
        texts = [f for f in self.fields if f.kind == "text"]
        empty = [f for f in texts if not f.value]
        first = (empty or texts or [f for f in self.fields if f.kind != "note"])[:1]
        if first:
            self.query_one(f"#field-{first[0].key}").focus()

    # -- values -------------------------------------------------------------------
    def _field(self, key: str) -> FormField:
        return next(f for f in self.fields if f.key == key)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.kind == "note":
                continue
            w = self.query_one(f"#field-{f.key}")
            if isinstance(w, Input):
                out[f.key] = w.value.strip()
            elif isinstance(w, Select):
                out[f.key] = None if w.value is Select.NULL else w.value
            elif isinstance(w, Checkbox):
                out[f.key] = w.value
        return out

    def problem(self, f: FormField, value: Any) -> str:
        if f.kind != "text":
            if f.required and value is None:
                return f"请选择{f.label}"
            return ""
        if f.required and not value:
            return f"请填写{f.label}"
        if f.check is not None and value:
            return f.check(value)
        return ""

    def show_problems(self, only_touched: bool = True) -> int:
        values = self.values()
        count = 0
        for f in self.fields:
            if f.kind == "note":
                continue
            msg = self.problem(f, values.get(f.key))
            if msg:
                count += 1
            if only_touched and f.key not in self.touched:
                msg = ""
            shown = self.query_one(f"#msg-{f.key}", Static)
            shown.update(msg)
            shown.set_class(bool(msg), "-error")
        return count

    # -- events -------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("field-")
        self.touched.add(key)
        self.show_problems()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = [w for w in self.query(Input) if w.id and w.id.startswith("field-")]
        try:
            i = inputs.index(event.input)
        except ValueError:
            return
        if i + 1 < len(inputs):
            inputs[i + 1].focus()
        else:
            self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        self.touched.update(f.key for f in self.fields)
        if self.show_problems(only_touched=False):
            self.app.bell()
            return
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        self.dismiss(None)
