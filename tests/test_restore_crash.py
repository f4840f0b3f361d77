"""A restore killed at every step (named kill points, then random instants): the next
open finishes the swap or leaves the old data, says which, and the data dir passes
``check`` holding exactly the old or the restored data."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from villageboard.domain.errors import LockedError
from villageboard.services import Services
from villageboard.store.backup import write_backup
from villageboard.store.check import check_data_dir

from .conftest import TODAY

REPO = Path(__file__).resolve().parent.parent


def _state(root: Path) -> dict[str, str]:
    """Every data file's digest (the start-up check's work folders and lock aside)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        if Path(dirpath) == root:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            p = Path(dirpath, name)
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def setup(demo_dir: Path, tmp_path: Path):
    """(old data dir template, backup of the other state, old state, new state)."""
    Services.open(demo_dir, today=TODAY, operator="测试").close()  # the open hooks' saves, done once
    backup = write_backup(demo_dir, tmp_path / "b.zip").path
    new_state = _state(demo_dir)
    with Services.open(demo_dir, today=TODAY, operator="测试") as svc:  # the data moves on
        with svc.store.begin("test.change") as tx:
            tx.insert("years/2026/objections.json", "objections", "objection", {"text": "恢复之后不该有"})
    old_state = _state(demo_dir)
    assert old_state != new_state
    template = tmp_path / "old"
    shutil.copytree(demo_dir, template, ignore=shutil.ignore_patterns(".lock"))
    return template, backup, old_state, new_state


def _restore_proc(data: Path, backup: Path, env_extra: dict[str, str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), **env_extra)
    return subprocess.Popen(
        [sys.executable, "-m", "villageboard", "--data-dir", str(data), "restore", str(backup)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lock_holders(data: Path) -> list[str]:
    """The processes that have the data dir's writer lock file open ("pid command")."""
    target = str((data / ".lock").resolve())
    found = []
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == target for fd in fds.iterdir()):
                cmd = (fds.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{fds.parent.name} {cmd.strip()}")
        except OSError:
            continue
    return found


def _open_after_kill(data: Path) -> Services:
    """Open as the app does after a crash. A process the killed one started may still
    hold the writer lock for a moment (the clerk would be told the data is in use and
    try again); the open waits for such a holder to end, and fails at once when the
    lock is refused with no process holding the file."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return Services.open(data, today=TODAY, operator="测试", run_open_hooks=False)
        except LockedError:
            holders = _lock_holders(data)
            assert holders and time.monotonic() < deadline, f"the lock is refused; holders: {holders}"
            time.sleep(0.05)


def _after_kill(data: Path, old: dict[str, str], new: dict[str, str]) -> tuple[str, list[str]]:
    """Open as the app does after a crash; return which data it holds and what it said."""
    with _open_after_kill(data) as svc:
        said = list(svc.open_messages)
    assert check_data_dir(data) == []
    state = _state(data)
    leftovers = [p.name for p in data.iterdir() if p.name.startswith((".restore", ".backup"))]
    assert leftovers == [], leftovers
    if state == old:
        return "old", said
    assert state == new, sorted(set(state.items()) ^ set(new.items()))[:5]
    return "new", said


def _named_kills(setup, tmp_path: Path, every_step: bool) -> None:
    """Kill the restore at its named steps: every one, or the first and the last time
    it passes each name (each kind of step, and the last of each repeated one)."""
    template, backup, old, new = setup
    trace = tmp_path / "trace.txt"
    data = tmp_path / "traced"
    shutil.copytree(template, data)
    p = _restore_proc(data, backup, {"VILLAGEBOARD_KILL_TRACE": str(trace)})
    assert p.wait(timeout=120) == 0, p.stderr.read()
    steps = trace.read_text("utf-8").split()
    assert "restore.marker#1" in steps and "restore.place-new#3" in steps and "restore.move-old#3" in steps
    marker = next(i for i, step in enumerate(steps) if step.startswith("restore.marker"))
    names = [step.split("#")[0] for step in steps]
    ends = {names.index(n) for n in names} | {len(names) - 1 - names[::-1].index(n) for n in names}
    chosen = range(len(steps)) if every_step else sorted(ends)
    assert every_step or len(chosen) < len(steps)
    for i in chosen:
        step = steps[i]
        data = tmp_path / f"k-{step.replace('#', '-')}"
        shutil.copytree(template, data)
        p = _restore_proc(data, backup, {"VILLAGEBOARD_KILL_AT": step})
        rc = p.wait(timeout=120)
        assert rc == -signal.SIGKILL, (step, rc, p.stderr.read())
        which, said = _after_kill(data, old, new)
        swapped = i >= marker
        assert which == ("new" if swapped else "old"), step
        if swapped and not step.startswith(("restore.cache", "restore.done")):
            assert any("已接着把恢复做完" in m for m in said), (step, said)
        elif not swapped and step != "restore.extracted#1":
            assert any("恢复没有进行" in m for m in said), (step, said)
        shutil.rmtree(data)


def test_restore_killed_at_each_kind_of_step(setup, tmp_path: Path) -> None:
    _named_kills(setup, tmp_path, every_step=False)


@pytest.mark.slow
def test_restore_killed_at_every_step(setup, tmp_path: Path) -> None:
    _named_kills(setup, tmp_path, every_step=True)


def _timed_kills(setup, tmp_path: Path, rounds: int) -> None:
    template, backup, old, new = setup
    data = tmp_path / "timing"
    shutil.copytree(template, data)
    start = time.monotonic()
    p = _restore_proc(data, backup, {})
    assert p.wait(timeout=120) == 0
    full = time.monotonic() - start
    rng = random.Random(1234)
    seen = set()
    for i in range(rounds):
        data = tmp_path / f"t{i}"
        shutil.copytree(template, data)
        p = _restore_proc(data, backup, {})
        time.sleep(rng.uniform(0.3, 1.0) * full)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        which, _said = _after_kill(data, old, new)
        seen.add(which)
        shutil.rmtree(data)
    assert seen <= {"old", "new"}


def test_restore_killed_at_random_instants(setup, tmp_path: Path) -> None:
    _timed_kills(setup, tmp_path, rounds=4)


@pytest.mark.slow
def test_restore_killed_at_random_instants_long(setup, tmp_path: Path) -> None:
    _timed_kills(setup, tmp_path, rounds=40)


def test_a_reader_waits_for_an_interrupted_restore(setup, tmp_path: Path) -> None:
    from villageboard.domain.errors import VBError

    template, backup, old, new = setup
    data = tmp_path / "d"
    shutil.copytree(template, data)
    p = _restore_proc(data, backup, {"VILLAGEBOARD_KILL_AT": "restore.move-old#2"})
    assert p.wait(timeout=120) == -signal.SIGKILL
    with pytest.raises(VBError, match="恢复"):
        Services.open(data, readonly=True)
    assert _after_kill(data, old, new)[0] == "new"
