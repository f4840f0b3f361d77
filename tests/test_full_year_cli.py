"""A township's whole year of 耕地地力保护补贴 from the command line alone (the CLI's main
entry, the date set by VILLAGEBOARD_TODAY as a clerk's machine would have it), on a
fresh township and on the demo's next year, and `check` passes at the end:

land sheet import → 申报公示 posted with its photo → objection → correction posted →
its period runs → review → bank sheet → bank return with two failures → change of
head (the head died; his card closed) and a new card for the other → reissue →
second return → 结果公示 → county sheet → check."""

from __future__ import annotations

import contextlib
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from stdnum.cn import ric

from villageboard.cli.main import main
from villageboard.domain.money import capital_amount
from villageboard.domain.validate import luhn_check_digit

PROGRAM_TEXT = [
    "--name", "耕地地力保护补贴", "--unit", "亩", "--rate", "103.68",
    "--basis", "《财政部 农业农村部关于下达耕地地力保护补贴资金预算的通知》", "--department", "县农业农村局",
    "--hotline", "0357-5221234", "--eligibility", "拥有耕地承包权的种地农民",
    "--procedure", "农户申报、村级公示、镇审核、县审定、一卡通发放", "--materials", "身份证、土地承包经营权证、一卡通",
    "--office", "岳阳镇农业综合服务中心", "--time-limit", "每年3月1日至4月30日",
]  # fmt: skip

LAND_SHEET = """村,组,户主姓名,身份证号,一卡通账号,开户银行,确权面积,扣除面积,扣除原因,补贴面积
东沟村,一组,郭保国,142627195803127370,6217794580730215733,古县农商银行,12.6,,,12.6
东沟村,一组,王秀英,141025196307054895,6217798193036426214,古县农商银行,8.35,1.2,修路占地,7.15
东沟村,二组,武满仓,142627197102212424,6217799972200332244,古县农商银行,15,,,15
西沟村,一组,李建军,14102519800918421X,6217793832364056227,古县农商银行,9.8,0.5,建房占地,9.3
西沟村,一组,贾存良,142627195511033700,6217791549909514542,古县农商银行,6.4,,,6.4
西沟村,二组,段引弟,141025197612305923,6217795277204056086,古县农商银行,11.25,2,退耕还林,9.25
"""


class Clerk:
    """Runs commands as the clerk would type them, on a given day."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root, self.mp = root, monkeypatch

    def run(self, day: str, *args: str) -> tuple[int, str, str]:
        self.mp.setenv("VILLAGEBOARD_TODAY", day)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(["--data-dir", str(self.root), *args])
        assert "Traceback" not in err.getvalue()
        return rc, out.getvalue(), err.getvalue()

    def ok(self, day: str, *args: str) -> str:
        rc, out, err = self.run(day, *args)
        assert rc == 0, f"{args}: {out}{err}"
        return out

    def json(self, day: str, *args: str) -> Any:
        return json.loads(self.ok(day, *args, "--json"))


def valid_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def valid_card(body: str) -> str:
    return body + luhn_check_digit(body)


def bank_return(sheet: Path, out: Path, day: str, failed: dict[str, str]) -> Path:
    """What the bank sends back: our sheet with 处理结果 / 失败原因 / 发放日期 filled in."""
    wb = load_workbook(sheet)
    ws = wb.active
    head = [c.value for c in ws[2]]
    col = {name: head.index(name) for name in ("申报编号", "处理结果", "失败原因", "发放日期")}
    for row in ws.iter_rows(min_row=3):
        app = row[col["申报编号"]].value
        if not isinstance(row[0].value, int):
            continue
        row[col["处理结果"]].value = "失败" if app in failed else "成功"
        row[col["失败原因"]].value = failed.get(app)
        row[col["发放日期"]].value = day
    wb.save(out)
    return out


def year_of_work(clerk: Clerk, y: int, tmp: Path, photo: Path) -> None:
    """申报公示 to county sheet for GDDL of year ``y`` (its rows already imported)."""

    def notices(kind: str, state: str, day: str) -> list[dict]:
        got = clerk.json(day, "notice", "list", "--year", str(y), "--state", state)
        return [n for n in got if n["kind"] == kind]

    def apps(day: str) -> list[dict]:
        return clerk.json(day, "application", "list", "--year", str(y), "--program", "GDDL")

    # 申报公示: every village's, posted with its photo
    day = f"{y}-04-20"
    clerk.ok(day, "posters", "--kind", "application", "--program", "GDDL", "--year", str(y), "--create",
             "--start", day, "--days", "7", "--format", "html", "--out", str(tmp / f"申报公示{y}"))  # fmt: skip
    posted = [n["code"] for n in notices("application", "posted", day)]
    assert posted
    for code in posted:
        clerk.ok(day, "notice", "photo", code, str(photo))

    # an objection while it is up, and the correction after checking the contract
    first = posted[0]
    row = next(a for a in apps(f"{y}-04-22") if a["frozen_by"] and a["frozen_by"][-1] == first)
    right = Decimal(row["certified_area"]) + Decimal("0.5")
    clerk.ok(f"{y}-04-22", "objection", "add", first, "--text", f"我家确权面积少登了0.5亩，承包证上是{right}亩")
    oid = clerk.ok(f"{y}-04-22", "objection", "list").splitlines()[-1].split()[0]
    out = clerk.ok(f"{y}-04-23", "objection", "resolve", oid, "--text", "经村委会核对承包证，确权面积更正",
                   "--correct", "--set", f"{row['id']}:certified_area={right}")  # fmt: skip
    assert "更正公示" in out
    clerk.ok(f"{y}-04-23", "notice", "post", first, "--start", f"{y}-04-23", "--days", "7")
    clerk.ok(f"{y}-04-23", "notice", "photo", first, str(photo))

    # the periods have run (the correction's too): review in one go; a row with a risk
    # flag stops at 乡镇审核 and is approved on its own, with what was checked
    day = f"{y}-05-06"
    out = clerk.ok(day, "application", "review", "--program", "GDDL", "--year", str(y), "--to", "通过")
    assert "已推进" in out
    for a in apps(day):
        if a["status"] != "approved":
            assert a["id"] in out and a["status"] == "town_ok"
            clerk.ok(day, "application", "status", a["id"], "通过", "--note", "经村组实地核实，情况属实")
    corrected = next(a for a in apps(day) if a["id"] == row["id"])
    assert Decimal(corrected["quantity"]) == right - Decimal(corrected["deducted_area"] or 0)

    # bank sheet, then the bank's return with two failures
    sheet = tmp / f"银行发放表{y}.xlsx"
    clerk.ok(f"{y}-10-20", "export", "bank", "--program", "GDDL", "--year", str(y), "--out", str(sheet))
    ids = [a["id"] for a in apps(f"{y}-11-03")]
    dead, frozen = ids[1], ids[2]
    ret = bank_return(sheet, tmp / f"回盘{y}.xlsx", f"{y}-11-03", {dead: "账户已销户", frozen: "账户冻结"})
    out = clerk.ok(f"{y}-11-03", "import", "payouts", str(ret), "--program", "GDDL", "--year", str(y))
    assert "发放失败2笔" in out

    # the head died: his son takes over the household with his own card; the other gets a new card
    day = f"{y}-11-05"
    hh = clerk.json(day, "application", "show", dead)["household_id"]
    old = clerk.json(day, "household", "show", str(hh))
    son_id, son_card = valid_id(f"14102519820406{hh % 1000:03d}"), valid_card(f"621779{y}{hh:08d}")
    son = old["name"][0] + "晋生"
    clerk.ok(day, "household", "change-head", str(hh), "--name", son, "--id", son_id, "--card", son_card,
             "--bank", "古县农商银行", "--reason", "户主死亡", "--date", f"{y}-09-14")  # fmt: skip
    other = clerk.json(day, "application", "show", frozen)["household_id"]
    clerk.ok(day, "household", "edit", str(other), "--card", valid_card(f"622188{y}{other:08d}"))
    again = tmp / f"重新发放{y}.xlsx"
    clerk.ok(day, "payouts", "reissue", "--program", "GDDL", "--year", str(y), "--out", str(again))
    sent = [r[1] for r in load_workbook(again).active.iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)]
    assert sorted(sent) == sorted([dead, frozen])
    clerk.ok(f"{y}-11-12", "import", "payouts", str(bank_return(again, tmp / f"回盘2-{y}.xlsx", f"{y}-11-12", {})),
             "--program", "GDDL", "--year", str(y))  # fmt: skip
    shown = clerk.ok(f"{y}-11-12", "application", "show", dead)
    assert "账户已销户" in shown and f"账号尾号{son_card[-4:]}" in shown and shown.count("已发放") == 2, shown

    # 结果公示 in every village, then the county sheet
    day = f"{y}-11-16"
    clerk.ok(day, "posters", "--kind", "result", "--program", "GDDL", "--year", str(y), "--create",
             "--start", day, "--days", "7", "--format", "html", "--out", str(tmp / f"结果公示{y}"))  # fmt: skip
    for n in notices("result", "posted", day):
        clerk.ok(day, "notice", "photo", n["code"], str(photo))
    day = f"{y}-11-24"
    county = tmp / f"报县{y}.xlsx"
    clerk.ok(day, "export", "county", "--year", str(y), "--out", str(county))
    assert county.exists()
    # the papers the township signs: the county summary, a village's 清册 (PDF and
    # Excel) and its households' 申报确认表, every total also in 大写
    village = notices("result", "archived", day)[0]["village"]
    for kind, out in (("county", "汇总"), ("roll", "清册"), ("forms", "确认表")):
        where = () if kind == "county" else ("--program", "GDDL", "--village", village)
        pdf = tmp / f"{out}{y}.pdf"
        clerk.ok(day, "export", kind, "--year", str(y), *where, "--out", str(pdf))
        assert pdf.read_bytes().startswith(b"%PDF")
    roll = tmp / f"清册{y}.xlsx"
    clerk.ok(day, "export", "roll", "--year", str(y), "--program", "GDDL", "--village", village, "--out", str(roll))
    text = "\n".join(str(c) for r in load_workbook(roll).active.iter_rows(values_only=True) for c in r if c is not None)
    here = {h["id"] for h in clerk.json(day, "household", "list", "--village", village, "--all")}
    paid_here = [a for a in apps(day) if a["household_id"] in here and a["status"] == "approved"]
    fen = sum(a["amount_fen"] for a in paid_here)
    assert paid_here and f"（大写：{capital_amount(fen)}）" in text
    assert f"共 {len(paid_here)} 户、{len(paid_here)} 户次" in text
    rec = clerk.json(day, "reconcile", "--year", str(y), "--program", "GDDL")
    assert rec["problems"] == []
    gddl = rec["programs"][0]
    assert gddl["failed"]["count"] == 0 and gddl["paid"]["count"] == len(ids)
    corrections = notices("correction", "archived", day)
    assert [(n["code"], n["version"]) for n in corrections] == [(first, 2)]
    shown = {n["village"] for n in notices("result", "archived", day)}
    assert shown == {n["village"] for n in notices("application", "archived", day)}
    # the history is found under the old head's name and the new one's
    for name in (old["name"], son):
        assert f"{y} 耕地地力保护补贴" in clerk.ok(day, "lookup", name)
    assert clerk.ok(day, "check").startswith("检查通过")


def _photo(tmp: Path) -> Path:
    photo = tmp / "张贴照片.jpg"
    photo.write_bytes(b"\xff\xd8 board photo \xff\xd9")
    return photo


def test_a_fresh_townships_year_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clerk = Clerk(tmp_path / "data", monkeypatch)
    day = "2026-03-02"
    clerk.ok(day, "init", "--township", "岳阳镇", "--county", "古县", "--code", "141025", "--hotline", "0357-5221234",
             "--supervision-hotline", "0357-5225678", "--unit", "岳阳镇人民政府")  # fmt: skip
    clerk.ok(day, "program", "add", "--code", "GDDL", "--year", "2026", *PROGRAM_TEXT)
    sheet = tmp_path / "土地台账.csv"
    sheet.write_text(LAND_SHEET, encoding="utf-8")
    out = clerk.ok(day, "import", "applications", str(sheet), "--program", "GDDL", "--year", "2026")
    assert "已导入申报6条" in out
    year_of_work(clerk, 2026, tmp_path, _photo(tmp_path))


@pytest.mark.slow  # a demo township of 30 households through a whole year, one command at a time
def test_the_demos_next_year_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clerk = Clerk(tmp_path / "data", monkeypatch)
    clerk.ok("2026-12-10", "demo", "--households", "30", "--villages", "2", "--seed", "7")
    day = "2027-03-02"
    clerk.ok(day, "program", "add", "--code", "GDDL", "--year", "2027", *PROGRAM_TEXT)
    # next year's land sheet: the template prefilled with 2026's 确权, 扣除 and reasons
    clerk.ok(day, "templates", "--from-year", "2026", "--program", "GDDL", "--out", str(tmp_path / "模板"))
    (sheet,) = (tmp_path / "模板").glob("申报导入模板-2027*.xlsx")
    out = clerk.ok(day, "import", "applications", str(sheet), "--program", "GDDL", "--year", "2027")
    assert "已导入申报" in out and "示例" not in out
    year_of_work(clerk, 2027, tmp_path, _photo(tmp_path))
