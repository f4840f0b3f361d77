"""补贴项目 (F4): the policy list and the program editor, including every field of the
application guide a notice must carry. Checks run as the clerk types (the program
service's own validation); changing the rate once a notice exists needs a reason,
which the service enforces and this screen shows beside the 修改原因 box."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import InvalidOperation
from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static

from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.domain.models import PAYEE_MODES, UNITS, Program
from villageboard.domain.money import ROUNDING_RULES, format_fen, format_rate, parse_rate
from villageboard.domain.validate import plain_decimal
from villageboard.services.programs import PROGRAM_LABELS
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.text import cell, num
from villageboard.tui.widgets import FieldRow, FieldSelect
from villageboard.tui.widgets.prose import Prose

#: (key, label, placeholder) in the order a clerk fills them
TEXT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("code", "项目代码", "2到10位大写字母或数字，如 GDDL"),
    ("year", "年度", "如 2026"),
    ("name", "项目名称", "如 耕地地力保护补贴"),
    ("basis", "政策依据", "文件名称"),
    ("basis_no", "文号", "如 晋财农〔2026〕12号（可不填）"),
    ("department", "主管部门", "如 县农业农村局"),
    ("rate", "补贴标准", "每单位多少元，如 103.68"),
    ("posting_days", "公示天数", "一般不少于7天"),
    ("hotline", "咨询电话", "如 0357-5221234"),
    ("max_quantity", "单户上限", "可不填"),
    ("eligibility", "补贴对象", "谁可以申请"),
    ("scope", "补贴范围", "如 本镇行政区域内"),
    ("procedure", "办理程序", "农户申请、村审核公示、镇审核……"),
    ("materials", "申报材料", "身份证、户口簿……"),
    ("office", "受理机构", "在哪里办"),
    ("time_limit", "办理时限", "如 每年3月1日至4月30日"),
    ("reason", "修改原因", "已有公示后改补贴标准必须填写"),
)
KEYS = [k for k, _l, _p in TEXT_FIELDS]
LABEL_TO_KEY = {label: key for key, label in PROGRAM_LABELS.items()}
LABEL_TO_KEY["补贴标准"] = "rate"
PLAIN = (
    "name",
    "basis",
    "basis_no",
    "department",
    "hotline",
    "eligibility",
    "scope",
    "procedure",
    "materials",
    "office",
    "time_limit",
)


class ProgramScreen(VBScreen):
    NAV_MODE = "programs"
    AUTO_FOCUS = "#program-list"
    BINDINGS = [
        Binding("ctrl+n", "new", "新增项目", id="programs-new", tooltip="清空表单，新增一个补贴项目"),
        Binding("ctrl+s", "save", "保存", id="programs-save", tooltip="检查并保存（有错误时不会保存）"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.editing: Program | None = None
        self.touched: set[str] = set()
        self.loading_form = False

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="programs"):
            with Vertical(id="program-list-pane"):
                yield Select([], prompt="全部年度", id="filter-year", compact=True)
                yield DataTable(id="program-list", cursor_type="row", zebra_stripes=True)
                yield Prose("", id="program-guide", markup=False)
            with VerticalScroll(id="program-form"):
                yield Prose("", id="program-form-title", markup=False)
                for key, label, placeholder in TEXT_FIELDS[:6]:
                    yield FieldRow(key, label, placeholder=placeholder)
                yield FieldRow(
                    "unit",
                    "计量单位",
                    widget=FieldSelect(
                        [(u, u) for u in UNITS], value="亩", allow_blank=False, id="in-unit", compact=True
                    ),
                )
                for key, label, placeholder in TEXT_FIELDS[6:7]:
                    yield FieldRow(key, label, placeholder=placeholder, unit="元/单位")
                yield FieldRow(
                    "rounding",
                    "取整规则",
                    widget=FieldSelect(
                        [(label, code) for code, (_mode, label) in ROUNDING_RULES.items()],
                        value="half_up",
                        allow_blank=False,
                        id="in-rounding",
                        compact=True,
                    ),
                )
                yield FieldRow(
                    "payee",
                    "发放方式",
                    widget=FieldSelect(
                        [(label, code) for code, label in PAYEE_MODES.items()],
                        value="household",
                        allow_blank=False,
                        id="in-payee",
                        compact=True,
                    ),
                )
                for key, label, placeholder in TEXT_FIELDS[7:]:
                    yield FieldRow(key, label, placeholder=placeholder)
                yield Prose("", id="rate-history", markup=False)
                yield Prose("回车到下一项，最后一项回车保存；申报指南各项都填好才能做公示。", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#program-list", DataTable)
        table.add_columns("年度", "代码", "项目名称", "标准", "公示", "申报指南")
        years = self.svc.programs.years()
        sel = self.query_one("#filter-year", Select)
        sel.set_options([(f"{y}年", y) for y in reversed(years)])
        this = self.svc.today().year
        if this in years:
            sel.value = this
        self.new_form()
        self.refresh_data()

    # -- list -------------------------------------------------------------------------
    def refresh_data(self) -> None:
        year = self.query_one("#filter-year", Select).value
        programs = self.svc.programs.list(None if year is Select.NULL else int(year))  # type: ignore[arg-type]
        table = self.query_one("#program-list", DataTable)
        table.clear()
        for p in programs:
            missing = self.svc.programs.missing_guide(p)
            guide = cell("完整") if not missing else cell(f"缺{len(missing)}项", "red")
            table.add_row(
                cell(p.year),
                cell(p.code),
                cell(p.name),
                num(f"{format_rate(p.rate_fen)}元/{p.unit}"),
                num(f"{p.posting_days}天"),
                guide,
                key=f"{p.year}-{p.code}",
            )

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "filter-year":
            self.refresh_data()
        elif (event.select.id or "").startswith("in-") and not self.loading_form:
            self.validate()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        p = self._program_of(event.row_key.value)
        if p is None:
            return
        missing = self.svc.programs.missing_guide(p)
        self.query_one("#program-guide", Static).update(
            f"{p.name}：申报指南" + ("已填全，可以做公示。" if not missing else "还缺：" + "、".join(missing))
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        p = self._program_of(event.row_key.value)
        if p is not None:
            self.load(p)
            self.query_one("#in-name", Input).focus()

    def _program_of(self, key: str | None) -> Program | None:
        if not key:
            return None
        year, code = key.split("-", 1)
        return self.svc.programs.get(int(year), code)

    # -- form -------------------------------------------------------------------------
    def _set(self, key: str, value: object) -> None:
        self.query_one(f"#in-{key}", Input).value = "" if value is None else str(value)

    def new_form(self) -> None:
        self.editing = None
        self.touched.clear()
        self.loading_form = True
        for key in KEYS:
            self._set(key, "")
            self.query_one(f"#row-{key}", FieldRow).set_message("")
        self._set("year", self.svc.today().year)
        self._set("posting_days", 7)
        self._set("hotline", self.svc.township.hotline)
        self.query_one("#in-payee", Select).value = "household"
        self.query_one("#row-payee", FieldRow).set_message("")
        self.query_one("#in-code", Input).disabled = False
        self.query_one("#in-year", Input).disabled = False
        self.query_one("#program-form-title", Static).update("新增补贴项目")
        self.query_one("#rate-history", Static).update("")
        self.call_after_refresh(self._done_loading)

    def _done_loading(self) -> None:
        self.loading_form = False

    def load(self, p: Program) -> None:
        self.editing = p
        self.touched.clear()
        self.loading_form = True
        for key in PLAIN:
            self._set(key, getattr(p, key))
        self._set("code", p.code)
        self._set("year", p.year)
        self._set("rate", format_rate(p.rate_fen, thousands=False))
        self._set("posting_days", p.posting_days)
        self._set("max_quantity", p.max_quantity if p.max_quantity is not None else "")
        self._set("reason", "")
        self.query_one("#in-unit", Select).value = p.unit
        self.query_one("#in-rounding", Select).value = p.rounding
        self.query_one("#in-payee", Select).value = p.payee
        self.query_one("#row-payee", FieldRow).set_message("")
        self.query_one("#in-code", Input).disabled = True
        self.query_one("#in-year", Input).disabled = True
        for key in KEYS:
            self.query_one(f"#row-{key}", FieldRow).set_message("")
        self.query_one("#program-form-title", Static).update(f"修改：{p.year}年 {p.name}（{p.code}）")
        history = [
            f"{h.get('date', '')} 由{format_rate(h['from_fen'])}元改为{format_rate(h['to_fen'])}元"
            + (f"，原因：{h['reason']}" if h.get("reason") else "")
            for h in p.rate_history
        ]
        self.query_one("#rate-history", Static).update("补贴标准修改记录：\n" + "\n".join(history) if history else "")
        self.call_after_refresh(self._done_loading)

    def _value(self, key: str) -> str:
        return self.query_one(f"#in-{key}", Input).value.strip()

    def build(self) -> tuple[Program | None, dict[str, str]]:
        """The program the form describes, and the problems of fields it cannot even
        read (a rate that is not a number)."""
        local: dict[str, str] = {}
        data: dict[str, Any] = {key: self._value(key) for key in PLAIN}
        data["code"] = self._value("code").upper()
        data["unit"] = self.query_one("#in-unit", Select).value
        data["rounding"] = self.query_one("#in-rounding", Select).value
        data["payee"] = self.query_one("#in-payee", Select).value
        try:
            data["year"] = int(self._value("year"))
        except ValueError:
            local["year"] = "年度写4位数字，如 2026"
            data["year"] = 0
        try:
            data["rate_fen"] = parse_rate(self._value("rate")) if self._value("rate") else 0
        except (ValueError, InvalidOperation):
            local["rate"] = "补贴标准写每单位多少元，如 103.68（最多四位小数）"
            data["rate_fen"] = 0
        try:
            data["posting_days"] = int(self._value("posting_days"))
        except ValueError:
            local["posting_days"] = "公示天数写一个整数，如 7"
            data["posting_days"] = 0
        mq = self._value("max_quantity")
        data["max_quantity"], why = plain_decimal(mq, "单户上限") if mq else (None, "")
        if why:
            local["max_quantity"] = why
        return Program(**data), local

    def validate(self, everything: bool = False) -> int:
        p, local = self.build()
        assert p is not None
        problems: dict[str, str] = dict(local)
        for prob in self.svc.programs.validate(p):
            key = LABEL_TO_KEY.get(prob.field or "", "name")
            problems.setdefault(key, prob.reason)
        for key in KEYS:
            shown = problems.get(key, "") if (everything or key in self.touched) else ""
            self.query_one(f"#row-{key}", FieldRow).set_message(shown)
        return len(problems)

    def on_input_changed(self, event: Input.Changed) -> None:
        wid = event.input.id or ""
        if wid.startswith("in-") and not self.loading_form:
            self.touched.add(wid.removeprefix("in-"))
            self.validate()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        wid = event.input.id or ""
        if not wid.startswith("in-"):
            return
        event.stop()
        enabled = [k for k in KEYS if not self.query_one(f"#in-{k}", Input).disabled]
        key = wid.removeprefix("in-")
        i = enabled.index(key)
        if i + 1 < len(enabled):
            self.query_one(f"#in-{enabled[i + 1]}", Input).focus()
        else:
            self.action_save()

    # -- actions ------------------------------------------------------------------------
    def action_new(self) -> None:
        self.new_form()
        self.query_one("#in-code", Input).focus()

    def action_save(self) -> None:
        errors = self.validate(everything=True)
        if errors:
            self.vb.say(f"还有{errors}处要改（见红字），没有保存。", error=True)
            self.app.bell()
            return
        p, _ = self.build()
        assert p is not None
        reason = self._value("reason")
        try:
            if not self.vb.write_lock.acquire(blocking=False):
                self.vb.show_error("后台正在保存（导入、恢复或备份），请等它完成后再保存。")
                return
            repriced: list[Any] = []
            try:
                if self.editing is None:
                    saved = self.svc.programs.add(p)
                else:
                    changes = {
                        k: v for k, v in p.to_dict().items() if k not in ("code", "year", "rate_history", "void")
                    }
                    changes["max_quantity"] = p.max_quantity
                    saved, repriced = self.svc.programs.edit(self.editing.year, self.editing.code, changes, reason)
            finally:
                self.vb.write_lock.release()
        except ValidationFailed as exc:
            for prob in exc.problems:
                key = LABEL_TO_KEY.get(prob.field or "", "name")
                self.query_one(f"#row-{key}", FieldRow).set_message(prob.reason)
            self.vb.say(str(exc), error=True)
            return
        except VBError as exc:
            if "原因" in str(exc):
                self.query_one("#row-reason", FieldRow).set_message(str(exc))
                self.query_one("#in-reason", Input).focus()
            self.vb.say(str(exc), error=True, timeout=10)
            return
        except Exception as exc:
            self.vb.show_error(exc)
            return
        self.vb.say(
            f"已保存：{saved.year}年 {saved.name}（{saved.code}）。"
            + (
                f"还没有发放的{len(repriced)}条申报已按新标准重算，"
                f"合计{format_fen(sum(r.new_fen - r.old_fen for r in repriced))}元的差额。"
                if repriced
                else ""
            )
        )
        self.load(saved)
        self.refresh_data()
