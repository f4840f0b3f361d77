"""首页: the township, this year's counts, the notices on the board (red on their last
day), and what is due, each line one Enter away from the screen that deals with it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from villageboard.domain.money import format_fen
from villageboard.services.dashboard import HomeSummary, home_summary
from villageboard.services.ui_support import HomeExtras, home_extras
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.text import cell, display_path
from villageboard.tui.widgets.prose import Prose, broken

POSTED_COLUMNS = ("公示编号", "村", "未处理异议", "可提异议", "类别", "项目", "公示期")


def backup_line(s: HomeSummary) -> str:
    """The last backup: when, the folder it went to, whether it was checked and has a
    passphrase."""
    b = s.backup
    if b is None:
        if s.last_backup:
            return f"最近一次备份：{s.last_backup[:4]}-{s.last_backup[4:6]}-{s.last_backup[6:8]}"
        return "还没有备份过数据，请到“设置”备份（回车前往）"
    when = b.when.replace("T", " ")[:16]
    checked = "已检查完好" if b.verified else "未检查"
    locked = "有密码" if b.encrypted else "没有密码"
    return f"最近一次备份：{when}，在 {display_path(b.where.parent)}（{checked}，{locked}）"


class HomeScreen(VBScreen):
    NAV_MODE = "home"
    BINDINGS = [
        Binding("ctrl+r", "refresh", "刷新", id="home-refresh", tooltip="重新统计首页的数字和待办"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="home"):
            yield Prose("", id="township", markup=False)
            with Horizontal(id="counts"):
                for key in ("villages", "households", "applications", "paid", "failed"):
                    yield Prose("", id=f"count-{key}", classes="count", markup=False)
            yield Prose("正在公示（回车打开）", classes="section")
            yield DataTable(id="posted", zebra_stripes=True, cursor_type="row")
            yield Prose("待办（回车处理）", classes="section")
            yield OptionList(id="due")

    _loading = False
    _again = False
    _started = 0.0
    _shown = False
    _painted = False  # the first counts are on screen (the background work may start)
    _counted_on_mount = False  # the first figures were made in on_mount (see _first_count)

    def on_mount(self) -> None:
        table = self.query_one("#posted", DataTable)
        table.add_columns(*POSTED_COLUMNS)
        if self.vb.svc is not None:
            t = self.svc.township
            self.query_one("#township", Static).update(f"{t.county}{t.name}　{self.svc.today().year}年度")
            self._first_count()
        table.focus()

    def _first_count(self) -> None:
        """The first figures are made here, before the screen is first drawn, when they
        are kept from the last start (a tenth of a second at a large township): the
        clerk's first sight of the app is then the whole home screen, and no counting
        thread competes with that first drawing. Anything slower goes to the worker."""
        svc = self.svc
        try:
            s = home_summary(svc, known_only=True)
            extras = home_extras(svc, s.year, failed=s.failed, flags=False) if s is not None else None
        except Exception:  # the worker will count, and report a real failure
            s = extras = None
        if s is None or extras is None:
            self.refresh_data()
            return
        self._show(s, extras)
        self._shown = self._counted_on_mount = True
        self._started = time.monotonic()
        self._first_shown()
        if extras.flags_pending:  # after a save: only the risk flags are still to count
            self._loading = True
            self.run_worker(partial(self._count, s), name="home-counts", group="home", thread=True, exit_on_error=False)

    def action_refresh(self) -> None:
        self.refresh_data()
        self.vb.say("已刷新。", timeout=2)

    def backup_done(self) -> None:
        """A backup has just been written: the to-do list names the last backup, so count
        again (after the count running now, if one is)."""
        self.refresh_data(force=True)

    def refresh_data(self, force: bool = False) -> None:
        """Count in a worker thread: at a large township the year's figures and risk
        flags take a second or more, and the screen must paint at once."""
        if self.vb.svc is None:
            return
        # ``force``: something the counts show has just changed, so never taken for one
        # of the first show's duplicate requests
        just_counted = not force and time.monotonic() - self._started <= 0.5
        if self._loading:
            # a request that arrives as a count has just begun is answered by it (the
            # first show sends mount and resume together); a later one gets a new pass
            if not just_counted:
                self._again = True
            return
        if self._counted_on_mount and just_counted:
            return  # the resumes that come with the first show: answered on mount
        self._loading = True
        self._started = time.monotonic()
        self.run_worker(self._count, name="home-counts", group="home", thread=True, exit_on_error=False)

    def _count(self, shown: HomeSummary | None = None) -> None:
        """Count everything; or, given the summary already on screen (whose risk flags
        are still pending), count the risk flags only."""
        try:
            svc = self.svc
            if shown is None:
                s = home_summary(svc)
                assert s is not None  # only a known_only summary may be missing
                extras = home_extras(svc, s.year, failed=s.failed, flags=False)
                pending = extras.flags_pending
                if pending:  # show the rest now; the risk flags follow
                    self.app.call_from_thread(self._show_first, s, extras)
            else:
                s, pending = shown, True
            if pending:
                self.vb.loader_done.wait(timeout=10)  # the phone desk's index comes first
                extras = home_extras(svc, s.year, failed=s.failed)
        except BaseException:
            self.app.call_from_thread(self._counted, None, None)
            raise
        self.app.call_from_thread(self._counted, s, extras)

    @property
    def busy(self) -> bool:
        """True until the first counts are on screen, and while a recount runs."""
        return self._loading or not self._shown

    def _show_first(self, s: HomeSummary, extras: HomeExtras) -> None:
        """Counts, notices and to-do list, before the risk flags are counted."""
        if self.is_mounted:
            self._show(s, extras)
        self._first_shown()

    def _first_shown(self) -> None:
        if not self._painted:
            self._painted = True
            self.call_after_refresh(self.vb.home_shown)

    def _counted(self, s: HomeSummary | None, extras: HomeExtras | None) -> None:
        self._loading = False
        self._shown = True
        if self._again:
            self._again = False
            self.refresh_data()
        if s is not None and extras is not None and self.is_mounted:
            self._show(s, extras)
        self._first_shown()

    def _show(self, s: HomeSummary, extras: HomeExtras) -> None:
        self.query_one("#township", Static).update(f"{s.county}{s.township}　{s.year}年度")
        labels = {
            "villages": f"村\n{s.villages}个",
            "households": f"农户\n{s.households}户",
            "applications": f"本年申报{s.applications}笔\n通过{s.approved}笔",
            "paid": f"已发放{s.paid}笔\n{format_fen(s.amount_paid_fen)}元",
            "failed": f"发放失败\n{s.failed}笔",
        }
        for key, text in labels.items():
            self.query_one(f"#count-{key}", Static).update(text)
        self.query_one("#count-failed", Static).set_class(s.failed > 0, "-alert")
        table = self.query_one("#posted", DataTable)
        rows: list[tuple[list[Text], str | None]] = []
        for n in s.posted:
            urgent = n.days_left <= 1
            # objections may come in while the notice hangs (days_left counts today)
            left = Text(
                "今天最后一天" if n.days_left == 1 else f"还有{n.days_left}天", style="bold red" if urgent else ""
            )
            objections = extras.open_objections.get(n.code, 0)
            rows.append(
                (
                    [
                        cell(f"{n.code} 第{n.version}版"),
                        cell(n.village),
                        cell(f"{objections}条" if objections else "", "bold red"),
                        left,
                        cell(n.kind),
                        cell(n.program),
                        cell(f"{n.start:%m-%d}至{n.end:%m-%d}"),
                    ],
                    n.code,
                )
            )
        if not s.posted:
            rows.append(([cell("目前没有正在公示的公示")] + [cell("")] * (len(POSTED_COLUMNS) - 1), None))
        # columns rebuilt with widths from what is shown: after a recount, a cleared
        # table otherwise keeps the header-only widths it had
        widths = [max([cell_len(h)] + [r[0][i].cell_len for r in rows]) for i, h in enumerate(POSTED_COLUMNS)]
        table.clear(columns=True)
        for label, width in zip(POSTED_COLUMNS, widths, strict=True):
            table.add_column(label, width=width)
        for cells, row_key in rows:
            table.add_row(*cells, key=row_key)
        due = self.query_one("#due", OptionList)
        due.clear_options()
        for i, item in enumerate(extras.due):
            due.add_option(
                Option(broken(Text("· " + item.text, style="bold red" if item.urgent else "")), id=f"{i}:{item.target}")
            )
        due.add_option(
            Option(
                broken(Text("· " + backup_line(s), style="" if s.backup or s.last_backup else "bold red")),
                id="b:settings",
            )
        )

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        code = event.row_key.value
        if not code:
            return
        await self.vb.action_go("notices")
        self.vb.screen.select_notice(code)  # type: ignore[attr-defined]

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        target = (event.option.id or "").split(":", 1)[-1]
        if target.startswith("objection:"):  # the notice with open objections, in F7
            await self.vb.action_go("notices")
            self.vb.screen.select_notice(target.split(":", 1)[1])  # type: ignore[attr-defined]
            return
        if target == "archive_due":
            msg = self.vb.attempt(self.svc.notices.archive_due)
            if msg is not None:
                self.vb.say(msg or "没有需要存档的公示。")
                self.refresh_data()
            return
        await self.vb.action_go(target)
