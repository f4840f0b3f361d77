"""电话查询 (F2 from anywhere): one box for what the caller says, hits as the clerk
types, the household's whole history, the identity check and the answer script.

From any screen: F2, the query, Enter, the birth date, Enter -> the answer script.
The birth date is checked for the household selected in the list, at most three wrong
dates a household a day; after that Ctrl+R lets a supervisor put one check through,
with a note.
Ctrl+L logs the call; Ctrl+O turns the caller's complaint into an objection on a
notice that is on the board. Esc starts the next call.

Before the birth date is confirmed the clerk sees only what posted notices already
made public (the phone desk service decides that; this screen only shows it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select, Static

from villageboard.domain.models import QUESTION_TYPES, CallLogEntry
from villageboard.services.identity import IN_PERSON, MAX_WRONG, CheckResult, Identity
from villageboard.services.phone_records import LookupAnswer, LookupHit
from villageboard.services.ui_support import notice_label, parse_date, posted_notices_for
from villageboard.tui.dialogs import FormDialog, FormField
from villageboard.tui.private import submit_or_mask
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.text import cell, num, yuan
from villageboard.tui.widgets import FieldSelect
from villageboard.tui.widgets.prose import Prose

SCRIPT_HINT = "输入来电人说的出生日期，回车核实身份后，这里给出可以照着念的答复。"
UNCONFIRMED_ANSWER = "身份未核实，只告知了已公示的内容。"
LOCKED_NOTE = f"这户今天出生日期已经错满{MAX_WRONG}次，今天不能电话核实：{IN_PERSON}（Ctrl+R 主管放行）"


class PhoneDeskScreen(VBScreen):
    NAV_MODE = "phone"
    AUTO_FOCUS = "#query"
    BINDINGS = [
        Binding("escape", "new_call", "新来电", id="phone-new-call", tooltip="清空，接下一个电话"),
        Binding("down", "move(1)", "下一户", show=False, id="phone-next-hit", tooltip="选择下一条查询结果"),
        Binding("up", "move(-1)", "上一户", show=False, id="phone-prev-hit", tooltip="选择上一条查询结果"),
        Binding("ctrl+l", "log_call", "记录来电", id="phone-log-call", tooltip="把这次来电记入来电记录（一键）"),
        Binding(
            "ctrl+o",
            "to_objection",
            "转为异议",
            id="phone-objection",
            tooltip="把来电反映的问题登记为正在公示的公示的异议",
        ),
        Binding(
            "ctrl+r",
            "override",
            "主管放行",
            id="phone-override",
            tooltip="这户今天出生日期错满3次后，由主管写明理由，再核对一次",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.answer: LookupAnswer | None = None
        self.answer_query = ""
        self.hit: LookupHit | None = None
        self.identity: Identity | None = None  # a passed check for the shown household
        self.locked = False  # the shown household's check is locked for today
        self.script = ""
        self.call_id: int | None = None

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="phone"):
            with Horizontal(classes="form-row", id="query-row"):
                yield Label("来电查询", classes="form-label")
                yield Input(
                    placeholder="听到的名字（汉字或拼音都行）、身份证后4到6位、电话后4位，可加村名",
                    id="query",
                    compact=True,
                )
            yield Prose("", id="phone-note", markup=False)
            with Horizontal(id="phone-main"):
                yield DataTable(id="hits", cursor_type="row", zebra_stripes=True)
                with Vertical(id="phone-detail"):
                    yield Prose("", id="hit-title", markup=False)
                    yield Prose("", id="hit-private", markup=False)
                    yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="form-row", id="birth-row"):
                yield Label("出生日期", classes="form-label")
                yield Input(placeholder="来电人说的出生日期，如 1965-03-12 或 19650312", id="birth", compact=True)
                yield Prose("", id="identity", markup=False)
            yield Prose("答复话术（核实身份后可照着念）", classes="section")
            with VerticalScroll(id="script-box"):
                yield Prose("", id="script", markup=False)
            with Horizontal(classes="form-row", id="log-row"):
                yield Label("问题类型", classes="form-label")
                yield FieldSelect(
                    [(t, t) for t in QUESTION_TYPES],
                    value="补贴金额",
                    allow_blank=False,
                    id="question-type",
                    compact=True,
                )
                yield Label("来电人", classes="form-label-short")
                yield Input(placeholder="自报姓名", id="caller", compact=True)
                yield Label("问题", classes="form-label-short")
                yield Input(placeholder="来电人问的事（可不填）", id="question", compact=True)

    def on_mount(self) -> None:
        hits = self.query_one("#hits", DataTable)
        hits.add_columns("户主", "村组", "尾号", "匹配")
        hist = self.query_one("#history", DataTable)
        hist.add_columns("年度", "项目", "数量", "金额（元）", "状态", "公示期 / 说明")
        self.update_note()
        self.set_interval(0.5, self.update_note)
        self.query_one("#query", Input).focus()

    # -- the note line ----------------------------------------------------------------
    def update_note(self) -> None:
        if self.vb.svc is None:
            return
        phone = self.svc.phone
        loading = phone.loading_years if phone.ready else [self.svc.today().year]
        note = self.query_one("#phone-note", Static)
        if loading:
            note.update(f"往年数据还在载入（{min(loading)}–{max(loading)}年），历史记录可能不全")
            note.add_class("-loading")
            self._was_loading = True
            return
        note.remove_class("-loading")
        if getattr(self, "_was_loading", False):
            self._was_loading = False
            self.reload_history()
        if self.answer is None or not self.answer_query:
            note.update("输入后回车选中第一户（↑↓换一户），再输入出生日期回车核实身份")
        elif not self.answer.hits:
            note.update("没有找到。可以换成拼音、只输姓，或输入身份证后4位、电话后4位再试")
        else:
            note.update(f"找到{len(self.answer.hits)}户：↑↓选择，回车核对身份")

    def reload_history(self) -> None:
        """Older years have finished loading: show the household's complete history,
        keeping the identity check the clerk already made."""
        if self.hit is None:
            return
        view = self.svc.phone.household_view(self.hit.household_id, self.identity, self.hit.matched)
        self.show_hit(view, keep=True)

    # -- searching as the clerk types -------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "query":
            self.search(event.value)

    @work(thread=True, exclusive=True, group="lookup", exit_on_error=False)
    def search(self, query: str) -> None:
        """The lookup runs off the main thread, so typing never waits for it."""
        q = query.strip()
        ans = self.svc.phone.lookup(q, limit=10) if q else LookupAnswer(hits=[])
        self.app.call_from_thread(self.show_answer, q, ans)

    def show_answer(self, query: str, ans: LookupAnswer) -> None:
        if query != self.query_one("#query", Input).value.strip():
            return  # the clerk has typed on; a newer search is coming
        self.answer, self.answer_query = ans, query
        table = self.query_one("#hits", DataTable)
        table.clear()
        for h in ans.hits:
            name = h.name + (f"（{h.status}）" if h.status else "")
            table.add_row(
                cell(name),
                cell(f"{h.village}{h.group}"),
                cell(h.id_masked[-4:]),
                cell(h.matched),
                key=str(h.household_id),
            )
        self.update_note()
        if ans.hits:
            table.move_cursor(row=0)
            self.show_hit(ans.hits[0])
        else:
            self.show_hit(None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "hits" or self.answer is None:
            return
        i = event.cursor_row
        if 0 <= i < len(self.answer.hits) and (
            self.hit is None or self.hit.household_id != self.answer.hits[i].household_id
        ):
            self.show_hit(self.answer.hits[i])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "hits":
            self.choose()

    def action_move(self, step: int) -> None:
        table = self.query_one("#hits", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move":
            return isinstance(self.focused, Input) and self.focused.id == "query"
        if action == "override":
            return self.locked and self.hit is not None
        return super().check_action(action, parameters)

    # -- one household ----------------------------------------------------------------
    def show_hit(self, hit: LookupHit | None, keep: bool = False) -> None:
        """Show one household; unless ``keep``, forget the identity check made for the
        previous one."""
        if not keep:
            self.identity = None
            self.script = ""
            self.locked = hit is not None and self.svc.phone.checks.locked(hit.household_id)
            self.refresh_bindings()
            identity = self.query_one("#identity", Static)
            identity.update(LOCKED_NOTE if self.locked else "")
            identity.set_classes("-error" if self.locked else "")
            self.query_one("#script", Static).update(SCRIPT_HINT if hit is not None else "")
        self.hit = hit
        title = self.query_one("#hit-title", Static)
        private = self.query_one("#hit-private", Static)
        hist = self.query_one("#history", DataTable)
        hist.clear()
        if hit is None:
            title.update("")
            private.update("")
            return
        status = f"（{hit.status}）" if hit.status else ""
        title.update(f"{hit.name}{status}　{hit.village}{hit.group}　身份证 {hit.id_masked}　户编号{hit.household_id}")
        if hit.confirmed:
            private.update(f"身份已核实：一卡通尾号 {hit.card_tail or '无'}，电话尾号 {hit.phone_tail or '无'}")
            private.set_classes("-confirmed")
        else:
            private.update("未核实身份：只显示已公示的内容")
            private.set_classes("-unconfirmed")
        for r in hit.records:
            qty = f"{r.quantity}{r.unit}" if r.quantity is not None else ""
            note = r.reason or r.notice_dates.replace(f"{r.year}-", "")
            style = "red" if r.status == "发放失败" else ""
            hist.add_row(
                cell(r.year), cell(r.program_name), num(qty), num(yuan(r.amount_fen)), cell(r.status, style), cell(note)
            )
        if not hit.records:
            hist.add_row(cell(""), cell("没有申报记录"), "", "", "", "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "query":
            self.choose()
        elif event.input.id == "birth":
            self.check_identity()
        elif event.input.id in ("caller", "question"):
            self.action_log_call()

    def choose(self) -> None:
        """Take the highlighted household and ask for the birth date."""
        q = self.query_one("#query", Input).value.strip()
        if not q:
            self.app.bell()
            return
        if self.answer is None or self.answer_query != q:
            self.show_answer(q, self.svc.phone.lookup(q, limit=10))  # quick: at most a few ms
        if self.hit is None:
            self.app.bell()
            return
        self.query_one("#birth", Input).focus()

    def check_identity(self, override_note: str | None = None) -> None:
        """Check the birth date for the household selected in the list (never for
        any other hit), through the desk's guarded check."""
        if self.hit is None:
            self.query_one("#query", Input).focus()
            return
        text = self.query_one("#birth", Input).value
        birth = parse_date(text)
        identity = self.query_one("#identity", Static)
        if birth is None:
            identity.update("日期写法不对，如 1965-03-12 或 19650312")
            identity.set_classes("-error")
            return
        hid, matched = self.hit.household_id, self.hit.matched
        result: CheckResult | None = self.vb.attempt(self.svc.phone.check_identity, hid, birth, override_note)
        if result is None:
            return
        view = self.svc.phone.household_view(hid, result.identity, matched)
        if result.identity is None:
            self.show_hit(view)  # and whether the household is now locked for the day
            identity.update(result.message + ("（Ctrl+R 主管放行）" if self.locked else ""))
            identity.set_classes("-error")
            self.script = self.public_script(view)
            if self.locked:
                self.script = result.reason + "\n" + self.script
            self.query_one("#script", Static).update(self.script)
            return
        self.identity = result.identity
        self.locked = False
        self.refresh_bindings()
        self.show_hit(view, keep=True)
        identity.update(result.message)
        identity.set_classes("-confirmed")
        self.script = self.svc.phone.answer_script(hid, result.identity)
        self.query_one("#script", Static).update(self.script)
        if not self.query_one("#caller", Input).value:
            self.query_one("#caller", Input).value = view.name
        self.query_one("#question", Input).focus()

    def action_override(self) -> None:
        """A supervisor lets one check through for a household locked for the day."""
        if self.hit is None or not self.locked:
            return
        if parse_date(self.query_one("#birth", Input).value) is None:
            self.vb.show_error("先在“出生日期”里输入来电人说的出生日期，再由主管放行。")
            return
        fields = [FormField("note", "放行理由", "", placeholder="谁同意、为什么（不要写证件号、日期）", required=True)]
        self.app.push_screen(
            FormDialog(
                f"主管放行：{self.hit.name}户",
                fields,
                submit="放行并核对",
                note="这户今天出生日期已经错满3次。放行只对这一次核对有效，理由记入修改记录。",
            ),
            self._override_entered,
        )

    def _override_entered(self, values: dict[str, Any] | None) -> None:
        if values and str(values.get("note", "")).strip():
            self.check_identity(override_note=str(values["note"]))

    @staticmethod
    def public_script(view: LookupHit) -> str:
        shown = [r for r in view.records if r.public]
        if not shown:
            return (
                "身份未核实。这户目前没有已公示的记录，不能在电话里说明个人情况。"
                "请来电人核对出生日期，或带身份证到村委会、乡镇查询。"
            )
        lines = ["身份未核实，只能告知已公示的内容："]
        for r in shown:
            lines.append(
                f"{r.year}年{r.program_name}{r.quantity or ''}{r.unit}，{yuan(r.amount_fen)}元，{r.status}"
                + (f"（见公示{r.notice.split()[0]}）" if r.notice else "")
            )
        return "\n".join(lines)

    # -- the call log -------------------------------------------------------------------
    def action_log_call(self) -> None:
        if self.call_id is not None:
            self.vb.say(f"这次来电已经记录过了（编号{self.call_id}）。按 Esc 接下一个电话。")
            return
        entry = self._log("")
        if entry is not None:
            self.vb.say(f"已记录来电，编号{entry.id}。")

    def _log(self, question_type: str) -> CallLogEntry | None:
        caller = self.query_one("#caller", Input).value.strip() or (self.hit.name if self.hit else "未留姓名")
        qtype = question_type or str(self.query_one("#question-type", Select).value)
        question = self.query_one("#question", Input).value.strip()
        answer = self.script if self.identity is not None else (self.script or UNCONFIRMED_ANSWER)
        if self.identity is None and self.script:
            answer = UNCONFIRMED_ANSWER + "\n" + self.script
        hid = self.hit.household_id if self.hit else None
        entry = self.vb.attempt(self.svc.calls.log, caller, qtype, answer, hid, question)
        if entry is not None:
            self.call_id = entry.id
        return entry

    def action_to_objection(self) -> None:
        if self.hit is None:
            self.vb.show_error("先查到来电人的农户，才能把问题登记为异议。")
            return
        notices = posted_notices_for(self.svc, self.hit.household_id)
        if not notices:
            self.vb.show_error(
                f"{self.hit.name}户目前不在任何正在公示的公示上，不能登记异议。可以记录来电，公示时再提出。"
            )
            return
        question = self.query_one("#question", Input).value.strip()
        fields = [
            FormField(
                "notice",
                "公示",
                notices[0].code if len(notices) == 1 else None,
                kind="select",
                required=True,
                options=[(f"{n.code} {notice_label(self.svc, n)}", n.code) for n in notices],
            ),
            FormField("text", "异议内容", question, placeholder="来电人对公示有什么不同意见", required=True),
        ]
        self.app.push_screen(
            FormDialog("把来电登记为异议", fields, submit="登记异议", wide=True, submit_with=self._objection_entered)
        )

    def _objection_entered(self, values: dict[str, Any]) -> bool:
        """Log the call and record the objection; False keeps the dialog open."""
        if self.call_id is None and self._log("异议") is None:
            return False
        return submit_or_mask(
            self.vb,
            self.svc.calls.to_objection,
            self.call_id,
            values["notice"],
            values["text"],
            then=lambda o: self.vb.say(f"已登记为公示{o.notice_code}的异议，编号{o.id}。请到“公示”处理。"),
        )

    # -- next call ------------------------------------------------------------------------
    def new_call(self) -> None:
        for wid in ("#query", "#birth", "#caller", "#question"):
            self.query_one(wid, Input).value = ""
        self.query_one("#question-type", Select).value = "补贴金额"
        self.call_id = None
        self.answer, self.answer_query = None, ""
        self.query_one("#hits", DataTable).clear()
        self.show_hit(None)
        self.update_note()
        self.query_one("#query", Input).focus()

    def action_new_call(self) -> None:
        self.new_call()

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()
