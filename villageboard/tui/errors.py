"""Turn any failure into one readable Chinese message. A :class:`VBError` already is
one; anything else is logged (types and stack frames only, see errorlog.py) to a file
the clerk can send to a technician, and the clerk sees a plain sentence naming that file."""

from __future__ import annotations

import re
from pathlib import Path

from villageboard import errorlog
from villageboard.domain.errors import VBError


def log_path() -> Path:
    """The same file the command line writes to."""
    return errorlog.log_path()


#: Command-line hints in the services' messages, and what the clerk does instead here.
CLI_HINTS: tuple[tuple[str, str], ...] = (
    ("或用 --set 指定更正内容", "或在“改为”里填写要更正的内容"),
    ("（--program）", "（请选择补贴项目）"),
    ("或导入时用 --program 指定", "或在“申报”界面先选定补贴项目再导入"),
    ("或导入时用 --year 指定", "或在“申报”界面先选定补贴项目（含年度）再导入"),
    ("去掉 --dry-run 即正式导入。", "去掉“只检查”的勾再导入一次即正式导入。"),
)
_CLI_ASIDE = re.compile(r"[（(][^（）()]*(?:--|villageboard )[^（）()]*[）)]")
_CLI_PHRASE = re.compile(r"[，,；;]?\s*(?:或者?|可以?|请)?用\s*--[a-z][a-z-]*[^，。；]*")


def clerk_words(text: str) -> str:
    """A service message as the clerk should read it in the app: no command-line
    flags or commands (``--set``, ``villageboard program edit``)."""
    for cli, tui in CLI_HINTS:
        text = text.replace(cli, tui)
    text = _CLI_ASIDE.sub("（在“补贴项目”界面按 F4 修改）" if "申报指南" in text else "", text)
    text = _CLI_PHRASE.sub("", text)
    return text


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, VBError):
        return clerk_words(str(exc))
    log = errorlog.record(exc, "操作界面")
    where = f"详细情况已记录在 {log}，请把这个文件发给技术人员。" if log else "（错误记录文件无法写入。）"
    return f"程序内部出错，操作没有完成，已保存的数据不受影响。\n{where}"
