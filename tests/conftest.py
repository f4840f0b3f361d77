"""Shared fixtures: a frozen date, a throwaway data dir, and a small demo township built
once per session and copied for each test that needs one."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import filelock
import pytest
from hypothesis import HealthCheck, settings

TODAY = dt.date(2026, 11, 28)
DEMO_HOUSEHOLDS = 240
DEMO_VILLAGES = 4

# Hypothesis: no deadline (the machine may be busy; timings live in bench/), no example
# database left in the checkout, and the example count of a test that does not set its
# own: fewer in the default run, more in the slow one (pytest -m slow), or as chosen by
# HYPOTHESIS_PROFILE=default|slow. Tests that set a count have a slow variant beside them.
settings.register_profile(
    "default", max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("slow", settings.get_profile("default"), max_examples=500)


def pytest_configure(config: pytest.Config) -> None:
    slow_run = (config.getoption("markexpr", "") or "").strip() == "slow"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("slow" if slow_run else "default"))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for ``-n auto``: half as many again as the cores this process may use.
    A Pilot test spends about a third of its time waiting (for the app's refresh timers,
    for fsync), and a worker more fills those waits: on 2 cores the TUI-heavy files ran
    11–20 % faster with 3 workers than with 2, side by side."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores + cores // 2)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real user data directory; dates are frozen for the CLI."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("VILLAGEBOARD_HOME", str(home))
    monkeypatch.setenv("VILLAGEBOARD_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("VILLAGEBOARD_TODAY", TODAY.isoformat())
    monkeypatch.setenv("VILLAGEBOARD_AUTO_BACKUP", "0")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The demo township every copy is taken from (never opened for writing by a test).
    Under pytest-xdist the workers of one run share a single build: the first to come
    builds it while the others wait on a lock."""
    from villageboard.services.demo import build_demo

    run_dir = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        run_dir = run_dir.parent  # this run's folder, shared by its workers
    root = run_dir / "demo-template" / "data"
    built = root.parent / "built"
    with filelock.FileLock(str(run_dir / "demo-template.lock")):
        if not built.exists():
            shutil.rmtree(root.parent, ignore_errors=True)  # a build a failed worker left half done
            build_demo(root, households=DEMO_HOUSEHOLDS, villages=DEMO_VILLAGES, seed=7, today=TODAY).close()
            built.touch()
    return root


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo township."""
    dest = tmp_path / "data"
    shutil.copytree(demo_template, dest)
    return dest


@pytest.fixture
def svc(demo_dir: Path):
    from villageboard.services import Services

    s = Services.open(demo_dir, today=TODAY, operator="测试")
    yield s
    s.close()


@pytest.fixture
def empty_svc(tmp_path: Path):
    from villageboard.domain.models import Township
    from villageboard.services import Services
    from villageboard.services.township import init_township

    init_township(
        tmp_path / "data",
        Township(name="岳阳镇", county="古县", code="141025", hotline="0357-5221234"),
        operator="测试",
    ).close()
    s = Services.open(tmp_path / "data", today=TODAY, operator="测试")
    yield s
    s.close()
