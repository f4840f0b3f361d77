"""`import applications` registers a household not yet on the roll with its bank too,
from a 开户银行 column under any of its usual names, as `import households` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_full_year_cli import LAND_SHEET, PROGRAM_TEXT, Clerk


@pytest.mark.parametrize("header", ["开户银行", "开户行", "银行名称"])
def test_the_bank_column_reaches_the_households_it_registers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    clerk = Clerk(tmp_path / "data", monkeypatch)
    day = "2026-03-02"
    clerk.ok(day, "init", "--township", "岳阳镇", "--county", "古县", "--code", "141025", "--hotline", "0357-5221234")
    clerk.ok(day, "program", "add", "--code", "GDDL", "--year", "2026", *PROGRAM_TEXT)
    lines = LAND_SHEET.replace("开户银行", header).splitlines()
    lines[2] = lines[2].replace("古县农商银行", "中国邮政储蓄银行古县支行")
    sheet = tmp_path / "土地台账.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clerk.ok(day, "import", "applications", str(sheet), "--program", "GDDL", "--year", "2026")
    shown = {h["name"]: clerk.ok(day, "household", "show", str(h["id"])) for h in clerk.json(day, "household", "list")}
    banks = {name: text.split("一卡通账号：")[1].split("（")[1].split("）")[0] for name, text in shown.items()}
    assert banks == {
        "郭保国": "古县农商银行",
        "王秀英": "中国邮政储蓄银行古县支行",
        "武满仓": "古县农商银行",
        "李建军": "古县农商银行",
        "贾存良": "古县农商银行",
        "段引弟": "古县农商银行",
    }
