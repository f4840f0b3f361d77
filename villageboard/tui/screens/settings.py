"""设置 (F9): the township's details (printed on every notice) and what notices print
(the village committee as co-issuer, the 一卡通尾号 column), the masking policy
(shown, not editable, with the reason), the font for posters, and the data's safety:
backup (worker), restore (confirm; the app then reopens the data dir), check."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Static

from villageboard.domain.errors import VBError
from villageboard.domain.masking import POLICY_REASON, POLICY_TEXT
from villageboard.locations import backups_dir
from villageboard.services import ui_support
from villageboard.services.township import township_of, update_settings, validate_township
from villageboard.tui.dialogs import MessageDialog
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.text import display_path
from villageboard.tui.widgets import FieldRow, TickBox
from villageboard.tui.widgets.prose import Prose

FIELDS: tuple[tuple[str, str, str, str], ...] = (
    # key, label, placeholder, label used by validate_township
    ("name", "乡镇名称", "如 岳阳镇", "乡镇名称"),
    ("county", "县", "如 古县", "县"),
    ("code", "行政区划代码", "6位数字，如 141025", "代码"),
    ("hotline", "咨询电话", "印在每张公示上", "咨询电话"),
    ("supervision_hotline", "监督举报电话", "县纪委监委等", "监督电话"),
    ("supervision_address", "来信来访地址", "可不填", ""),
    ("issuing_units", "落款单位", "多个用顿号分开，如 岳阳镇人民政府、岳阳镇农业综合服务中心", ""),
    ("portal_url", "核验网址", "县政府网站的核验地址（可不填）", ""),
    ("font_path", "公示字体文件", "不填则自动找系统中文字体", ""),
    ("growth_limit", "增长提示倍数", "数量超过前三年审核通过最少一年的多少倍就提示，如 1.2", "比上年增加提示线"),
    ("outlier_factor", "异常提示倍数", "超过本村该项目中位数的多少倍就提示，如 3", "数量异常提示线"),
    ("planted_limit", "种粮超耕地倍数", "种粮面积超过本户耕地补贴面积的多少倍就提示，如 1", "种粮超耕地提示线"),
)
LABEL_TO_KEY = {v: k for k, _l, _p, v in FIELDS if v}
#: switches for what notices print: key, label
SWITCHES: tuple[tuple[str, str], ...] = (
    ("village_cosign", "村民委员会共同落款（各留盖章位置）"),
    ("card_tail_column", "公示加“一卡通尾号”一列（只印后4位）"),
)


class SettingsScreen(VBScreen):
    NAV_MODE = "settings"
    AUTO_FOCUS = "#in-name"
    BINDINGS = [
        Binding("ctrl+s", "save", "保存设置", id="settings-save", tooltip="检查并保存乡镇信息"),
        Binding(
            "ctrl+b",
            "backup",
            "备份到…",
            id="settings-backup",
            tooltip="把全部数据备份成一个文件：备份文件夹、U盘或选定的文件夹",
        ),
        Binding("ctrl+r", "restore", "恢复", id="settings-restore", tooltip="用备份替换现在的数据（会先确认）"),
        Binding("ctrl+t", "check", "检查数据", id="settings-check", tooltip="检查每个数据文件和修改记录是否完好"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loading_form = False

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="settings"):
            with VerticalScroll(id="settings-form"):
                yield Prose("乡镇信息（印在公示上）", classes="section")
                for key, label, placeholder, _v in FIELDS:
                    if key == "growth_limit":
                        yield Prose("风险提示的提示线（不印在公示上）", classes="section")
                    yield FieldRow(key, label, placeholder=placeholder)
                    if key == "font_path":
                        for switch, text in SWITCHES:
                            yield TickBox(text, id=f"tick-{switch}", compact=True)
                yield Prose("回车到下一项，最后一项回车保存。", classes="hint")
            with Vertical(id="settings-side"):
                yield Prose("身份信息遮挡规则（全乡镇统一，不能修改）", classes="section")
                yield Prose(POLICY_TEXT, id="policy", markup=False)
                yield Prose("为什么不能改：" + POLICY_REASON, id="policy-reason", markup=False)
                yield Prose("数据和备份", classes="section")
                yield Prose("", id="data-info", markup=False)

    def on_mount(self) -> None:
        self.load()

    def refresh_data(self) -> None:
        self.show_data_info()

    def load(self) -> None:
        self.loading_form = True
        t = self.svc.township
        for key, _l, _p, _v in FIELDS:
            value = getattr(t, key)
            if isinstance(value, list):
                value = "、".join(value)
            self.query_one(f"#in-{key}", Input).value = str(value or "")
            self.query_one(f"#row-{key}", FieldRow).set_message("")
        for key, _text in SWITCHES:
            self.query_one(f"#tick-{key}", TickBox).value = bool(getattr(t, key))
        self.call_after_refresh(self._done_loading)
        self.show_data_info()

    def _done_loading(self) -> None:
        self.loading_form = False

    def show_data_info(self) -> None:
        root = self.svc.root
        found = ui_support.backups(self.svc)
        lines = [
            f"数据文件夹：{display_path(root)}",
            f"备份文件夹：{display_path(backups_dir(root))}",
            "打开方式：" + ("只读（另一个窗口正在修改数据）" if self.svc.readonly else "可以修改"),
        ]
        last = self.svc.backups.last()  # wherever it went (a USB stick too)
        if last is None:
            lines.append("还没有备份过（按 Ctrl+B 备份）")
        else:  # the file name on a line of its own: a long path never breaks inside it
            when = last.when.replace("T", " ")[:16]
            state = ("已检查完好" if last.verified else "未检查") + ("，有密码" if last.encrypted else "")
            lines += [
                f"最近一次备份：{when}（{state}）",
                f"  {last.where.name}",
                f"  在 {display_path(last.where.parent)}",
            ]
        if len(found) > 1:
            lines.append("较早的备份：" + "、".join(ui_support.backup_label(p) for p in found[1:5]))
        self.query_one("#data-info", Static).update("\n".join(lines))

    # -- the form -------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, _l, _p, _v in FIELDS:
            text = self.query_one(f"#in-{key}", Input).value.strip()
            if key == "issuing_units":
                out[key] = [u.strip() for u in text.replace(",", "、").replace("，", "、").split("、") if u.strip()]
            else:
                out[key] = text
        for key, _text in SWITCHES:
            out[key] = self.query_one(f"#tick-{key}", TickBox).value
        return out

    def validate(self) -> int:
        data = {**self.svc.township.to_dict(), **self.values()}
        problems: dict[str, str] = {}
        t, typed = township_of(data)
        for p in typed + validate_township(t):
            problems.setdefault(LABEL_TO_KEY.get(p.field or "", "name"), p.reason)
        font = data["font_path"]
        if font and not Path(font).expanduser().is_file():
            problems["font_path"] = "找不到这个字体文件"
        for key, _l, _p, _v in FIELDS:
            self.query_one(f"#row-{key}", FieldRow).set_message(problems.get(key, ""))
        return len(problems)

    def on_input_changed(self, event: Input.Changed) -> None:
        if not self.loading_form and (event.input.id or "").startswith("in-"):
            self.validate()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        wid = event.input.id or ""
        if not wid.startswith("in-"):
            return
        event.stop()
        keys = [k for k, _l, _p, _v in FIELDS]
        i = keys.index(wid.removeprefix("in-"))
        if i + 1 < len(keys):
            self.query_one(f"#in-{keys[i + 1]}", Input).focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        if self.validate():
            self.vb.say("还有要改的地方（见红字），没有保存。", error=True)
            return
        values = self.values()
        if values["font_path"]:
            try:
                from villageboard.render.fonts import primary_font

                primary_font(values["font_path"])
            except VBError as exc:
                self.query_one("#row-font_path", FieldRow).set_message(str(exc))
                return
        t = self.vb.attempt(update_settings, self.svc, **values)
        if t is not None:
            self.vb.say("乡镇信息已保存，之后生成的公示按新的信息印。")
            self.vb.sub_title = f"{t.county}{t.name}"
            self.load()

    # -- safety -------------------------------------------------------------------------
    def action_backup(self) -> None:
        """备份到…: the backups folder, a USB stick or a chosen folder (tui/backup.py)."""
        from villageboard.tui.backup import start_backup

        start_backup(self)

    def action_restore(self) -> None:
        from villageboard.tui.backup import start_restore

        start_restore(self)

    def action_check(self) -> None:
        from villageboard.services.integrity import check_all

        def work(progress: Any, cancel: Any) -> list[str]:
            return check_all(self.svc.root)

        def done(problems: list[str]) -> None:
            if problems:
                self.app.push_screen(MessageDialog(f"发现{len(problems)}处问题", "\n".join(problems[:100]), error=True))
            else:
                self.app.push_screen(MessageDialog("检查通过", "全部数据文件完好，修改记录完整，名册与申报前后一致。"))

        self.run_job("正在检查数据", work, done, writes=True)
