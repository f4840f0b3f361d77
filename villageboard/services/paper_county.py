"""The county sheet (报县汇总表): the figures by village and program, shared by the xlsx
working sheet (services/exports.py) and the signed PDF the township sends with it.

Money totals count approved (通过) rows only. 户数 counts households (a household in
two programs is one 户), 户次 counts rows. The PDF carries no personal data at all: it
is the summary, with the approved total in figures and in Chinese capitals (大写) and
the township's signature blanks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from villageboard.domain.dates import cn_date
from villageboard.domain.errors import VBError
from villageboard.domain.money import capital_amount, format_fen, format_quantity
from villageboard.render.document import Column, NoticeDocument, Row, Table

if TYPE_CHECKING:
    from villageboard.services.context import Services

__all__ = ["COUNTY_SIGNATURES", "CountySummary", "county_paper", "county_summary"]

COUNTY_SIGNATURES = ["制表人", "审核人", "负责人", "乡镇人民政府（盖章）", "日期"]
INTERNAL = "内部资料 注意保密"


@dataclass
class CountySummary:
    """One row per village × program (keys as the xlsx columns) and the totals row."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def approved_fen(self) -> int:
        return int(self.totals.get("amount", 0))


def county_summary(svc: Services, year: int) -> CountySummary:
    from villageboard.services.reconcile import reconcile

    rec = reconcile(svc, year)
    applied: dict[tuple[str, int], int] = {}
    approved_hh: dict[tuple[str, int], set[int]] = {}
    for a in svc.applications.list(year):
        key = (a.program_code, a.village_id)
        applied[key] = applied.get(key, 0) + 1
        if a.status == "approved":
            approved_hh.setdefault(key, set()).add(a.household_id)
    out = CountySummary()
    for line in rec.lines:
        key = (line.program_code, line.village_id or 0)
        out.rows.append(
            {
                "village": line.village,
                "program": line.program,
                "code": line.program_code,
                "unit": line.unit,
                "applied": applied.get(key, 0),
                "households": len(approved_hh.get(key, ())),
                "approved_n": line.approved.n,
                "quantity": line.quantity,
                "amount": line.approved.fen,
                "paid_n": line.paid.n,
                "paid": line.paid.fen,
                "failed_n": line.failed.n,
                "failed": line.failed.fen,
                "pending": line.pending.fen + line.not_issued.fen,
            }
        )
    t = rec.township
    out.totals = {
        "applied": sum(applied.values()),
        "households": len(set().union(*approved_hh.values())),
        "approved_n": t.approved.n,
        "amount": t.approved.fen,
        "paid_n": t.paid.n,
        "paid": t.paid.fen,
        "failed_n": t.failed.n,
        "failed": t.failed.fen,
        "pending": t.pending.fen + t.not_issued.fen,
    }
    return out


def county_paper(svc: Services, year: int) -> NoticeDocument:
    """The county sheet to sign and send: the summary by village and program."""
    summary = county_summary(svc, year)
    if not summary.rows:
        raise VBError(f"{year}年还没有任何申报，没有报县汇总表可打印")
    t = svc.township
    cols = [
        Column("村", "village"),
        Column("补贴项目", "program", whole=True),
        Column("单位", "unit", "C"),
        Column("审核通过户数", "households", numeric=True),
        Column("审核通过户次", "approved_n", numeric=True),
        Column("数量", "quantity", numeric=True),
        Column("应发金额（元）", "amount", numeric=True),
        Column("已发放户次", "paid_n", numeric=True),
        Column("已发放金额（元）", "paid", numeric=True),
        Column("发放失败户次", "failed_n", numeric=True),
        Column("未发放金额（元）", "pending", numeric=True),
    ]
    money = {"amount", "paid", "pending"}

    def cells(r: dict[str, Any], total: bool = False) -> list[str]:
        out = []
        for c in cols:
            v = r.get(c.key, "")
            if c.key in money:
                out.append(format_fen(int(v or 0)))
            elif c.key == "quantity":
                out.append("" if total else format_quantity(v))
            else:
                out.append(str(v))
        return out

    rows = [Row(cells(r), ref=f"{r['village']} {r['program']}") for r in summary.rows]
    tot = dict(summary.totals, village="合计", program="", unit="")
    rows.append(Row(cells(tot, total=True), kind="total", ref="合计行"))
    fen = summary.approved_fen
    s = summary.totals
    from villageboard.services.papers import signed_paper

    return signed_paper(
        svc,
        "报县汇总表",
        COUNTY_SIGNATURES,
        title=f"{t.county}{t.name}{year}年涉农补贴申报发放汇总表",
        subtitle=f"{INTERNAL}　报县汇总用　制表日期：{cn_date(svc.today())}",
        paragraphs=[],
        tables=[Table("", cols, rows)],
        totals_lines=[
            f"合计（审核通过）：共 {s['households']} 户、{s['approved_n']} 户次，"
            f"应发金额 {format_fen(fen)} 元（大写：{capital_amount(fen)}）",
            f"其中已发放 {s['paid_n']} 户次，{format_fen(s['paid'])} 元（大写：{capital_amount(s['paid'])}）",
        ],
        footer_lines=[
            "金额只合计审核通过的申报；不通过和尚未审核完的不计入。户数按户计（一户申报几个项目算一户），"
            "户次按申报笔数计。",
            "各项目单位不同，数量不作合计。明细见同名 Excel 表（报县汇总表）。",
        ],
        code=f"{t.code}-{year} 报县汇总表",
    )
