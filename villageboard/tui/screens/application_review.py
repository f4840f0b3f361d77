"""申报 (F5), the review side: the table's rows and what Enter and the keys on them do —
the next review step (one row or the whole table), 不通过 with a reason, back to 申报,
edit, void, and checking a risk flag (approval of a flagged row asks what was checked).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable, Static

from villageboard.domain.models import APP_FLOW, APP_STATUS, Application
from villageboard.domain.money import format_fen, format_quantity
from villageboard.services.flags import FLAG_KINDS, Flag
from villageboard.tui.dialogs import ChoiceDialog, ConfirmDialog, FormDialog, FormField
from villageboard.tui.screens.base import VBScreen


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


def next_status(status: str) -> str | None:
    if status in APP_FLOW[:-1]:
        return APP_FLOW[APP_FLOW.index(status) + 1]
    return None


class ApplicationReview(VBScreen):
    """The review actions on the rows of the 申报 table (``#app-table``), which the
    screen fills in ``refresh_data``."""

    def __init__(self) -> None:
        super().__init__()
        self.apps: list[Application] = []
        self.flags: dict[str, list[Flag]] = {}

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
