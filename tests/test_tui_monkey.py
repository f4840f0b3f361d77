"""A keyboard monkey: random keys (screen keys, Enter, Esc, Tab, arrows, Ctrl-keys,
text) across every screen and dialog, at 80x24 and 120x40. Nothing may raise, no
internal-error dialog may appear, and the data must pass `villageboard check`
afterwards.

Seeded and reproducible: a failure names its seed and the last keys. The normal run
presses 120 keys at 80x24 (120x40 joins in the slow run); the slow run (which CI runs too)
also presses 800 at each size."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard.store.check import check_data_dir
from villageboard.tui.app import make_app
from villageboard.tui.dialogs import MessageDialog

F_KEYS = [f"f{i}" for i in range(1, 10)]
CTRL_KEYS = [f"ctrl+{c}" for c in "nstgolrfekbdyup"]
MOVES = ["tab", "shift+tab", "up", "down", "left", "right", "home", "end", "pagedown", "pageup"]
TEXT = list("zhangwei0123456789-") + ["张", "伟", "李", "村", "space", "backspace"]
#: (keys, weight): Enter and Esc often, as a hurried clerk presses them.
ALPHABET = [
    (F_KEYS, 10),
    (["enter"], 14),
    (["escape"], 8),
    (CTRL_KEYS, 16),
    (MOVES, 18),
    (TEXT, 30),
    (["a", "n", "p"], 3),
]


def keys_for(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    groups = [g for g, _w in ALPHABET]
    weights = [w for _g, w in ALPHABET]
    return [rng.choice(rng.choices(groups, weights)[0]) for _ in range(count)]


def internal_error(app) -> str:  # type: ignore[no-untyped-def]
    if isinstance(app.screen, MessageDialog):
        text = str(app.screen.query_one("#message-text", Static).render())
        if "程序内部出错" in text:
            return text
    return ""


async def run_monkey(demo_dir: Path, size: tuple[int, int], seed: int, count: int) -> set[str]:
    app = make_app(demo_dir, today=TODAY)
    app.printer = lambda p: f"已送到打印机：{p.name}"
    keys = keys_for(seed, count)
    seen: set[str] = set()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        for i, key in enumerate(keys):
            await pilot.press(key)
            seen.add(type(app.screen).__name__)
            problem = internal_error(app)
            assert not problem, f"seed {seed}, key {i} ({keys[max(0, i - 12) : i + 1]}): {problem}"
        await settle(pilot, app)
        assert not internal_error(app)
    assert app.return_code in (None, 0)
    problems = check_data_dir(demo_dir)
    assert problems == [], f"seed {seed}: {problems[:5]}"
    return seen


@pytest.fixture
def quiet_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the monkey types as a path or writes (posters, backups) stays here."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("size", [(80, 24), pytest.param((120, 40), marks=pytest.mark.slow)], ids=["80x24", "120x40"])
async def test_monkey_keys_break_nothing(demo_dir: Path, quiet_places: None, size: tuple[int, int]) -> None:
    seen = await run_monkey(demo_dir, size, seed=20261128, count=120)
    assert len(seen) >= 4, seen  # it got round several screens and dialogs


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_monkey_long_run(demo_dir: Path, quiet_places: None, size: tuple[int, int]) -> None:
    seen = await run_monkey(demo_dir, size, seed=1, count=800)
    assert {"FormDialog", "PhoneDeskScreen", "HouseholdScreen"} <= seen, seen
