"""What a notice shows, as plain data: the rows and totals of a notice (its snapshot,
frozen when posted), the content its tag signs, and the row-by-row changes a correction
lists."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import NotFound
from villageboard.domain.masking import mask_id, tail
from villageboard.domain.models import APP_STATUS, Application, Household, Notice, plain_rate
from villageboard.domain.money import format_quantity
from villageboard.domain.private_numbers import mask_numbers

if TYPE_CHECKING:
    from villageboard.services.context import Services

PUBLIC_STATUS = {"paid": "已发放", "failed": "发放失败", "issued": "发放中"}


def notice_year(code: str) -> int:
    """Codes read TOWNSHIPCODE-YEAR-SEQ (e.g. 141025-2026-0012)."""
    try:
        return int(code.strip().split("-")[1])
    except (IndexError, ValueError):
        raise NotFound(f"公示编号“{code}”格式不对，应为 乡镇代码-年度-序号（如 141025-2026-0012）") from None


def card_tail(app: Application, card: str) -> str:
    """The last 4 digits of the card paid (or to be paid: ``card``, the payee's own): the
    one part of the account the masking policy lets a notice print."""
    account = next((att.get("account", "") for att in reversed(app.attempts) if att.get("account")), "")
    return tail(re.sub(r"\D", "", account or card), 4)


def payee_of(app: Application, h: Household) -> tuple[str, str, str]:
    """(name, ID number, card) of whom a row names: the head, or a per-person row's
    entitled person (as entered, when that person has since left the household)."""
    from villageboard.services.payees import person_in

    if not app.person_id_number:
        return h.name, h.id_number, h.card_account
    who = person_in(h, app.person_id_number)
    if who is None:
        return app.person_name, app.person_id_number, ""
    return who.name, who.id_number, who.card_account


def _paid_date(app: Application) -> str:
    """The day the bank paid the row (the last successful attempt), "" when unpaid."""
    for a in reversed(app.attempts):
        if a.get("result") == "paid":
            return str(a.get("paid_date", ""))
    return ""


def _eligible(kind: str, app: Application) -> bool:
    if app.void:
        return False
    if kind == "application":
        return app.status != "rejected"
    return app.payout_status in ("paid", "failed")


def build_snapshot(
    svc: Services,
    kind: str,
    year: int,
    village_id: int,
    program_code: str = "",
    base_kind: str = "",
    overrides: dict[str, Application] | None = None,
) -> dict[str, Any]:
    """Everything the poster shows, as plain data. Only masked identifiers enter.
    ``overrides`` are rows about to be saved (a correction builds from them)."""
    overrides = overrides or {}
    reg = svc.registry
    village = reg.village(village_id)
    t = svc.township
    row_kind = base_kind or kind
    groups = {g.id: g.name for g in reg.groups(village_id)}
    programs = {p.code: p for p in svc.programs.list(year)}
    codes = [program_code] if program_code else sorted(programs)
    rows: list[dict[str, Any]] = []
    exceptions: dict[str, int] = defaultdict(int)  # reason → rows sent before their 申报公示 cleared
    for code in codes:
        listed = [overrides.get(a.id, a) for a in svc.applications.list(year, code, village_id)]
        apps = [a for a in listed if _eligible(row_kind, a)]
        if row_kind == "summary":
            apps = [a for a in apps if a.payout_status == "paid"]
        p = programs.get(code)
        for a in sorted(apps, key=lambda a: (a.group_id, a.id)):
            h = reg.household(a.household_id)
            name, idn, card = payee_of(a, h)
            if row_kind == "application":
                status = APP_STATUS[a.status]
            else:
                status = PUBLIC_STATUS.get(a.payout_status, "")
            rows.append(
                {
                    "app": a.id,
                    "household_id": h.id,
                    "name": name,
                    "id_masked": mask_id(idn),
                    "group": groups.get(a.group_id, ""),
                    "program": code,
                    "program_name": p.name if p else code,
                    "unit": p.unit if p else "",
                    "quantity": format_quantity(a.quantity),
                    "rate_fen": plain_rate(a.rate_fen),
                    "amount_fen": a.amount_fen,
                    "status": status,
                    "remark": a.remark,
                    **({"card_tail": card_tail(a, card)} if t.card_tail_column and row_kind != "summary" else {}),
                    **({"paid_date": _paid_date(a)} if row_kind != "application" else {}),
                }
            )
            if a.person_id_number:  # a per-person row: the household it belongs to, for the summary
                rows[-1].update(head=h.name, head_id_masked=mask_id(h.id_number))
            if a.certified_area is not None:  # the land of an area program, when kept
                rows[-1].update(
                    certified=format_quantity(a.certified_area),
                    deducted=format_quantity(a.deducted_area or 0),
                    deduction_reason=a.deduction_reason,
                )
            if row_kind == "result":
                for why in {w for att in a.attempts if (w := att.get("without_notice"))}:
                    exceptions[why] += 1
    # Applications not passed are shown to villagers apart from the list, with the
    # reason, and never counted into the notice's totals.
    rejected: list[dict[str, Any]] = []
    if row_kind == "application":
        for code in codes:
            p = programs.get(code)
            for a in svc.applications.list(year, code, village_id):
                a = overrides.get(a.id, a)
                if a.void or a.status != "rejected":
                    continue
                h = reg.household(a.household_id)
                name, idn, _card = payee_of(a, h)
                rejected.append(
                    {
                        "app": a.id,
                        "household_id": h.id,
                        "name": name,
                        "id_masked": mask_id(idn),
                        "group": groups.get(a.group_id, ""),
                        "program": code,
                        "unit": p.unit if p else "",
                        "quantity": format_quantity(a.quantity),
                        "reason": a.reject_reason,
                        "_order": (a.group_id, a.id),
                    }
                )
        rejected.sort(key=lambda r: r.pop("_order"))
    counted = [r for r in rows if row_kind != "result" or r["status"] == "已发放"]
    totals: dict[str, Any] = {
        "households": len({r["household_id"] for r in counted}),
        "rows": len(counted),
        "amount_fen": sum(r["amount_fen"] for r in counted),
    }
    if program_code:
        totals["quantity"] = format_quantity(sum((Decimal(r["quantity"]) for r in counted), Decimal(0)))
    subtotals = []
    if row_kind == "summary":
        by: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by[r["program"]].append(r)
        for code, rs in by.items():
            subtotals.append(
                {
                    "program": code,
                    "name": programs[code].name,
                    "unit": programs[code].unit,
                    "households": len({r["household_id"] for r in rs}),
                    "quantity": format_quantity(sum((Decimal(r["quantity"]) for r in rs), Decimal(0))),
                    "amount_fen": sum(r["amount_fen"] for r in rs),
                }
            )
    prog = programs.get(program_code) if program_code else None
    return {
        "kind": kind,
        "base_kind": base_kind,
        "year": year,
        "village": village.name,
        "village_id": village_id,
        "program": None
        if prog is None
        else {
            "code": prog.code,
            "name": prog.name,
            "unit": prog.unit,
            "rate_fen": plain_rate(prog.rate_fen),
            "basis": prog.basis,
            **({"basis_no": prog.basis_no} if prog.basis_no else {}),
            "department": prog.department,
            "hotline": prog.hotline,
            "eligibility": prog.eligibility,
            **({"payee": "person"} if prog.per_person else {}),  # rows name each entitled person
        },
        "township": {
            "name": t.name,
            "county": t.county,
            "hotline": t.hotline,
            "supervision_hotline": t.supervision_hotline,
            "supervision_address": t.supervision_address,
            "issuing_units": list(t.issuing_units),
            "portal_url": t.portal_url,
            # what the township set notices to print (absent when off, as before they existed)
            **({"village_cosign": True} if t.village_cosign else {}),
            **({"card_tail_column": True} if t.card_tail_column and row_kind != "summary" else {}),
        },
        "rows": rows,
        "totals": totals,
        "subtotals": subtotals,
        "failed": sum(1 for r in rows if r["status"] == "发放失败"),
        **({"without_notice": [{"reason": k, "rows": v} for k, v in sorted(exceptions.items())]} if exceptions else {}),
        **({"rejected": rejected} if rejected else {}),
    }


def tag_content(n: Notice, snap: dict[str, Any]) -> dict[str, Any]:
    """What a notice's tag signs: its identity, posting period and frozen rows."""
    return {
        "code": n.code,
        "version": n.version,
        "kind": n.kind,
        "year": n.year,
        "village_id": n.village_id,
        "program_code": n.program_code,
        "start": n.start.isoformat() if n.start else "",
        "end": n.end.isoformat() if n.end else "",
        "snapshot": snap,
    }


ROW_FIELDS = {
    "name": "户主姓名",
    "group": "组",
    "id_masked": "身份证号",
    "certified": "确权面积",
    "deducted": "扣除面积",
    "deduction_reason": "扣除原因",
    "quantity": "数量",
    "amount_fen": "金额（分）",
    "status": "状态",
    "remark": "备注",
}


def diff_rows(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every change between two row lists: row (name and application), field, old, new.
    The old value is masked: a correction of a remark that held a number must print."""
    from villageboard.domain.money import format_fen

    def show(field: str, value: Any) -> str:
        return format_fen(value) + "元" if field == "amount_fen" else str(value)

    old_by = {(r["app"], r["program"]): r for r in old}
    new_by = {(r["app"], r["program"]): r for r in new}
    out = []
    for k, r in old_by.items():
        if k not in new_by:
            out.append(
                {
                    "app": r["app"],
                    "name": mask_numbers(r["name"]),
                    "field": "整行",
                    "old": "列入公示",
                    "new": "移出公示",
                }
            )
            continue
        for field, label in ROW_FIELDS.items():
            if r.get(field) != new_by[k].get(field):
                out.append(
                    {
                        "app": r["app"],
                        "name": new_by[k]["name"],
                        "field": label.removesuffix("（分）"),
                        "old": mask_numbers(show(field, r.get(field))),
                        "new": show(field, new_by[k].get(field)),
                    }
                )
    for k, r in new_by.items():
        if k not in old_by:
            out.append({"app": r["app"], "name": r["name"], "field": "整行", "old": "未列入", "new": "列入公示"})
    return out
