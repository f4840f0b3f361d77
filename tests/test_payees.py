"""Payees (DESIGN.md §9): a change of head keeps the household and its history and
pays the new head's card; a failure for a wrong name is reissued once the name is
corrected; a rate change re-prices the unpaid rows only. Each refusal is hit first,
then the allowed path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.test_work_order import (
    POSTED,
    _card,
    _id,
    _return,
    approve_all,
    build_town,
    on,
    post_notice,
)
from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.domain.money import entitlement_fen
from villageboard.services import Services
from villageboard.services import household_desk as desk

SENT = dt.date(2026, 6, 10)
LATER = dt.date(2026, 6, 20)


@pytest.fixture
def town(empty_svc: Services) -> Services:
    return build_town(empty_svc)


@pytest.fixture
def sent(town: Services, tmp_path: Path) -> tuple[Services, Path]:
    post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    s = on(town, SENT)
    return s, s.transfer.export_bank("GDDL", 2026, tmp_path / "bank.xlsx").path


def _sheet_rows(path: Path) -> list[dict[str, object]]:
    ws = load_workbook(path).active
    header = [c.value for c in ws[2]]
    return [
        dict(zip(header, (c.value for c in row), strict=False))
        for row in ws.iter_rows(min_row=3)
        if isinstance(row[0].value, int)
    ]


# --------------------------------------------------------------------------- change of head


def test_change_of_head_refusals_then_the_new_head_is_paid(town: Services, tmp_path: Path) -> None:
    post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    s = on(town, SENT)
    old = s.registry.household(1)
    apps_before = [a.id for a in desk.applications_of(s, old.id)]
    kw = dict(name="李秀英", id_number=_id(100), card=_card(100), reason="户主死亡", date=dt.date(2026, 6, 1))
    with pytest.raises(VBError, match="“变更原因”：不能为空"):
        desk.change_head(s, old.id, **{**kw, "reason": "  "})
    with pytest.raises(VBError, match="“变更日期”：2026-06-11晚于今天"):
        desk.change_head(s, old.id, **{**kw, "date": dt.date(2026, 6, 11)})
    with pytest.raises(VBError, match="“新户主身份证号”：与现在的户主张一相同"):
        desk.change_head(s, old.id, **{**kw, "id_number": old.id_number})
    with pytest.raises(ValidationFailed, match="身份证号.*已登记在.*张二"):
        desk.change_head(s, old.id, **{**kw, "id_number": _id(2)})
    seq = s.store.journal.last_seq
    done = desk.change_head(s, old.id, **kw)
    assert s.store.journal.last_seq == seq + 1
    h = s.registry.household(old.id)
    assert (h.id, h.village_id, h.name, h.id_number, h.card_account) == (
        old.id,
        old.village_id,
        "李秀英",
        _id(100),
        _card(100),
    )
    assert h.former_heads[-1]["name"] == "张一" and h.former_heads[-1]["id_number"] == old.id_number
    assert h.former_heads[-1]["card_account"] == old.card_account and h.former_heads[-1]["reason"] == "户主死亡"
    assert [a.id for a in desk.applications_of(s, h.id)] == apps_before
    assert [a.id for a in done.unpaid] == apps_before
    # found under either name and either ID tail
    for text in ("李秀英", "张一", _id(100)[-6:], old.id_number[-6:], old.id_number):
        assert desk.find(s, text).id == h.id, text
    # the bank sheet pays the new head, on the new head's card
    rows = {r["申报编号"]: r for r in _sheet_rows(s.transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx").path)}
    row = rows[apps_before[0]]
    assert (row["户主姓名"], row["身份证号码"], row["一卡通账号"]) == ("李秀英", _id(100), _card(100))
    assert s.applications.get(apps_before[0]).attempts[-1]["name"] == "李秀英"


def test_without_a_card_the_new_head_is_not_paid_to_the_old_card(town: Services, tmp_path: Path) -> None:
    post_notice(on(town, POSTED), "东沟村", tmp_path)
    post_notice(on(town, POSTED), "西沟村", tmp_path)
    approve_all(town)
    s = on(town, SENT)
    desk.change_head(s, 1, name="李秀英", id_number=_id(100), reason="户主死亡", date=dt.date(2026, 6, 1))
    rep = s.transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx")
    assert rep.rows == 5 and any("李秀英" in x and "没有一卡通账号" in x for x in rep.skipped)


def test_the_phone_desk_finds_the_history_under_both_heads(town: Services) -> None:
    s = on(town, SENT)
    old = s.registry.household(2)
    desk.change_head(
        s, old.id, name="王桂兰", id_number=_id(101), card=_card(101), reason="户主死亡", date=dt.date(2026, 6, 1)
    )
    phone = s.phone
    for query, label in (("王桂兰", ""), ("张二", "原户主"), (_id(101)[-4:], ""), (old.id_number[-4:], "原户主")):
        hits = phone.lookup(query).hits
        assert hits and hits[0].household_id == old.id, query
        assert hits[0].matched.startswith(label), (query, hits[0].matched)
        assert [r for r in hits[0].records], query  # the household's applications come with it


# --------------------------------------------------------------------------- reissue after a name fix


def test_a_wrong_name_is_reissued_once_the_name_is_corrected(sent, tmp_path: Path) -> None:
    s, bank = sent
    first, second = s.applications.list(2026, "GDDL")[:2]
    later = on(s, LATER)
    later.transfer.import_payouts(
        _return(bank, tmp_path / "r.xlsx", "2026-06-15", {first.id: "户名不符", second.id: "账户已销户"}),
        program="GDDL",
        year=2026,
    )
    with pytest.raises(VBError) as exc:
        later.transfer.reissue("GDDL", 2026, tmp_path / "re0.xlsx")
    assert f"申报{first.id}上次因“户名不符”失败（回盘日期2026-06-15），户主姓名和一卡通账号还没有更正" in str(exc.value)
    assert f"申报{second.id}上次因“账户已销户”失败（回盘日期2026-06-15），一卡通账号还没有更正" in str(exc.value)
    # a name-only correction is enough for the wrong name, not for the closed account
    later.registry.update_household(first.household_id, {"name": "张壹"})
    later.registry.update_household(second.household_id, {"name": "张贰"})
    rep = later.transfer.reissue("GDDL", 2026, tmp_path / "re1.xlsx")
    assert rep.rows == 1 and len(rep.skipped) == 1 and second.id in rep.skipped[0]
    again = later.applications.get(first.id)
    assert [(a["result"], a["name"]) for a in again.attempts] == [("failed", "张一"), ("issued", "张壹")]
    assert (
        again.attempts[0]["returned"] == "2026-06-15" and again.attempts[0]["account"] == again.attempts[1]["account"]
    )
    assert [r["户主姓名"] for r in _sheet_rows(rep.path)] == ["张壹"]


def test_an_attempt_made_before_names_were_kept_reissues_after_a_later_rename(sent, tmp_path: Path) -> None:
    """Attempts stored before the sheet's name was kept carry no name: the date the
    household's name last changed decides."""
    s, bank = sent
    first = s.applications.list(2026, "GDDL")[0]
    later = on(s, LATER)
    later.transfer.import_payouts(
        _return(bank, tmp_path / "r.xlsx", "2026-06-15", {first.id: "户名不符"}), program="GDDL", year=2026
    )
    app = later.applications.get(first.id)
    app.attempts = [{k: v for k, v in a.items() if k != "name"} for a in app.attempts]
    later.applications.save(app, "测试.旧记录")
    with pytest.raises(VBError, match="户主姓名和一卡通账号还没有更正"):
        later.transfer.reissue("GDDL", 2026, tmp_path / "re0.xlsx")
    later.registry.update_household(first.household_id, {"name": "张壹"})
    assert later.transfer.reissue("GDDL", 2026, tmp_path / "re1.xlsx").rows == 1


# --------------------------------------------------------------------------- re-pricing


def test_a_rate_change_reprices_unpaid_rows_only_at_four_decimals(sent, tmp_path: Path) -> None:
    s, bank = sent
    later = on(s, LATER)
    apps = later.applications.list(2026, "GDDL")
    paid, failed = apps[0], apps[1]
    later.transfer.import_payouts(
        _return(bank, tmp_path / "r.xlsx", "2026-06-15", {failed.id: "账户冻结"}), program="GDDL", year=2026
    )

    def new_row(n: int, quantity: str) -> str:
        h, _w = later.registry.add_household(
            {
                "name": "赵" + "零一二三四五六七八九"[n],
                "id_number": _id(n),
                "card_account": _card(n),
                "village": "东沟村",
                "group": "一组",
            }
        )
        return later.applications.add(h.id, "GDDL", 2026, quantity).id

    fresh, waiting = new_row(7, "3.3"), new_row(8, "4")
    for step in ("village_ok", "town_ok", "approved"):
        later.applications.set_status(waiting, step, note="经核实属实")
    with later.store.begin("测试.提交银行") as tx:  # at the bank, waiting for its answer
        later.payouts.issue([later.applications.get(waiting)], "2026-GDDL-09", tx)
    before = {a.id: a for a in later.applications.list(2026, "GDDL")}
    rate = Decimal("10368.25")  # 103.6825 元/亩
    with pytest.raises(VBError, match="“修改原因”：该项目已有申报或公示"):
        later.programs.edit(2026, "GDDL", {"rate_fen": rate})
    seq = later.store.journal.last_seq
    new, repriced = later.programs.edit(2026, "GDDL", {"rate_fen": rate}, reason="县农业农村局调整标准")
    assert later.store.journal.last_seq == seq + 1  # program and rows in one save
    assert new.rate_fen == rate and later.programs.get(2026, "GDDL").rate_fen == rate
    assert new.rate_history[-1] == {
        "from_fen": 10368,
        "to_fen": "10368.25",
        "reason": "县农业农村局调整标准",
        "date": "2026-06-20",
        "operator": "测试",
        "repriced": 2,
    }
    assert sorted(r.app.id for r in repriced) == sorted([failed.id, fresh])
    for r in repriced:
        assert r.old_fen == before[r.app.id].amount_fen
        assert r.new_fen == entitlement_fen(before[r.app.id].quantity, rate, "half_up")
        assert later.applications.get(r.app.id).amount_fen == r.new_fen
    assert later.applications.get(fresh).amount_fen == 34215  # 3.3 × 103.6825 = 342.15225 → 342.15
    for kept in (paid.id, waiting):
        assert later.applications.get(kept).amount_fen == before[kept].amount_fen
        assert later.applications.get(kept).rate_fen == 10368
    # the failed row goes again at the new amount
    rep = later.transfer.reissue("GDDL", 2026, tmp_path / "re.xlsx", [failed.id])
    assert rep.amount_fen == later.applications.get(failed.id).amount_fen
    # stored exactly, read back exactly
    reopened = Services(later.store, today=LATER, operator="测试")
    assert reopened.programs.get(2026, "GDDL").rate_fen == rate


def test_old_records_with_an_int_rate_read_the_same() -> None:
    from villageboard.domain.models import Application, Program

    p = Program.from_dict({"code": "GDDL", "year": 2026, "rate_fen": 10368})
    assert p.rate_fen == Decimal(10368) and p.to_dict()["rate_fen"] == 10368
    a = Application.from_dict({"id": "2026-000001", "rate_fen": 10368, "quantity": "10.5"})
    assert a.to_dict()["rate_fen"] == 10368 and isinstance(a.to_dict()["rate_fen"], int)
    assert Program.from_dict({"rate_fen": "10368.25"}).to_dict()["rate_fen"] == "10368.25"
