"""The error log a technician reads: where the program failed, never whose data it held.

It lives in the user's cache folder (0700), is itself 0600, and records only the time,
where the failure happened (the screen or command name), the exception's type and
the stack frames (file, line, function; the source is with the technician). No exception message, argument,
local variable or command-line value is written: those carry the birth dates, queries,
names and numbers the clerk typed.
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
from pathlib import Path

from villageboard import locations
from villageboard.private import open_private, private_dir

LOG_NAME = "error.log"
MAX_BYTES = 1_000_000  # then the old log moves aside as error.log.1


def log_path() -> Path:
    return locations.cache_dir() / LOG_NAME


def scrubbed(exc: BaseException) -> str:
    """The exception chain as types and frames only."""
    parts: list[str] = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        kind = type(e)
        name = (
            kind.__qualname__
            if kind.__module__ in ("builtins", "__main__")
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        lines = [f"{name}（内容未记录）"]
        for fr in traceback.extract_tb(e.__traceback__):
            lines.append(f'  File "{fr.filename}", line {fr.lineno}, in {fr.name}')
        parts.append("\n".join(lines))
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    return "\n由以下错误引起：\n".join(parts)


def record(exc: BaseException, where: str) -> Path | None:
    """Append one entry; returns the log's path, or None when it could not be written."""
    path = log_path()
    try:
        private_dir(path.parent)
        if path.exists() and path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(LOG_NAME + ".1"))
        fd = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')} {where}\n{scrubbed(exc)}\n\n")
    except OSError:
        return None
    return path
