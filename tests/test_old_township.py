"""A township written by the program of format 2 (before saves were checkpointed),
kept zipped in tests/data, is upgraded by the first writer's open: a backup of it as
it was first, then one journaled save for each migration, and every record, counter
and journal entry it held is kept."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from villageboard.services.integrity import check_all
from villageboard.store import SCHEMA_VERSION, Store
from villageboard.store import storage as st
from villageboard.store.backup import list_backups
from villageboard.store.migrations import plan
from villageboard.store.store import CHECKPOINT

TOWNSHIP = Path(__file__).parent / "data" / "township-format2.zip"


def _records(store: Store) -> dict[tuple[str, str, str], Any]:
    out = {}
    for prefix in ("households", "years"):
        for rel in store.list_files(prefix):
            for table, docs in store.read_raw(rel).items():
                for key, doc in docs.items():
                    out[(rel, table, key)] = doc
    return out


def test_a_format_2_township_is_backed_up_then_upgraded_and_keeps_everything(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with zipfile.ZipFile(TOWNSHIP) as z:
        z.extractall(root)
    assert not (root / CHECKPOINT).exists()
    with Store.open(root, readonly=True) as store:
        assert store.meta["schema"] == 2  # a reader changes nothing
        records, counters, seq = _records(store), dict(store.counters), store.journal.last_seq
    assert not (root / CHECKPOINT).exists()
    with Store.open(root) as store:
        assert store.meta["schema"] == SCHEMA_VERSION
        assert store.journal.last_seq == seq + len(plan(2, SCHEMA_VERSION))
        assert _records(store) == records and store.counters == counters
        with store.begin("test.after-upgrade") as tx:
            key = tx.insert("years/2026/test.json", "rows", "test-row", {"text": "升级后保存"})
    ckpt = st.read_sealed(root / CHECKPOINT)
    assert (ckpt["seq"], ckpt["counters"]["test-row"]) == (seq + len(plan(2, SCHEMA_VERSION)) + 1, key)
    # the backup holds the folder as the older program left it (and can restore it)
    [backup] = list_backups(root)
    with zipfile.ZipFile(backup) as z:
        names = set(z.namelist())
    assert "villageboard.json" in names and CHECKPOINT not in names
    assert check_all(root) == []
    with Store.open(root) as store:  # opened again: nothing more to do or redo
        assert not store.recovered and store.journal.last_seq == ckpt["seq"]
    assert list_backups(root) == [backup]
