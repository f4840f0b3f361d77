"""The phone desk: public level before the identity check, private after; the answer
script; the call log and its yearly figures; archive read-only."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from tests.conftest import TODAY
from villageboard.domain.errors import ArchivedError, VBError
from villageboard.domain.validate import birth_date_of
from villageboard.services import Services
from villageboard.services.paths import notices_file


def household_with(svc: Services, predicate) -> int:
    for h in svc.registry.households():
        apps = svc.applications.for_household(h.id, TODAY.year)
        if predicate(h, apps):
            return h.id
    raise AssertionError("no such household in the demo")


def birth(svc: Services, hid: int) -> dt.date:
    return birth_date_of(svc.registry.household(hid).id_number)


def confirmed(svc: Services, hid: int):
    """A passed identity check for one household (the right date, first try)."""
    result = svc.phone.check_identity(hid, birth(svc, hid))
    assert result.identity is not None
    return result.identity


def private_bits(svc: Services, hid: int) -> list[str]:
    h = svc.registry.household(hid)
    bits = [h.card_account[-4:]]
    if h.phone:
        bits.append(h.phone[-4:])
    return bits


def test_public_level_hides_private_fields_until_birth_date_confirms(svc: Services) -> None:
    desk = svc.phone
    hid = household_with(svc, lambda h, apps: h.phone and any(a.payout_status == "failed" for a in apps) or False)
    h = svc.registry.household(hid)
    public = desk.household_view(hid)
    blob = json.dumps(public.to_json(), ensure_ascii=False)
    for bit in private_bits(svc, hid):
        assert f'"{bit}"' not in blob
    failed = next(a for a in svc.applications.for_household(hid, TODAY.year) if a.payout_status == "failed")
    reason = svc.payouts.last_failure(failed)
    assert reason and reason not in blob
    # a wrong birth date does not confirm
    wrong = desk.check_identity(hid, birth(svc, hid) + dt.timedelta(days=1))
    assert not wrong.confirmed and wrong.identity is None
    assert json.dumps(desk.household_view(hid, wrong.identity).to_json(), ensure_ascii=False) == blob
    # the right one does
    conf = desk.household_view(hid, confirmed(svc, hid)).to_json()
    assert conf["household"]["card_tail"] == h.card_account[-4:]
    assert conf["household"]["phone_tail"] == h.phone[-4:]
    assert conf["household"]["failure_reason"] == reason


def test_records_not_on_a_posted_notice_show_only_pending(svc: Services) -> None:
    desk = svc.phone
    # STGY this year has never been on a notice in the demo
    hid = household_with(svc, lambda h, apps: any(a.program_code == "STGY" for a in apps))
    rec = next(
        r
        for r in desk.household_view(hid).to_json()["records"]
        if r["year"] == TODAY.year and r["program"] == "生态公益林补偿"
    )
    assert rec == {
        "year": TODAY.year,
        "program": "生态公益林补偿",
        "status": "申报中",
        "quantity": None,
        "amount_fen": None,
        "notice": None,
    }
    conf = desk.household_view(hid, confirmed(svc, hid)).to_json()
    rec = next(r for r in conf["records"] if r["year"] == TODAY.year and r["program"] == "生态公益林补偿")
    assert rec["amount_fen"] is not None and rec["status"] != "申报中"


def test_history_covers_every_year_with_notice_dates(svc: Services) -> None:
    desk = svc.phone
    desk.load_all()
    hid = household_with(
        svc,
        lambda h, apps: (
            any(a.payout_status == "paid" and a.program_code == "GDDL" for a in apps)
            and svc.applications.for_household(h.id, TODAY.year - 1)
        ),
    )
    years = {r.year for r in desk.household_view(hid).records}
    assert years == {TODAY.year, TODAY.year - 1}
    paid = next(r for r in desk.household_view(hid).records if r.program == "GDDL" and r.year == TODAY.year)
    assert paid.status == "已发放" and paid.notice.startswith("141025-") and "至" in paid.notice_dates


def test_older_years_load_in_the_background_and_say_so(svc: Services) -> None:
    desk = svc.phone
    desk.ensure_ready()
    assert desk.loading_years == [TODAY.year - 1]
    assert "还在载入" in desk.lookup("zhang").note
    desk.start_background().join(timeout=30)
    assert desk.loading_years == []
    assert desk.lookup("zhang").note == ""


def test_index_follows_every_save(svc: Services) -> None:
    desk = svc.phone
    desk.ensure_ready()
    hid = svc.registry.households()[5].id
    svc.registry.update_household(hid, {"name": "解放军"})
    assert desk.lookup("解放军").hits[0].household_id == hid
    a = svc.applications.for_household(hid, TODAY.year)
    # a new application appears in the history at once
    prog = next(p.code for p in svc.programs.list(TODAY.year) if p.code not in {x.program_code for x in a})
    new = svc.applications.add(hid, prog, TODAY.year, "1")
    assert any(r.app_id == new.id for r in desk.household_view(hid, confirmed(svc, hid)).records)
    # an edit replaces that record only: the household's history is what a desk reading
    # the files afresh finds, every year of it
    svc.applications.edit(new.id, quantity="2")
    desk.load_all()
    fresh = Services.open(svc.store.root, readonly=True, today=TODAY)
    try:
        fresh.phone.load_all()
        assert desk.records(hid) == fresh.phone.records(hid)
        assert desk.records(hid)[new.id].quantity == "2" and len({r.year for r in desk.records(hid).values()}) > 1
    finally:
        fresh.close()


@pytest.mark.parametrize("case", ["paid", "failed", "pending"])
def test_answer_script(svc: Services, case: str) -> None:
    desk = svc.phone
    want = {"paid": "paid", "failed": "failed", "pending": ""}[case]
    hid = household_with(
        svc,
        lambda h, apps: (
            bool(apps)
            # a failed payment: the household's other rows may be paid or still under way
            and (any(a.payout_status == "failed" for a in apps) if want == "failed" else True)
            and all(a.payout_status == want for a in apps if want != "failed")
            and (want != "" or all(a.status != "rejected" for a in apps))
        ),
    )
    h = svc.registry.household(hid)
    with pytest.raises(VBError, match="身份未核实"):
        desk.answer_script(hid, desk.check_identity(hid, birth(svc, hid) - dt.timedelta(days=3)).identity)
    other = next(h.id for h in svc.registry.households() if h.id != hid)
    with pytest.raises(VBError, match="身份未核实"):  # a check passed for another household
        desk.answer_script(hid, confirmed(svc, other))
    text = desk.answer_script(hid, confirmed(svc, hid))
    assert text.startswith(f"您好，{h.name}户。")
    assert "咨询电话0357-5221234" in text
    if case == "paid":
        assert f"发放到尾号{h.card_account[-4:]}的一卡通" in text and "已于11月3日" in text
    elif case == "failed":
        assert "没有成功" in text and "开户银行" in text
        app = next(a for a in svc.applications.for_household(hid, TODAY.year) if a.payout_status == "failed")
        assert svc.payouts.last_failure(app) in text
    else:
        assert "审核通过后统一发放" in text


def test_call_log_round_trip_and_yearly_figures(svc: Services) -> None:
    hs = svc.registry.households()
    c1 = svc.calls.log("张伟", "补贴金额", "已告知金额", hs[0].id, question="我家补了多少")
    svc.calls.log("李娜", "发放时间", "已告知发放日期", hs[1].id)
    svc.calls.log("不愿透露", "政策咨询", "已解释补贴对象")
    got = svc.calls.list(TODAY.year)
    assert [c.caller_name for c in got] == ["张伟", "李娜", "不愿透露"]
    assert got[0].question == "我家补了多少" and got[0].operator == "测试"
    # one call becomes an objection on a posted notice, in one step
    posted = next(r.notice for r in svc.notices.rows(TODAY.year, "posted"))
    o = svc.calls.to_objection(c1.id, posted.code)
    assert o.call_id == c1.id and o.household_id == hs[0].id
    f = svc.calls.figures(TODAY.year)
    assert f.total == 3 and f.objections == 1
    assert f.by_type["异议"] == 1 and f.by_type["发放时间"] == 1 and f.by_type["政策咨询"] == 1
    v0 = svc.registry.village(hs[0].village_id).name
    assert f.by_village["（未找到农户）"] == 1 and sum(f.by_village.values()) == 3 and f.by_village[v0] >= 1
    with pytest.raises(VBError):
        svc.calls.log("某", "乱填", "x")


def test_call_figures_export(svc: Services, tmp_path) -> None:
    import openpyxl

    svc.calls.log("张伟", "补贴金额", "已告知")
    out = svc.calls.export_figures(TODAY.year, tmp_path / "calls.xlsx")
    wb = openpyxl.load_workbook(out)
    values = [c.value for row in wb["汇总"].iter_rows() for c in row]
    assert "来电总数" in values and 1 in values


def test_archive_refuses_edits_through_service_and_store(svc: Services) -> None:
    archived = next(n for n in svc.notices.all(TODAY.year - 1) if n.state == "archived")
    with pytest.raises(ArchivedError):
        svc.notices.require_not_archived(archived.code, archived.version)
    with pytest.raises(VBError):
        svc.notices.post(archived.code)
    with pytest.raises(VBError):
        svc.notices.add_objection(archived.code, "改一下")
    key = next(
        k
        for k, d in svc.store.table(notices_file(archived.year), "notices").items()
        if d["code"] == archived.code and d["version"] == archived.version
    )
    with pytest.raises(ArchivedError):
        with svc.store.begin("tamper") as tx:
            tx.put(notices_file(archived.year), "notices", int(key), {**archived.to_dict(), "tag": "X"})


def test_lookup_cli_json_shapes(demo_dir) -> None:
    import os

    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    base = [sys.executable, "-m", "villageboard", "--data-dir", str(demo_dir), "lookup"]
    r = subprocess.run(base + ["zhang", "wei", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert hits[0]["household"]["name"] in ("张伟", "章伟", "张维")
    assert set(hits[0]["household"]) == {"id", "name", "village", "group", "id_masked"}
    for rec in hits[0]["records"]:
        assert set(rec) == {"year", "program", "quantity", "amount_fen", "status", "notice"}
    with Services.open(demo_dir, readonly=True) as svc:
        b = birth(svc, hits[0]["household"]["id"])
    # several households found: the date confirms nobody
    r = subprocess.run(
        base + ["zhang", "wei", "--birth", b.isoformat(), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) > 1
    assert all("confirmed" not in h["household"] for h in json.loads(r.stdout)) and "一次只能核实一户" in r.stderr
    # one row picked: confirmed
    picked = ["--household", str(hits[0]["household"]["id"])]
    r = subprocess.run(
        base + ["zhang", "wei", "--birth", b.isoformat(), "--json", *picked],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    [only] = json.loads(r.stdout)
    assert only["household"]["confirmed"] is True and only["household"]["card_tail"]


def test_posting_a_notice_makes_its_records_public_on_the_desk_at_once(svc: Services) -> None:
    """What a lookup shows of a record depends on the notices that froze it; the desk
    keeps that per set of notices, and a posting must reach it."""
    desk = svc.phone
    hid = household_with(svc, lambda h, apps: any(a.program_code == "STGY" and a.status != "rejected" for a in apps))

    def stgy() -> dict:
        return next(
            r
            for r in desk.household_view(hid).to_json()["records"]
            if r["year"] == TODAY.year and r["program"] == "生态公益林补偿"
        )

    assert stgy()["status"] == "申报中"
    h = svc.registry.household(hid)
    n = svc.notices.create("application", TODAY.year, h.village_id, "STGY")
    start = TODAY + dt.timedelta(days=2)
    svc.notices.post(n.code, start=start)  # on the board the day after tomorrow
    assert stgy()["status"] == "申报中"
    svc.set_today(start)
    after = stgy()
    assert after["status"] != "申报中" and after["quantity"] is not None
    assert n.code in after["notice"]


def test_a_paid_record_shows_its_public_state_before_the_caller_is_confirmed(svc: Services) -> None:
    """Before verification a paid record reads 已发放 only once its result notice is on
    the board; until then it is 正在办理, never an earlier stage nor the bank's answer."""
    desk = svc.phone
    seen: set[tuple[str, str]] = set()
    for h in svc.registry.households():
        public = desk.household_view(h.id).to_json()["records"]
        own = desk.household_view(h.id, confirmed(svc, h.id)).to_json()["records"]
        for pub, mine in zip(public, own, strict=True):
            if mine["status"] in ("已发放", "发放失败"):
                assert pub["status"] in (mine["status"], "正在办理"), (h.id, pub, mine)
                seen.add((pub["status"], mine["status"]))
                if pub["status"] == "正在办理":
                    assert "结果公示" not in (pub["notice"] or "")
    assert ("正在办理", "已发放") in seen and ("已发放", "已发放") in seen
