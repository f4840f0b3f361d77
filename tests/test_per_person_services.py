"""Per-person programs through the services: the 共用银行卡 flag firing and staying
quiet, import of a per-person sheet (good rows, and a bad row refusing the whole
sheet with row, column and reason), and a search over member add / remove / move /
apply sequences for a way to get one ID paid twice in one program and year."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from tests.conftest import TODAY
from tests.test_flags import add, apply, card, make_id
from tests.test_flags import town as town  # noqa: F401  (the fixture)
from villageboard.domain.errors import VBError
from villageboard.domain.models import Program
from villageboard.services import household_desk as desk
from villageboard.services.integrity import check_all
from villageboard.services.payees import set_member_card, void_member

PX = dict(
    code="PXBZ",
    year=TODAY.year,
    name="农民培训补贴",
    unit="人",
    rate_fen=50000,
    payee="person",
    hotline="0357-5221234",
    eligibility="本镇农业从业人员",
    procedure="本人申请、村审核、镇审核",
    materials="身份证",
    office="镇农业中心",
)


def per_person(svc) -> Program:
    return svc.programs.add(Program(**PX))


def member(svc, h, name: str, relation: str = "子", card_account: str = "", born: str = "19980101") -> str:
    idn = make_id(born)
    desk.add_member(svc, h.id, name=name, id_number=idn, relation=relation, card=card_account)
    return idn


def kinds(svc, app) -> set[str]:
    return {f.kind for f in svc.flags.flags_for(svc.applications.get(app.id))}


# --- the 共用银行卡 flag ------------------------------------------------------------------------


def test_shared_card_fires_for_two_people_of_one_program(town) -> None:  # noqa: F811
    per_person(town)
    shared = card(8001)
    a = add(town, "王甲")
    b = add(town, "李乙", village="西沟村")
    son = member(town, a, "王小甲", card_account=shared)
    daughter = member(town, b, "李小乙", "女", card_account=shared)
    fa = town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=son)
    fb = town.applications.add(b.id, "PXBZ", TODAY.year, "1", person=daughter)
    fc = town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=a.id_number)  # the head, own card
    assert "shared_payee_card" in kinds(town, fa) and "shared_payee_card" in kinds(town, fb)
    assert "shared_payee_card" not in kinds(town, fc)
    msg = next(f.message for f in town.flags.flags_for(fa) if f.kind == "shared_payee_card")
    assert "李小乙（西沟村）" in msg and shared not in msg and shared[-4:] in msg
    assert town.flags.counts(TODAY.year)["shared_payee_card"] == 2
    # only flagged: the rows are saved and may be approved with a note
    town.applications.set_status(fa.id, "village_ok")
    town.applications.set_status(fa.id, "town_ok")
    with pytest.raises(VBError, match="共用银行卡"):
        town.applications.set_status(fa.id, "approved")
    town.applications.set_status(fa.id, "approved", note="父亲代管，村委会已核实")
    # a card registered for one of them ends the sharing: the flag goes
    set_member_card(town, b.id, daughter, card=card(8002))
    assert "shared_payee_card" not in kinds(town, fa) and "shared_payee_card" not in kinds(town, fb)


def test_shared_card_fires_for_heads_of_two_households_in_a_per_household_program(town) -> None:  # noqa: F811
    shared = card(8101)
    a = add(town, "赵一", card_account=shared)
    b = add(town, "钱二", village="西沟村", card_account=shared)
    c = add(town, "孙三")
    fa, fb, fc = apply(town, a, "5"), apply(town, b, "5"), apply(town, c, "5")
    assert "shared_payee_card" in kinds(town, fa) and "shared_payee_card" in kinds(town, fb)
    assert "shared_payee_card" not in kinds(town, fc)
    # a different program year of the same households: its own rows only
    lone = apply(town, a, "5", 2025)
    assert "shared_payee_card" not in kinds(town, lone)


def test_one_person_in_two_programs_on_one_card_is_not_flagged(town) -> None:  # noqa: F811
    per_person(town)
    a = add(town, "周四")
    son = member(town, a, "周小四", card_account=card(8201))
    one = town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=son)
    other = apply(town, a, "3")  # GDDL to the head's own card
    assert "shared_payee_card" not in kinds(town, one) | kinds(town, other)


def test_the_card_sent_to_the_bank_is_what_counts(town, tmp_path: Path) -> None:  # noqa: F811
    per_person(town)
    a, b = add(town, "吴五"), add(town, "郑六")
    son = member(town, a, "吴小五", card_account=card(8301))
    fa = town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=son)
    fb = town.applications.add(b.id, "PXBZ", TODAY.year, "1", person=b.id_number)
    for step in ("village_ok", "town_ok", "approved"):
        town.applications.set_status(fa.id, step)
    town.transfer.export_bank("PXBZ", TODAY.year, tmp_path / "b.xlsx", without_notice="县里统一发放")
    assert "shared_payee_card" not in kinds(town, fa)
    # a's row went to the son's card; the son's card is then corrected, and b's head
    # registers the old one as his own: b's row would go where a's row went
    set_member_card(town, a.id, son, card=card(8302))
    town.registry.update_household(b.id, {"card_account": card(8301)})
    assert "shared_payee_card" in kinds(town, fa) and "shared_payee_card" in kinds(town, fb)
    assert "shared_payee_card" not in kinds(
        town, town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=a.id_number)
    )


# --- import ---------------------------------------------------------------------------------


def sheet(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_import_reads_the_persons_columns(town, tmp_path: Path) -> None:  # noqa: F811
    per_person(town)
    a, b = add(town, "王甲"), add(town, "李乙", village="西沟村")
    son = member(town, a, "王小甲", card_account=card(8401))
    wife = member(town, b, "张秀", "配偶", card_account=card(8402), born="19720101")
    header = ["户主姓名", "户主身份证号码", "享受人姓名", "享受人身份证号", "补贴项目", "数量"]
    good = sheet(
        tmp_path / "good.xlsx",
        header,
        [
            ["王甲", a.id_number, "王小甲", son, "PXBZ", "1"],
            ["", "", "张秀", wife, "PXBZ", "1"],  # the person alone: found as a member
            ["王甲", a.id_number, "", "", "PXBZ", "1"],  # no person written: the head
        ],
    )
    report = town.transfer.import_applications(good)
    assert report.applications == 3
    rows = {a.person_id_number: a for a in town.applications.list(TODAY.year, "PXBZ")}
    assert set(rows) == {son, wife, a.id_number}
    assert rows[wife].household_id == b.id and rows[son].person_name == "王小甲"


def test_import_synonyms_and_a_bad_row_refuses_the_whole_sheet(town, tmp_path: Path) -> None:  # noqa: F811
    per_person(town)
    a, b = add(town, "王甲"), add(town, "李乙", village="西沟村")
    son = member(town, a, "王小甲")
    daughter = member(town, b, "李小乙", "女")
    header = ["补贴对象姓名", "补贴对象身份证号码", "项目", "数量"]
    bad = sheet(
        tmp_path / "bad.xlsx",
        header,
        [
            ["王小甲", son, "PXBZ", "1"],
            ["李大乙", daughter, "PXBZ", "1"],  # the name is not the registered one
            ["王小甲", son, "PXBZ", "1"],  # the same person twice
            ["无名氏", make_id("19900101"), "PXBZ", "1"],  # nobody registered
        ],
    )
    with pytest.raises(VBError) as exc:
        town.transfer.import_applications(bad)
    text = str(exc.value)
    assert "第3行" in text and "补贴对象姓名" in text and "名册中该身份证号是“李小乙”" in text
    assert "第4行" in text and "与第2行是同一人同一项目，重复申报" in text
    assert "第5行" in text and "名册中没有这个享受人" in text
    assert town.applications.list(TODAY.year, "PXBZ") == []  # nothing imported
    # the same person already on a stored row, in another household now
    town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=son)
    void_member(town, a.id, son, "迁出")
    desk.add_member(town, b.id, name="王小甲", id_number=son, relation="其他")
    again = sheet(
        tmp_path / "again.xlsx", ["领取人姓名", "领取人身份证号码", "补贴项目", "数量"], [["王小甲", son, "PXBZ", "1"]]
    )
    with pytest.raises(VBError, match="第2行.*同一人不能领取两次"):
        town.transfer.import_applications(again)


def test_a_per_person_sheet_with_only_the_usual_columns(town, tmp_path: Path) -> None:  # noqa: F811
    per_person(town)
    a = add(town, "王甲")
    son = member(town, a, "王小甲")
    plain = sheet(tmp_path / "p.xlsx", ["姓名", "身份证号", "补贴项目", "数量"], [["王小甲", son, "PXBZ", "1"]])
    town.transfer.import_applications(plain)
    [row] = town.applications.list(TODAY.year, "PXBZ")
    assert (row.household_id, row.person_id_number) == (a.id, son)


# --- nobody paid twice ------------------------------------------------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(["member", "remove", "move", "apply", "head", "household"]),
        st.integers(0, 4),  # which household (the households registered on the way count too)
        st.integers(0, 3),  # which person
    ),
    max_size=14,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from villageboard.domain.models import Township
    from villageboard.services import Services
    from villageboard.services.township import init_township

    root = tmp_path_factory.mktemp("pp") / "data"
    svc = init_township(
        root, Township(name="岳阳镇", county="古县", code="141025", hotline="0357-5221234"), operator="测试"
    )
    svc.close()
    with Services.open(root, today=TODAY) as svc:
        with svc.store.begin("测试.村组") as tx:
            for name in ("东沟村", "西沟村"):
                svc.registry.add_village(name, tx)
        per_person(svc)
        for name in ("甲", "乙", "丙"):
            svc.registry.add_household({"name": f"王{name}", "id_number": make_id("19600101"), "village": "东沟村"})
    return root


PEOPLE = [make_id("20000101") for _ in range(4)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_no_sequence_pays_one_id_twice(template: Path, ops: list[tuple[str, int, int]]) -> None:
    from villageboard.services import Services

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        shutil.copytree(template, root)
        with Services.open(root, today=TODAY) as svc:
            hids = [h.id for h in svc.registry.households()]
            villages = [v.id for v in svc.registry.villages()]
            applied: set[str] = set()
            for op, hi, pi in ops:
                hid, idn = hids[hi % len(hids)], PEOPLE[pi]
                try:
                    if op == "household":  # the person registered as the head of a household of their own
                        h, _w = svc.registry.add_household({"name": "王某", "id_number": idn, "village": "西沟村"})
                        hids.append(h.id)
                    elif op == "member":
                        desk.add_member(svc, hid, name="王某", id_number=idn, relation="其他", card=card(9000 + pi))
                    elif op == "remove":
                        void_member(svc, hid, idn, "迁出")
                    elif op == "move":
                        h = svc.registry.household(hid)
                        svc.registry.move_household(hid, villages[1 - villages.index(h.village_id)])
                    elif op == "head":
                        desk.change_head(
                            svc, hid, name="王某", id_number=idn, card=card(9000 + pi), reason="户主死亡", date=TODAY
                        )
                    else:
                        svc.applications.add(hid, "PXBZ", TODAY.year, "1", person=idn)
                        assert idn not in applied, "one person applied twice"
                        applied.add(idn)
                except VBError as exc:
                    if op == "apply" and idn in applied:
                        # refused as a second payment, or because the person is not of this household
                        assert "同一人不能领取两次" in str(exc) or "不是" in str(exc) and "户主或家庭成员" in str(exc)
            rows = svc.applications.list(TODAY.year, "PXBZ")
            persons = [a.person_id_number for a in rows]
            assert len(persons) == len(set(persons))
            # every live ID number is held by one live person record at most
            held: list[str] = []
            for h in svc.registry.households():
                held.append(h.id_number)
                held += [m["id_number"] for m in h.members if not m.get("void")]
            assert len(held) == len(set(held))
        assert check_all(root) == []  # `check` finds nothing wrong either


def test_check_reports_a_member_held_twice_and_a_person_paid_twice(town) -> None:  # noqa: F811
    """Data written past every service rule (as an older version could have left it)."""
    from villageboard.services.paths import app_counter, app_number, applications_file, households_file

    per_person(town)
    a, b = add(town, "王甲"), add(town, "李乙", village="西沟村")
    son = member(town, a, "王小甲")
    first = town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=son)
    b_doc = town.registry.household(b.id).to_dict()
    b_doc["members"] = [{"name": "王小甲", "id_number": son, "relation": "其他"}]
    second = {**first.to_dict(), "household_id": b.id, "village_id": b.village_id, "group_id": b.group_id}
    with town.store.begin("测试.旧数据") as tx:
        tx.put(households_file(b.village_id), "households", b.id, b_doc)
        rel = applications_file(TODAY.year, "PXBZ", b.village_id)
        n = tx.insert(rel, "applications", app_counter(TODAY.year), second, key_field=None)
        tx.put(rel, "applications", n, {**second, "id": app_number(TODAY.year, n)})
    problems = "\n".join(check_all(town.store.root))
    assert "同时是户编号" in problems and "家庭成员" in problems and son not in problems
    assert "按人发放有2条有效申报" in problems


def test_next_years_sheet_carries_each_person(town, tmp_path: Path) -> None:  # noqa: F811
    per_person(town)
    town.programs.add(Program(**{**PX, "year": TODAY.year + 1}))
    a = add(town, "王甲")
    son = member(town, a, "王小甲", card_account=card(8501))
    town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=son)
    town.applications.add(a.id, "PXBZ", TODAY.year, "1", person=a.id_number)
    sheet_path = tmp_path / "next.xlsx"
    town.transfer.carry_forward(TODAY.year, "PXBZ", sheet_path)
    town.transfer.import_applications(sheet_path, program="PXBZ", year=TODAY.year + 1)
    rows = town.applications.list(TODAY.year + 1, "PXBZ")
    assert sorted((r.household_id, r.person_id_number) for r in rows) == sorted([(a.id, son), (a.id, a.id_number)])


def test_records_made_before_per_person_programs_still_load() -> None:
    from villageboard.domain.models import Application, Household

    old_program = {"code": "GDDL", "year": 2024, "name": "耕地地力保护补贴", "unit": "亩", "rate_fen": 10000}
    assert Program.from_dict(old_program).payee == "household" and not Program.from_dict(old_program).per_person
    old_app = {"id": "2024-000001", "year": 2024, "program_code": "GDDL", "household_id": 1, "quantity": "3"}
    a = Application.from_dict(old_app)
    assert (a.person_id_number, a.person_name) == ("", "")
    old_member = {"name": "王小甲", "id_number": make_id("19980101"), "relation": "子", "added": "2024-01-01"}
    h = Household.from_dict({"id": 1, "name": "王甲", "id_number": make_id(), "members": [old_member]})
    from villageboard.services.payees import person_in

    who = person_in(h, old_member["id_number"])
    assert who is not None and (who.name, who.card_account, who.relation) == ("王小甲", "", "子")


def test_a_members_id_in_a_per_household_sheet_is_refused_not_skipped(town, tmp_path: Path) -> None:  # noqa: F811
    a = add(town, "王甲")
    son = member(town, a, "王小甲")
    rows = [["东沟村", "王小甲", son, "GDDL", "3"], ["东沟村", "王甲", a.id_number, "GDDL", "2"]]
    path = sheet(tmp_path / "hh.xlsx", ["村", "户主姓名", "身份证号码", "补贴项目", "数量"], rows)
    with pytest.raises(VBError, match="第2行.*的家庭成员"):
        town.transfer.import_applications(path)
    assert town.applications.list(TODAY.year, "GDDL") == []
