"""The notice lifecycle: freeze on posting, tags, archive, objections, corrections."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TODAY
from villageboard.domain.errors import ArchivedError, VBError
from villageboard.services import Services
from villageboard.services.paths import notices_file, snapshot_file


def village_with_paid(svc: Services, kind: str = "result", code: str = "ZLYC") -> str:
    """A village with paid rows and no draft or posted notice of this kind yet (the
    demo already has notices in every state)."""
    busy = {
        (n.kind, n.village_id, n.program_code)
        for n in svc.notices.all(TODAY.year)
        if svc.notices.state_of(n) in ("draft", "posted")
    }
    for v in svc.registry.villages():
        if (kind, v.id, code) in busy:
            continue
        if any(a.payout_status == "paid" for a in svc.applications.list(TODAY.year, code or None, v.id)):
            return v.name
    raise AssertionError("demo has no free village with paid rows")


def posted(svc: Services, kind: str = "result", start: dt.date | None = None, days: int = 7):
    code = "ZLYC" if kind != "summary" else ""
    n = svc.notices.create(kind, TODAY.year, village_with_paid(svc, kind, code), code)
    return svc.notices.post(n.code, start=start or TODAY, days=days)


def test_posting_freezes_rows_so_later_edits_do_not_change_the_poster(svc: Services) -> None:
    n = posted(svc)
    before = svc.notices.snapshot(n)
    row = before["rows"][0]
    # the row itself is frozen
    with pytest.raises(VBError, match="公示"):
        svc.applications.edit(row["app"], remark="改")
    # a registry edit after posting does not reach the posted snapshot
    svc.registry.update_household(row["household_id"], {"name": "改名字"})
    after = svc.notices.snapshot(svc.notices.get(n.code))
    assert after == before
    assert after["rows"][0]["name"] == row["name"]
    # and the tag still verifies
    assert svc.notices.verify(n.code, n.tag) is not None


def test_snapshot_is_write_once_in_the_store(svc: Services) -> None:
    n = posted(svc)
    with pytest.raises(ArchivedError):
        with svc.store.begin("tamper") as tx:
            tx.put(snapshot_file(n.year, n.code, n.version), "snapshot", 1, {"data": {}})


def test_tag_verifies_and_forgery_is_rejected(svc: Services) -> None:
    n = posted(svc)
    info = svc.notices.verify(n.code, n.tag)
    assert info is not None and info["households"] > 0 and info["village"]
    assert svc.notices.verify(n.code, n.tag.lower().replace("-", " ")) is not None  # typed by hand
    forged = n.tag[:-1] + ("0" if n.tag[-1] != "0" else "1")
    assert svc.notices.verify(n.code, forged) is None
    assert svc.notices.verify("141025-2026-9999", n.tag) is None
    assert svc.notices.verify("nonsense", n.tag) is None


def test_tag_is_at_least_64_bits_of_crockford_base32(svc: Services) -> None:
    n = posted(svc)
    raw = n.tag.replace("-", "")
    assert len(raw) * 5 >= 64
    assert set(raw) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_objection_refused_outside_posting_period(svc: Services) -> None:
    draft = svc.notices.create("result", TODAY.year, village_with_paid(svc), "ZLYC")
    with pytest.raises(VBError, match="只有公示期内"):
        svc.notices.add_objection(draft.code, "不对")
    future = svc.notices.post(draft.code, start=TODAY + dt.timedelta(days=3))
    with pytest.raises(VBError, match="只有公示期内"):
        svc.notices.add_objection(future.code, "还没开始")


def test_objection_refused_after_period_and_notice_archived_automatically(demo_dir) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        n = posted(svc, start=TODAY - dt.timedelta(days=3), days=7)
        svc.notices.add_objection(n.code, "面积不对")
    later = TODAY + dt.timedelta(days=5)
    with Services.open(demo_dir, today=later) as svc:
        assert any("自动存档" in m for m in svc.open_messages)
        got = svc.notices.get(n.code)
        assert got.state == "archived" and got.archived_at
        with pytest.raises(VBError, match="只有公示期内"):
            svc.notices.add_objection(n.code, "晚了")
        # the archive is read-only in the store itself
        key = next(k for k, d in svc.store.table(notices_file(n.year), "notices").items() if d["code"] == n.code)
        with pytest.raises(ArchivedError):
            with svc.store.begin("tamper") as tx:
                tx.put(notices_file(n.year), "notices", int(key), {**got.to_dict(), "state": "posted"})


def test_ended_but_not_yet_archived_shows_as_ended_read_only(demo_dir) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        n = posted(svc, start=TODAY - dt.timedelta(days=3), days=7)
    with Services.open(demo_dir, today=TODAY + dt.timedelta(days=5), readonly=True) as svc:
        assert svc.notices.state_of(svc.notices.get(n.code)) == "ended"


def test_correction_lists_exactly_its_changes(svc: Services) -> None:
    n = posted(svc)
    rows = svc.notices.snapshot(n)["rows"]
    o = svc.notices.add_objection(n.code, "备注写错了", rows[1]["household_id"])
    _o, c = svc.notices.resolve_objection(
        o.id, "核实后更正", correct=True, edits=[(rows[1]["app"], "remark", "经村委会核实")]
    )
    assert c is not None and c.version == 2 and c.kind == "correction" and c.state == "draft"
    assert c.changes == [
        {"app": rows[1]["app"], "name": rows[1]["name"], "field": "备注", "old": "", "new": "经村委会核实"}
    ]
    old = svc.notices.get(n.code, 1)
    assert old.state == "archived"  # the old version stays archived
    assert svc.notices.verify(n.code, n.tag) is not None  # and still verifies
    c = svc.notices.post(c.code)
    snap = svc.notices.snapshot(c)
    assert snap["changes"] == c.changes
    assert snap["rows"][1]["remark"] == "经村委会核实"
    assert [x.state for x in svc.notices.objections(code=n.code)] == ["resolved"]


def test_correction_of_quantity_recalculates_amount_and_lists_both(demo_dir) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        v = next(v for v in svc.registry.villages() if svc.applications.list(TODAY.year, "ZLYC", v.id))
        n = svc.notices.create("application", TODAY.year, v.name, "ZLYC")
        n = svc.notices.post(n.code)
        row = next(r for r in svc.notices.snapshot(n)["rows"] if svc.applications.get(r["app"]).payout_status == "")
        o = svc.notices.add_objection(n.code, "种粮面积不对")
        _o, c = svc.notices.resolve_objection(o.id, "更正为2亩", correct=True, edits=[(row["app"], "quantity", "2")])
        fields = {ch["field"] for ch in c.changes}
        assert fields == {"数量", "金额"}
        assert svc.applications.get(row["app"]).quantity == 2


def test_correction_without_any_change_is_refused(svc: Services) -> None:
    n = posted(svc)
    o = svc.notices.add_objection(n.code, "没问题吧")
    with pytest.raises(VBError, match="没有任何变化"):
        svc.notices.resolve_objection(o.id, "核实无误", correct=True)
    o2, c = svc.notices.resolve_objection(o.id, "核实无误，不需更正")
    assert c is None and o2.state == "resolved"


def test_summary_has_subtotals_per_program_and_total(svc: Services) -> None:
    n = svc.notices.create("summary", TODAY.year, village_with_paid(svc, "summary", ""))
    snap = svc.notices.snapshot(n)
    assert {s["program"] for s in snap["subtotals"]} == {"GDDL", "ZLYC"}
    assert sum(s["amount_fen"] for s in snap["subtotals"]) == snap["totals"]["amount_fen"]
    assert sum(r["amount_fen"] for r in snap["rows"]) == snap["totals"]["amount_fen"]
    # households are 户, rows (one household in two programs twice) are 户次
    from villageboard.services.notice_document import build_document

    t = snap["totals"]
    assert t["households"] == len({r["household_id"] for r in snap["rows"]}) < t["rows"] == len(snap["rows"])
    text = "".join(build_document(n, snap).paragraphs)
    assert f"合计{t['households']}户、{t['rows']}户次" in text


def test_incomplete_program_guide_blocks_a_notice(svc: Services) -> None:
    svc.programs.update(TODAY.year, "ZLYC", {"materials": ""})
    with pytest.raises(VBError, match="申报材料"):
        svc.notices.create("result", TODAY.year, village_with_paid(svc), "ZLYC")


def test_duplicate_active_notice_is_refused(svc: Services) -> None:
    n = posted(svc)
    with pytest.raises(VBError, match="已有一份"):
        svc.notices.create("result", TODAY.year, n.village_id, "ZLYC")


def test_photo_is_stored_with_its_hash(svc: Services, tmp_path) -> None:
    import hashlib

    n = posted(svc)
    photo = tmp_path / "board.jpg"
    photo.write_bytes(b"\xff\xd8 pretend jpeg \xff\xd9")
    got = svc.notices.attach_photo(n.code, photo)
    assert got.photo["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert svc.store.attachment_path(got.photo["file"]).read_bytes() == photo.read_bytes()
    draft = svc.notices.create("application", TODAY.year, village_with_paid(svc, "application", "ZLYC"), "ZLYC")
    with pytest.raises(VBError, match="正在公示"):
        svc.notices.attach_photo(draft.code, photo)


def test_notice_codes_are_never_reused(svc: Services) -> None:
    a = svc.notices.create("result", TODAY.year, village_with_paid(svc), "ZLYC")
    b = svc.notices.create("application", TODAY.year, village_with_paid(svc, "application", "ZLYC"), "ZLYC")
    assert a.code != b.code
    assert int(b.code.rsplit("-", 1)[1]) == int(a.code.rsplit("-", 1)[1]) + 1
