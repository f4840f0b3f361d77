"""The `household` commands, run through the real command-line entry (``main(argv)``
in this process, and a real subprocess for the exit codes), checked against what was
stored: show/list/add/edit/status/void, a move keeping its number and history, a data
dir damaged with two live households for one ID put right by `household void`, the
refusals, and a search over random command sequences for a second live holder."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from tests.conftest import TODAY
from villageboard.cli.main import main
from villageboard.domain.masking import mask_card, mask_id
from villageboard.domain.models import Household, Program
from villageboard.services.integrity import check_all
from villageboard.services.paths import households_file

VILLAGES = ("东沟村", "西沟村", "南沟村")


def make_id(n: int, born: str = "19700101") -> str:
    body = f"141025{born}{n:03d}"
    return body + ric.calc_check_digit(body + "0")


def bad_check_digit(idn: str) -> str:
    return idn[:-1] + ("1" if idn[-1] != "1" else "2")


def card(n: int) -> str:
    body = f"622848{n:012d}"
    total = 0
    for k, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def build_town(root: Path) -> None:
    """Three villages with two groups each and GDDL for this year; no households."""
    from villageboard.domain.models import Township
    from villageboard.services.township import init_township

    svc = init_township(
        root, Township(name="岳阳镇", county="古县", code="141025", hotline="0357-5221234"), operator="测试"
    )
    try:
        with svc.store.begin("测试.村组") as tx:
            for name in VILLAGES:
                v = svc.registry.add_village(name, tx)
                svc.registry.add_group(v.id, "一组", tx)
                svc.registry.add_group(v.id, "二组", tx)
        svc.programs.add(
            Program(
                code="GDDL", year=TODAY.year, name="耕地地力保护补贴", unit="亩", rate_fen=10000, hotline="0357-5221234"
            )
        )
    finally:
        svc.close()


@pytest.fixture
def town(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    build_town(root)
    return root


def run(root: Path, *args: str) -> tuple[int, str, str]:
    """One command through the real entry point, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--data-dir", str(root), *args])
    assert "Traceback" not in err.getvalue()
    return rc, out.getvalue(), err.getvalue()


def ok(root: Path, *args: str) -> str:
    rc, out, err = run(root, *args)
    assert rc == 0, out + err
    return out


def refused(root: Path, *args: str) -> str:
    rc, out, err = run(root, *args)
    assert rc == 1, out + err
    return err


def stored(root: Path) -> dict[int, Household]:
    from villageboard.services import Services

    with Services.open(root, readonly=True, today=TODAY) as svc:
        return {h.id: h for h in svc.registry.households(include_void=True)}


def add(root: Path, name: str, idn: str, village: str = "东沟村", group: str = "一组", *extra: str) -> int:
    out = ok(root, "household", "add", "--village", village, "--group", group, "--name", name, "--id", idn, *extra)
    return int(out.split("户编号")[1].split()[0])


def force_duplicate(root: Path, of: int, village: str = "西沟村") -> int:
    """A second live household with the same ID number, written past every service
    rule as an older version could have left it. Returns its number."""
    from villageboard.services import Services

    with Services.open(root, today=TODAY) as svc:
        a = svc.registry.household(of)
        vid = svc.registry.require_village(village).id
        with svc.store.begin("测试.旧数据") as tx:
            hid = tx.insert(
                households_file(vid),
                "households",
                "household",
                {**a.to_dict(), "id": 0, "village_id": vid, "group_id": 0},
            )
    return hid


# --- each command, checked against what was stored ----------------------------------------


def test_add_stores_the_household_and_show_masks_its_numbers(town: Path) -> None:
    idn = make_id(1)
    hid = add(
        town, "张建国", idn, "西沟村", "二组", "--phone", "13912345678", "--card", card(1), "--bank", "古县农商银行"
    )
    h = stored(town)[hid]
    assert (h.name, h.id_number, h.phone, h.card_account, h.bank) == (
        "张建国",
        idn,
        "13912345678",
        card(1),
        "古县农商银行",
    )
    out = ok(town, "household", "show", str(hid))
    assert "西沟村二组" in out and "正常" in out and "申报记录：没有" in out
    assert mask_id(idn) in out and mask_card(card(1)) in out and "尾号5678" in out
    for full in (idn, card(1), "13912345678"):
        assert full not in out
    full = ok(town, "household", "show", str(hid), "--full")
    assert idn in full and card(1) in full and "13912345678" in full and "内部资料" in full
    data = json.loads(ok(town, "household", "show", "张建国", "--json"))
    assert data["id"] == hid and data["village"] == "西沟村" and data["group"] == "二组"
    assert data["id_masked"] == mask_id(idn) and idn not in json.dumps(data, ensure_ascii=False)


def test_show_finds_by_number_name_village_and_name_whole_id_and_tail(town: Path) -> None:
    a = add(town, "张伟", make_id(1))
    b = add(town, "张伟", make_id(2), "南沟村")
    for query in (str(a), f"户编号{a}", f"{a}号", make_id(1), make_id(1)[-6:], "东沟张伟", "东沟村 张伟"):
        out = ok(town, "household", "show", query)
        assert out.startswith(f"户编号{a} 张伟"), (query, out)
    assert ok(town, "household", "show", "南沟张伟").startswith(f"户编号{b} ")


def test_list_filters_by_village_group_and_status(town: Path) -> None:
    a = add(town, "张一", make_id(1), "东沟村", "一组")
    b = add(town, "李二", make_id(2), "东沟村", "二组")
    c = add(town, "王三", make_id(3), "西沟村", "一组")
    ok(town, "household", "status", str(b), "迁出", "--date", "2026-05-01")

    def listed(*args: str) -> set[int]:
        return {
            int(x.split()[0][3:]) for x in ok(town, "household", "list", *args).splitlines() if x.startswith("户编号")
        }

    assert listed() == {a, b, c}
    assert listed("--village", "东沟") == {a, b}
    assert listed("--village", "东沟村", "--group", "二组") == {b}
    assert listed("--status", "迁出") == {b}
    assert listed("--status", "正常", "--village", "西沟村") == {c}
    rows = json.loads(ok(town, "household", "list", "--json"))
    assert {r["id"] for r in rows} == {a, b, c} and all(r["id_masked"].count("*") == 8 for r in rows)
    assert "“组”" in refused(town, "household", "list", "--group", "一组")
    assert "没有叫“北沟村”的村" in refused(town, "household", "list", "--village", "北沟村")


def test_edit_changes_the_given_fields_only(town: Path) -> None:
    hid = add(town, "张建国", make_id(1), "东沟村", "一组", "--card", card(1))
    out = ok(town, "household", "edit", str(hid), "--name", "张建军", "--phone", "0357-5221111", "--remark", "新户主")
    assert "户主姓名：张建国 → 张建军" in out
    h = stored(town)[hid]
    assert (h.name, h.phone, h.remark, h.card_account, h.id_number) == (
        "张建军",
        "0357-5221111",
        "新户主",
        card(1),
        make_id(1),
    )
    out = ok(town, "household", "edit", str(hid), "--name", "张建军")
    assert "没有改动" in out
    assert "没有要修改的内容" in refused(town, "household", "edit", str(hid))


def test_a_move_by_edit_keeps_the_number_and_the_history(town: Path) -> None:
    hid = add(town, "张建国", make_id(1), "东沟村", "一组")
    other = add(town, "李秀英", make_id(2), "东沟村", "一组")
    app = ok(town, "application", "add", "--household", str(hid), "--program", "GDDL", "--quantity", "5").split()[0]
    app = app.removeprefix("已登记：")
    out = ok(town, "household", "edit", str(hid), "--village", "南沟", "--group", "二组")
    assert "迁移：东沟村一组 → 南沟村二组" in out and f"户编号{hid}不变" in out
    h = stored(town)[hid]
    assert not h.void and h.id_number == make_id(1)
    shown = ok(town, "household", "show", make_id(1)[-4:])
    assert shown.startswith(f"户编号{hid} 张建国") and "南沟村二组" in shown and app in shown
    # the old village no longer lists it; the other household stayed
    in_east = ok(town, "household", "list", "--village", "东沟村")
    assert f"户编号{hid} " not in in_east and f"户编号{other} " in in_east
    # a group only: a move inside the village
    ok(town, "household", "edit", str(hid), "--group", "一组")
    assert "南沟村一组" in ok(town, "household", "show", str(hid))
    assert check_all(town) == []
    assert "“组”" in refused(town, "household", "edit", str(hid), "--group", "九组")


def test_status_needs_a_date_and_keeps_the_note_in_the_change_record(town: Path) -> None:
    from villageboard.services import Services

    hid = add(town, "张建国", make_id(1))
    assert "“日期”" in refused(town, "household", "status", str(hid), "已故")
    assert "“状态”" in refused(town, "household", "status", str(hid), "活着", "--date", "2026-03-01")
    assert "晚于今天" in refused(town, "household", "status", str(hid), "已故", "--date", "2026-12-01")
    assert stored(town)[hid].status == "active"
    ok(town, "household", "status", str(hid), "已故", "--date", "2026-03-01", "--note", "死亡证明已核")
    h = stored(town)[hid]
    assert h.status == "deceased" and h.status_date.isoformat() == "2026-03-01"
    with Services.open(town, readonly=True) as svc:
        assert "死亡证明已核" in svc.store.journal.last_entry["action"]
    assert "没有改动" in ok(town, "household", "status", str(hid), "已故", "--date", "2026-03-01")
    ok(town, "household", "status", str(hid), "正常")
    h = stored(town)[hid]
    assert h.status == "active" and h.status_date is None


def test_void_keeps_the_record_and_refuses_a_household_with_applications_in_progress(town: Path) -> None:
    hid = add(town, "张建国", make_id(1))
    app = ok(town, "application", "add", "--household", str(hid), "--program", "GDDL", "--quantity", "5").split()[0]
    app = app.removeprefix("已登记：")
    err = refused(town, "household", "void", str(hid), "--reason", "重复登记")
    assert "办理中的申报" in err and app in err and "没有作废" in err
    assert not stored(town)[hid].void
    assert "“作废原因”" in refused(town, "household", "void", str(hid), "--reason", "  ")
    ok(town, "application", "void", app, "--reason", "录错")
    out = ok(town, "household", "void", str(hid), "--reason", "重复登记")
    assert "已作废" in out
    h = stored(town)[hid]
    assert h.void and h.void_reason == "重复登记" and h.name == "张建国"  # kept, not deleted
    assert "已作废" in ok(town, "household", "show", str(hid))
    assert "不能修改" in refused(town, "household", "edit", str(hid), "--name", "张建军")
    assert "已经作废" in refused(town, "household", "void", str(hid), "--reason", "再作废")
    # the number is not reused and the ID may be registered again
    again = add(town, "张建国", make_id(1))
    assert again > hid


def test_a_household_whose_applications_are_finished_may_be_voided_and_keeps_them(town: Path) -> None:
    hid = add(town, "张建国", make_id(1))
    app = ok(town, "application", "add", "--household", str(hid), "--program", "GDDL", "--quantity", "5").split()[0]
    app = app.removeprefix("已登记：")
    ok(town, "application", "status", app, "不通过", "--reason", "面积不符")
    ok(town, "household", "void", str(hid), "--reason", "重复登记")
    shown = ok(town, "household", "show", str(hid))
    assert "已作废" in shown and app in shown and "不通过" in shown
    assert check_all(town) == []


# --- a damaged data dir, put right -------------------------------------------------------------


def test_two_live_households_for_one_id_are_fixed_by_void(town: Path) -> None:
    a = add(town, "张建国", make_id(1))
    b = force_duplicate(town, a)
    rc, out, _err = run(town, "check")
    assert rc == 1 and "同时是2户有效农户" in out
    assert "villageboard household void" in out and f"household void {b} --reason" in out
    # the tail now fits two households: listed, nothing picked
    err = refused(town, "household", "show", make_id(1)[-4:])
    assert "对应2户" in err and f"户编号{a} " in err and f"户编号{b} " in err
    # editing the duplicate is refused: the ID is the other household's
    assert f"户编号{a}" in refused(town, "household", "edit", str(b), "--remark", "x")
    out = ok(town, "household", "void", str(b), "--reason", "重复登记")
    assert f"现在只登记在户编号{a} " in out
    assert ok(town, "check").startswith("检查通过")
    hs = stored(town)
    assert hs[b].void and not hs[a].void
    assert ok(town, "household", "show", make_id(1)).startswith(f"户编号{a} ")


def test_voiding_either_duplicate_leaves_the_other_holding_the_id(town: Path) -> None:
    """In one open registry (as in the app): voiding the household the registry had
    taken as the holder hands the number to the other, so it is still refused to a
    third household."""
    from villageboard.domain.errors import ValidationFailed
    from villageboard.services import Services

    a = add(town, "张建国", make_id(1))
    b = force_duplicate(town, a)
    with Services.open(town, today=TODAY) as svc:
        held = svc.registry.by_id_number(make_id(1))
        assert held is not None
        svc.registry.void_household(held.id, "重复登记")
        left = svc.registry.by_id_number(make_id(1))
        assert left is not None and left.id == ({a, b} - {held.id}).pop()
        with pytest.raises(ValidationFailed, match="已登记在"):
            svc.registry.add_household({"name": "王五", "id_number": make_id(1), "village": "东沟村"})
    assert check_all(town) == []


def test_check_text_for_the_app_names_no_command(town: Path) -> None:
    """What the 设置 screen shows is check_all's text: it must not speak of flags."""
    a = add(town, "张建国", make_id(1))
    force_duplicate(town, a)
    problems = check_all(town)
    assert problems and not any("villageboard" in p or "--" in p for p in problems)


# --- refusals ---------------------------------------------------------------------------------


def test_refusals_name_the_field_and_change_nothing(town: Path) -> None:
    a = add(town, "张伟", make_id(1))
    b = add(town, "张伟", make_id(2), "西沟村")
    before = stored(town)

    assert "名册中没有“李四”" in refused(town, "household", "show", "李四")
    assert "名册中没有“999”" in refused(town, "household", "edit", "999", "--name", "李四")
    err = refused(town, "household", "edit", "张伟", "--remark", "x")
    assert "“张伟”对应2户" in err and f"户编号{a} " in err and f"户编号{b} " in err
    err = refused(town, "household", "edit", str(a), "--id", bad_check_digit(make_id(3)))
    assert "“身份证号”" in err and "校验位不对" in err and "没有保存" in err
    err = refused(town, "household", "edit", str(a), "--id", make_id(2))
    assert "“身份证号”" in err and f"已登记在 西沟村一组 张伟 名下（户编号{b}）" in err
    err = refused(town, "household", "add", "--village", "南沟村", "--name", "王五", "--id", make_id(2))
    assert "“身份证号”" in err and f"户编号{b}" in err
    err = refused(town, "household", "add", "--village", "北沟村", "--name", "王五", "--id", make_id(5))
    assert "“村”" in err
    assert "“一卡通账号”" in refused(town, "household", "edit", str(a), "--card", "123")
    assert stored(town) == before


def test_exit_codes_through_a_real_process(town: Path) -> None:
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())

    def vb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "villageboard", "--data-dir", str(town), *args],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )

    r = vb("household", "add", "--village", "东沟村", "--name", "张伟", "--id", make_id(1))
    assert r.returncode == 0 and "已登记" in r.stdout, r.stderr
    r = vb("household", "show", "李四")
    assert r.returncode == 1 and "名册中没有" in r.stderr and "Traceback" not in r.stderr
    r = vb("household", "status", "1")
    assert r.returncode == 2 and "命令用法有误" in r.stderr


# --- searched: random command sequences never make a second live holder ---------------------

POOL = tuple(make_id(i, "19650303") for i in range(4))
NAMES = ("张建国", "李秀英", "王桂兰")

command = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES), st.sampled_from(POOL), st.sampled_from(VILLAGES)),
    st.tuples(st.just("id"), st.integers(1, 6), st.sampled_from(POOL)),
    st.tuples(st.just("move"), st.integers(1, 6), st.sampled_from(VILLAGES), st.sampled_from(("一组", "二组"))),
    st.tuples(st.just("status"), st.integers(1, 6), st.sampled_from(("已故", "迁出", "正常"))),
    st.tuples(st.just("void"), st.integers(1, 6)),
    st.tuples(st.just("show"), st.sampled_from(POOL)),
)


def _argv(cmd: tuple) -> list[str]:
    kind, *rest = cmd
    if kind == "add":
        name, idn, village = rest
        return ["household", "add", "--village", village, "--name", name, "--id", idn]
    if kind == "id":
        return ["household", "edit", str(rest[0]), "--id", rest[1]]
    if kind == "move":
        return ["household", "edit", str(rest[0]), "--village", rest[1], "--group", rest[2]]
    if kind == "status":
        return ["household", "status", str(rest[0]), rest[1], "--date", "2026-06-01"]
    if kind == "void":
        return ["household", "void", str(rest[0]), "--reason", "重复登记"]
    return ["household", "show", rest[0][-4:]]


@pytest.fixture(scope="module")
def blank_town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("blank") / "data"
    build_town(root)
    return root


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(cmds=st.lists(command, min_size=2, max_size=8))
def test_random_household_commands_never_give_one_id_two_live_households(blank_town: Path, cmds: list) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="vb-hhcli-"))
    try:
        root = tmp / "data"
        shutil.copytree(blank_town, root)
        for cmd in cmds:
            rc, _out, err = run(root, *_argv(cmd))
            assert rc in (0, 1), err  # done, or refused with a message
            assert rc == 0 or err.strip()
            live = [h.id_number for h in stored(root).values() if not h.void]
            assert len(live) == len(set(live)), cmd
            assert check_all(root) == [], cmd
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
