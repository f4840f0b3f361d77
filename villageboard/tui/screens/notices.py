"""公示 (F7): every notice of the year with its state and days left; the highlighted
one previewed as the poster will show it. Create (one village or all), post
(confirm: posting freezes the rows), print, print every village at once, record the
posting photo, and handle objections (which may end in a correction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Label, Select, Static

from villageboard.domain.models import NOTICE_KINDS, NOTICE_STATES, Notice
from villageboard.services import ui_support
from villageboard.services.notices import NoticeRow, period_end
from villageboard.tui.dialogs import ConfirmDialog, FormDialog, FormField, MessageDialog
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.screens.objections import ObjectionsScreen
from villageboard.tui.screens.posters import ask_batch, ask_render, show_preview
from villageboard.tui.text import cell, num, yuan
from villageboard.tui.widgets.prose import Prose

ALL = "all"
#: What a clerk looks for first comes first: at 80 columns the objection columns are
#: in view without scrolling sideways.
NOTICE_COLUMNS = (
    "公示编号",
    "版",
    "村",
    "状态",
    "未处理异议",
    "可提异议",
    "类别",
    "项目",
    "公示期",
    "户数",
    "金额（元）",
)


def objection_days_text(days: int, state: str) -> str:
    """How long objections may still come in, as the lists show it."""
    if state != "posted":
        return "已截止" if state in ("ended", "archived") else ""
    if days <= 0:
        return "未开始"
    return "今天最后一天" if days == 1 else f"还有{days}天"


class NoticeScreen(VBScreen):
    NAV_MODE = "notices"
    AUTO_FOCUS = "#notice-list"
    BINDINGS = [
        Binding("ctrl+n", "new_notice", "新建", id="notices-new", tooltip="为一个村或全部村新建公示草稿"),
        Binding("ctrl+t", "post", "张贴", id="notices-post", tooltip="登记张贴：冻结公示内容并生成核验码（会先确认）"),
        Binding("ctrl+d", "post_on", "定日张贴", id="notices-post-on", tooltip="张贴日期不是今天时用这个"),
        Binding("ctrl+r", "render", "打印", id="notices-render", tooltip="生成 PDF/图片/网页文件并打印"),
        Binding("ctrl+b", "batch", "各村批量", id="notices-batch", tooltip="为每个村生成同一类公示的文件"),
        Binding("ctrl+o", "objections", "异议", id="notices-objections", tooltip="查看、登记、处理这份公示的异议"),
        Binding("ctrl+f", "photo", "照片", id="notices-photo", tooltip="保存张贴后拍的照片（留存证据）"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[NoticeRow] = []
        self.previewed: str = ""

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="notices"):
            with Horizontal(classes="form-row"):
                yield Label("年度", classes="form-label-short")
                yield Select(
                    [(f"{y}年", y) for y in self._years()],
                    value=self.svc.today().year,
                    allow_blank=False,
                    id="notice-year",
                    compact=True,
                )
                yield Label("状态", classes="form-label-short")
                yield Select(
                    [("全部", ALL), *[(label, key) for key, label in NOTICE_STATES.items()]],
                    value=ALL,
                    allow_blank=False,
                    id="notice-state",
                    compact=True,
                )
                yield Prose("", id="notice-count", markup=False)
            yield DataTable(id="notice-list", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="preview-pane"):
                yield Prose("", id="preview-head", markup=False)
                yield DataTable(id="preview", cursor_type="row", zebra_stripes=True, show_cursor=False)
                yield Prose("", id="preview-foot", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#notice-list", DataTable)
        table.add_columns(*NOTICE_COLUMNS)
        self.refresh_data()

    def _years(self) -> list[int]:
        return sorted(set(self.svc.store.years()) | {self.svc.today().year}, reverse=True)

    @property
    def year(self) -> int:
        v = self.query_one("#notice-year", Select).value
        return self.svc.today().year if v is Select.NULL else int(v)  # type: ignore[arg-type]

    # -- list ---------------------------------------------------------------------------
    def refresh_data(self) -> None:
        state = self.query_one("#notice-state", Select).value
        rows = self.svc.notices.rows(self.year, None if state == ALL else str(state))
        order = {"draft": 0, "posted": 1, "ended": 2, "archived": 3}
        rows.sort(key=lambda r: (order.get(r.state, 4), -r.open_objections, r.notice.code, r.notice.version))
        keep = self.current_key()
        self.rows = rows
        table = self.query_one("#notice-list", DataTable)
        table.clear()
        for r in rows:
            n = r.notice
            period = f"{n.start:%m-%d}至{n.end:%m-%d}" if n.start and n.end else "未张贴"
            days = self.svc.notices.objection_days(n)
            left = objection_days_text(days, r.state)
            state_style = {"posted": "green", "draft": "yellow", "ended": "red"}.get(r.state, "dim")
            table.add_row(
                cell(n.code),
                cell(n.version),
                cell(r.village),
                cell(r.state_label, state_style),
                cell(f"{r.open_objections}条" if r.open_objections else "", "bold red"),
                cell(left, "bold red" if r.state == "posted" and days == 1 else ""),
                cell(NOTICE_KINDS.get(n.kind, n.kind)),
                cell(r.program),
                cell(period),
                num(r.households if n.state != "draft" else ""),
                num(yuan(r.amount_fen) if n.state != "draft" else ""),
                key=f"{n.code}/{n.version}",
            )
        posted = sum(1 for r in rows if r.state == "posted")
        drafts = sum(1 for r in rows if r.state == "draft")
        objected = sorted({r.notice.code for r in rows if r.open_objections})
        count = f"共{len(rows)}份，公示中{posted}份，草稿{drafts}份"
        if objected:
            count += f"，有异议{len(objected)}份"
        self.query_one("#notice-count", Static).update(count)
        if keep:
            self.select_key(keep)
        elif rows:
            table.move_cursor(row=0)
        self.preview()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("notice-year", "notice-state"):
            self.refresh_data()

    def current_key(self) -> str | None:
        table = self.query_one("#notice-list", DataTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            return None
        n = self.rows[table.cursor_row].notice
        return f"{n.code}/{n.version}"

    def current(self) -> NoticeRow | None:
        table = self.query_one("#notice-list", DataTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            return None
        return self.rows[table.cursor_row]

    def select_key(self, key: str) -> bool:
        for i, r in enumerate(self.rows):
            if f"{r.notice.code}/{r.notice.version}" == key:
                self.query_one("#notice-list", DataTable).move_cursor(row=i)
                return True
        return False

    def select_notice(self, code: str) -> None:
        """Show the latest version of ``code`` (the home screen opens notices here)."""
        year = int(code.split("-")[1])
        if year != self.year:
            self.query_one("#notice-year", Select).value = year
        self.query_one("#notice-state", Select).value = ALL
        self.refresh_data()
        versions = [r for r in self.rows if r.notice.code == code]
        if versions:
            self.select_key(f"{code}/{versions[-1].notice.version}")
        self.query_one("#notice-list", DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "notice-list":
            self.preview()

    def preview(self) -> None:
        r = self.current()
        head = self.query_one("#preview-head", Static)
        table = self.query_one("#preview", DataTable)
        foot = self.query_one("#preview-foot", Static)
        if r is None:
            show_preview(None, head, table, foot, "这一年还没有公示。按 Ctrl+N 新建。")
            return
        key = f"{r.notice.code}/{r.notice.version}/{r.state}"
        if key == self.previewed:
            return
        self.previewed = key
        try:
            doc = ui_support.notice_document(self.svc, r.notice)
        except Exception as exc:
            from villageboard.tui.errors import describe_error

            show_preview(None, head, table, foot, "无法预览：" + describe_error(exc))
            return
        note = {
            "draft": "草稿：张贴（Ctrl+T）时按当时的数据冻结，这里是现在的数据。",
            "posted": f"公示中，还剩{r.days_left}天。" if r.days_left else "公示中。",
            "ended": "公示期已满，下次打开程序时自动存档。",
            "archived": "已存档，只能查看和打印存档件（F8 档案）。",
        }.get(r.state, "")
        show_preview(doc, head, table, foot, note)

    # -- create -------------------------------------------------------------------------
    def action_new_notice(self) -> None:
        year = self.year
        programs = self.svc.programs.list(year)
        villages = self.svc.registry.villages()
        fields = [
            FormField(
                "kind",
                "公示类别",
                "result",
                kind="select",
                required=True,
                options=[(label, key) for key, label in NOTICE_KINDS.items() if key != "correction"],
            ),
            FormField(
                "program",
                "补贴项目",
                programs[0].code if programs else None,
                kind="select",
                options=[(p.name, p.code) for p in programs],
            ),
            FormField(
                "village",
                "村",
                ALL,
                kind="select",
                required=True,
                options=[("全部村（每村一份）", ALL), *[(v.name, v.id) for v in villages]],
            ),
            FormField(
                "note", "", "年度汇总公示包括全年所有项目，不用选补贴项目。更正公示在处理异议时生成。", kind="note"
            ),
        ]
        self.app.push_screen(FormDialog(f"新建{year}年公示草稿", fields, submit="新建", wide=True), self._create)

    def _create(self, v: dict[str, Any] | None) -> None:
        if not v:
            return
        program = "" if v["kind"] == "summary" else (v["program"] or "")
        if v["village"] == ALL:
            result = self.vb.attempt(ui_support.create_for_villages, self.svc, v["kind"], self.year, program)
            if result is None:
                return
            made, skipped = result
            lines = [f"已新建{len(made)}份草稿（预览无误后逐份按 Ctrl+T 张贴）："] if made else ["没有新建任何草稿。"]
            lines += [f"  {n.code}  {ui_support.notice_label(self.svc, n)}" for n in made]
            if skipped:
                lines += ["没有新建的：", *[f"  {s}" for s in skipped]]
            self.app.push_screen(MessageDialog("新建公示草稿", "\n".join(lines)))
            self.refresh_data()
            if made:
                self.select_key(f"{made[0].code}/1")
            return
        n = self.vb.attempt(self.svc.notices.create, v["kind"], self.year, int(v["village"]), program)
        if n is not None:
            self.vb.say(f"已新建草稿 {n.code}：{ui_support.notice_label(self.svc, n)}。预览无误后按 Ctrl+T 张贴。")
            self.query_one("#notice-state", Select).value = ALL
            self.refresh_data()
            self.select_key(f"{n.code}/{n.version}")

    # -- post -----------------------------------------------------------------------------
    def _draft(self) -> Notice | None:
        r = self.current()
        if r is None:
            return None
        if r.state != "draft":
            self.vb.show_error(f"公示{r.notice.code}第{r.notice.version}版现在是“{r.state_label}”，只有草稿可以张贴。")
            return None
        return r.notice

    def _days(self, n: Notice) -> int:
        if n.program_code:
            try:
                return self.svc.programs.get(n.year, n.program_code).posting_days
            except Exception:
                pass
        return 7

    def action_post(self) -> None:
        n = self._draft()
        if n is None:
            return
        self._confirm_post(n, self.svc.today(), self._days(n))

    def action_post_on(self) -> None:
        n = self._draft()
        if n is None:
            return
        fields = [
            FormField("start", "张贴日期", self.svc.today().isoformat(), check=ui_support.date_problem, required=True),
            FormField(
                "days",
                "公示天数",
                str(self._days(n)),
                check=lambda t: "" if t.isdigit() and 1 <= int(t) <= 90 else "写1到90之间的天数",
                required=True,
            ),
        ]
        self.app.push_screen(
            FormDialog(f"张贴 {n.code}", fields, submit="下一步"),
            lambda v: self._confirm_post(n, ui_support.parse_date(v["start"]), int(v["days"])) if v else None,
        )

    def _confirm_post(self, n: Notice, start: dt.date | None, days: int) -> None:
        assert start is not None
        end = period_end(start, days)
        snap = self.svc.notices.snapshot(n)
        t = snap["totals"]
        msg = (
            f"{ui_support.notice_label(self.svc, n)}（{n.code}）\n"
            f"{t['households']}户，合计{yuan(t['amount_fen'])}元\n"
            f"公示期：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}（按{days}天公示）\n\n"
            "张贴后公示内容冻结，不能再修改（有错误要受理异议、做更正公示）。确定已经张贴？"
        )
        self.app.push_screen(
            ConfirmDialog("登记张贴", msg, confirm="确定张贴"), lambda ok: self._post(n, start, days) if ok else None
        )

    def _post(self, n: Notice, start: dt.date, days: int) -> None:
        posted = self.vb.attempt(self.svc.notices.post, n.code, start, days)
        if posted is not None:
            self.vb.say(
                f"公示{posted.code}已登记张贴，公示期{posted.start}至{posted.end}，核验码{posted.tag}。"
                "按 Ctrl+R 打印。",
                timeout=10,
            )
            self.previewed = ""
            self.refresh_data()

    # -- print ----------------------------------------------------------------------------
    def action_render(self) -> None:
        r = self.current()
        if r is None:
            return
        if r.state == "draft":
            self.vb.show_error(f"公示{r.notice.code}还是草稿。请先按 Ctrl+T 登记张贴（冻结内容、生成核验码），再打印。")
            return
        ask_render(self, r.notice, archive_copy=r.state == "archived")

    def action_batch(self) -> None:
        programs = [(p.name, p.code) for p in self.svc.programs.list(self.year)]
        ask_batch(self, self.year, programs)

    def action_photo(self) -> None:
        r = self.current()
        if r is None:
            return

        def chosen(v: dict[str, Any] | None) -> None:
            if not v:
                return
            n = self.vb.attempt(self.svc.notices.attach_photo, r.notice.code, Path(v["path"]).expanduser())
            if n is not None:
                self.vb.say(f"已保存公示{n.code}的张贴照片。")

        fields = [
            FormField(
                "path",
                "照片文件",
                placeholder="手机拍的照片，复制到电脑后的完整路径",
                required=True,
                check=lambda t: "" if Path(t).expanduser().is_file() else "找不到这个文件",
            )
        ]
        self.app.push_screen(FormDialog(f"{r.notice.code} 的张贴照片", fields, submit="保存", wide=True), chosen)

    # -- objections ---------------------------------------------------------------------
    def action_objections(self) -> None:
        r = self.current()
        if r is None:
            return
        self.app.push_screen(ObjectionsScreen(r.notice.code), lambda _v: self._after_objections())

    def _after_objections(self) -> None:
        self.previewed = ""
        self.refresh_data()
