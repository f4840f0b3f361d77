"""Backing up and restoring from the app (F9, and the command palette through it).

备份到…: the standard backups folder, a USB stick the system has mounted (listed by
name), or any folder picked in the folder chooser; then an optional passphrase, typed
twice. The backup runs in a child process (saves never wait) while the screen shows
its progress line; the clerk is told, before and after, where the file goes and that a
backup without a passphrase holds everyone's personal data.

恢复: a backup from the standard folder, or a ``.zip`` picked in the chooser (on a USB
stick or anywhere); a confirmation; then the restore. An encrypted backup asks for its
passphrase (a wrong one restores nothing and asks again); a backup of another township
asks the clerk to type this township's name. The app then reopens the data.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from villageboard.locations import backups_dir
from villageboard.services import backup as backup_service
from villageboard.services.backup import (
    PERSONAL_DATA_NOTE,
    BackupInfo,
    PassphraseError,
    TownshipMismatch,
)
from villageboard.services.ui_support import backup_label
from villageboard.tui.dialogs import (
    ChoiceDialog,
    ConfirmDialog,
    FormDialog,
    FormField,
    MessageDialog,
)
from villageboard.tui.dialogs.chooser import PathChooser
from villageboard.tui.dialogs.passphrase import PassphraseDialog
from villageboard.tui.text import display_path

if TYPE_CHECKING:
    from villageboard.tui.screens.base import VBScreen

#: Standard backups offered first when restoring.
RECENT = 8

PASSPHRASE_NOTE = (
    "设了密码，备份文件会加密（常用的压缩软件输入密码也能打开）；"
    "恢复时要输入同一个密码，忘了就再也打不开，请把密码记在稳妥的地方。"
)


def drives() -> list[Path]:
    """The USB sticks the system has mounted, looked up afresh each time."""
    return backup_service.removable_drives()


def _free(folder: Path) -> str:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    return f"，剩余 {free / 1024**3:,.1f} GB"


# --------------------------------------------------------------------------- backup
def start_backup(screen: VBScreen, done: Callable[[BackupInfo], None] | None = None) -> None:
    """备份到…: choose where, then the passphrase, then back up in the background."""
    if screen.job_running:
        screen.vb.say("上一项工作还没有完成，请稍候。", warning=True)
        return
    found = drives()
    standard = backups_dir(screen.svc.root)
    choices = [("standard", f"备份文件夹（{display_path(standard)}，保留最近30个）")]
    choices += [(f"drive:{i}", f"U盘 {d.name}（{display_path(d)}{_free(d)}）") for i, d in enumerate(found)]
    choices.append(("other", "选择其他文件夹…"))
    note = "备份文件放在哪里？" + (
        "插上的U盘列在下面。" if found else "没有看到插上的U盘；U盘插上后再打开这里就会列出。"
    )

    def chosen(key: str | None) -> None:
        if key is None:
            return
        if key == "standard":
            _ask_passphrase(screen, None, done)
        elif key.startswith("drive:"):
            _ask_passphrase(screen, found[int(key.split(":", 1)[1])], done)
        else:
            start = found[0] if found else None  # else the folder used last, or home
            screen.app.push_screen(
                PathChooser("选择备份放到哪个文件夹", start, note="备份文件会放进选定的文件夹，文件名带日期和时间。"),
                lambda folder: _ask_passphrase(screen, folder, done) if folder is not None else None,
            )

    screen.app.push_screen(ChoiceDialog("备份到…", choices, note=note), chosen)


def _ask_passphrase(screen: VBScreen, out: Path | None, done: Callable[[BackupInfo], None] | None) -> None:
    problem = backup_service.out_problem(screen.svc.root, out)
    if problem:
        screen.vb.show_error(problem, title="不能备份到这里")
        return
    where = display_path(out if out is not None else backups_dir(screen.svc.root))
    note = f"备份文件将放到：{where}\n\n{PERSONAL_DATA_NOTE}\n\n可以给备份设一个密码（不设就空着）。{PASSPHRASE_NOTE}"
    screen.app.push_screen(
        PassphraseDialog("备份到 " + where, note=note, confirm=True, go="开始备份"),
        lambda word: _run_backup(screen, out, word, done) if word is not None else None,
    )


def _run_backup(screen: VBScreen, out: Path | None, passphrase: str, done: Callable[[BackupInfo], None] | None) -> None:
    svc = screen.svc
    where = display_path(out if out is not None else backups_dir(svc.root))

    def work(progress: Any, cancel: Any) -> tuple[BackupInfo, bool]:
        # in a child process: the clerk's saves go on and never wait for it
        info = svc.backups.make(
            out=out, passphrase=passphrase or None, reason="操作界面备份", isolate=True, progress=progress
        )
        return info, bool(cancel())

    def finished(result: tuple[BackupInfo, bool]) -> None:
        info, asked_to_cancel = result
        lines = backup_service.describe_written(info)
        if asked_to_cancel:  # the child process cannot be stopped half-way
            lines.insert(0, "备份开始后不能中途停止，已经备份完了。")
        screen.vb.say(f"已备份：{info.path.name}（在 {display_path(info.path.parent)}）", timeout=8)
        screen.app.push_screen(MessageDialog("备份完成", "\n\n".join(lines)))
        screen.refresh_data()
        if done is not None:
            done(info)

    # a snapshot: saves go on meanwhile, so the write lock is not taken
    screen.run_job(f"正在备份到 {where}", work, finished, writes=False)


# --------------------------------------------------------------------------- restore
def start_restore(screen: VBScreen) -> None:
    """恢复: choose a backup (standard folder, a USB stick, anywhere), confirm, restore."""
    if screen.svc.readonly:
        screen.vb.show_error("现在是只读方式，不能恢复。请关闭另一个正在使用数据的窗口后重新打开。")
        return
    if screen.job_running:
        screen.vb.say("上一项工作还没有完成，请稍候。", warning=True)
        return
    recent = screen.svc.backups.list()[:RECENT]
    found = drives()
    choices = [(f"b:{i}", f"{backup_label(p)} 的备份（备份文件夹）") for i, p in enumerate(recent)]
    choices += [(f"drive:{i}", f"从U盘 {d.name} 选备份文件…") for i, d in enumerate(found)]
    choices.append(("other", "从其他文件夹选备份文件…"))
    note = "恢复会用备份替换现在的全部数据；恢复前会自动再备份一次现在的数据。选一个备份："

    def chosen(key: str | None) -> None:
        if key is None:
            return
        kind, _, i = key.partition(":")
        if kind == "b":
            _confirm_restore(screen, recent[int(i)])
            return
        start = found[int(i)] if kind == "drive" else None  # else the folder used last, or home
        screen.app.push_screen(
            PathChooser("选择要恢复的备份文件", start, files=True, note="只列出文件夹和备份文件（.zip）。"),
            lambda path: _confirm_restore(screen, path) if path is not None else None,
        )

    screen.app.push_screen(ChoiceDialog("从备份恢复", choices, note=note), chosen)


def _confirm_restore(screen: VBScreen, path: Path) -> None:
    msg = (
        f"用这个备份替换现在的全部数据？\n{display_path(path)}\n\n现在的数据会先自动备份一次。恢复后程序重新打开数据。"
    )
    screen.app.push_screen(
        ConfirmDialog("恢复数据", msg, confirm="恢复", danger=True),
        lambda ok: run_restore(screen, path) if ok else None,
    )


def run_restore(screen: VBScreen, path: Path, passphrase: str | None = None, township: str | None = None) -> None:
    svc = screen.svc

    def work(progress: Any, cancel: Any) -> tuple[str, Any]:
        try:
            return "done", svc.backups.restore(path, passphrase=passphrase, replace_township=township)
        except PassphraseError as exc:  # nothing was restored
            return "passphrase", exc
        except TownshipMismatch as exc:  # nothing was restored
            return "township", exc

    def finished(result: tuple[str, Any]) -> None:
        kind, value = result
        if kind == "passphrase":
            _ask_restore_passphrase(screen, path, wrong=passphrase is not None, township=township)
        elif kind == "township":
            _ask_township(screen, path, passphrase, value)
        else:
            before: Path | None = value
            screen.vb.say(
                "已从备份恢复，数据已重新打开。" + (f"恢复前的数据备份在 {before.name}。" if before else ""), timeout=10
            )
            screen.vb.reopen()

    screen.run_job("正在恢复", work, finished, writes=True)


def _ask_restore_passphrase(screen: VBScreen, path: Path, wrong: bool, township: str | None) -> None:
    error = "密码不对，没有恢复任何数据。请重新输入，或按 Esc 取消。" if wrong else ""
    note = f"备份文件 {path.name} 加了密码。请输入备份时设的密码。"
    screen.app.push_screen(
        PassphraseDialog("这个备份有密码", note=note, confirm=False, go="恢复", error=error),
        lambda word: run_restore(screen, path, word, township) if word else None,
    )


def _ask_township(screen: VBScreen, path: Path, passphrase: str | None, exc: TownshipMismatch) -> None:
    (theirs, their_code), (ours, our_code) = exc.theirs, exc.ours
    note = (
        f"这个备份是“{theirs}”（代码{their_code or '无'}）的数据，不是本乡镇“{ours}”（代码{our_code or '无'}）的。\n"
        f"确实要用它替换“{ours}”的全部数据，请在下面输入本乡镇的名称“{ours}”确认；不替换请按 Esc。"
    )

    def check(text: str) -> str:
        return "" if text.strip() == ours else f"和本乡镇的名称“{ours}”不一样"

    field = FormField("township", "本乡镇名称", placeholder=f"输入 {ours}", required=True, check=check)
    screen.app.push_screen(
        FormDialog("恢复其他乡镇的备份", [field], submit="替换", note=note, wide=True),
        lambda v: run_restore(screen, path, passphrase, str(v["township"])) if v else None,
    )
