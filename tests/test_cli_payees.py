"""The payee commands through the real command-line entry: `household change-head`
refused then done, `household show` and `lookup` under either head, and
`program edit --rate` re-pricing the unpaid rows."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from tests.conftest import TODAY
from tests.test_cli_households import add, card, make_id, ok, refused, stored, town  # noqa: F401
from villageboard.cli.main import main
from villageboard.domain.masking import mask_card, mask_id


def test_change_head_refused_then_done_and_found_under_both_heads(town: Path) -> None:  # noqa: F811
    old_id = make_id(1)
    hid = add(town, "张建国", old_id, "东沟村", "一组", "--card", card(1))
    ok(town, "application", "add", "--id", old_id, "--program", "GDDL", "--quantity", "10.5")
    other = make_id(2)
    add(town, "王小红", other)
    new_id = make_id(3, "19750101")
    base = ("household", "change-head", str(hid), "--name", "张秀英", "--id", new_id, "--card", card(3))
    with pytest.raises(SystemExit) as exit_, contextlib.redirect_stderr(io.StringIO()) as err:
        main(["--data-dir", str(town), *base, "--reason", "户主死亡"])
    assert exit_.value.code == 2 and "缺少必填参数：--date" in err.getvalue()
    assert "“变更原因”：不能为空" in refused(town, *base, "--reason", " ", "--date", "2026-11-01")
    assert "“变更日期”：2026-11-29晚于今天" in refused(town, *base, "--reason", "户主死亡", "--date", "2026-11-29")
    assert "已登记在" in refused(
        town,
        "household",
        "change-head",
        str(hid),
        "--name",
        "张秀英",
        "--id",
        other,
        "--reason",
        "户主死亡",
        "--date",
        "2026-11-01",
    )
    assert stored(town)[hid].name == "张建国"
    out = ok(town, *base, "--reason", "户主死亡", "--date", "2026-11-01")
    assert f"已变更户主：户编号{hid} 东沟村一组 张秀英" in out
    assert f"原户主：张建国 {mask_id(old_id)}（2026-11-01 户主死亡）" in out
    assert "还没有发放的申报1条" in out and mask_card(card(3)) in out
    assert old_id not in out and new_id not in out
    h = stored(town)[hid]
    assert (h.name, h.id_number, h.card_account) == ("张秀英", new_id, card(3))
    assert h.former_heads[0]["id_number"] == old_id
    # show, under the old head's name and ID tail as well as the new one's
    for who in ("张秀英", "张建国", old_id[-4:], new_id[-4:]):
        shown = ok(town, "household", "show", who)
        assert f"户编号{hid} 张秀英" in shown and "原户主：张建国" in shown and "耕地地力保护补贴" in shown, who
    data = json.loads(ok(town, "household", "show", str(hid), "--json"))
    assert data["former_heads"] == [
        {"name": "张建国", "id_masked": mask_id(old_id), "reason": "户主死亡", "date": "2026-11-01"}
    ]
    assert TODAY.isoformat() == "2026-11-28"


def test_program_edit_rate_reprices_unpaid_rows_and_prints_each(town: Path) -> None:  # noqa: F811
    # GDDL at 100.00 元/亩 (tests/test_cli_households.py)
    for n, qty in ((1, "10.5"), (2, "3.3")):
        add(town, "张建国王小红"[(n - 1) * 3 : n * 3], make_id(n), "东沟村", "一组", "--card", card(n))
        ok(town, "application", "add", "--id", make_id(n), "--program", "GDDL", "--quantity", qty)
    err = refused(town, "program", "edit", "GDDL", "--rate", "103.68255", "--reason", "调整")
    assert "“补贴标准”：“103.68255”不对" in err and "最多4位小数" in err
    err = refused(town, "program", "edit", "GDDL", "--rate", "103.6825")
    assert "“修改原因”：该项目已有申报或公示，修改补贴标准必须填写原因" in err
    out = ok(town, "program", "edit", "GDDL", "--rate", "103.6825", "--reason", "县农业农村局调整标准")
    assert "补贴标准由100.00元改为103.6825元/亩（原因：县农业农村局调整标准）" in out
    assert "还没有发放的2条申报按新标准重算（原金额 → 新金额）：" in out
    assert "东沟村一组 张建国 10.5 × 103.6825元：1,050.00元 → 1,088.67元" in out  # 1088.66625 → 1088.67
    assert "东沟村一组 王小红 3.3 × 103.6825元：330.00元 → 342.15元" in out  # 342.15225 → 342.15
    assert "重算合计增加50.82元。" in out
    listed = json.loads(ok(town, "program", "list", "--json"))
    assert listed[0]["rate_fen"] == "10368.25"
    assert "103.6825元/亩" in ok(town, "program", "list")
    # the same rate again: nothing to re-price
    out = ok(town, "program", "edit", "GDDL", "--hotline", "0357-5220000")
    assert "重算" not in out


def test_cli_reissue_after_a_name_fix_and_to_a_new_head(town: Path, tmp_path: Path) -> None:  # noqa: F811
    from tests.test_cli_money import _bank_rows, _fill_return

    ids = [make_id(n) for n in (1, 2)]
    hids = [
        add(town, name, idn, "东沟村", "一组", "--card", card(n))
        for n, (name, idn) in enumerate(zip(("张建国", "王小红"), ids, strict=True), 1)
    ]
    apps = []
    for idn in ids:
        out = ok(town, "application", "add", "--id", idn, "--program", "GDDL", "--quantity", "10")
        apps.append(re.search(r"2026-\d{6}", out).group(0))  # type: ignore[union-attr]
    for a in apps:
        for step in ("村审核", "乡镇审核", "通过"):
            ok(town, "application", "status", a, step, "--note", "经核实属实")
    bank = tmp_path / "bank.xlsx"
    ok(
        town,
        "export",
        "bank",
        "--program",
        "GDDL",
        "--out",
        str(bank),
        "--without-notice",
        "县里统一发放，申报公示已在县平台公示",
    )
    ret = _fill_return(bank, tmp_path / "r.xlsx", {apps[0]: "户名不符", apps[1]: "户名不符"})
    ok(town, "import", "payouts", str(ret), "--program", "GDDL")
    err = refused(town, "payouts", "reissue", "--program", "GDDL", "--out", str(tmp_path / "re0.xlsx"))
    assert f"申报{apps[0]}上次因“户名不符”失败（回盘日期{TODAY.isoformat()}），户主姓名和一卡通账号还没有更正" in err
    # the first: the bank's name was right, the register's wrong; the second: the head had died
    ok(town, "household", "edit", str(hids[0]), "--name", "张健国")
    ok(
        town,
        "household",
        "change-head",
        str(hids[1]),
        "--name",
        "王秀英",
        "--id",
        make_id(3, "19750101"),
        "--card",
        card(3),
        "--reason",
        "户主死亡",
        "--date",
        "2026-11-01",
    )
    out = ok(town, "payouts", "reissue", "--program", "GDDL", "--out", str(tmp_path / "re1.xlsx"))
    assert "2026-GDDL-02" in out
    rows = {r["申报编号"]: r for r in _bank_rows(tmp_path / "re1.xlsx")}
    assert rows[apps[0]]["户主姓名"] == "张健国" and rows[apps[0]]["一卡通账号"] == card(1)
    assert (rows[apps[1]]["户主姓名"], rows[apps[1]]["一卡通账号"]) == ("王秀英", card(3))
    shown = ok(town, "application", "show", apps[0])
    assert "户名不符" in shown and f"回盘日期{TODAY.isoformat()}" in shown and "2026-GDDL-02" in shown


def test_members_and_collection_are_recorded_and_the_bank_pays_the_own_card(town: Path, tmp_path: Path) -> None:  # noqa: F811
    from tests.test_cli_money import _bank_rows

    idn = make_id(1)
    hid = add(town, "张建国", idn, "东沟村", "一组", "--card", card(1))
    head_of_other = make_id(2)
    add(town, "王小红", head_of_other)
    son = make_id(4, "19980101")
    member = ("household", "member", str(hid), "--name", "张小军")
    assert "“与户主关系”：“儿子”不对" in refused(town, *member, "--id", son, "--relation", "儿子")
    assert "“成员身份证号”：这是户主张建国本人的身份证号" in refused(town, *member, "--id", idn, "--relation", "子")
    assert "“成员身份证号”" in refused(town, *member, "--id", head_of_other, "--relation", "子")
    out = ok(town, *member, "--id", son, "--relation", "子")
    assert f"已添加家庭成员：张小军（子） {mask_id(son)}" in out
    assert "“成员身份证号”" in refused(town, *member, "--id", son, "--relation", "子")  # not twice
    assert f"家庭成员：张小军（子） {mask_id(son)}" in ok(town, "household", "show", str(hid))
    assert stored(town)[hid].members[0]["relation"] == "子"

    app = re.search(
        r"2026-\d{6}", ok(town, "application", "add", "--id", idn, "--program", "GDDL", "--quantity", "5")
    ).group(0)  # type: ignore[union-attr]
    collect = ("application", "collect", app, "--name", "张小军")
    assert "“方式”：“代收”不对" in refused(town, *collect, "--relation", "子", "--kind", "代收")
    assert "“代领人与户主关系”：不能为空" in refused(town, *collect, "--relation", " ")
    out = ok(town, *collect, "--relation", "子", "--note", "户主行动不便")
    assert f"已登记：申报{app} 由张小军（子）代领" in out
    assert "代领 2026-11-28 张小军（子） 户主行动不便" in ok(town, "application", "show", app)
    for step in ("村审核", "乡镇审核", "通过"):
        ok(town, "application", "status", app, step, "--note", "经核实属实")
    bank = tmp_path / "bank.xlsx"
    ok(
        town,
        "export",
        "bank",
        "--program",
        "GDDL",
        "--out",
        str(bank),
        "--without-notice",
        "县里统一发放，申报公示已在县平台公示",
    )
    row = _bank_rows(bank)[0]
    assert (row["户主姓名"], row["一卡通账号"]) == ("张建国", card(1))
