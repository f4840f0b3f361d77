"""The money commands, run as a clerk would, in real subprocesses on the demo township:
import, approve, bank sheet, bank return with failures, reissue after correcting the
accounts, county sheet, check."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from tests.test_cli_core import vb


def _id(n: int) -> str:
    body = f"14102519880808{n:03d}"
    return body + ric.calc_check_digit(body + "0")


def _xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["岳阳镇农户名册（2026年11月）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _fill_return(src: Path, out: Path, fail: dict[str, str]) -> Path:
    wb = load_workbook(src)
    ws = wb.active
    header = [c.value for c in ws[2]]
    col = {name: header.index(name) for name in header if name}
    for row in ws.iter_rows(min_row=3):
        if not isinstance(row[0].value, int):
            continue
        app = row[col["申报编号"]].value
        row[col["处理结果"]].value = "失败" if app in fail else "成功"
        row[col["失败原因"]].value = fail.get(app)
    wb.save(out)
    return out


def _bank_rows(path: Path) -> list[dict]:
    rows = [list(r) for r in load_workbook(path).active.iter_rows(values_only=True)]
    return [dict(zip(rows[1], r, strict=True)) for r in rows[2:] if isinstance(r[0], int)]


def ok(r) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    return r.stdout


def test_end_to_end_on_the_demo_township(demo_dir: Path, tmp_path: Path) -> None:
    data = demo_dir
    # 1. households: five new people, one of them in a village the township lacks
    header = ["序号", "村", "组", "户主姓名", "身份证号码", "联系电话", "一卡通账号", "开户银行"]
    people = [
        [1, "东沟村", "一组", "欧阳春花", _id(1), "13900000001", "6228480012345671", "古县农商银行"],
        [2, "东沟村", "2组", "司马建国", _id(2), "", "6217790000000000014", "古县农商银行"],
        [3, "西沟", "一组", "钱满仓", _id(3), "13900000003", "6221880000000000018", "邮储银行古县支行"],
        [4, "桃园村", "一组", "孙引弟", _id(4), "", "6217000000000000019", "建设银行古县支行"],
        [5, "桃园村", "一组", "周二虎", _id(5), "", "6217000000000000027", "建设银行古县支行"],
    ]
    hsheet = _xlsx(tmp_path / "名册.xlsx", header, people)
    out = ok(vb("import", "households", str(hsheet), "--dry-run", data=data))
    assert out.splitlines()[0] == "将新建：桃园村、桃园村一组"
    assert "试导入" in out
    out = ok(vb("import", "households", str(hsheet), data=data))
    assert "已新增农户5户" in out

    # 2. applications for them (STGY), then approve them through the whole flow
    apps = _xlsx(
        tmp_path / "申报.xlsx",
        ["户主姓名", "身份证号码", "补贴项目", "面积"],
        [[p[3], p[4], "生态公益林补偿", f"{10 + i}.5"] for i, p in enumerate(people)],
    )
    out = ok(vb("import", "applications", str(apps), "--year", "2026", data=data))
    assert "已导入申报5条" in out
    listed = json.loads(
        ok(vb("application", "list", "--year", "2026", "--program", "STGY", "--status", "申报", "--json", data=data))
    )
    new_ids = _household_ids(data, [p[4] for p in people])
    mine = [a["id"] for a in listed if a["household_id"] in new_ids]
    assert len(mine) == 5
    # the order of work: each village's STGY 申报公示 goes up with its photo and runs
    # its 7 days (11-28 to 12-04); review and the bank sheet come after
    (tmp_path / "张贴.jpg").write_bytes(b"\xff\xd8 board \xff\xd9")
    for village in ("东沟村", "西沟村", "南庄村", "北坡村", "桃园村"):
        r = vb(
            "notice",
            "create",
            "--kind",
            "application",
            "--program",
            "STGY",
            "--village",
            village,
            "--year",
            "2026",
            data=data,
        )
        if r.returncode == 1 and "没有可公示的申报记录" in r.stderr:
            continue
        code = ok(r).split("：", 1)[1].split("（", 1)[0]
        ok(vb("notice", "post", code, data=data))
        ok(vb("notice", "photo", code, str(tmp_path / "张贴.jpg"), data=data))
    later = dt.date(2026, 12, 5)
    for app in mine:
        for step in ("村审核", "乡镇审核", "通过"):
            ok(vb("application", "status", app, step, data=data, today=later))

    # 3. the bank sheet: every approved STGY row not yet sent (the demo's own are not
    # reviewed yet: only the village has looked at them)
    bank = tmp_path / "银行发放表.xlsx"
    out = ok(vb("export", "bank", "--program", "STGY", "--year", "2026", "--out", str(bank), data=data, today=later))
    assert "2026-STGY-01" in out
    rows = _bank_rows(bank)
    assert set(mine) == {r["申报编号"] for r in rows}
    assert load_workbook(bank).active["A1"].value.startswith("内部资料")

    # 4. the bank return with three failures
    fail = {rows[0]["申报编号"]: "账户冻结", rows[1]["申报编号"]: "户名不符", rows[2]["申报编号"]: "账户已销户"}
    ret = _fill_return(bank, tmp_path / "回盘.xlsx", fail)
    out = ok(vb("import", "payouts", str(ret), "--program", "STGY", "--year", "2026", data=data, today=later))
    assert f"发放成功{len(rows) - 3}笔" in out and "发放失败3笔" in out
    # importing it twice is refused row by row
    r = vb("import", "payouts", str(ret), "--program", "STGY", "--year", "2026", data=data, today=later)
    assert r.returncode == 1 and "第3行" in r.stderr and "Traceback" not in r.stderr

    # 5. correct the two accounts that need it (a household sheet with just those), reissue
    new_cards = ("6228480099999997", "6228480088888881")
    fixed = [
        [i + 1, row["村"], row["组"], row["户主姓名"], row["身份证号码"], "", new_cards[i], ""]
        for i, row in enumerate(rows[1:3])
    ]
    out = ok(vb("import", "households", str(_xlsx(tmp_path / "更正账号.xlsx", header, fixed)), data=data, today=later))
    assert "已更新2户" in out
    re_out = tmp_path / "重新发放.xlsx"
    out = ok(
        vb("payouts", "reissue", "--program", "STGY", "--year", "2026", "--out", str(re_out), data=data, today=later)
    )
    assert "2026-STGY-02" in out
    again = _bank_rows(re_out)
    assert {r["申报编号"] for r in again} == set(fail)
    assert {r["一卡通账号"] for r in again} >= set(new_cards)
    ok(
        vb(
            "import",
            "payouts",
            str(_fill_return(re_out, tmp_path / "回盘2.xlsx", {})),
            "--program",
            "STGY",
            "--year",
            "2026",
            data=data,
            today=later,
        )
    )
    shown = ok(vb("application", "show", rows[1]["申报编号"], data=data, today=later))
    assert "2026-STGY-01" in shown and "2026-STGY-02" in shown and "户名不符" in shown  # both attempts kept

    # 6. reconcile: numbers add up; STGY fully paid now
    rec = json.loads(ok(vb("reconcile", "--year", "2026", "--json", data=data, today=later)))
    assert rec["problems"] == []
    stgy = next(p for p in rec["programs"] if p["program_code"] == "STGY")
    assert stgy["paid"]["count"] == len(rows) and stgy["failed"]["count"] == 0

    # 7. the county sheet: the summary equals the sums of its own rows
    county = tmp_path / "报县.xlsx"
    ok(vb("export", "county", "--year", "2026", "--out", str(county), data=data, today=later))
    wb = load_workbook(county)
    s_rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    d_rows = [list(r) for r in wb.worksheets[1].iter_rows(values_only=True)]
    d_head, s_head = d_rows[1], s_rows[1]
    paid: dict[tuple[str, str], int] = defaultdict(int)
    due: dict[tuple[str, str], int] = defaultdict(int)
    for r in d_rows[2:]:
        if not (r[0] and str(r[0]).startswith("2026-")):
            continue
        d = dict(zip(d_head, r, strict=True))
        if d["审核状态"] == "通过":
            due[(d["村"], d["项目代码"])] += round(d["金额"] * 100)
        if d["发放状态"] == "已发放":
            paid[(d["村"], d["项目代码"])] += round(d["金额"] * 100)
    lines = [dict(zip(s_head, r, strict=True)) for r in s_rows[2:] if r[2]]
    assert {(x["村"], x["项目代码"]) for x in lines} == set(due)
    for x in lines:
        assert round(x["应发金额"] * 100) == due[(x["村"], x["项目代码"])]
        assert round(x["已发放金额"] * 100) == paid[(x["村"], x["项目代码"])]
    total = next(dict(zip(s_head, r, strict=True)) for r in s_rows if r[0] == "合计")
    assert round(total["已发放金额"] * 100) == sum(paid.values()) == rec["township"]["paid"]["amount_fen"]

    # 8. everything is on record and intact
    out = ok(vb("check", data=data, today=later))
    assert "检查通过" in out


def test_bad_import_exits_1_with_row_column_reason_and_writes_the_errors_sheet(demo_dir: Path, tmp_path: Path) -> None:
    sheet = _xlsx(
        tmp_path / "错表.xlsx",
        ["村", "组", "户主姓名", "身份证号码", "联系电话"],
        [
            ["东沟村", "一组", "张Ｘ", _id(11), ""],
            ["东沟村", "一组", "李好", _id(12)[:-1] + "0" if _id(12)[-1] != "0" else _id(12)[:-1] + "1", ""],
            ["东沟村", "一组", "王好", _id(13), "12345"],
        ],
    )
    errors = tmp_path / "错表-错误原因.xlsx"
    r = vb("import", "households", str(sheet), "--errors-out", str(errors), data=demo_dir)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert any(x.startswith("第3行 “户主姓名”") for x in lines)
    assert any(x.startswith("第4行 “身份证号码”") and "校验位" in x for x in lines)
    assert any(x.startswith("第5行 “联系电话”") for x in lines)
    assert errors.exists() and "错误原因" in r.stderr
    r = vb("import", "households", str(tmp_path / "nothing.xlsx"), data=demo_dir)
    assert r.returncode == 1 and "找不到文件" in r.stderr
    r = vb("import", "payouts", str(sheet), data=demo_dir)  # --program is required
    assert r.returncode == 2 and "命令用法有误" in r.stderr
    assert ok(vb("check", data=demo_dir))


def test_program_application_and_flag_commands(demo_dir: Path, tmp_path: Path) -> None:
    d = demo_dir
    out = ok(
        vb(
            "program",
            "add",
            "--code",
            "YMBZ",
            "--year",
            "2026",
            "--name",
            "玉米生产者补贴",
            "--unit",
            "亩",
            "--rate",
            "123.45",
            "--hotline",
            "0357-5221234",
            data=d,
        )
    )
    assert "申报指南缺" in out  # eligibility, procedure, materials, office still empty
    out = ok(
        vb(
            "program",
            "edit",
            "YMBZ",
            "--year",
            "2026",
            "--eligibility",
            "实际种植玉米的农户",
            "--procedure",
            "村申报镇审核",
            "--materials",
            "身份证",
            "--office",
            "镇农业中心",
            data=d,
        )
    )
    assert "申报指南完整" in out
    listed = json.loads(ok(vb("program", "list", "--year", "2026", "--json", data=d)))
    assert next(p for p in listed if p["code"] == "YMBZ")["rate_fen"] == 12345
    r = vb("program", "add", "--code", "x", "--name", "坏", "--rate", "abc", data=d)
    assert r.returncode == 1 and "补贴标准" in r.stderr

    out = ok(
        vb(
            "application",
            "add",
            "--id",
            _first_id(d),
            "--program",
            "YMBZ",
            "--year",
            "2026",
            "--quantity",
            "2.5",
            data=d,
        )
    )
    app = out.split("：", 1)[1].split()[0]
    assert "308.63元" in out  # 2.5 × 123.45 = 308.625, rounded half up
    ok(vb("application", "edit", app, "--quantity", "3", data=d))
    r = vb("application", "status", app, "通过", data=d)
    assert r.returncode == 1 and "下一步只能是“村审核”" in r.stderr
    r = vb("application", "status", app, "不通过", data=d)
    assert r.returncode == 1 and "原因" in r.stderr
    ok(vb("application", "status", app, "不通过", "--reason", "未种植玉米", data=d))
    ok(vb("application", "void", app, "--reason", "录入错误", data=d))

    flags = json.loads(ok(vb("flags", "--year", "2026", "--json", data=d)))
    assert flags and {"kind", "app_id", "message"} <= set(flags[0])
    target = flags[0]
    out = ok(vb("flag", "clear", target["app_id"], "--kind", target["label"], "--note", "经核实情况属实", data=d))
    assert "已记下核实情况" in out
    after = json.loads(ok(vb("flags", "--year", "2026", "--json", data=d)))
    cleared = next(f for f in after if f["app_id"] == target["app_id"] and f["kind"] == target["kind"])
    assert cleared["cleared"]["note"] == "经核实情况属实"
    r = vb("flag", "clear", target["app_id"], "--kind", target["kind"], "--note", "", data=d)
    assert r.returncode == 1
    ok(vb("export", "flags", "--year", "2026", "--out", str(tmp_path / "flags.xlsx"), data=d))
    assert ok(vb("check", data=d))


def _household_ids(data: Path, id_numbers: list[str]) -> set[int]:
    from villageboard.services import Services

    with Services.open(data, readonly=True) as svc:
        return {svc.registry.by_id_number(x).id for x in id_numbers}


def _first_id(data: Path) -> str:
    from villageboard.services import Services

    with Services.open(data, readonly=True) as svc:
        return next(h.id_number for h in svc.registry.households() if h.status == "active")


def test_templates_command_writes_both_blank_sheets(demo_dir: Path, tmp_path: Path) -> None:
    out = ok(vb("templates", "--out", str(tmp_path / "模板"), data=demo_dir))
    names = sorted(p.name for p in (tmp_path / "模板").iterdir())
    assert names == ["农户导入模板.xlsx", "申报导入模板.xlsx"]
    assert "已写出" in out


def test_templates_command_fills_next_year_from_this_years_land(demo_dir: Path, tmp_path: Path) -> None:
    from villageboard.io.headers import APPLICATION_FIELDS
    from villageboard.io.tables import read_table
    from villageboard.services import Services

    with Services.open(demo_dir, readonly=True) as svc:
        h = next(
            h
            for h in svc.registry.households()
            if h.status == "active" and svc.applications.existing(2026, h.id, "GDDL") is None
        )
    src = _xlsx(
        tmp_path / "land.xlsx",
        ["户主姓名", "身份证号码", "确权面积", "核减面积", "扣除原因"],
        [[h.name, h.id_number, "6", "1", "修路占地"]],
    )
    ok(vb("import", "applications", str(src), "--program", "GDDL", "--year", "2026", data=demo_dir))
    out = ok(
        vb("templates", "--out", str(tmp_path / "next"), "--from-year", "2026", "--program", "GDDL", data=demo_dir)
    )
    [path] = (tmp_path / "next").iterdir()
    assert path.name == "申报导入模板-2027年耕地地力保护补贴.xlsx" and "年度已改为2027年" in out
    table = read_table(path, APPLICATION_FIELDS)
    row = next(r.values for r in table.rows if r.values["id_number"] == h.id_number)
    # last year's rows start on row 2: no example row to skip, so no notice about one
    assert table.rows[0].row_number == 2 and not [p for p in table.problems if "示例" in p.reason]
    assert (row["certified_area"], row["deducted_area"], row["deduction_reason"], row["year"]) == (
        "6",
        "1",
        "修路占地",
        "2027",
    )
    r = vb("templates", "--out", str(tmp_path / "x"), "--from-year", "2026", data=demo_dir)
    assert r.returncode != 0 and "--program" in r.stderr and "Traceback" not in r.stderr
