"""Importing the clerk's sheets: households and applications from xlsx and csv,
all-or-nothing, every problem named by row and column, the errors sheet round trip,
updates instead of duplicates, new villages listed before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.services.import_common import ImportFailed
from villageboard.services.jobs import Cancelled

HEADER = ["序号", "村", "组", "户主姓名", "身份证号码", "联系电话", "一卡通账号", "开户银行", "备注"]


def make_id(n: int, born: str = "19700101") -> str:
    body = f"141025{born}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def card(n: int) -> str:
    body = f"622848{n:012d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def person(i: int, village: str = "东沟村", group: str = "一组", **kw) -> dict:
    names = ["张建国", "李秀英", "王桂兰", "刘志强", "陈春花", "杨海燕", "赵伟", "黄芳", "周娜", "吴敏", "徐静", "孙强"]
    row = {
        "序号": i + 1,
        "村": village,
        "组": group,
        "户主姓名": names[i % len(names)],
        "身份证号码": make_id(i, f"19{50 + i % 40}0{1 + i % 9}1{i % 10}"),
        "联系电话": f"139{i:08d}",
        "一卡通账号": card(1000 + i),
        "开户银行": "古县农商银行",
        "备注": "",
    }
    row.update(kw)
    return row


def write_xlsx(path: Path, rows: list[dict], header: list[str] = HEADER, title: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for r in rows:
        ws.append([r.get(h, "") for h in header])
    for col in ("E", "G"):  # ID and account columns as text, as the template does
        for cell in ws[col]:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[dict], encoding: str, header: list[str] = HEADER) -> Path:
    lines = [",".join(header)] + [",".join(str(r.get(h, "")) for h in header) for r in rows]
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def state(svc) -> tuple:
    """What must not change when an import is refused."""
    return (svc.store.journal.last_seq, dict(svc.store.counters), svc.registry.count(), len(svc.registry.villages()))


# --- households ------------------------------------------------------------------------


def test_xlsx_into_an_empty_township_creates_villages_and_groups(empty_svc, tmp_path) -> None:
    svc = empty_svc
    rows = [person(i, village=("东沟村", "西沟村")[i % 2], group=("一组", "2组")[i % 2]) for i in range(8)]
    src = write_xlsx(tmp_path / "名册.xlsx", rows)
    before = state(svc)
    dry = svc.transfer.import_households(src, dry_run=True)
    assert dry.lines()[0] == "将新建：东沟村、西沟村、东沟村一组、西沟村二组"
    assert dry.new_households == 8 and state(svc) == before
    rep = svc.transfer.import_households(src)
    assert rep.seq == before[0] + 1  # one transaction, one journal entry
    assert svc.registry.count() == 8
    assert [v.name for v in svc.registry.villages()] == ["东沟村", "西沟村"]
    west = svc.registry.require_village("西沟")
    assert [g.name for g in svc.registry.groups(west.id)] == ["二组"]
    h = svc.registry.by_id_number(rows[3]["身份证号码"])
    assert h is not None and h.name == rows[3]["户主姓名"] and h.card_account == rows[3]["一卡通账号"]
    assert svc.registry.place_label(h.village_id, h.group_id) == "西沟村二组"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_csv_in_gbk_and_utf8_with_bom(empty_svc, tmp_path, encoding: str) -> None:
    rows = [person(i, 户主姓名=n) for i, n in enumerate(["欧阳秀兰", "司马建国", "阿依古丽·买买提"])]
    if encoding == "gbk":
        rows = rows[:2]  # GBK has no room for every name; the BOM file carries the dot name
    src = write_csv(tmp_path / "名册.csv", rows, encoding)
    rep = empty_svc.transfer.import_households(src)
    assert rep.new_households == len(rows)
    assert {h.name for h in empty_svc.registry.households()} == {r["户主姓名"] for r in rows}


def test_title_row_and_merged_two_row_header(empty_svc, tmp_path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["岳阳镇东沟村2026年农户花名册"])
    ws.merge_cells("A1:G1")
    ws.append(["村", "组", "户主信息", None, "联系电话", "一卡通账号", "开户银行"])
    ws.append([None, None, "户主姓名", "身份证号码", None, None, None])
    for col in ("A", "B", "E", "F", "G"):
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("C2:D2")
    for i in range(3):
        r = person(i)
        ws.append([r["村"], r["组"], r["户主姓名"], r["身份证号码"], r["联系电话"], r["一卡通账号"], "农商行"])
    ws.append(["合计", None, "3户", None, None, None, None])
    wb.save(tmp_path / "merged.xlsx")
    rep = empty_svc.transfer.import_households(tmp_path / "merged.xlsx")
    assert rep.new_households == 3
    assert any("合计" in str(w) for w in rep.warnings)


def test_a_registered_household_is_updated_not_duplicated_and_journaled(svc, tmp_path) -> None:
    h = svc.registry.households()[5]
    village = svc.registry.village(h.village_id).name
    row = {
        "村": village,
        "户主姓名": h.name,
        "身份证号码": h.id_number.lower(),
        "联系电话": "13712345678",
        "一卡通账号": "",
        "开户银行": "",
        "组": "",
    }
    count = svc.registry.count()
    rep = svc.transfer.import_households(write_xlsx(tmp_path / "u.xlsx", [row]))
    assert (rep.new_households, rep.updated_households) == (0, 1)
    assert "联系电话" in rep.changes[0] and "一卡通账号" not in rep.changes[0]
    assert svc.registry.count() == count
    got = svc.registry.household(h.id)
    assert got.phone == "13712345678"
    assert got.card_account == h.card_account and got.group_id == h.group_id  # blanks erase nothing
    entry = svc.store.journal.last_entry
    assert entry["action"] == "导入.农户名册"
    change = next(c for c in entry["changes"] if c["t"] == "households")
    assert change["b"]["phone"] == h.phone and change["a"]["phone"] == "13712345678"
    # the same sheet again changes nothing
    again = svc.transfer.import_households(tmp_path / "u.xlsx")
    assert (again.updated_households, again.unchanged_households) == (0, 1)


def test_a_household_moved_to_another_village(svc, tmp_path) -> None:
    h = svc.registry.households()[0]
    other = next(v for v in svc.registry.villages() if v.id != h.village_id)
    row = {"村": other.name, "组": "一组", "户主姓名": h.name, "身份证号码": h.id_number}
    rep = svc.transfer.import_households(write_xlsx(tmp_path / "m.xlsx", [row]))
    assert rep.updated_households == 1
    moved = svc.registry.household(h.id)
    assert moved.village_id == other.id and not moved.void
    assert svc.registry.by_id_number(h.id_number).id == h.id
    from villageboard.store.check import check_data_dir

    svc.close()
    assert check_data_dir(svc.root) == []


def test_ids_stored_as_numbers_are_rejected_never_repaired(empty_svc, tmp_path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([1, "东沟村", "一组", "张三", 141025197001011234, "", "", "", ""])
    ws.append([2, "东沟村", "一组", "李四", make_id(2), "", 6228480012345678, "", ""])
    wb.save(tmp_path / "num.xlsx")
    before = state(empty_svc)
    with pytest.raises(ValidationFailed) as e:
        empty_svc.transfer.import_households(tmp_path / "num.xlsx")
    lines = str(e.value).splitlines()
    assert any(x.startswith("第2行") and "身份证号码" in x and "数字" in x for x in lines)
    assert any(x.startswith("第3行") and "一卡通账号" in x and "数字" in x for x in lines)
    assert sum(1 for x in lines if x.startswith("第2行")) == 1  # reported once, not twice
    assert state(empty_svc) == before


def test_every_problem_has_row_column_and_reason(empty_svc, tmp_path) -> None:
    rows = [
        person(0),
        person(1, 身份证号码=make_id(1)[:-1] + ("0" if make_id(1)[-1] != "0" else "1")),
        person(2, 户主姓名="Zhang San"),
        person(3, 联系电话="12345"),
        person(4, 村=""),
        person(5, 身份证号码=person(0)["身份证号码"]),
        person(6, 村="123"),
    ]
    before = state(empty_svc)
    with pytest.raises(ImportFailed) as e:
        empty_svc.transfer.import_households(write_xlsx(tmp_path / "bad.xlsx", rows))
    got = {(p.row, p.field) for p in e.value.problems}
    assert {(3, "身份证号码"), (4, "户主姓名"), (5, "联系电话"), (6, "村"), (7, "身份证号码"), (8, "村")} <= got
    assert not any(p.row == 2 for p in e.value.problems)
    assert "第7行 “身份证号码”：身份证号与第2行重复" in str(e.value)
    assert state(empty_svc) == before


def test_errors_sheet_round_trip(empty_svc, tmp_path) -> None:
    rows = [person(i) for i in range(6)]
    rows[1]["联系电话"] = "123"
    rows[4]["户主姓名"] = "李4"
    src = write_xlsx(tmp_path / "名册.xlsx", rows, title="东沟村农户名册")
    with pytest.raises(ImportFailed) as e:
        empty_svc.transfer.import_households(src, errors_out=tmp_path / "名册-错误.xlsx")
    assert "名册-错误.xlsx" in str(e.value)
    fixed = tmp_path / "名册-错误.xlsx"
    wb = load_workbook(fixed)
    ws = wb.active
    header = [c.value for c in ws[2]]
    reason = header.index("错误原因")
    marked = {r[0].row: r[reason].value for r in ws.iter_rows(min_row=3) if r[reason].value}
    assert set(marked) == {4, 7} and "电话" in marked[4] and "户主姓名" in marked[7]
    ws.cell(row=4, column=header.index("联系电话") + 1, value="13900000001")
    ws.cell(row=7, column=header.index("户主姓名") + 1, value="李四")
    wb.save(fixed)
    rep = empty_svc.transfer.import_households(fixed)
    assert rep.new_households == 6 and empty_svc.registry.count() == 6


# --- malformed rows (hypothesis) ------------------------------------------------------

BAD_KINDS = (
    "check_digit",
    "id_as_number",
    "old_id",
    "no_name",
    "latin_name",
    "phone",
    "card_letters",
    "no_village",
    "dup_id",
)


def _bad(kind: str, i: int, first: dict) -> dict:
    r = person(i)
    if kind == "check_digit":
        good = r["身份证号码"]
        r["身份证号码"] = good[:-1] + ("1" if good[-1] != "1" else "2")
    elif kind == "id_as_number":
        r["身份证号码"] = int(r["身份证号码"][:17] + "0")
    elif kind == "old_id":
        r["身份证号码"] = "141025700101123"
    elif kind == "no_name":
        r["户主姓名"] = ""
    elif kind == "latin_name":
        r["户主姓名"] = "Li Si"
    elif kind == "phone":
        r["联系电话"] = "1234567"
    elif kind == "card_letters":
        r["一卡通账号"] = "62AB3456789012"
    elif kind == "no_village":
        r["村"] = ""
    elif kind == "dup_id":
        r["身份证号码"] = first["身份证号码"]
    return r


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=st.lists(st.one_of(st.none(), st.sampled_from(BAD_KINDS)), min_size=2, max_size=12).filter(
        lambda p: p[0] is None and any(k is not None for k in p)
    )
)
def test_malformed_rows_are_each_reported_and_nothing_is_imported(empty_svc, tmp_path_factory, plan) -> None:
    first = person(0)
    rows = [first] + [person(i) if kind is None else _bad(kind, i, first) for i, kind in enumerate(plan[1:], 1)]
    src = write_xlsx(tmp_path_factory.mktemp("fuzz") / "f.xlsx", rows)
    before = state(empty_svc)
    with pytest.raises(ImportFailed) as e:
        empty_svc.transfer.import_households(src)
    bad_rows = {i + 2 for i, kind in enumerate(plan) if kind is not None}
    reported = {p.row for p in e.value.problems}
    assert bad_rows <= reported
    assert reported <= bad_rows  # good rows are not blamed
    assert all(p.field for p in e.value.problems)
    assert state(empty_svc) == before


# --- applications --------------------------------------------------------------------

APP_HEADER = ["村", "组", "户主姓名", "身份证号码", "补贴项目", "面积", "一卡通账号", "备注"]


def _free(svc, code: str, n: int) -> list:
    return [
        h
        for h in svc.registry.households()
        if h.status == "active" and svc.applications.existing(2026, h.id, code) is None
    ][:n]


def test_import_applications_with_program_given_on_the_command_line(svc, tmp_path) -> None:
    hs = _free(svc, "GDDL", 4)
    rows = [
        {"村": svc.registry.village(h.village_id).name, "户主姓名": h.name, "身份证号码": h.id_number, "面积": q}
        for h, q in zip(hs, ["3.5", "10", "0.25", "12.34亩"], strict=True)
    ]
    src = write_xlsx(tmp_path / "sb.xlsx", rows, APP_HEADER)
    seq = svc.store.journal.last_seq
    dry = svc.transfer.import_applications(src, program="GDDL", year=2026, dry_run=True)
    assert dry.applications == 4 and svc.store.journal.last_seq == seq
    rep = svc.transfer.import_applications(src, program="gddl", year=2026)
    assert rep.applications == 4 and rep.seq == seq + 1
    rate = svc.programs.get(2026, "GDDL").rate_fen
    for h in hs:
        a = svc.applications.get((2026, svc.applications.existing(2026, h.id, "GDDL")))
        assert a.status == "applied" and a.rate_fen == rate
    assert rep.amount_fen == sum(
        svc.applications.get((2026, svc.applications.existing(2026, h.id, "GDDL"))).amount_fen for h in hs
    )


def test_import_applications_registers_new_people_in_the_same_transaction(svc, tmp_path) -> None:
    rows = [
        {
            "村": "东沟村",
            "组": "一组",
            "户主姓名": "新来户",
            "身份证号码": make_id(901, "19800202"),
            "补贴项目": "耕地地力保护补贴",
            "面积": "4",
        },
        {
            "村": "东沟村",
            "组": "一组",
            "户主姓名": "新来户",
            "身份证号码": make_id(901, "19800202"),
            "补贴项目": "ZLYC",
            "面积": "4",
        },
        {
            "村": "桃园村",
            "组": "一组",
            "户主姓名": "新村户",
            "身份证号码": make_id(902, "19810303"),
            "补贴项目": "GDDL",
            "面积": "2",
            "一卡通账号": card(777),
        },
    ]
    count = svc.registry.count()
    rep = svc.transfer.import_applications(write_xlsx(tmp_path / "n.xlsx", rows, APP_HEADER), year=2026)
    assert rep.applications == 3 and rep.new_households == 2
    assert rep.new_places == ["桃园村", "桃园村一组"]
    assert svc.registry.count() == count + 2
    h = svc.registry.by_id_number(make_id(901, "19800202"))
    assert {a.program_code for a in svc.applications.for_household(h.id, 2026)} == {"GDDL", "ZLYC"}
    assert svc.registry.by_id_number(make_id(902, "19810303")).card_account == card(777)


def test_import_applications_problems_all_or_nothing(svc, tmp_path) -> None:
    hs = _free(svc, "GDDL", 3)
    taken = next(a for a in svc.applications.list(2026, "GDDL"))
    taken_h = svc.registry.household(taken.household_id)
    v = [svc.registry.village(h.village_id).name for h in hs]
    rows = [
        {"村": v[0], "户主姓名": hs[0].name, "身份证号码": hs[0].id_number, "补贴项目": "GDDL", "面积": "3"},
        {"村": v[1], "户主姓名": "别的名字", "身份证号码": hs[1].id_number, "补贴项目": "GDDL", "面积": "3"},
        {"村": v[2], "户主姓名": hs[2].name, "身份证号码": hs[2].id_number, "补贴项目": "不存在的补贴", "面积": "3"},
        {"村": v[0], "户主姓名": hs[0].name, "身份证号码": hs[0].id_number, "补贴项目": "GDDL", "面积": "2"},
        {"村": "", "户主姓名": taken_h.name, "身份证号码": taken_h.id_number, "补贴项目": "GDDL", "面积": "1"},
        {"村": v[2], "户主姓名": hs[2].name, "身份证号码": hs[2].id_number, "补贴项目": "ZLYC", "面积": "-1"},
        {"村": "", "户主姓名": "无名册", "身份证号码": make_id(950, "19900909"), "补贴项目": "GDDL", "面积": "1"},
    ]
    before = state(svc)
    with pytest.raises(ImportFailed) as e:
        svc.transfer.import_applications(write_xlsx(tmp_path / "bad.xlsx", rows, APP_HEADER), year=2026)
    by_row = {}
    for p in e.value.problems:
        by_row.setdefault(p.row, []).append(p.reason)
    assert set(by_row) == {3, 4, 5, 6, 7, 8}
    assert "姓名与名册不符" in by_row[3][0]
    assert "没有“不存在的补贴”" in by_row[4][0]
    assert "与第2行是同一人同一项目" in by_row[5][0]
    assert "已申报过" in by_row[6][0]
    assert "大于0" in by_row[7][0]
    assert "名册中没有这个身份证号" in by_row[8][0]
    wrong_village = next(x for x in svc.registry.villages() if x.id != hs[0].village_id).name
    with pytest.raises(ImportFailed, match=f"名册中该户在{v[0]}"):
        svc.transfer.import_applications(
            write_xlsx(tmp_path / "v.xlsx", [{**rows[0], "村": wrong_village}], APP_HEADER), year=2026
        )
    assert state(svc) == before
    assert svc.applications.existing(2026, hs[0].id, "GDDL") is None


def test_program_on_the_command_line_and_in_the_sheet_must_agree(svc, tmp_path) -> None:
    h = _free(svc, "ZLYC", 1)[0]
    rows = [{"户主姓名": h.name, "身份证号码": h.id_number, "补贴项目": "ZLYC", "面积": "1"}]
    with pytest.raises(ImportFailed, match="不一致"):
        svc.transfer.import_applications(write_xlsx(tmp_path / "x.xlsx", rows, APP_HEADER), program="GDDL", year=2026)
    with pytest.raises(ImportFailed, match="请填写补贴项目"):
        svc.transfer.import_applications(write_xlsx(tmp_path / "y.xlsx", [{**rows[0], "补贴项目": ""}], APP_HEADER))
    with_year = [*APP_HEADER, "年度"]
    with pytest.raises(ImportFailed, match="年度“26”不对"):
        svc.transfer.import_applications(write_xlsx(tmp_path / "z.xlsx", [{**rows[0], "年度": "26"}], with_year))
    with pytest.raises(ImportFailed, match="与导入时指定的2026年不一致"):
        svc.transfer.import_applications(
            write_xlsx(tmp_path / "w.xlsx", [{**rows[0], "年度": "2025"}], with_year), year=2026
        )
    rep = svc.transfer.import_applications(write_xlsx(tmp_path / "ok.xlsx", [{**rows[0], "年度": "2026年"}], with_year))
    assert rep.applications == 1  # the year comes from the sheet


# --- progress, cancel, helpers ------------------------------------------------------


def test_progress_is_reported_and_cancel_leaves_no_trace(empty_svc, tmp_path) -> None:
    src = write_xlsx(
        tmp_path / "big.xlsx", [person(i, 身份证号码=make_id(i, f"19{60 + i // 365 % 30}0101")) for i in range(600)]
    )
    seen: list[tuple[int, int, str]] = []
    before = state(empty_svc)
    with pytest.raises(Cancelled):
        empty_svc.transfer.import_households(
            src, progress=lambda d, t, w: seen.append((d, t, w)), cancel=lambda: len(seen) >= 2
        )
    assert seen[0][1] == 600 and state(empty_svc) == before
    seen.clear()
    empty_svc.transfer.import_households(src, progress=lambda d, t, w: seen.append((d, t, w)))
    assert seen[-1] == (600, 600, "保存") and empty_svc.registry.count() == 600


def test_whole_file_problems_are_plain_errors(empty_svc, tmp_path) -> None:
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(VBError, match="旧版 Excel"):
        empty_svc.transfer.import_households(old)
    with pytest.raises(VBError, match="找不到文件"):
        empty_svc.transfer.import_households(tmp_path / "missing.xlsx")


def test_report_lines_are_plain_chinese(svc, tmp_path) -> None:
    h = svc.registry.households()[0]
    rep = svc.transfer.import_households(
        write_xlsx(
            tmp_path / "a.xlsx",
            [
                {
                    "村": svc.registry.village(h.village_id).name,
                    "户主姓名": h.name,
                    "身份证号码": h.id_number,
                    "备注": "新备注",
                },
            ],
        ),
        dry_run=True,
    )
    text = "\n".join(rep.lines())
    assert "将更新1户" in text and "试导入" in text
