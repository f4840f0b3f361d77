"""Notice snapshot files (written once) are stored with their body compressed: they
read back exactly as written, damage anywhere in one is named by the start-up check
and by ``check``, and the upgrade that compresses a folder's existing ones survives a
kill after any file and is finished by the next open."""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from villageboard.domain.errors import DamagedError
from villageboard.services import Services
from villageboard.store import SCHEMA_VERSION, Store
from villageboard.store import storage as st
from villageboard.store.check import check_data_dir
from villageboard.store.migrations import applied
from villageboard.store.verify import sealed_files

REPO = Path(__file__).resolve().parent.parent
SNAP = "years/2026/snapshots"
STEP = "migrate.snapshot-compressed"
OPEN = (
    "import sys; from pathlib import Path; from villageboard.store import Store; Store.open(Path(sys.argv[1])).close()"
)


def _snapshots(root: Path) -> list[Path]:
    return sorted(root.glob("years/*/snapshots/*.json"))


def _bodies(root: Path) -> dict[str, Any]:
    skip = {"registry.json", "HEAD.json", "CHECKPOINT.json", "villageboard.json"}  # the upgrade moves these on
    return {rel: st.read_sealed(root / rel) for rel in sealed_files(root) if rel not in skip}


def test_stored_compressed_names_only_snapshot_files() -> None:
    assert st.stored_compressed(Path("/d/years/2026/snapshots/141025-2026-0001-v1.json"))
    assert not st.stored_compressed(Path("/d/years/2026/notices.json"))
    assert not st.stored_compressed(Path("/d/years/2026/applications/GDDL/1.json"))
    assert not st.stored_compressed(Path("/d/households/1.json"))
    assert not st.stored_compressed(Path("/d/snapshots/a.json"))


json_values = hs.recursive(
    hs.none() | hs.booleans() | hs.integers(-(2**63), 2**63 - 1) | hs.text(max_size=20),
    lambda kids: hs.lists(kids, max_size=4) | hs.dictionaries(hs.text(max_size=8), kids, max_size=4),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None)
@given(body=hs.dictionaries(hs.text(max_size=8), json_values, max_size=5))
def test_a_compressed_body_reads_back_as_the_same_bytes(body: dict[str, Any]) -> None:
    path = Path("years/2026/snapshots/x-v1.json")
    raw = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    blob = st.seal_for(path, body)
    assert st.is_compressed(blob)
    assert st.check_sealed(path, blob) == raw and st.unseal(path, blob) == body
    assert st.seal_for(path, body) == blob  # no time stamp: the same body, the same bytes


def test_posted_notices_are_stored_compressed_and_read_back_identical(demo_dir: Path) -> None:
    snaps = _snapshots(demo_dir)
    assert snaps
    for p in snaps:
        data = p.read_bytes()
        assert st.is_compressed(data), p
        header, stored = data.split(b"\n", 1)
        raw = gzip.decompress(stored[:-1])  # a technician's zcat reads the body
        assert st.check_sealed(p, data) == raw and len(stored) < len(raw) / 3
    other = [demo_dir / rel for rel in sealed_files(demo_dir) if "/snapshots/" not in rel]
    assert other and not any(st.is_compressed(p.read_bytes()) for p in other)
    with Services.open(demo_dir, readonly=True) as svc:
        posted = [n for y in svc.store.years() for n in svc.notices.all(y) if n.state != "draft"]
        assert posted
        for n in posted:
            rel = f"years/{n.year}/snapshots/{n.code}-v{n.version}.json"
            raw = gzip.decompress((demo_dir / rel).read_bytes().split(b"\n", 1)[1][:-1])
            assert svc.notices.snapshot(n) == orjson.loads(raw)["snapshot"]["1"]["data"]


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    nl = data.index(b"\n")
    if how == "truncate":
        data = data[: nl + (len(data) - nl) // 2]
    elif how == "flip-body":
        data[nl + (len(data) - nl) // 2] ^= 0x10
    elif how == "header-encoding-dropped":
        header = orjson.loads(data[:nl])
        del header["encoding"]
        data = bytearray(orjson.dumps(header)) + data[nl:]
    elif how == "header-encoding-unknown":
        header = orjson.loads(data[:nl])
        header["encoding"] = "zstd"
        data = bytearray(orjson.dumps(header)) + data[nl:]
    else:  # the header forged to match a damaged body: gzip's own CRC catches it
        body = data[nl + 1 : -1]
        body[len(body) // 2] ^= 0x10
        header = orjson.loads(data[:nl])
        header["sha256"] = hashlib.sha256(body).hexdigest()
        data = bytearray(orjson.dumps(header)) + b"\n" + body + b"\n"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "how", ["truncate", "flip-body", "header-encoding-dropped", "header-encoding-unknown", "forged-hash"]
)
def test_a_damaged_compressed_snapshot_is_named(demo_dir: Path, how: str) -> None:
    Store.open(demo_dir).close()  # the start-up check remembers every file as sound
    victim = _snapshots(demo_dir)[3]
    rel = victim.relative_to(demo_dir).as_posix()
    _damage(victim, how)
    if how == "forged-hash":
        # the start-up check trusts the hash over the stored bytes; whoever reads the
        # file inflates it and gzip's CRC names it
        with Store.open(demo_dir, readonly=True) as store, pytest.raises(DamagedError) as info:
            store.read_raw(rel)
    else:
        with pytest.raises(DamagedError) as info:
            Store.open(demo_dir)
    assert info.value.path == victim
    assert victim.name in str(info.value)
    problems = check_data_dir(demo_dir)
    assert [p for p in problems if p.startswith(f"{rel}：")], problems


# -- the upgrade -------------------------------------------------------------------------


@pytest.fixture
def format4(tmp_path: Path) -> Path:
    """A folder as format 4 left it: five notice snapshot files stored plain."""
    root = tmp_path / "data"
    with Store.create(root) as store:
        for i in range(5):
            with store.begin(f"张贴{i}") as tx:
                rows = [
                    {"name": "张伟", "village": "东村", "program": "耕地地力保护补贴", "fen": 100 * k}
                    for k in range(50)
                ]
                tx.put(f"{SNAP}/141025-2026-{i:04d}-v1.json", "snapshot", 1, {"rows": rows, "i": i})
            with store.begin(f"登记{i}") as tx:
                tx.insert("years/2026/notices.json", "notices", "notice", {"code": i})
        for p in _snapshots(root):
            st.atomic_write(p, st.seal_bytes(st.check_sealed(p, p.read_bytes())))
        store.set_schema(4)
    assert not any(st.is_compressed(p.read_bytes()) for p in _snapshots(root))
    return root


def _open_killed(root: Path, at: str) -> int:
    env = dict(os.environ, PYTHONPATH=str(REPO), VILLAGEBOARD_KILL_AT=at)
    return subprocess.run([sys.executable, "-c", OPEN, str(root)], env=env, timeout=120).returncode


def test_the_upgrade_compresses_every_snapshot_and_changes_no_record(format4: Path) -> None:
    before, size = _bodies(format4), sum(p.stat().st_size for p in _snapshots(format4))
    with Store.open(format4) as store:
        assert store.meta["schema"] == SCHEMA_VERSION
        assert applied(store)[4] == "compress-notice-snapshots"
    assert all(st.is_compressed(p.read_bytes()) for p in _snapshots(format4))
    assert sum(p.stat().st_size for p in _snapshots(format4)) < size / 4
    assert not st.is_compressed((format4 / "years/2026/notices.json").read_bytes())
    assert _bodies(format4) == before and check_data_dir(format4) == []


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_the_upgrade_killed_after_any_file_is_finished_at_the_next_open(format4: Path, n: int) -> None:
    before = _bodies(format4)
    assert _open_killed(format4, f"{STEP}#{n}") == -signal.SIGKILL
    # as the kill left it: n files compressed, the rest plain, every one readable
    assert [st.is_compressed(p.read_bytes()) for p in _snapshots(format4)] == [True] * n + [False] * (5 - n)
    assert st.read_sealed(format4 / "villageboard.json")["schema"] == 4
    assert check_data_dir(format4) == [] and _bodies(format4) == before
    with Store.open(format4) as store:
        assert store.meta["schema"] == SCHEMA_VERSION
        assert applied(store)[4] == "compress-notice-snapshots"
    assert all(st.is_compressed(p.read_bytes()) for p in _snapshots(format4))
    assert check_data_dir(format4) == [] and _bodies(format4) == before
    # and a save after it goes on as usual
    with Store.open(format4) as store, store.begin("之后") as tx:
        tx.put(f"{SNAP}/141025-2026-0099-v1.json", "snapshot", 1, {"rows": []})
    assert st.is_compressed((format4 / SNAP / "141025-2026-0099-v1.json").read_bytes())
    assert check_data_dir(format4) == []


def test_a_plain_snapshot_left_by_an_older_program_is_still_read(format4: Path) -> None:
    """A restore of an old backup, or a backup's redo, may leave plain ones: all read."""
    with Store.open(format4):
        pass
    victim = _snapshots(format4)[0]
    body = st.read_sealed(victim)
    st.atomic_write(victim, st.seal(body))
    assert check_data_dir(format4) == []
    with Store.open(format4, readonly=True) as store:
        assert store.read_raw(victim.relative_to(format4).as_posix()) == body
