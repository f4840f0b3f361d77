"""档案 (F8): archived notices, read-only. Find them by year, village, program or a
name on the notice; print the archive copy (stamped 公示期满存档); verify a poster's
code and tag, or the text a phone's scanner read from its QR code.

The archive may hold years of notices, so the list loads in a worker with progress."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import get_current_worker

from villageboard.domain.errors import VBError
from villageboard.domain.money import format_fen
from villageboard.services import ui_support
from villageboard.services.notices import NoticeRow
from villageboard.tui.dialogs import FormDialog, FormField, MessageDialog
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.screens.posters import ask_render, show_preview
from villageboard.tui.text import cell, num, yuan
from villageboard.tui.widgets import JobPanel
from villageboard.tui.widgets.prose import Prose

ALL = -1


class ArchiveScreen(VBScreen):
    NAV_MODE = "archive"
    AUTO_FOCUS = "#archive-list"
    BINDINGS = [
        Binding("ctrl+r", "render", "打印存档件", id="archive-render", tooltip="打印盖有“公示期满存档”字样的存档件"),
        Binding("ctrl+y", "verify", "核验", id="archive-verify", tooltip="核验公示的编号和核验码（或二维码内容）"),
        Binding("ctrl+f", "focus_search", "查找", id="archive-search", tooltip="按编号、村、项目或公示上的姓名查找"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[NoticeRow] = []
        self.previewed = ""
        self.loading = False

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="archive"):
            with Horizontal(classes="form-row"):
                yield Select([], prompt="全部年度", id="archive-year", compact=True)
                yield Select([], prompt="全部村", id="archive-village", compact=True)
                yield Select([], prompt="全部项目", id="archive-program", compact=True)
                yield Input(placeholder="查找：编号、村、项目或姓名，回车", id="archive-search", compact=True)
            yield Prose("", id="archive-count", markup=False)
            yield DataTable(id="archive-list", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="archive-preview-pane"):
                yield Prose("", id="archive-head", markup=False)
                yield DataTable(id="archive-preview", cursor_type="row", zebra_stripes=True, show_cursor=False)
                yield Prose("", id="archive-foot", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#archive-list", DataTable)
        table.add_columns("公示编号", "版", "类别", "村", "项目", "公示期", "存档日期", "户数", "金额（元）")
        years = sorted(self.svc.store.years(), reverse=True)
        self.query_one("#archive-year", Select).set_options([(f"{y}年", y) for y in years])
        self.query_one("#archive-village", Select).set_options([(v.name, v.id) for v in self.svc.registry.villages()])
        codes: dict[str, str] = {}
        for p in self.svc.programs.list():
            codes.setdefault(p.code, p.name)
        self.query_one("#archive-program", Select).set_options([(name, code) for code, name in sorted(codes.items())])
        self.refresh_data()

    # -- loading ------------------------------------------------------------------------
    def _filters(self) -> tuple[int | None, int | None, str | None, str]:
        def value(wid: str) -> Any:
            v = self.query_one(wid, Select).value
            return None if v is Select.NULL else v

        return (
            value("#archive-year"),
            value("#archive-village"),
            value("#archive-program"),
            self.query_one("#archive-search", Input).value.strip(),
        )

    def refresh_data(self) -> None:
        self.loading = True
        self.query_one(JobPanel).start("正在载入存档")
        self.refresh_bindings()
        self.load(*self._filters())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_job" and self.loading:
            return True
        return super().check_action(action, parameters)

    def action_cancel_job(self) -> None:
        if self.loading:
            self.workers.cancel_group(self, "archive")
            self._loaded()
            self.vb.say("已停止载入存档。", warning=True)
            return
        super().action_cancel_job()

    def _loaded(self) -> None:
        self.loading = False
        self.query_one(JobPanel).stop()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="archive", exit_on_error=False)
    def load(self, year: int | None, village: int | None, program: str | None, text: str) -> None:
        years = [year] if year else sorted(self.svc.store.years(), reverse=True)
        out: list[NoticeRow] = []
        worker = get_current_worker()
        panel = self.query_one(JobPanel)
        for i, y in enumerate(years):
            if worker.is_cancelled:
                return
            self.app.call_from_thread(panel.step, i, len(years), f"{y}年")
            out += ui_support.archived_rows(self.svc, y, village, program, text)
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show_rows, out)

    def show_rows(self, rows: list[NoticeRow]) -> None:
        self._loaded()
        rows.sort(key=lambda r: (-r.notice.year, r.notice.code, r.notice.version))
        self.rows = rows
        table = self.query_one("#archive-list", DataTable)
        table.clear()
        for r in rows:
            n = r.notice
            period = f"{n.start:%Y-%m-%d}至{n.end:%m-%d}" if n.start and n.end else ""
            table.add_row(
                cell(n.code),
                cell(n.version),
                cell(r.kind_label),
                cell(r.village),
                cell(r.program),
                cell(period),
                cell(n.archived_at[:10]),
                num(r.households),
                num(yuan(r.amount_fen)),
                key=f"{n.code}/{n.version}",
            )
        total = sum(r.amount_fen for r in rows)
        self.query_one("#archive-count", Static).update(
            f"找到{len(rows)}份存档公示，金额合计{format_fen(total)}元（存档只能查看和打印，不能修改）"
        )
        self.previewed = ""
        if rows:
            table.move_cursor(row=0)
        self.preview()

    def on_select_changed(self, event: Select.Changed) -> None:
        if (event.select.id or "").startswith("archive-"):
            self.refresh_data()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "archive-search":
            event.stop()
            self.refresh_data()
            self.query_one("#archive-list", DataTable).focus()

    # -- preview ------------------------------------------------------------------------
    def current(self) -> NoticeRow | None:
        table = self.query_one("#archive-list", DataTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            return None
        return self.rows[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "archive-list":
            self.preview()

    def preview(self) -> None:
        r = self.current()
        head = self.query_one("#archive-head", Static)
        table = self.query_one("#archive-preview", DataTable)
        foot = self.query_one("#archive-foot", Static)
        if r is None:
            self.previewed = ""
            show_preview(None, head, table, foot, "没有符合条件的存档公示。")
            return
        key = f"{r.notice.code}/{r.notice.version}"
        if key == self.previewed:
            return
        self.previewed = key
        try:
            doc = ui_support.notice_document(self.svc, r.notice, archive_copy=True)
        except Exception as exc:
            from villageboard.tui.errors import describe_error

            show_preview(None, head, table, foot, "无法预览：" + describe_error(exc))
            return
        show_preview(doc, head, table, foot)

    # -- actions ------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        self.query_one("#archive-search", Input).focus()

    def action_render(self) -> None:
        r = self.current()
        if r is None:
            self.vb.show_error("先在列表中选中一份存档公示。")
            return
        ask_render(self, r.notice, archive_copy=True)

    def action_verify(self) -> None:
        fields = [
            FormField("code", "公示编号", placeholder="如 141025-2026-0012，或扫码得到的整段文字", required=True),
            FormField("tag", "核验码", placeholder="公示上二维码旁的核验码（粘贴整段二维码内容时不填）"),
        ]
        self.app.push_screen(FormDialog("核验公示真伪", fields, submit="核验", wide=True), self._verify)

    def _verify(self, v: dict[str, Any] | None) -> None:
        if not v:
            return
        code, tag = v["code"], v["tag"]
        problems: list[str] = []
        if tag:
            found = self.svc.notices.verify(code, tag)
        else:
            try:
                found, problems = self.svc.notices.verify_text(code)
            except VBError as exc:
                self.vb.show_error(str(exc), title="无法核验")
                return
        if found is None:
            what = f"编号{code}与核验码{tag}不匹配" if tag else "二维码中的核验码不是本乡镇任何一份公示的"
            self.vb.show_error(f"核验未通过：{what}。\n这份公示可能不是本乡镇发布的，或已被改动。", title="核验未通过")
            return
        if problems:
            self.vb.show_error(
                "二维码内容与存档不符，这份公示可能被改动过：\n"
                + "\n".join(problems)
                + f"\n存档中是：{found['village']} {found['program']} {found['kind']} 第{found['version']}版，"
                f"{found['households']}户，合计{format_fen(found['amount_fen'])}元",
                title="核验未通过",
            )
            return
        text = (
            f"核验通过：{found['village']} {found['program']} {found['kind']}\n"
            f"编号 {found['code']} 第{found['version']}版\n"
            f"{found['households']}户，合计{format_fen(found['amount_fen'])}元\n"
            f"公示期 {found['start']} 至 {found['end']}，{found['state']}"
            + ("" if found["latest"] else "\n注意：这一版之后已有更正，请以最新版本为准。")
        )
        self.app.push_screen(MessageDialog("核验通过", text))
