"""What every working screen shares: header, the screen keys, the progress line of a
slow job with its cancel key, and the footer. Slow work goes through
:meth:`VBScreen.run_job`, which runs it in a thread worker and ends in exactly one of:
the ``done`` callback, a "cancelled" notice, or one readable error dialog."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from villageboard.services.jobs import Cancel, Cancelled, Progress
from villageboard.tui.widgets import JobPanel, MessageLine, NavBar

if TYPE_CHECKING:
    from villageboard.services import Services
    from villageboard.tui.app import VillageBoardApp

T = TypeVar("T")


class VBScreen(Screen[None]):
    NAV_MODE = ""
    BINDINGS = [
        Binding(
            "escape",
            "cancel_job",
            "取消",
            id="cancel-job",
            tooltip="停止正在进行的工作（导入在保存前取消则什么也不保存）",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._jobs: dict[Worker[Any], tuple[Callable[[Any], None], threading.Event]] = {}

    # -- shape ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield NavBar(self.NAV_MODE)
        yield from self.compose_body()
        yield JobPanel(id="job")
        yield MessageLine()
        # The palette key sits in the row of keys (app.py shows it) rather than docked
        # at the right, where at 80 columns the keys ran under it and it cut a
        # character in half.
        yield Footer(show_command_palette=False)

    def compose_body(self) -> Iterable[Widget]:
        return ()

    def on_resize(self, event: events.Resize) -> None:
        """Below 100 columns the footer packs its keys closer."""
        for footer in self.query(Footer):
            footer.compact = event.size.width < 100

    @property
    def vb(self) -> VillageBoardApp:
        return cast("VillageBoardApp", self.app)

    @property
    def svc(self) -> Services:
        svc = self.vb.svc
        assert svc is not None
        return svc

    def on_screen_resume(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        """Reload what the screen shows (after a save elsewhere, or on coming back)."""

    # -- jobs -------------------------------------------------------------------------
    @property
    def job_running(self) -> bool:
        return bool(self._jobs)

    def run_job(
        self,
        title: str,
        fn: Callable[[Progress, Cancel], T],
        done: Callable[[T], None],
        *,
        total: int | None = None,
        writes: bool = False,
    ) -> Worker[T] | None:
        """Run ``fn(progress, cancelled)`` in a thread; ``done(result)`` back here."""
        if self.job_running:
            self.vb.say("上一项工作还没有完成，请稍候。", warning=True)
            return None
        panel = self.query_one(JobPanel)
        panel.start(title, total)
        cancel = threading.Event()
        app = self.vb

        def progress(i: int, n: int, what: str = "") -> None:
            app.call_from_thread(panel.step, i, n, what)

        def body() -> T:
            lock = app.write_lock if writes else None
            if lock is not None:
                lock.acquire()
            try:
                return fn(progress, cancel.is_set)
            finally:
                if lock is not None:
                    lock.release()

        worker: Worker[T] = self.run_worker(body, name=title, group="job", thread=True, exit_on_error=False)
        self._jobs[worker] = (done, cancel)
        self.refresh_bindings()
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        entry = self._jobs.get(event.worker)
        if entry is None:
            return
        event.stop()
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        del self._jobs[event.worker]
        self.query_one(JobPanel).stop()
        self.refresh_bindings()
        done, _cancel = entry
        if event.state == WorkerState.SUCCESS:
            try:
                done(event.worker.result)
            except Exception as exc:  # a failure while showing the result
                self.vb.show_error(exc)
        elif event.state == WorkerState.ERROR:
            err = event.worker.error
            if isinstance(err, Cancelled):
                self.vb.say(str(err), warning=True)
            else:
                self.vb.show_error(err)  # type: ignore[arg-type]
        else:
            self.vb.say("已取消。", warning=True)

    def action_cancel_job(self) -> None:
        for _done, cancel in self._jobs.values():
            cancel.set()
        self.vb.say("正在取消…", warning=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_job":
            return self.job_running
        return True
