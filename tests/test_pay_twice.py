"""One person, one per-household payment a program year: voiding a paid household and
registering the same head again (in another village, with another card) must not open
a second row of the same program and year. A refused row does not count."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import TODAY
from tests.test_cli_households import add, card, make_id, ok, refused, town  # noqa: F401
from tests.test_per_person import app_no, approve
from villageboard.domain.masking import mask_id
from villageboard.services import Services


def pay_all(root: Path, tmp_path: Path) -> None:
    ok(
        root,
        "export",
        "bank",
        "--program",
        "GDDL",
        "--out",
        str(tmp_path / "bank.xlsx"),
        "--without-notice",
        "县里统一",
    )
    with Services.open(root, today=TODAY) as svc, svc.store.begin("测试.回盘") as tx:
        for a in svc.applications.list(TODAY.year, "GDDL"):
            svc.payouts.record_result(a, True, "", TODAY - dt.timedelta(days=0), tx)


def test_a_paid_head_voided_and_registered_again_is_not_paid_twice(town: Path, tmp_path: Path) -> None:  # noqa: F811
    idn = make_id(1)
    hid = add(town, "张建国", idn, "东沟村", "一组", "--card", card(1))
    first = app_no(ok(town, "application", "add", "--id", idn, "--program", "GDDL", "--quantity", "3"))
    approve(town, first)
    pay_all(town, tmp_path)
    ok(town, "household", "void", str(hid), "--reason", "重复登记")
    again = add(town, "张建国", idn, "西沟村", "二组", "--card", card(2))
    assert again != hid
    err = refused(town, "application", "add", "--id", idn, "--program", "GDDL", "--quantity", "3")
    assert f"身份证号为{mask_id(idn)}的张建国本年度已在户编号{hid}名下申报过耕地地力保护补贴（编号{first}）" in err
    assert "同一人不能领取两次" in err and idn not in err


def test_a_refused_row_of_the_voided_registration_does_not_block(town: Path) -> None:  # noqa: F811
    idn = make_id(2)
    hid = add(town, "李秀英", idn, "东沟村", "一组", "--card", card(3))
    first = app_no(ok(town, "application", "add", "--id", idn, "--program", "GDDL", "--quantity", "3"))
    ok(town, "application", "status", first, "不通过", "--reason", "不是本村承包户")
    ok(town, "household", "void", str(hid), "--reason", "重复登记")
    add(town, "李秀英", idn, "西沟村", "一组", "--card", card(3))
    out = ok(town, "application", "add", "--id", idn, "--program", "GDDL", "--quantity", "2")
    assert app_no(out) != first
