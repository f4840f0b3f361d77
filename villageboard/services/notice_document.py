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
from villageboard.render.qr import qr_payload
from villageboard.render.templates import intro_paragraphs

if TYPE_CHECKING:
    from pathlib import Path


#: What a posted notice keeps of its document (services/wording.py): every line of
#: wording outside the tables, as printed at posting.
WORDING_FIELDS = ("title", "subtitle", "paragraphs", "totals_lines", "footer_lines", "issuers", "issued_date")


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


def build_document(
    n: Notice, snap: dict[str, Any], data_dir: Path | None = None, archive_copy: bool = False, large: bool = False,
) -> NoticeDocument:
    t = snap["township"]
    base = snap.get("base_kind") or n.kind
    prog = snap.get("program") or {}
    totals = snap["totals"]
    rows = snap["rows"]
    # The period is printed as its first and last day (counted inclusively since
    # DESIGN.md §9; notices posted before then keep the end date they were posted with).
    days = ""
    context = {
        "township": t["name"], "village": snap["village"], "kind": n.kind, "kind_label": NOTICE_KINDS[n.kind],
        "year": n.year, "start": n.start, "end": n.end, "days": days,
        "hotline": prog.get("hotline") or t["hotline"], "supervision_hotline": t["supervision_hotline"],
        "supervision_address": t["supervision_address"], "households": totals["households"],
        "rows": totals.get("rows", ""),
        "amount_text": f"{format_fen(totals['amount_fen'])}元",
        "program": None if not prog else {
            "name": prog["name"], "basis": prog["basis"].strip("《》"), "unit": prog["unit"],
            "rate_text": f"{format_rate(prog['rate_fen'])}元/{prog['unit']}",
        },
        "programs": [s["name"] for s in snap.get("subtotals", [])],
    }
    if n.kind == "correction":
        base_title = notice_title(Notice(kind=base, year=n.year), snap)
        context.update(original_code=n.code, original_title=base_title, changes_count=len(n.changes))
    kept = snap.get("wording") or {}  # the wording it was posted with, when kept
    paragraphs = list(kept["paragraphs"]) if "paragraphs" in kept else intro_paragraphs(context, data_dir)

    has_remark = any(r.get("remark") for r in rows)
    tables = []
    if base == "summary":
        cols = [Column("序号", "no", "C"), Column("组", "group", "C"), Column("户主姓名", "name"),
                Column("身份证号", "id", "C"), Column("补贴项目", "program"), Column("数量", "quantity", numeric=True),
                Column("金额（元）", "amount", numeric=True)]
        out_rows: list[Row] = []
        i = 0
        for sub in snap["subtotals"]:
            for r in (r for r in rows if r["program"] == sub["program"]):
                i += 1
                out_rows.append(Row([str(i), r["group"], r["name"], r["id_masked"], r["program_name"],
                                     f"{r['quantity']}{r['unit']}", format_fen(r["amount_fen"])], ref=_ref(i, r["name"])))
            out_rows.append(Row(["", "", "小计", "", sub["name"], f"{sub['quantity']}{sub['unit']}",
                                 format_fen(sub["amount_fen"])], kind="subtotal"))
        out_rows.append(Row(["", "", "合计", "", f"{len(snap['subtotals'])}个项目", "", format_fen(totals["amount_fen"])], kind="total"))
        tables.append(Table("", cols, out_rows))
    else:
        unit = prog.get("unit", "")
        # an application notice of an area program shows the land the amount is paid on
        has_land = base == "application" and any("certified" in r for r in rows)
        qty_label = ("补贴面积" if has_land else "面积" if unit == "亩" else "数量") + f"（{unit}）"
        land_cols = [Column(f"确权面积（{unit}）", "certified", numeric=True),
                     Column(f"扣除面积（{unit}）", "deducted", numeric=True),
                     Column("扣除原因", "deduction_reason")] if has_land else []
        cols = [Column("序号", "no", "C"), Column("组", "group", "C"), Column("户主姓名", "name"),
                Column("身份证号", "id", "C"), *land_cols, Column(qty_label, "quantity", numeric=True),
                Column(f"标准（元/{unit}）", "rate", numeric=True), Column("金额（元）", "amount", numeric=True),
                Column("状态", "status", "C")]
        if has_remark:
            cols.append(Column("备注", "remark"))
        out_rows = []
        for i, r in enumerate(rows, 1):
            land = [r.get("certified", ""), r.get("deducted", ""), r.get("deduction_reason", "")] if has_land else []
            cells = [str(i), r["group"], r["name"], r["id_masked"], *land, r["quantity"], format_rate(r["rate_fen"]),
                     format_fen(r["amount_fen"]), r["status"]]
            if has_remark:
                cells.append(r.get("remark", ""))
            out_rows.append(Row(cells, ref=_ref(i, r["name"])))
        tables.append(Table("", cols, out_rows))
    if n.kind == "correction" and n.changes:
        ccols = [Column("序号", "no", "C"), Column("户主姓名", "name"), Column("申报编号", "app", "C"),
                 Column("更正项目", "field"), Column("原内容", "old"), Column("更正为", "new")]
        # 原内容 is shown masked, also for corrections made before it was masked when stored
        crows = [Row([str(i), c["name"], c["app"], c["field"], mask_numbers(c["old"]), c["new"]],
                     ref=_ref(i, c["name"]).replace("行", "处更正", 1))
                 for i, c in enumerate(n.changes, 1)]
        tables.insert(0, Table("更正内容", ccols, crows))
        tables[1].title = "更正后的公示内容"

    if base == "result":
        lines = [totals_line(totals["households"], totals["amount_fen"], totals.get("quantity", ""), prog.get("unit", ""),
                             label="实际发放合计")]
        if snap.get("failed"):
            lines.append(f"另有{snap['failed']}户因账户原因发放未成功，更正账户后补发，补发后另行公示。")
        for w in snap.get("without_notice", ()):
            lines.append(f"说明：本公示中{w['rows']}笔补贴未待申报公示期满即提交银行发放，原因：{w['reason']}。")
    elif base == "summary":
        lines = [f"合计：共 {totals['households']} 户，{totals['rows']} 笔，发放金额 {format_fen(totals['amount_fen'])} 元"
                 f"（大写：{capital_amount(totals['amount_fen'])}）"]
    else:
        lines = [totals_line(totals["households"], totals["amount_fen"], totals.get("quantity", ""), prog.get("unit", ""),
                             label="申报合计")]
    footer = []
    if n.start and n.end:
        footer.append(f"公示期：{cn_date(n.start)}至{cn_date(n.end)}")
    phones = [f"咨询电话：{prog.get('hotline') or t['hotline']}"]
    if t["supervision_hotline"]:
        phones.append(f"监督举报电话：{t['supervision_hotline']}")
    footer.append("　".join(phones))
    if t["supervision_address"]:
        footer.append(f"来信来访地址：{t['supervision_address']}")
    if n.kind == "correction" and n.supersedes:
        footer.append(f"本公示更正并取代第{n.supersedes.rsplit('v', 1)[-1]}版公示")
    issued = cn_date(n.start or dt.date.fromisoformat(n.created[:10]))
    stamp = ""
    if archive_copy:
        stamp = f"公示期满存档 {cn_date(n.archived_at[:10]) if n.archived_at else ''}".strip()
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
        qr_payload=qr_payload(n.code, n.version, n.tag, t.get("portal_url", "")),
        issued_date=issued,
        stamp=stamp,
        large=large,
        issuers=list(t.get("issuing_units") or []),
    )
    return doc.replace(**{f: list(v) if isinstance(v, list) else v for f, v in kept.items() if f in WORDING_FIELDS})
