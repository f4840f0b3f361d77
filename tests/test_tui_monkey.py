"""A keyboard monkey: random keys (screen keys, Enter, Esc, Tab, arrows, Ctrl-keys,
text) across every screen and dialog, at 80x24 and 120x40. Nothing may raise, no
internal error may happen (none is written to the error log, none is shown), and the
data must pass `villageboard check` afterwards.

Seeded and reproducible: a failure names its seed and the keys pressed since the last
check. Keys arrive as a hurried clerk types them: each is handled, with everything it
set off inside the app, before the next is sent, but nobody waits for background jobs
(a search, a count) to finish between keys. Every ``CHECK_EVERY`` keys, and at the end,
the app is let settle and checked. The default run presses 300 keys at 80x24; the slow
run (which CI runs too) presses 1,850 at each size with other seeds, one app for each
size: 4,000 keys in all."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.keys import key_to_character
from textual.message import Message
from textual.widgets import Static

from tests.conftest import TODAY
from tests.tui_support import settle
from villageboard import errorlog
from villageboard.store.check import check_data_dir
from villageboard.tui.app import VillageBoardApp, make_app
from villageboard.tui.dialogs import MessageDialog

F_KEYS = [f"f{i}" for i in range(1, 10)]
CTRL_KEYS = [f"ctrl+{c}" for c in "nstgolrfekbdyup"]
MOVES = ["tab", "shift+tab", "up", "down", "left", "right", "home", "end", "pagedown", "pageup"]
TEXT = list("zhangwei0123456789") + ["minus", "张", "伟", "李", "村", "space", "backspace"]
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
#: Keys sent only once the screen has been drawn, as a clerk presses them after seeing
#: the list: Textual's option lists (a dropdown's, the palette's) raise KeyError when
#: paged before their first layout. The palette has its own guard (``Palette``); a
#: dropdown's list is Textual's own, so its paging waits for the screen here.
LOOK_FIRST = {"pagedown", "pageup"}
#: Keys between two full checks (the app settles, the error log and the screen are read).
CHECK_EVERY = 50


def keys_for(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    groups = [g for g, _w in ALPHABET]
    weights = [w for _g, w in ALPHABET]
    return [rng.choice(rng.choices(groups, weights)[0]) for _ in range(count)]


def internal_error(app: VillageBoardApp) -> str:
    if isinstance(app.screen, MessageDialog):
        text = str(app.screen.query_one("#message-text", Static).render())
        if "程序内部出错" in text:
            return text
    return ""


def logged_errors() -> str:
    """What the app wrote to the error log (every internal error is written there)."""
    path = errorlog.log_path()
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


class KeySender:
    """Sends keys the way the terminal does (a key event to the app), then waits until
    the app has handled it and everything it set off: rounds of "run this after what
    you have queued" on the widget with the focus and those around it up to the app
    (where a key goes and comes back), until a round in which nothing else was handled
    anywhere. No sleeping and no waiting for background jobs."""

    def __init__(self, app: VillageBoardApp) -> None:
        self.app = app
        self.handled = 0

    def hook(self, message: Message) -> None:  # run_test's message_hook: every message handled
        self.handled += 1

    async def press(self, key: str) -> None:
        self.app.post_message(events.Key(key, key_to_character(key)))
        await self.quiet()

    async def quiet(self, rounds: int = 8) -> None:
        for _ in range(rounds):
            if not self.app.is_running:
                return
            before = self.handled
            loop = asyncio.get_running_loop()
            focused = self.app.focused
            nodes = [*focused.ancestors_with_self] if focused is not None else [self.app.screen, self.app]
            waits = []
            for node in nodes:
                done = loop.create_future()
                if node.call_later(_resolve, done):
                    waits.append(done)
            await asyncio.wait(waits, timeout=30)  # a crashed app answers no more; the checks say so
            if self.handled - before <= len(waits):  # nothing handled anywhere but our own calls
                return


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


async def run_monkey(
    demo_dir: Path, size: tuple[int, int], seed: int, count: int, on_key: Callable[[int], None] | None = None
) -> set[str]:
    app = make_app(demo_dir, today=TODAY)
    app.printer = lambda p: f"已送到打印机：{p.name}"
    app.animation_level = "none"  # a scroll lands at once: the same end, without the frames between
    keys = keys_for(seed, count)
    seen: set[str] = set()
    sender = KeySender(app)
    assert not logged_errors()
    async with app.run_test(size=size, message_hook=sender.hook) as pilot:
        await settle(pilot, app)
        for i, key in enumerate(keys):
            if key in LOOK_FIRST:
                await pilot.pause()
            await sender.press(key)
            seen.add(type(app.screen).__name__)
            if on_key is not None:
                on_key(i)
            if (i + 1) % CHECK_EVERY == 0 or i + 1 == len(keys):
                await settle(pilot, app)
                recent = keys[max(0, i + 1 - CHECK_EVERY) : i + 1]
                assert app.is_running, f"seed {seed}: the app stopped by key {i} (keys since the last check: {recent})"
                problem = internal_error(app) or logged_errors()
                assert not problem, f"seed {seed}, by key {i} (keys since the last check: {recent}): {problem}"
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


async def test_monkey_keys_break_nothing(demo_dir: Path, quiet_places: None) -> None:
    seen = await run_monkey(demo_dir, (80, 24), seed=20261128, count=300)
    assert {"FormDialog", "PhoneDeskScreen", "HouseholdScreen"} <= seen, seen


@pytest.mark.slow
@pytest.mark.parametrize(("size", "seed"), [((80, 24), 1), ((120, 40), 2)], ids=["80x24", "120x40"])
async def test_monkey_long_run(demo_dir: Path, quiet_places: None, size: tuple[int, int], seed: int) -> None:
    seen = await run_monkey(demo_dir, size, seed=seed, count=1850)
    assert {"FormDialog", "PhoneDeskScreen", "HouseholdScreen"} <= seen, seen
