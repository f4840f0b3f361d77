"""Turn any failure into one readable Chinese message. A :class:`VBError` already is
one; anything else is logged (types and stack frames only, see errorlog.py) to a file
the clerk can send to a technician, and the clerk sees a plain sentence naming that file."""

from __future__ import annotations

from pathlib import Path

from villageboard import errorlog
from villageboard.domain.errors import VBError


def log_path() -> Path:
    """The same file the command line writes to."""
    return errorlog.log_path()


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, VBError):
        return str(exc)
    log = errorlog.record(exc, "操作界面")
    where = f"详细情况已记录在 {log}，请把这个文件发给技术人员。" if log else "（错误记录文件无法写入。）"
    return f"程序内部出错，操作没有完成，已保存的数据不受影响。\n{where}"
