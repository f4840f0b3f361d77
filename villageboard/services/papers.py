"""The papers a township signs: each household's 申报确认表 and the village 发放清册.

They are built as :class:`~villageboard.render.document.NoticeDocument` s, like the
posters, and printed by the same renderer (no QR code: they are signed, not posted;
each ends with its signature blanks). The xlsx forms are in
:mod:`villageboard.services.paper_sheets`, the county sheet in
:mod:`villageboard.services.paper_county`.

**What they show of a person.** They are internal papers, yet the strictest reading of
the privacy contract is kept: a name in full, the ID as the notices mask it (first 6 and
last 4 digits), the card's last 4 digits only. That is enough for a farmer to know their
own record, and the privacy gate checks every paper as it checks a poster, so no full
ID, card or phone number is ever printed.

**Which rows.** A 申报确认表 is signed when the application is made: every live row not
refused (不通过) is on one. A 发放清册 lists what is to be paid: approved rows only; the
rows not (yet) approved are counted in a line under it, never added in. 户 counts
households, 户次 rows: a household with two rows is one 户 and two 户次.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from villageboard.domain.dates import cn_date
from villageboard.domain.errors import VBError
from villageboard.domain.masking import mask_id
from villageboard.domain.models import APP_STATUS, Application, Household, Program
from villageboard.domain.money import capital_amount, format_fen, format_quantity, format_rate
from villageboard.render.document import Column, NoticeDocument, Row, Table
from villageboard.services.notice_rows import card_tail, payee_of

if TYPE_CHECKING:
    from villageboard.services.context import Services

__all__ = [
    "FORM_SIGNATURES",
    "ROLL_SIGNATURES",
    "PaperRow",
    "confirmation_forms",
    "count_line",
    "left_line",
    "paper_rows",
    "show_land",
    "village_rolls",
    "villages_of",
]

FORM_SIGNATURES = ["申报人签字（按手印）", "日期", "经办人", "村委会（盖章）"]
ROLL_SIGNATURES = ["村委会（盖章）", "村务监督委员会", "经办人", "审核人", "负责人", "日期"]
AREA_UNITS = ("亩", "公顷", "平方米")


@dataclass(frozen=True)
class PaperRow:
    """One application as the papers print it: already masked and formatted."""

    app: Application
    household: Household
    group: str
    id_masked: str
    card_tail: str
    name: str  # who is paid: the head, or a per-person row's entitled person

    @property
    def signer(self) -> tuple[int, str, str]:
        """Who signs a 申报确认表 for this row: the household, or on a per-person row the
        entitled person (each person signs for their own money)."""
        return (self.household.id, self.name, self.id_masked)

    @property
    def land(self) -> bool:
        return self.app.certified_area is not None

    def land_cells(self) -> list[str]:
        """确权面积, 扣除面积, 扣除原因 ("" on a row kept as a bare 数量)."""
        a = self.app
        if a.certified_area is None:
            return ["", "", ""]
        return [format_quantity(a.certified_area), format_quantity(a.deducted_area or 0), a.deduction_reason]


def paper_rows(
    svc: Services, year: int, program: Program, village_id: int, approved_only: bool
) -> tuple[list[PaperRow], list[Application]]:
    """The rows a paper lists, by group and number, and the live rows it leaves out
    (refused, or for a 清册 not yet approved)."""
    reg = svc.registry
    groups = {g.id: g.name for g in reg.groups(village_id)}
    listed: list[PaperRow] = []
    left: list[Application] = []
    for a in sorted(svc.applications.list(year, program.code, village_id), key=lambda a: (a.group_id, a.id)):
        if a.void:
            continue
        if a.status == "rejected" or (approved_only and a.status != "approved"):
            left.append(a)
            continue
        h = reg.household(a.household_id)
        name, idn, card = payee_of(a, h)
        listed.append(PaperRow(a, h, groups.get(a.group_id, ""), mask_id(idn), card_tail(a, card), name))
    return listed, left


def signed_paper(svc: Services, kind_label: str, signatures: Sequence[str], **fields: Any) -> NoticeDocument:
    """A paper to sign rather than a notice to post: no QR code and no verification tag,
    dated today, ending in signature blanks."""
    return NoticeDocument(
        **fields,
        version=1,
        tag="",
        qr_payload="",
        issued_date=svc.today().isoformat(),
        qr=False,
        signatures=list(signatures),
        kind_label=kind_label,
    )


def payee_label(p: Program) -> str:
    """The name column's heading: a per-person program names each entitled person."""
    return "享受人姓名" if p.per_person else "户主姓名"


def show_land(rows: list[PaperRow]) -> bool:
    """Whether a paper prints the land columns: when any of its rows keeps its land
    (a village's papers all look alike; a program paid on bare 数量 prints 数量)."""
    return any(r.land for r in rows)


def count_line(rows: list[PaperRow], program: Program, label: str = "合计") -> str:
    """``合计：共 2 户、3 户次，补贴面积 12.5 亩，补贴金额 1,250.00 元（大写：…）``."""
    fen = sum(r.app.amount_fen for r in rows)
    qty = format_quantity(sum((r.app.quantity for r in rows), Decimal(0)))
    what = "补贴面积" if program.unit in AREA_UNITS else "数量"
    households = len({r.household.id for r in rows})
    return (
        f"{label}：共 {households} 户、{len(rows)} 户次，{what} {qty} {program.unit}，"
        f"补贴金额 {format_fen(fen)} 元（大写：{capital_amount(fen)}）"
    )


def money_columns(program: Program, land: bool) -> list[Column]:
    """The land (or quantity), rate and amount columns every paper prints."""
    u = program.unit
    cols = []
    if land:
        cols += [
            Column(f"确权面积（{u}）", "certified", numeric=True),
            Column(f"扣除面积（{u}）", "deducted", numeric=True),
            Column("扣除原因", "reason"),
            Column(f"补贴面积（{u}）", "quantity", numeric=True),
        ]
    else:
        cols.append(Column(f"数量（{u}）", "quantity", numeric=True))
    return [
        *cols,
        Column(f"补贴标准（元/{u}）", "rate", numeric=True),
        Column("补贴金额（元）", "amount", numeric=True),
    ]


def money_cells(r: PaperRow, land: bool) -> list[str]:
    a = r.app
    cells = r.land_cells() if land else []
    return [*cells, format_quantity(a.quantity), format_rate(a.rate_fen), format_fen(a.amount_fen)]


def villages_of(svc: Services, village: str | None) -> list[tuple[int, str]]:
    reg = svc.registry
    if village:
        v = reg.require_village(village.strip())
        return [(v.id, v.name)]
    return [(v.id, v.name) for v in reg.villages()]


def _program(svc: Services, year: int, code: str) -> Program:
    return svc.programs.get(year, code.strip().upper())


def left_line(left: list[Application], what: str) -> str:
    if not left:
        return ""
    by: dict[str, int] = defaultdict(int)
    for a in left:
        by[APP_STATUS.get(a.status, a.status) if a.status == "rejected" else "尚未审核通过"] += 1
    parts = "、".join(f"{k} {n} 笔" for k, n in sorted(by.items()))
    return f"另有申报 {len(left)} 笔（{parts}）未列入{what}，不计入合计。"


# ================================================================ 申报确认表
def confirmation_forms(svc: Services, year: int, program_code: str, village: str | None = None) -> list[NoticeDocument]:
    """One 申报确认表 per household (its rows of the program), village by village."""
    p = _program(svc, year, program_code)
    docs: list[NoticeDocument] = []
    for vid, vname in villages_of(svc, village):
        rows, _left = paper_rows(svc, year, p, vid, approved_only=False)
        by_household: dict[tuple[int, str, str], list[PaperRow]] = {}
        for r in rows:
            by_household.setdefault(r.signer, []).append(r)
        land = show_land(rows)
        for hrows in by_household.values():
            docs.append(_form(svc, p, vname, hrows, land))
    if not docs:
        where = f"{village}" if village else "各村"
        raise VBError(f"{where}{year}年{p.name}没有申报（不通过的不出确认表），没有确认表可打印")
    return docs


def _form(svc: Services, p: Program, village: str, rows: list[PaperRow], land: bool) -> NoticeDocument:
    t = svc.township
    first = rows[0]
    numbers = "、".join(r.app.id for r in rows)
    place = f"{village}{first.group}"
    who = Table(
        "",
        [
            Column(payee_label(p), "name"),
            Column("身份证号", "id", "C"),
            Column("村组", "place"),
            Column("一卡通尾号", "card", "C"),
        ],
        [Row([first.name, first.id_masked, place, first.card_tail], ref=f"{numbers} {first.name}")],
    )
    # the application number is in the subtitle and at the foot of the page: beside the
    # areas in one row it would read as one long number
    money = Table(
        "",
        money_columns(p, land),
        [Row(money_cells(r, land), ref=f"{r.app.id} {r.name}") for r in rows],
    )
    fen = sum(r.app.amount_fen for r in rows)
    basis = f"（{p.basis}{'，' + p.basis_no if p.basis_no else ''}）" if p.basis else ""
    paragraphs = [
        f"本户申报{p.year}年{p.name}{basis}，以下{'面积' if land else '数量'}、补贴标准和金额经本人核对无误。"
        "如有虚报、冒领，愿退回补贴并承担相应责任。",
    ]
    return signed_paper(
        svc,
        "申报确认表",
        FORM_SIGNATURES,
        title=f"{p.year}年{p.name}申报确认表",
        subtitle=f"{t.county}{t.name}{village}　申报编号：{numbers}",
        paragraphs=paragraphs,
        tables=[who, money],
        totals_lines=[f"补贴金额：{format_fen(fen)} 元（大写：{capital_amount(fen)}）"],
        footer_lines=[
            "本表一式两份，申报人签字（按手印）后村委会、乡镇各存一份。",
            f"咨询电话：{p.hotline or t.hotline}",
        ],
        code=f"申报编号 {numbers}",
    )


# ================================================================ 发放清册
def village_rolls(svc: Services, year: int, program_code: str, village: str | None = None) -> list[NoticeDocument]:
    """The 发放清册 of each village (one named village, or every village with rows)."""
    p = _program(svc, year, program_code)
    docs = []
    for vid, vname in villages_of(svc, village):
        rows, left = paper_rows(svc, year, p, vid, approved_only=True)
        if rows or village:
            docs.append(_roll(svc, p, vname, rows, left))
    if not docs:
        raise VBError(f"{year}年{p.name}没有审核通过的申报，没有发放清册可打印")
    return docs


def _roll(svc: Services, p: Program, village: str, rows: list[PaperRow], left: list[Application]) -> NoticeDocument:
    t = svc.township
    land = show_land(rows)
    cols = [
        Column("序号", "no", "C"),
        Column("组", "group", "C"),
        Column(payee_label(p), "name"),
        Column("身份证号", "id", "C"),
        Column("一卡通尾号", "card", "C"),
        *money_columns(p, land),
    ]
    body = [
        Row(
            [str(i), r.group, r.name, r.id_masked, r.card_tail, *money_cells(r, land)],
            ref=f"{r.app.id} {r.name}",
        )
        for i, r in enumerate(rows, 1)
    ]
    keys = [c.key for c in cols]
    sums = [keys.index(k) for k in ("certified", "deducted", "quantity", "amount") if k in keys]
    if rows:
        total = [""] * len(cols)
        total[0] = "合计"
        total[2] = f"{len({r.household.id for r in rows})}户"
        total[3] = f"{len(rows)}户次"
        sums_of = {
            "quantity": format_quantity(sum((r.app.quantity for r in rows), Decimal(0))),
            "amount": format_fen(sum(r.app.amount_fen for r in rows)),
            "certified": format_quantity(sum((r.app.certified_area or Decimal(0) for r in rows), Decimal(0))),
            "deducted": format_quantity(sum((r.app.deducted_area or Decimal(0) for r in rows), Decimal(0))),
        }
        for key, cell in sums_of.items():
            if key in keys:
                total[keys.index(key)] = cell
        body.append(Row(total, kind="total", ref="合计行"))
    table = Table("", cols, body, page_sum=sorted(sums), page_sum_label=0)
    totals = [count_line(rows, p)]
    extra = left_line(left, "本清册")
    return signed_paper(
        svc,
        "发放清册",
        ROLL_SIGNATURES,
        title=f"{village}{p.year}年{p.name}发放清册",
        subtitle=f"{t.county}{t.name}　补贴标准：{format_rate(p.rate_fen)} 元/{p.unit}　制表日期：{cn_date(svc.today())}",
        paragraphs=[],
        tables=[table],
        totals_lines=totals,
        footer_lines=[x for x in (extra, "本清册只列审核通过的申报。户数按户计，户次按申报笔数计。") if x],
        code=f"{p.code}-{p.year}-{village}",
    )
