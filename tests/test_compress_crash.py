"""Sealed journal segments are compressed in the background: a kill at every step of
that work leaves a folder that readers read and ``check`` passes, and the next open
finishes the work with nothing lost. A compressed segment that is truncated or has a
bit flipped is reported, by name, by the start-up check and by ``check``."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from villageboard.domain.errors import DamagedError
from villageboard.store import Store
from villageboard.store import storage as st
from villageboard.store.check import check_data_dir
from villageboard.store.compress import compress_segment
from villageboard.store.journal import segments
from villageboard.store.segfiles import is_gz, segment_lines
from villageboard.store.verify import sealed_files

REPO = Path(__file__).resolve().parent.parent
#: Opens the store as a writer, waits for the background compression, closes.
OPEN_AND_SETTLE = (
    "import sys; from pathlib import Path; from villageboard.store import Store; "
    "s = Store.open(Path(sys.argv[1])); s.compressor.wait(); s.close()"
)
STEPS = ("journal.gz-written", "journal.gz-renamed", "journal.plain-removed")


def _state(root: Path) -> tuple[list[bytes], dict[str, object]]:
    """Every journal line (decompressed) and every data file's body."""
    lines = [line for seg in segments(root / "journal") for line in segment_lines(seg)]
    return lines, {rel: st.read_sealed(root / rel) for rel in sealed_files(root)}


@pytest.fixture
def pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store with four sealed segments none of which is compressed yet (as an older
    program left them, or a writer killed before it got to them)."""
    monkeypatch.setattr("villageboard.store.journal.SEGMENT_BYTES", 4000)
    root = tmp_path / "template"
    rng = random.Random(5)
    with Store.create(root) as s:
        for i in range(30):
            with s.begin(f"第{i}次") as tx:
                tx.insert(f"years/2026/{i % 3}.json", "rows", "row", {"name": "张伟" * rng.randint(1, 60), "i": i})
    segs = segments(root / "journal")
    assert len(segs) == 5 and all(map(is_gz, segs[:-1]))
    for gz in segs[:-1]:
        plain = gz.with_name(gz.name.removesuffix(".gz"))
        plain.write_bytes(gzip.decompress(gz.read_bytes()))
        os.utime(plain, (time.time() - 60, time.time() - 60))  # written a while ago
        gz.unlink()
    return root


def _run(root: Path, env_extra: dict[str, str]) -> int:
    env = dict(os.environ, PYTHONPATH=str(REPO), **env_extra)
    return subprocess.run([sys.executable, "-c", OPEN_AND_SETTLE, str(root)], env=env, timeout=120).returncode


def _killed_at_every_step(pending: Path, tmp_path: Path) -> None:
    before = _state(pending)
    trace = tmp_path / "trace.txt"
    traced = tmp_path / "traced"
    shutil.copytree(pending, traced)
    assert _run(traced, {"VILLAGEBOARD_KILL_TRACE": str(trace)}) == 0
    steps = trace.read_text("utf-8").split()
    assert sorted({s.split("#")[0] for s in steps}) == sorted(STEPS) and len(steps) == 4 * len(STEPS)
    for step in steps:
        root = tmp_path / f"k-{step.replace('#', '-')}"
        shutil.copytree(pending, root)
        assert _run(root, {"VILLAGEBOARD_KILL_AT": step}) == -signal.SIGKILL, step
        # as the kill left it: readable, and check passes (a reader takes either form)
        assert check_data_dir(root) == [], step
        assert _state(root) == before, step
        with Store.open(root) as s:  # the next open finishes the work
            assert s.compressor is not None
            s.compressor.wait()
        assert check_data_dir(root) == [], step
        assert _state(root) == before, step
        names = sorted(p.name for p in (root / "journal").iterdir())
        assert names == [f"{n:06d}.jsonl.gz" for n in range(1, 5)] + ["000005.jsonl"], (step, names)
        with Store.open(root) as s:  # and nothing is read again at the open after
            with s.begin("之后") as tx:
                tx.insert("years/2026/0.json", "rows", "row", {"name": "李娜"})
        assert check_data_dir(root) == [], step
        shutil.rmtree(root)


def test_compression_killed_at_every_step(pending: Path, tmp_path: Path) -> None:
    _killed_at_every_step(pending, tmp_path)


def test_both_forms_left_and_the_compressed_one_bad_is_written_again(pending: Path) -> None:
    """Both forms of a segment (a kill after the rename): the plain one is what readers
    read; a compressed one that does not hold the same bytes is written again."""
    before = _state(pending)
    plain = segments(pending / "journal")[1]
    gz = plain.with_name(plain.name + ".gz")
    held = plain.read_bytes()
    gz.write_bytes(gzip.compress(held[:-10]))  # not what the plain one holds
    assert check_data_dir(pending) == [] and _state(pending) == before
    with Store.open(pending) as s:
        assert s.compressor is not None
        s.compressor.wait()
    assert not plain.exists() and gzip.decompress(gz.read_bytes()) == held
    assert check_data_dir(pending) == [] and _state(pending) == before


def test_compressing_again_is_a_no_op_and_the_last_segment_stays_plain(pending: Path) -> None:
    with Store.open(pending) as s:
        assert s.compressor is not None
        s.compressor.wait()
    segs = segments(pending / "journal")
    assert [is_gz(p) for p in segs] == [True, True, True, True, False]
    assert compress_segment(segs[0].with_name("000001.jsonl")) is None  # already done


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: len(data) // 2]
    elif how == "flip-body":  # inside the compressed stream
        data[len(data) // 2] ^= 0x10
    else:  # flip-trailer: the CRC and length gzip keeps at its end
        data[-3] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncate", "flip-body", "flip-trailer"])
def test_a_damaged_compressed_segment_is_named(pending: Path, how: str) -> None:
    with Store.open(pending) as s:
        assert s.compressor is not None
        s.compressor.wait()
    victim = segments(pending / "journal")[1]
    assert victim.name == "000002.jsonl.gz"
    _damage(victim, how)
    with pytest.raises(DamagedError) as info:
        Store.open(pending)
    assert info.value.path == victim and "压缩的修改记录文件" in info.value.reason
    problems = check_data_dir(pending)
    assert problems and problems[0].startswith("journal/000002.jsonl.gz：压缩的修改记录文件"), problems


def test_a_save_failing_in_a_new_segment_leaves_it_empty_after_a_compressed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first save of a new segment fails (disk full) and is undone: the new segment
    is left empty, the one before it is compressed, and the journal's last entry is
    found in the compressed one at the next open; the next save goes on from there."""
    from villageboard.domain.errors import StorageError

    monkeypatch.setattr("villageboard.store.journal.SEGMENT_BYTES", 300)  # a segment each save
    root = tmp_path / "data"
    with Store.create(root) as s:
        for i in range(3):
            with s.begin(f"第{i}次") as tx:
                tx.insert("years/2026/a.json", "rows", "row", {"name": "张伟" * 40})

        def full(path: Path, data: bytes) -> None:
            raise StorageError("保存失败：磁盘空间已满")

        with monkeypatch.context() as mp, pytest.raises(StorageError):
            mp.setattr(st, "write_file", full)
            with s.begin("失败") as tx:
                tx.insert("years/2026/a.json", "rows", "row", {"name": "李娜" * 40})
        assert s.compressor is not None
        s.compressor.wait()
    segs = segments(root / "journal")
    assert [p.name for p in segs] == ["000001.jsonl.gz", "000002.jsonl.gz", "000003.jsonl.gz", "000004.jsonl"]
    assert segs[-1].stat().st_size == 0
    assert check_data_dir(root) == []
    with Store.open(root) as s:
        assert s.journal.last_seq == 3
        with s.begin("之后") as tx:
            tx.insert("years/2026/a.json", "rows", "row", {"name": "王芳"})
    assert (root / "journal/000004.jsonl").stat().st_size > 0
    assert check_data_dir(root) == []


def _listed_then_compressed(folder: Path) -> list[Path]:
    """The segments as listed, each sealed one then compressed by the writer before
    the reader opens it (the race of a reader beside the writer, made certain)."""
    found = segments(folder)
    for p in found[:-1]:
        if not is_gz(p):
            compress_segment(p)
    return found


@pytest.mark.parametrize("reader", ["start-up check", "check", "backup"])
def test_a_segment_compressed_after_a_reader_listed_it_is_read_compressed(
    pending: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    from villageboard.store.backup import verify_backup, write_backup

    before = _state(pending)
    module = {"start-up check": "verify", "check": "check", "backup": "snapshot"}[reader]
    monkeypatch.setattr(f"villageboard.store.{module}.segments", _listed_then_compressed)
    if reader == "start-up check":
        with Store.open(pending, readonly=True) as s:
            assert s.journal.last_seq == 30
    elif reader == "check":
        assert check_data_dir(pending) == []
    else:
        info = write_backup(pending, tmp_path / "b.zip", verify="full")
        assert info.verified and verify_backup(info.path) == []
        with zipfile.ZipFile(info.path) as zf:
            assert sorted(n for n in zf.namelist() if n.startswith("journal/")) == [
                f"journal/{n:06d}.jsonl.gz" for n in range(1, 5)
            ] + ["journal/000005.jsonl"]
    assert all(map(is_gz, segments(pending / "journal")[:-1]))
    assert _state(pending) == before


def test_a_segment_compressed_by_the_writer_is_not_read_again_at_the_next_open(
    pending: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start-up check's record moves to the compressed file (it holds the same
    bytes), so the next start reads none of them: only the first start after the
    old folder was copied in reads each once."""
    from villageboard.store import verify

    read: list[str] = []
    real = verify.read_segment

    def counting(seg: Path) -> tuple[Path, bytes]:
        read.append(seg.name)
        return real(seg)

    monkeypatch.setattr(verify, "read_segment", counting)
    with Store.open(pending) as s:
        assert s.compressor is not None
        s.compressor.wait()
    # new to this start (changed behind the program's back): read, as plain files
    assert {f"{n:06d}.jsonl" for n in range(1, 5)} <= set(read)
    read.clear()
    Store.open(pending).close()
    assert not [name for name in read if name.endswith(".gz")]
