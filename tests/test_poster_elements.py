"""Elements a notice carries beyond its table: the policy basis with its 文号 (a program
field), the village committee as co-issuer with seal spaces, the optional 一卡通尾号
column, and application statuses in villagers' words with the rejected ones listed
apart from the totals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TODAY
from villageboard.domain.models import Notice, Program
from villageboard.services import Services
from villageboard.services.notice_document import build_document
from villageboard.services.posters import document_for

DOC_NO = "晋财农〔2026〕12号"


def vb(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    return subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def posted(svc: Services, kind: str) -> Notice:
    ns = svc.notices
    cands = [n for n in ns.all() if n.kind == kind and ns.state_of(n) in ("posted", "ended", "archived")]
    return max(cands, key=lambda n: (n.year, n.code, n.version))


def fresh(svc: Services, n: Notice) -> tuple[Notice, dict]:
    """What a new notice like ``n`` would print today (a draft is built from live data)."""
    snap = svc.notices.build_snapshot(n.kind, n.year, n.village_id, n.program_code)
    return Notice(
        code=n.code,
        version=n.version,
        kind=n.kind,
        year=n.year,
        village_id=n.village_id,
        program_code=n.program_code,
        state="draft",
        created=n.created,
    ), snap


# --- the policy basis and its 文号 ------------------------------------------------------


def test_a_program_record_without_a_document_number_still_reads() -> None:
    old = {"code": "GDDL", "year": 2026, "name": "耕地地力保护补贴", "basis": "《通知》", "rate_fen": 100}
    assert Program.from_dict(old).basis_no == ""


def test_the_document_number_prints_with_the_basis_and_posted_notices_keep_their_words(svc: Services) -> None:
    n = posted(svc, "application")
    before, _stem = document_for(svc, n)
    svc.programs.update(n.year, n.program_code, {"basis_no": DOC_NO})
    assert svc.programs.get(n.year, n.program_code).basis_no == DOC_NO
    after, _stem = document_for(svc, n)
    assert after.paragraphs == before.paragraphs  # a posted notice reprints word for word
    draft, snap = fresh(svc, n)
    intro = "".join(build_document(draft, snap).paragraphs)
    assert f"》（{DOC_NO}）文件精神" in intro
    svc.programs.update(n.year, n.program_code, {"basis_no": ""})
    draft, snap = fresh(svc, n)
    assert "program" in snap and "basis_no" not in snap["program"]  # as before the field existed
    assert "〔" not in "".join(build_document(draft, snap).paragraphs)


def test_cli_sets_the_document_number(demo_dir: Path) -> None:
    listed = json.loads(vb(demo_dir, "program", "list", "--year", str(TODAY.year), "--json").stdout)
    code = listed[0]["code"]
    assert listed[0]["basis_no"] == ""
    r = vb(demo_dir, "program", "edit", code, "--year", str(TODAY.year), "--basis-no", DOC_NO)
    assert r.returncode == 0, r.stderr
    listed = json.loads(vb(demo_dir, "program", "list", "--year", str(TODAY.year), "--json").stdout)
    assert next(p for p in listed if p["code"] == code)["basis_no"] == DOC_NO
    r = vb(
        demo_dir,
        "program",
        "add",
        "--code",
        "XTBZ",
        "--year",
        str(TODAY.year),
        "--name",
        "新增补贴",
        "--rate",
        "10",
        "--basis",
        "关于新增补贴的通知",
        "--basis-no",
        "古财农〔2026〕3号",
    )
    assert r.returncode == 0, r.stderr
    listed = json.loads(vb(demo_dir, "program", "list", "--year", str(TODAY.year), "--json").stdout)
    assert next(p for p in listed if p["code"] == "XTBZ")["basis_no"] == "古财农〔2026〕3号"


# --- the 一卡通尾号 column ----------------------------------------------------------------


def test_card_tail_column_is_off_by_default_and_prints_only_four_digits(svc: Services) -> None:
    from villageboard.render.pdf.paint import render_pdf
    from villageboard.services.publish_check import check_printable
    from villageboard.services.township import update_settings

    n = posted(svc, "result")
    assert not svc.township.card_tail_column
    draft, snap = fresh(svc, n)
    assert all("一卡通" not in c.label for c in build_document(draft, snap).tables[0].columns)
    before, _stem = document_for(svc, n)

    update_settings(svc, card_tail_column=True)
    after, _stem = document_for(svc, n)
    assert after.tables == before.tables  # a posted notice keeps the columns it was posted with
    draft, snap = fresh(svc, n)
    doc = build_document(draft, snap)
    table = doc.tables[0]
    at = next(i for i, c in enumerate(table.columns) if c.key == "card")
    cards = {h.id: h.card_account for h in svc.registry.households(include_void=True)}
    data = [(r, row) for r, row in zip(snap["rows"], table.rows, strict=False) if row.kind == "data"]
    assert data
    for r, row in data:
        assert len(row.cells[at]) == 4 and row.cells[at].isdigit()
        assert cards[r["household_id"]].endswith(row.cells[at]) or r["status"] != "已发放"
    check_printable(svc, draft, snap)  # the privacy gate lets the last 4 through
    pdf_text = "".join(d for d in _pdf_text(render_pdf(doc)) if d.isdigit() or d == "\n")
    for card in cards.values():
        if card:
            assert card[-8:] not in pdf_text  # never more than the last 4 of a card
    assert "一卡通" in "".join(_pdf_text(render_pdf(doc)))


def _pdf_text(pdf: bytes) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def test_cli_settings_switches(demo_dir: Path) -> None:
    shown = json.loads(vb(demo_dir, "settings", "--json").stdout)
    assert shown["card_tail_column"] is False and shown["village_cosign"] is False
    r = vb(demo_dir, "settings", "--card-tail", "on", "--village-cosign", "on")
    assert r.returncode == 0, r.stderr
    assert "一卡通尾号列：公示上印" in r.stdout and "村民委员会共同落款" in r.stdout
    shown = json.loads(vb(demo_dir, "settings", "--json").stdout)
    assert shown["card_tail_column"] is True and shown["village_cosign"] is True


async def test_f9_sets_what_notices_print(demo_dir: Path) -> None:
    from tests.test_tui_workflows import SIZE, settle
    from villageboard.tui.app import make_app
    from villageboard.tui.widgets import TickBox

    app = make_app(demo_dir, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f9")
        await settle(pilot, app)
        card = app.screen.query_one("#tick-card_tail_column", TickBox)
        cosign = app.screen.query_one("#tick-village_cosign", TickBox)
        assert card.value is False and cosign.value is False
        card.value = True
        cosign.value = True
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert app.svc.township.card_tail_column and app.svc.township.village_cosign
        card.value = False
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert not app.svc.township.card_tail_column and app.svc.township.village_cosign


# --- the village committee as co-issuer, with seal spaces ---------------------------------


def test_village_committee_signs_beside_the_township_with_a_seal_space_each(svc: Services) -> None:
    from villageboard.render.html import render_html
    from villageboard.render.pdf.paint import render_pdf
    from villageboard.services.township import update_settings

    old = posted(svc, "result")
    old_doc, _stem = document_for(svc, old)
    old_pdf = render_pdf(old_doc)
    draft = next(n for n in svc.notices.all(TODAY.year) if n.state == "draft")
    update_settings(svc, village_cosign=True)
    # a notice already posted reprints as posted: no new signer, no seal spaces
    again, _stem = document_for(svc, old)
    assert not again.seals and again.issuers == old_doc.issuers and render_pdf(again) == old_pdf

    n = svc.notices.post(draft.code)
    doc, _stem = document_for(svc, n)
    village = svc.notices.snapshot(n)["village"]
    committee = f"{village}村民委员会" if village.endswith("村") else f"{village}村村民委员会"
    assert doc.seals and doc.issuers == [*svc.township.issuing_units, committee]
    for large in (False, True):
        last = _pdf_text(render_pdf(doc.replace(large=large)))[-1]
        assert last.count("（盖章）") == len(doc.issuers)
        assert committee in last.replace("\r", "").replace("\n", "")
    page = render_html(doc)
    assert page.count("（盖章）") == len(doc.issuers) and committee in page

    # frozen at posting: switching the setting off does not change the posted notice
    update_settings(svc, village_cosign=False)
    after, _stem = document_for(svc, n)
    assert render_pdf(after) == render_pdf(doc)


# --- application statuses in villagers' words; the ones not passed apart -----------------


def test_applications_not_passed_are_listed_apart_with_the_reason_and_never_counted(svc: Services) -> None:
    from villageboard.render.pdf.paint import render_pdf
    from villageboard.services.notice_document import NO_REASON, VILLAGER_STATUS

    n = posted(svc, "application")
    old_doc, _stem = document_for(svc, n)
    old_pdf = render_pdf(old_doc)
    pending = [
        a
        for a in svc.applications.list(n.year, n.program_code, n.village_id)
        if not a.void and a.status in ("applied", "village_ok", "town_ok")
    ]
    assert pending
    target = pending[0]
    svc.applications.set_status(target.id, "rejected", "经村组核实，申报面积与承包合同不符")

    draft, snap = fresh(svc, n)
    assert target.id in {r["app"] for r in snap["rejected"]}
    assert target.id not in {r["app"] for r in snap["rows"]}
    assert snap["totals"]["amount_fen"] == sum(r["amount_fen"] for r in snap["rows"])
    assert snap["totals"]["households"] == len({r["household_id"] for r in snap["rows"]})
    doc = build_document(draft, snap)
    main, apart = doc.tables[0], doc.tables[-1]
    assert apart.title.startswith("未通过的申报") and not apart.page_sum
    assert any(r.cells[-1] == "经村组核实，申报面积与承包合同不符" for r in apart.rows)
    statuses = {r.cells[[c.key for c in main.columns].index("status")] for r in main.rows if r.kind == "data"}
    assert statuses <= set(VILLAGER_STATUS.values()) - {"未通过"}
    text = "".join(_pdf_text(render_pdf(doc)))
    assert "未通过的申报" in text and "经村组核实" in text
    for word in ("村审核", "乡镇审核"):
        assert word not in text
    # a reason left blank says where to ask
    blank = {**snap, "rejected": [{**snap["rejected"][0], "reason": ""}]}
    assert build_document(draft, blank).tables[-1].rows[0].cells[-1] == NO_REASON

    # the posted notice reprints as posted
    again, _stem = document_for(svc, n)
    assert render_pdf(again) == old_pdf
