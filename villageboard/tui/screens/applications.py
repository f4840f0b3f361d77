"""申报 (F5): per program and village, the rows with their status and risk flags, and
keyboard-only entry: type part of a name or an ID tail, Enter, the quantity, Enter,
a remark (or nothing), Enter -> saved, and the form is ready for the next household.

On the table: Enter opens the row's actions (next review step, 不通过 with a reason,
edit, void, check a risk flag); ``a`` moves the row one review step on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from villageboard.domain.masking import mask_id
from villageboard.domain.models import (
    APP_FLOW,
    APP_STATUS,
    PAYOUT_STATUS,
    Application,
    Household,
    Program,
)
from villageboard.domain.money import entitlement_fen, format_fen, format_quantity, format_rate
from villageboard.domain.validate import check_quantity
from villageboard.services.flags import FLAG_KINDS, Flag
from villageboard.services.ui_support import pick_households, place_names
from villageboard.tui.dialogs import ChoiceDialog, ConfirmDialog, FormDialog, FormField
from villageboard.tui.private import save_or_mask
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.screens.importing import start_import
from villageboard.tui.text import cell, num


class ApplicationTable(DataTable[Any]):
    BINDINGS = [
        Binding("a", "screen.advance", "审核下一步", id="applications-advance", tooltip="把这一笔推进到下一审核环节"),
        Binding("n", "screen.reject", "不通过", id="applications-reject", tooltip="这一笔审核不通过（要写原因）"),
        Binding(
            "p",
            "screen.advance_all",
            "整页下一步",
            id="applications-advance-all",
            tooltip="把表中每一笔都推进一个审核环节（会先确认）",
        ),
    ]


class PickerInput(Input):
    """The household box: ↑↓ choose among the candidates shown under it."""

    BINDINGS = [
        Binding("down", "screen.candidate(1)", "下一个", show=False, id="picker-next", tooltip="下一个候选农户"),
        Binding("up", "screen.candidate(-1)", "上一个", show=False, id="picker-prev", tooltip="上一个候选农户"),
    ]


def next_status(status: str) -> str | None:
    if status in APP_FLOW[:-1]:
        return APP_FLOW[APP_FLOW.index(status) + 1]
    return None


class ApplicationScreen(VBScreen):
    NAV_MODE = "applications"
    AUTO_FOCUS = "#app-table"
    BINDINGS = [
        Binding("ctrl+n", "focus_entry", "录入", id="applications-entry", tooltip="到录入行，逐户录入申报"),
        Binding("ctrl+t", "focus_table", "审核", id="applications-table", tooltip="到申报表，审核和修改"),
        Binding("ctrl+g", "import", "导入", id="applications-import", tooltip="从 Excel 或 CSV 导入申报"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.candidates: list[Household] = []
        self.picked: Household | None = None
        self.apps: list[Application] = []
        self.flags: dict[str, list[Flag]] = {}

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="applications"):
            with Horizontal(classes="form-row", id="app-filter"):
                yield Label("补贴项目", classes="form-label")
                yield Select(self._program_options(), prompt="还没有补贴项目", id="filter-program", compact=True)
                yield Label("村", classes="form-label-short")
                yield Select(
                    [(v.name, v.id) for v in self.svc.registry.villages()],
                    prompt="还没有村",
                    id="filter-village",
                    compact=True,
                )
            yield Static("", id="app-summary", markup=False)
            yield ApplicationTable(id="app-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="app-flags", markup=False)
            yield Static("逐户录入：农户处输入姓名或身份证后几位，回车；数量回车；备注回车即保存", classes="section")
            with Horizontal(id="entry"):
                with Vertical(id="entry-fields"):
                    with Horizontal(classes="form-row"):
                        yield Label("农户", classes="form-label")
                        yield PickerInput(placeholder="姓名、拼音或身份证后几位", id="in-household", compact=True)
                    yield Static("", id="picked", markup=False)
                    with Horizontal(classes="form-row"):
                        yield Label("数量", classes="form-label")
                        yield Input(placeholder="如 12.5", id="in-quantity", compact=True)
                        yield Label("", id="unit", markup=False)
                    with Horizontal(classes="form-row"):
                        yield Label("备注", classes="form-label")
                        yield Input(placeholder="可不填，回车保存", id="in-remark", compact=True)
                    yield Static("", id="entry-message", markup=False)
                yield OptionList(id="candidates")

    def on_mount(self) -> None:
        table = self.query_one("#app-table", DataTable)
        table.add_columns("申报编号", "组", "户主", "身份证号", "数量", "金额（元）", "审核", "发放", "风险提示")
        this = self.svc.today().year
        programs = sorted(self.svc.programs.list(), key=lambda p: (-p.year, p.code))
        current = [p for p in programs if p.year == this] or programs
        if current:
            self.query_one("#filter-program", Select).value = current[0].key
        villages = self.svc.registry.villages()
        if villages:
            self.query_one("#filter-village", Select).value = villages[0].id
        self.refresh_data()

    def _program_options(self) -> list[tuple[str, str]]:
        programs = sorted(self.svc.programs.list(), key=lambda p: (-p.year, p.code))
        return [(f"{p.year}年 {p.name}", p.key) for p in programs]

    # -- what is selected ---------------------------------------------------------------
    @property
    def program(self) -> Program | None:
        key = self.query_one("#filter-program", Select).value
        if key is Select.NULL:
            return None
        year, code = str(key).split("-", 1)
        return self.svc.programs.get(int(year), code)

    @property
    def village_id(self) -> int | None:
        v = self.query_one("#filter-village", Select).value
        return None if v is Select.NULL else int(v)  # type: ignore[arg-type]

    # -- the table ----------------------------------------------------------------------
    def refresh_data(self) -> None:
        p, vid = self.program, self.village_id
        table = self.query_one("#app-table", DataTable)
        row = table.cursor_row
        table.clear()
        if p is None or vid is None:
            return
        self.query_one("#unit", Label).update(p.unit)
        self.apps = self.svc.applications.list(p.year, p.code, vid)
        self.flags = {}
        for f in self.svc.flags.flags(p.year, p.code, vid):
            self.flags.setdefault(f.app_id, []).append(f)
        reg = self.svc.registry
        for a in self.apps:
            h = reg.household(a.household_id)
            _v, group = place_names(self.svc, h)
            flags = self.flags.get(a.id, [])
            open_flags = [f.label for f in flags if not f.is_cleared]
            flag_text = (
                Text("、".join(open_flags), style="bold red")
                if open_flags
                else Text("已核实" if flags else "", style="dim")
            )
            status = APP_STATUS.get(a.status, a.status)
            payout = PAYOUT_STATUS.get(a.payout_status, a.payout_status)
            table.add_row(
                cell(a.id),
                cell(group),
                cell(h.name),
                cell(mask_id(h.id_number)),
                num(f"{a.quantity}"),
                num(format_fen(a.amount_fen)),
                cell(status, "red" if a.status == "rejected" else ""),
                cell(payout, "red" if a.payout_status == "failed" else ""),
                flag_text,
                key=a.id,
            )
        if self.apps:
            table.move_cursor(row=min(row, len(self.apps) - 1))
        counts = Counter(a.status for a in self.apps)
        total = sum(a.amount_fen for a in self.apps if a.status != "rejected")
        by_status = "，".join(f"{APP_STATUS[s]}{counts[s]}" for s in APP_STATUS if counts[s])
        open_count = sum(1 for fs in self.flags.values() for f in fs if not f.is_cleared)
        village = reg.village(vid).name
        self.query_one("#app-summary", Static).update(
            f"{village}：{len(self.apps)}笔（{by_status or '还没有申报'}），"
            f"应补合计{format_fen(total)}元，标准{format_rate(p.rate_fen)}元/{p.unit}"
            + (f"；风险提示{open_count}条未核实" if open_count else "")
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("filter-program", "filter-village"):
            self.refresh_data()
            self.update_candidates()

    def current_app(self) -> Application | None:
        table = self.query_one("#app-table", DataTable)
        if not self.apps or table.cursor_row < 0 or table.cursor_row >= len(self.apps):
            return None
        return self.apps[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        a = self.current_app()
        line = ""
        if a is not None:
            flags = self.flags.get(a.id, [])
            parts = []
            for f in flags:
                if f.is_cleared:
                    parts.append(f"{f.label}（已核实：{(f.cleared or {}).get('note', '')}）")
                else:
                    parts.append(f"{f.label}：{f.message}")
            if a.status == "rejected" and a.reject_reason:
                parts.insert(0, f"不通过原因：{a.reject_reason}")
            if a.remark:
                parts.append(f"备注：{a.remark}")
            line = f"{a.id}　" + "；".join(parts) if parts else ""
        self.query_one("#app-flags", Static).update(line)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        a = self.current_app()
        if a is None:
            return
        choices: list[tuple[str, str]] = []
        nxt = next_status(a.status)
        if nxt:
            choices.append(("next", f"审核下一步：改为“{APP_STATUS[nxt]}”"))
        if a.status not in ("approved", "rejected"):
            choices.append(("reject", "不通过（要写原因）"))
        if a.status == "rejected":
            choices.append(("reopen", "退回为“申报”，重新审核"))
        choices.append(("edit", "修改数量或备注"))
        if any(not f.is_cleared for f in self.flags.get(a.id, [])):
            choices.append(("flag", "核实风险提示（写明核实情况）"))
        choices.append(("void", "作废这笔申报（要写原因）"))
        h = self.svc.registry.household(a.household_id)
        self.app.push_screen(
            ChoiceDialog(
                f"申报{a.id} {h.name}",
                choices,
                note=f"现在：{APP_STATUS[a.status]}，{a.quantity}，{format_fen(a.amount_fen)}元",
            ),
            lambda key: self.row_action(a, key),
        )

    def row_action(self, a: Application, key: str | None) -> None:
        if key == "next":
            self.action_advance()
        elif key == "reject":
            self.action_reject()
        elif key == "reopen":
            self._set_status(a, "applied")
        elif key == "edit":
            self._edit(a)
        elif key == "flag":
            self._clear_flag(a)
        elif key == "void":
            self._void(a)

    def _set_status(self, a: Application, status: str, reason: str = "", note: str = "") -> bool:
        """Change the status now; False when a dialog asks first (a flagged approval)."""
        if status == "approved" and not note:
            flagged = [f for f in self.svc.flags.flags_for(a) if not f.is_cleared]
            if flagged:
                self._confirm_flagged(a, flagged)
                return False
        saved = self.vb.attempt(self.svc.applications.set_status, a.id, status, reason, note=note)
        if saved is not None:
            self.vb.say(
                f"{saved.id} 已改为“{APP_STATUS[saved.status]}”" + ("，核实情况已记入修改记录。" if note else "。")
            )
            self.refresh_data()
        return saved is not None

    def _confirm_flagged(self, a: Application, flagged: list[Flag]) -> None:
        """A row with an open risk flag is approved only after a confirmation that
        says what was checked; the note goes into the journal with the approval."""
        listed = "\n".join(f"· {f.label}：{f.message}" for f in flagged)
        fields = [FormField("note", "核实情况", placeholder="如 经村组实地核实，新承包邻户土地3亩", required=True)]

        def done(v: dict[str, Any] | None) -> None:
            if v and " ".join(str(v.get("note", "")).split()):
                self._set_status(a, "approved", note=v["note"])
            else:
                self.vb.say(f"{a.id}没有改动：有风险提示的申报须写明核实情况才能通过。", warning=True)

        self.app.push_screen(
            FormDialog(
                f"确认通过申报{a.id}",
                fields,
                submit="确认通过",
                wide=True,
                note=f"这笔申报有风险提示：\n{listed}\n\n确认通过须写明核实情况，记入修改记录。",
            ),
            done,
        )

    def action_advance(self) -> None:
        a = self.current_app()
        if a is None:
            return
        nxt = next_status(a.status)
        if nxt is None:
            self.vb.say(f"{a.id}已是“{APP_STATUS[a.status]}”，没有下一步。", warning=True)
            return
        if self._set_status(a, nxt):  # the cursor stays while a dialog asks
            table = self.query_one("#app-table", DataTable)
            table.move_cursor(row=min(table.cursor_row + 1, table.row_count - 1))

    def action_reject(self) -> None:
        a = self.current_app()
        if a is None:
            return
        fields = [FormField("reason", "不通过原因", placeholder="如 经村组核实，申报面积与承包合同不符", required=True)]
        self.app.push_screen(
            FormDialog(
                f"申报{a.id}不通过",
                fields,
                submit="不通过",
                submit_with=lambda v: self._set_status(a, "rejected", v["reason"]),
            )
        )

    def action_advance_all(self) -> None:
        steps = Counter((a.status, next_status(a.status)) for a in self.apps if next_status(a.status))
        if not steps:
            self.vb.say("表中没有可以推进的申报。", warning=True)
            return
        lines = [f"{n}笔：{APP_STATUS[s]} → {APP_STATUS[t]}" for (s, t), n in steps.items() if t]
        targets = [(a.id, str(next_status(a.status))) for a in self.apps if next_status(a.status)]
        flagged = sum(
            1
            for number, status in targets
            if status == "approved" and any(not f.is_cleared for f in self.flags.get(number, []))
        )
        if flagged:
            lines.append(f"其中{flagged}笔有风险提示，不会改为“通过”：请逐笔核实、写明核实情况后通过。")

        def go(ok: bool | None) -> None:
            if not ok:
                return

            def work(progress: Any, cancel: Any) -> tuple[int, list[str]]:
                return self.svc.applications.advance_many(targets, progress, cancel)

            self.run_job("正在推进审核", work, self._after_bulk, total=len(targets), writes=True)

        self.app.push_screen(ConfirmDialog("整页推进一个审核环节", "\n".join(lines) + "\n\n确定推进？"), go)

    def _after_bulk(self, result: tuple[int, list[str]]) -> None:
        n, skipped = result
        more = (
            f"；{len(skipped)}笔有风险提示，没有改为“通过”（{'、'.join(skipped[:5])}{'等' if len(skipped) > 5 else ''}）"
            if skipped
            else ""
        )
        self.vb.say(f"已推进{n}笔申报{more}。", warning=bool(skipped))
        self.refresh_data()

    def _edit(self, a: Application) -> None:
        has_land = a.certified_area is not None  # then 数量 is the 补贴面积 and follows the land
        fields = (
            [
                FormField("certified_area", "确权面积", format_quantity(a.certified_area or 0), required=True),
                FormField("deducted_area", "扣除面积", format_quantity(a.deducted_area or 0)),
                FormField("deduction_reason", "扣除原因", a.deduction_reason),
            ]
            if has_land
            else [FormField("quantity", "数量", str(a.quantity), required=True)]
        )
        fields.append(FormField("remark", "备注", a.remark))

        def done(v: dict[str, Any]) -> bool:
            qty = None if has_land or v["quantity"] == str(a.quantity) else v["quantity"]
            land = {k: v[k] for k in ("certified_area", "deducted_area", "deduction_reason")} if has_land else None
            saved = self.vb.attempt(self.svc.applications.edit, a.id, qty, v["remark"], land=land)
            if saved is not None:
                self.vb.say(f"已保存：{saved.id}，{saved.quantity}，{format_fen(saved.amount_fen)}元。")
                self.refresh_data()
            return saved is not None  # refused: the dialog stays with what was typed

        self.app.push_screen(FormDialog(f"修改申报{a.id}", fields, submit="保存", submit_with=done))

    def _clear_flag(self, a: Application) -> None:
        open_flags = [f for f in self.flags.get(a.id, []) if not f.is_cleared]
        fields = [
            FormField(
                "kind",
                "提示",
                open_flags[0].kind,
                kind="select",
                required=True,
                options=[(f"{f.label}：{f.message}", f.kind) for f in open_flags],
            ),
            FormField("note", "核实情况", placeholder="如 经村组实地核实，新承包邻户土地3亩", required=True),
        ]
        self.app.push_screen(
            FormDialog(
                f"核实申报{a.id}的风险提示",
                fields,
                submit="记下核实情况",
                wide=True,
                note="核实情况记入修改记录，提示仍会显示为“已核实”。",
            ),
            lambda v: self._flag_cleared(a, v),
        )

    def _flag_cleared(self, a: Application, v: dict[str, Any] | None) -> None:
        if not v:
            return
        saved = self.vb.attempt(self.svc.flags.clear, a.id, v["kind"], v["note"])
        if saved is not None:
            self.vb.say(f"已记下{a.id}“{FLAG_KINDS[v['kind']][0]}”的核实情况。")
            self.refresh_data()

    def _void(self, a: Application) -> None:
        fields = [FormField("reason", "作废原因", placeholder="如 重复录入", required=True)]

        def reason_given(v: dict[str, Any] | None) -> None:
            if not v:
                return
            self.app.push_screen(
                ConfirmDialog(
                    "作废申报",
                    f"作废申报{a.id}？作废后不能恢复，编号不再使用。\n原因：{v['reason']}",
                    confirm="作废",
                    danger=True,
                ),
                lambda ok: self._voided(a, v["reason"]) if ok else None,
            )

        self.app.push_screen(FormDialog(f"作废申报{a.id}", fields, submit="下一步"), reason_given)

    def _voided(self, a: Application, reason: str) -> None:
        saved = self.vb.attempt(self.svc.applications.void, a.id, reason)
        if saved is not None:
            self.vb.say(f"申报{saved.id}已作废。")
            self.refresh_data()

    # -- entry --------------------------------------------------------------------------
    def update_candidates(self) -> None:
        text = self.query_one("#in-household", Input).value
        p = self.program

        def done_already(h: Household) -> bool:
            return p is not None and self.svc.applications.existing(p.year, h.id, p.code) is not None

        # households still without this program's application first: they are whom
        # the clerk is entering
        found = pick_households(self.svc, text, self.village_id, limit=8)
        self.candidates = sorted(found, key=done_already)[:5]
        ol = self.query_one("#candidates", OptionList)
        ol.clear_options()
        for h in self.candidates:
            village, group = place_names(self.svc, h)
            done = done_already(h)
            label = Text(
                f"{h.name}  {village}{group}  {mask_id(h.id_number)}" + ("  已申报" if done else ""),
                style="dim" if done else "",
            )
            ol.add_option(Option(label, id=str(h.id)))
        if self.candidates:
            ol.highlighted = 0

    def action_candidate(self, step: int) -> None:
        ol = self.query_one("#candidates", OptionList)
        if ol.option_count:
            cur = ol.highlighted or 0
            ol.highlighted = max(0, min(ol.option_count - 1, cur + step))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "in-household":
            self.picked = None
            if event.value:
                self.query_one("#picked", Static).update("")
            self.update_candidates()
        elif event.input.id == "in-quantity":
            self.show_amount()

    def show_amount(self) -> bool:
        p = self.program
        msg = self.query_one("#entry-message", Static)
        text = self.query_one("#in-quantity", Input).value
        if p is None or not text.strip():
            msg.update("")
            return False
        q = check_quantity(text, p.max_quantity, p.unit)
        if q.errors:
            msg.update(q.errors[0])
            msg.set_classes("-error")
            return False
        fen = entitlement_fen(q.value, p.rate_fen, p.rounding)  # type: ignore[arg-type]
        msg.update(f"{q.value}{p.unit} × {format_rate(p.rate_fen)}元 = {format_fen(fen)}元")
        msg.set_classes("")
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "candidates":
            self.pick(event.option_index)

    def pick(self, index: int | None) -> bool:
        msg = self.query_one("#entry-message", Static)
        if index is None or not (0 <= index < len(self.candidates)):
            msg.update("没有找到这户，请换个写法（拼音、身份证后4到6位）")
            msg.set_classes("-error")
            self.app.bell()
            return False
        h = self.candidates[index]
        p = self.program
        village, group = place_names(self.svc, h)
        if p is not None:
            dup = self.svc.applications.existing(p.year, h.id, p.code)
            if dup is not None:
                msg.update(f"{h.name}本年度已申报过{p.name}（编号{p.year}-{dup:06d}），请换一户")
                msg.set_classes("-error")
                self.app.bell()
                return False
        self.picked = h
        warn = (
            f"（户主{'已故' if h.status == 'deceased' else '已迁出'}，保存后会有风险提示）"
            if h.status != "active"
            else ""
        )
        self.query_one("#picked", Static).update(f"已选：{h.name}　{village}{group}　{mask_id(h.id_number)}{warn}")
        msg.update("")
        self.query_one("#in-quantity", Input).focus()
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        wid = event.input.id
        if wid == "in-household":
            event.stop()
            if self.picked is not None:
                self.query_one("#in-quantity", Input).focus()
                return
            self.pick(self.query_one("#candidates", OptionList).highlighted)
        elif wid == "in-quantity":
            event.stop()
            if self.show_amount():
                self.query_one("#in-remark", Input).focus()
            else:
                self.app.bell()
        elif wid == "in-remark":
            event.stop()
            self.save_entry()

    def save_entry(self) -> None:
        p, h = self.program, self.picked
        if p is None:
            return
        if h is None:
            self.query_one("#in-household", Input).focus()
            self.app.bell()
            return
        if not self.show_amount():
            self.query_one("#in-quantity", Input).focus()
            return
        qty = self.query_one("#in-quantity", Input).value
        remark = self.query_one("#in-remark", Input).value
        save_or_mask(
            self.vb,
            self.svc.applications.add,
            h.id,
            p.code,
            p.year,
            qty,
            remark,
            then=lambda app: self.entry_saved(app, h, p),
        )

    def entry_saved(self, app: Any, h: Any, p: Any) -> None:
        self.vb.say(f"已保存 {app.id}：{h.name} {app.quantity}{p.unit}，{format_fen(app.amount_fen)}元。")
        for wid in ("#in-household", "#in-quantity", "#in-remark"):
            self.query_one(wid, Input).value = ""
        self.picked = None
        self.query_one("#picked", Static).update(f"上一笔：{app.id} {h.name} {app.quantity}{p.unit} 已保存")
        self.refresh_data()
        self.query_one("#in-household", Input).focus()

    # -- other --------------------------------------------------------------------------
    def action_focus_entry(self) -> None:
        self.query_one("#in-household", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one("#app-table", DataTable).focus()

    def action_import(self) -> None:
        p = self.program
        start_import(
            self,
            "applications",
            self.refresh_data,
            program=p.code if p else None,
            year=p.year if p else None,
            note=f"表中没有“补贴项目”列的，按{p.year}年{p.name}导入。名册中没有的人同时登记。" if p else "",
        )
