"""Writing the signed papers: PDF through the poster renderer, or xlsx.

* ``forms`` — each household's 申报确认表 (PDF: a page per household, a village's forms
  in one file; xlsx: a sheet per household);
* ``roll`` — the village 发放清册 (xlsx: a sheet per village);
* ``county`` — the county sheet (PDF here; the xlsx working sheet is
  ``Exports.export_county``).

The file's suffix picks the form. Every paper passes the privacy gate, the xlsx forms
too (each cell is scanned as a poster's text is): no full ID, card or phone number is
written. Files are written all-or-nothing and readable by this user only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.domain.errors import VBError
from villageboard.domain.money import capital_amount, format_fen, format_rate
from villageboard.services.exports import sign_lines
from villageboard.services.papers import (
    FORM_SIGNATURES,
    ROLL_SIGNATURES,
    PaperRow,
    count_line,
    left_line,
    paper_rows,
    payee_label,
    show_land,
    villages_of,
)

if TYPE_CHECKING:
    from villageboard.io.xlsx_out import ColumnOut, SheetOut
    from villageboard.render.document import NoticeDocument
    from villageboard.services.context import Services

__all__ = ["PAPERS", "PaperReport", "write_paper"]

#: kind -> what a clerk calls it
PAPERS = {"forms": "申报确认表", "roll": "发放清册", "county": "报县汇总表"}


@dataclass
class PaperReport:
    path: Path
    kind: str
    pages: int = 0  # households (forms) or villages (roll) in the file
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        what = PAPERS[self.kind]
        count = {"forms": f"{self.pages}户", "roll": f"{self.pages}个村"}.get(self.kind, "")
        return [f"已写出{what} {self.path}" + (f"（{count}）" if count else ""), *self.notes]


def write_paper(
    svc: Services,
    kind: str,
    year: int,
    out: str | Path,
    program: str = "",
    village: str | None = None,
    paper: str = "a4",
) -> PaperReport:
    """Make one of :data:`PAPERS` as ``out`` (.pdf or .xlsx)."""
    path = Path(out).expanduser()
    suffix = path.suffix.lower()
    if kind not in PAPERS:
        raise VBError(f"没有“{kind}”这种表；可选：{'、'.join(PAPERS.values())}")
    if suffix not in (".pdf", ".xlsx"):
        raise VBError(f"{PAPERS[kind]}只能保存为 .pdf 或 .xlsx，不能是“{path.name}”")
    if kind != "county" and not program.strip():
        raise VBError(f"{PAPERS[kind]}要写明补贴项目")
    if kind == "county" and suffix == ".xlsx":
        return PaperReport(svc.transfer.export_county(year, path), kind)
    if suffix == ".pdf":
        docs = _documents(svc, kind, year, program, village)
        from villageboard.render.output import write_private
        from villageboard.render.pdf.paint import render_pdf_many

        font = svc.township.font_path or None
        written = write_private(path, render_pdf_many(docs, paper=paper, font=font))
        return PaperReport(written, kind, len(docs))
    sheets = _sheets(svc, kind, year, program, village)
    from villageboard.io.xlsx_out import write_sheet_book

    gate_sheets(sheets, PAPERS[kind])
    return PaperReport(write_sheet_book(path, sheets), kind, len(sheets))


def _documents(svc: Services, kind: str, year: int, program: str, village: str | None) -> list[NoticeDocument]:
    from villageboard.services.paper_county import county_paper
    from villageboard.services.papers import confirmation_forms, village_rolls

    if kind == "forms":
        return confirmation_forms(svc, year, program, village)
    if kind == "roll":
        return village_rolls(svc, year, program, village)
    return [county_paper(svc, year)]


def gate_sheets(sheets: list[SheetOut], label: str) -> None:
    """The privacy gate over every cell, banner and note of the sheets."""
    from villageboard.render.privacy import gate

    def texts() -> Iterator[tuple[str, str]]:
        for sh in sheets:
            yield f"“{sh.title}”表头", sh.banner
            for i, row in enumerate(sh.rows, 1):
                for col in sh.columns:
                    yield f"“{sh.title}”第{i}行“{col.label}”", str(row.get(col.key, "") or "")
            for i, note in enumerate(sh.notes, 1):
                yield f"“{sh.title}”表尾第{i}行", note

    gate(texts(), label)


# ================================================================ xlsx
def _money_columns(unit: str, land: bool) -> list[ColumnOut]:
    from villageboard.io.xlsx_out import ColumnOut

    cols = []
    if land:
        cols += [
            ColumnOut(f"确权面积（{unit}）", "certified", "quantity"),
            ColumnOut(f"扣除面积（{unit}）", "deducted", "quantity"),
            ColumnOut("扣除原因", "reason", width=14),
            ColumnOut(f"补贴面积（{unit}）", "quantity", "quantity"),
        ]
    else:
        cols.append(ColumnOut(f"数量（{unit}）", "quantity", "quantity"))
    return [*cols, ColumnOut(f"补贴标准（元/{unit}）", "rate"), ColumnOut("补贴金额（元）", "amount", "money_fen")]


def _money_row(r: PaperRow) -> dict[str, object]:
    a = r.app
    land = a.certified_area is not None
    return {
        "app": a.id,
        "certified": a.certified_area if land else None,
        "deducted": (a.deducted_area or 0) if land else None,
        "reason": a.deduction_reason,
        "quantity": a.quantity,
        "rate": format_rate(a.rate_fen),
        "amount": a.amount_fen,
    }


def _sheets(svc: Services, kind: str, year: int, program: str, village: str | None) -> list[SheetOut]:
    from villageboard.io.xlsx_out import ColumnOut, SheetOut

    p = svc.programs.get(year, program.strip().upper())
    t = svc.township
    sheets: list[SheetOut] = []
    for vid, vname in villages_of(svc, village):
        rows, left = paper_rows(svc, year, p, vid, approved_only=kind == "roll")
        land = show_land(rows)
        if kind == "forms":
            by: dict[tuple[int, str, str], list[PaperRow]] = {}
            for r in rows:
                by.setdefault(r.signer, []).append(r)
            for hrows in by.values():
                first = hrows[0]
                fen = sum(r.app.amount_fen for r in hrows)
                sheets.append(
                    SheetOut(
                        title=f"{len(sheets) + 1} {first.name}",
                        banner=f"{p.year}年{p.name}申报确认表｜{t.name}{vname}{first.group}",
                        columns=[ColumnOut("申报编号", "app"), *_money_columns(p.unit, land)],
                        rows=[_money_row(r) for r in hrows],
                        totals={"amount": fen},
                        autofilter=False,
                        notes=[
                            f"{payee_label(p)}：{first.name}　身份证号：{first.id_masked}　一卡通尾号：{first.card_tail}",
                            f"补贴金额：{format_fen(fen)}元（大写：{capital_amount(fen)}）",
                            f"以上{'面积' if land else '数量'}、补贴标准和金额经本人核对无误。"
                            "如有虚报、冒领，愿退回补贴并承担相应责任。",
                            *sign_lines(FORM_SIGNATURES, per_line=2),
                        ],
                    )
                )
            continue
        if not rows and not village:
            continue
        data = []
        for i, r in enumerate(rows, 1):
            data.append(
                {
                    "no": i,
                    "group": r.group,
                    "name": r.name,
                    "id": r.id_masked,
                    "card": r.card_tail,
                    **_money_row(r),
                }
            )
        fen = sum(r.app.amount_fen for r in rows)
        totals: dict[str, object] = {"amount": fen, "quantity": sum(r.app.quantity for r in rows)}
        if land:
            totals["certified"] = sum(r.app.certified_area or 0 for r in rows)
            totals["deducted"] = sum(r.app.deducted_area or 0 for r in rows)
        totals["name"] = f"{len({r.household.id for r in rows})}户"
        totals["id"] = f"{len(rows)}户次"
        sheets.append(
            SheetOut(
                title=vname,
                banner=f"{vname}{p.year}年{p.name}发放清册｜{t.county}{t.name}",
                columns=[
                    ColumnOut("序号", "no", "int"),
                    ColumnOut("组", "group"),
                    ColumnOut(payee_label(p), "name"),
                    ColumnOut("身份证号", "id"),
                    ColumnOut("一卡通尾号", "card"),
                    *_money_columns(p.unit, land),
                ],
                rows=data,
                totals=totals,
                notes=[
                    x
                    for x in (
                        count_line(rows, p),
                        left_line(left, "本清册"),
                        "本清册只列审核通过的申报。户数按户计，户次按申报笔数计。",
                        *sign_lines(ROLL_SIGNATURES),
                    )
                    if x
                ],
            )
        )
    if not sheets:
        raise VBError(f"{year}年{p.name}没有可列入{PAPERS[kind]}的申报")
    return sheets
