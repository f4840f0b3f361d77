"""申报 (F5): per program and village, the rows with their status and risk flags, and
keyboard-only entry: type part of a name or an ID tail, Enter, the quantity, Enter,
a remark (or nothing), Enter -> saved, and the form is ready for the next household.

On the table: Enter opens the row's actions (next review step, 不通过 with a reason,
edit, void, check a risk flag); ``a`` moves the row one review step on. Those review
actions are in :mod:`villageboard.tui.screens.application_review`.
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
from textual.widgets.data_table import ColumnKey
from textual.widgets.option_list import Option

from villageboard.domain.masking import mask_card, mask_id
from villageboard.domain.models import (
    APP_STATUS,
    PAYOUT_STATUS,
    Household,
    Program,
)
from villageboard.domain.money import entitlement_fen, format_fen, format_rate
from villageboard.domain.validate import check_quantity
from villageboard.services.payees import Payee, head_payee, live_members, person_in
from villageboard.services.ui_support import pick_households, place_names
from villageboard.tui.private import save_or_mask
from villageboard.tui.screens.application_review import ApplicationReview, ApplicationTable
from villageboard.tui.screens.importing import start_import
from villageboard.tui.text import cell, num
from villageboard.tui.widgets.prose import Prose, broken


def people_of(h: Household) -> list[Payee]:
    """The household's live members, as payees (the head comes first, apart)."""
    out = [person_in(h, str(m.get("id_number", ""))) for m in live_members(h)]
    return [p for p in out if p is not None and not p.is_head]


class PickerInput(Input):
    """The household box: ↑↓ choose among the candidates shown under it."""

    BINDINGS = [
        Binding("down", "screen.candidate(1)", "下一个", show=False, id="picker-next", tooltip="下一个候选农户"),
        Binding("up", "screen.candidate(-1)", "上一个", show=False, id="picker-prev", tooltip="上一个候选农户"),
    ]


class ApplicationScreen(ApplicationReview):
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
        self.candidate_people: list[Payee | None] = []  # per-person programs: whom each candidate names
        self.picked: Household | None = None
        self.picked_person: Payee | None = None
        self.name_column: ColumnKey | None = None

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
            yield Prose("", id="app-summary", markup=False)
            yield ApplicationTable(id="app-table", cursor_type="row", zebra_stripes=True)
            yield Prose("", id="app-flags", markup=False)
            yield Prose("逐户录入：农户处输入姓名或身份证后几位，回车；数量回车；备注回车即保存", classes="section")
            with Horizontal(id="entry"):
                with Vertical(id="entry-fields"):
                    with Horizontal(classes="form-row"):
                        yield Label("农户", classes="form-label")
                        yield PickerInput(placeholder="姓名、拼音或身份证后几位", id="in-household", compact=True)
                    yield Prose("", id="picked", markup=False)
                    with Horizontal(classes="form-row"):
                        yield Label("数量", classes="form-label")
                        yield Input(placeholder="如 12.5", id="in-quantity", compact=True)
                        yield Label("", id="unit", markup=False)
                    with Horizontal(classes="form-row"):
                        yield Label("备注", classes="form-label")
                        yield Input(placeholder="可不填，回车保存", id="in-remark", compact=True)
                    yield Prose("", id="entry-message", markup=False)
                yield OptionList(id="candidates")

    def on_mount(self) -> None:
        table = self.query_one("#app-table", DataTable)
        keys = table.add_columns("申报编号", "组", "户主", "身份证号", "数量", "金额（元）", "审核", "发放", "风险提示")
        self.name_column = keys[2]
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
        name_label = "享受人" if p.per_person else "户主"
        column = table.columns.get(self.name_column) if self.name_column is not None else None
        if column is not None and str(column.label) != name_label:
            column.label = Text(name_label)
        self.apps = self.svc.applications.list(p.year, p.code, vid)
        self.flags = {}
        for f in self.svc.flags.flags(p.year, p.code, vid):
            self.flags.setdefault(f.app_id, []).append(f)
        reg = self.svc.registry
        for a in self.apps:
            h = reg.household(a.household_id)
            _v, group = place_names(self.svc, h)
            name, idn = (a.person_name, a.person_id_number) if a.person_id_number else (h.name, h.id_number)
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
                cell(name),
                cell(mask_id(idn)),
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

    # -- entry --------------------------------------------------------------------------
    def update_candidates(self) -> None:
        text = self.query_one("#in-household", Input).value
        p = self.program

        def done_already(pair: tuple[Household, Payee | None]) -> bool:
            h, who = pair
            if p is None:
                return False
            if who is not None:
                return self.svc.applications.existing_person(p.year, who.id_number, p.code) is not None
            return self.svc.applications.existing(p.year, h.id, p.code) is not None

        # households (for a per-person program: their heads and members) still without
        # this program's application first: they are whom the clerk is entering
        found = pick_households(self.svc, text, self.village_id, limit=8)
        pairs: list[tuple[Household, Payee | None]] = (
            [(h, who) for h in found for who in (head_payee(h), *people_of(h))]
            if p is not None and p.per_person
            else [(h, None) for h in found]
        )
        shown = sorted(pairs, key=done_already)[: 8 if p is not None and p.per_person else 5]
        self.candidates = [h for h, _w in shown]
        self.candidate_people = [w for _h, w in shown]
        ol = self.query_one("#candidates", OptionList)
        ol.clear_options()
        for i, (h, who) in enumerate(shown):
            village, group = place_names(self.svc, h)
            done = done_already((h, who))
            head = f"{h.name}  {village}{group}  {mask_id(h.id_number)}"
            if who is not None and not who.is_head:
                head = f"{who.name}（{who.relation}，{h.name}户）  {village}{group}  {mask_id(who.id_number)}"
            label = Text(head + ("  已申报" if done else ""), style="dim" if done else "")
            ol.add_option(Option(broken(label), id=f"{h.id}-{i}"))
        if self.candidates:
            ol.highlighted = 0

    def action_candidate(self, step: int) -> None:
        ol = self.query_one("#candidates", OptionList)
        if ol.option_count:
            cur = ol.highlighted or 0
            ol.highlighted = max(0, min(ol.option_count - 1, cur + step))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "in-household":
            self.picked, self.picked_person = None, None
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
        who = self.candidate_people[index] if index < len(self.candidate_people) else None
        p = self.program
        village, group = place_names(self.svc, h)
        refusal = ""
        if p is not None and who is not None:
            dup = self.svc.applications.existing_person(p.year, who.id_number, p.code)
            if dup is not None:
                refusal = f"{who.name}本年度已申报过{p.name}（编号{p.year}-{dup:06d}），同一人不能领取两次"
        elif p is not None:
            dup = self.svc.applications.existing(p.year, h.id, p.code)
            if dup is not None:
                refusal = f"{h.name}本年度已申报过{p.name}（编号{p.year}-{dup:06d}），请换一户"
        if refusal:
            msg.update(refusal)
            msg.set_classes("-error")
            self.app.bell()
            return False
        self.picked, self.picked_person = h, who
        warn = (
            f"（户主{'已故' if h.status == 'deceased' else '已迁出'}，保存后会有风险提示）"
            if h.status != "active"
            else ""
        )
        person = ""
        if who is not None:
            card = mask_card(who.card_account) or "还没有登记本人的一卡通账号，发放前要登记"
            person = f"　享受人：{who.name}（{who.relation}）{mask_id(who.id_number)}，一卡通{card}"
        self.query_one("#picked", Static).update(
            f"已选：{h.name}　{village}{group}　{mask_id(h.id_number)}{warn}{person}"
        )
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
            person=self.picked_person.id_number if self.picked_person is not None else "",
        )

    def entry_saved(self, app: Any, h: Any, p: Any) -> None:
        name = app.person_name or h.name
        self.vb.say(f"已保存 {app.id}：{name} {app.quantity}{p.unit}，{format_fen(app.amount_fen)}元。")
        for wid in ("#in-household", "#in-quantity", "#in-remark"):
            self.query_one(wid, Input).value = ""
        self.picked, self.picked_person = None, None
        self.query_one("#picked", Static).update(f"上一笔：{app.id} {name} {app.quantity}{p.unit} 已保存")
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
