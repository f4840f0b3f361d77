"""`villageboard` entry point. With no command it opens the terminal app.

Command modules register their subcommands; each handler gets the parsed args and
returns an exit code. A :class:`VBError` becomes one Chinese message and exit 1; a
usage error exits 2; no traceback ever reaches the clerk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from villageboard import locations
from villageboard.domain.errors import DamagedError, VBError

if TYPE_CHECKING:
    from villageboard.services import Services

COMMAND_MODULES = ("core", "money", "notices", "phone", "settings", "households")
ENV_TODAY = "VILLAGEBOARD_TODAY"


#: argparse's own words, in the Chinese a clerk reads everywhere else.
_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "命令和参数",
    "options": "选项",
    "show this help message and exit": "显示本说明并退出",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择 %(value)r（可选：%(choices)s）",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要一个值",
    "expected at least one argument": "至少需要一个值",
    "expected at most one argument": "最多一个值",
    "unrecognized arguments: %s": "不认识的参数：%s",
    "invalid %(type)s value: %(value)r": "值 %(value)r 不对",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是：%(matches)s",
    "not allowed with argument %s": "不能和参数 %s 一起用",
    "one of the arguments %s is required": "参数 %s 必须填一个",
}


def _zh(text: str) -> str:
    return _ARGPARSE_ZH.get(text, text)


argparse._ = _zh  # type: ignore[attr-defined]  # argparse looks its messages up at call time


class ChineseParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"命令用法有误：{message}\n（加 -h 查看说明）\n")
        raise SystemExit(2)


def arg_date(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD, with a Chinese message."""
    from villageboard.domain.validate import date_range_problem

    try:
        d = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”格式不对，应为 YYYY-MM-DD") from None
    why = date_range_problem(d)
    if why:
        raise argparse.ArgumentTypeError(why)
    return d


def today_override() -> dt.date | None:
    """Tests and demonstrations can freeze the date with VILLAGEBOARD_TODAY=YYYY-MM-DD."""
    value = os.environ.get(ENV_TODAY)
    return dt.date.fromisoformat(value) if value else None


def data_dir_of(args: argparse.Namespace) -> Path:
    """The data dir a command works on; with ``--demo``, the demo township (built the
    first time), so ``villageboard --demo verify …`` looks where the demo app does."""
    if getattr(args, "demo", False):
        return demo_dir(args)
    return locations.data_dir(getattr(args, "data_dir", None))


def demo_dir(args: argparse.Namespace) -> Path:
    data = Path(args.data_dir).expanduser().resolve() if args.data_dir else locations.demo_data_dir()
    from villageboard.store.store import is_data_dir

    if not is_data_dir(data) and getattr(args, "command", None) not in ("demo", "init"):
        from villageboard.services.demo import build_demo

        print(f"正在生成演示乡镇（{data}），第一次大约需要十几秒…", file=sys.stderr)
        build_demo(data, today=today_override(), progress=lambda m: print(m, file=sys.stderr)).close()
    return data


def open_services(args: argparse.Namespace, readonly: bool = False, fallback_readonly: bool = False) -> Services:
    """Open the data dir named by the arguments (the one place the CLI does so)."""
    from villageboard.services import Services

    svc = Services.open(
        data_dir_of(args), readonly=readonly, fallback_readonly=fallback_readonly, today=today_override()
    )
    for msg in svc.open_messages:
        print(msg, file=sys.stderr)
    return svc


def build_parser() -> ChineseParser:
    parser = ChineseParser(
        prog="villageboard",
        description="村务公开栏工具包：涉农补贴申报、发放、公示、存档与电话查询。不带命令时打开操作界面。",
    )
    parser.add_argument("--data-dir", help="数据文件夹（默认：环境变量 VILLAGEBOARD_HOME，或系统的用户数据目录）")
    parser.add_argument("--demo", action="store_true", help="打开演示乡镇（第一次会自动生成）")
    parser.add_argument("--readonly", action="store_true", help="只读方式打开操作界面")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=ChineseParser)
    for name in COMMAND_MODULES:
        modname = f"villageboard.cli.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).register(sub)
    return parser


def run_app(args: argparse.Namespace) -> int:
    from villageboard.tui.app import make_app

    data = data_dir_of(args)
    app = make_app(data, readonly=args.readonly, today=today_override())
    app.run()
    return app.return_code or 0


class QuietPipe:
    """stdout/stderr for a command: when the reader goes away (``| head``) the rest of
    the output is dropped without a word. The command still finishes what it started
    (a bank sheet is written and its batch recorded) and exits with its own status."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        try:
            n: int = self._stream.write(text)
            return n
        except OSError as exc:
            self._broke(exc)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._broke(exc)

    def _broke(self, exc: OSError) -> None:
        gone = isinstance(exc, BrokenPipeError) or (os.name == "nt" and exc.errno == errno.EINVAL)
        if not gone:
            raise exc
        self.broken = True
        try:  # what is still buffered goes nowhere, quietly, now and at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (QuietPipe(s) if s is not None else s for s in (out, err))  # None: closed (>&-)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:  # the terminal app needs the real streams
            sys.stdout, sys.stderr = out, err
        return _run(args)
    finally:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        sys.stdout, sys.stderr = out, err


def _plain(message: str) -> str:
    """A message without control characters: it may quote what was typed, and an ESC
    echoed to the terminal can rewrite the screen."""
    from villageboard.domain.validate import strip_controls

    return strip_controls(message, keep="\n")


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command is None:
            return run_app(args)
        return int(args.handler(args) or 0)
    except DamagedError as exc:
        if exc.backup is None:
            from villageboard.services.backup import newest_backup_file as last_backup

            exc = DamagedError(exc.path, exc.reason, last_backup(data_dir_of(args)))
        print(_plain(str(exc)), file=sys.stderr)
        return 1
    except VBError as exc:
        print(_plain(str(exc)), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except Exception as exc:
        from villageboard import errorlog

        # the command's name only: its arguments hold queries, dates and numbers
        log = errorlog.record(exc, f"命令 {args.command or '操作界面'}")
        where = f"详细情况已记录在 {log}，请把这个文件发给技术人员。" if log else "（错误记录文件无法写入。）"
        print(f"程序内部出错，操作没有完成。{where}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
