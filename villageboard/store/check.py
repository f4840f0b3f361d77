"""`villageboard check`: every file readable, the journal chain whole, and every record
exactly what the journal says it should be.

The journal is read twice, each time one segment at a time (never the whole of it in
memory), a compressed segment decompressed (segfiles.py; one that does not decompress
is reported by name and its entries are missing from the chain):

1. forwards, for the chain: each line's hash, number and link to the line before.
   A line exactly as the journal writes it is checked over its own bytes
   (:func:`~villageboard.store.journal.sealed_line`); any other line is parsed and
   hashed as an entry, as always;
2. backwards, for what each record should be: the first change of a record met going
   backwards is its latest, and only that one is digested (a record saved ten times
   is compared with its last save, as before, without digesting the nine others).

A record and its latest change are compared by a digest of their canonical JSON: the
record as stored (with the number of the journal line that wrote it) against the
change's after-image with that number added.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from villageboard.domain.errors import DamagedError
from villageboard.store import storage as st
from villageboard.store.journal import GENESIS, entry_hash, sealed_line, segments
from villageboard.store.segfiles import is_gz, segment_lines
from villageboard.store.store import ATTACHMENTS, CHECKPOINT, COUNTERS, HEAD, JOURNAL_DIR, META
from villageboard.store.verify import all_sealed

Ident = tuple[str, str, str]  # file, table, key


def _digest(doc: dict[str, Any]) -> bytes:
    """A stored record's digest (its ``_jseq`` included)."""
    return hashlib.blake2b(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


def _digest_after(after: dict[str, Any], seq: int) -> bytes:
    """The digest the record written by journal line ``seq`` with ``after`` must have."""
    doc = {k: v for k, v in after.items() if k != "_jseq"} if "_jseq" in after else after
    doc["_jseq"] = seq
    return _digest(doc)


def _lines(seg: Path) -> list[bytes]:
    """A segment's lines (a compressed one decompressed); none for a damaged one (pass 1
    reports it: a segment that does not decompress is named with its reason)."""
    try:
        return segment_lines(seg)
    except DamagedError:
        return []


def _chain(root: Path, segs: list[Path], rel: Callable[[Path], str], problems: list[str]) -> tuple[bool, int, str]:
    """Pass 1: (chain whole, last number, last hash)."""
    expect_prev, expect_seq = GENESIS, 1
    chain_ok = True
    for seg in segs:
        try:
            lines = segment_lines(seg)
        except DamagedError as exc:
            problems.append(f"{rel(exc.path)}：{exc.reason}")
            chain_ok = False
            continue
        for n, raw in enumerate(lines, 1):
            where = f"{rel(seg)} 第{n}行"
            if not raw.endswith(b"\n"):
                problems.append(f"{where}：修改记录的最后一行不完整（被截断）")
                chain_ok = False
                break
            seq: Any
            fast = sealed_line(raw)
            if fast is not None:
                seq, prev, digest = fast
            else:
                try:
                    entry = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    problems.append(f"{where}：修改记录无法读取（被改动或损坏）")
                    chain_ok = False
                    continue
                seq, prev, digest = entry.get("seq"), entry.get("prev"), entry.get("hash", "")
                if entry_hash(entry) != entry.get("hash"):
                    problems.append(f"{where}：修改记录的内容被改动（校验值不符）")
                    chain_ok = False
            if seq != expect_seq:
                problems.append(f"{where}：修改记录编号应为{expect_seq}，实际为{seq}（有记录被删除或调换顺序）")
                chain_ok = False
            elif prev != expect_prev:
                problems.append(f"{where}：修改记录前后链接断开（有记录被删除、插入或调换顺序）")
                chain_ok = False
            expect_prev = digest
            expect_seq = (seq or expect_seq) + 1
    return chain_ok, expect_seq - 1, expect_prev


def _entries_backwards(segs: list[Path]) -> Iterator[dict[str, Any]]:
    """Every complete, readable journal entry, last first."""
    for seg in reversed(segs):
        lines = _lines(seg)
        for raw in reversed(lines):
            if not raw.endswith(b"\n"):
                continue  # a torn last line (pass 1 reported it)
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            yield entry
        del lines


#: What a record must be: the journal line's number (5 bytes) and, unless the change
#: removed the record, the digest it must have (16 bytes): one small object a record.
Want = bytes


def _want(seq: int, digest: bytes | None) -> Want:
    return seq.to_bytes(5, "big") + (digest or b"")


Latest = dict[str, dict[str, dict[str, Want]]]


def _latest(segs: list[Path]) -> tuple[Latest, dict[str, int]]:
    """Pass 2: file -> table -> key -> what the record must be, from its latest change;
    and the highest value every counter reached, in the order the journal first names
    them."""
    latest: Latest = {}
    counters_seen: dict[str, int] = {}
    first_named: dict[str, tuple[int, int]] = {}
    for n, entry in enumerate(_entries_backwards(segs)):
        for i, (name, value) in enumerate((entry.get("counters") or {}).items()):
            counters_seen[name] = max(counters_seen.get(name, 0), value)
            first_named[name] = (-n, i)
        seq = entry.get("seq")
        if type(seq) is not int or seq < 0:
            continue  # only a broken chain has such a line, and then no record is compared
        for c in reversed(entry.get("changes", [])):
            try:
                f, t, key, after = c["f"], c["t"], str(c["k"]), c["a"]
                per_file = latest.get(f)
                if per_file is None:
                    per_file = latest[f] = {}
                per_table = per_file.get(t)
                if per_table is None:
                    per_table = per_file[t] = {}
                if key in per_table:
                    continue  # a later change of this record was met first
                per_table[key] = _want(seq, _digest_after(after, seq) if after is not None else None)
            except (KeyError, TypeError, AttributeError, OverflowError):
                continue  # not a change the store writes: the chain check has reported its line
    ordered = sorted(counters_seen, key=first_named.__getitem__)
    return latest, {name: counters_seen[name] for name in ordered}


def _worker() -> None:
    """``python -c "from villageboard.store.check import _worker; _worker()" JOURNAL``:
    pass 2 of a journal folder, pickled to stdout."""
    result = _latest(segments(Path(sys.argv[1])))
    fd = sys.stdout.fileno()
    if sys.platform.startswith("win"):
        import msvcrt

        msvcrt.setmode(fd, os.O_BINARY)  # no newline translation in the pickle
    with os.fdopen(fd, "wb", closefd=False) as out:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)


#: A journal this large is read for the records' latest changes in a second process
#: (on another core) while this one checks the chain and reads the data files.
PARALLEL_BYTES = 64 * 1024 * 1024
#: About how many bytes of journal one byte of a compressed segment holds.
GZ_RATIO = 16


def _start_latest(segs: list[Path], journal: Path) -> Callable[[], tuple[Latest, dict[str, int]]]:
    """Begin pass 2 and return how to get its result: in a second interpreter for a
    large journal on a machine with more than one core, else here, when asked (also
    whenever the second interpreter cannot start or fails)."""
    size = 0
    for seg in segs:
        try:
            size += seg.stat().st_size * (GZ_RATIO if is_gz(seg) else 1)
        except OSError:
            pass
    if size < PARALLEL_BYTES or (os.cpu_count() or 1) < 2 or getattr(sys, "frozen", False):
        return lambda: _latest(segs)
    import villageboard

    env = dict(os.environ)
    here = str(Path(villageboard.__file__).resolve().parent.parent)  # this very package
    env["PYTHONPATH"] = os.pathsep.join(x for x in (here, env.get("PYTHONPATH", "")) if x)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from villageboard.store.check import _worker; _worker()", str(journal)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        return lambda: _latest(segs)

    def result() -> tuple[Latest, dict[str, int]]:
        assert proc.stdout is not None
        try:
            got: tuple[Latest, dict[str, int]] = pickle.load(proc.stdout)  # read as it arrives
        except Exception:
            got = _latest(segs)
        finally:
            proc.stdout.close()
            if proc.wait() != 0:
                got = _latest(segs)
        return got

    return result


def _first_written(segs: list[Path], missing: set[Ident]) -> list[Ident]:
    """``missing`` in the order the journal first wrote them."""
    order: list[Ident] = []
    left = set(missing)
    for seg in segs:
        for raw in _lines(seg):
            if not left:
                return order
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            for c in entry.get("changes", []):
                ident = (c["f"], c["t"], str(c["k"]))
                if ident in left:
                    left.discard(ident)
                    order.append(ident)
    return order + sorted(left)


def check_data_dir(root: Path, see: Callable[[str, dict[str, Any]], None] | None = None) -> list[str]:
    """Return one Chinese line per problem; an empty list means the data dir is sound.
    ``see(rel, body)`` is shown every readable data file on the way (the services
    check what the records say about each other from it, without a second read)."""
    root = Path(root)
    problems: list[str] = []

    def rel(p: Path) -> str:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return str(p)

    # 1. the journal chain, then each record's latest change ---------------------
    segs = segments(root / JOURNAL_DIR)
    latest_later = _start_latest(segs, root / JOURNAL_DIR)
    chain_ok, last_seq, last_hash = _chain(root, segs, rel, problems)

    # 2. the fixed files --------------------------------------------------------
    head: dict[str, Any] | None = None
    counters: dict[str, int] | None = None
    for name in (META, COUNTERS, HEAD):
        p = root / name
        try:
            body = st.read_sealed(p)
        except FileNotFoundError:
            problems.append(f"{name}：文件不见了")
            continue
        except DamagedError as exc:
            problems.append(f"{name}：{exc.reason}")
            continue
        if name == HEAD:
            head = body
        elif name == COUNTERS:
            counters = body
    if head is not None and chain_ok:
        if head.get("seq") != last_seq or head.get("hash") != last_hash:
            problems.append(
                f"{HEAD}：最后保存的位置（第{head.get('seq')}条）与修改记录（共{last_seq}条）对不上，"
                "修改记录可能被截断或删改"
            )

    # 3. every record -----------------------------------------------------------
    if (root / CHECKPOINT).exists():
        try:
            ckpt = st.read_sealed(root / CHECKPOINT)
            if chain_ok and int(ckpt.get("seq", 0)) > last_seq:
                problems.append(f"{CHECKPOINT}：核实点（第{ckpt.get('seq')}条）超出了修改记录（共{last_seq}条）")
        except DamagedError as exc:
            problems.append(f"{CHECKPOINT}：{exc.reason}")
    fixed = {root / META, root / COUNTERS, root / HEAD, root / CHECKPOINT}
    files = [p for p in all_sealed(root, (JOURNAL_DIR, ATTACHMENTS)) if p not in fixed]
    max_key: dict[str, int] = {}
    # each record's key and digest (16 bytes each, one string a table), in the order met:
    # compared once pass 2 is in
    found: list[tuple[str, list[tuple[str, list[str], bytes]]]] = []
    for p in files:
        r = rel(p)
        try:
            body = st.read_sealed(p)
        except DamagedError as exc:
            problems.append(f"{r}：{exc.reason}")
            continue
        if see is not None:
            see(r, body)
        tables = []
        for tname, docs in body.items():
            for key, doc in docs.items():
                ctr = doc.get("_ctr")
                if ctr:
                    max_key[ctr] = max(max_key.get(ctr, 0), int(key))
            if chain_ok:
                tables.append((tname, list(docs), b"".join(map(_digest, docs.values()))))
        found.append((r, tables))
        del body
    latest, counters_seen = latest_later()
    if chain_ok:
        for r, tables in found:
            want_file = latest.get(r, {})
            for tname, keys, digests in tables:
                want_table = want_file.get(tname, {})
                for i, key in enumerate(keys):
                    digest = digests[16 * i : 16 * i + 16]
                    want = want_table.pop(key, None)
                    if want is None:
                        problems.append(f"{r} {tname}#{key}：这条记录没有对应的修改记录（可能被直接改动）")
                    elif digest != want[5:]:  # a removed record's digest is empty
                        problems.append(
                            f"{r} {tname}#{key}：内容与修改记录第{int.from_bytes(want[:5], 'big')}条不一致（被直接改动）"
                        )
    del found
    if chain_ok:
        missing = {
            (f, t, k): int.from_bytes(w[:5], "big")
            for f, per_file in latest.items()
            for t, per_table in per_file.items()
            for k, w in per_table.items()
        }
        for ident in _first_written(segs, set(missing)) if missing else []:
            problems.append(f"{ident[0]} {ident[1]}#{ident[2]}：记录不见了（修改记录第{missing[ident]}条写入过它）")

    # 4. counters ---------------------------------------------------------------
    if counters is not None:
        for name, top in sorted(max_key.items()):
            if counters.get(name, 0) < top:
                problems.append(f"{COUNTERS}：编号计数器“{name}”为{counters.get(name, 0)}，落后于已有记录编号{top}")
        for name, value in counters_seen.items():
            if counters.get(name, 0) < value:
                problems.append(f"{COUNTERS}：编号计数器“{name}”为{counters.get(name, 0)}，落后于修改记录中的{value}")
    return problems
