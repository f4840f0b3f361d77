"""Backups are zip files of the data dir, byte for byte. A restore verifies the backup,
backs up what it replaces, then swaps the contents in."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from villageboard.domain.errors import VBError
from villageboard.locations import backups_dir
from villageboard.private import open_private, private_dir
from villageboard.store.storage import TMP_SUFFIX, _fsync_dir
from villageboard.store.store import LOCK, META, Store

KEEP = 30
PREFIX = "villageboard-"


def _members(root: Path) -> list[Path]:
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name == LOCK or name.endswith(TMP_SUFFIX):
                continue
            out.append(Path(dirpath, name))
    return out


def write_backup(root: Path, out: Path) -> Path:
    """Zip every data file of ``root`` into ``out`` (written atomically)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}{TMP_SUFFIX}")
    try:
        os.close(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC))  # 0600 before any byte
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for p in _members(root):
                zf.write(p, p.relative_to(root).as_posix())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise VBError(f"备份失败：{exc.strerror or exc}（{out}）") from exc
    return out


def make_backup(store: Store, reason: str = "", out: Path | None = None) -> Path:
    """A backup in the standard place (or ``out``); keeps the newest ``KEEP``."""
    if out is None:
        folder = private_dir(backups_dir(store.root))
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        out = folder / f"{PREFIX}{stamp}.zip"
    path = write_backup(store.root, out)
    prune(backups_dir(store.root))
    return path


def daily_backup_due(root: Path, today: dt.date) -> bool:
    """True when no backup has been taken today (backups are named by their time)."""
    last = last_backup(root)
    if last is None:
        return True
    stamp = last.stem.removeprefix(PREFIX)[:8]
    return stamp < today.strftime("%Y%m%d")


def list_backups(root: Path) -> list[Path]:
    folder = backups_dir(root)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{PREFIX}*.zip"))


def last_backup(root: Path) -> Path | None:
    found = list_backups(root)
    return found[-1] if found else None


def prune(folder: Path, keep: int = KEEP) -> None:
    found = sorted(folder.glob(f"{PREFIX}*.zip"))
    for old in found[:-keep] if len(found) > keep else []:
        old.unlink(missing_ok=True)


def verify_backup(path: Path) -> list[str]:
    """Unpack to a temp folder and run the full check there."""
    from villageboard.store.check import check_data_dir

    with tempfile.TemporaryDirectory(prefix="vb-verify-") as tmp:
        _extract(path, Path(tmp))
        return check_data_dir(Path(tmp))


def _extract(path: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad:
                raise VBError(f"备份文件 {path} 已损坏（{bad}）")
            for info in zf.infolist():
                target = (dest / info.filename).resolve()
                if not str(target).startswith(str(dest.resolve())):
                    raise VBError(f"备份文件 {path} 含有不安全的路径：{info.filename}")
            zf.extractall(dest)
    except zipfile.BadZipFile:
        raise VBError(f"{path} 不是有效的备份文件") from None
    except FileNotFoundError:
        raise VBError(f"找不到备份文件：{path}") from None
    if not (dest / META).is_file():
        raise VBError(f"{path} 不是本程序的备份（缺少 {META}）")


def restore(store: Store, path: Path) -> Path | None:
    """Replace the open (writer) store's files with the backup's. Returns the
    automatic backup taken of what was there before."""
    path = Path(path).resolve()
    problems = verify_backup(path)
    if problems:
        raise VBError("备份文件检查未通过，没有恢复：\n" + "\n".join(problems[:20]))
    before = None
    if any(_members(store.root)):
        before = make_backup(store, reason="恢复之前自动备份")
    root = store.root
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=root.parent))
    try:
        _extract(path, staging)
        for p in list(root.iterdir()):
            if p.name == LOCK:
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        for p in staging.iterdir():
            os.replace(p, root / p.name)
        _fsync_dir(root)
        from villageboard.store.verify import cache_path_for

        cache = cache_path_for(root)
        if cache is not None:
            cache.unlink(missing_ok=True)  # every file is new: verify them all afresh
        from villageboard.store.derived import derived_dir_for

        kept = derived_dir_for(root)
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)  # figures of the replaced data
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return before


def restore_into(root: Path, path: Path) -> Path | None:
    """Restore a backup into ``root`` even when the data there is damaged (exactly when
    a restore is needed): take the writer lock without trusting any file, back up what
    is there, and swap the backup in. Returns the automatic backup of the old data."""
    from villageboard.domain.errors import DamagedError
    from villageboard.store.store import is_data_dir, is_empty_dir

    root = Path(root)
    if is_data_dir(root):
        try:
            store = Store.open(root)
        except DamagedError:
            store = Store(root, readonly=False)
            store._acquire()
    elif is_empty_dir(root):
        root.mkdir(parents=True, exist_ok=True)
        store = Store(root, readonly=False)
        store._acquire()
    else:
        raise VBError(f"{root} 里有其他文件，不能恢复到这里")
    try:
        return restore(store, Path(path))
    finally:
        store.close()
