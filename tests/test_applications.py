"""The program catalogue and applications: every status transition (firing and
refusing), entitlement by the program's rounding rule, edits, voids and frozen rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.domain.models import Program
from villageboard.domain.money import entitlement_fen

NOTE = "经村组核实属实"  # what a clerk writes when approving a row with a risk flag


def _fresh_app(svc, code: str = "GDDL", quantity: str = "10"):
    """A new application for an active household without one for ``code`` this year."""
    for h in svc.registry.households():
        if h.status == "active" and svc.applications.existing(2026, h.id, code) is None:
            return svc.applications.add(h.id, code, 2026, quantity)
    raise AssertionError("no free household")


def _program(**kw) -> Program:
    base = dict(
        code="YMBZ",
        year=2026,
        name="玉米生产者补贴",
        unit="亩",
        rate_fen=12345,
        hotline="0357-5221234",
        eligibility="实际种植玉米的农户",
        procedure="村委会受理，镇审核，县审定",
        materials="身份证、一卡通",
        office="镇农业综合服务中心",
        basis="《玉米生产者补贴实施方案》",
        department="县农业农村局",
    )
    base.update(kw)
    return Program(**base)


# --- program catalogue ----------------------------------------------------------------


def test_program_add_list_and_every_field_kept(svc) -> None:
    p = svc.programs.add(
        _program(max_quantity=Decimal("50"), posting_days=10, rounding="down", scope="全镇", time_limit="3月至4月")
    )
    got = svc.programs.get(2026, "YMBZ")
    assert got.to_dict() == p.to_dict()
    assert got.max_quantity == Decimal("50") and got.rounding == "down" and got.posting_days == 10
    assert "YMBZ" in [x.code for x in svc.programs.list(2026)]


def test_program_add_refuses_bad_fields_all_at_once(svc) -> None:
    with pytest.raises(ValidationFailed) as e:
        svc.programs.add(_program(code="y", rate_fen=0, unit="斤", posting_days=0))
    text = str(e.value)
    assert "项目代码" in text and "补贴标准" in text and "计量单位" in text and "公示天数" in text
    with pytest.raises(ValidationFailed, match="已经有"):
        svc.programs.add(_program(code="GDDL"))


def test_require_guide_lists_what_is_missing(svc) -> None:
    p = svc.programs.add(_program(code="KONG", procedure="", materials=" ", office=""))
    with pytest.raises(VBError) as e:
        svc.programs.require_guide(p)
    assert "办理程序" in str(e.value) and "申报材料" in str(e.value) and "受理机构" in str(e.value)
    assert "补贴对象" not in str(e.value)
    svc.programs.require_guide(svc.programs.get(2026, "GDDL"))  # complete: no error


def test_rate_change_needs_a_reason_and_reprices_only_the_unpaid_rows(svc) -> None:
    p = svc.programs.get(2026, "GDDL")
    rows = svc.applications.list(2026, "GDDL")
    before = {a.id: (a.rate_fen, a.amount_fen) for a in rows}
    # no rate change: allowed without a reason
    svc.programs.update(2026, "GDDL", {"hotline": "0357-5220000"})
    with pytest.raises(VBError, match="“修改原因”：该项目已有申报或公示，修改补贴标准必须填写原因"):
        svc.programs.update(2026, "GDDL", {"rate_fen": p.rate_fen + 100})
    assert {a.id: (a.rate_fen, a.amount_fen) for a in svc.applications.list(2026, "GDDL")} == before
    new = svc.programs.update(2026, "GDDL", {"rate_fen": p.rate_fen + 100}, reason="县局文件调整标准")
    assert new.rate_history[-1]["reason"] == "县局文件调整标准"
    assert new.rate_history[-1]["from_fen"] == p.rate_fen and new.rate_history[-1]["to_fen"] == p.rate_fen + 100
    for a in svc.applications.list(2026, "GDDL"):
        if a.status == "rejected" or a.payout_status in ("issued", "paid"):
            assert (a.rate_fen, a.amount_fen) == before[a.id], a.id  # at the bank, paid or refused: kept
        else:
            assert a.rate_fen == p.rate_fen + 100
            assert a.amount_fen == entitlement_fen(a.quantity, p.rate_fen + 100, p.rounding), a.id
    # a new application uses the new rate
    a = _fresh_app(svc, "GDDL", "10")
    assert a.rate_fen == p.rate_fen + 100 and a.amount_fen == 10 * (p.rate_fen + 100)


# --- entitlement --------------------------------------------------------------------


@pytest.mark.parametrize(("rounding", "expected"), [("half_up", 123), ("down", 122), ("up", 123), ("half_even", 122)])
def test_entitlement_follows_the_programs_rounding(svc, rounding: str, expected: int) -> None:
    # 2.45 × 50 fen = 122.5 fen
    svc.programs.add(_program(code="QZ" + rounding[:3].upper(), rate_fen=50, rounding=rounding))
    h = svc.registry.households()[0]
    a = svc.applications.add(h.id, "QZ" + rounding[:3].upper(), 2026, "2.45")
    assert a.amount_fen == expected
    assert a.quantity == Decimal("2.45")


def test_one_household_one_program_one_year(svc) -> None:
    a = _fresh_app(svc)
    with pytest.raises(ValidationFailed, match="已申报过"):
        svc.applications.add(a.household_id, "GDDL", 2026, "3")
    svc.applications.void(a.id, "录错了户")
    again = svc.applications.add(a.household_id, "GDDL", 2026, "3")
    assert again.id != a.id  # numbers are never reused


def test_quantity_is_validated_against_the_programs_limit(svc) -> None:
    h = next(h for h in svc.registry.households() if svc.applications.existing(2026, h.id, "STGY") is None)
    with pytest.raises(ValidationFailed, match="超过本项目上限"):
        svc.applications.add(h.id, "STGY", 2026, "500.01")  # the limit is 500 亩
    with pytest.raises(ValidationFailed, match="两位小数"):
        svc.applications.add(h.id, "STGY", 2026, "1.234")


# --- status transitions --------------------------------------------------------------


def test_the_whole_approval_flow_fires_step_by_step(svc) -> None:
    a = _fresh_app(svc)
    assert a.status == "applied"
    for step in ("village_ok", "town_ok", "approved"):
        a = svc.applications.set_status(a.id, step, note=NOTE)  # the note answers any risk flag
        assert a.status == step
        assert svc.applications.get(a.id).status == step


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("applied", "town_ok"),
        ("applied", "approved"),
        ("village_ok", "approved"),
        ("village_ok", "applied"),
        ("town_ok", "village_ok"),
        ("approved", "town_ok"),
    ],
)
def test_skipping_or_going_back_is_refused(svc, start: str, target: str) -> None:
    a = _fresh_app(svc)
    for step in ("village_ok", "town_ok", "approved")[: ("applied", "village_ok", "town_ok", "approved").index(start)]:
        svc.applications.set_status(a.id, step, note=NOTE)
    with pytest.raises(VBError, match="不能直接改为"):
        svc.applications.set_status(a.id, target)
    assert svc.applications.get(a.id).status == start


@pytest.mark.parametrize("start", ["applied", "village_ok", "town_ok"])
def test_reject_with_reason_from_any_open_state(svc, start: str) -> None:
    a = _fresh_app(svc)
    for step in ("village_ok", "town_ok")[: ("applied", "village_ok", "town_ok").index(start)]:
        svc.applications.set_status(a.id, step)
    with pytest.raises(VBError, match="必须填写原因"):
        svc.applications.set_status(a.id, "rejected", "  ")
    a = svc.applications.set_status(a.id, "rejected", "承包合同面积不符")
    assert a.status == "rejected" and a.reject_reason == "承包合同面积不符"


def test_rejected_can_only_go_back_to_applied(svc) -> None:
    a = _fresh_app(svc)
    svc.applications.set_status(a.id, "rejected", "材料不全")
    with pytest.raises(VBError, match="退回"):
        svc.applications.set_status(a.id, "village_ok")
    with pytest.raises(VBError, match="不能再改为不通过"):
        svc.applications.set_status(a.id, "rejected", "再次")
    a = svc.applications.set_status(a.id, "applied")
    assert a.status == "applied" and a.reject_reason == ""


def test_approved_cannot_be_rejected_and_unknown_status_is_refused(svc) -> None:
    a = _fresh_app(svc)
    for step in ("village_ok", "town_ok", "approved"):
        svc.applications.set_status(a.id, step, note=NOTE)
    with pytest.raises(VBError, match="不能再改为不通过"):
        svc.applications.set_status(a.id, "rejected", "迟到的异议")
    with pytest.raises(VBError, match="状态只能是"):
        svc.applications.set_status(a.id, "paid")


def test_status_after_issue_and_void_rows_are_refused(svc) -> None:
    issued = _fresh_app(svc, "STGY")
    for step in ("village_ok", "town_ok", "approved"):
        issued = svc.applications.set_status(issued.id, step, note=NOTE)
    with svc.store.begin("测试.提交银行") as tx:
        svc.payouts.issue([issued], "2026-STGY-09", tx)
    with pytest.raises(VBError):
        svc.applications.set_status(issued.id, "rejected", "x")
    with pytest.raises(VBError, match="已提交银行"):
        svc.applications.void(issued.id, "想作废")
    with pytest.raises(VBError, match="数量和金额不能再改"):
        svc.applications.edit(issued.id, quantity="1")
    a = _fresh_app(svc)
    svc.applications.void(a.id, "重复录入")
    with pytest.raises(VBError, match="已作废"):
        svc.applications.set_status(a.id, "village_ok")
    with pytest.raises(VBError, match="已作废"):
        svc.applications.edit(a.id, quantity="2")


def test_void_needs_a_reason_and_keeps_the_record(svc) -> None:
    a = _fresh_app(svc)
    with pytest.raises(VBError, match="原因"):
        svc.applications.void(a.id, "")
    svc.applications.void(a.id, "农户撤回申请")
    kept = svc.applications.get(a.id)
    assert kept.void and kept.void_reason == "农户撤回申请"
    assert a.id not in [x.id for x in svc.applications.list(2026, "GDDL")]
    assert a.id in [x.id for x in svc.applications.list(2026, "GDDL", include_void=True)]


def test_edit_recalculates_an_unpaid_row_at_the_programs_rate(svc) -> None:
    a = _fresh_app(svc, quantity="10")
    rate = a.rate_fen
    svc.programs.update(2026, "GDDL", {"rate_fen": rate + 1000}, reason="调整")
    assert svc.applications.get(a.id).amount_fen == 10 * (rate + 1000)
    a = svc.applications.edit(a.id, quantity="12.5", remark="补登面积")
    assert a.rate_fen == rate + 1000 and a.amount_fen == int(Decimal("12.5") * (rate + 1000) + Decimal("0.5"))
    assert a.remark == "补登面积"


def test_rows_on_a_posted_notice_are_frozen(svc) -> None:
    village = svc.registry.villages()[1]
    n = svc.notices.create("application", 2026, village.id, "ZLYC")
    svc.notices.post(n.code)
    row = next(a for a in svc.applications.list(2026, "ZLYC", village.id) if a.status != "rejected")
    assert n.code in svc.applications.get(row.id).frozen_by
    assert svc.applications.frozen_by_posted(svc.applications.get(row.id)) == n.code
    with pytest.raises(VBError, match="公示"):
        svc.applications.edit(row.id, quantity="1")
    with pytest.raises(VBError, match="公示"):
        svc.applications.void(row.id, "想作废")


def test_machine_purchase_rows_entered_before_stay_and_pass_check(empty_svc) -> None:
    """农机购置补贴 left the demo's catalogue (the county's machinery office handles and
    pays it), but nothing about it was special: a township that entered it as 3,000元
    per 台 keeps the program and its paid rows, they still print and `check` passes."""
    import contextlib
    import io

    from tests.order_support import EARLIER, post_application_notices
    from villageboard.cli.main import main
    from villageboard.services.integrity import check_all

    svc = empty_svc
    with svc.store.begin("测试.村组") as tx:
        v = svc.registry.add_village("东沟村", tx)
        svc.registry.add_group(v.id, "一组", tx)
    svc.programs.add(_program(code="NJGZ", name="农机购置补贴", unit="台", rate_fen=300000, max_quantity=Decimal(3)))
    h, _w = svc.registry.add_household(
        {
            "name": "郭建国",
            "id_number": "142627196505050015",
            "village": "东沟村",
            "card_account": "6217790000000000008",
        }
    )
    a = svc.applications.add(h.id, "NJGZ", 2026, "1")
    post_application_notices(svc, "NJGZ")
    for step in ("village_ok", "town_ok", "approved"):
        svc.applications.set_status(a.id, step)
    with svc.store.begin("测试.发放") as tx:
        (sent,) = svc.payouts.issue([svc.applications.get(a.id)], "2026-NJGZ-01", tx, day=EARLIER.replace(day=20))
        svc.payouts.record_result(sent, True, "", EARLIER.replace(day=25), tx)
    result = svc.notices.post(svc.notices.create("result", 2026, "东沟村", "NJGZ").code)
    assert svc.notices.snapshot(result)["rows"][0]["app"] == a.id
    root = svc.root
    svc.close()
    assert check_all(root) == []
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["--data-dir", str(root), "program", "list", "--year", "2026"]) == 0
        assert main(["--data-dir", str(root), "check"]) == 0
    assert "农机购置补贴" in out.getvalue() and "检查通过" in out.getvalue()
