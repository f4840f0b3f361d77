"""Backups and restores, for the CLI and the app alike: take one (to the backups
folder or a chosen folder such as a USB stick, optionally with a passphrase), list
them, say when the last one was taken, where it went and whether it was checked, and
restore one."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.domain.errors import VBError
from villageboard.locations import backups_dir
from villageboard.services.jobs import Progress
from villageboard.store import backup as store_backup
from villageboard.store.backup import BackupInfo, PassphraseError
from villageboard.store.restore import TownshipMismatch

if TYPE_CHECKING:
    from villageboard.services.context import Services

__all__ = ["BackupInfo", "BackupService", "LastBackup", "PassphraseError", "PERSONAL_DATA_NOTE", "TownshipMismatch"]

#: Said wherever a backup is written without a passphrase.
PERSONAL_DATA_NOTE = (
    "注意：备份文件里有全部农户的身份证号、银行卡号、电话等个人信息。"
    "没有设密码的备份，谁拿到都能打开，请妥善保管，不要随手拷给别人或丢在公用电脑上。"
)


@dataclass(frozen=True)
class LastBackup:
    when: str  # ISO time
    where: Path
    verified: bool
    encrypted: bool
    bytes: int

    def describe(self) -> str:
        when = self.when.replace("T", " ")[:16]
        checked = "已检查完好" if self.verified else "未检查"
        locked = "，有密码" if self.encrypted else ""
        return f"{when}，{self.where}（{checked}{locked}）"


class BackupService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    @property
    def root(self) -> Path:
        return self.svc.root

    def make(
        self,
        out: Path | None = None,
        passphrase: str | None = None,
        verify: bool | str = True,
        reason: str = "",
        isolate: bool = True,
        progress: Progress | None = None,
    ) -> BackupInfo:
        """Take a backup now. Saves go on meanwhile and never wait for it; read-only
        windows may take one too. ``out``: a file or a folder (default: the backups
        folder beside the data, where the newest 30 are kept). ``verify``: see
        store.backup.write_backup ("full" runs the whole check). ``isolate``: work in a
        child process, so this process's saves never wait (the CLI, which saves
        nothing meanwhile, passes False)."""
        problem = out_problem(self.root, out)
        if problem:
            raise VBError(problem)
        self.svc.store.checkpoint()  # a writer's: the snapshot then has nothing to redo
        info = store_backup.write_backup(
            self.root,
            out,
            passphrase=passphrase or None,
            verify=verify,
            reason=reason,
            isolate=isolate,
            progress=progress,
        )
        if out is None:
            store_backup.prune(backups_dir(self.root))
        return info

    def restore(self, path: Path, passphrase: str | None = None, replace_township: str | None = None) -> Path | None:
        """Replace this (writable) data with a backup's. The services must be reopened
        afterwards. Returns the automatic backup taken of the replaced data."""
        return store_backup.restore(
            self.svc.store,
            Path(path),
            passphrase=passphrase or None,
            replace_township=replace_township,
            vet=vet_templates,
        )

    def verify(self, path: Path, passphrase: str | None = None) -> list[str]:
        return store_backup.verify_backup(Path(path), passphrase or None)

    def list(self) -> list[Path]:
        """Backups in the standard folder, newest first."""
        return list(reversed(store_backup.list_backups(self.root)))

    def last(self) -> LastBackup | None:
        return last_backup_record(self.root)

    def daily_due(self, today: dt.date) -> bool:
        return store_backup.daily_backup_due(self.root, today)


def out_problem(root: Path, out: Path | None) -> str:
    """Why a backup cannot go to ``out`` (a file or folder), or "": never into the data
    folder itself, which a restore replaces and whose check knows no such file."""
    if out is None:
        return ""
    try:
        target, data = Path(out).expanduser().resolve(), Path(root).resolve()
    except (OSError, RuntimeError):
        return ""
    if target == data or data in target.parents:
        return f"备份不能放在数据文件夹（{root}）里面，请选别的文件夹，比如U盘。"
    return ""


def last_backup_record(root: Path) -> LastBackup | None:
    """The newest backup recorded for this data dir, wherever it went."""
    for body in reversed(store_backup.history(root)):
        if body.get("reason") == "恢复之前自动备份":
            continue
        return LastBackup(
            when=str(body.get("when", "")),
            where=Path(body.get("path", "")),
            verified=bool(body.get("verified")),
            encrypted=bool(body.get("encrypted")),
            bytes=int(body.get("bytes", 0)),
        )
    newest = store_backup.last_backup(root)  # taken before backups were recorded
    if newest is None:
        return None
    st = newest.stat()
    when = dt.datetime.fromtimestamp(st.st_mtime).replace(microsecond=0).isoformat()
    return LastBackup(when=when, where=newest, verified=False, encrypted=False, bytes=st.st_size)


def newest_backup_file(root: Path) -> Path | None:
    """The newest backup in the standard folder (offered when the data is damaged)."""
    return store_backup.last_backup(root)


def restore_into(
    root: Path, path: Path, passphrase: str | None = None, replace_township: str | None = None
) -> Path | None:
    """Restore into a data dir that cannot be opened (damaged) or is empty."""
    return store_backup.restore_into(
        Path(root), Path(path), passphrase=passphrase or None, replace_township=replace_township, vet=vet_templates
    )


def vet_templates(data_dir: Path) -> list[str]:
    """Templates inside an unpacked backup are parsed and test-rendered in the sandbox
    before the restore trusts them: a bad one refuses the whole backup."""
    folder = Path(data_dir) / "templates"
    if not folder.is_dir():
        return []
    from villageboard.render.template_check import check_templates

    return [str(p) for p in check_templates(folder)]


def drive_folders() -> list[Path]:
    """Where the system mounts USB sticks (Linux, macOS), and /mnt where some set-ups
    mount them by hand."""
    user = os.environ.get("USER") or ""
    return [Path("/media") / user, Path("/run/media") / user, Path("/media"), Path("/mnt"), Path("/Volumes")]


def _windows_removable_drives() -> list[Path]:
    """The removable drive letters (GetDriveTypeW 2), as folders."""
    found: list[Path] = []
    if sys.platform == "win32":
        import ctypes
        import string

        try:
            mask = ctypes.windll.kernel32.GetLogicalDrives()
            for i, letter in enumerate(string.ascii_uppercase):
                if mask & (1 << i):
                    drive = f"{letter}:\\"
                    if ctypes.windll.kernel32.GetDriveTypeW(drive) == 2:
                        found.append(Path(drive))
        except Exception:
            return []
    return found


def removable_drives(
    bases: Iterable[Path] | None = None, is_mount: Callable[[str | Path], bool] = os.path.ismount
) -> list[Path]:
    """Folders where USB sticks show up, as far as they can be seen: on Windows the
    removable drive letters; elsewhere what is mounted in ``bases`` (by default
    :func:`drive_folders`; a left-over empty mount folder is not a drive)."""
    if bases is None and sys.platform.startswith("win"):
        return _windows_removable_drives()
    found: list[Path] = []
    for base in drive_folders() if bases is None else bases:
        try:
            for p in sorted(Path(base).iterdir()):
                if p.is_dir() and is_mount(p) and p not in found:
                    found.append(p)
        except OSError:
            continue
    return found


def describe_written(info: BackupInfo) -> list[str]:
    """What the CLI and the app say after a backup."""
    lines = [f"已备份到 {info.path}（{info.bytes / 1024**2:,.1f} MB，{'已检查完好' if info.verified else '未检查'}）"]
    lines.append("备份设了密码：恢复时要输入同一个密码，忘了就打不开。" if info.encrypted else PERSONAL_DATA_NOTE)
    return lines
