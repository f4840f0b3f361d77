"""Errors a clerk may see. Every message is plain Chinese; the CLI and the TUI show
``str(error)`` and never a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class VBError(Exception):
    """A failure the user can act on. ``str()`` is the Chinese message."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where (row, field) and why."""

    reason: str
    field: str | None = None
    row: int | None = None
    warning: bool = False

    def __str__(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.field:
            parts.append(f"“{self.field}”")
        where = " ".join(parts)
        prefix = "提醒：" if self.warning else ""
        return f"{prefix}{where}：{self.reason}" if where else f"{prefix}{self.reason}"


class ValidationFailed(VBError):
    """One or more inputs were rejected; nothing was saved."""

    def __init__(self, problems: list[Problem], summary: str = "") -> None:
        self.problems = [p for p in problems if not p.warning]
        self.summary = summary
        lines = [summary] if summary else []
        lines += [str(p) for p in self.problems]
        super().__init__("\n".join(lines) if lines else "输入有误")


class NotFound(VBError):
    pass


class LockedError(VBError):
    """Another process is the writer for this data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        super().__init__(
            f"数据目录 {data_dir} 正被另一个窗口或命令使用（同一时间只能有一处修改数据）。"
            "请先关闭另一处，再重试；只查看的话可以用只读方式打开。"
        )


class ReadOnlyError(VBError):
    def __init__(self, what: str = "") -> None:
        super().__init__(f"现在是只读方式，不能保存{what}。请关闭另一个正在使用数据的窗口后重新打开。")


class DamagedError(VBError):
    """A data file failed its integrity check. Nothing is overwritten."""

    def __init__(self, path: Path, reason: str, backup: Path | None = None) -> None:
        self.path = path
        self.reason = reason
        self.backup = backup
        msg = f"数据文件已损坏：{path}（{reason}）。为防止覆盖，程序不会写入任何数据。"
        if backup is not None:
            msg += f'\n最近一次完好的备份：{backup}\n恢复命令：villageboard restore "{backup}"'
        else:
            msg += "\n没有找到备份，请联系技术人员。"
        super().__init__(msg)


class ArchivedError(VBError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what}已存档，存档只能查看，不能修改。")


class PrivacyError(VBError):
    """The privacy gate found a full personal number in a public output."""

    def __init__(self, findings: list[str], output: str) -> None:
        self.findings = findings
        lines = [f"{output}含有不能公开的个人信息，已停止生成，未写出任何文件："]
        lines += [f"  {f}" for f in findings]
        super().__init__("\n".join(lines))


class StorageError(VBError):
    """The disk refused a write (full, permission). The old file is untouched."""
