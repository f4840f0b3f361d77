"""The objections of one notice: record one while the notice is posted, resolve one,
and, when the notice was wrong, make the correction (a new version listing what
changed) in the same step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from villageboard.domain.models import Objection
from villageboard.services import ui_support
from villageboard.tui.dialogs import FormDialog, FormField
from villageboard.tui.private import submit_or_mask
from villageboard.tui.text import cell
from villageboard.tui.widgets.prose import Prose

if TYPE_CHECKING:
    from villageboard.services import Services
    from villageboard.tui.app import VillageBoardApp

EDIT_FIELDS = [
    ("备注", "remark"),
    ("数量", "quantity"),
    ("确权面积", "certified_area"),
    ("扣除面积", "deducted_area"),
    ("扣除原因", "deduction_reason"),
]


class ObjectionsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "关闭", id="objections-close", tooltip="回到公示列表"),
        Binding("ctrl+n", "add", "登记异议", id="objections-add", tooltip="登记村民对这份公示的异议（公示期内）"),
        Binding(
            "ctrl+s", "resolve", "处理", id="objections-resolve", tooltip="处理选中的异议；公示有错时同时生成更正公示"
        ),
    ]

    def __init__(self, code: str) -> None:
        super().__init__(classes="dialog-screen")
        self.code = code
        self.items: list[Objection] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -large"):
            yield Prose("", id="objections-title", classes="dialog-title", markup=False)
            yield Prose("", id="objections-note", markup=False)
            yield DataTable(id="objection-list", cursor_type="row", zebra_stripes=True)
            yield Prose("Ctrl+N 登记异议　回车或 Ctrl+S 处理选中的异议　Esc 关闭", classes="hint")

    @property
    def vb(self) -> VillageBoardApp:
        return cast("VillageBoardApp", self.app)

    @property
    def svc(self) -> Services:
        svc = self.vb.svc
        assert svc is not None
        return svc

    def on_mount(self) -> None:
        table = self.query_one("#objection-list", DataTable)
        self.refresh_data()
        table.focus()

    def refresh_data(self) -> None:
        n = self.svc.notices.get(self.code)
        state = self.svc.notices.state_of(n)
        self.query_one("#objections-title", Prose).update(
            f"异议：{n.code} 第{n.version}版 {ui_support.notice_label(self.svc, n)}"
        )
        days = self.svc.notices.objection_days(n)
        if days:
            note = (
                "正在公示，今天是可以登记异议的最后一天。"
                if days == 1
                else f"正在公示，还可以登记异议{days}天（含今天）。"
            )
        elif state == "posted":
            note = f"还没有到张贴日期（{n.start}），到时才能登记异议。"
        else:
            note = "不在公示期内，只能处理已登记的异议。"
        self.query_one("#objections-note", Static).update(note)
        self.items = self.svc.notices.objections(code=self.code)
        table = self.query_one("#objection-list", DataTable)
        reg = self.svc.registry
        rows: list[tuple[list[Text], str | None]] = []
        for o in self.items:
            who = reg.household(o.household_id).name if o.household_id else ""
            version = o.correction.rsplit("/v", 1)[-1] if o.correction else ""
            done = o.resolution + (f"（已出更正公示第{version}版）" if version else "")
            shown = cell("未处理", "bold red") if o.state == "open" else cell("已处理", "green")
            rows.append(([cell(o.id), cell(o.created[:10]), cell(who), cell(o.text), shown, cell(done)], str(o.id)))
        if not self.items:
            rows.append(([cell(""), cell(""), cell(""), cell("这份公示还没有异议"), cell(""), cell("")], None))
        # Widths are set from what is shown now: a resolution just typed must not be cut
        # to the width the column had before.
        labels = ("编号", "登记日期", "涉及农户", "异议内容", "状态", "处理结果")
        widths = [max([cell_len(h)] + [cell_len(r[0][i].plain) for r in rows]) for i, h in enumerate(labels)]
        table.clear(columns=True)
        for label, width in zip(labels, widths, strict=True):
            table.add_column(label, width=min(width, 48))
        for cells, key in rows:
            table.add_row(*cells, key=key)

    def _rows(self) -> list[dict[str, Any]]:
        n = self.svc.notices.get(self.code)
        return list(self.svc.notices.snapshot(n).get("rows", []))

    def action_add(self) -> None:
        rows = self._rows()
        people = sorted({(r["name"], r["household_id"]) for r in rows}, key=lambda x: x[0])
        fields = [
            FormField("text", "异议内容", placeholder="村民的意见，如 承包地面积登记少了2亩", required=True),
            FormField("household", "涉及农户", None, kind="select", options=[(name, hid) for name, hid in people]),
        ]
        self.app.push_screen(
            FormDialog(f"登记异议：{self.code}", fields, submit="登记", wide=True, submit_with=self._added)
        )

    def _added(self, v: dict[str, Any]) -> bool:
        """Record the objection; False keeps the dialog open with what was typed."""
        return submit_or_mask(
            self.app, self.svc.notices.add_objection, self.code, v["text"], v["household"], then=self.added
        )

    def added(self, o: Objection) -> None:
        self.vb.say(f"已登记异议，编号{o.id}。")
        self.refresh_data()
        self.query_one("#objection-list", DataTable).move_cursor(row=len(self.items) - 1)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_resolve()

    def current(self) -> Objection | None:
        table = self.query_one("#objection-list", DataTable)
        if not self.items or not (0 <= table.cursor_row < len(self.items)):
            return None
        return self.items[table.cursor_row]

    def action_resolve(self) -> None:
        o = self.current()
        if o is None:
            return
        if o.state != "open":
            self.vb.say(f"异议{o.id}已经处理过了。", warning=True)
            return
        rows = self._rows()
        options = [
            (f"{r['name']} {r['app']}（{r['quantity']}，备注：{r.get('remark') or '无'}）", r["app"]) for r in rows
        ]
        mine = next((r["app"] for r in rows if r["household_id"] == o.household_id), None)
        n = self.svc.notices.get(self.code)
        base = self.svc.notices.snapshot(n).get("base_kind") or n.kind
        default_field = "quantity" if base == "application" else "remark"
        fields: list[FormField] = [
            FormField("note", "", f"异议：{o.text}", kind="note"),
            FormField("text", "处理结果", placeholder="如 经村委会核实，补记代耕情况", required=True),
            FormField("correct", "生成更正公示", False, kind="check"),
            FormField("app1", "更正哪一户", mine, kind="select", options=options),
            FormField("field1", "更正项目", default_field, kind="select", options=EDIT_FIELDS, required=True),
            FormField("value1", "改为", placeholder="新的内容（填了就会生成更正公示）"),
            FormField("app2", "再更正一户", None, kind="select", options=options),
            FormField("field2", "更正项目", default_field, kind="select", options=EDIT_FIELDS, required=True),
            FormField("value2", "改为", placeholder="可不填"),
        ]
        note = (
            "处理结果必填。公示内容有错的，填上要更正的户和新内容，会生成更正公示草稿（原版本存档），"
            "张贴后生效。已发放的户不能改数量。"
        )
        self.app.push_screen(
            FormDialog(
                f"处理异议{o.id}",
                fields,
                submit="处理",
                wide=True,
                note=note,
                submit_with=lambda v: self._resolved(o, v),
            )
        )

    def _resolved(self, o: Objection, v: dict[str, Any]) -> bool:
        """Resolve; False keeps the dialog open with what was typed."""
        edits = []
        for i in ("1", "2"):
            value = v.get(f"value{i}") or ""
            if value:
                if not v.get(f"app{i}"):
                    self.vb.show_error("填了“改为”，就要选更正哪一户。")
                    return False
                edits.append((v[f"app{i}"], v[f"field{i}"], value))
        correct = bool(v["correct"]) or bool(edits)
        return submit_or_mask(
            self.app,
            self.svc.notices.resolve_objection,
            o.id,
            v["text"],
            correct=correct,
            edits=edits,
            then=lambda result: self.resolved(o, result),
        )

    def resolved(self, o: Objection, result: Any) -> None:
        _o, correction = result
        if correction is not None:
            self.vb.say(
                f"异议{o.id}已处理，已生成更正公示草稿 {correction.code} 第{correction.version}版"
                f"（{len(correction.changes)}处更正），原版本已存档。请预览后按 Ctrl+T 张贴。",
                timeout=10,
            )
        else:
            self.vb.say(f"异议{o.id}已处理。")
        self.refresh_data()

    def action_close(self) -> None:
        self.dismiss(None)
