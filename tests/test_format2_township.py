"""A township written by the program at data format 2 (tests/data/township-format2.zip,
made by tests/make_format2_township.py) opened by this program: backed up first,
upgraded to the current format, its sealed journal segments compressed, and every
record and every journal entry what they were."""

from __future__ import annotations

import contextlib
import gzip
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY
from villageboard.cli.main import main
from villageboard.services import Services
from villageboard.store import SCHEMA_VERSION, Store
from villageboard.store import storage as st
from villageboard.store.backup import list_backups
from villageboard.store.journal import segments
from villageboard.store.migrations import RECORD_FILE, RECORD_TABLE, applied
from villageboard.store.segfiles import segment_lines
from villageboard.store.verify import sealed_files

#: The upgrade steps from format 2, one journaled record each.
STEPS = SCHEMA_VERSION - 2

TOWNSHIP = Path(__file__).with_name("data") / "township-format2.zip"


@pytest.fixture
def old_township(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    with zipfile.ZipFile(TOWNSHIP) as zf:
        zf.extractall(root)
    return root


def _records(root: Path) -> dict[str, Any]:
    """Every data file's body (the format marker and the migrations record aside)."""
    out = {}
    for rel in sealed_files(root):
        if rel == "villageboard.json":
            continue
        body = st.read_sealed(root / rel)
        if rel == RECORD_FILE:
            body.pop(RECORD_TABLE, None)
        out[rel] = body
    return out


def _journal(root: Path) -> list[bytes]:
    return [line for seg in segments(root / "journal") for line in segment_lines(seg)]


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def test_a_format_2_township_is_upgraded_and_compressed_with_nothing_changed(old_township: Path) -> None:
    root = old_township
    assert st.read_sealed(root / "villageboard.json")["schema"] == 2
    plain = [p.name for p in segments(root / "journal")]
    assert len(plain) > 10 and all(name.endswith(".jsonl") for name in plain)
    records, journal = _records(root), _journal(root)
    head = st.read_sealed(root / "HEAD.json")

    with Store.open(root) as store:
        assert store.meta["schema"] == SCHEMA_VERSION == 5
        assert applied(store)[2] == "compress-sealed-journal-segments"
        assert applied(store)[4] == "compress-notice-snapshots"
        assert store.compressor is not None
        store.compressor.wait()
        assert store.compressor.failed == []
        assert store.journal.last_seq == head["seq"] + STEPS  # one journaled record each step

    # the backup was made first, of the folder as it was (format 2, plain segments)
    [backup] = list_backups(root)
    with zipfile.ZipFile(backup) as zf:
        names = zf.namelist()
        assert sorted(n for n in names if n.startswith("journal/")) == [f"journal/{n}" for n in plain]
        assert st.unseal(Path("villageboard.json"), zf.read("villageboard.json"))["schema"] == 2

    segs = segments(root / "journal")
    assert [p.name for p in segs] == [n + ".gz" for n in plain[:-1]] + [plain[-1]]
    assert sum(p.stat().st_size for p in segs) < sum(len(line) for line in journal) / 4
    # a technician's zcat reads a sealed segment
    assert gzip.decompress(segs[0].read_bytes()).splitlines(keepends=True) == journal[: len(segment_lines(segs[0]))]
    # the whole chain as before, with the migration's entry after it; every record as before
    assert _journal(root)[:-STEPS] == journal
    assert b"compress-sealed-journal-segments" in _journal(root)[-STEPS]
    # HEAD moved on with the migrations' entries; CHECKPOINT.json is new in format 4
    assert _records(root) == {
        **records,
        "HEAD.json": st.read_sealed(root / "HEAD.json"),
        "CHECKPOINT.json": st.read_sealed(root / "CHECKPOINT.json"),
    }
    assert st.read_sealed(root / "CHECKPOINT.json")["seq"] == head["seq"] + STEPS

    # notice snapshot files (and only they) are stored compressed, holding the same records
    snaps = [rel for rel in sealed_files(root) if "/snapshots/" in rel]
    assert snaps and all(st.is_compressed((root / rel).read_bytes()) for rel in snaps)
    assert not any(st.is_compressed((root / rel).read_bytes()) for rel in set(sealed_files(root)) - set(snaps))

    code, said = _cli("--data-dir", str(root), "check")
    assert code == 0 and "检查通过" in said, said
    with Services.open(root, today=TODAY, operator="测试", run_open_hooks=False) as svc:
        h = svc.registry.households()[3]
        assert svc.registry.by_id_number(h.id_number) == h
        assert svc.notices.rows(TODAY.year, "posted")
        assert svc.applications.list(TODAY.year, "GDDL")
    code, said = _cli("--data-dir", str(root), "lookup", h.name)
    assert code == 0 and h.name in said, said


def test_an_upgrade_interrupted_before_compressing_finishes_at_the_next_open(old_township: Path) -> None:
    """The format moves on first; the compression is the writer's background work,
    taken up again at every open until every sealed segment is compressed."""
    root = old_township
    journal = _journal(root)
    with Store.open(root) as store:
        assert store.compressor is not None
        store.compressor.close()  # as if the program were closed at once
    with Store.open(root) as store:
        assert store.compressor is not None
        store.compressor.wait()
    segs = segments(root / "journal")
    assert all(p.name.endswith(".gz") for p in segs[:-1])
    assert _journal(root)[:-STEPS] == journal
    assert _cli("--data-dir", str(root), "check")[0] == 0
