"""The set-up commands, run as a clerk would, in a real subprocess."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import TODAY


def vb(*args: str, data: Path | None = None, today: dt.date = TODAY) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "villageboard"]
    if data is not None:
        cmd += ["--data-dir", str(data)]
    env = dict(os.environ, VILLAGEBOARD_TODAY=today.isoformat())
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=300, env=env)


def test_demo_then_check(tmp_path: Path) -> None:
    data = tmp_path / "d"
    r = vb("demo", "--households", "150", "--villages", "3", data=data)
    assert r.returncode == 0, r.stderr
    assert "演示乡镇已生成" in r.stdout
    r = vb("check", data=data)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "检查通过" in r.stdout


def test_demo_refuses_non_empty_dir(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "notes.txt").write_text("keep me", encoding="utf-8")
    r = vb("demo", data=data)
    assert r.returncode == 1
    assert "已经有内容" in r.stderr
    assert "Traceback" not in r.stderr
    assert (data / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_demo_is_deterministic(tmp_path: Path) -> None:
    from villageboard.services import Services

    names = []
    for n in range(2):
        data = tmp_path / f"d{n}"
        assert vb("demo", "--households", "60", "--villages", "2", "--seed", "5", data=data).returncode == 0
        with Services.open(data, readonly=True) as svc:
            names.append([(h.name, h.id_number, h.card_account) for h in svc.registry.households()])
    assert names[0] == names[1]


def test_init_makes_empty_registry(tmp_path: Path) -> None:
    data = tmp_path / "d"
    r = vb(
        "init", "--township", "岳阳镇", "--county", "古县", "--code", "141025", "--hotline", "0357-5221234", data=data
    )
    assert r.returncode == 0, r.stderr
    from villageboard.services import Services

    with Services.open(data) as svc:
        assert svc.township.name == "岳阳镇"
        assert len(svc.township.tag_key) == 64
        assert svc.registry.count() == 0
    assert vb("check", data=data).returncode == 0


def test_init_rejects_bad_input_with_chinese_reasons(tmp_path: Path) -> None:
    r = vb("init", "--township", "岳", "--county", "古县", "--code", "12", "--hotline", "123", data=tmp_path / "d")
    assert r.returncode == 1
    assert "乡镇名称" in r.stderr and "代码" in r.stderr and "咨询电话" in r.stderr
    assert not (tmp_path / "d" / "villageboard.json").exists()


def test_usage_error_exits_2_in_chinese(tmp_path: Path) -> None:
    r = vb("restore", data=tmp_path / "d")
    assert r.returncode == 2
    assert "命令用法有误" in r.stderr


def test_commands_on_missing_data_dir_explain_what_to_do(tmp_path: Path) -> None:
    r = vb("backup", "--out", str(tmp_path / "b.zip"), data=tmp_path / "nothing")
    assert r.returncode == 1
    assert "villageboard init" in r.stderr and "villageboard demo" in r.stderr


def test_backup_restore_round_trips_exactly(tmp_path: Path, demo_dir: Path) -> None:
    def snapshot(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"
        }

    out = tmp_path / "backup.zip"
    assert vb("backup", "--out", str(out), data=demo_dir).returncode == 0
    before = snapshot(demo_dir)  # after the open that archived any ended notice
    assert before == {n: zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist()}
    assert zipfile.ZipFile(out).testzip() is None
    # change something, then restore
    from villageboard.services import Services

    with Services.open(demo_dir, today=TODAY) as svc:
        h = svc.registry.households()[0]
        svc.registry.update_household(h.id, {"remark": "改动"})
    assert snapshot(demo_dir) != before
    r = vb("restore", str(out), data=demo_dir)
    assert r.returncode == 0, r.stderr
    assert "自动备份" in r.stdout
    assert snapshot(demo_dir) == before
    assert vb("check", data=demo_dir).returncode == 0


def test_restore_refuses_a_bad_backup(tmp_path: Path, demo_dir: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    r = vb("restore", str(bad), data=demo_dir)
    assert r.returncode == 1
    assert "不是有效的备份文件" in r.stderr
    assert vb("check", data=demo_dir).returncode == 0


def test_damaged_file_is_named_and_backup_offered(tmp_path: Path, demo_dir: Path) -> None:
    assert vb("backup", "--out", str(tmp_path / "x.zip"), data=demo_dir).returncode == 0
    from villageboard.services import Services
    from villageboard.store.backup import make_backup

    with Services.open(demo_dir) as svc:
        good = make_backup(svc.store)
    reg = demo_dir / "registry.json"
    reg.write_bytes(reg.read_bytes()[:100])
    r = vb("backup", "--out", str(tmp_path / "y.zip"), data=demo_dir)
    assert r.returncode == 1
    assert "registry.json" in r.stderr and str(good) in r.stderr
    assert "Traceback" not in r.stderr
    r = vb("check", data=demo_dir)
    assert r.returncode == 1 and "registry.json" in r.stdout


def test_check_reports_a_killed_save_as_finished(tmp_path: Path, demo_dir: Path, monkeypatch) -> None:
    """A crash after the journal append is finished by the next command."""
    from villageboard.services import Services
    from villageboard.store import storage

    svc = Services.open(demo_dir, today=TODAY)
    h = svc.registry.households()[0]
    store = svc.store
    seq = store.journal.last_seq

    def killed(path: Path, data: bytes) -> None:  # the first data file written: the power goes
        raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(storage, "write_file", killed)
        try:
            svc.registry.update_household(h.id, {"remark": "断电前最后一笔"})
        except KeyboardInterrupt:
            pass
    assert store.journal.last_seq == seq + 1  # the journal has it; the files do not
    store.journal.close()
    store.lock.release()
    r = vb("check", data=demo_dir)
    assert r.returncode == 0, r.stdout
    with Services.open(demo_dir) as svc2:
        assert svc2.registry.household(h.id).remark == "断电前最后一笔"


def test_demo_flag_points_commands_at_the_demo_township(tmp_path: Path, demo_template: Path) -> None:
    """`villageboard --demo verify …` and every other command look where the demo app does."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(demo_template, home / "demo")
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat(), VILLAGEBOARD_HOME=str(home))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "villageboard", *args], capture_output=True, text=True, timeout=300, env=env
        )

    plain = run("notice", "list")
    assert plain.returncode == 1 and "不是本程序的数据文件夹" in plain.stderr, plain.stderr
    listed = run("--demo", "notice", "list")
    assert listed.returncode == 0, listed.stderr
    code = listed.stdout.split()[0]
    forged = run("--demo", "verify", code, "AAAA-AAAA-AAAA-AAAA")  # found in the demo, and refused
    assert forged.returncode != 0 and "不是本程序的数据文件夹" not in forged.stderr, forged.stderr
    assert code in forged.stdout + forged.stderr, forged.stdout + forged.stderr
    assert run("--demo", "check").returncode == 0
