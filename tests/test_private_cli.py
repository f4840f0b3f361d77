"""The issue's examples, as a clerk meets them on the command line: a remark holding a
phone, ID or card number in a disguised form is refused at entry (or kept masked with
--mask-private), a notice whose records were smuggled a number is not posted, and
what is posted prints with nothing to find."""

from __future__ import annotations

import json
from pathlib import Path

from stdnum.cn import ric

from tests.conftest import TODAY
from tests.test_cli_core import vb
from tests.test_privacy_sweep import digits_of, scan
from villageboard.services import Services

_body = "11010519491231002"
ID = _body + ric.calc_check_digit(_body + "0")
CARD = "6222021234567890128"
DISGUISED = {
    "电话138.0013.8000": "13800138000",
    "138/0013/8000": "13800138000",
    "(138)0013-8000": "13800138000",
    "电话1\u00ad38\u00ad0013\u00ad8000": "13800138000",
    f"身份证{ID[:6]}.{ID[6:14]}.{ID[14:]}": ID,
    "卡号" + ",".join(CARD[i : i + 4] for i in range(0, len(CARD), 4)): CARD,
    "代领人电话一三八〇〇一三八〇〇〇": "13800138000",
}


def _free_households(data: Path, n: int) -> tuple[str, str, list[int]]:
    """A village and program with no application notice yet, and ``n`` households
    that have not applied for it."""
    with Services.open(data, today=TODAY) as svc:
        for p in svc.programs.list(TODAY.year):
            for v in svc.registry.villages():
                if any(
                    x.village_id == v.id and x.program_code == p.code and x.kind == "application"
                    for x in svc.notices.all(TODAY.year)
                ):
                    continue
                free = [
                    h.id
                    for h in svc.registry.households(v.id)
                    if h.status == "active" and svc.applications.existing(TODAY.year, h.id, p.code) is None
                ]
                if len(free) >= n:
                    return v.name, p.code, free[:n]
    raise AssertionError("no village without a notice")


def test_disguised_numbers_in_remarks_are_refused_or_masked_and_the_notice_prints(
    demo_dir: Path, tmp_path: Path
) -> None:
    village, program, households = _free_households(demo_dir, len(DISGUISED))
    for hid, (remark, number) in zip(households, DISGUISED.items(), strict=True):
        args = [
            "application",
            "add",
            "--household",
            str(hid),
            "--program",
            program,
            "--quantity",
            "3",
            "--remark",
            remark,
        ]
        r = vb(*args, data=demo_dir)
        out = r.stdout + r.stderr
        assert r.returncode != 0 and "备注" in out and "--mask-private" in out, out
        assert number not in out
        r = vb(*args, "--mask-private", data=demo_dir)
        assert r.returncode == 0, r.stdout + r.stderr
        assert number not in r.stdout
    r = vb("notice", "create", "--kind", "application", "--program", program, "--village", village, data=demo_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    code = r.stdout.split("：", 1)[1].split("（", 1)[0]
    r = vb("notice", "post", code, data=demo_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "out"
    r = vb("notice", "render", code, "--out", str(out), "--format", "pdf,html", data=demo_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "***********" in html  # the masked phones are on the poster
    assert scan(html) == []
    assert all(number not in digits_of(html) for number in DISGUISED.values())


def test_notice_post_refuses_what_would_not_print(demo_dir: Path) -> None:
    village, program, (hid,) = _free_households(demo_dir, 1)
    r = vb("application", "add", "--household", str(hid), "--program", program, "--quantity", "3", data=demo_dir)
    assert r.returncode == 0, r.stderr
    with Services.open(demo_dir, today=TODAY) as svc:  # as an older version let it in
        app = next(a for a in svc.applications.for_household(hid, TODAY.year) if a.program_code == program)
        app.remark = "电话138.0013.8000"
        svc.applications.save(app, "older version")
    r = vb("notice", "create", "--kind", "application", "--program", program, "--village", village, data=demo_dir)
    code = r.stdout.split("：", 1)[1].split("（", 1)[0]
    r = vb("notice", "post", code, data=demo_dir)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "不能登记张贴" in out and app.id in out and "备注" in out and "13800138000" not in out
    assert "Traceback" not in out
    listed = json.loads(vb("notice", "list", "--json", data=demo_dir).stdout)
    assert next(n for n in listed if n["code"] == code)["state"] == "draft"


def test_household_import_names_row_and_column(demo_dir: Path, tmp_path: Path) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        village = svc.registry.villages()[0].name
    sheet = tmp_path / "名册.csv"
    ids = [f"14102519900101{n:03d}" for n in (801, 802)]
    ids = [b + ric.calc_check_digit(b + "0") for b in ids]
    sheet.write_text(
        "村,组,户主姓名,身份证号,备注\n"
        f"{village},一组,钱七,{ids[0]},\n"
        f"{village},一组,孙八,{ids[1]},电话138.0013.8000\n",
        encoding="utf-8",
    )
    r = vb("import", "households", str(sheet), data=demo_dir)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "第3行 “备注”" in out and "13800138000" not in out, out
    r = vb("import", "households", str(sheet), "--mask-private", data=demo_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "已遮挡" in r.stdout
    with Services.open(demo_dir, today=TODAY) as svc:
        h = svc.registry.by_id_number(ids[1])
        assert h is not None and h.remark == "电话***********"


def test_application_json_shows_cards_and_ids_masked(demo_dir: Path) -> None:
    """`application list/show --json` is for the office's own scripts, and still masks:
    the card each payout attempt went to shows its last 4 digits only."""
    with Services.open(demo_dir, today=TODAY) as svc:
        sent = [
            a for p in svc.programs.list(TODAY.year) for a in svc.applications.list(TODAY.year, p.code) if a.attempts
        ]
        cards = {x["account"] for a in sent for x in a.attempts if x.get("account")}
        ids = {h.id_number for h in svc.registry.households()}
    assert sent and cards
    program = sent[0].program_code
    r = vb("application", "list", "--year", str(TODAY.year), "--program", program, "--json", data=demo_dir)
    assert r.returncode == 0, r.stderr
    listed = {a["id"]: a for a in json.loads(r.stdout)}
    shown = listed[sent[0].id]["attempts"]
    assert [x["account_masked"] for x in shown] == ["****" + x["account"][-4:] for x in sent[0].attempts]
    r = vb("application", "show", sent[0].id, "--json", data=demo_dir)
    assert r.returncode == 0, r.stderr
    for text in (r.stdout, json.dumps(listed, ensure_ascii=False)):
        assert not [n for n in cards | ids if n in text]
