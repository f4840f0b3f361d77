"""A folder written at an older data format is upgraded when a writer opens it: a backup
first, then each named migration as one journaled save, then the new format number.
The example migration upper-cases the check character x of stored ID numbers."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from villageboard.cli.main import main
from villageboard.domain.errors import DamagedError, VBError
from villageboard.services import Services
from villageboard.services.integrity import check_all
from villageboard.store import SCHEMA_VERSION, Store
from villageboard.store import storage as st
from villageboard.store.backup import list_backups
from villageboard.store.journal import segments
from villageboard.store.migrations import MIGRATIONS, RECORD_FILE, RECORD_TABLE, applied, plan

HOUSEHOLDS = "households"


def written_at_schema_1(root: Path, recorded: bool = False) -> tuple[dict[int, str], int]:
    """Turn a current demo folder into one as the first format left it: some ID numbers
    end in a lower-case x. With ``recorded``, the folder is as a kill left it after the
    migration's save and before the format number moved on. Returns the numbers changed
    and the journal's last entry."""
    lowered: dict[int, str] = {}
    with Store.open(root) as store:
        with store.begin("test.old-format") as tx:
            for rel in store.list_files(HOUSEHOLDS):
                for key, doc in store.table(rel, HOUSEHOLDS).items():
                    if doc["id_number"].endswith("X"):
                        lowered[int(key)] = doc["id_number"].lower()
                        tx.put(rel, HOUSEHOLDS, int(key), {**doc, "id_number": lowered[int(key)]})
            if recorded:
                m = MIGRATIONS[0]
                tx.put(RECORD_FILE, RECORD_TABLE, m.source, {"name": m.name, "source": 1, "target": 2})
        store.set_schema(1)
        seq = store.journal.last_seq
    assert lowered, "the demo has ID numbers ending in X"
    return lowered, seq


def run_check(root: Path) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["--data-dir", str(root), "check"])


def test_the_migrations_take_the_first_format_to_the_current_one() -> None:
    steps = plan(1, SCHEMA_VERSION)
    assert [m.source for m in steps] == list(range(1, SCHEMA_VERSION))
    assert len({m.name for m in MIGRATIONS}) == len(MIGRATIONS)
    assert plan(SCHEMA_VERSION, SCHEMA_VERSION) == []


def test_a_folder_at_the_old_format_is_backed_up_and_upgraded_on_open(demo_dir: Path) -> None:
    lowered, old_seq = written_at_schema_1(demo_dir)
    with Store.open(demo_dir, readonly=True) as store:
        assert store.meta["schema"] == 1  # a reader changes nothing
    assert list_backups(demo_dir) == []
    with Store.open(demo_dir) as store:
        assert store.meta["schema"] == SCHEMA_VERSION
        assert applied(store) == {m.source: m.name for m in MIGRATIONS}
        assert store.journal.last_seq == old_seq + len(MIGRATIONS)  # one save for each migration
    [backup] = list_backups(demo_dir)
    with Services.open(demo_dir) as svc:
        for hid, number in lowered.items():
            assert svc.registry.household(hid).id_number == number.upper()
            found = svc.registry.by_id_number(number)
            assert found is not None and found.id == hid
    assert run_check(demo_dir) == 0 and check_all(demo_dir) == []
    # opened again: nothing more to do
    with Store.open(demo_dir) as store:
        seq = store.journal.last_seq
    with Store.open(demo_dir) as store:
        assert store.meta["schema"] == SCHEMA_VERSION and store.journal.last_seq == seq
    assert list_backups(demo_dir) == [backup]


def test_a_migration_saved_before_a_kill_is_not_run_again(demo_dir: Path) -> None:
    lowered, seq = written_at_schema_1(demo_dir, recorded=True)
    with Store.open(demo_dir) as store:
        # the record says the first one's work is done: only the next one saves
        assert store.meta["schema"] == SCHEMA_VERSION and store.journal.last_seq == seq + len(MIGRATIONS) - 1
        assert applied(store) == {m.source: m.name for m in MIGRATIONS}
    with Services.open(demo_dir) as svc:
        for hid, number in lowered.items():
            assert svc.registry.household(hid).id_number == number
    assert run_check(demo_dir) == 0


def test_a_folder_of_a_later_format_is_refused_by_name_before_its_files_are_checked(demo_dir: Path) -> None:
    """A later format may keep its files in a form this program cannot read (as format 3
    did its journal): the format number is read first, so the clerk is told to upgrade
    the program instead of being told the data are damaged."""
    meta = st.read_sealed(demo_dir / "villageboard.json")
    st.atomic_write(demo_dir / "villageboard.json", st.seal({**meta, "schema": SCHEMA_VERSION + 1}))
    first = segments(demo_dir / "journal")[0]
    first.rename(first.with_name("000001.jsonl.zst"))  # a form this program does not know
    for readonly in (False, True):
        with pytest.raises(VBError, match="新版本程序") as info:
            Store.open(demo_dir, readonly=readonly)
        assert not isinstance(info.value, DamagedError)
