"""Turn a notice and its frozen snapshot into the one `NoticeDocument` that every
poster backend renders."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from villageboard.domain.dates import cn_date
from villageboard.domain.models import NOTICE_KINDS, Notice
from villageboard.domain.money import capital_amount, format_fen, format_rate
from villageboard.domain.private_numbers import mask_numbers
from villageboard.render.document import Column, NoticeDocument, Row, Table, totals_line
from villageboard.render.qr import qr_payload, qr_sentence
from villageboard.render.templates import intro_paragraphs

if TYPE_CHECKING:
    from pathlib import Path


#: What a posted notice keeps of its document (services/wording.py): every line of
#: wording outside the tables, as printed at posting, and the layout it was posted in.
WORDING_FIELDS = (
    "title",
    "subtitle",
    "paragraphs",
    "totals_lines",
    "footer_lines",
    "issuers",
    "issued_date",
    "panel",
    "layout",
)

#: The layout new postings get: 2 = key panel on page 1, table text ≥ 12 pt, a 本页小计
#: on every page, the QR as a sentence. A notice posted in layout 1 (kept wording without
#: a layout) reprints in layout 1, as it was posted.
LAYOUT = 2

#: Application statuses as a villager reads them (the notice's own words since layout 2).
VILLAGER_STATUS = {"申报": "审核中", "村审核": "审核中", "乡镇审核": "审核中", "通过": "已审核通过", "不通过": "未通过"}


def _ref(i: int, name: str) -> str:
    """How the privacy gate names a row. A name that itself smuggles a number must not
    repeat it in the error message, so long digit runs are cut to their last four."""
    return f"第{i}行 " + re.sub(r"\d{5,}", lambda m: "…" + m.group()[-4:], name)


def notice_title(n: Notice, snap: dict[str, Any]) -> str:
    t = snap["township"]["name"]
    village = snap["village"]
    base = snap.get("base_kind") or n.kind
    if base == "summary":
        title = f"{t}{village}{n.year}年度涉农补贴资金发放结果汇总公示"
    else:
        prog = (snap.get("program") or {}).get("name", "")
        title = f"{t}{village}{n.year}年度{prog}{NOTICE_KINDS[base]}"
    if n.kind == "correction":
        title += "（更正）"
    return title


def village_committee(village: str) -> str:
    """东沟村 -> 东沟村村民委员会 (a village named without 村 gets it)."""
    return f"{village if village.endswith('村') else village + '村'}村民委员会"


def qr_words(n: Notice, snap: dict[str, Any]) -> tuple[str, str]:
    """The place (county, township, village) and the subject (year, program, kind) as
    the QR sentence writes them; ``verify`` holds a scanned sentence against these."""
    t = snap["township"]
    place = f"{t.get('county', '')}{t['name']}{snap['village']}"
    base = snap.get("base_kind") or n.kind
    if base == "summary":
        subject = f"{n.year}年涉农补贴资金发放结果汇总公示"
    else:
        subject = f"{n.year}年{(snap.get('program') or {}).get('name', '')}{NOTICE_KINDS[base]}"
    if n.kind == "correction":
        subject += "（更正）"
    return re.sub(r"\s+", "", place), re.sub(r"\s+", "", subject)


def _decimals(values: list[str]) -> int:
    return max((len(v.split(".", 1)[1]) if "." in v else 0 for v in values), default=0)


def quantity_text(value: str, places: int) -> str:
    """A quantity with a fixed number of decimals and thousands separators: 1234.5 at 2
    places -> 1,234.50 (so the decimal points of one program's column line up)."""
    from decimal import Decimal

    d = Decimal(value)
    return f"{d:,.{places}f}"


def _day_span(days: list[str]) -> str:
    days = sorted(d for d in days if d)
    if not days:
        return ""
    if days[0] == days[-1]:
        return cn_date(days[0])
    return f"{cn_date(days[0])}至{cn_date(days[-1])}"


#: Words a program name may break after (or before, for the closing word) in a header.
_NAME_WORDS_AFTER = ("地力", "农民", "生产者", "公益林", "购置", "保护", "种植", "耕地")
_NAME_WORDS_BEFORE = ("补贴", "补偿", "资金", "奖补", "奖励")


def header_lines(name: str) -> str:
    """A program name as a column header on two lines split between words
    ("耕地地力" / "保护补贴"), never inside one; whole when it is short or has no break."""
    if len(name) <= 5:
        return name
    cuts = set()
    for word in _NAME_WORDS_AFTER:
        i = name.find(word)
        if i >= 0 and i + len(word) < len(name):
            cuts.add(i + len(word))
    for word in _NAME_WORDS_BEFORE:
        i = name.rfind(word)
        if i > 0:
            cuts.add(i)
    if not cuts:
        return name
    cut = min(cuts, key=lambda c: (max(c, len(name) - c), c))
    return name[:cut] + "\n" + name[cut:]


def _household_summary(snap: dict[str, Any]) -> Table:
    """The year summary as one row per household: a column per program (the amount
    paid) and the household's total; the last row totals every column."""
    subs = snap["subtotals"]
    cols = [
        Column("序号", "no", "C"),
        Column("组", "group", "C"),
        Column("户主姓名", "name"),
        Column("身份证号", "id", "C"),
    ]
    cols += [Column(f"{header_lines(sub['name'])}\n（元）", f"p{j}", numeric=True) for j, sub in enumerate(subs)]
    cols.append(Column("合计（元）", "total", numeric=True))
    index = {sub["program"]: j for j, sub in enumerate(subs)}
    households: dict[int, dict[str, Any]] = {}
    groups: dict[str, int] = {}
    for r in snap["rows"]:
        groups.setdefault(r["group"], len(groups))
        h = households.setdefault(r["household_id"], {"row": r, "fen": [0] * len(subs), "paid": [False] * len(subs)})
        h["fen"][index[r["program"]]] += r["amount_fen"]
        h["paid"][index[r["program"]]] = True
    order = sorted(households.items(), key=lambda kv: (groups[kv[1]["row"]["group"]], kv[0]))
    out: list[Row] = []
    for i, (_hid, h) in enumerate(order, 1):
        r = h["row"]
        name = r.get("head") or r["name"]  # a per-person row first: its household's head
        cells = [str(i), r["group"], name, r.get("head_id_masked") or r["id_masked"]]
        cells += [format_fen(f) if paid else "" for f, paid in zip(h["fen"], h["paid"], strict=True)]
        cells.append(format_fen(sum(h["fen"])))
        out.append(Row(cells, ref=_ref(i, name)))
    total = ["", "", "合计", f"{len(order)}户"] + [format_fen(sub["amount_fen"]) for sub in subs]
    total.append(format_fen(snap["totals"]["amount_fen"]))
    out.append(Row(total, kind="total"))
    sums = list(range(4, 5 + len(subs)))
    return Table("", cols, out, page_sum=sums, page_sum_label=2)


#: What the list of applications not passed says when the clerk wrote no reason.
NO_REASON = "未写明原因，可向村民委员会询问"


def _rejected_table(rejected: list[dict[str, Any]], qty: Any) -> Table:
    """Applications not passed, with the reason in the clerk's words: apart from the
    notice's list and never in its totals (no 本页小计 either)."""
    cols = [
        Column("序号", "no", "C"),
        Column("组", "group", "C"),
        Column("户主姓名", "name"),
        Column("身份证号", "id", "C"),
        Column("申报数量", "quantity", numeric=True),
        Column("未通过原因", "reason"),
    ]
    rows = [
        Row(
            [
                str(i),
                r["group"],
                r["name"],
                r["id_masked"],
                f"{qty(r['quantity'], r['program'])}{r['unit']}",
                r.get("reason") or NO_REASON,
            ],
            ref=_ref(i, r["name"]).replace("第", "未通过的申报第", 1),
        )
        for i, r in enumerate(rejected, 1)
    ]
    return Table("未通过的申报（不计入合计）", cols, rows)


def build_document(
    n: Notice,
    snap: dict[str, Any],
    data_dir: Path | None = None,
    archive_copy: bool = False,
    large: bool = False,
    stamp: str = "",
) -> NoticeDocument:
    """The poster of one notice version. ``stamp`` (when not empty) is printed on every
    page instead of the archive stamp (e.g. a replaced version's "已更正，以第2版为准")."""
    t = snap["township"]
    base = snap.get("base_kind") or n.kind
    prog = snap.get("program") or {}
    totals = snap["totals"]
    rows = snap["rows"]
    kept = snap.get("wording") or {}  # the wording it was posted with, when kept
    # A notice posted with kept wording but no layout was posted before layout 2.
    layout = int(kept.get("layout", 1)) if kept else LAYOUT
    new = layout >= 2
    # The period is printed as its first and last day (counted inclusively since
    # DESIGN.md §9; notices posted before then keep the end date they were posted with).
    days = ""
    context = {
        "township": t["name"],
        "village": snap["village"],
        "kind": n.kind,
        "kind_label": NOTICE_KINDS[n.kind],
        "year": n.year,
        "start": n.start,
        "end": n.end,
        "days": days,
        "hotline": prog.get("hotline") or t["hotline"],
        "supervision_hotline": t["supervision_hotline"],
        "supervision_address": t["supervision_address"],
        "households": totals["households"],
        "rows": totals.get("rows", ""),
        "amount_text": f"{format_fen(totals['amount_fen'])}元",
        "program": None
        if not prog
        else {
            "name": prog["name"],
            "basis": prog["basis"].strip("《》"),
            "basis_no": prog.get("basis_no", ""),
            "unit": prog["unit"],
            "rate_text": f"{format_rate(prog['rate_fen'])}元/{prog['unit']}",
        },
        "programs": [s["name"] for s in snap.get("subtotals", [])],
    }
    if n.kind == "correction":
        base_title = notice_title(Notice(kind=base, year=n.year), snap)
        context.update(original_code=n.code, original_title=base_title, changes_count=len(n.changes))
    paragraphs = list(kept["paragraphs"]) if "paragraphs" in kept else intro_paragraphs(context, data_dir)

    # Quantities: one number of decimals per program, with thousands separators (layout 2).
    places: dict[str, int] = {}
    if new:
        for r in rows:
            land = [r[k] for k in ("certified", "deducted") if r.get(k)]
            places[r["program"]] = max(places.get(r["program"], 0), _decimals([r["quantity"], *land]))

    def qty(value: str, program: str) -> str:
        return quantity_text(value, places[program]) if new and program in places else value

    has_remark = any(r.get("remark") for r in rows)
    tables = []
    if base == "summary" and new:
        tables.append(_household_summary(snap))
    elif base == "summary":
        cols = [
            Column("序号", "no", "C"),
            Column("组", "group", "C"),
            Column("户主姓名", "name"),
            Column("身份证号", "id", "C"),
            Column("补贴项目", "program", whole=new),
            Column("数量", "quantity", numeric=True),
            Column("金额（元）", "amount", numeric=True),
        ]
        out_rows: list[Row] = []
        i = 0
        for sub in snap["subtotals"]:
            for r in (r for r in rows if r["program"] == sub["program"]):
                i += 1
                out_rows.append(
                    Row(
                        [
                            str(i),
                            r["group"],
                            r["name"],
                            r["id_masked"],
                            r["program_name"],
                            f"{qty(r['quantity'], r['program'])}{r['unit']}",
                            format_fen(r["amount_fen"]),
                        ],
                        ref=_ref(i, r["name"]),
                    )
                )
            out_rows.append(
                Row(
                    [
                        "",
                        "",
                        "小计",
                        "",
                        sub["name"],
                        f"{qty(sub['quantity'], sub['program'])}{sub['unit']}",
                        format_fen(sub["amount_fen"]),
                    ],
                    kind="subtotal",
                )
            )
        out_rows.append(
            Row(
                ["", "", "合计", "", f"{len(snap['subtotals'])}个项目", "", format_fen(totals["amount_fen"])],
                kind="total",
            )
        )
        table = Table("", cols, out_rows)
        if new:
            table.page_sum, table.page_sum_label = [6], 2
        tables.append(table)
    else:
        unit = prog.get("unit", "")
        # an application notice of an area program shows the land the amount is paid on
        has_land = base == "application" and any("certified" in r for r in rows)
        qty_label = ("补贴面积" if has_land else "面积" if unit == "亩" else "数量") + f"（{unit}）"
        land_cols = (
            [
                Column(f"确权面积（{unit}）", "certified", numeric=True),
                Column(f"扣除面积（{unit}）", "deducted", numeric=True),
                Column("扣除原因", "deduction_reason"),
            ]
            if has_land
            else []
        )
        status_label = "审核情况" if new and base == "application" else "状态"
        name_label = "享受人姓名" if prog.get("payee") == "person" else "户主姓名"
        # The township may add the card's last 4 digits (frozen with the rows at posting).
        card_tail = bool(t.get("card_tail_column"))
        cols = [
            Column("序号", "no", "C"),
            Column("组", "group", "C"),
            Column(name_label, "name"),
            Column("身份证号", "id", "C"),
            *land_cols,
            Column(qty_label, "quantity", numeric=True),
            Column(f"标准（元/{unit}）", "rate", numeric=True),
            Column("金额（元）", "amount", numeric=True),
            *([Column("一卡通\n尾号", "card", "C")] if card_tail else []),
            Column(status_label, "status", "C"),
        ]
        if has_remark:
            cols.append(Column("备注", "remark"))
        out_rows = []
        for i, r in enumerate(rows, 1):
            land = (
                [
                    qty(r["certified"], r["program"]) if r.get("certified") else "",
                    qty(r["deducted"], r["program"]) if r.get("deducted") else "",
                    r.get("deduction_reason", ""),
                ]
                if has_land
                else []
            )
            status = r["status"]
            if new and base == "application":
                status = VILLAGER_STATUS.get(status, status)
            cells = [
                str(i),
                r["group"],
                r["name"],
                r["id_masked"],
                *land,
                qty(r["quantity"], r["program"]),
                format_rate(r["rate_fen"]),
                format_fen(r["amount_fen"]),
                *([r.get("card_tail", "")] if card_tail else []),
                status,
            ]
            if has_remark:
                cells.append(r.get("remark", ""))
            out_rows.append(Row(cells, ref=_ref(i, r["name"])))
        table = Table("", cols, out_rows)
        if new:
            table.page_sum = [i for i, c in enumerate(cols) if c.key in ("quantity", "amount")]
            table.page_sum_label = 2
        tables.append(table)
    if n.kind == "correction" and n.changes:
        ccols = [
            Column("序号", "no", "C"),
            Column("户主姓名", "name"),
            Column("申报编号", "app", "C"),
            Column("更正项目", "field"),
            Column("原内容", "old"),
            Column("更正为", "new"),
        ]
        # 原内容 is shown masked, also for corrections made before it was masked when stored
        crows = [
            Row(
                [str(i), c["name"], c["app"], c["field"], mask_numbers(c["old"]), c["new"]],
                ref=_ref(i, c["name"]).replace("行", "处更正", 1),
            )
            for i, c in enumerate(n.changes, 1)
        ]
        if new:  # a villager knows the person, not the application number; an empty old value says so
            by_app = {r["app"]: r for r in rows}
            ccols[2] = Column("身份证号", "id", "C")
            for row, c in zip(crows, n.changes, strict=True):
                row.cells[2] = (by_app.get(c["app"]) or {}).get("id_masked", "")
                row.cells[4] = row.cells[4] or "空"
                row.cells[5] = row.cells[5] or "空"
            changed = {c["app"] for c in n.changes}
            marked = zip(rows, tables[0].rows, strict=True) if base != "summary" else ()
            for r, row in marked:
                if r["app"] in changed:  # the corrected rows, marked in the full list
                    row.cells[2] += "※"
        tables.insert(0, Table("更正内容", ccols, crows))
        tables[1].title = "更正后的公示内容"

    if snap.get("rejected") and base == "application":
        tables.append(_rejected_table(snap["rejected"], qty))

    total_qty = totals.get("quantity", "")
    if new and total_qty and prog.get("code") in places:
        total_qty = quantity_text(total_qty, places[prog["code"]])
    failed_rows = [r for r in rows if r["status"] == "发放失败"]
    paid_span = _day_span([r.get("paid_date", "") for r in rows if r["status"] == "已发放"])
    if base == "result":
        lines = [
            totals_line(
                totals["households"], totals["amount_fen"], total_qty, prog.get("unit", ""), label="实际发放合计"
            )
        ]
        if new and paid_span:
            lines.append(f"发放日期：{paid_span}")
        if snap.get("failed"):
            if new:
                lines.append(
                    f"另有{snap['failed']}户（金额{format_fen(sum(r['amount_fen'] for r in failed_rows))}元）"
                    "因账户原因发放未成功，更正账户后补发，补发后另行公示。"
                )
            else:
                lines.append(f"另有{snap['failed']}户因账户原因发放未成功，更正账户后补发，补发后另行公示。")
        for w in snap.get("without_notice", ()):
            lines.append(f"说明：本公示中{w['rows']}笔补贴未待申报公示期满即提交银行发放，原因：{w['reason']}。")
    elif base == "summary":
        lines = [
            f"合计：共 {totals['households']} 户，{totals['rows']} 笔，发放金额 {format_fen(totals['amount_fen'])} 元"
            f"（大写：{capital_amount(totals['amount_fen'])}）"
        ]
    else:
        lines = [
            totals_line(totals["households"], totals["amount_fen"], total_qty, prog.get("unit", ""), label="申报合计")
        ]
    footer = []
    if n.start and n.end:
        footer.append(f"公示期：{cn_date(n.start)}至{cn_date(n.end)}")
    hotline = prog.get("hotline") or t["hotline"]
    phones = [f"咨询电话：{hotline}"]
    if t["supervision_hotline"]:
        phones.append(f"监督举报电话：{t['supervision_hotline']}")
    footer.append("　".join(phones))
    if t["supervision_address"]:
        footer.append(f"来信来访地址：{t['supervision_address']}")
    if new and n.kind == "correction" and n.changes:
        lines.append("注：姓名后标※的为本次更正的农户。")
    if n.kind == "correction" and n.supersedes:
        footer.append(f"本公示更正并取代第{n.supersedes.rsplit('v', 1)[-1]}版公示")
    issued = cn_date(n.start or dt.date.fromisoformat(n.created[:10]))

    # The township may have the village committee sign beside it (frozen at posting),
    # each issuer with a space for its seal.
    issuers = list(t.get("issuing_units") or [])
    cosign = bool(t.get("village_cosign"))
    if cosign:
        issuers.append(village_committee(snap["village"]))

    panel: list[str] = []
    place, subject = qr_words(n, snap)
    if new:
        what = {
            "application": "申报情况（申报了什么、申报多少）",
            "result": "实际发放到户的结果",
            "summary": "全年各项补贴实际发到各户的汇总",
        }[base]
        if base == "summary":
            what_line = f"公示内容：{n.year}年度本村涉农补贴资金{what}"
        else:
            what_line = f"公示内容：{n.year}年度{prog.get('name', '')}{what}"
        if n.kind == "correction":
            what_line += "（更正后）"
        panel.append(what_line)
        money = "申报金额" if base == "application" else "发放金额"
        panel.append(f"户数：{totals['households']}户　{money}合计：{format_fen(totals['amount_fen'])}元")
        panel.append(f"大写：{capital_amount(totals['amount_fen'])}")
        if base == "result" and paid_span:
            panel.append(f"发放日期：{paid_span}")
        panel.append(f"异议截止：{cn_date(n.end)}" if n.end else "异议截止：张贴登记后确定")
        panel.append("　".join(phones))
        panel.append("核验：用手机扫右下角二维码，显示的户数和金额应与本公示一致")
    stamp = stamp or ""
    if archive_copy and not stamp:
        stamp = f"公示期满存档 {cn_date(n.archived_at[:10]) if n.archived_at else ''}".strip()
    if new and not t.get("portal_url"):
        payload = qr_sentence(
            place,
            subject,
            n.version,
            totals["households"],
            totals["amount_fen"],
            n.tag,
            t["supervision_hotline"] or hotline,
        )
    else:
        payload = qr_payload(n.code, n.version, n.tag, t.get("portal_url", ""))
    doc = NoticeDocument(
        title=notice_title(n, snap),
        subtitle=f"编号：{n.code}　第{n.version}版",
        paragraphs=paragraphs,
        tables=tables,
        totals_lines=lines,
        footer_lines=footer,
        code=n.code,
        version=n.version,
        tag=n.tag,
        qr_payload=payload,
        issued_date=issued,
        stamp=stamp,
        large=large,
        issuers=issuers,
        seals=cosign,
        panel=panel,
        layout=layout,
    )
    return doc.replace(**{f: list(v) if isinstance(v, list) else v for f, v in kept.items() if f in WORDING_FIELDS})
