"""A power cut at any point of any run of saves loses no acknowledged save.

Every step the store takes on disk (write a temp file, fsync it, rename it, fsync a
folder, append to the journal and fsync it) is logged through ``storage.OBSERVERS``.
For a cut after any logged step, the test builds one disk state a power cut may leave:

- a name renamed into a folder since that folder was last fsynced may hold any of its
  versions since then, or be missing if it was new (not yet durable);
- a file whose content was never fsynced (or that was overwritten in place) may come
  back whole, zeroed, cut short or empty;
- a journal segment keeps what was fsynced and any part of what was appended after.

Opening that state must keep every save whose journal append was fsynced, nothing
that was never appended, and leave a folder ``check`` finds sound. (Folders created
since their parent was fsynced are taken as surviving; the checkpoint fsyncs them.)
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from villageboard.services.integrity import check_all
from villageboard.store import Store
from villageboard.store import journal as jr
from villageboard.store import storage as st

YEARS = (2026, 2027, 2028)


class Disk:
    """The log of what the store asked of the disk, inside one data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events: list[tuple[str, str, Any]] = []

    def __call__(self, event: str, path: Path, arg: Any) -> None:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return  # the start-up check's record, outside the data folder
        if event == "rename":
            arg = Path(arg).relative_to(self.root).as_posix()
        self.events.append((event, rel, arg))

    def ack(self, seq: int) -> None:
        self.events.append(("ack", "", seq))

    def after_cut(self, k: int, rng: random.Random, out: Path) -> tuple[int, int, list[dict[str, Any]]]:
        """Write into ``out`` one state a power cut after event ``k`` may leave; returns
        (last acknowledged seq, last appended seq, every entry appended, by seq)."""
        versions: list[tuple[bytes, bool]] = []
        name: dict[str, int] = {}  # what each name holds now
        may_be: dict[str, list[int | None]] = {}  # what a cut may leave at each name
        journal: dict[str, bytearray] = {}
        synced: dict[str, int] = {}
        acked = 0
        for event, rel, arg in self.events[:k]:
            if event == "write":
                name[rel] = len(versions)
                versions.append((arg, False))
            elif event == "fsync" and rel in journal:
                synced[rel] = len(journal[rel])
            elif event == "fsync":
                data, _ = versions[name[rel]]
                versions[name[rel]] = (data, True)
            elif event == "overwrite":  # in place, never fsynced: old, new or torn
                name[rel] = len(versions)
                versions.append((arg, False))
                may_be.setdefault(rel, [None]).append(name[rel])
            elif event == "rename":
                name[arg] = name.pop(rel)
                may_be.setdefault(arg, [None]).append(name[arg])
            elif event == "fsync_dir":
                folder = Path(rel)
                for n in may_be:
                    if Path(n).parent == folder:
                        may_be[n] = [name.get(n)]
            elif event == "append":
                journal.setdefault(rel, bytearray()).extend(arg)
            elif event == "truncate":
                del journal[rel][arg:]
                synced[rel] = min(synced.get(rel, 0), arg)
            elif event == "ack":
                acked = arg
        for n, choices in may_be.items():
            vid = rng.choice(choices)
            if vid is None:
                continue
            data, durable = versions[vid]
            if not durable:
                data = rng.choice([data, bytes(len(data)), data[: rng.randrange(len(data) + 1)], b""])
            (out / n).parent.mkdir(parents=True, exist_ok=True)
            (out / n).write_bytes(data)
        entries: dict[int, dict[str, Any]] = {}
        for seg, data in journal.items():
            keep = synced.get(seg, 0)
            rest = len(data) - keep
            cut = keep + rng.choice([0, rest, rng.randrange(rest + 1)])
            (out / seg).parent.mkdir(parents=True, exist_ok=True)
            (out / seg).write_bytes(bytes(data[:cut]))
            for line in bytes(data).splitlines():
                entry = orjson.loads(line)
                entries[entry["seq"]] = entry
        appended = max(entries, default=0)
        return acked, appended, [entries[s] for s in sorted(entries)]


def _files(rng: random.Random) -> str:
    return f"years/{rng.choice(YEARS)}/applications/P{rng.randrange(2)}/{rng.randrange(3):04d}.json"


def _run_saves(root: Path, disk: Disk, rng: random.Random) -> None:
    store = Store.create(root)
    store.checkpoint_every = rng.randint(2, 8)
    known: list[tuple[str, int]] = []
    try:
        for step in range(rng.randint(10, 40)):
            kind = rng.choice(["insert", "insert", "update", "pair", "reopen"]) if known else "insert"
            if kind == "reopen":
                store.close()
                store = Store.open(root)
                store.checkpoint_every = rng.randint(2, 8)
                continue
            with store.begin(f"test.{kind}") as tx:
                if kind == "insert":
                    rel = _files(rng)
                    known.append(
                        (rel, tx.insert(rel, "rows", "row", {"step": step, "text": "张伟" * rng.randint(1, 9)}))
                    )
                else:
                    for rel, key in rng.sample(known, min(len(known), 1 if kind == "update" else 2)):
                        tx.put(rel, "rows", key, {**(tx.current(rel, "rows", key) or {}), "step": step})
            disk.ack(store.journal.last_seq)
    finally:
        store.close()


def _records(store: Store) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for rel in store.list_files("years"):
        for table, docs in store.read_raw(rel).items():
            for key, doc in docs.items():
                out[(rel, table, key)] = {k: v for k, v in doc.items() if k != "_jseq"}
    return out


def _expected(entries: list[dict[str, Any]], last: int) -> tuple[dict[Any, Any], dict[str, int]]:
    records: dict[tuple[str, str, str], dict[str, Any]] = {}
    counters: dict[str, int] = {}
    for entry in entries[:last]:
        for c in entry["changes"]:
            records[(c["f"], c["t"], str(c["k"]))] = c["a"]
        for name, value in (entry.get("counters") or {}).items():
            counters[name] = max(counters.get(name, 0), value)
    return records, counters


@pytest.mark.parametrize("seed", range(12))
def test_a_power_cut_anywhere_keeps_every_acknowledged_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    if seed % 2:  # journal segments of a few entries: the redo crosses segments
        monkeypatch.setattr(jr, "SEGMENT_BYTES", 3000)
    root = tmp_path.resolve() / "live"
    disk = Disk(root)
    monkeypatch.setattr(st, "OBSERVERS", [disk])
    _run_saves(root, disk, rng)
    monkeypatch.setattr(st, "OBSERVERS", [])
    for trial in range(12):
        k = rng.randrange(1, len(disk.events) + 1)
        out = tmp_path / f"cut{trial}"
        out.mkdir()
        acked, appended, entries = disk.after_cut(k, rng, out)
        if not (out / "villageboard.json").exists():
            continue  # cut before the folder was made durable: nothing was acknowledged
        assert [e["seq"] for e in entries] == list(range(1, appended + 1))
        where = f"seed {seed}, cut after event {k} of {len(disk.events)}: {disk.events[k - 1][:2]}"
        with Store.open(out) as store:
            last = store.journal.last_seq
            assert acked <= last <= appended, where
            records, counters = _expected(entries, last)
            assert _records(store) == records, where
            assert store.counters == counters, where
        assert check_all(out) == [], where
