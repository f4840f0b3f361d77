"""Backups taken while saves go on, from another thread and from another process:
every one verifies, restores, and holds every save acknowledged before it began."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from villageboard.services.backup import restore_into
from villageboard.store import Store
from villageboard.store.backup import verify_backup, write_backup
from villageboard.store.check import check_data_dir

WORKER = Path(__file__).with_name("crash_worker.py")
FILES = [f"years/2026/applications/P{p}/{v:04d}.json" for p in range(2) for v in range(3)]
MIN_SAVES = 300
MIN_BACKUPS = 3


def _steps_in(root: Path) -> dict[tuple[str, int], int]:
    """(file, key) -> the step number each record holds (restored data, read whole)."""
    out: dict[tuple[str, int], int] = {}
    with Store.open(root, readonly=True) as store:
        for rel in FILES:
            for key, doc in store.table(rel, "rows").items():
                out[(rel, int(key))] = int(doc.get("step", 0))
    return out


def _assert_holds(backup: Path, acked: list[tuple[int, list[tuple[str, int]]]], tmp: Path) -> None:
    assert verify_backup(backup) == [], backup
    dest = tmp / f"restored-{backup.stem}"
    restore_into(dest, backup)
    assert check_data_dir(dest) == []
    have = _steps_in(dest)
    for step, touched in acked:
        for ident in touched:
            assert ident in have, (backup.name, step, ident)
            assert have[ident] >= step, (backup.name, step, ident, have[ident])


def _parse_acks(path: Path) -> list[tuple[int, list[tuple[str, int]]]]:
    out = []
    for line in path.read_text("utf-8").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        touched = []
        for item in parts[1:]:
            rel, key = item.rsplit("#", 1)
            touched.append((rel, int(key)))
        out.append((int(parts[0]), touched))
    return out


@pytest.mark.parametrize("segment_bytes", [None, 6000])
def test_backups_while_another_thread_saves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, segment_bytes: int | None
) -> None:
    """With small journal segments the journal rolls over and sealed segments are
    compressed (in the writer's background) while the backups are taken."""
    if segment_bytes is not None:
        monkeypatch.setattr("villageboard.store.journal.SEGMENT_BYTES", segment_bytes)
    root = tmp_path / "data"
    store = Store.create(root)
    acked: list[tuple[int, list[tuple[str, int]]]] = []
    stop = threading.Event()
    saved = threading.Condition()  # told after each acknowledged save, and when the saver ends
    error: list[BaseException] = []
    keys: list[tuple[str, int]] = []

    def saver() -> None:
        step = 0
        try:
            while not stop.is_set():
                step += 1
                with store.begin("test.save") as tx:
                    if step % 3 and keys:  # update two records in two files
                        touched = [keys[step % len(keys)], keys[(step * 7) % len(keys)]]
                        for rel, key in set(touched):
                            doc = tx.current(rel, "rows", key) or {}
                            doc["step"] = step
                            tx.put(rel, "rows", key, doc)
                    else:
                        rel = FILES[step % len(FILES)]
                        touched = [(rel, tx.insert(rel, "rows", "row", {"step": step, "text": "张伟" * 20}))]
                for ident in touched:
                    if ident not in keys:
                        keys.append(ident)
                with saved:
                    acked.append((step, list(set(touched))))
                    saved.notify_all()
        except BaseException as exc:  # reported by the test
            error.append(exc)
        finally:
            with saved:
                saved.notify_all()

    thread = threading.Thread(target=saver)
    thread.start()
    backups: list[tuple[Path, list]] = []
    try:
        while len(backups) < MIN_BACKUPS or len(acked) < MIN_SAVES:
            seen = len(backups[-1][1]) if backups else 0
            with saved:  # a save between any two backups, however busy the machine
                assert saved.wait_for(lambda seen=seen: len(acked) > seen or error, timeout=60), "no save for a minute"
                assert not error, error
                before = list(acked)  # every save acknowledged before this backup began
            info = write_backup(root, tmp_path / f"b{len(backups)}.zip", verify=True)
            assert info.verified
            backups.append((info.path, before))
            assert thread.is_alive(), error
    finally:
        stop.set()
        thread.join()
        store.close()
    assert not error, error
    assert len(acked) >= MIN_SAVES
    # the backups really were taken while saves happened
    assert len({len(b) for _p, b in backups}) == len(backups)
    for path, before in backups:
        _assert_holds(path, before, tmp_path)
    if segment_bytes is not None:
        with zipfile.ZipFile(backups[-1][0]) as zf:
            packed = [i for i in zf.infolist() if i.filename.endswith(".jsonl.gz")]
        assert len(packed) > 10 and all(i.compress_type == zipfile.ZIP_STORED for i in packed)


def test_cli_backups_while_another_process_saves(tmp_path: Path) -> None:
    root = tmp_path / "data"
    ack = tmp_path / "acks.txt"
    ack.touch()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    worker = subprocess.Popen([sys.executable, str(WORKER), str(root), str(ack), "12"], env=env)
    backups: list[tuple[Path, list]] = []
    try:
        deadline = time.monotonic() + 120
        while not (root / "HEAD.json").exists() or len(_parse_acks(ack)) < 20:
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        while len(backups) < MIN_BACKUPS or len(_parse_acks(ack)) < MIN_SAVES:
            assert worker.poll() is None and time.monotonic() < deadline
            before = _parse_acks(ack)
            if backups and len(before) <= len(backups[-1][1]):
                time.sleep(0.01)  # a save between any two backups
                continue
            out = tmp_path / f"cli{len(backups)}.zip"
            r = subprocess.run(
                [sys.executable, "-m", "villageboard", "--data-dir", str(root), "backup", "--out", str(out)],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert r.returncode == 0, r.stderr
            assert "已检查完好" in r.stdout
            backups.append((out, before))
    finally:
        worker.kill()
        worker.wait()
    assert len(_parse_acks(ack)) >= MIN_SAVES
    assert len({len(b) for _p, b in backups}) == len(backups)
    for path, before in backups:
        _assert_holds(path, before, tmp_path)
