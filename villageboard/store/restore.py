"""Restoring a backup: checked before it is trusted, swapped in so that a kill at any
instant leaves the old data or the restored data, never a mix.

Checks, before anything in the data dir changes:

- every file in the backup is one a data dir holds (snapshot.KNOWN), with no path
  tricks; the unpacked size is sane (``MAX_UNPACKED``), no file is packed
  suspiciously tightly (``MAX_RATIO``: a zip bomb) and all of it fits on the disk;
- an encrypted backup opens with the passphrase given;
- the backup is of this township (name and code), unless the clerk confirms by
  typing this township's name;
- unpacked into a staging area inside the data dir, the whole backup passes
  ``check`` (every file's seal, the journal chain, every record against it).

The swap is a small journal of its own. ``.restore.json`` (the marker) names the
staging area and the phase:

1. the marker is written with phase ``swap``: from here on the restore always
   finishes (the staging area holds a complete, checked data set);
2. every old entry of the data dir is moved into the staging area's ``old/``;
3. the marker's phase becomes ``place``;
4. every entry of ``new/`` is moved into the data dir;
5. the start-up check's cache is written for the new files, then the marker and the
   staging area are removed.

Renames within one folder tree are atomic, so after a kill the next writer open
(``finish_pending``) sees the marker and redoes step 2 or 4 from where it stopped, or
sees no marker and just removes a staging area (the old data were never touched). It
says which. A reader that meets the marker refuses to open until a writer has
finished the swap.

``VILLAGEBOARD_KILL_AT=step`` (or ``step#n``, the n-th time) kills the process at a
named step, for the tests; ``VILLAGEBOARD_KILL_TRACE=file`` lists the steps passed.
"""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from villageboard.domain.errors import DamagedError, VBError
from villageboard.store import leftovers
from villageboard.store import storage as st
from villageboard.store.backup import (
    PassphraseError,
    bad_zip,
    is_encrypted,
    open_reader,
    read_member,
)
from villageboard.store.killpoints import kill_point
from villageboard.store.snapshot import ATTACHMENTS, JOURNAL_DIR, META, known
from villageboard.store.store import REGISTRY

MARKER = ".restore.json"
LOCK = ".lock"
#: No township's data comes near this unpacked (the reference township: 1.5 GB).
MAX_UNPACKED = 32 * 1024**3
#: Data files pack 5-20 times; a member packed tighter than this is a zip bomb.
MAX_RATIO = 200
#: Free space kept beyond the unpacked size.
MARGIN = 256 * 1024**2
#: The restored files' mtime is set this far back, so the start-up check's cache can
#: trust them at once (it distrusts files written in the last 3 s).
AGE_S = 60


# ------------------------------------------------------------------ checking a backup
def inspect(zf: zipfile.ZipFile, path: Path, dest_parent: Path) -> list[zipfile.ZipInfo]:
    """The members to unpack, after refusing anything a data dir does not hold, a zip
    bomb, or more than the disk can take."""
    members: list[zipfile.ZipInfo] = []
    unknown: list[str] = []
    total = 0
    seen: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        if name.endswith("/"):
            continue  # a folder entry
        if not known(name) or name in seen or (info.external_attr >> 16) & 0o170000 == 0o120000:
            unknown.append(name)
            continue
        seen.add(name)
        if info.file_size > 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise VBError(
                f"备份文件 {path.name} 里的 {name} 解压后有{_mb(info.file_size)}，压缩得不正常"
                "（可能是恶意文件），没有恢复。"
            )
        total += info.file_size
        members.append(info)
    if unknown:
        shown = "、".join(unknown[:5]) + ("等" if len(unknown) > 5 else "")
        raise VBError(
            f"备份文件 {path.name} 里有数据文件夹不该有的文件：{shown}。这不是本程序做的备份，或已被改动，没有恢复。"
        )
    if META not in seen:
        raise VBError(f"{path.name} 不是本程序的备份（缺少 {META}）")
    if total > MAX_UNPACKED:
        raise VBError(f"备份文件 {path.name} 解压后有{_mb(total)}，远超正常大小，没有恢复。")
    try:
        free = shutil.disk_usage(dest_parent).free
    except OSError:
        free = None
    if free is not None and total + MARGIN > free:
        raise VBError(
            f"磁盘空间不够：恢复需要{_mb(total + MARGIN)}，{dest_parent} 所在的磁盘只剩{_mb(free)}。"
            "没有恢复。请先腾出空间。"
        )
    return members


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB" if n < 1024**3 else f"{n / 1024**3:,.1f} GB"


def _township(body: Any) -> tuple[str, str]:
    doc = (body or {}).get("settings", {}).get("1") or {}
    return str(doc.get("name", "")), str(doc.get("code", ""))


class TownshipMismatch(VBError):
    """The backup is of another township; ``ours`` is (name, code) of this one, whose
    name the clerk types to replace it anyway."""

    def __init__(self, theirs: tuple[str, str], ours: tuple[str, str], message: str) -> None:
        super().__init__(message)
        self.theirs = theirs
        self.ours = ours


def check_township(zf: zipfile.ZipFile, path: Path, root: Path, replace_township: str | None) -> None:
    """Refuse a backup of another township unless the clerk typed this one's name."""
    try:
        raw = read_member(zf, REGISTRY, path)
    except KeyError:
        raw = None  # a data dir with no settings yet
    try:
        theirs = _township(st.unseal(Path(REGISTRY), raw)) if raw is not None else ("", "")
    except DamagedError as exc:
        raise VBError(f"备份文件 {path.name} 里的 {REGISTRY} 已损坏（{exc.reason}），没有恢复。") from None
    try:
        ours = _township(st.read_sealed(root / REGISTRY))
    except (OSError, DamagedError):
        return  # no township here (an empty or damaged data dir): nothing to mix up
    if theirs == ours or not any(ours):
        return
    if replace_township is not None and replace_township.strip() == ours[0]:
        return
    raise TownshipMismatch(
        theirs,
        ours,
        f"这个备份是“{theirs[0]}”（代码{theirs[1] or '无'}）的数据，不是本乡镇“{ours[0]}”（代码{ours[1] or '无'}）的。"
        f"没有恢复。确实要用它替换“{ours[0]}”的全部数据，请输入本乡镇的名称确认"
        f"（命令行：--replace-township {ours[0]}）。",
    )


def extract(
    path: Path, dest: Path, passphrase: str | None = None, root: Path | None = None, replace_township: str | None = None
) -> None:
    """Check the backup and unpack it into ``dest`` (a new folder)."""
    zf = open_reader(path, passphrase)
    with zf:
        members = inspect(zf, path, dest.parent)
        if is_encrypted(zf) and not passphrase:
            raise PassphraseError(f"备份文件 {path.name} 加了密码，请输入密码。")
        if root is not None:
            check_township(zf, path, root, replace_township)
        dest.mkdir(parents=True, exist_ok=True)
        for info in members:
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                src = zf.open(info)
            except RuntimeError:
                raise PassphraseError(f"备份文件 {path.name} 的密码不对，没有恢复任何数据。") from None
            except bad_zip() + (OSError,) as exc:
                raise VBError(f"备份文件 {path} 已损坏（{info.filename}：{exc}）") from None
            written = 0
            try:
                with src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size:
                            raise VBError(f"备份文件 {path.name} 里的 {info.filename} 比登记的大，没有恢复。")
                        out.write(chunk)
                    out.flush()
                    _set_back(out.fileno(), target)
            except RuntimeError:
                raise PassphraseError(f"备份文件 {path.name} 的密码不对，没有恢复任何数据。") from None
            except bad_zip() as exc:
                raise VBError(f"备份文件 {path} 已损坏（{info.filename}：{exc}）") from None


# ------------------------------------------------------------------ the start-up check's cache
def _set_back(fd: int, path: Path) -> None:
    """Date a file just unpacked ``AGE_S`` back, so that the start-up check's cache can
    trust it at once (it distrusts files written in the last 3 s); done on the open
    file, where it costs next to nothing."""
    past = time.time() - AGE_S
    if os.utime in os.supports_fd:
        os.utime(fd, (past, past))
    else:
        os.utime(path, (past, past))


def _adopt(folder: Path) -> tuple[dict[str, list[int]], dict[str, dict[str, Any]]]:
    """What the start-up check would record for a data dir that ``check`` has just
    passed: the stat of every file (dated back as unpacked) and a
    summary of every journal segment. Attachments are hashed here (``check`` does not
    read them)."""
    import hashlib

    from villageboard.store.journal import last_line, segments
    from villageboard.store.segfiles import is_gz, key, last_line_of, read_segment
    from villageboard.store.verify import sealed_files, stat_key

    files: dict[str, list[int]] = {}
    for rel in sealed_files(folder, (JOURNAL_DIR, ATTACHMENTS)):
        files[rel] = stat_key(folder / rel)
    att = folder / ATTACHMENTS
    if att.is_dir():
        for p in sorted(att.iterdir()):
            if hashlib.sha256(p.read_bytes()).hexdigest() != p.stem:
                raise VBError(f"备份里的照片 {p.name} 内容与校验值不符，没有恢复。")
            files[f"{ATTACHMENTS}/{p.name}"] = stat_key(p)
    segs: dict[str, dict[str, Any]] = {}
    for seg in segments(folder / JOURNAL_DIR):
        if is_gz(seg):  # checked just now: it decompresses
            data = read_segment(seg)[1]
            first_raw, (last_raw, _end, _torn) = data[: data.find(b"\n") + 1], last_line_of(data)
        else:
            with open(seg, "rb") as fh:
                first_raw = fh.readline()
            last_raw, _end, _torn = last_line(seg)
        c: dict[str, Any] = {
            "stat": stat_key(seg),
            "first_seq": None,
            "first_prev": None,
            "last_seq": None,
            "last_hash": None,
        }
        if first_raw.strip():
            first, last = _ends(first_raw), _ends(last_raw)
            c.update(first_seq=first["seq"], first_prev=first["prev"], last_seq=last["seq"], last_hash=last["hash"])
        segs[key(seg)] = c
    return files, segs


def _ends(raw: bytes) -> dict[str, Any]:
    """seq, prev and hash of one journal line that ``check`` has just verified, read
    from the line's end: entries are written with sorted keys, so these come after
    the changes (which can be megabytes: parsing whole first and last lines of every
    segment took 11 s at reference scale)."""
    import orjson

    tail = raw[-4096:]
    try:
        h = tail.rindex(b'"hash":"')
        p = tail.rindex(b'"prev":"')
        q = tail.rindex(b'"seq":')
        digits = tail[q + 6 :].split(b",", 1)[0].split(b"}", 1)[0]
        return {"hash": tail[h + 8 : h + 72].decode(), "prev": tail[p + 8 : p + 72].decode(), "seq": int(digits)}
    except ValueError:
        entry: dict[str, Any] = orjson.loads(raw)
        return entry


def _write_cache(root: Path, files: dict[str, list[int]], segs: dict[str, dict[str, Any]]) -> None:
    from villageboard.store.verify import Verifier, cache_path_for

    cache = cache_path_for(root)
    if cache is None:
        return
    try:
        meta = st.read_sealed(root / META)
    except (OSError, DamagedError):
        cache.unlink(missing_ok=True)
        return
    v = Verifier(root, cache, [], root / JOURNAL_DIR, root / ATTACHMENTS, identity=str(meta.get("created", "")))
    v.files, v.segs, v.dirty = files, segs, True
    v.save()


def _forget_caches(root: Path) -> None:
    from villageboard.store.derived import derived_dir_for
    from villageboard.store.verify import cache_path_for

    cache = cache_path_for(root)
    if cache is not None:
        cache.unlink(missing_ok=True)
    kept = derived_dir_for(root)
    if kept is not None:
        shutil.rmtree(kept, ignore_errors=True)  # figures of the replaced data


# ------------------------------------------------------------------ the swap
def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name != LOCK and not p.name.startswith("."))


def _set_phase(root: Path, phase: str, work: Path) -> None:
    st.atomic_write(root / MARKER, st.seal({"phase": phase, "work": work.name}))


def pending(root: Path) -> bool:
    return (Path(root) / MARKER).is_file()


def _swap(root: Path, work: Path, phase: str) -> None:
    new, old = work / "new", work / "old"
    if phase == "swap":
        old.mkdir(exist_ok=True)
        for p in _entries(root):
            os.replace(p, old / p.name)
            kill_point("restore.move-old")
        st.fsync_dir(root)
        _set_phase(root, "place", work)
        kill_point("restore.phase-place")
    for p in _entries(new) if new.is_dir() else []:
        os.replace(p, root / p.name)
        kill_point("restore.place-new")
    st.fsync_dir(root)
    kill_point("restore.placed")


def finish_pending(root: Path) -> str | None:
    """At a writer's open: finish a restore a kill interrupted, or drop one that never
    reached the swap. Returns what was done, in words for the clerk."""
    root = Path(root)
    note = None
    marker = root / MARKER
    keep = None
    if marker.is_file():
        try:
            body = st.read_sealed(marker)
        except DamagedError:
            body = None  # torn before its rename: impossible, as it is written atomically
        if body and (root / body["work"] / "new").is_dir():
            work = root / body["work"]
            keep = work.name
            _swap(root, work, body["phase"])
            _forget_caches(root)
            note = "上次从备份恢复数据时程序被中断，已接着把恢复做完：现在的数据是备份里的数据。"
        marker.unlink()
        st.fsync_dir(root)
    stale = [
        p
        for p in root.iterdir()
        if p.name.startswith(leftovers.RESTORE_PREFIX) and (p.name == keep or not leftovers.in_use(p))
    ]
    try:  # staging areas of earlier versions sat beside the data dir
        stale += [
            p
            for p in root.parent.iterdir()
            if p.name.startswith(leftovers.RESTORE_PREFIX) and p.is_dir() and not leftovers.in_use(p)
        ]
    except OSError:
        pass
    for p in stale:
        if p.name != keep and note is None and (p / "new").is_dir() and not (p / "old").exists():
            note = "上次从备份恢复数据时程序在替换数据之前被中断，数据仍是恢复之前的样子，恢复没有进行。"
        leftovers.remove(p)
    return note


#: Checks the caller adds on an unpacked backup before it is trusted (the services pass
#: the template check: the store knows nothing of templates). Returns problems.
Vet = Callable[[Path], list[str]]


def restore(
    store: Any, path: Path, passphrase: str | None = None, replace_township: str | None = None, vet: Vet | None = None
) -> Path | None:
    """Replace the open (writer) store's data with the backup's. Returns the automatic
    backup taken of what was there before. The store is unusable afterwards: reopen."""
    from villageboard.locations import backups_dir
    from villageboard.store.backup import prune, raw_backup, write_backup
    from villageboard.store.check import check_data_dir

    if store.readonly:
        from villageboard.domain.errors import ReadOnlyError

        raise ReadOnlyError()
    root = Path(store.root)
    path = Path(path).resolve()
    work, hold = leftovers.work_dir(root, leftovers.RESTORE_PREFIX)
    try:
        new = work / "new"
        extract(path, new, passphrase, root=root, replace_township=replace_township)
        kill_point("restore.extracted")
        problems = check_data_dir(new) + (vet(new) if vet is not None else [])
        if problems:
            raise VBError("备份文件检查未通过，没有恢复：\n" + "\n".join(problems[:20]))
        files, segs = _adopt(new)
        kill_point("restore.checked")
        before = None
        if any(_entries(root)):
            try:
                before = write_backup(root, None, verify=False, reason="恢复之前自动备份").path
            except (VBError, OSError, ValueError, KeyError):
                before = raw_backup(root)  # damaged data: keep every byte as it is
            prune(backups_dir(root))
        kill_point("restore.auto-backup")
    except BaseException:
        hold.release()
        shutil.rmtree(work, ignore_errors=True)
        raise
    store.retire()
    _set_phase(root, "swap", work)
    kill_point("restore.marker")
    _swap(root, work, "swap")
    _forget_caches(root)
    _write_cache(root, files, segs)
    kill_point("restore.cache")
    (root / MARKER).unlink()
    st.fsync_dir(root)
    kill_point("restore.done")
    hold.release()
    shutil.rmtree(work, ignore_errors=True)
    return before


def restore_into(
    root: Path, path: Path, passphrase: str | None = None, replace_township: str | None = None, vet: Vet | None = None
) -> Path | None:
    """Restore a backup into ``root`` even when the data there is damaged (exactly when
    a restore is needed): take the writer lock without trusting any file, back up what
    is there, and swap the backup in. Returns the automatic backup of the old data."""
    from villageboard.store.store import Store, is_data_dir, is_empty_dir

    root = Path(root)
    if is_data_dir(root) or pending(root):
        try:
            store = Store.open(root)
        except DamagedError:
            store = Store(root, readonly=False)
            store.acquire()
    elif is_empty_dir(root):
        root.mkdir(parents=True, exist_ok=True)
        store = Store(root, readonly=False)
        store.acquire()
    else:
        raise VBError(f"{root} 里有其他文件，不能恢复到这里")
    try:
        return restore(store, Path(path), passphrase=passphrase, replace_township=replace_township, vet=vet)
    finally:
        store.close()
