"""首页: the township, this year's counts, the notices on the board and what is due."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from villageboard.domain.money import format_fen
from villageboard.services.dashboard import HomeSummary, home_summary


class HomeScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Static("", id="township", markup=False)
            with Horizontal(id="counts"):
                for key in ("villages", "households", "applications", "paid", "failed"):
                    yield Static("", id=f"count-{key}", classes="count", markup=False)
            yield Static("正在公示", classes="section")
            yield DataTable(id="posted", zebra_stripes=True, cursor_type="row")
            yield Static("待办", classes="section")
            yield Static("", id="due", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#posted", DataTable)
        table.add_columns("公示编号", "类别", "村", "项目", "公示期", "剩余天数")
        self.refresh_summary()

    def refresh_summary(self) -> None:
        svc = self.app.svc  # type: ignore[attr-defined]
        s: HomeSummary = home_summary(svc)
        self.query_one("#township", Static).update(f"{s.county}{s.township}　{s.year}年度")
        labels = {
            "villages": f"村\n{s.villages}",
            "households": f"农户\n{s.households}",
            "applications": f"本年申报\n{s.applications}",
            "paid": f"已发放\n{s.paid}笔  {format_fen(s.amount_paid_fen)}元",
            "failed": f"发放失败\n{s.failed}笔",
        }
        for key, text in labels.items():
            self.query_one(f"#count-{key}", Static).update(text)
        table = self.query_one("#posted", DataTable)
        table.clear()
        for n in s.posted:
            left = Text(f"{n.days_left}天", style="bold red" if n.days_left <= 1 else "")
            table.add_row(
                n.code, n.kind, Text(n.village), Text(n.program),
                f"{n.start:%m-%d}至{n.end:%m-%d}", left, key=f"{n.code}-v{n.version}",
            )
        if not s.posted:
            table.add_row("（目前没有正在公示的公示）", "", "", "", "", "")
        due = list(s.due)
        due.append(f"最近一次备份：{s.last_backup}" if s.last_backup else "还没有备份，请在“设置”中备份数据")
        self.query_one("#due", Static).update("\n".join(f"· {d}" for d in due))
