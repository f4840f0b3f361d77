"""The progress line of a slow job (import, batch posters, backup): what it does, a
progress bar and the key that cancels it. Hidden when nothing runs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class JobPanel(Horizontal):
    def compose(self) -> ComposeResult:
        yield Label("", id="job-title", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="job-bar")
        yield Label("", id="job-what", markup=False)
        yield Label("Esc 取消", id="job-cancel")

    def start(self, title: str, total: int | None = None) -> None:
        self.query_one("#job-title", Label).update(title)
        self.query_one("#job-what", Label).update("")
        bar = self.query_one(ProgressBar)
        bar.update(total=total, progress=0)
        self.add_class("-running")

    def step(self, done: int, total: int, what: str = "") -> None:
        bar = self.query_one(ProgressBar)
        if total <= 0:  # a step of unknown length: the bar keeps moving
            bar.update(total=None)
        else:
            bar.update(total=total, progress=done)
        self.query_one("#job-what", Label).update(what)

    def stop(self) -> None:
        self.remove_class("-running")
