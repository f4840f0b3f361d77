"""`check` reads the journal in two streaming passes and checks a line written by the
journal over its own bytes. Whatever the damage, it must report exactly what the plain
reading (parse every line, hash every entry, digest every change) reports: that
reading is kept here as the reference, and seeded damage is applied to small stores."""

from __future__ import annotations

import hashlib
import json
import random
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from villageboard.domain.errors import DamagedError
from villageboard.store import Store
from villageboard.store import storage as sst
from villageboard.store.check import check_data_dir
from villageboard.store.journal import GENESIS, entry_hash, sealed_line, segments
from villageboard.store.segfiles import is_gz, segment_bytes, segment_lines
from villageboard.store.store import CHECKPOINT, COUNTERS, HEAD, META
from villageboard.store.verify import all_sealed


def _old_digest(doc: dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "_jseq"}
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


def reference_check(root: Path) -> list[str]:
    """The plain reading `check` did before it streamed the journal (same messages)."""
    problems: list[str] = []
    rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    latest: dict[tuple[str, str, str], tuple[int, bytes | None]] = {}
    counters_seen: dict[str, int] = {}
    expect_prev, expect_seq, chain_ok = GENESIS, 1, True
    for seg in segments(root / "journal"):
        for n, raw in enumerate(segment_lines(seg), 1):
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
                    _old_digest(c["a"]) if c["a"] is not None else None,
                )
            for name, value in (entry.get("counters") or {}).items():
                counters_seen[name] = max(counters_seen.get(name, 0), value)
    last_seq = expect_seq - 1
    head = counters = None
    for name in (META, COUNTERS, HEAD):
        try:
            body = sst.read_sealed(root / name)
        except FileNotFoundError:
            problems.append(f"{name}：文件不见了")
            continue
        except DamagedError as exc:
            problems.append(f"{name}：{exc.reason}")
            continue
        head = body if name == HEAD else head
        counters = body if name == COUNTERS else counters
    if head is not None and chain_ok and (head.get("seq") != last_seq or head.get("hash") != expect_prev):
        problems.append(
            f"{HEAD}：最后保存的位置（第{head.get('seq')}条）与修改记录（共{last_seq}条）对不上，"
            "修改记录可能被截断或删改"
        )
    fixed = {root / META, root / COUNTERS, root / HEAD, root / CHECKPOINT}
    present: set[tuple[str, str, str]] = set()
    max_key: dict[str, int] = {}
    for p in [p for p in all_sealed(root, ("journal", "attachments")) if p not in fixed]:
        r = rel(p)
        try:
            body = sst.read_sealed(p)
        except DamagedError as exc:
            problems.append(f"{r}：{exc.reason}")
            continue
        for tname, docs in body.items():
            for key, doc in docs.items():
                present.add((r, tname, key))
                if doc.get("_ctr"):
                    max_key[doc["_ctr"]] = max(max_key.get(doc["_ctr"], 0), int(key))
                if not chain_ok:
                    continue
                want = latest.get((r, tname, key))
                if want is None:
                    problems.append(f"{r} {tname}#{key}：这条记录没有对应的修改记录（可能被直接改动）")
                elif doc.get("_jseq") != want[0] or _old_digest(doc) != want[1]:
                    problems.append(f"{r} {tname}#{key}：内容与修改记录第{want[0]}条不一致（被直接改动）")
    if chain_ok:
        for ident, (seq, _d) in latest.items():
            if ident not in present:
                problems.append(f"{ident[0]} {ident[1]}#{ident[2]}：记录不见了（修改记录第{seq}条写入过它）")
    if counters is not None:
        for name, top in sorted(max_key.items()):
            if counters.get(name, 0) < top:
                problems.append(f"{COUNTERS}：编号计数器“{name}”为{counters.get(name, 0)}，落后于已有记录编号{top}")
        for name, value in counters_seen.items():
            if counters.get(name, 0) < value:
                problems.append(f"{COUNTERS}：编号计数器“{name}”为{counters.get(name, 0)}，落后于修改记录中的{value}")
    return problems


def _busy_store(root: Path, seed: int) -> None:
    """Saves that change the same records again and again, in several files and
    tables, with two counters, across small journal segments."""
    rng = random.Random(seed)
    s = Store.create(root)
    keys: list[tuple[str, str, int]] = []
    for i in range(40):
        with s.begin(f"第{i}次") as tx:
            for _ in range(rng.randint(1, 4)):
                if not keys or rng.random() < 0.4:
                    f = rng.choice(["years/2026/a.json", "years/2026/b.json", "registry.json"])
                    t, ctr = rng.choice([("rows", "row"), ("households", "household")])
                    k = tx.insert(f, t, ctr, {"name": f"张伟{i}", "note": 'a"b\\c', "hash": "x"})
                    keys.append((f, t, k))
                else:
                    f, t, k = rng.choice(keys)
                    doc = tx.current(f, t, k) or {}
                    doc["amount_fen"] = rng.randint(0, 10**6)
                    doc["nested"] = {"hash": "y", "list": [1, 2.5, None, "𠮷"]}
                    tx.put(f, t, k, doc)
    s.close()


def _first(body: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = next(iter(next(iter(body.values())).values()))
    return doc


def _reseal(path: Path, change: Any) -> None:
    body = sst.read_sealed(path)
    change(body)
    path.write_bytes(sst.seal(body))


DAMAGE = [
    "none",
    "edit_record",
    "drop_record",
    "drop_two_records",
    "wrong_jseq",
    "flip_journal_byte",
    "delete_line",
    "swap_lines",
    "truncate_journal",
    "respell_line",
    "respell_and_edit",
    "lower_counter",
    "bad_json_line",
]


def _damage(root: Path, how: str, rng: random.Random) -> None:
    segs = segments(root / "journal")
    assert len(segs) > 2 and all(map(is_gz, segs[:-1]))  # sealed segments are compressed
    j = segs[-1] if how == "truncate_journal" else rng.choice([s for s in segs if segment_bytes(s).count(b"\n") > 1])
    lines = segment_bytes(j).splitlines(keepends=True)
    data = sorted(p for p in (root / "years/2026").glob("*.json"))
    if how == "edit_record":
        _reseal(data[0], lambda b: _first(b).update(name="李四"))
    elif how in ("drop_record", "drop_two_records"):

        def drop(b: dict[str, Any]) -> None:
            for table in b.values():
                for key in list(table)[: 2 if how == "drop_two_records" else 1]:
                    del table[key]

        _reseal(data[-1], drop)
    elif how == "wrong_jseq":
        _reseal(data[0], lambda b: _first(b).update(_jseq=1))
    elif how == "flip_journal_byte":
        i = rng.randrange(len(lines) - 1)
        b = bytearray(lines[i])
        at = rng.randrange(len(b) - 1)
        b[at] = ord("7") if b[at] != ord("7") else ord("8")
        lines[i] = bytes(b)
    elif how == "delete_line":
        del lines[rng.randrange(len(lines))]
    elif how == "swap_lines":
        i = rng.randrange(len(lines) - 1)
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif how == "truncate_journal":
        lines[-1] = lines[-1][: len(lines[-1]) // 2]
    elif how in ("respell_line", "respell_and_edit"):
        # the same entry in other bytes (as another JSON writer would put it)
        i = rng.randrange(len(lines))
        entry = json.loads(lines[i])
        if how == "respell_and_edit":
            entry["op"] = "别人"
        lines[i] = json.dumps(entry, ensure_ascii=True, indent=None, separators=(", ", ": ")).encode() + b"\n"
    elif how == "lower_counter":
        sst.atomic_write(root / COUNTERS, sst.seal({"row": 1, "household": 1}))
    elif how == "bad_json_line":
        lines[rng.randrange(len(lines))] = b'{"seq": \n'
    # written back in its own form: a compressed segment altered and compressed again
    data = b"".join(lines)
    j.write_bytes(zlib.compress(data, wbits=sst.GZIP_WBITS) if is_gz(j) else data)


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_check_reports_what_the_plain_reading_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, seed: int
) -> None:
    monkeypatch.setattr("villageboard.store.journal.SEGMENT_BYTES", 3000)  # several segments
    root = tmp_path / "data"
    _busy_store(root, seed)
    _damage(root, how, random.Random(seed))
    expected = reference_check(root)
    assert check_data_dir(root) == expected
    assert (expected == []) == (how in ("none", "respell_line"))


def _text(max_size: int | None = None) -> st.SearchStrategy[str]:
    """Text a journal can hold: any character but a lone surrogate (not UTF-8)."""
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=max_size)


entries = st.fixed_dictionaries(
    {
        "ts": st.text(st.characters(blacklist_characters='"\\', blacklist_categories=("Cs",)), max_size=20),
        "op": _text(max_size=12),
        "action": _text(max_size=12),
        "changes": st.lists(
            st.fixed_dictionaries(
                {
                    "f": _text(max_size=10),
                    "t": _text(max_size=5),
                    "k": st.integers(0, 10**6),
                    "b": st.none(),
                    "a": st.dictionaries(
                        _text(max_size=6), st.one_of(_text(), st.integers(-(2**63), 2**63 - 1), st.none())
                    ),
                }
            ),
            max_size=3,
        ),
        "counters": st.dictionaries(_text(max_size=5), st.integers(0, 10**9), max_size=2),
        "seq": st.integers(1, 10**9),
        "prev": st.text("0123456789abcdef", min_size=64, max_size=64),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=entries, cut=st.integers(0, 10**6), byte=st.integers(0, 255))
def test_a_line_read_by_its_bytes_agrees_with_parsing_it(entry: dict[str, Any], cut: int, byte: int) -> None:
    entry = dict(entry)
    entry["hash"] = entry_hash(entry)
    line = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n"
    assert sealed_line(line) == (entry["seq"], entry["prev"], entry["hash"])
    damaged = bytearray(line)
    damaged[cut % (len(line) - 1)] = byte
    got = sealed_line(bytes(damaged))
    if got is not None:  # accepted by its bytes: then parsing it agrees in every part
        parsed = orjson.loads(bytes(damaged))
        assert entry_hash(parsed) == parsed["hash"]
        assert got == (parsed["seq"], parsed["prev"], parsed["hash"])


@pytest.mark.parametrize("how", ["none", "edit_record", "drop_two_records", "swap_lines", "lower_counter"])
def test_check_with_the_journal_read_in_a_second_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr("villageboard.store.journal.SEGMENT_BYTES", 3000)
    monkeypatch.setattr("villageboard.store.check.PARALLEL_BYTES", 0)  # as for a large township
    root = tmp_path / "data"
    _busy_store(root, 7)
    _damage(root, how, random.Random(7))
    assert check_data_dir(root) == reference_check(root)
