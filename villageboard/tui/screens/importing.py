"""Imports from the clerk's Excel/WPS or CSV sheets, shared by the registry,
application and payout screens: ask for the file, run the all-or-nothing import in a
worker with progress and cancel, then show the report (or every problem, with the
annotated copy of the sheet written beside the original)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from villageboard.tui.dialogs import FormDialog, FormField, MessageDialog
from villageboard.tui.dialogs.chooser import SHEETS
from villageboard.tui.errors import clerk_words
from villageboard.tui.recent import remember_folder
from villageboard.tui.screens.base import VBScreen

WHAT = {"households": "农户名册", "applications": "申报", "payouts": "银行回盘"}


def _file_problem(text: str) -> str:
    p = Path(text).expanduser()
    if not p.is_file():
        return "找不到这个文件，请按 Ctrl+O 选择，或写完整路径"
    if p.suffix.lower() not in SHEETS:
        return "只能导入 .xlsx 或 .csv 文件（.xls 请先用 Excel/WPS 另存为 .xlsx）"
    return ""


def report_text(report: Any) -> str:
    """A service report in the app's words (its command-line hints become keys)."""
    lines = []
    for line in report.lines():
        if "--dry-run" in line:
            line = "这是试导入，没有保存任何数据。去掉“只检查”的勾再导入一次即正式导入。"
        elif "villageboard import payouts" in line:
            line = line.split("请把银行回盘")[0] + "银行回盘回来后，在“发放”界面按 Ctrl+G 导入。"
        lines.append(clerk_words(line))
    return "\n".join(lines)


def start_import(
    screen: VBScreen,
    kind: str,
    after: Callable[[], None],
    *,
    program: str | None = None,
    year: int | None = None,
    note: str = "",
) -> None:
    what = WHAT[kind]
    fields = [
        FormField(
            "path",
            "表格文件",
            placeholder="按 Ctrl+O 选择表格文件（.xlsx 或 .csv）",
            required=True,
            check=_file_problem,
            kind="file",
            suffixes=SHEETS,
        ),
        FormField("dry", "只检查，不保存", False, kind="check"),
    ]
    if kind != "payouts":
        fields.append(FormField("mask", "姓名以外的完整号码遮挡后保存", False, kind="check"))
    text = note or "有一行出错就整张表都不导入；出错的行会标在另存的“错误原因”表里。"

    def go(values: dict[str, Any] | None) -> None:
        if not values:
            return
        path = Path(values["path"]).expanduser()
        remember_folder(path)
        dry = bool(values["dry"])
        mask = bool(values.get("mask"))
        errors_out = path.with_name(f"{path.stem}-错误原因.xlsx")

        def work(progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> Any:
            t = screen.svc.transfer
            kw: dict[str, Any] = dict(dry_run=dry, errors_out=errors_out, progress=progress, cancel=cancel)
            if kind == "households":
                return t.import_households(path, mask_private=mask, **kw)
            if kind == "applications":
                return t.import_applications(path, program=program, year=year, mask_private=mask, **kw)
            assert program is not None and year is not None
            return t.import_payouts(path, program=program, year=year, **kw)

        def done(report: Any) -> None:
            title = f"{what}试导入结果（没有保存）" if dry else f"{what}已导入"
            screen.app.push_screen(MessageDialog(title, report_text(report)))
            if not dry:
                screen.vb.say(f"{what}已导入并保存。")
            after()

        screen.run_job(f"正在{'检查' if dry else '导入'}{what}", work, done, writes=not dry)

    screen.app.push_screen(FormDialog(f"导入{what}", fields, submit="开始导入", note=text, wide=True), go)
