"""A small form in a dialog: a few text boxes, choices and tick boxes.

The dialog opens on its first field. Enter moves to the next field (text box,
dropdown or tick box alike) and, on the last one, submits; Ctrl+S submits from
anywhere; Esc closes. Each field may carry a check that returns a Chinese message;
messages show under the field as the clerk types, and the form cannot be submitted
while one remains.

With ``submit_with`` the dialog stays open until saving worked: a refused save shows
its reason over the dialog and the typed text is still there. Closed without
submitting (Esc, or an F-key from anywhere), the typed text is kept as a draft that
the same dialog brings back when it is opened again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from villageboard.tui.widgets.keys import FieldInput, FieldSelect, TickBox
from villageboard.tui.widgets.prose import Prose

HINT = "回车到下一项，最后一项回车即提交；空格打开选项或打勾；Ctrl+S 提交；Esc 关闭"
PICK_HINT = "选文件或文件夹：按 Ctrl+O（或点“选择…”），不用输入路径。"


@dataclass
class FormField:
    key: str
    label: str
    value: Any = ""
    kind: str = "text"  # text | select | check | note | file | folder
    options: Sequence[tuple[str, Any]] = ()
    placeholder: str = ""
    check: Callable[[str], str] | None = None
    required: bool = False
    #: For a file field: the endings the chooser offers, e.g. (".xlsx", ".csv").
    suffixes: Sequence[str] = ()

    @property
    def is_path(self) -> bool:
        return self.kind in ("file", "folder")

    @property
    def is_text(self) -> bool:
        """Typed into a text box (a path too)."""
        return self.kind in ("text", "file", "folder")


class FormDialog(ModalScreen[dict[str, Any] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "取消", id="form-cancel", tooltip="不提交，关闭这个窗口（写了的内容下次打开还在）"),
        Binding("ctrl+s", "submit", "确定", id="form-submit", tooltip="检查并提交这个表"),
        Binding("ctrl+o", "pick", "选择文件", id="form-pick", tooltip="打开选择窗口，不用输入文件或文件夹的路径"),
    ]
    CLOSED_RESULT = None

    def __init__(
        self,
        title: str,
        fields: Sequence[FormField],
        submit: str = "确定",
        note: str = "",
        wide: bool = False,
        submit_with: Callable[[dict[str, Any]], bool] | None = None,
        draft_key: str = "",
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.fields = list(fields)
        self.submit_label = submit
        self.note = note
        self.wide = wide
        self.submit_with = submit_with
        self.draft_key = draft_key or title + "|" + ",".join(f.key for f in self.fields)
        self.touched: set[str] = set()
        self.initial: dict[str, Any] = {}
        self.restored = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide" if self.wide else "dialog"):
            yield Prose(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Prose(self.note, classes="dialog-message", markup=False)
            with VerticalScroll(classes="dialog-form"):
                for f in self.fields:
                    if f.kind == "note":
                        yield Prose(str(f.value), classes="form-note", markup=False)
                        continue
                    with Horizontal(classes="form-row"):
                        yield Label(
                            "" if f.kind == "check" else f.label,
                            markup=False,
                            classes="form-label" + (" -empty" if f.kind == "check" else ""),
                        )
                        if f.kind == "select":
                            options = [(Text(str(label)), value) for label, value in f.options]
                            # A required choice with no value starts blank: the clerk picks it.
                            blank = f.value in ("", None)
                            yield FieldSelect(
                                options,
                                value=Select.NULL if blank else f.value,
                                prompt="请选择",
                                allow_blank=blank or not f.required,
                                id=f"field-{f.key}",
                                compact=True,
                            )
                        elif f.kind == "check":
                            yield TickBox(Text(f.label), value=bool(f.value), id=f"field-{f.key}", compact=True)
                        else:
                            yield FieldInput(
                                str(f.value or ""), placeholder=f.placeholder, id=f"field-{f.key}", compact=True
                            )
                            if f.is_path:
                                pick = Button("选择…", id=f"pick-{f.key}", compact=True, classes="form-pick")
                                pick.can_focus = False  # Enter and Tab stay on the fields
                                yield pick
                    yield Prose("", id=f"msg-{f.key}", classes="form-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.submit_label, id="submit", variant="primary")
                yield Button("取消", id="cancel")
            yield Prose(self.hint(), classes="hint", id="form-hint", markup=False)

    def hint(self) -> str:
        return HINT + ("\n" + PICK_HINT if any(f.is_path for f in self.fields) else "")

    def on_mount(self) -> None:
        """Bring back a draft of this same dialog, then focus the first field."""
        self.initial = self.values()
        self.restore_draft()
        widgets = self.field_widgets()
        if widgets:
            widgets[0].focus()

    def field_widgets(self) -> list[Widget]:
        return [self.query_one(f"#field-{f.key}") for f in self.fields if f.kind != "note"]

    # -- drafts -------------------------------------------------------------------
    def _drafts(self) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        drafts = getattr(self.app, "drafts", None)
        return drafts if isinstance(drafts, dict) else {}

    def keep_draft(self) -> None:
        """Keep what was typed (the dialog is being closed without submitting)."""
        values = self.values()
        typed = any(
            isinstance(w, Input) and w.value.strip() != str(self.initial.get(k, "")).strip()
            for k, w in ((f.key, self.query_one(f"#field-{f.key}")) for f in self.fields if f.is_text)
        )
        if typed:
            self._drafts()[self.draft_key] = (dict(self.initial), values)

    def restore_draft(self) -> None:
        draft = self._drafts().pop(self.draft_key, None)
        if draft is None or draft[0] != self.initial:
            return  # none, or made when the dialog was opened with other values
        for f in self.fields:
            if f.kind == "note" or f.key not in draft[1]:
                continue
            w = self.query_one(f"#field-{f.key}")
            value = draft[1][f.key]
            try:
                if isinstance(w, Input):
                    w.value = str(value or "")
                    self.touched.add(f.key)
                elif isinstance(w, Select):
                    w.value = Select.NULL if value is None else value
                elif isinstance(w, Checkbox):
                    w.value = bool(value)
            except Exception:  # noqa: BLE001 - a choice no longer offered stays as it was
                continue
        self.restored = True
        self.query_one("#form-hint", Static).update("已恢复上次没有提交的内容。" + self.hint())

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
        if not f.is_text:
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
        self.enter_on(event.input)

    def enter_on(self, widget: Widget) -> None:
        """Enter on a field: the next field, or submit from the last one."""
        widgets = self.field_widgets()
        if widget not in widgets:
            return
        i = widgets.index(widget)
        if i + 1 < len(widgets):
            self.set_focus(widgets[i + 1])  # at once: keys typed right after land there
        else:
            self.action_submit()

    # -- choosing a file or folder --------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick":
            return any(f.is_path for f in self.fields)
        return True

    def action_pick(self) -> None:
        """Open the chooser for the path field in use (or the first one)."""
        paths = [f for f in self.fields if f.is_path]
        focused = (self.focused.id or "").removeprefix("field-") if self.focused is not None else ""
        target = next((f for f in paths if f.key == focused), paths[0] if paths else None)
        if target is not None:
            self.pick(target)

    def pick(self, f: FormField) -> None:
        from villageboard.tui.dialogs.chooser import SHEETS, PathChooser

        box = self.query_one(f"#field-{f.key}", Input)
        typed = box.value.strip()
        start = Path(typed).expanduser() if typed else None
        if f.kind == "file":
            chooser = PathChooser(
                f"选择{f.label}",
                start,
                files=True,
                suffixes=tuple(f.suffixes) or SHEETS,
                note="只列出文件夹和可以导入的表格文件。",
            )
        else:
            chooser = PathChooser(f"选择{f.label}", start, note="选定的文件夹里会放入生成的文件。")

        def chosen(path: Path | None) -> None:
            if path is None:
                box.focus()
                return
            box.value = str(path)
            self.touched.add(f.key)
            self.show_problems()
            widgets = self.field_widgets()
            i = widgets.index(box)
            self.set_focus(widgets[i + 1] if i + 1 < len(widgets) else box)

        self.app.push_screen(chooser, chosen)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if (event.button.id or "").startswith("pick-"):
            self.pick(self._field(event.button.id.removeprefix("pick-")))  # type: ignore[union-attr]
            return
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        self.touched.update(f.key for f in self.fields)
        if self.show_problems(only_touched=False):
            self.app.bell()
            return
        values = self.values()
        if self.submit_with is not None and not self.submit_with(values):
            return  # the reason is shown over the dialog; what was typed stays
        self._drafts().pop(self.draft_key, None)
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.keep_draft()
        self.dismiss(None)
