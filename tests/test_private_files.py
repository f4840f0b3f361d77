"""Files that hold people's numbers are for this user only, under the usual umask 022:
the data dir, the cache and the backup folder are 0700; their files, backups, internal
exports and the error log are 0600. Posters are public on purpose and stay readable.
The error log keeps where a failure happened, never what the clerk typed."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TODAY
from tests.order_support import review
from tests.test_cli_core import vb
from tests.test_cli_money import _first_id
from villageboard.services import Services

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def loose(root: Path) -> list[str]:
    """Everything under ``root`` (itself included) that is not 0700 / 0600."""
    bad = [] if mode(root) == 0o700 else [f"{oct(mode(root))} {root}"]
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            if mode(Path(dirpath, d)) != 0o700:
                bad.append(f"{oct(mode(Path(dirpath, d)))} {dirpath}/{d}")
        for f in files:
            if mode(Path(dirpath, f)) != 0o600:
                bad.append(f"{oct(mode(Path(dirpath, f)))} {dirpath}/{f}")
    return bad


def ok(r) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_init_and_every_save_keep_the_data_dir_and_cache_private(tmp_path: Path) -> None:
    data = tmp_path / "镇" / "data"
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
    assert loose(data) == []
    assert loose(Path(os.environ["VILLAGEBOARD_CACHE"])) == []
    ok(
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
            "12.5",
            "--hotline",
            "0357-5221234",
            data=data,
        )
    )
    assert loose(data) == []


def test_an_older_world_readable_data_dir_is_closed_on_open(demo_dir: Path) -> None:
    demo_dir.chmod(0o755)
    ok(vb("application", "list", "--year", "2026", "--json", data=demo_dir))
    assert mode(demo_dir) == 0o700


def test_saves_backups_and_internal_exports_are_private_posters_are_public(demo_dir: Path, tmp_path: Path) -> None:
    d = demo_dir
    ok(vb("application", "add", "--id", _first_id(d), "--program", "STGY", "--year", "2026", "--quantity", "1", data=d))
    with Services.open(d, today=TODAY, operator="测试") as svc:
        review(svc, "STGY")  # something to send to the bank
    out = tmp_path / "交出去"
    ok(vb("backup", "--out", str(out / "备份.zip"), data=d))
    ok(vb("export", "county", "--year", "2026", "--out", str(out / "报县.xlsx"), data=d))
    ok(
        vb(
            "export",
            "bank",
            "--program",
            "STGY",
            "--year",
            "2026",
            "--out",
            str(out / "银行.xlsx"),
            "--without-notice",
            "县里统一发放，申报公示已在县平台公示",
            data=d,
        )
    )  # the order itself: test_work_order.py
    ok(vb("call", "figures", "--year", "2026", "--out", str(out / "来电.xlsx"), data=d))
    for name in ("备份.zip", "报县.xlsx", "银行.xlsx", "来电.xlsx"):
        assert mode(out / name) == 0o600, name
    # new journal segments, partitions and derived caches written by those commands
    fresh = [p for p in d.rglob("*") if p.is_file() and p.stat().st_mtime >= (out / "备份.zip").stat().st_mtime - 60]
    assert fresh and all(mode(p) == 0o600 for p in fresh)
    notices = json.loads(ok(vb("notice", "list", "--json", data=d)))
    code = next(n["code"] for n in notices if n["state"] in ("posted", "ended", "archived"))
    ok(vb("notice", "render", code, "--out", str(tmp_path / "张贴"), "--format", "html", data=d))
    posters = list((tmp_path / "张贴").iterdir())
    assert posters and all(mode(p) == 0o644 for p in posters)  # passed the gate; made for sharing


def test_the_standard_backup_folder_is_private(svc, demo_dir: Path) -> None:
    from villageboard.locations import backups_dir
    from villageboard.store.backup import make_backup

    path = make_backup(svc.store, reason="测试")
    assert mode(backups_dir(demo_dir)) == 0o700 and mode(path) == 0o600


SECRET_BIRTH = "1976-06-13"
SECRET_NAME = "欧阳春花"


def test_the_error_log_is_private_and_records_no_personal_values(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import villageboard.cli.phone as phone
    from villageboard.cli.main import main

    def failing_lookup(args) -> int:
        query = " ".join(args.query)
        born = args.birth
        raise ValueError(f"nothing for {query} born {born}")

    monkeypatch.setattr(phone, "cmd_lookup", failing_lookup)
    rc = main(["--data-dir", str(demo_dir), "lookup", SECRET_NAME, "--birth", SECRET_BIRTH])
    assert rc == 3
    err = capsys.readouterr().err
    cache = Path(os.environ["VILLAGEBOARD_CACHE"])
    log = cache / "error.log"
    assert str(log) in err and "Traceback" not in err
    assert mode(log) == 0o600 and mode(cache) == 0o700
    text = log.read_text(encoding="utf-8")
    assert "ValueError" in text and "failing_lookup" in text and "命令 lookup" in text
    for secret in (SECRET_BIRTH, SECRET_NAME, "nothing for", str(demo_dir)):
        assert secret not in text
    assert not (Path("/tmp") / "villageboard-error.log").exists() or SECRET_NAME not in (
        Path("/tmp") / "villageboard-error.log"
    ).read_text(encoding="utf-8", errors="replace")


def test_the_app_logs_the_same_way(tmp_path: Path) -> None:
    from villageboard.tui.errors import describe_error, log_path

    def deeper(card: str) -> None:
        raise KeyError(card)

    try:
        try:
            deeper("6217790000000000008")
        except KeyError as exc:
            raise RuntimeError(f"查询{SECRET_NAME}失败") from exc
    except RuntimeError as exc:
        shown = describe_error(exc)
    assert str(log_path()) in shown
    text = log_path().read_text(encoding="utf-8")
    assert "KeyError" in text and "RuntimeError" in text and "deeper" in text
    assert "6217790000000000008" not in text and SECRET_NAME not in text
    assert mode(log_path()) == 0o600


def test_an_older_world_readable_cache_is_closed_on_open(demo_dir: Path) -> None:
    cache = Path(os.environ["VILLAGEBOARD_CACHE"])
    cache.mkdir(exist_ok=True)
    cache.chmod(0o755)
    ok(vb("notice", "list", data=demo_dir))
    assert mode(cache) == 0o700
