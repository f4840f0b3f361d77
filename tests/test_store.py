"""The store's promises: durable, atomic, single-writer, never reusing numbers, and
`check` catching any damage or edit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import orjson
import pytest

from villageboard.domain.errors import DamagedError, LockedError, ReadOnlyError, StorageError
from villageboard.store import Store
from villageboard.store import storage as st
from villageboard.store.check import check_data_dir
from villageboard.store.journal import segments

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).with_name("crash_worker.py")


def new_store(tmp_path: Path) -> Store:
    return Store.create(tmp_path / "data")


def test_round_trip_outside_gbk_and_utf8_on_disk(tmp_path: Path) -> None:
    s = new_store(tmp_path)
    with s.begin("t") as tx:
        k = tx.insert("registry.json", "households", "household", {"name": "𠮷田·阿依古丽"})
    s.close()
    raw = (tmp_path / "data" / "registry.json").read_bytes()
    assert "𠮷田·阿依古丽".encode() in raw  # stored as UTF-8, not \uXXXX
    s = Store.open(tmp_path / "data")
    assert s.get("registry.json", "households", k)["name"] == "𠮷田·阿依古丽"
    s.close()
    assert check_data_dir(tmp_path / "data") == []


def test_numbers_never_reused_after_void_and_reopen(tmp_path: Path) -> None:
    s = new_store(tmp_path)
    with s.begin("t") as tx:
        a = tx.insert("f.json", "rows", "row", {"v": 1})
        b = tx.insert("f.json", "rows", "row", {"v": 2})
    with s.begin("void") as tx:
        doc = tx.current("f.json", "rows", b)
        doc["void"] = True
        tx.put("f.json", "rows", b, doc)
    s.close()
    s = Store.open(tmp_path / "data")
    with s.begin("t") as tx:
        c = tx.insert("f.json", "rows", "row", {"v": 3})
    assert (a, b, c) == (1, 2, 3)
    assert s.get("f.json", "rows", b)["void"] is True  # voided, not deleted
    s.close()


def test_second_writer_in_another_process_is_refused(tmp_path: Path) -> None:
    s = new_store(tmp_path)
    code = (
        "import sys\n"
        "from villageboard.store import Store\n"
        "from villageboard.domain.errors import LockedError\n"
        f"try:\n    Store.open(r'{tmp_path / 'data'}')\nexcept LockedError as e:\n    print(e); sys.exit(7)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 7
    assert "正被另一个窗口或命令使用" in r.stdout
    # and read-only access still works
    ro = Store.open(tmp_path / "data", fallback_readonly=True)
    assert ro.readonly
    with pytest.raises(ReadOnlyError):
        ro.begin("x")
    ro.close()
    s.close()


def test_second_writer_in_same_process_is_refused(tmp_path: Path) -> None:
    s = new_store(tmp_path)
    with pytest.raises(LockedError):
        Store.open(tmp_path / "data")
    s.close()
    Store.open(tmp_path / "data").close()


def test_lock_left_by_killed_process_does_not_block(tmp_path: Path) -> None:
    new_store(tmp_path).close()
    code = f"from villageboard.store import Store; import signal; s = Store.open(r'{tmp_path / 'data'}'); print('ok', flush=True); signal.pause()"
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ok"
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert (tmp_path / "data" / ".lock").exists()
    Store.open(tmp_path / "data").close()


def _saved_store(tmp_path: Path) -> Path:
    s = new_store(tmp_path)
    for i in range(5):
        with s.begin(f"t{i}") as tx:
            tx.insert("years/2026/a.json", "rows", "row", {"name": f"张伟{i}", "amount_fen": 1000 + i})
    s.close()
    return tmp_path / "data"


def test_check_passes_on_sound_dir(tmp_path: Path) -> None:
    assert check_data_dir(_saved_store(tmp_path)) == []


def test_check_catches_flipped_byte_in_data_file(tmp_path: Path) -> None:
    root = _saved_store(tmp_path)
    p = root / "years/2026/a.json"
    data = bytearray(p.read_bytes())
    i = data.index(b"1003")
    data[i + 3] = ord("9")  # 1003 -> 1009: still valid JSON
    p.write_bytes(bytes(data))
    problems = check_data_dir(root)
    assert any("years/2026/a.json" in line for line in problems)


def test_check_catches_edited_journal_line(tmp_path: Path) -> None:
    root = _saved_store(tmp_path)
    j = root / "journal/000001.jsonl"
    lines = j.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace("张伟2".encode(), "张伟9".encode())
    j.write_bytes(b"".join(lines))
    problems = check_data_dir(root)
    assert any("第3行" in line and "改动" in line for line in problems)


@pytest.mark.parametrize("how", ["delete", "reorder"])
def test_check_catches_deleted_or_reordered_journal_lines(tmp_path: Path, how: str) -> None:
    root = _saved_store(tmp_path)
    j = root / "journal/000001.jsonl"
    lines = j.read_bytes().splitlines(keepends=True)
    if how == "delete":
        del lines[1]
    else:
        lines[1], lines[2] = lines[2], lines[1]
    j.write_bytes(b"".join(lines))
    problems = check_data_dir(root)
    assert any("删除" in line or "顺序" in line for line in problems)


def test_check_catches_counter_behind_records(tmp_path: Path) -> None:
    root = _saved_store(tmp_path)
    st.atomic_write(root / "counters.json", st.seal({"row": 2}))
    problems = check_data_dir(root)
    assert any("计数器" in line and "落后" in line for line in problems)


@pytest.mark.parametrize("damage", ["truncate", "flip", "zero"])
def test_damaged_file_refuses_to_open_and_names_it(tmp_path: Path, damage: str) -> None:
    root = _saved_store(tmp_path)
    p = root / "registry.json"
    s = Store.open(root)
    with s.begin("t") as tx:
        tx.insert("registry.json", "villages", "village", {"name": "东沟村"})
    s.close()
    data = bytearray(p.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[-5] ^= 0x01
    else:
        data = bytearray(len(data))
    p.write_bytes(bytes(data))
    before = p.read_bytes()
    with pytest.raises(DamagedError) as info:
        Store.open(root)
    assert "registry.json" in str(info.value)
    assert p.read_bytes() == before  # nothing overwritten


def test_disk_full_leaves_old_file_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _saved_store(tmp_path)
    p = root / "years/2026/a.json"
    s = Store.open(root)
    before = p.read_bytes()
    journal_before = (root / "journal/000001.jsonl").read_bytes()
    real = os.write

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(st.os, "write", full)
    with pytest.raises(StorageError) as info:
        with s.begin("t") as tx:
            tx.insert("years/2026/a.json", "rows", "row", {"name": "李娜"})
    monkeypatch.setattr(st.os, "write", real)
    assert "磁盘空间已满" in str(info.value)
    assert p.read_bytes() == before
    assert (root / "journal/000001.jsonl").read_bytes() == journal_before
    assert not list(p.parent.glob("*" + st.TMP_SUFFIX))
    # the store keeps working once space is back
    with s.begin("t") as tx:
        tx.insert("years/2026/a.json", "rows", "row", {"name": "李娜"})
    s.close()
    assert check_data_dir(root) == []


def test_stray_temp_files_are_cleaned_at_next_start(tmp_path: Path) -> None:
    root = _saved_store(tmp_path)
    stray = root / "years/2026" / (".a.json.999" + st.TMP_SUFFIX)
    stray.write_bytes(b"half")
    Store.open(root).close()
    assert not stray.exists()


def test_crash_between_journal_and_files_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _saved_store(tmp_path)
    s = Store.open(root)

    def die(path: Path, data: bytes) -> None:
        raise KeyboardInterrupt  # as if the power went after the journal fsync

    with monkeypatch.context() as mp, pytest.raises(KeyboardInterrupt):
        mp.setattr(st, "write_file", die)
        with s.begin("t") as tx:
            tx.insert("years/2026/b.json", "rows", "row", {"name": "王芳"})
    s.journal.close()
    s.lock.release()
    s2 = Store.open(root)
    assert s2.recovered
    assert any(d["name"] == "王芳" for d in s2.table("years/2026/b.json", "rows").values())
    s2.close()
    assert check_data_dir(root) == []


def _run_crash_trials(tmp_path: Path, trials: int, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "data"
    ack = tmp_path / "ack.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for trial in range(trials):
        p = subprocess.Popen([sys.executable, str(WORKER), str(root), str(ack), str(rng.randrange(1 << 30))], env=env)
        time.sleep(rng.uniform(0.15, 0.5))
        p.send_signal(signal.SIGKILL)
        p.wait()
        _verify_after_kill(root, ack, f"trial {trial}")


def _verify_after_kill(root: Path, ack: Path, where: str) -> None:
    if not (root / "villageboard.json").exists():
        return
    s = Store.open(root)  # must load, finishing any interrupted save
    current = {}
    for rel in s.list_files("years"):
        for key, doc in s.table(rel, "rows").items():
            current[f"{rel}#{key}"] = doc["step"]
    s.close()
    acked: dict[str, int] = {}
    # a kill before the worker opened its ack file: nothing was acknowledged yet
    for line in (ack.read_text(encoding="utf-8") if ack.exists() else "").splitlines():
        step, *targets = line.split()
        for t in targets:
            acked[t] = int(step)
    for target, step in acked.items():
        assert target in current, f"{where}: acknowledged record {target} lost"
        assert current[target] >= step, f"{where}: acknowledged step {step} of {target} lost"
    problems = check_data_dir(root)
    assert problems == [], f"{where}: {problems[:3]}"


@pytest.mark.parametrize("point", ["checkpoint.folders", "checkpoint.written"])
def test_a_kill_inside_a_checkpoint_loses_no_acknowledged_save(tmp_path: Path, point: str) -> None:
    """Killed inside the n-th checkpoint (after the folders are fsynced, or after
    CHECKPOINT.json is written; the worker checkpoints every 3 saves): the next open
    finds every acknowledged save, and check passes."""
    root, ack = tmp_path / "data", tmp_path / "ack.txt"
    for n in (1, 2, 5):
        env = dict(os.environ, PYTHONPATH=str(REPO), VILLAGEBOARD_KILL_AT=f"{point}#{n}")
        p = subprocess.run([sys.executable, str(WORKER), str(root), str(ack), str(n), "3"], env=env, timeout=120)
        assert p.returncode != 0  # it died at the kill point
        _verify_after_kill(root, ack, f"{point}#{n}")


def test_kill_during_writes_loses_no_acknowledged_save(tmp_path: Path) -> None:
    """SIGKILL at random points: every acknowledged save survives, every file loads,
    and check passes, 15 times (the slow run makes 50)."""
    _run_crash_trials(tmp_path, 15, seed=1234)


@pytest.mark.slow
def test_kill_during_writes_loses_no_acknowledged_save_long(tmp_path: Path) -> None:
    _run_crash_trials(tmp_path, 50, seed=1234)


def _damage(path: Path, how: str, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: rng.randrange(0, max(1, len(data) - 1))]
    elif how == "flip":
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    else:
        data = bytearray(len(data))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncate", "flip", "zero"])
def test_damage_to_any_file_is_caught_at_start_and_nothing_overwritten(demo_dir: Path, how: str) -> None:
    """Every data file and the journal, damaged in turn: the next start names the file
    and writes nothing, even when the command would never have read that file. HEAD and
    counters are hints (rewritten with no fsync): the start rebuilds them instead."""
    rng = random.Random(zlib.crc32(how.encode()))  # the same picks on every run
    Store.open(demo_dir).close()  # a clean start and close, as after a day's work
    files = sorted(p for p in demo_dir.rglob("*") if p.is_file() and p.name != ".lock")
    first_segment = segments(demo_dir / "journal")[0]  # sealed: stored compressed
    assert first_segment.name == "000001.jsonl.gz"
    picks = rng.sample(files, 6) + [first_segment, demo_dir / "journal/000002.jsonl", demo_dir / "registry.json"]
    for victim in picks:
        backup = {p: p.read_bytes() for p in files}
        _damage(victim, how, rng)
        after_damage = {p: p.read_bytes() for p in files}
        if victim.name in ("HEAD.json", "counters.json"):
            # hints a power cut may spoil: rebuilt from the checkpoint and the journal
            Store.open(demo_dir).close()
            assert st.read_sealed(victim) == orjson.loads(backup[victim].split(b"\n")[1])
            assert {p: p.read_bytes() for p in files if p != victim} == {
                p: data for p, data in after_damage.items() if p != victim
            }
        else:
            with pytest.raises(DamagedError) as info:
                Store.open(demo_dir)
            assert victim.name in str(info.value), (victim, str(info.value))
            assert {p: p.read_bytes() for p in files} == after_damage  # nothing overwritten
        for p, data in backup.items():  # repair for the next round
            p.write_bytes(data)
        Store.open(demo_dir).close()


def test_every_bit_of_a_sealed_header_is_checked(tmp_path: Path) -> None:
    """A flipped bit anywhere in the header line (a key's name, the schema number) is
    damage, not only in the body's length and hash."""
    blob = st.seal({"rows": {"1": {"name": "张伟", "fen": 12345}}})
    nl = blob.index(b"\n")
    assert st.check_sealed(tmp_path / "x.json", blob)
    for i in range(nl + 1):
        for bit in range(8):
            bad = bytearray(blob)
            bad[i] ^= 1 << bit
            with pytest.raises(DamagedError):
                st.check_sealed(tmp_path / "x.json", bytes(bad))


def _flip_in_place_keeping_stat(path: Path) -> None:
    """Change one byte without changing size, inode or mtime, as a write landing in the
    same clock tick as the program's own would look."""
    before = path.stat()
    with open(path, "r+b") as fh:
        fh.seek(-3, os.SEEK_END)
        b = fh.read(1)
        fh.seek(-3, os.SEEK_END)
        fh.write(bytes([b[0] ^ 1]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)


def test_file_written_moments_before_close_is_hashed_again_at_next_start(tmp_path: Path) -> None:
    s = new_store(tmp_path)
    with s.begin("t") as tx:
        tx.insert("years/2026/x.json", "rows", "row", {"name": "张伟"})
    s.close()
    victim = tmp_path / "data/years/2026/x.json"
    _flip_in_place_keeping_stat(victim)
    with pytest.raises(DamagedError) as info:
        Store.open(tmp_path / "data")
    assert "x.json" in str(info.value)


def test_file_older_than_the_racy_window_is_trusted_by_its_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the rule: the start-up check does not re-hash files whose stat
    it already verified (this is what keeps a start at reference scale under a second)."""
    from villageboard.store import fingerprint

    monkeypatch.setattr(fingerprint, "RACY_NS", 0)
    s = new_store(tmp_path)
    with s.begin("t") as tx:
        tx.insert("years/2026/x.json", "rows", "row", {"name": "张伟"})
    s.close()
    _flip_in_place_keeping_stat(tmp_path / "data/years/2026/x.json")
    Store.open(tmp_path / "data").close()  # trusted by stat: not hashed
    assert check_data_dir(tmp_path / "data")  # while a full check still finds it


def test_deleted_data_file_is_caught_at_start(demo_dir: Path) -> None:
    Store.open(demo_dir).close()
    victim = sorted((demo_dir / "years").rglob("*.json"))[3]
    victim.unlink()
    with pytest.raises(DamagedError) as info:
        Store.open(demo_dir)
    assert victim.name in str(info.value) and "不见了" in str(info.value)


def test_another_township_copied_to_the_same_path_opens_cleanly(tmp_path: Path) -> None:
    """The start-up check's memory belongs to one township, not to a folder name."""
    a = tmp_path / "a"
    s = Store.create(a)
    with s.begin("t") as tx:
        tx.insert("years/2026/x.json", "rows", "row", {"v": 1})
    s.close()
    Store.open(a).close()
    b = tmp_path / "b"
    Store.create(b).close()
    import shutil

    shutil.rmtree(a)
    shutil.copytree(b, a)
    Store.open(a).close()


def test_a_hard_link_to_head_or_counters_keeps_what_it_had(tmp_path: Path) -> None:
    """HEAD and counters are overwritten in place on each save, except when another
    name links the same file (a copy made by linking): that name never changes."""
    store = Store.create(tmp_path / "data")
    with store.begin("t") as tx:
        tx.insert("years/2026/a.json", "rows", "row", {"x": 1})
    outside = {name: tmp_path / f"linked-{name}" for name in ("HEAD.json", "counters.json")}
    for name, other in outside.items():
        os.link(store.root / name, other)
    kept = {name: other.read_bytes() for name, other in outside.items()}
    with store.begin("t") as tx:
        tx.insert("years/2026/a.json", "rows", "row", {"x": 2})
    store.close()
    assert {name: other.read_bytes() for name, other in outside.items()} == kept
    assert st.read_sealed(tmp_path / "data" / "counters.json") == {"row": 2}


def _saved(root: Path, n: int) -> None:
    store = Store.create(root)
    store.checkpoint_every = 3
    for i in range(n):
        with store.begin("t") as tx:
            tx.insert(f"years/2026/f{i % 2}.json", "rows", "row", {"i": i})
    store.close()


def test_a_reader_beside_a_spoiled_head_uses_the_checkpoint(tmp_path: Path) -> None:
    """HEAD and counters zeroed (as a power cut may leave them): a read-only open works
    from the checkpoint and changes nothing; the writer's open rebuilds both."""
    root = tmp_path / "data"
    _saved(root, 5)
    for name in ("HEAD.json", "counters.json"):
        (root / name).write_bytes(bytes(len((root / name).read_bytes())))
    with Store.open(root, readonly=True) as r:
        assert r.head["seq"] == r.journal.last_seq == 5 and r.counters == {"row": 5}
        assert len(r.table("years/2026/f0.json", "rows")) == 3
    assert (root / "HEAD.json").read_bytes().strip(b"\0") == b""
    with Store.open(root) as w:
        assert (w.head["seq"], w.counters) == (5, {"row": 5})
    assert st.read_sealed(root / "HEAD.json")["seq"] == 5
    assert st.read_sealed(root / "counters.json") == {"row": 5}
    assert check_data_dir(root) == []


def test_a_journal_shorter_than_the_checkpoint_is_damage(tmp_path: Path) -> None:
    """Entries the checkpoint counts cut from the journal's end: refused, by name."""
    root = tmp_path / "data"
    _saved(root, 5)
    seg = root / "journal" / "000001.jsonl"
    lines = seg.read_bytes().splitlines(keepends=True)
    seg.write_bytes(b"".join(lines[:3]))
    with pytest.raises(DamagedError) as info:
        Store.open(root)
    assert "修改记录少了" in str(info.value) and "000001.jsonl" in str(info.value)


@pytest.mark.parametrize("how", ["truncate", "flip", "zero"])
def test_a_damaged_checkpoint_is_damage(tmp_path: Path, how: str) -> None:
    root = tmp_path / "data"
    _saved(root, 4)
    _damage(root / "CHECKPOINT.json", how, random.Random(how))
    with pytest.raises(DamagedError) as info:
        Store.open(root)
    assert "CHECKPOINT.json" in str(info.value)
