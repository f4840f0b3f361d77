"""Turn any failure into one readable Chinese message. A :class:`VBError` already is
one; anything else is logged with its traceback to a file the clerk can send to a
technician, and the clerk sees a plain sentence naming that file."""

from __future__ import annotations

import datetime as dt
import tempfile
import traceback
from pathlib import Path

from villageboard.domain.errors import VBError

LOG_NAME = "villageboard-error.log"


def log_path() -> Path:
    """The same file the command line writes to."""
    return Path(tempfile.gettempdir()) / LOG_NAME


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, VBError):
        return str(exc)
    log = log_path()
    try:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"--- {dt.datetime.now().isoformat()} 操作界面\n")
            fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            fh.write("\n")
    except OSError:
        pass
    return f"程序内部出错，操作没有完成，已保存的数据不受影响。\n详细情况已记录在 {log}，请把这个文件发给技术人员。"
