"""What every Pilot test needs: waiting until the app has finished what a key set off."""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from villageboard.tui.app import VillageBoardApp

#: How long one wait for the app's workers may take before the test's own checks decide.
WORKER_WAIT = 30


def finite_workers(app: VillageBoardApp) -> list[Worker]:  # type: ignore[type-arg]
    """The app's workers that end: a folder tree's loader waits for folders to read for
    as long as the tree is shown, so it is never waited for."""
    return [w for w in app.workers if w.group != "_loader"]


async def settle(pilot: Pilot, app: VillageBoardApp) -> None:
    """Wait until the app is quiet: every message handled, every worker that ends ended,
    and the screen not counting (a finished worker may start another, as the home screen
    recounts once when asked while counting). Bounded: something that never ends fails
    the test's own checks, not the run."""
    for _ in range(50):
        await pilot.pause()
        workers = finite_workers(app)
        # (an empty list would make wait_for_complete wait for every worker, a folder
        # tree's endless loader too)
        try:
            if workers:
                await asyncio.wait_for(app.workers.wait_for_complete(workers), WORKER_WAIT)
        except (TimeoutError, WorkerCancelled):  # a closed folder tree cancels its readers
            pass
        except WorkerFailed:  # a job the clerk cancelled, say; the app shows its reason itself
            pass
        await pilot.pause()
        if not any(w.is_running for w in finite_workers(app)) and not getattr(app.screen, "busy", False):
            return
