"""Backups: zip files of a consistent snapshot of the data dir (snapshot.py), written
atomically, 0600, optionally encrypted (AES zip, which common archivers open), and
checked before they are called verified. Restoring one is restore.py's job.

Backups can be taken by any process at any moment: the snapshot takes no lock, so a
save made meanwhile never waits for it (the daily backup of the app and the CLI in
another window alike).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from villageboard.domain.errors import VBError
from villageboard.locations import backups_dir
from villageboard.private import private_dir
from villageboard.store import leftovers, snapshot
from villageboard.store.storage import fsync_dir

KEEP = 30
PREFIX = "villageboard-"
LOG = "backup-log.jsonl"
#: A snapshot that fails its check (a save failing half-way on a full disk can leave
#: one) is taken again this many times before the backup is reported unverified.
ATTEMPTS = 3


def bad_zip() -> tuple[type[Exception], ...]:
    import pyzipper

    return (zipfile.BadZipFile, pyzipper.BadZipFile, zipfile.LargeZipFile, EOFError)


class PassphraseError(VBError):
    """The backup is encrypted and the passphrase is missing or wrong."""


@dataclass
class BackupInfo:
    path: Path
    when: str
    bytes: int
    seq: int
    verified: bool
    encrypted: bool
    seconds: float
    reason: str = ""
    problems: tuple[str, ...] = ()


def default_name() -> str:
    return f"{PREFIX}{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.zip"


def resolve_out(out: Path | None, root: Path) -> Path:
    """``out`` may be a file or a folder (a USB stick): a folder gets a dated name."""
    if out is None:
        return private_dir(backups_dir(root)) / default_name()
    out = Path(out)
    if out.is_dir() or str(out).endswith(("/", os.sep)):
        return out / default_name()
    if out.suffix.lower() != ".zip":
        out = out.with_name(out.name + ".zip")
    return out


def _open_writer(fh: Any, passphrase: str | None) -> zipfile.ZipFile:
    if passphrase:
        import pyzipper

        zf = pyzipper.AESZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, encryption=pyzipper.WZ_AES)
        zf.setpassword(passphrase.encode("utf-8"))
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
        writer: zipfile.ZipFile = zf
        return writer
    return zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)


def open_reader(path: Path, passphrase: str | None = None) -> zipfile.ZipFile:
    """Open a backup for reading; plain and AES-encrypted ones alike."""
    import pyzipper

    try:
        zf = pyzipper.AESZipFile(path)
    except FileNotFoundError:
        raise VBError(f"找不到备份文件：{path}") from None
    except bad_zip() + (OSError, ValueError):
        raise VBError(f"{path} 不是有效的备份文件") from None
    if passphrase:
        zf.setpassword(passphrase.encode("utf-8"))
    reader: zipfile.ZipFile = zf
    return reader


def is_encrypted(zf: zipfile.ZipFile) -> bool:
    return any(info.flag_bits & 0x1 for info in zf.infolist())


def read_member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """One member's bytes; a missing or wrong passphrase is a PassphraseError."""
    try:
        return zf.read(name)
    except RuntimeError as exc:  # pyzipper: "File ... is encrypted, password required" / "Bad password"
        if "password" in str(exc).lower():
            if zf.pwd:
                raise PassphraseError(f"备份文件 {path.name} 的密码不对，没有恢复任何数据。") from None
            raise PassphraseError(f"备份文件 {path.name} 加了密码，请输入密码。") from None
        raise VBError(f"备份文件 {path} 已损坏（{name}）") from None
    except bad_zip() + (OSError, ValueError) as exc:
        raise VBError(f"备份文件 {path} 已损坏（{name}：{exc}）") from None


def test_archive(path: Path, passphrase: str | None) -> None:
    """Read every member back (CRC, and the AES check of an encrypted one)."""
    with open_reader(path, passphrase) as zf:
        for info in zf.infolist():
            with _open_member(zf, info, path) as fh:
                while fh.read(1 << 20):
                    pass


def _open_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Any:
    try:
        return zf.open(info)
    except RuntimeError:
        raise PassphraseError(f"备份文件 {path.name} 的密码不对。") from None
    except bad_zip() + (OSError, ValueError) as exc:
        raise VBError(f"备份文件 {path} 已损坏（{info.filename}：{exc}）") from None


#: ``progress(done, total, what)``: how far a backup is (files zipped of all files).
#: Reports (done, total, what) as the backup goes; the same shape as services.jobs.Progress.
StepReport = Callable[[int, int, str], None]


#: Bytes of zip written between two flushes to the disk (see write_backup).
SYNC_EVERY = 8 << 20
_datasync = getattr(os, "fdatasync", os.fsync)  # fdatasync: Linux; the rest: fsync


def write_backup(
    root: Path,
    out: Path | None = None,
    passphrase: str | None = None,
    verify: bool | str = True,
    reason: str = "",
    isolate: bool = False,
    progress: StepReport | None = None,
) -> BackupInfo:
    """Snapshot ``root`` consistently and zip it to ``out`` (a file or a folder; the
    standard backups folder when None). Written atomically and 0600.

    ``verify``: True (or "quick") checks the snapshot as the start-up check would
    (seals and journal chain, hashing only what changed: snapshot.quick_check);
    "full" runs the whole ``check`` on it; False checks nothing. Either way the zip is
    read back (CRC, and the AES authentication) before it is called verified.

    ``isolate``: do the work in a child process. A process that saves (the app's daily
    backup) passes it: checking and zipping in a thread would take the interpreter from
    the saving thread for long stretches; in a child process a save never waits.

    ``progress`` is told each step (from the child process too)."""
    root = Path(root)
    if isolate:
        return _in_child(root, out, passphrase, verify, reason, progress)
    step = progress or (lambda done, total, what: None)
    start = time.perf_counter()
    if (root / ".restore.json").exists():  # restore.MARKER: files are being swapped
        raise VBError("数据正在从备份恢复（或上次恢复被中断，还没有补完），现在不能备份。请稍后再试。")
    out = resolve_out(out, root)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VBError(f"备份失败：不能在 {out.parent} 建立文件夹（{exc.strerror or exc}）") from exc
    problems: list[str] = []
    snap = None
    for _attempt in range(ATTEMPTS):
        step(0, 0, "正在做数据快照")
        snap = snapshot.take(root)
        if not verify:
            break
        step(0, 0, "正在检查快照")
        if verify == "full":
            from villageboard.store.check import check_data_dir

            problems = check_data_dir(snap.folder)
        else:
            problems = snapshot.quick_check(snap.folder, root)
        if not problems:
            break
        snap.discard()
        snap = None
    if snap is None:
        raise VBError("备份失败：数据快照检查没有通过：\n" + "\n".join(problems[:20]))
    tmp = out.with_name(f".{out.name}.{os.getpid()}{leftovers.ZIP_TMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "w+b") as fh:
            leftovers.lock_file(fh.fileno())
            members = snap.members()
            synced = 0
            with _open_writer(fh, passphrase) as zf:
                for i, (rel, p) in enumerate(members):
                    if i % 16 == 0:
                        step(i, len(members), "正在打包")
                    # a compressed journal segment is stored as it is: deflating it again gains nothing
                    zf.write(p, rel, compress_type=zipfile.ZIP_STORED if rel.endswith(".gz") else None)
                    if fh.tell() - synced >= SYNC_EVERY:
                        # written out as it goes: a save's fsync meanwhile never waits
                        # behind the whole zip being flushed at once
                        fh.flush()
                        _datasync(fh.fileno())
                        synced = fh.tell()
            fh.flush()
            os.fsync(fh.fileno())
            if verify:
                step(len(members), len(members), "正在读回检查备份文件")
                test_archive(tmp, passphrase)
            os.replace(tmp, out)
        try:
            os.chmod(out, 0o600)
        except OSError:
            pass
        fsync_dir(out.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise VBError(f"备份失败：{exc.strerror or exc}（{out}）") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        snap.discard()
    info = BackupInfo(
        path=out,
        when=dt.datetime.now().replace(microsecond=0).isoformat(),
        bytes=out.stat().st_size,
        seq=snap.seq,
        verified=bool(verify),
        encrypted=bool(passphrase),
        seconds=time.perf_counter() - start,
        reason=reason,
    )
    record(root, info)
    return info


def _in_child(
    root: Path,
    out: Path | None,
    passphrase: str | None,
    verify: bool | str,
    reason: str,
    progress: StepReport | None = None,
) -> BackupInfo:
    import subprocess
    import sys
    import tempfile

    job = {
        "root": str(root),
        "out": str(out) if out is not None else None,
        "passphrase": passphrase,
        "verify": verify,
        "reason": reason,
        "progress": progress is not None,
    }
    import villageboard

    here = str(Path(villageboard.__file__).resolve().parent.parent)  # this very copy of the program
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    # stdout: progress lines, then the result as the last line; stderr to a file, so a
    # chatty child can never fill a pipe nobody reads
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "villageboard.store.backup_job"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(orjson.dumps(job))
        child.stdin.close()
        last = b""
        for line in child.stdout:
            try:
                body = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(body, dict) and "progress" in body and progress is not None:
                done, total, what = body["progress"]
                progress(int(done), int(total), str(what))
            else:
                last = line
        code = child.wait()
        err.seek(0)
        stderr = err.read()
    try:
        body = orjson.loads(last)
    except orjson.JSONDecodeError:
        body = {"error": f"备份失败：备份进程意外退出（{code}）。{stderr.decode('utf-8', 'replace')[-300:]}"}
    if "error" in body:
        if body.get("passphrase"):
            raise PassphraseError(body["error"])
        raise VBError(body["error"])
    body["path"] = Path(body["path"])
    body["problems"] = tuple(body.get("problems", ()))
    return BackupInfo(**body)


def raw_backup(root: Path) -> Path:
    """Every file of a data dir as it is, damaged or not (before a restore replaces
    damaged data: nothing is thrown away). Not a snapshot: only for data no process
    is saving to."""
    out = resolve_out(None, root)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}{leftovers.ZIP_TMP_SUFFIX}")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "w+b") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for dirpath, dirs, files in os.walk(root):
                if Path(dirpath) == root:
                    dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in sorted(files):
                    if not name.startswith(".") and not name.endswith(".vbtmp"):
                        p = Path(dirpath, name)
                        stored = zipfile.ZIP_STORED if name.endswith(".gz") else None
                        zf.write(p, p.relative_to(root).as_posix(), compress_type=stored)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def record(root: Path, info: BackupInfo) -> None:
    """Note a backup in the log beside the backups folder (for F1 and `backup list`)."""
    folder = backups_dir(root)
    body = asdict(info)
    body["path"] = str(info.path)
    body.pop("problems", None)
    try:
        private_dir(folder)
        fd = os.open(folder / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        try:
            os.write(fd, orjson.dumps(body) + b"\n")
        finally:
            os.close(fd)
    except OSError:
        pass  # only a record: the backup itself is written


def history(root: Path) -> list[dict[str, Any]]:
    """Every backup recorded, oldest first."""
    try:
        raw = (backups_dir(root) / LOG).read_bytes()
    except OSError:
        return []
    out = []
    for line in raw.splitlines():
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue  # a line a crash cut short
    return out


def make_backup(store: Any, reason: str = "", out: Path | None = None) -> Path:
    """A backup of an open store in the standard place (or ``out``); keeps the newest
    ``KEEP`` in the standard place. (Kept for the store's own use before a migration.)"""
    store.checkpoint()  # the snapshot then redoes nothing
    info = write_backup(store.root, out, verify=False, reason=reason)
    prune(backups_dir(store.root))
    return info.path


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


def verify_backup(path: Path, passphrase: str | None = None) -> list[str]:
    """Unpack to a temp folder (after the same checks a restore makes) and run the
    full check there."""
    import tempfile

    from villageboard.store.check import check_data_dir
    from villageboard.store.restore import extract

    work, hold = leftovers.work_dir(Path(tempfile.gettempdir()), leftovers.VERIFY_PREFIX)
    try:
        dest = work / "data"
        extract(Path(path), dest, passphrase)
        return check_data_dir(dest)
    finally:
        hold.release()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def restore(
    store: Any, path: Path, passphrase: str | None = None, replace_township: str | None = None, vet: Any = None
) -> Path | None:
    """Replace the open (writer) store's data with the backup's (see restore.py)."""
    from villageboard.store.restore import restore as _restore

    return _restore(store, Path(path), passphrase=passphrase, replace_township=replace_township, vet=vet)


def restore_into(
    root: Path, path: Path, passphrase: str | None = None, replace_township: str | None = None, vet: Any = None
) -> Path | None:
    from villageboard.store.restore import restore_into as _restore_into

    return _restore_into(Path(root), Path(path), passphrase=passphrase, replace_township=replace_township, vet=vet)
