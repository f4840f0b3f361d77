"""Slow jobs (imports, printing every village, batch exports) report progress and can be
cancelled. The one definition of the two callbacks they take and of the error a
cancelled job raises, shared by the services, the CLI and the TUI's job runner."""

from __future__ import annotations

from collections.abc import Callable

from villageboard.domain.errors import VBError

#: ``progress(done, total, label)``: how far a job has got, in the job's own units.
Progress = Callable[[int, int, str], None]
#: ``cancel()``: true once the clerk has asked the job to stop.
Cancel = Callable[[], bool]


class Cancelled(VBError):
    """A job stopped because it was asked to. The Chinese message says what was left
    unwritten (every job stops before its one save, or removes what it half-wrote)."""

    def __init__(self, message: str = "已取消。") -> None:
        super().__init__(message)
