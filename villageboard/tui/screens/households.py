"""农户 (F3): find a household, add one, correct one, mark 已故 or 迁出 with a date,
put a new head on it (变更户主).

The form checks as the clerk types, with the registry's own validation (the same as
imports and the CLI): errors in red beside the field block saving, warnings (a bank
card failing its check digit, an unknown region code) show in yellow and do not.
Enter moves to the next box; Enter in the last box (备注) saves, as does Ctrl+S.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static

from villageboard.domain.masking import mask_id
from villageboard.domain.models import HOUSEHOLD_STATUS, Household
from villageboard.services.registry import HOUSEHOLD_LABELS
from villageboard.services.ui_support import parse_date, place_names, search_households
from villageboard.tui.dialogs import FormDialog, FormField
from villageboard.tui.private import save_or_mask
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.screens.importing import start_import
from villageboard.tui.text import cell
from villageboard.tui.widgets import FieldRow, FieldSelect
from villageboard.tui.widgets.prose import Prose

TEXT_FIELDS = ("name", "id_number", "phone", "card_account", "bank", "remark")
PLACEHOLDERS = {
    "name": "少数民族姓名用“·”分隔",
    "id_number": "18位身份证号",
    "phone": "手机或带区号的固话（可不填）",
    "card_account": "一卡通账号（发放用）",
    "bank": "如 古县农商银行",
    "remark": "可不填",
}
LABEL_TO_KEY = {label: key for key, label in HOUSEHOLD_LABELS.items()}
ALL_VILLAGES = -1
NEW_MEMBER = "new"  # the 家庭成员 dialog's choice for adding one


class HouseholdScreen(VBScreen):
    NAV_MODE = "households"
    AUTO_FOCUS = "#search"
    BINDINGS = [
        Binding(
            "ctrl+f", "focus_search", "查找", id="households-search", tooltip="到查找框：姓名、拼音、身份证或电话尾号"
        ),
        Binding("ctrl+n", "new", "新增", id="households-new", tooltip="清空表单，登记一户新的农户"),
        Binding("ctrl+s", "save", "保存", id="households-save", tooltip="检查并保存表单（有错误时不会保存）"),
        Binding("ctrl+t", "status", "已故/迁出", id="households-status", tooltip="登记这户户主已故或迁出（要填日期）"),
        Binding(
            "ctrl+b",
            "change_head",
            "变更户主",
            id="households-change-head",
            tooltip="换一位户主（如户主死亡）：户编号、土地和申报记录不变，原户主留在记录里",
        ),
        Binding(
            "ctrl+o",
            "members",
            "家庭成员",
            id="households-members",
            tooltip="添加家庭成员，登记成员本人的一卡通账号（按人发放用），或把成员移出这户",
        ),
        Binding("ctrl+g", "import", "导入名册", id="households-import", tooltip="从 Excel 或 CSV 导入农户名册"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.editing: Household | None = None
        self.touched: set[str] = set()
        self.loading_form = False

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="households"):
            with Vertical(id="household-list-pane"):
                with Horizontal(classes="form-row"):
                    yield Select([], prompt="全部村", id="filter-village", compact=True)
                    yield Input(placeholder="查找：姓名/拼音/身份证或电话尾号", id="search", compact=True)
                yield Prose("", id="household-count", markup=False)
                yield DataTable(id="household-list", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="household-form"):
                yield Prose("", id="form-title", markup=False)
                villages = [(v.name, v.id) for v in self.svc.registry.villages()]
                yield FieldRow(
                    "village",
                    "村",
                    widget=FieldSelect(
                        villages, prompt="请选择村", allow_blank=not villages, id="in-village", compact=True
                    ),
                )
                yield FieldRow("group", "组", widget=FieldSelect([], prompt="（不分组）", id="in-group", compact=True))
                for key in TEXT_FIELDS:
                    yield FieldRow(key, HOUSEHOLD_LABELS[key], placeholder=PLACEHOLDERS[key])
                yield Prose("", id="form-status", markup=False)
                yield Prose("回车到下一项，备注处回车保存；红字改好才能保存，黄字只是提醒。", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#household-list", DataTable)
        table.add_columns("户编号", "户主姓名", "村", "组", "身份证号", "状态")
        villages = [(v.name, v.id) for v in self.svc.registry.villages()]
        self.query_one("#filter-village", Select).set_options(villages)
        self.new_form()
        self.refresh_data()

    # -- the list -----------------------------------------------------------------------
    def _filter_village(self) -> int | None:
        v = self.query_one("#filter-village", Select).value
        return None if v is Select.NULL else int(v)  # type: ignore[arg-type]

    def refresh_data(self) -> None:
        query = self.query_one("#search", Input).value
        shown, total = search_households(self.svc, query, self._filter_village())
        table = self.query_one("#household-list", DataTable)
        table.clear()
        for h in shown:
            village, group = place_names(self.svc, h)
            status = HOUSEHOLD_STATUS.get(h.status, h.status)
            table.add_row(
                cell(h.id),
                cell(h.name),
                cell(village),
                cell(group),
                cell(mask_id(h.id_number)),
                cell(status, "red" if h.status != "active" else ""),
                key=str(h.id),
            )
        more = f"，只列出前{len(shown)}户，请输入姓名查找" if total > len(shown) else ""
        self.query_one("#household-count", Static).update(f"共{total}户{more}（回车打开修改）")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "filter-village":
            self.refresh_data()
            if self.editing is None and event.value is not Select.NULL:
                self.query_one("#in-village", Select).value = event.value
        elif event.select.id == "in-village":
            self._load_groups(event.value, self._group_for(event.value))
            self.validate()

    def _group_for(self, village_id: object) -> int:
        """The group to show once the village box shows ``village_id``: the open
        household's own group in its own village (the box's change arrives after the
        form was filled, and must not reset it), else the group already chosen if it
        belongs there, else none (the village's first group)."""
        if self.editing is not None and village_id == self.editing.village_id:
            return self.editing.group_id
        current = self.query_one("#in-group", Select).value
        if current is Select.NULL or village_id is Select.NULL:
            return 0
        ids = {g.id for g in self.svc.registry.groups(int(village_id))}  # type: ignore[call-overload]
        return int(current) if current in ids else 0

    def _load_groups(self, village_id: object, group_id: int = 0) -> None:
        sel = self.query_one("#in-group", Select)
        if village_id is Select.NULL:
            sel.set_options([])
            return
        groups = self.svc.registry.groups(int(village_id))  # type: ignore[call-overload]
        sel.set_options([(g.name, g.id) for g in groups])
        if group_id:
            sel.value = group_id
        elif groups:
            sel.value = groups[0].id

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        self.load(self.svc.registry.household(int(event.row_key.value)))
        self.query_one("#in-name", Input).focus()

    # -- the form ---------------------------------------------------------------------
    def new_form(self) -> None:
        self.editing = None
        self.touched.clear()
        self.loading_form = True
        for key in TEXT_FIELDS:
            self.query_one(f"#in-{key}", Input).value = ""
            self.query_one(f"#row-{key}", FieldRow).set_message("")
        vid = self._filter_village()
        villages = self.svc.registry.villages()
        if vid is None and villages:
            vid = villages[0].id
        if vid is not None:
            self.query_one("#in-village", Select).value = vid
            self._load_groups(vid)
        self.query_one("#form-title", Static).update("新增农户")
        self.query_one("#form-status", Static).update("")
        self.call_after_refresh(self._done_loading)

    def _done_loading(self) -> None:
        self.loading_form = False

    def load(self, h: Household) -> None:
        self.editing = h
        self.touched.clear()
        self.loading_form = True
        for key in TEXT_FIELDS:
            self.query_one(f"#in-{key}", Input).value = str(getattr(h, key) or "")
            self.query_one(f"#row-{key}", FieldRow).set_message("")
        self.query_one("#in-village", Select).value = h.village_id
        self._load_groups(h.village_id, h.group_id)
        self.query_one("#form-title", Static).update(f"修改：{h.name}（户编号{h.id}）")
        status = HOUSEHOLD_STATUS.get(h.status, h.status)
        self.query_one("#form-status", Static).update(
            f"状态：{status}" + (f"（{h.status_date:%Y-%m-%d}）" if h.status_date else "") + "　Ctrl+T 登记已故或迁出"
        )
        self.call_after_refresh(self._done_loading)

    def form_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {key: self.query_one(f"#in-{key}", Input).value for key in TEXT_FIELDS}
        village = self.query_one("#in-village", Select).value
        group = self.query_one("#in-group", Select).value
        data["village_id"] = None if village is Select.NULL else village
        data["group_id"] = 0 if group is Select.NULL else group
        return data

    def validate(self, everything: bool = False) -> int:
        """Show each field's problems; returns the number of blocking errors."""
        clean, problems = self.svc.registry.validate_household(
            self.form_data(), exclude_id=self.editing.id if self.editing else None
        )
        by_key: dict[str, list[Any]] = {}
        for p in problems:
            by_key.setdefault(LABEL_TO_KEY.get(p.field or "", "name"), []).append(p)
        errors = 0
        for key in TEXT_FIELDS:
            found = by_key.get(key, [])
            errs = [p.reason for p in found if not p.warning]
            warns = [p.reason for p in found if p.warning]
            errors += len(errs)
            row = self.query_one(f"#row-{key}", FieldRow)
            if not everything and key not in self.touched:
                row.set_message("")
            elif errs:
                row.set_message("；".join(errs))
            else:
                row.set_message("；".join(warns), warning=True)
        if self.form_data()["village_id"] is None:
            errors += 1
        return errors

    def on_input_changed(self, event: Input.Changed) -> None:
        wid = event.input.id or ""
        if wid == "search":
            self.refresh_data()
        elif wid.startswith("in-") and not self.loading_form:
            self.touched.add(wid.removeprefix("in-"))
            self.validate()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        wid = event.input.id or ""
        if wid == "search":
            self.query_one("#household-list", DataTable).focus()
            return
        if not wid.startswith("in-"):
            return
        event.stop()
        key = wid.removeprefix("in-")
        i = TEXT_FIELDS.index(key)
        if i + 1 < len(TEXT_FIELDS):
            self.query_one(f"#in-{TEXT_FIELDS[i + 1]}", Input).focus()
        else:
            self.action_save()

    # -- actions ------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_new(self) -> None:
        self.new_form()
        self.set_focus(self.query_one("#in-village", Select))  # 村 first; at once, for keys typed right after

    def action_save(self) -> None:
        self.touched.update(TEXT_FIELDS)
        errors = self.validate(everything=True)
        if errors:
            self.vb.say(f"还有{errors}处要改（见红字），没有保存。", error=True)
            self.app.bell()
            return
        data = self.form_data()
        if self.editing is None:
            save_or_mask(self.vb, self.svc.registry.add_household, data, then=self.saved)
        else:
            save_or_mask(self.vb, self.svc.registry.update_household, self.editing.id, data, then=self.saved)

    def saved(self, result: Any) -> None:
        h, warnings = result
        village, group = place_names(self.svc, h)
        extra = "（有提醒：" + "；".join(p.reason for p in warnings) + "）" if warnings else ""
        self.vb.say(f"已保存：{h.name}，{village}{group}，户编号{h.id}{extra}")
        self.load(h)
        self.refresh_data()

    def action_status(self) -> None:
        if self.editing is None:
            self.vb.show_error("请先在名册中选中一户（回车打开），再登记已故或迁出。")
            return
        h = self.editing
        fields = [
            # Nothing chosen for the clerk: a new state and its date are typed on purpose.
            FormField(
                "status",
                "状态",
                None if h.status == "active" else h.status,
                kind="select",
                required=True,
                options=[(label, key) for key, label in HOUSEHOLD_STATUS.items()],
            ),
            FormField(
                "date",
                "日期",
                h.status_date.isoformat() if h.status_date else "",
                placeholder="已故或迁出的日期，如 2026-03-01",
                check=lambda t: "" if parse_date(t) else "日期写法不对，如 2026-03-01",
            ),
        ]
        self.app.push_screen(
            FormDialog(
                f"{h.name}（户编号{h.id}）的状态",
                fields,
                submit="保存",
                note="已故、迁出的户主之后再申报或发放，会出现风险提示。",
                submit_with=self._status_chosen,
            )
        )

    def _status_chosen(self, values: dict[str, Any]) -> bool:
        if self.editing is None:
            return True
        if values["status"] != "active" and not values["date"]:
            self.vb.show_error("请填写已故或迁出的日期，如 2026-03-01。")
            return False
        date = parse_date(values["date"]) if values["status"] != "active" else None
        h = self.vb.attempt(self.svc.registry.set_status, self.editing.id, values["status"], date)
        if h is None:
            return False
        self.vb.say(f"已保存：{h.name}现为“{HOUSEHOLD_STATUS[h.status]}”。")
        self.load(h)
        self.refresh_data()
        return True

    def action_change_head(self) -> None:
        if self.editing is None:
            self.vb.show_error("请先在左边的名册中选中一户（回车打开），再变更户主。")
            return
        h = self.editing
        fields = [
            FormField("name", "新户主姓名", required=True, placeholder=PLACEHOLDERS["name"]),
            FormField("id_number", "新户主身份证号", required=True, placeholder="18位身份证号"),
            FormField("card", "一卡通账号", placeholder="新户主的账号；不填则清空，登记后才能发放"),
            FormField("reason", "变更原因", required=True, placeholder="如 户主死亡"),
            FormField(
                "date",
                "变更日期",
                required=True,
                placeholder="如 2026-03-01",
                check=lambda t: "" if parse_date(t) else "日期写法不对，如 2026-03-01",
            ),
        ]
        self.app.push_screen(
            FormDialog(
                f"{h.name}（户编号{h.id}）变更户主",
                fields,
                submit="变更",
                note=f"原户主{h.name}（{mask_id(h.id_number)}）留在这户的记录里，按原户主也能查到这户。",
                submit_with=self._head_chosen,
            )
        )

    def _head_chosen(self, values: dict[str, Any]) -> bool:
        from villageboard.services.household_desk import change_head

        if self.editing is None:
            return True
        done = self.vb.attempt(
            change_head,
            self.svc,
            self.editing.id,
            name=values["name"],
            id_number=values["id_number"],
            card=values["card"] or None,
            reason=values["reason"],
            date=parse_date(values["date"]),
        )
        if done is None:
            return False
        h = done.household
        pay = "" if h.card_account else "新户主还没有一卡通账号，登记后才能发放。"
        self.vb.say(
            f"已变更户主：{h.name}，户编号{h.id}不变；原户主{done.former['name']}已记入变更记录。"
            + (f"还没有发放的{len(done.unpaid)}条申报将发给新户主。" if done.unpaid else "")
            + pay
        )
        self.load(h)
        self.refresh_data()
        return True

    def action_members(self) -> None:
        from villageboard.services.household_desk import RELATIONS, member_line
        from villageboard.services.payees import live_members

        if self.editing is None:
            self.vb.show_error("请先在左边的名册中选中一户（回车打开），再登记家庭成员。")
            return
        h = self.svc.registry.household(self.editing.id)
        members = live_members(h)
        fields = [
            FormField(
                "member",
                "成员",
                NEW_MEMBER,
                kind="select",
                required=True,
                options=[("新增一位成员", NEW_MEMBER), *((member_line(m), m["id_number"]) for m in members)],
            ),
            FormField("name", "姓名", placeholder="新增时填写"),
            FormField("id_number", "身份证号", placeholder="新增时填写，18位"),
            FormField("relation", "与户主关系", "子", kind="select", options=[(r, r) for r in RELATIONS]),
            FormField("card", "本人一卡通账号", placeholder="按人发放的项目发到这个账号；可不填"),
            FormField("bank", "开户银行", placeholder="可不填"),
            FormField("remove", "移出原因", placeholder="只在把所选成员移出这户时填写，如 迁出、分户"),
        ]
        shown = "；".join(member_line(m) for m in members) or "还没有登记家庭成员"
        self.app.push_screen(
            FormDialog(
                f"{h.name}（户编号{h.id}）家庭成员",
                fields,
                submit="保存",
                note=f"现有成员：{shown}。选一位成员可登记或更正本人的一卡通账号，或填写移出原因把他移出这户（记录保留）。",
                submit_with=self._member_saved,
            )
        )

    def _member_saved(self, values: dict[str, Any]) -> bool:
        from villageboard.services import household_desk as desk
        from villageboard.services import payees

        if self.editing is None:
            return True
        hid, idn = self.editing.id, values.get("member") or NEW_MEMBER
        if idn == NEW_MEMBER:
            h = self.vb.attempt(
                desk.add_member,
                self.svc,
                hid,
                name=values["name"],
                id_number=values["id_number"],
                relation=values.get("relation") or "",
                card=values["card"],
                bank=values["bank"],
            )
            done = f"已添加家庭成员：{desk.member_line(h.members[-1])}" if h is not None else ""
        elif (values.get("remove") or "").strip():
            h = self.vb.attempt(payees.void_member, self.svc, hid, idn, values["remove"])
            done = "已把这位成员移出这户（记录保留）。" if h is not None else ""
        elif not (values.get("card") or "").strip():
            self.vb.show_error("请填写这位成员本人的一卡通账号；要把他移出这户，请填写移出原因。")
            return False
        else:
            got = self.vb.attempt(payees.set_member_card, self.svc, hid, idn, card=values["card"], bank=values["bank"])
            h = got[0] if got is not None else None
            who = payees.person_in(h, idn) if h is not None else None
            done = f"已保存：{who.name}本人的一卡通账号{payees.card_line(who)}。" if who is not None else ""
        if h is None:
            return False
        self.vb.say(done)
        self.load(h)
        self.refresh_data()
        return True

    def action_import(self) -> None:
        start_import(self, "households", self._after_import)

    def _after_import(self) -> None:
        villages = [(v.name, v.id) for v in self.svc.registry.villages()]
        self.query_one("#filter-village", Select).set_options(villages)
        self.query_one("#in-village", Select).set_options(villages)
        self.refresh_data()
