"""Named, ordered upgrades of a data folder's format (schema N -> N+1).

When a writer opens a folder written at an older schema, :func:`migrate` runs, in
order, every migration from the folder's schema up to :data:`SCHEMA_VERSION`:

1. one backup of the whole folder first, in the standard place (``<data>-backups``);
2. each migration as one journaled transaction, named ``升级数据格式.<name>``, which
   also records that migration under its source schema in the ``migrations`` table of
   registry.json;
3. then the folder's schema number in villageboard.json moves on.

A kill between 2 and 3 leaves the record in the journal (redone on the next open if
the files missed it), so the next open skips the migration's work and only moves the
schema number on: each step is done once however often the open is interrupted.

A migration reads through ``tx.store`` and writes through ``tx.put``; it must not
number new records. Add one by appending to :data:`MIGRATIONS` and raising
``SCHEMA_VERSION`` in store.py; tests/test_migrations.py checks the two agree.

A migration may also change no record and only allow a new form of a file, which
the store then makes itself: ``compress-sealed-journal-segments`` (2 -> 3) records
the step, and from format 3 on every writer open and every roll-over of the journal
compresses sealed journal segments in the background (compress.py, an idempotent
routine that a kill at any step leaves safe to run again). Its work is therefore
never "done" at a point the record could name: a format-3 folder may hold any mix of
plain and compressed sealed segments, and every reader reads both. The format
number is what keeps a program that cannot read them from opening the folder.

``compress-notice-snapshots`` (4 -> 5) rewrites each notice snapshot file (written
once, never rewritten) with its body compressed (storage.py), one atomic write a
file: the JSON body is the same bytes, only its stored form changes. A kill between
two files leaves a mix, which every reader reads; the record comes after the last
file, so the next open runs the step again and it skips the files already done.
From format 5 on the store writes new snapshot files compressed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from villageboard.domain.errors import VBError
from villageboard.store import storage as st
from villageboard.store.killpoints import kill_point

if TYPE_CHECKING:
    from villageboard.store.store import Store, Tx

#: Where each applied migration is recorded (file, table; the key is its source schema).
RECORD_FILE, RECORD_TABLE = "registry.json", "migrations"


@dataclass(frozen=True)
class Migration:
    """Turns a folder at schema ``source`` into schema ``source + 1``."""

    source: int
    name: str  # short, ASCII, never reused: it names the journal entry and the record
    summary: str  # what it does, in the words shown in the backup list
    apply: Callable[[Tx], None]


# -- the migrations ---------------------------------------------------------------------

#: Household files of the registry (the layout services.paths writes).
_HOUSEHOLD_FOLDER, _HOUSEHOLD_TABLE = "households", "households"


def _upper_case_id_numbers(tx: Tx) -> None:
    """An ID number's check character is stored as an upper-case X. Numbers typed
    before entry normalised them could keep a lower-case x, and the registry's
    search by ID number (which upper-cases what it is asked) never found them."""
    store = tx.store
    for rel in store.list_files(_HOUSEHOLD_FOLDER):
        for key, doc in store.table(rel, _HOUSEHOLD_TABLE).items():
            number = doc.get("id_number")
            if isinstance(number, str) and number != number.upper():
                tx.put(rel, _HOUSEHOLD_TABLE, int(key), {**doc, "id_number": number.upper()})


def _allow_compressed_segments(tx: Tx) -> None:
    """No record changes: the writer compresses sealed journal segments from format 3
    on (module docstring); this step only records when the folder moved to it."""


def _journal_checkpoint(tx: Tx) -> None:
    """From format 4 on, HEAD.json and counters.json are rewritten on every save with no
    fsync and CHECKPOINT.json records where the data files are durable (checkpoint.py).
    No record changes: the store writes CHECKPOINT.json durably when the folder's format
    moves on (Store.set_schema), and until then keeps the old protocol."""


def _compress_notice_snapshots(tx: Tx) -> None:
    """Store every notice snapshot file compressed (module docstring); no record changes."""
    store = tx.store
    for year in store.years():
        for rel in store.list_files(f"years/{year}/snapshots"):
            path = store.root / rel
            if not st.stored_compressed(path):
                continue
            data = path.read_bytes()
            if st.is_compressed(data):
                continue  # done before a kill
            body = st.check_sealed(path, data)  # damage is reported, never rewritten
            st.atomic_write(path, st.seal_bytes(body, compress=True))
            if store.verifier is not None:
                store.verifier.note(path)
            kill_point("migrate.snapshot-compressed")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "upper-case-id-numbers", "身份证号末位的小写x改为大写X", _upper_case_id_numbers),
    Migration(
        2,
        "compress-sealed-journal-segments",
        "写满的修改记录文件改为压缩保存（.jsonl.gz），占用的磁盘空间减少九成以上",
        _allow_compressed_segments,
    ),
    Migration(
        3,
        "journal-checkpoint",
        "保存更快：数据文件改为定期统一写入磁盘，由新增的保存点文件（CHECKPOINT.json）记下位置",
        _journal_checkpoint,
    ),
    Migration(
        4,
        "compress-notice-snapshots",
        "张贴公示时保存的名单文件改为压缩保存，占用的磁盘空间减少八成以上",
        _compress_notice_snapshots,
    ),
)


# -- running them -------------------------------------------------------------------------


def plan(schema: int, target: int, migrations: Sequence[Migration] = MIGRATIONS) -> list[Migration]:
    """The migrations that take schema ``schema`` to ``target``, in order."""
    by_source = {m.source: m for m in migrations}
    steps = []
    for n in range(schema, target):
        m = by_source.get(n)
        if m is None:
            raise VBError(f"本程序不会把数据格式{n}升级到{n + 1}，请联系技术支持。")
        steps.append(m)
    return steps


def applied(store: Store) -> dict[int, str]:
    """The migrations recorded in this folder: source schema -> name."""
    return {int(k): str(doc.get("name", "")) for k, doc in store.table(RECORD_FILE, RECORD_TABLE).items()}


def migrate(store: Store, target: int, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Bring an open, writable store from its schema to ``target``; returns the names
    of the migrations whose work ran now (a step recorded before a kill is skipped)."""
    from villageboard.store.backup import make_backup

    schema = int(store.meta.get("schema", 0))
    steps = plan(schema, target, migrations)
    if not steps:
        return []
    make_backup(store, reason=f"升级数据格式{schema}到{target}之前")
    ran: list[str] = []
    for m in steps:
        if applied(store).get(m.source) != m.name:
            with store.begin(f"升级数据格式.{m.name}") as tx:
                m.apply(tx)
                tx.put(
                    RECORD_FILE,
                    RECORD_TABLE,
                    m.source,
                    {
                        "name": m.name,
                        "source": m.source,
                        "target": m.source + 1,
                        "summary": m.summary,
                    },
                )
            ran.append(m.name)
        store.set_schema(m.source + 1)
    return ran
