"""Per-person programs (按人发放) through the real command-line entry: each application
names its entitled person (the head or a member), the bank sheet pays that person's own
card (never the collector's, never the head's), a person without a card is left off the
sheet with the household, the person and the reason, one person is never on two live
rows of one program and year, and the notice names the person with the ID masked."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import TODAY
from tests.test_cli_households import add, card, make_id, ok, refused, stored, town  # noqa: F401
from villageboard.domain.masking import mask_card, mask_id

GUIDE = (
    "--eligibility",
    "本镇从事种植的农业人员",
    "--procedure",
    "本人申请、村审核公示、镇审核",
    "--materials",
    "身份证、一卡通",
    "--office",
    "镇农业综合服务中心",
    "--hotline",
    "0357-5221234",
)


def per_person_program(root: Path, code: str = "PXBZ") -> None:
    ok(
        root,
        "program",
        "add",
        "--code",
        code,
        "--name",
        "农民培训补贴",
        "--unit",
        "人",
        "--rate",
        "500",
        "--payee",
        "person",
        *GUIDE,
    )


def app_no(out: str) -> str:
    m = re.search(r"\d{4}-\d{6}", out)
    assert m is not None, out
    return m.group(0)


def approve(root: Path, app: str) -> None:
    for step in ("村审核", "乡镇审核", "通过"):
        ok(root, "application", "status", app, step, "--note", "经核实属实")


def bank_rows(path: Path) -> list[dict]:
    from tests.test_cli_money import _bank_rows

    return _bank_rows(path)


def test_program_payee_is_set_and_listed_and_kept_once_rows_exist(town: Path) -> None:  # noqa: F811
    per_person_program(town)
    listed = {p["code"]: p for p in json.loads(ok(town, "program", "list", "--json"))}
    assert listed["PXBZ"]["payee"] == "person" and listed["GDDL"]["payee"] == "household"
    assert "按人发放" in ok(town, "program", "list")
    ok(town, "program", "edit", "GDDL", "--payee", "按人")
    ok(town, "program", "edit", "GDDL", "--payee", "household")
    add(town, "张建国", make_id(1), "东沟村", "一组", "--card", card(1))
    ok(town, "application", "add", "--id", make_id(1), "--program", "GDDL", "--quantity", "3")
    err = refused(town, "program", "edit", "GDDL", "--payee", "person")
    assert "该项目已有申报，不能由按户发放改为按人发放" in err


def test_per_person_pay_goes_to_the_persons_own_card_and_the_notice_masks_it(town: Path, tmp_path: Path) -> None:  # noqa: F811
    per_person_program(town)
    head, son, wife = make_id(1), make_id(4, "19980101"), make_id(5, "19720101")
    hid = add(town, "张建国", head, "东沟村", "一组", "--card", card(1))
    member = ("household", "member", str(hid))
    out = ok(
        town, *member, "--name", "张小军", "--id", son, "--relation", "子", "--card", card(4), "--bank", "邮储银行"
    )
    assert f"张小军（子） {mask_id(son)} 一卡通{mask_card(card(4))}（邮储银行）" in out and card(4) not in out
    ok(town, *member, "--name", "李秀英", "--id", wife, "--relation", "配偶")
    assert "“成员一卡通账号”：一卡通账号只能是数字" in refused(
        town, "household", "member-card", str(hid), "--id", wife, "--card", "62284800abc"
    )
    shown = ok(town, "household", "show", str(hid))
    assert mask_card(card(4)) in shown and card(4) not in shown

    # the person is named by --person (or by --id alone: the person's own ID number)
    a_son = app_no(ok(town, "application", "add", "--person", son, "--program", "PXBZ", "--quantity", "1"))
    a_wife = app_no(
        ok(town, "application", "add", "--id", head, "--person", wife, "--program", "PXBZ", "--quantity", "1")
    )
    a_head = app_no(ok(town, "application", "add", "--id", head, "--program", "PXBZ", "--quantity", "1"))
    assert "同一人不能领取两次" in refused(
        town, "application", "add", "--id", son, "--program", "PXBZ", "--quantity", "1"
    )
    stranger = make_id(9, "19900101")
    assert "“享受人”：名册中没有身份证号为" in refused(
        town, "application", "add", "--person", stranger, "--program", "PXBZ", "--quantity", "1"
    )
    shown = ok(town, "application", "show", a_son)
    assert f"享受人：张小军 {mask_id(son)}" in shown and son not in shown
    data = json.loads(ok(town, "application", "show", a_son, "--json"))
    assert data["person_id_masked"] == mask_id(son) and son not in json.dumps(data)

    # the head collects for the son: a record only
    ok(town, "application", "collect", a_son, "--name", "张建国", "--relation", "父亲")
    for a in (a_son, a_wife, a_head):
        approve(town, a)
    bank = tmp_path / "bank.xlsx"
    out = ok(town, "export", "bank", "--program", "PXBZ", "--out", str(bank), "--without-notice", "县里统一发放")
    assert f"未列入：{a_wife} 东沟村一组 户编号{hid}（张建国户）享受人李秀英（配偶）没有登记本人的一卡通账号" in out
    rows = {r["申报编号"]: r for r in bank_rows(bank)}
    assert set(rows) == {a_son, a_head}
    assert (rows[a_son]["享受人姓名"], rows[a_son]["身份证号码"], rows[a_son]["一卡通账号"]) == ("张小军", son, card(4))
    assert (rows[a_head]["享受人姓名"], rows[a_head]["一卡通账号"]) == ("张建国", card(1))

    # the wife's card registered later: the next sheet pays it
    ok(town, "household", "member-card", str(hid), "--id", wife, "--card", card(5))
    ok(
        town,
        "export",
        "bank",
        "--program",
        "PXBZ",
        "--out",
        str(tmp_path / "b2.xlsx"),
        "--without-notice",
        "县里统一发放",
    )
    assert [(r["享受人姓名"], r["一卡通账号"]) for r in bank_rows(tmp_path / "b2.xlsx")] == [("李秀英", card(5))]

    # the application notice names each person, numbers masked
    out = ok(town, "notice", "create", "--kind", "application", "--program", "PXBZ", "--village", "东沟村")
    code = re.search(r"\d{6}-\d{4}-\d{4}", out).group(0)  # type: ignore[union-attr]
    ok(town, "notice", "post", code)  # the privacy gate runs over what it will print
    ok(town, "notice", "render", code, "--out", str(tmp_path / "n"), "--format", "html")
    html = next((tmp_path / "n").glob("*.html")).read_text(encoding="utf-8")
    assert "享受人姓名" in html
    for name, idn in (("张小军", son), ("李秀英", wife), ("张建国", head)):
        assert name in html and mask_id(idn) in html and idn not in html
    for c in (card(1), card(4), card(5)):
        assert c not in html

    # the bank's return: the son's account was closed; a reissue waits for his own new card
    from tests.test_cli_money import _fill_return

    ret = _fill_return(bank, tmp_path / "ret.xlsx", {a_son: "账户已销户"})
    ok(town, "import", "payouts", str(ret), "--program", "PXBZ")
    err = refused(town, "payouts", "reissue", "--program", "PXBZ", "--out", str(tmp_path / "re0.xlsx"))
    assert f"申报{a_son}上次因“账户已销户”失败" in err
    ok(town, "household", "member-card", str(hid), "--id", son, "--card", card(6))
    ok(town, "payouts", "reissue", "--program", "PXBZ", "--out", str(tmp_path / "re1.xlsx"))
    assert [(r["享受人姓名"], r["一卡通账号"]) for r in bank_rows(tmp_path / "re1.xlsx")] == [("张小军", card(6))]
    assert TODAY.year == 2026


def test_per_household_programs_pay_the_head_as_before(town: Path, tmp_path: Path) -> None:  # noqa: F811
    head, son = make_id(1), make_id(4, "19980101")
    hid = add(town, "张建国", head, "东沟村", "一组", "--card", card(1))
    ok(town, "household", "member", str(hid), "--name", "张小军", "--id", son, "--relation", "子", "--card", card(4))
    assert "按户发放，不用填写享受人" in refused(
        town, "application", "add", "--id", head, "--person", son, "--program", "GDDL", "--quantity", "2"
    )
    a = app_no(ok(town, "application", "add", "--id", head, "--program", "GDDL", "--quantity", "2"))
    approve(town, a)
    bank = tmp_path / "bank.xlsx"
    ok(town, "export", "bank", "--program", "GDDL", "--out", str(bank), "--without-notice", "县里统一发放")
    [row] = bank_rows(bank)
    assert (row["户主姓名"], row["身份证号码"], row["一卡通账号"]) == ("张建国", head, card(1))


def test_one_id_is_one_live_person_record(town: Path) -> None:  # noqa: F811
    head, son, other = make_id(1), make_id(4, "19980101"), make_id(2)
    hid = add(town, "张建国", head, "东沟村", "一组")
    hid2 = add(town, "王小红", other, "西沟村", "一组")
    ok(town, "household", "member", str(hid), "--name", "张小军", "--id", son, "--relation", "子")
    err = refused(town, "household", "member", str(hid2), "--name", "张小军", "--id", son, "--relation", "其他")
    assert "已是户编号" in err and "请先在原户把这位成员移出" in err
    assert "的家庭成员" in refused(town, "household", "add", "--village", "南沟村", "--name", "张小军", "--id", son)
    assert "成员接任户主请用变更户主" in refused(town, "household", "edit", str(hid), "--id", son)
    out = ok(town, "household", "member-remove", str(hid), "--id", son, "--reason", "迁出")
    assert "已移出" in out and "迁出" in out
    ok(town, "household", "member", str(hid2), "--name", "张小军", "--id", son, "--relation", "其他")
    assert [m["id_number"] for m in stored(town)[hid2].members] == [son]
    # a member who takes over as head leaves the member list
    ok(
        town,
        *("household", "change-head", str(hid2), "--name", "张小军", "--id", son),
        *("--reason", "户主死亡", "--date", "2026-11-01"),
    )
    h2 = stored(town)[hid2]
    assert h2.id_number == son and h2.members[0]["void"] and h2.members[0]["void_reason"] == "成为户主"


def test_the_papers_of_a_per_person_program_name_each_person_and_each_signs_their_own_form(
    town: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from openpyxl import load_workbook

    per_person_program(town)
    head, son = make_id(1), make_id(4, "19980101")
    hid = add(town, "张建国", head, "东沟村", "一组", "--card", card(1))
    ok(town, "household", "member", str(hid), "--name", "张小军", "--id", son, "--relation", "子", "--card", card(4))
    a_son = app_no(ok(town, "application", "add", "--person", son, "--program", "PXBZ", "--quantity", "1"))
    a_head = app_no(ok(town, "application", "add", "--id", head, "--program", "PXBZ", "--quantity", "1"))
    for a in (a_son, a_head):
        approve(town, a)
    year = str(TODAY.year)
    roll = tmp_path / "roll.xlsx"
    ok(town, "export", "roll", "--program", "PXBZ", "--year", year, "--village", "东沟村", "--out", str(roll))
    cells = [[c for c in row if c is not None] for row in load_workbook(roll).active.iter_rows(values_only=True)]
    header = next(r for r in cells if "序号" in r)
    assert "享受人姓名" in header and "户主姓名" not in header
    by_name = {r[2]: r for r in cells if len(r) > 3 and r[0] in (1, 2)}
    assert set(by_name) == {"张建国", "张小军"}
    assert by_name["张小军"][3] == mask_id(son) and str(by_name["张小军"][4]) == card(4)[-4:]
    totals = next(r for r in cells if r and r[0] == "合计")
    assert "1户" in totals and "2户次" in totals  # one household, two people paid

    forms = tmp_path / "forms.xlsx"
    ok(town, "export", "forms", "--program", "PXBZ", "--year", year, "--village", "东沟村", "--out", str(forms))
    book = load_workbook(forms)
    assert len(book.sheetnames) == 2  # each person signs for their own money
    text = ["\n".join(str(c) for row in book[s].iter_rows(values_only=True) for c in row if c) for s in book.sheetnames]
    assert any(f"享受人姓名：张小军　身份证号：{mask_id(son)}" in t for t in text)
    assert any(f"享受人姓名：张建国　身份证号：{mask_id(head)}" in t for t in text)
    assert all(son not in t and head not in t and card(4) not in t for t in text)
