"""What every sheet import shares: the report, the refusal of a whole sheet with the
errors sheet, progress and cancelling, and pausing the garbage collector.

* **All or nothing.** Every row is checked before anything is written; one bad row and
  nothing is imported. Every problem comes back at once with its row, column and reason,
  so the clerk fixes the sheet in one pass (``errors_out`` writes the sheet back with a
  错误原因 column; the same file can be imported again once fixed).
* **Usable from the TUI.** Long runs take a ``progress(done, total, what)`` callback and
  a ``cancel()`` check; cancelling before the commit leaves no trace.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from villageboard.domain.errors import Problem, ValidationFailed, VBError
from villageboard.domain.money import format_fen
from villageboard.services.jobs import Cancel, Cancelled, Progress

if TYPE_CHECKING:
    from villageboard.io.tables import Sheet

__all__ = [
    "CHECK_EVERY",
    "NOTHING_IMPORTED",
    "ImportFailed",
    "ImportReport",
    "bulk",
    "import_failed",
    "tick",
]

NOTHING_IMPORTED = "已取消，没有导入任何数据。"
CHECK_EVERY = 250  # rows between progress reports and cancel checks


class ImportFailed(ValidationFailed):
    """The sheet has problems; nothing was imported. Carries what the TUI needs to
    show the problems and to write the errors sheet afterwards."""

    def __init__(self, problems: list[Problem], summary: str, report: ImportReport, sheet: Sheet | None) -> None:
        super().__init__(problems, summary)
        self.report = report
        self.sheet = sheet

    def write_errors(self, out: str | Path) -> Path:
        """The clerk's sheet with a 错误原因 column beside each bad row."""
        from villageboard.io.errors_sheet import group_problems, write_errors_sheet

        if self.sheet is None or self.report.source is None:
            raise VBError("这个文件整体读不出来，没有可以标注的行")
        return write_errors_sheet(self.report.source, self.sheet, group_problems(self.problems), Path(out))


@dataclass
class ImportReport:
    """What an import found and did (or, in a dry run, would do)."""

    kind: str  # households | applications | payouts
    source: Path | None
    dry_run: bool
    rows: int = 0
    new_places: list[str] = field(default_factory=list)
    new_households: int = 0
    updated_households: int = 0
    unchanged_households: int = 0
    applications: int = 0
    amount_fen: int = 0
    paid: int = 0
    paid_fen: int = 0
    failed: int = 0
    failed_fen: int = 0
    still_pending: int = 0
    changes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    errors_out: Path | None = None
    seq: int | None = None  # journal entry of the commit

    def lines(self, max_detail: int = 30) -> list[str]:
        """The report in plain words, new places first (that is where a misspelt
        village shows)."""
        out: list[str] = []
        if self.new_places:
            out.append(("将新建：" if self.dry_run else "已新建：") + "、".join(self.new_places))
        will = "将" if self.dry_run else "已"
        if self.kind == "households":
            out.append(
                f"共{self.rows}行：{will}新增农户{self.new_households}户，{will}更新{self.updated_households}户，"
                f"{self.unchanged_households}户与名册相同未改动。"
            )
        elif self.kind == "applications":
            extra = f"（其中同时登记新农户{self.new_households}户）" if self.new_households else ""
            out.append(
                f"共{self.rows}行：{will}导入申报{self.applications}条{extra}，应发金额合计{format_fen(self.amount_fen)}元。"
            )
        elif self.kind == "payouts":
            out.append(
                f"共{self.rows}行：{'将登记' if self.dry_run else '已登记'}发放成功{self.paid}笔 {format_fen(self.paid_fen)}元，"
                f"发放失败{self.failed}笔 {format_fen(self.failed_fen)}元。"
            )
            if self.still_pending:
                out.append(f"本项目还有{self.still_pending}笔已提交银行、尚未回盘。")
        for label, items in (("改动", self.changes), ("失败", self.failures)):
            for line in items[:max_detail]:
                out.append(f"  {line}")
            if len(items) > max_detail:
                out.append(f"  …另有{len(items) - max_detail}条{label}")
        for p in self.warnings[:max_detail]:
            out.append(str(p) if p.warning else f"提醒：{p}")
        if len(self.warnings) > max_detail:
            out.append(f"…另有{len(self.warnings) - max_detail}条提醒")
        if self.dry_run:
            out.append("这是试导入，没有保存任何数据。去掉 --dry-run 即正式导入。")
        return out


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.row or 0)


def import_failed(
    problems: list[Problem], report: ImportReport, sheet: Sheet | None, errors_out: str | Path | None
) -> ImportFailed:
    """The exception that refuses the whole sheet: every problem in row order, and the
    errors sheet written first when ``errors_out`` is given."""
    problems = _sorted(problems)
    rows = len({p.row for p in problems if p.row is not None})
    lines = []
    if report.new_places:
        lines.append("表中这些村组本乡镇还没有，正式导入时会新建（如是写错请更正）：" + "、".join(report.new_places))
    lines.append(f"没有导入任何数据：表中有{len(problems)}处问题（涉及{rows}行），全部改好后才能导入。")
    exc = ImportFailed(problems, "\n".join(lines), report, sheet)
    if errors_out is not None:
        report.errors_out = exc.write_errors(errors_out)
        exc.args = (
            str(exc) + f"\n已把出错的行标在 {report.errors_out} 的“错误原因”列，改好后可以直接再导入这个文件。",
        )
    return exc


F = TypeVar("F", bound=Callable[..., Any])


def bulk(fn: F) -> F:
    """Pause the cyclic garbage collector during a bulk import. An import makes
    hundreds of thousands of small objects (cells, rows, records) and no cycles; left
    on, the collector re-walks everything already loaded again and again, which cost
    about a third of a 10,000-row import."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        was_on = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_on:
                gc.enable()

    return run  # type: ignore[return-value]


def tick(i: int, total: int, what: str, progress: Progress | None, cancel: Cancel | None) -> None:
    """Every :data:`CHECK_EVERY` rows: stop if cancelled, else report progress."""
    if i % CHECK_EVERY:
        return
    if cancel is not None and cancel():
        raise Cancelled(NOTHING_IMPORTED)
    if progress is not None:
        progress(i, total, what)
