"""The answer script (电话解答): sentences for the clerk to read out to a caller whose
identity is confirmed, about one year's records of the caller's household."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from villageboard.domain.money import format_fen
from villageboard.services.phone_records import LookupHit, Rec

if TYPE_CHECKING:
    from villageboard.services.context import Services


def script_text(
    svc: Services, hit: LookupHit, raw_by_id: dict[str, Rec], year: int | None = None, program: str | None = None
) -> str:
    """The script for ``hit`` (a confirmed view of one household), ``raw_by_id`` its
    stored records by application id; ``year`` defaults to this year."""
    from villageboard.render.templates import render_template

    year = year or svc.today().year
    recs = [r for r in hit.records if r.year == year and (program is None or r.program == program)]
    t = svc.township
    items: list[dict[str, Any]] = []
    for r in recs:
        raw = raw_by_id.get(r.app_id)
        items.append(
            {
                "program": r.program_name,
                "unit": r.unit,
                "quantity": r.quantity,
                "amount": format_fen(r.amount_fen or 0),
                "status": r.status,
                "paid_date": _md(r.paid_date),
                "reason": r.reason,
                "reject_reason": raw.reject_reason if raw else "",
                "case": _case(r.status),
            }
        )
    ctx = {
        "name": hit.name,
        "year": year,
        "items": items,
        "card_tail": hit.card_tail,
        "hotline": t.hotline,
        "township": t.name,
        "village": hit.village,
        "office": _office(svc, year),
    }
    return render_template("answer_script.j2", ctx, svc.root).strip()


def _office(svc: Services, year: int) -> str:
    for p in svc.programs.list(year):
        if p.office:
            return p.office
    return f"{svc.township.name}人民政府"


def _md(iso: str) -> str:
    if not iso:
        return ""
    d = dt.date.fromisoformat(iso[:10])
    return f"{d.month}月{d.day}日"


def _case(status: str) -> str:
    return {"已发放": "paid", "发放失败": "failed", "发放中": "issued", "不通过": "rejected"}.get(status, "pending")
