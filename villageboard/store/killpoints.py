"""Named points where the tests kill the process (deterministic crash injection).

``VILLAGEBOARD_KILL_AT=step`` (or ``step#n``, the n-th time) kills the process at a
named step; ``VILLAGEBOARD_KILL_TRACE=file`` lists the steps passed, one a line.
Restoring a backup (restore.py) and compressing journal segments (compress.py) name
their steps.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def kill_point(step: str) -> None:
    """Die here when the tests ask for it (deterministic crash injection)."""
    trace = os.environ.get("VILLAGEBOARD_KILL_TRACE")
    want = os.environ.get("VILLAGEBOARD_KILL_AT")
    if not trace and not want:
        return
    _hits[step] = _hits.get(step, 0) + 1
    if trace:
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(f"{step}#{_hits[step]}\n")
    if want in (step, f"{step}#{_hits[step]}"):
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(137)
