"""The order of work, service level (DESIGN.md §9): 申报 → 申报公示 posted, photo kept,
period run → objections resolved / corrections posted → review → bank sheet → bank
return → 发放结果公示. Each step is refused before its turn and allowed after it.

Time moves by opening the services on the same store with another ``today``."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from stdnum.cn import ric

from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.domain.models import Program
from villageboard.domain.validate import luhn_check_digit
from villageboard.services import Services
from villageboard.services.notice_document import build_document
from villageboard.services.notices import period_end

POSTED = dt.date(2026, 6, 1)  # the 申报公示 goes up; 7 days, last day 06-07
LAST_DAY = dt.date(2026, 6, 7)
CLEAR = dt.date(2026, 6, 8)
REASON = "县里统一发放，申报公示已在县平台公示"
TODAY_DEMO = dt.date(2026, 11, 28)  # tests/conftest.py TODAY


def _id(n: int) -> str:
    body = f"14102519800101{n:03d}"
    return body + ric.calc_check_digit(body + "0")


def _card(n: int) -> str:
    body = f"621779{n:012d}"
    return body + luhn_check_digit(body)


def on(svc: Services, day: dt.date) -> Services:
    """The same township, opened on another day."""
    return Services(svc.store, today=day, operator="测试")


@pytest.fixture
def town(empty_svc: Services) -> Services:
    return build_town(empty_svc)


def build_town(empty: Services) -> Services:
    """Two villages, three households each, one area program, applications entered
    in May 2026 (not yet reviewed)."""
    s = on(empty, dt.date(2026, 5, 20))
    s.programs.add(
        Program(
            code="GDDL",
            year=2026,
            name="耕地地力保护补贴",
            unit="亩",
            rate_fen=10368,
            basis="《耕地地力保护补贴实施方案》",
            department="县农业农村局",
            hotline="0357-5221234",
            eligibility="承包耕地的农户",
            procedure="村申报、公示，镇审核",
            materials="身份证",
            office="镇农业中心",
            posting_days=7,
        )
    )
    n = 0
    for vname in ("东沟村", "西沟村"):
        v = s.registry.add_village(vname)
        s.registry.add_group(v.id, "一组")
        for i in range(3):
            n += 1
            h, _w = s.registry.add_household(
                {
                    "name": f"张{'一二三四五六'[n - 1]}",
                    "id_number": _id(n),
                    "card_account": _card(n),
                    "village": vname,
                    "group": "一组",
                }
            )
            s.applications.add(h.id, "GDDL", 2026, f"{10 + i}.5")
    return s


def approve_all(s: Services) -> None:
    for a in s.applications.list(2026, "GDDL"):
        for step in ("village_ok", "town_ok", "approved"):
            s.applications.set_status(a.id, step, note="经核实属实")


def village(s: Services, name: str) -> int:
    return s.registry.require_village(name).id


def post_notice(s: Services, vname: str, photo_dir: Path, photo: bool = True, start: dt.date | None = None) -> str:
    n = s.notices.create("application", 2026, village(s, vname), "GDDL")
    s.notices.post(n.code, start=start or s.today(), days=7)
    if photo:
        p = photo_dir / f"{n.code}.jpg"
        p.write_bytes(b"\xff\xd8 board photo " + n.code.encode() + b"\xff\xd9")
        s.notices.attach_photo(n.code, p)
    return n.code


def issued_villages(s: Services) -> set[str]:
    return {s.registry.village(a.village_id).name for a in s.applications.list(2026, "GDDL") if a.payout_status}


# --------------------------------------------------------------------------- periods


@settings(max_examples=60, deadline=None)
@given(days=st.integers(1, 90), start=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 1)))
def test_a_period_of_n_days_ends_on_its_nth_day(days: int, start: dt.date) -> None:
    end = period_end(start, days)
    assert (end - start).days + 1 == days


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.integers(1, 30), start=st.dates(dt.date(2026, 1, 1), dt.date(2026, 11, 30)))
def test_a_posted_notice_runs_exactly_its_days(town: Services, tmp_path: Path, days: int, start: dt.date) -> None:
    """Through the service: posted on ``start`` for N days, it is on the board on
    exactly N days (the first and the last counted), then it ends."""
    s = on(town, start)
    n = s.notices.create("application", 2026, village(s, "东沟村"), "GDDL")
    n = s.notices.post(n.code, start=start, days=days)
    assert n.end is not None and (n.end - start).days + 1 == days
    assert s.notices.days_left(n) == days
    assert on(town, n.end).notices.state_of(n) == "posted"
    after = on(town, n.end + dt.timedelta(days=1))
    assert after.notices.state_of(n) == "ended"
    after.notices.archive_due()  # the next example may post again


def test_posting_counts_the_period_inclusively_and_the_countdown_agrees(town: Services, tmp_path: Path) -> None:
    s = on(town, POSTED)
    code = post_notice(s, "东沟村", tmp_path)
    n = s.notices.get(code)
    assert (n.start, n.end) == (POSTED, LAST_DAY)
    assert s.notices.days_left(n) == 7  # 06-01 … 06-07, today counted
    last = on(town, LAST_DAY)
    assert last.notices.days_left(n) == 1 and last.notices.state_of(n) == "posted"
    assert on(town, CLEAR).notices.state_of(n) == "ended"
    doc = build_document(n, s.notices.snapshot(n))
    assert "公示期：2026年6月1日至2026年6月7日" in doc.footer_lines


def test_the_year_summary_countdown_counts_today(town: Services) -> None:
    from villageboard.services.ui_support import home_extras

    def due(day: dt.date) -> str:
        items = home_extras(on(town, day), 2026, failed=0, flags=False).due
        return next(i.text for i in items if "年度汇总公示" in i.text)

    assert due(dt.date(2026, 12, 31)).endswith("（剩1天）")  # the last day is today
    assert due(dt.date(2026, 12, 25)).endswith("（剩7天）")  # 12-25 … 12-31


# --------------------------------------------------------------------------- the bank sheet


def test_no_bank_sheet_before_the_application_notice_is_posted(town: Services, tmp_path: Path) -> None:
    approve_all(town)
    out = tmp_path / "bank.xlsx"
    with pytest.raises(VBError) as exc:
        town.transfer.export_bank("GDDL", 2026, out)
    msg = str(exc.value)
    assert "东沟村（3笔）：还没有张贴申报公示" in msg and "西沟村（3笔）" in msg
    assert "--without-notice" in msg
    assert not out.exists()
    assert all(a.payout_status == "" for a in town.applications.list(2026, "GDDL"))


def test_a_draft_notice_does_not_count(town: Services, tmp_path: Path) -> None:
    approve_all(town)
    n = town.notices.create("application", 2026, village(town, "东沟村"), "GDDL")
    with pytest.raises(VBError, match=f"东沟村（3笔）：申报公示{n.code}还是草稿"):
        on(town, CLEAR).transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx")


def test_the_bank_sheet_waits_for_the_last_day_then_goes(town: Services, tmp_path: Path) -> None:
    code_e = post_notice(on(town, POSTED), "东沟村", tmp_path)
    code_w = post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    last = on(town, LAST_DAY)
    with pytest.raises(VBError) as exc:
        last.transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx")
    msg = str(exc.value)
    assert f"东沟村（3笔）：申报公示{code_e}公示期到2026年6月7日，2026年6月8日起可以发放" in msg
    assert f"西沟村（3笔）：申报公示{code_w}公示期到2026年6月7日" in msg
    assert issued_villages(last) == set()
    rep = on(town, CLEAR).transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx")
    assert rep.rows == 6 and not rep.skipped and not rep.notes


def test_a_notice_without_its_posting_photo_holds_its_village_only(town: Services, tmp_path: Path) -> None:
    post_notice(on(town, POSTED), "东沟村", tmp_path)
    code_w = post_notice(on(town, POSTED), "西沟村", tmp_path, photo=False)
    approve_all(town)
    s = on(town, CLEAR)
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b1.xlsx")
    assert rep.rows == 3 and issued_villages(s) == {"东沟村"}
    assert rep.skipped == [
        f"西沟村（3笔）：申报公示{code_w}没有登记张贴照片，办完上述事项后才能发放（申报公示未走完，暂不发放）"
    ]
    assert any(line.startswith("未列入：西沟村") for line in rep.lines())
    # the photo, brought in after the period, clears it
    photo = tmp_path / "late.jpg"
    photo.write_bytes(b"\xff\xd8 photo taken on 06-01 \xff\xd9")
    s.notices.attach_photo(code_w, photo)
    with pytest.raises(VBError, match="补登一次"):
        s.notices.attach_photo(code_w, photo)  # never replaced once the period is over
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b2.xlsx")
    assert rep.rows == 3 and issued_villages(s) == {"东沟村", "西沟村"}
    assert rep.batch == "2026-GDDL-02"


def test_an_open_objection_holds_its_village_until_resolved(town: Services, tmp_path: Path) -> None:
    code = post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    during = on(town, dt.date(2026, 6, 3))
    o = during.notices.add_objection(code, "我家面积登记少了")
    approve_all(town)
    s = on(town, CLEAR)
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b1.xlsx")
    assert issued_villages(s) == {"西沟村"}
    assert rep.skipped == [
        f"东沟村（3笔）：申报公示{code}有1条异议还没有处理，办完上述事项后才能发放（申报公示未走完，暂不发放）"
    ]
    s.notices.resolve_objection(o.id, "经村委会核实，面积无误，已当面答复")
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b2.xlsx")
    assert rep.rows == 3 and issued_villages(s) == {"东沟村", "西沟村"}


def test_a_correction_must_be_posted_and_run_its_own_period(town: Services, tmp_path: Path) -> None:
    code = post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    during = on(town, dt.date(2026, 6, 3))
    o = during.notices.add_objection(code, "面积应为11亩")
    row = during.notices.snapshot(during.notices.get(code))["rows"][0]
    _o, corr = during.notices.resolve_objection(
        o.id, "核实后更正", correct=True, edits=[(row["app"], "quantity", "11")]
    )
    approve_all(town)
    s = on(town, CLEAR)
    s.transfer.export_bank("GDDL", 2026, tmp_path / "b1.xlsx")
    assert issued_villages(s) == {"西沟村"}
    with pytest.raises(VBError, match=f"申报公示{code}（更正第2版）还没有张贴"):
        s.transfer.export_bank("GDDL", 2026, tmp_path / "b2.xlsx")
    s.notices.post(corr.code, start=CLEAR, days=7)
    photo = tmp_path / "corr.jpg"
    photo.write_bytes(b"\xff\xd8 correction on the board \xff\xd9")
    s.notices.attach_photo(corr.code, photo)
    with pytest.raises(VBError, match=r"（更正第2版）公示期到2026年6月14日，2026年6月15日起可以发放"):
        on(town, dt.date(2026, 6, 14)).transfer.export_bank("GDDL", 2026, tmp_path / "b2.xlsx")
    later = on(town, dt.date(2026, 6, 15))
    rep = later.transfer.export_bank("GDDL", 2026, tmp_path / "b2.xlsx")
    assert rep.rows == 3 and issued_villages(later) == {"东沟村", "西沟村"}
    assert later.applications.get(row["app"]).attempts[-1]["amount_fen"] == 11 * 10368


def test_a_row_entered_after_the_notice_waits_for_the_next_notice(town: Services, tmp_path: Path) -> None:
    post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    s = on(town, CLEAR)
    h, _w = s.registry.add_household(
        {"name": "李后来", "id_number": _id(99), "card_account": _card(99), "village": "东沟村", "group": "一组"}
    )
    late = s.applications.add(h.id, "GDDL", 2026, "4")
    approve_all(s)
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b1.xlsx")
    assert rep.rows == 6 and s.applications.get(late.id).payout_status == ""
    assert "东沟村（1笔）：有申报是在申报公示张贴之后才登记的" in rep.skipped[0]
    post_notice(s, "东沟村", tmp_path)  # a second 申报公示 that lists it
    later = on(town, period_end(CLEAR, 7) + dt.timedelta(days=1))
    rep = later.transfer.export_bank("GDDL", 2026, tmp_path / "b2.xlsx")
    assert rep.rows == 1 and later.applications.get(late.id).payout_status == "issued"


VILLAGE_STATES = st.fixed_dictionaries(
    {
        "notice": st.sampled_from(["none", "draft", "posted"]),
        "photo": st.booleans(),
        "objection": st.sampled_from(["none", "open", "resolved"]),
    }
)


MIXES = dict(east=VILLAGE_STATES, west=VILLAGE_STATES, offset=st.integers(-2, 3))


@settings(max_examples=5, deadline=None)
@given(**MIXES)
def test_the_bank_sheet_sends_exactly_the_villages_whose_notice_ran(east: dict, west: dict, offset: int) -> None:
    """Any mix of notice states per village, and any day around the last day: the
    sheet takes exactly the villages a clerk would count as cleared, names the others,
    and with none cleared writes nothing. (Each example is a new township: few here,
    more under the slow marker.)"""
    _check_mix(east, west, offset)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(**MIXES)
def test_the_bank_sheet_sends_exactly_the_villages_whose_notice_ran_long(east: dict, west: dict, offset: int) -> None:
    _check_mix(east, west, offset)


def _check_mix(east: dict, west: dict, offset: int) -> None:
    from villageboard.domain.models import Township
    from villageboard.services.township import init_township

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        empty = init_township(
            root / "data",
            Township(name="岳阳镇", county="古县", code="141025", hotline="0357-5221234"),
            operator="测试",
        )
        try:
            town = build_town(empty)
            expected = set()
            day = LAST_DAY + dt.timedelta(days=offset)
            for vname, plan in (("东沟村", east), ("西沟村", west)):
                s = on(town, POSTED)
                if plan["notice"] == "draft":
                    s.notices.create("application", 2026, village(s, vname), "GDDL")
                if plan["notice"] != "posted":
                    continue
                code = post_notice(s, vname, root, photo=plan["photo"])
                if plan["objection"] != "none":
                    o = s.notices.add_objection(code, "面积有误")
                    if plan["objection"] == "resolved":
                        on(town, POSTED + dt.timedelta(days=2)).notices.resolve_objection(o.id, "已核实答复")
                if plan["photo"] and plan["objection"] != "open" and day > LAST_DAY:
                    expected.add(vname)
            approve_all(town)
            s = on(town, day)
            out = root / "bank.xlsx"
            if not expected:
                with pytest.raises(VBError, match="不能生成"):
                    s.transfer.export_bank("GDDL", 2026, out)
                assert not out.exists()
            else:
                rep = s.transfer.export_bank("GDDL", 2026, out)
                assert {line.split("（")[0] for line in rep.skipped} == {"东沟村", "西沟村"} - expected
            assert issued_villages(s) == expected
        finally:
            empty.close()


# --------------------------------------------------------------------------- the exception


def test_the_exception_needs_a_written_reason(town: Services, tmp_path: Path) -> None:
    approve_all(town)
    for blank in ("", "   ", "无"):
        with pytest.raises(VBError):
            town.transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx", without_notice=blank)
    assert issued_villages(town) == set()


def test_the_exception_is_journaled_and_printed_on_the_result_notice(town: Services, tmp_path: Path) -> None:
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    s = on(town, dt.date(2026, 6, 3))  # 西沟村 is still on the board, 东沟村 never posted
    seq = s.store.journal.last_seq
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx", without_notice=f"  {REASON} ")
    assert rep.rows == 6
    assert any(REASON in line and "东沟村、西沟村的6笔" in line for line in rep.lines())
    for a in s.applications.list(2026, "GDDL"):
        assert a.attempts[-1]["without_notice"] == REASON
    entry = s.store.journal.last_entry
    assert entry["seq"] == seq + 1 and REASON in entry["action"]
    assert sum(REASON in str(c) for c in entry["changes"]) >= 6  # on every row's attempt
    # the bank pays; each village's 发放结果公示 carries the reason
    paid = on(town, dt.date(2026, 6, 20))
    with paid.store.begin("测试.回盘") as tx:
        for a in paid.applications.list(2026, "GDDL"):
            paid.payouts.record_result(a, True, "", dt.date(2026, 6, 18), tx)
    n = paid.notices.create("result", 2026, village(paid, "东沟村"), "GDDL")
    paid.notices.post(n.code)
    doc = build_document(paid.notices.get(n.code), paid.notices.snapshot(paid.notices.get(n.code)))
    assert f"说明：本公示中3笔补贴未待申报公示期满即提交银行发放，原因：{REASON}。" in doc.totals_lines


def test_the_exception_is_not_recorded_when_nothing_waits(town: Services, tmp_path: Path) -> None:
    post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    s = on(town, CLEAR)
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx", without_notice=REASON)
    assert rep.rows == 6 and any("没有用上" in line for line in rep.lines())
    assert all(not a.attempts[-1]["without_notice"] for a in s.applications.list(2026, "GDDL"))
    n = s.notices.create("application", 2026, village(s, "东沟村"), "GDDL")  # nothing printed either
    assert "without_notice" not in s.notices.snapshot(n)


# --------------------------------------------------------------------------- return and result


@pytest.fixture
def sent(town: Services, tmp_path: Path) -> tuple[Services, Path]:
    post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    s = on(town, dt.date(2026, 6, 10))
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "bank.xlsx")
    return s, rep.path


def _return(src: Path, out: Path, day: str, fail: dict[str, str] | None = None) -> Path:
    wb = load_workbook(src)
    ws = wb.active
    header = [c.value for c in ws[2]]
    col = {name: header.index(name) for name in header if name}
    for row in ws.iter_rows(min_row=3):
        if not isinstance(row[0].value, int):
            continue
        app = row[col["申报编号"]].value
        failed = (fail or {}).get(app)
        row[col["处理结果"]].value = "失败" if failed else "成功"
        row[col["失败原因"]].value = failed
        row[col["发放日期"]].value = day
    wb.save(out)
    return out


def test_no_bank_return_before_the_bank_sheet(town: Services, tmp_path: Path) -> None:
    from openpyxl import Workbook

    post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    s = on(town, CLEAR)
    apps = s.applications.list(2026, "GDDL")
    wb = Workbook()
    wb.active.append(["申报编号", "户主姓名", "一卡通账号", "金额", "处理结果", "发放日期"])
    for a in apps:
        h = s.registry.household(a.household_id)
        wb.active.append([a.id, h.name, h.card_account, f"{a.amount_fen / 100:.2f}", "成功", "2026-06-08"])
    wb.save(tmp_path / "回盘.xlsx")
    with pytest.raises(ValidationFailed, match="不在等待银行回盘"):
        s.transfer.import_payouts(tmp_path / "回盘.xlsx", program="GDDL", year=2026)
    s.transfer.export_bank("GDDL", 2026, tmp_path / "bank.xlsx")
    rep = s.transfer.import_payouts(tmp_path / "回盘.xlsx", program="GDDL", year=2026)
    assert rep.paid == 6


def test_no_result_notice_before_the_bank_return(sent, tmp_path: Path) -> None:
    s, _bank = sent
    with pytest.raises(VBError, match="没有可公示的发放记录"):
        s.notices.create("result", 2026, village(s, "东沟村"), "GDDL")


def test_a_payment_date_before_the_bank_sheet_is_refused(sent, tmp_path: Path) -> None:
    s, bank = sent
    later = on(s, dt.date(2026, 6, 20))
    seq = later.store.journal.last_seq
    with pytest.raises(ValidationFailed) as exc:
        later.transfer.import_payouts(_return(bank, tmp_path / "r.xlsx", "2026-06-09"), program="GDDL", year=2026)
    assert "第3行 “发放日期”：发放日期2026-06-09早于银行发放表的生成日期2026-06-10（批次2026-GDDL-01）" in str(
        exc.value
    )
    assert later.store.journal.last_seq == seq
    a = later.applications.list(2026, "GDDL")[0]
    with pytest.raises(VBError, match="早于银行发放表的生成日期"), later.store.begin("测试") as tx:
        later.payouts.record_result(a, False, "账户冻结", dt.date(2026, 6, 9), tx)
    # the day itself is fine; then the result notice may go up
    later.transfer.import_payouts(_return(bank, tmp_path / "r2.xlsx", "2026-06-10"), program="GDDL", year=2026)
    n = later.notices.create("result", 2026, village(later, "东沟村"), "GDDL")
    assert later.notices.snapshot(n)["totals"]["rows"] == 3


def test_the_return_date_of_a_failed_row_is_kept_through_reissue(sent, tmp_path: Path) -> None:
    s, bank = sent
    first = s.applications.list(2026, "GDDL")[0]
    later = on(s, dt.date(2026, 6, 20))
    later.transfer.import_payouts(
        _return(bank, tmp_path / "r.xlsx", "2026-06-15", {first.id: "户名不符"}), program="GDDL", year=2026
    )
    failed = later.applications.get(first.id)
    assert failed.attempts[-1]["returned"] == "2026-06-15" and failed.attempts[-1]["reason"] == "户名不符"
    later.registry.update_household(failed.household_id, {"card_account": _card(500)})
    rep = later.transfer.reissue("GDDL", 2026, tmp_path / "re.xlsx")
    again = later.applications.get(first.id)
    assert [a["result"] for a in again.attempts] == ["failed", "issued"]
    assert again.attempts[0]["returned"] == "2026-06-15"
    assert rep.batch == "2026-GDDL-02"


# --------------------------------------------------------------------------- the CLI


def test_cli_refuses_the_bank_sheet_names_the_village_and_takes_the_exception(demo_dir: Path, tmp_path: Path) -> None:
    """On the demo: a new 东沟村 row of 2026 STGY, approved, on a 申报公示 posted today."""
    from tests.order_support import post_application_notices, review
    from tests.test_cli_core import vb
    from tests.test_cli_money import ok

    s = Services.open(demo_dir, today=TODAY_DEMO, operator="测试")
    try:
        post_application_notices(s, "STGY")  # the demo's own rows: on the board 11-01 to 11-07
        review(s, "STGY")
        s.transfer.export_bank("STGY", 2026, tmp_path / "bank0.xlsx")
        h, _w = s.registry.add_household(
            {"name": "欧阳春花", "id_number": _id(77), "card_account": _card(77), "village": "东沟村", "group": "一组"}
        )
        late = s.applications.add(h.id, "STGY", 2026, "12.5")
        for step in ("village_ok", "town_ok", "approved"):
            s.applications.set_status(late.id, step, note="经核实属实")
    finally:
        s.close()
    bank = tmp_path / "bank.xlsx"
    r = vb("export", "bank", "--program", "STGY", "--year", "2026", "--out", str(bank), data=demo_dir)
    assert r.returncode == 1 and "Traceback" not in r.stderr and not bank.exists()
    assert "东沟村（1笔）：有申报是在申报公示张贴之后才登记的" in r.stderr and "--without-notice" in r.stderr
    out = ok(
        vb(
            "notice",
            "create",
            "--kind",
            "application",
            "--program",
            "STGY",
            "--village",
            "东沟村",
            "--year",
            "2026",
            data=demo_dir,
        )
    )
    code = out.split("：", 1)[1].split("（", 1)[0]
    ok(vb("notice", "post", code, data=demo_dir))
    notice = ok(vb("notice", "list", "--year", "2026", "--program", "STGY", "--state", "公示中", data=demo_dir))
    assert "2026-11-28至2026-12-04" in notice
    photo = tmp_path / "张贴.jpg"
    photo.write_bytes(b"\xff\xd8 board \xff\xd9")
    ok(vb("notice", "photo", code, str(photo), data=demo_dir))
    r = vb(
        "export",
        "bank",
        "--program",
        "STGY",
        "--year",
        "2026",
        "--out",
        str(bank),
        data=demo_dir,
        today=dt.date(2026, 12, 4),
    )
    assert r.returncode == 1
    assert f"东沟村（1笔）：申报公示{code}公示期到2026年12月4日，2026年12月5日起可以发放" in r.stderr
    r = vb(
        "export",
        "bank",
        "--program",
        "STGY",
        "--year",
        "2026",
        "--out",
        str(bank),
        "--without-notice",
        "无",
        data=demo_dir,
        today=dt.date(2026, 12, 4),
    )
    assert r.returncode == 1 and "必须写明原因" in r.stderr and not bank.exists()
    shown = ok(
        vb(
            "export",
            "bank",
            "--program",
            "STGY",
            "--year",
            "2026",
            "--out",
            str(bank),
            "--without-notice",
            REASON,
            data=demo_dir,
            today=dt.date(2026, 12, 4),
        )
    )
    assert "2026-STGY-02" in shown and f"东沟村的1笔未经申报公示期满即发放，原因：{REASON}" in shown
    shown = ok(vb("application", "show", late.id, data=demo_dir, today=dt.date(2026, 12, 4)))
    assert f"未经申报公示发放，原因：{REASON}" in shown
    # the bank's return: a date before the sheet was made is refused; a failure keeps its date
    r = vb(
        "import",
        "payouts",
        str(_return(bank, tmp_path / "r1.xlsx", "2026-12-03")),
        "--program",
        "STGY",
        "--year",
        "2026",
        data=demo_dir,
        today=dt.date(2026, 12, 9),
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "“发放日期”：发放日期2026-12-03早于银行发放表的生成日期2026-12-04（批次2026-STGY-02）" in r.stderr
    ret = _return(bank, tmp_path / "r2.xlsx", "2026-12-08", {late.id: "户名不符"})
    ok(
        vb(
            "import",
            "payouts",
            str(ret),
            "--program",
            "STGY",
            "--year",
            "2026",
            data=demo_dir,
            today=dt.date(2026, 12, 9),
        )
    )
    ok(vb("household", "edit", str(h.id), "--card", _card(78), data=demo_dir, today=dt.date(2026, 12, 9)))
    ok(
        vb(
            "payouts",
            "reissue",
            "--program",
            "STGY",
            "--year",
            "2026",
            "--out",
            str(tmp_path / "re.xlsx"),
            data=demo_dir,
            today=dt.date(2026, 12, 10),
        )
    )
    shown = ok(vb("application", "show", late.id, data=demo_dir, today=dt.date(2026, 12, 10)))
    assert "发放失败 户名不符 回盘日期2026-12-08" in shown and "2026-STGY-03" in shown
