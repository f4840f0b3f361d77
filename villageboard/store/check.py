"""`villageboard check`: every file readable, the journal chain whole, and every record
exactly what the journal says it should be."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from villageboard.domain.errors import DamagedError
from villageboard.store import storage as st
from villageboard.store.journal import GENESIS, entry_hash, segments
from villageboard.store.store import ATTACHMENTS, COUNTERS, HEAD, JOURNAL_DIR, META
from villageboard.store.verify import all_sealed


def _digest(doc: dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "_jseq"}
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


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

    # 1. the journal chain ------------------------------------------------------
    latest: dict[tuple[str, str, str], tuple[int, bytes | None]] = {}
    counters_seen: dict[str, int] = {}
    expect_prev, expect_seq = GENESIS, 1
    chain_ok = True
    for seg in segments(root / JOURNAL_DIR):
        with open(seg, "rb") as fh:
            for n, raw in enumerate(fh, 1):
                where = f"{rel(seg)} 第{n}行"
                if not raw.endswith(b"\n"):
                    problems.append(f"{where}：修改记录的最后一行不完整（被截断）")
                    chain_ok = False
                    break
                try:
                    entry = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    problems.append(f"{where}：修改记录无法读取（被改动或损坏）")
                    chain_ok = False
                    continue
                if entry_hash(entry) != entry.get("hash"):
                    problems.append(f"{where}：修改记录的内容被改动（校验值不符）")
                    chain_ok = False
                if entry.get("seq") != expect_seq:
                    problems.append(
                        f"{where}：修改记录编号应为{expect_seq}，实际为{entry.get('seq')}（有记录被删除或调换顺序）"
                    )
                    chain_ok = False
                elif entry.get("prev") != expect_prev:
                    problems.append(f"{where}：修改记录前后链接断开（有记录被删除、插入或调换顺序）")
                    chain_ok = False
                expect_prev = entry.get("hash", "")
                expect_seq = (entry.get("seq") or expect_seq) + 1
                for c in entry.get("changes", []):
                    latest[(c["f"], c["t"], str(c["k"]))] = (
                        entry["seq"],
                        _digest(c["a"]) if c["a"] is not None else None,
                    )
                for name, value in (entry.get("counters") or {}).items():
                    counters_seen[name] = max(counters_seen.get(name, 0), value)
    last_seq = expect_seq - 1

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
        if head.get("seq") != last_seq or head.get("hash") != expect_prev:
            problems.append(
                f"{HEAD}：最后保存的位置（第{head.get('seq')}条）与修改记录（共{last_seq}条）对不上，"
                "修改记录可能被截断或删改"
            )

    # 3. every record -----------------------------------------------------------
    fixed = {root / META, root / COUNTERS, root / HEAD}
    files = [p for p in all_sealed(root, (JOURNAL_DIR, ATTACHMENTS)) if p not in fixed]
    present: set[tuple[str, str, str]] = set()
    max_key: dict[str, int] = {}
    for p in files:
        r = rel(p)
        try:
            body = st.read_sealed(p)
        except DamagedError as exc:
            problems.append(f"{r}：{exc.reason}")
            continue
        if see is not None:
            see(r, body)
        for tname, docs in body.items():
            for key, doc in docs.items():
                ident = (r, tname, key)
                present.add(ident)
                ctr = doc.get("_ctr")
                if ctr:
                    max_key[ctr] = max(max_key.get(ctr, 0), int(key))
                if not chain_ok:
                    continue
                want = latest.get(ident)
                if want is None:
                    problems.append(f"{r} {tname}#{key}：这条记录没有对应的修改记录（可能被直接改动）")
                elif doc.get("_jseq") != want[0] or _digest(doc) != want[1]:
                    problems.append(f"{r} {tname}#{key}：内容与修改记录第{want[0]}条不一致（被直接改动）")
    if chain_ok:
        for ident, (seq, _d) in latest.items():
            if ident not in present:
                problems.append(f"{ident[0]} {ident[1]}#{ident[2]}：记录不见了（修改记录第{seq}条写入过它）")

    # 4. counters ---------------------------------------------------------------
    if counters is not None:
        for name, top in sorted(max_key.items()):
            if counters.get(name, 0) < top:
                problems.append(f"{COUNTERS}：编号计数器“{name}”为{counters.get(name, 0)}，落后于已有记录编号{top}")
        for name, value in counters_seen.items():
            if counters.get(name, 0) < value:
                problems.append(f"{COUNTERS}：编号计数器“{name}”为{counters.get(name, 0)}，落后于修改记录中的{value}")
    return problems
