"""`application review`: the bulk review from the command line, run through the real
entry. It waits for each village's 申报公示 to run its course, moves rows step by step
(each step journaled like a single status change), leaves a rejected row and a row with
an open risk flag where they are and says why, and refuses a target that is no review step."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_full_year_cli import LAND_SHEET, PROGRAM_TEXT, Clerk, _photo, valid_id

# a second household paid to 郭保国's card: the 一卡多户 flag
SHARED = f"东沟村,二组,郭小军,{valid_id('14262719850412301')},6217794580730215733,古县农商银行,4,,,4\n"


def statuses(clerk: Clerk, day: str) -> dict[str, tuple[str, str]]:
    got = clerk.json(day, "application", "list", "--year", "2026", "--program", "GDDL")
    return {a["id"]: (a["village_id"], a["status"]) for a in got}


@pytest.fixture
def clerk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Clerk:
    c = Clerk(tmp_path / "data", monkeypatch)
    day = "2026-03-02"
    c.ok(day, "init", "--township", "岳阳镇", "--county", "古县", "--code", "141025", "--hotline", "0357-5221234")
    c.ok(day, "program", "add", "--code", "GDDL", "--year", "2026", *PROGRAM_TEXT)
    sheet = tmp_path / "土地台账.csv"
    sheet.write_text(LAND_SHEET + SHARED, encoding="utf-8")
    c.ok(day, "import", "applications", str(sheet), "--program", "GDDL", "--year", "2026")
    return c


def review(clerk: Clerk, day: str, *more: str) -> str:
    return clerk.ok(day, "application", "review", "--program", "GDDL", "--year", "2026", *more)


def test_the_review_waits_for_the_notice_then_moves_rows_step_by_step(clerk: Clerk, tmp_path: Path) -> None:
    before = statuses(clerk, "2026-04-01")
    out = review(clerk, "2026-04-01", "--to", "通过")
    assert "已推进0笔" in out and "还没有张贴申报公示" in out
    assert statuses(clerk, "2026-04-01") == before

    clerk.ok("2026-04-20", "posters", "--kind", "application", "--program", "GDDL", "--year", "2026", "--create",
             "--start", "2026-04-20", "--days", "7", "--format", "html", "--out", str(tmp_path / "公示"))  # fmt: skip
    notices = clerk.json("2026-04-20", "notice", "list", "--year", "2026", "--state", "posted")
    for n in notices:
        clerk.ok("2026-04-20", "notice", "photo", n["code"], str(_photo(tmp_path)))
    out = review(clerk, "2026-04-22", "--to", "村审核")
    assert "已推进0笔" in out and "公示期到" in out

    # one row refused by the village before the review
    first = sorted(before)[0]
    clerk.ok("2026-04-28", "application", "status", first, "不通过", "--reason", "承包地已流转，不再种植")
    out = review(clerk, "2026-04-28", "--village", "东沟村", "--to", "村审核")
    now = statuses(clerk, "2026-04-28")
    east = {n for n, (vid, _) in now.items() if vid == now[first][0]}
    assert {now[n][1] for n in east - {first}} == {"village_ok"}
    assert {now[n][1] for n in set(now) - east} == {"applied"}
    assert f"已推进{len(east) - 1}笔" in out and first in out and "不通过" in out

    out = review(clerk, "2026-04-28", "--to", "通过")
    now = statuses(clerk, "2026-04-28")
    flagged = {f["app_id"] for f in clerk.json("2026-04-28", "flags", "--year", "2026")}
    assert flagged and first not in flagged
    for n, (_, status) in now.items():
        if n == first:
            assert status == "rejected"
        elif n in flagged:  # an open risk flag: left at 乡镇审核 and named
            assert status == "town_ok" and f"{n}：有风险提示" in out
        else:
            assert status == "approved"
    assert f"已推进{len(now) - 1}笔" in out and f"没有推进到“通过”的{1 + len(flagged)}笔" in out
    clerk.ok("2026-04-28", "application", "status", sorted(flagged)[0], "通过", "--note", "经村组核实，父子共用一张卡")
    assert "村审核 → 乡镇审核" in out and "乡镇审核 → 通过" in out


@pytest.mark.parametrize("target", ["申报", "不通过", "批准"])
def test_a_target_that_is_no_review_step_is_refused(clerk: Clerk, target: str) -> None:
    rc, out, err = clerk.run("2026-05-06", "application", "review", "--program", "GDDL", "--year", "2026",
                             "--to", target)  # fmt: skip
    assert rc == 1 and out == ""
    assert "村审核" in err and "通过" in err
