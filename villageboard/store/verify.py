"""Damage detection at every start, kept fast by remembering what was already verified.

Every data file carries its own SHA-256 (see storage.py) and the journal is a hash
chain, so any file can be checked on its own. Checking all of them at every start
would cost seconds at the reference scale, so a small cache (kept outside the data
dir, so backups and restores stay byte-exact) remembers each file's size, mtime and
inode as last verified or last written by this program. At start only files whose
stat changed are re-verified; a file that vanished, or one that changed behind the
program's back, is reported by name before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import orjson

from villageboard.domain.errors import DamagedError
from villageboard.store import storage as st
from villageboard.store.fingerprint import fingerprint, is_racy
from villageboard.store.journal import GENESIS, entry_hash, sealed_line, segments
from villageboard.store.segfiles import key as seg_key
from villageboard.store.segfiles import read_segment, split_lines, twin

#: 2: journal segments are kept by number (``000001``), whichever form the file has;
#: a cache of format 1 (kept by file name, ``000001.jsonl``) is read too.
CACHE_FORMAT = 2


def stat_key(path: Path | str) -> list[int]:
    """The stat fingerprint of the file at ``path``."""
    return fingerprint(os.stat(path))


class Verifier:
    def __init__(
        self,
        root: Path,
        cache_path: Path | None,
        sealed: list[str],
        journal_dir: Path,
        attachments: Path,
        identity: str = "",
        hints: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        # the folder as one absolute path: "data" and "/home/x/data" are the same one
        self.where = str(Path(root).resolve())
        self.identity = identity  # which township this folder holds (its creation stamp)
        #: Files a power cut may leave torn or old, which the store rebuilds on open
        #: (HEAD and counters, checkpoint.py): not damage when they fail their seal.
        self.hints = hints
        self.cache_path = cache_path
        self.sealed = sealed  # relative paths (strings: 5,000 Path objects cost 0.1 s)
        self.journal_dir = journal_dir
        self.attachments = attachments
        self.files: dict[str, list[int]] = {}
        self.segs: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self._load_cache()

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _load_cache(self) -> None:
        if self.cache_path is None:
            return
        try:
            body = st.read_sealed(self.cache_path)
        except (FileNotFoundError, DamagedError, OSError):
            return
        if (
            body.get("format") not in (1, CACHE_FORMAT)
            or body.get("root") != self.where
            or body.get("identity") != self.identity
        ):
            return  # another township now lives at this path: verify everything afresh
        self.files = body.get("files", {})
        self.segs = {seg_key(Path(name)): c for name, c in body.get("segments", {}).items()}

    def save(self) -> None:
        if self.cache_path is None or not self.dirty:
            return
        # A file written moments ago may be changed again within the same clock tick,
        # leaving size, mtime and inode as they were (git's "racy" rule): such files are
        # kept by name only, so the next start hashes them again.
        now = time.time_ns()
        files = {rel: (key if key and not is_racy(key[1], now) else None) for rel, key in self.files.items()}
        segs = {
            name: (c if c.get("stat") and not is_racy(c["stat"][1], now) else {**c, "stat": None})
            for name, c in self.segs.items()
        }
        try:
            st.atomic_write(
                self.cache_path,
                st.seal(
                    {
                        "format": CACHE_FORMAT,
                        "root": self.where,
                        "identity": self.identity,
                        "files": files,
                        "segments": segs,
                    }
                ),
            )
            self.dirty = False
        except Exception:
            pass  # only a cache: the next start verifies more

    # -- at start -------------------------------------------------------------------
    def verify(self) -> None:
        seen: set[str] = set(self.sealed)
        base = str(self.root) + os.sep
        for rel in self.sealed:
            key = stat_key(base + rel)
            if self.files.get(rel) == key:
                continue
            path = self.root / rel
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise DamagedError(path, f"无法读取：{exc.strerror}") from exc
            try:
                st.check_sealed(path, data, inflate=False)  # the hash covers the stored bytes
            except DamagedError:
                if rel not in self.hints:
                    raise
                self.files.pop(rel, None)
                continue
            self.files[rel] = key
            self.dirty = True
        if self.attachments.is_dir():
            for path in sorted(self.attachments.iterdir()):
                if path.name.startswith("."):
                    continue
                rel = self.rel(path)
                seen.add(rel)
                key = stat_key(path)
                if self.files.get(rel) == key:
                    continue
                if hashlib.sha256(path.read_bytes()).hexdigest() != path.stem:
                    raise DamagedError(path, "照片文件内容与登记的校验值不符")
                self.files[rel] = key
                self.dirty = True
        gone = sorted(set(self.files) - seen - set(self.hints))
        if gone:
            raise DamagedError(self.root / gone[0], "文件不见了（被删除或移走）")
        self._verify_journal()

    def _verify_journal(self) -> None:
        prev_hash, prev_seq = GENESIS, 0
        segs = segments(self.journal_dir)
        names = {seg_key(p) for p in segs}
        gone = sorted(set(self.segs) - names)
        if gone:
            raise DamagedError(self.journal_dir / gone[0], "修改记录文件不见了")
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            try:
                key = stat_key(seg)
            except FileNotFoundError:  # compressed by the writer since it was listed
                seg = twin(seg)
                key = stat_key(seg)
            c = self.segs.get(seg_key(seg))
            if c is not None and c.get("stat") == key:
                if c["first_seq"] is not None and (c["first_seq"] != prev_seq + 1 or c["first_prev"] != prev_hash):
                    raise DamagedError(seg, "修改记录前后接不上（有记录被删除或调换）")
                if c["last_seq"] is not None:
                    prev_hash, prev_seq = c["last_hash"], c["last_seq"]
                continue
            first_seq = first_prev = None
            seg, data = read_segment(seg)
            key = stat_key(seg)
            for n, raw in enumerate(split_lines(data), 1):
                if not raw.endswith(b"\n"):
                    if last:
                        break  # a torn append; recovery decides
                    raise DamagedError(seg, f"第{n}行不完整（被截断）")
                fast = sealed_line(raw)  # a line as written: checked over its bytes
                if fast is not None:
                    seq, prev, digest = fast
                else:
                    try:
                        entry = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        raise DamagedError(seg, f"第{n}行无法读取（被改动或损坏）") from None
                    if entry_hash(entry) != entry.get("hash"):
                        raise DamagedError(seg, f"第{n}行内容被改动（校验值不符）")
                    seq, prev, digest = entry.get("seq"), entry.get("prev"), entry.get("hash")
                if seq != prev_seq + 1 or prev != prev_hash:
                    raise DamagedError(seg, f"第{n}行前后接不上（有记录被删除、插入或调换）")
                if first_seq is None:
                    first_seq, first_prev = seq, prev
                prev_hash, prev_seq = digest, seq
            del data
            self.segs[seg_key(seg)] = {
                "stat": key,
                "first_seq": first_seq,
                "first_prev": first_prev,
                "last_seq": prev_seq if first_seq is not None else None,
                "last_hash": prev_hash if first_seq is not None else None,
            }
            self.dirty = True

    # -- as the store writes ------------------------------------------------------
    def note(self, path: Path) -> None:
        try:
            self.files[self.rel(path)] = stat_key(path)
            self.dirty = True
        except OSError:
            pass

    def note_segment(self, seg: Path, entry: dict[str, Any] | None, first: bool) -> None:
        """After an append (or a rollback): the segment's new stat and last entry."""
        try:
            key = stat_key(seg)
        except OSError:
            return
        c = self.segs.get(seg_key(seg)) or {"first_seq": None, "first_prev": None, "last_seq": None, "last_hash": None}
        if entry is not None:
            if first or c["first_seq"] is None:
                c["first_seq"], c["first_prev"] = entry["seq"], entry["prev"]
            c["last_seq"], c["last_hash"] = entry["seq"], entry["hash"]
        c["stat"] = key
        self.segs[seg_key(seg)] = c
        self.dirty = True

    def forget_segment(self, seg: Path) -> None:
        self.segs.pop(seg_key(seg), None)
        self.dirty = True

    def compressed(self, before: os.stat_result, gz: Path) -> None:
        """A sealed segment is now stored compressed (compress.py), holding exactly the
        bytes it held plain: what was recorded for the plain file (when it is the file
        that was compressed) holds for the compressed one, so the next start does not
        read it again. Only an entry already kept is replaced (the dict keeps its
        size: a save of this cache in another thread may be going over it)."""
        k = seg_key(gz)
        c = self.segs.get(k)
        if c is None or c.get("stat") != fingerprint(before):
            return
        try:
            self.segs[k] = {**c, "stat": stat_key(gz)}
        except OSError:
            return
        self.dirty = True


def cache_path_for(root: Path) -> Path | None:
    from villageboard.locations import verify_cache_file
    from villageboard.private import private_dir

    try:
        path = verify_cache_file(root)
        private_dir(path.parent)  # names and amounts are kept there: this user only
        return path
    except Exception:
        return None


def sealed_files(root: Path, skip_dirs: tuple[str, ...] = ("journal", "attachments")) -> list[str]:
    """Every sealed data file in a data dir (any *.json outside the journal and the
    attachments) as a relative POSIX path, sorted."""
    out: list[str] = []
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as it:
            for e in it:
                name = e.name
                if e.is_dir(follow_symlinks=False):
                    if not (prefix == "" and (name in skip_dirs or name.startswith("."))):
                        stack.append((e.path, f"{prefix}{name}/"))
                elif name.endswith(".json") and not name.startswith("."):
                    out.append(prefix + name)
    out.sort()
    return out


def all_sealed(root: Path, skip_dirs: tuple[str, ...] = ("journal", "attachments")) -> list[Path]:
    """The same as :func:`sealed_files`, as paths."""
    return [root / rel for rel in sealed_files(root, skip_dirs)]
