"""The edges of ordinary use: a reader that stops early, long names, far dates, the
portal address, control characters."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tests.conftest import TODAY
from tests.order_support import review
from tests.test_cli_core import vb
from villageboard.services import Services


def piped_into_head(data: Path, *args: str) -> tuple[int, str, str]:
    """Run a command with its output piped into ``head -1`` that has already read its one
    line and gone: every write the command makes meets a closed pipe. Returns the
    command's own exit status, what head printed and the command's stderr."""
    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "villageboard", "--data-dir", str(data), *args])
    script = f'(echo 第一行; {cmd} 2>"$ERR") | head -1; exit "${{PIPESTATUS[0]}}"'
    err = data.parent / "stderr.txt"
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat(), ERR=str(err))
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300, env=env)
    return r.returncode, r.stdout, err.read_text(encoding="utf-8")


@pytest.mark.skipif(os.name != "posix", reason="a shell pipe")
def test_a_broken_pipe_ends_quietly_and_the_bank_batch_is_whole(demo_dir: Path, tmp_path: Path) -> None:
    rc, shown, err = piped_into_head(demo_dir, "notice", "list")
    assert (rc, shown) == (0, "第一行\n") and "程序内部出错" not in err and "Traceback" not in err
    rc, shown, err = piped_into_head(demo_dir, "--help")
    assert (rc, err) == (0, "")

    with Services.open(demo_dir, today=TODAY, operator="测试") as svc:
        review(svc, "STGY")  # something to send: reviewed, its notice on the county's platform
    bank = tmp_path / "银行.xlsx"
    rc, shown, err = piped_into_head(
        demo_dir,
        "export",
        "bank",
        "--program",
        "STGY",
        "--year",
        "2026",
        "--out",
        str(bank),
        "--without-notice",
        "县里统一发放，申报公示已在县平台公示",
    )  # the order: test_work_order.py
    assert rc == 0 and "程序内部出错" not in err and "Traceback" not in err
    rows = [r for r in load_workbook(bank).active.iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)]
    listed = json.loads(
        vb("application", "list", "--year", "2026", "--program", "STGY", "--json", data=demo_dir).stdout
    )
    batch = {r[10] for r in rows}
    assert len(batch) == 1
    sent = {a["id"] for a in listed if a["attempts"] and a["attempts"][-1]["batch"] in batch}
    assert rows and {r[1] for r in rows} == sent  # every row on the sheet is on record as sent, and only those
    again = vb(
        "export", "bank", "--program", "STGY", "--year", "2026", "--out", str(tmp_path / "再.xlsx"), data=demo_dir
    )
    assert again.returncode == 1 and "没有可以发放" in again.stderr
    assert vb("check", data=demo_dir).returncode == 0

    # a failing command keeps its failing status when its reader is gone
    rc, shown, err = piped_into_head(demo_dir, "notice", "render", "NOPE-1", "--out", str(tmp_path))
    assert rc == 1 and "Traceback" not in err


LONG_PROGRAM = "关于做好" + "高标准农田建设项目区种粮农民" * 12 + "一次性补贴"  # 178 characters, 534 bytes


def test_long_program_names_make_short_file_names_that_keep_the_code(demo_dir: Path, tmp_path: Path) -> None:
    from tests.test_cli_money import _first_id

    d = demo_dir
    ok = lambda r: (r.returncode == 0 or pytest.fail(r.stdout + r.stderr)) and r.stdout  # noqa: E731
    ok(
        vb(
            "program",
            "add",
            "--code",
            "CHANG",
            "--year",
            "2026",
            "--name",
            "\x1b[2J" + LONG_PROGRAM + "\x07",
            "--unit",
            "亩",
            "--rate",
            "10",
            "--hotline",
            "0357-5221234",
            "--eligibility",
            "种粮农民",
            "--procedure",
            "村申报镇审核",
            "--materials",
            "身份证",
            "--office",
            "镇农业中心",
            data=d,
        )
    )
    listed = json.loads(ok(vb("program", "list", "--year", "2026", "--json", data=d)))
    assert next(p for p in listed if p["code"] == "CHANG")["name"] == "[2J" + LONG_PROGRAM  # ESC and BEL gone
    ok(
        vb(
            "application",
            "add",
            "--id",
            _first_id(d),
            "--program",
            "CHANG",
            "--year",
            "2026",
            "--quantity",
            "2",
            data=d,
        )
    )
    with Services.open(d, readonly=True) as svc:
        village = svc.registry.village(svc.registry.by_id_number(_first_id(d)).village_id).name
    out = ok(vb("notice", "create", "--kind", "application", "--program", "CHANG", "--village", village, data=d))
    code = re.search(r"\d{6}-\d{4}-\d{4}", out).group(0)
    ok(vb("notice", "post", code, data=d))
    for args in (
        ("notice", "render", code, "--out", str(tmp_path / "一张"), "--format", "pdf,png,html"),
        (
            "posters",
            "--kind",
            "application",
            "--program",
            "CHANG",
            "--out",
            str(tmp_path / "全部"),
            "--format",
            "pdf,html",
        ),
    ):
        ok(vb(*args, data=d))
    written = list((tmp_path / "一张").iterdir()) + list((tmp_path / "全部").iterdir())
    assert len(written) >= 5
    for p in written:
        assert len(p.name.encode("utf-8")) <= 210 and p.name.startswith(f"{code}-v1-") and "申报公示" in p.name
    assert "\x1b" not in ok(vb("notice", "list", data=d))


@pytest.mark.parametrize("stem,archive", [("村" * 300, False), ("A" * 400, True), ("é" * 150, True)])
def test_stems_are_cut_by_bytes_keeping_code_kind_and_archive_mark(stem: str, archive: bool) -> None:
    from villageboard.domain.models import Notice
    from villageboard.render.output import STEM_BYTES, safe_stem
    from villageboard.services.posters import stem_for

    n = Notice(code="141025-2026-0042", version=3, kind="result")
    name = safe_stem(stem_for(n, {"village": "东沟村", "program": {"name": stem}}, archive))
    assert len(name.encode("utf-8")) <= STEM_BYTES
    assert name.startswith("141025-2026-0042-v3-东沟村-") and name.endswith(
        "发放结果公示" + ("-存档件" if archive else "")
    )
    assert len(safe_stem("公" * 500).encode("utf-8")) <= STEM_BYTES


@pytest.mark.parametrize(
    "args,why",
    [
        (("notice", "post", "141025-2026-0001", "--start", "9999-12-31"), "超出可用范围"),
        (("notice", "post", "141025-2026-0001", "--start", "0001-01-01"), "超出可用范围"),
        (("lookup", "张", "--birth", "9999-12-31"), "超出可用范围"),
        (("posters", "--kind", "result", "--create", "--start", "9999-01-01", "--out", "x"), "超出可用范围"),
    ],
)
def test_far_dates_are_refused_with_a_message(demo_dir: Path, args: tuple[str, ...], why: str) -> None:
    r = vb(*args, data=demo_dir)
    assert r.returncode in (1, 2) and why in r.stderr and "Traceback" not in r.stderr and "程序内部出错" not in r.stderr


def test_posting_far_ahead_is_refused_by_the_service_too(svc) -> None:
    import datetime as dt

    from villageboard.domain.errors import VBError
    from villageboard.domain.validate import check_date

    draft = next((n for n in svc.notices.all() if n.state == "draft"), None)
    if draft is None:
        village = svc.registry.villages()[0]
        draft = svc.notices.create("summary", TODAY.year, village.id)
    for start in (dt.date(9999, 12, 31), dt.date.max, TODAY + dt.timedelta(days=31)):
        with pytest.raises(VBError, match="太晚"):
            svc.notices.post(draft.code, start=start)
    assert not check_date("9999-12-31").ok and "超出可用范围" in check_date("9999年1月1日").errors[0]
    assert check_date("2026-11-28").value == TODAY


@pytest.mark.parametrize(
    "portal,good",
    [
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://", False),
        ("http://a b.cn", False),
        ("data:text/html,<b>x</b>", False),
        ("https://www.guxian.gov.cn/hy", True),
        ("HTTP://10.0.0.1:8080/v", True),
    ],
)
def test_the_portal_must_be_an_http_address(tmp_path: Path, portal: str, good: bool) -> None:
    r = vb(
        "init",
        "--township",
        "岳阳镇",
        "--county",
        "古县",
        "--code",
        "141025",
        "--hotline",
        "0357-5221234",
        "--portal",
        portal,
        data=tmp_path / "d",
    )
    assert "Traceback" not in r.stderr
    if good:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 1 and "核验网址" in r.stderr and not (tmp_path / "d").exists()


def test_the_settings_refuse_a_bad_portal_too(svc) -> None:
    from villageboard.domain.errors import ValidationFailed
    from villageboard.services.township import update_settings

    with pytest.raises(ValidationFailed, match="核验网址"):
        update_settings(svc, portal_url="javascript:location='http://x'")
    t = update_settings(svc, portal_url=" https://www.guxian.gov.cn/hy\n", name="岳阳\x1b[31m镇")
    assert (t.portal_url, t.name) == ("https://www.guxian.gov.cn/hy", "岳阳[31m镇")


def test_control_characters_never_enter_names(svc) -> None:
    from villageboard.domain.validate import check_name, strip_controls

    assert check_name("张\x1b三\u202e").value == "张三"
    assert strip_controls("a\x00b\x7fc\x9bd\u200be\u00adf\u2028g") == "abcdefg"
    assert strip_controls("第一行\n第二行\t", keep="\n") == "第一行\n第二行"
    v = svc.registry.add_village("新\x1b[1m庄村")
    assert v.name == "新[1m庄村"
    g = svc.registry.add_group(v.id, "一\x07组")
    assert g.name == "一组"


def test_forms_say_why_a_far_date_is_refused() -> None:
    from villageboard.services.ui_support import date_problem, parse_date

    assert parse_date("9999-12-31") is None and "超出可用范围" in date_problem("9999-12-31")
    assert date_problem("明天") == "日期写法不对，如 2026-11-28"
    assert parse_date("20261128") == TODAY and date_problem("2026年11月28日") == ""


def test_an_error_that_quotes_what_was_typed_never_echoes_control_characters(demo_dir: Path) -> None:
    r = vb("notice", "create", "--kind", "summary", "--village", "\x1b[2J\x1b]0;东\x07沟外村", data=demo_dir)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "沟外村" in r.stderr and not any(ch in r.stderr for ch in "\x1b\x07")


@settings(max_examples=150, deadline=None)
@given(village=st.text(max_size=120), program=st.text(max_size=300), archive=st.booleans(), version=st.integers(1, 999))
def test_any_names_give_a_short_safe_stem_with_the_code(
    village: str, program: str, archive: bool, version: int
) -> None:
    from villageboard.domain.models import Notice
    from villageboard.render.output import STEM_BYTES, safe_stem
    from villageboard.services.posters import stem_for

    n = Notice(code="141025-2026-0007", version=version, kind="application")
    stem = safe_stem(stem_for(n, {"village": village, "program": {"name": program}}, archive))
    assert len(stem.encode("utf-8")) <= STEM_BYTES
    assert stem.startswith(f"141025-2026-0007-v{version}")
    assert not any(ch in stem for ch in '\\/:*?"<>|\x00\x1b\x7f') and stem == stem.strip(" .")
