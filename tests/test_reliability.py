"""Reliability promises of DESIGN.md §8 beyond the crash suite: write failures, two
processes, backups, damage through the CLI, encodings."""

from __future__ import annotations

import datetime as dt
import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import TODAY
from villageboard.domain.errors import LockedError, StorageError
from villageboard.services import Services
from villageboard.store import storage as st
from villageboard.store.backup import KEEP, daily_backup_due, list_backups, make_backup
from villageboard.store.check import check_data_dir

REPO = Path(__file__).resolve().parent.parent


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.mark.parametrize("err,words", [(errno.ENOSPC, "磁盘空间已满"), (errno.EACCES, "没有写入权限")])
def test_write_failure_during_a_save_leaves_everything_byte_identical(
    demo_dir: Path, monkeypatch, err: int, words: str
) -> None:
    svc = Services.open(demo_dir, today=TODAY)
    h = svc.registry.households()[0]
    svc.store.checkpoint()  # the saves the open made are checkpointed, as at close
    before = snapshot(demo_dir)
    real_replace = os.replace
    calls = {"n": 0}

    real_hint = st.write_hint

    def failing_replace(src, dst):  # the second file of the save fails (a data file,
        calls["n"] += 1  # or counters or HEAD, which are overwritten in place)
        if calls["n"] == 2:
            raise OSError(err, os.strerror(err))
        return real_replace(src, dst)

    def failing_hint(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise st.storage_error(path, OSError(err, os.strerror(err)))
        real_hint(path, data)

    monkeypatch.setattr(st.os, "replace", failing_replace)
    monkeypatch.setattr(st, "write_hint", failing_hint)
    with pytest.raises(StorageError) as info:
        svc.applications.add(
            h.id,
            next(
                p.code
                for p in svc.programs.list(TODAY.year)
                if svc.applications.existing(TODAY.year, h.id, p.code) is None
            ),
            TODAY.year,
            "2",
        )
    monkeypatch.setattr(st.os, "replace", real_replace)
    monkeypatch.setattr(st, "write_hint", real_hint)
    assert words in str(info.value) and "没有保存" in str(info.value)
    svc.close()
    after = snapshot(demo_dir)
    assert after == before  # data files, journal, counters, HEAD: all as they were
    assert not [p for p in demo_dir.rglob("*") if p.name.endswith(st.TMP_SUFFIX)]
    assert check_data_dir(demo_dir) == []


def test_two_processes_saving_at_once_one_is_refused_and_nothing_is_lost(demo_dir: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, datetime as dt
        from villageboard.services import Services
        from villageboard.domain.errors import LockedError
        try:
            svc = Services.open(r"{demo_dir}", today=dt.date.fromisoformat("{TODAY}"))
        except LockedError:
            print("refused", flush=True); sys.exit(0)
        print("writer", flush=True)
        hs = svc.registry.households()[:40]
        for i, h in enumerate(hs):
            svc.registry.update_household(h.id, {{"remark": sys.argv[1] + str(i)}})
        sys.stdin.read()  # keep the data open until the test has heard from both
        svc.close()
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, tag], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        for tag in ("A", "B")
    ]
    roles = [p.stdout.readline().strip() for p in procs]  # each has tried to open by now
    outs = [(role + p.communicate(timeout=120)[0]).strip() for role, p in zip(roles, procs, strict=True)]
    assert sorted(outs) == ["refused", "writer"], outs
    winner = "AB"[outs.index("writer")]
    with Services.open(demo_dir, today=TODAY) as svc:
        remarks = [h.remark for h in svc.registry.households()[:40]]
    assert remarks == [f"{winner}{i}" for i in range(40)]
    assert check_data_dir(demo_dir) == []


def test_a_second_app_or_cli_is_refused_with_a_clear_message(demo_dir: Path) -> None:
    holder = Services.open(demo_dir, today=TODAY)
    try:
        with pytest.raises(LockedError):
            Services.open(demo_dir)
        env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
        r = subprocess.run(
            [sys.executable, "-m", "villageboard", "--data-dir", str(demo_dir), "notice", "post", "141025-2026-0001"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert r.returncode == 1 and "正被另一个窗口或命令使用" in r.stderr and "Traceback" not in r.stderr
        # reading still works alongside
        r = subprocess.run(
            [sys.executable, "-m", "villageboard", "--data-dir", str(demo_dir), "notice", "list", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert r.returncode == 0
    finally:
        holder.close()


def test_backups_keep_the_last_30_and_a_daily_one_is_due(demo_dir: Path) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        assert daily_backup_due(demo_dir, dt.date.today())
        for _ in range(KEEP + 3):
            make_backup(svc.store)
        assert len(list_backups(demo_dir)) == KEEP
        assert not daily_backup_due(demo_dir, dt.date.today())


def test_restore_takes_a_backup_first(demo_dir: Path, tmp_path: Path) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        first = make_backup(svc.store, out=tmp_path / "first.zip")
        svc.registry.update_household(svc.registry.households()[0].id, {"remark": "恢复前的修改"})
    n_before = len(list_backups(demo_dir))
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    r = subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(demo_dir), "restore", str(first)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert len(list_backups(demo_dir)) == n_before + 1
    # the automatic backup holds the change the restore undid
    import zipfile

    newest = list_backups(demo_dir)[-1]
    with zipfile.ZipFile(newest) as zf:
        assert any("恢复前的修改".encode() in zf.read(n) for n in zf.namelist() if n.startswith("households/"))


def test_text_round_trips_under_c_and_gbk_locales(demo_dir: Path) -> None:
    with Services.open(demo_dir, today=TODAY) as svc:
        h = svc.registry.households()[0]
        svc.registry.update_household(h.id, {"name": "𠮷田·阿依古丽"})
    for lang in ("C", "zh_CN.GBK"):
        env = dict(os.environ, LANG=lang, LC_ALL=lang, PYTHONIOENCODING="", VILLAGEBOARD_TODAY=TODAY.isoformat())
        env.pop("PYTHONUTF8", None)
        r = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
            from villageboard.services import Services
            with Services.open(r"{demo_dir}", readonly=True) as svc:
                n = svc.registry.household({h.id}).name
            open(r"{demo_dir.parent / "name.txt"}", "w", encoding="utf-8").write(n)
        """),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        assert (demo_dir.parent / "name.txt").read_text(encoding="utf-8") == "𠮷田·阿依古丽"
