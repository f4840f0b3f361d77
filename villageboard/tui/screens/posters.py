"""Making poster files and printing them, shared by the 公示 and 档案 screens.

The preview table shows a notice's rows and totals exactly as the poster prints them
(it is built from the same NoticeDocument the PDF is drawn from). Rendering runs in a
worker; one notice or a whole batch, with progress and cancel. Printing uses the
app's printer (``lp`` / Windows print verb), or says where the file is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from villageboard.domain.models import Notice
from villageboard.render.document import NoticeDocument
from villageboard.services import ui_support
from villageboard.tui.dialogs import FormDialog, FormField, MessageDialog
from villageboard.tui.dialogs.folder import folder_field, folder_of
from villageboard.tui.printing import printer_available
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.text import cell, display_path, num

PAPERS = [("A4 纸", "a4"), ("A3 纸（大幅）", "a3")]


def show_preview(doc: NoticeDocument | None, head: Static, table: DataTable[Any], foot: Static, note: str = "") -> None:
    """Fill a preview: title lines, the main table, changes and totals."""
    table.clear(columns=True)
    if doc is None:
        head.update(note)
        foot.update("")
        return
    lines = [doc.title, doc.subtitle + ("　" + doc.stamp if doc.stamp else "")]
    changes = [t for t in doc.tables if t.title == "更正内容"]
    for t in changes:
        lines.append(
            "更正内容：" + "；".join(f"{r.cells[1]} {r.cells[3]}：{r.cells[4]} 改为 {r.cells[5]}" for r in t.rows)
        )
    if note:
        lines.append(note)
    lines += doc.totals_lines
    head.update(Text("\n".join(lines)))
    main = [t for t in doc.tables if t.title != "更正内容"][-1]
    for c in main.columns:
        table.add_column(c.label.replace("\n", ""), key=c.key)
    for r in main.rows:
        style = "bold" if r.kind in ("subtotal", "total") else ""
        table.add_row(
            *[num(v, style) if c.numeric else cell(v, style) for c, v in zip(main.columns, r.cells, strict=False)]
        )
    foot.update(Text("\n".join(doc.footer_lines)))


def _render_fields(screen: VBScreen, batch: bool) -> list[FormField]:
    fields = [folder_field(screen.vb.output_dir)]
    fields += [
        FormField("pdf", "PDF（打印用）", True, kind="check"),
        FormField("png", "图片 PNG（发村民群）", False, kind="check"),
        FormField("html", "网页 HTML", False, kind="check"),
        FormField("paper", "纸张", "a4", kind="select", options=PAPERS, required=True),
        FormField("large", "大字版（适老化）", False, kind="check"),
        FormField("print", "生成后打印", printer_available(), kind="check"),
    ]
    return fields


def _formats(screen: Any, values: dict[str, Any]) -> list[str]:
    """The formats ticked in the form; says so (and gives []) when none is."""
    formats = [f for f in ("pdf", "png", "html") if values.get(f)]
    if not formats:
        screen.vb.show_error("至少选一种格式（PDF、PNG 或 HTML）。")
    return formats


def _print_all(screen: VBScreen, paths: Sequence[Path]) -> list[str]:
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    return [screen.vb.printer(p) for p in pdfs]


def ask_render(
    screen: VBScreen, notice: Notice, archive_copy: bool = False, after: Callable[[], None] | None = None
) -> None:
    """Ask where and how, then write one notice's poster files (and print them)."""
    label = ui_support.notice_label(screen.svc, notice)
    title = f"打印{'存档件' if archive_copy else '公示'}：{notice.code} {label}"

    def chosen(v: dict[str, Any] | None) -> None:
        if not v:
            return
        formats = _formats(screen, v)
        if not formats:
            return
        out = folder_of(v)

        def work(progress: Any, cancel: Any) -> list[Path]:
            return ui_support.render_notice(
                screen.svc, notice, out, formats, v["paper"], bool(v["large"]), archive_copy=archive_copy
            )

        def done(paths: list[Path]) -> None:
            screen.vb.output_dir = out
            printed = _print_all(screen, paths) if v["print"] else []
            names = "、".join(p.name for p in paths)
            screen.vb.say(f"已生成{len(paths)}个文件（{display_path(out)}）：{names}", timeout=10)
            for msg in printed:
                screen.vb.say(msg, timeout=10)
            if after:
                after()

        screen.run_job(f"正在生成 {notice.code}", work, done)

    screen.app.push_screen(
        FormDialog(
            title,
            _render_fields(screen, False),
            submit="生成",
            wide=True,
            note="选好后按 Ctrl+S 按勾选的格式生成（回车到下一项）。",
        ),
        chosen,
    )


def ask_batch(screen: VBScreen, year: int, programs: list[tuple[str, str]]) -> None:
    """Every village's poster of one kind and program, in one worker."""
    fields = [
        FormField(
            "kind",
            "公示类别",
            "result",
            kind="select",
            required=True,
            options=[("发放结果公示", "result"), ("申报公示", "application"), ("年度汇总公示", "summary")],
        ),
        FormField("program", "补贴项目", programs[0][1] if programs else None, kind="select", options=programs),
        *_render_fields(screen, True),
    ]

    def chosen(v: dict[str, Any] | None) -> None:
        if not v:
            return
        formats = _formats(screen, v)
        if not formats:
            return
        program = "" if v["kind"] == "summary" else (v["program"] or "")
        if v["kind"] != "summary" and not program:
            screen.vb.show_error("申报公示和发放结果公示要选补贴项目。")
            return
        notices, skipped = ui_support.current_notices(screen.svc, v["kind"], year, program)
        if not notices:
            screen.vb.show_error("没有正在公示的公示可以打印：\n" + "\n".join(skipped))
            return
        out = folder_of(v)

        def work(progress: Any, cancel: Any) -> list[Path]:
            return ui_support.render_many(
                screen.svc, notices, out, formats, v["paper"], bool(v["large"]), progress=progress, cancel=cancel
            )

        def done(paths: list[Path]) -> None:
            screen.vb.output_dir = out
            printed = _print_all(screen, paths) if v["print"] else []
            lines = [f"已为{len(notices)}个村生成{len(paths)}个文件，在 {display_path(out)}："]
            lines += [f"  {p.name}" for p in paths]
            if skipped:
                lines.append("没有生成的村：")
                lines += [f"  {s}" for s in skipped]
            lines += printed
            screen.app.push_screen(MessageDialog("各村公示已生成", "\n".join(lines)))

        screen.run_job("正在生成各村公示", work, done, total=len(notices))

    screen.app.push_screen(
        FormDialog(
            f"{year}年 各村批量打印公示",
            fields,
            submit="生成",
            wide=True,
            note="为每个村正在公示的同一类公示生成文件；还没张贴的村会列出来。",
        ),
        chosen,
    )
