"""Issue 11's move case, run as a clerk would through the command line: a household
re-imported under another village is moved, not lost and not registered twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stdnum.cn import ric

from tests.conftest import TODAY

HEADER = "村,组,户主姓名,身份证号码,一卡通账号"
NAMES = ["张建国", "李秀英", "王桂兰", "刘志强", "陈春花", "杨海燕"]
VILLAGES = ["东沟村", "西沟村", "南沟村"]


def vb(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    return subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def id_number(i: int) -> str:
    body = f"141025{1950 + i}0{1 + i % 9}1{i % 10}{i:03d}"
    return body + ric.calc_check_digit(body + "0")


def card(i: int) -> str:
    body = f"622848{i:012d}"
    total = 0
    for k, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def sheet(path: Path, rows: list[tuple[str, str, int]]) -> Path:
    lines = [HEADER] + [f"{v},{g},{NAMES[i % len(NAMES)]},{id_number(i)},{card(i)}" for v, g, i in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_household_moved_by_import_stays_one_household(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(
        vb(
            "init",
            "--township",
            "岳阳镇",
            "--county",
            "古县",
            "--code",
            "141025",
            "--hotline",
            "0357-5221234",
            data=data,
        )
    )
    ok(
        vb(
            "program",
            "add",
            "--code",
            "GDDL",
            "--year",
            str(TODAY.year),
            "--name",
            "耕地地力保护补贴",
            "--unit",
            "亩",
            "--rate",
            "100",
            data=data,
        )
    )
    # three villages, two households each; the mover (row 5) lives in the third
    first = [(VILLAGES[i // 2], ("一组", "二组")[i % 2], i) for i in range(6)]
    out = ok(vb("import", "households", str(sheet(tmp_path / "all.csv", first)), data=data))
    assert "已新增农户6户" in out
    mover = id_number(5)
    out = ok(vb("application", "add", "--id", mover, "--program", "GDDL", "--quantity", "5", data=data))
    before = ok(vb("lookup", mover[-4:], data=data))
    assert "南沟村" in before and NAMES[5] in before

    # re-import that one household under the first village (a group written as 3组)
    one = sheet(tmp_path / "one.csv", [("东沟村", "3组", 5)])
    out = ok(vb("import", "households", str(one), data=data))
    assert "已新增农户0户" in out and "已更新1户" in out and "更新村" in out

    # still found, by ID tail and by name, in its new village, under its old number
    for query in (mover[-4:], NAMES[5]):
        found = ok(vb("lookup", query, data=data))
        assert "东沟村三组" in found and "南沟村" not in found, found
        assert found.split("户编号")[1].split()[0] == before.split("户编号")[1].split()[0]
        assert f"{TODAY.year} 耕地地力保护补贴" in found  # its history came along

    # the same sheet again is no new household: nothing changes
    out = ok(vb("import", "households", str(one), data=data))
    assert "已新增农户0户" in out and "已更新0户" in out and "1户与名册相同" in out

    # a second application for that ID is refused
    r = vb("application", "add", "--id", mover, "--program", "GDDL", "--quantity", "5", data=data)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "已申报过" in r.stderr and "Traceback" not in r.stderr

    out = ok(vb("check", data=data))
    assert "检查通过" in out
