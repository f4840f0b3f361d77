"""The phone desk (电话解答): one query box over every household, each hit with its
whole history across years, an identity check, and an answer script to read out.

Before the caller's identity is confirmed only what posted notices already made public
is shown. The factor is the birth date hidden by the ID mask: no public output shows it. The
check itself, one selected household at a time and a few tries a day, is in
services.identity.

The current year is indexed first; older years load in a background thread and the
results say which years are still loading. Every save reaches the index through the
store's commit listener, so it is never stale.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.metadata
import marshal
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from villageboard.domain import masking as masking_module
from villageboard.domain import money as money_module
from villageboard.domain.errors import VBError
from villageboard.domain.masking import mask_digit_runs, mask_id, tail
from villageboard.domain.models import Household
from villageboard.services import phone_records
from villageboard.services.identity import CheckResult, Identity, IdentityChecks
from villageboard.services.lookup.index import STATE_SOURCES, LookupIndex
from villageboard.services.lookup.keys import Entry
from villageboard.services.paths import HOUSEHOLDS_DIR, REGISTRY, applications_dir, notices_file
from villageboard.services.phone_records import (
    BY_PROGRAM,
    BY_YEAR,
    NOTICES,
    PROGRAM,
    VOID,
    YEAR,
    LookupAnswer,
    LookupHit,
    NoticeRef,
    Posted,
    Rec,
    compact_record,
    notice_refs,
    record_view,
)
from villageboard.services.phone_script import script_text
from villageboard.store.changes import Commit
from villageboard.store.derived import code_stamp

if TYPE_CHECKING:
    from villageboard.services.context import Services

#: What the kept history and index were made by (store.derived): a new program
#: version makes them afresh.
_EXTRACT_STAMP = code_stamp(__file__, phone_records.__file__, money_module.__file__, masking_module.__file__)
_INDEX_STAMP = code_stamp(__file__, *STATE_SOURCES)


def _pack(records: Iterable[tuple[Any, ...]]) -> bytes:
    """One household's records of one year as one bytes object (the interpreter's own
    format): the archive's half a million records held as ten thousand packed years
    a year instead of millions of small objects, unpacked for the few households a
    lookup shows."""
    return marshal.dumps(tuple(records))


def _unpack(blob: bytes) -> tuple[tuple[Any, ...], ...]:
    records: tuple[tuple[Any, ...], ...] = marshal.loads(blob)
    return records


class PhoneDesk:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store
        self.index = LookupIndex()
        self.checks = IdentityChecks(svc)
        self._lock = threading.RLock()
        # household -> year -> that year's records, packed (see _pack)
        self._history: dict[int, dict[int, bytes]] = {}
        self._notices: dict[str, NoticeRef] = {}
        self._posted_memo: dict[tuple[str, ...], Posted] = {}
        self._posted_day: dt.date | None = None
        self._programs: dict[tuple[int, str], tuple[str, str]] | None = None
        self._loaded: set[int] = set()
        self._years: list[int] = []
        self._ready = False
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self.load_error: str = ""
        # earlier heads (户主变更), one small index per generation; built when first
        # needed and dropped when a household with earlier heads is saved
        self._former: list[LookupIndex] | None = None

    # ------------------------------------------------------------------ loading
    def ensure_ready(self) -> None:
        """Index the registry and the current year (fast); older years come later."""
        with self._lock:
            if self._ready:
                return
            self.index = self._build_index()
            self._years = sorted(set(self.store.years()) | {self.svc.today().year}, reverse=True)
            self._load_year(self._years[0])
            self.store.subscribe(self._on_commit)
            self._ready = True

    def _build_index(self) -> LookupIndex:
        """The registry's index, restored from its stored state when the registry has
        not changed since it was stored (reading 10,000 names in pinyin takes ~0.6 s)."""
        built: LookupIndex | None = None

        def build() -> dict[str, Any]:
            nonlocal built
            built = LookupIndex(self._entries())
            return built.export_state()

        try:
            readings = importlib.metadata.version("pypinyin")  # readings come from its tables
        except importlib.metadata.PackageNotFoundError:
            readings = "?"
        state = self.store.derived.get(
            "phone-index",
            [REGISTRY, HOUSEHOLDS_DIR],
            build,
            version=f"{_INDEX_STAMP}-{readings}",
            remember=False,
            codec="marshal",
        )
        if built is not None:
            return built
        entries = self._entries()  # read after the key was taken: never older than it
        return LookupIndex.from_state(entries, state, owned=True) or LookupIndex(entries)

    def _entries(self) -> list[Entry]:
        return [self._entry(h) for h in self.svc.registry.households()]

    def start_background(self, progress: Callable[[int, int], None] | None = None) -> threading.Thread:
        """Load the older years in a thread; ``progress(done, total)`` after each."""
        self.ensure_ready()
        if self._thread is not None:
            return self._thread
        self._thread = threading.Thread(target=self.load_rest, args=(progress,), name="archive-loader", daemon=True)
        self._thread.start()
        return self._thread

    def load_all(self) -> None:
        self.ensure_ready()
        for y in self._years:
            if y not in self._loaded:
                self._load_year(y)

    def cancel(self) -> None:
        self._cancel.set()

    def load_rest(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Load the years not loaded yet, here (start_background runs this in its
        thread); ``progress(done, total)`` after each. Stops early after cancel();
        a file that cannot be read is reported in ``load_error``."""
        todo = [y for y in self._years if y not in self._loaded]
        try:
            for i, y in enumerate(todo, 1):
                if self._cancel.is_set():
                    return
                self._load_year(y)
                if progress:
                    progress(i, len(todo))
        except VBError as exc:
            self.load_error = str(exc)
        except OSError as exc:  # a file gone or unreadable (a restore under way)
            self.load_error = f"往年数据没有载入完：{exc.strerror or exc}"

    @property
    def ready(self) -> bool:
        """True once the registry and the current year are indexed."""
        return self._ready

    @property
    def loading_years(self) -> list[int]:
        return sorted(y for y in self._years if y not in self._loaded)

    def _load_year(self, year: int) -> None:
        # Hundreds of thousands of small objects are made here and all survive: the
        # cyclic collector would walk them again and again for nothing.
        gc_was = gc.isenabled()
        gc.disable()
        try:
            self._load_year_now(year)
        finally:
            if gc_was:
                gc.enable()

    def _load_year_now(self, year: int) -> None:
        # Kept twice: the whole year as one household -> records map (read when nothing
        # changed, as in every past year), and per application file (after a save only
        # the file it wrote is read again to make the year's map).
        packed: dict[int, bytes] = self.store.derived.get(
            f"phone-history-{year}",
            [applications_dir(year)],
            lambda: self._extract_year(year),
            version=_EXTRACT_STAMP,
            remember=False,
            codec="marshal",
        )
        notices = self.store.derived.get(
            f"phone-notices-{year}",
            [notices_file(year)],
            lambda: self._extract_notices(year),
            version=_EXTRACT_STAMP,
            remember=False,
        )
        refs = {}
        for code, version, kind, start, end, state in notices:
            refs[code] = NoticeRef(
                code=code,
                version=version,
                kind=kind,
                start=dt.date.fromisoformat(start) if start else None,
                end=dt.date.fromisoformat(end) if end else None,
                state=state,
            )
        with self._lock:
            self._notices.update(refs)
            self._posted_memo.clear()
            history = self._history
            for hid, blob in packed.items():
                got = history.get(hid)
                if got is None:
                    history[hid] = {year: blob}
                else:
                    got[year] = blob
            self._loaded.add(year)

    def records(self, household_id: int) -> dict[str, Rec]:
        """A household's history: app id -> record, as a new dict of views."""
        make = Rec._make
        return {t[0]: make(t) for t in self._unpacked(household_id)}

    def _unpacked(self, household_id: int) -> list[tuple[Any, ...]]:
        """A household's record tuples, every loaded year."""
        with self._lock:
            blobs = list(self._history.get(household_id, {}).values())
        return [t for blob in blobs for t in _unpack(blob)]

    def notices(self) -> dict[str, NoticeRef]:
        """The notices of the loaded years that records can point at, by code."""
        with self._lock:
            return dict(self._notices)

    def record_count(self) -> int:
        """How many application records the desk holds."""
        with self._lock:
            return sum(len(_unpack(blob)) for years in self._history.values() for blob in years.values())

    def _extract_year(self, year: int) -> dict[int, bytes]:
        per_file = self.store.derived.each(
            f"phone-year-{year}",
            self.store.list_files(applications_dir(year)),
            self._extract_file,
            version=_EXTRACT_STAMP,
            remember=False,
            codec="marshal",
        )
        recs: dict[int, dict[str, tuple[Any, ...]]] = {}
        for flat in per_file.values():
            for hid, t in zip(flat[::2], flat[1::2], strict=True):
                got = recs.get(hid)
                if got is None:
                    recs[hid] = {t[0]: t}
                else:
                    got[t[0]] = t
        return {hid: _pack(by_app.values()) for hid, by_app in recs.items()}

    def _extract_file(self, rel: str) -> list[Any]:
        """One application file's history as one flat list (household id, record
        tuple, household id, record tuple, ...: no per-household dicts for the year's
        merge to throw away), kept between starts in the interpreter's own format (see
        store.derived). Every repeated text (program, status, quantity, reason, date,
        the tuple of notice codes) is one shared object, stored once and shared again
        when it loads."""
        out: list[Any] = []
        for doc in self.store.read_raw(rel).get("applications", {}).values():
            out += (doc["household_id"], compact_record(doc))
        return out

    def _extract_notices(self, year: int) -> list[list[Any]]:
        try:
            ndocs = self.store.read_raw(notices_file(year)).get("notices", {}).values()
        except FileNotFoundError:
            ndocs = []
        return [
            [
                n.code,
                n.version,
                n.kind,
                n.start.isoformat() if n.start else "",
                n.end.isoformat() if n.end else "",
                n.state,
            ]
            for n in notice_refs(ndocs).values()
        ]

    def _entry(self, h: Household) -> Entry:
        village, group = self.svc.registry.place_names(h)
        return Entry(household_id=h.id, name=h.name, id_number=h.id_number, phone=h.phone, village=village, group=group)

    def _on_commit(self, commit: Commit) -> None:
        """Keep the index and history current on every save."""
        years_touched = set()
        for c in commit.changes:
            f, after = c.file, c.after
            if f == REGISTRY:
                self._programs = None  # a program added or renamed
            if f.startswith("households/"):
                if after.get("former_heads"):
                    self._former = None
                if after.get("void"):
                    live = self.svc.registry.by_number().get(after["id"])
                    if live is None or live.void:
                        self.index.remove(after["id"])
                    continue
                self.index.add(self._entry(Household.from_dict(after)))
            elif "/applications/" in f:
                t = compact_record(after)
                if t[YEAR] in self._loaded:
                    with self._lock:
                        years = self._history.setdefault(after["household_id"], {})
                        blob = years.get(t[YEAR])
                        by_app = {r[0]: r for r in _unpack(blob)} if blob else {}
                        by_app[t[0]] = t
                        years[t[YEAR]] = _pack(by_app.values())
            elif f.endswith("/notices.json"):
                years_touched.add(after.get("year"))
        for y in years_touched:
            if y in self._loaded:
                refs = notice_refs(self.store.table(notices_file(y), "notices").values())
                with self._lock:
                    self._notices.update(refs)
                    self._posted_memo.clear()

    # ------------------------------------------------------------------ answering
    def check_identity(self, household_id: int, birth: dt.date, override_note: str | None = None) -> CheckResult:
        """The caller's identity for the one household the clerk selected: the birth
        date hidden in the masked ID, a few tries a day (see services.identity)."""
        return self.checks.check(household_id, birth, override_note)

    def lookup(
        self,
        query: str,
        birth: dt.date | None = None,
        limit: int = 10,
        *,
        household: int | None = None,
        override_note: str | None = None,
    ) -> LookupAnswer:
        """Households matching the query, best first. With ``birth`` the identity is
        checked only if exactly one household is selected: the query finds one, or
        ``household`` picks one of its hits. Otherwise nobody is confirmed."""
        self.ensure_ready()
        hits = self._search(query, limit=max(limit, 2) if birth is not None and limit > 0 else limit)
        if household is not None:
            hits = [h for h in hits if h.household_id == household]
            if not hits:
                raise VBError(f"户编号{household}不在这次查询的结果里，请核对户编号或查询内容。")
        check = None
        if birth is not None and len(hits) > 1:
            check = self.checks.several(len(hits))
        elif birth is not None and hits:
            check = self.check_identity(hits[0].household_id, birth, override_note)
        identity = check.identity if check is not None else None
        out = [self.household_view(hit.household_id, identity, hit.matched) for hit in hits[:limit]]
        return LookupAnswer(hits=out, loading_years=self.loading_years, check=check)

    def _search(self, query: str, limit: int) -> list[Any]:
        """The index's hits, and households found under an earlier head's name or ID
        (户主变更): the history stays with the household, so a caller giving the old
        head's name still reaches it. Best first, ties by household number."""
        hits = {h.household_id: h for h in self.index.search(query, limit=limit)}
        for gen in self._former_indexes():
            for h in gen.search(query, limit=limit):
                label = f"原户主{h.matched}"
                cur = hits.get(h.household_id)
                if cur is None:
                    hits[h.household_id] = type(h)(h.household_id, h.score, label)
                elif h.score > cur.score:
                    hits[h.household_id] = type(h)(h.household_id, h.score, f"{label}（现户主{cur.matched}）")
        return sorted(hits.values(), key=lambda h: (-h.score, h.household_id))[: max(limit, 0)]

    def _former_indexes(self) -> list[LookupIndex]:
        former = self._former
        if former is None:
            former = []
            for h in self.svc.registry.households():
                village, group = self.svc.registry.place_names(h)
                for k, f in enumerate(h.former_heads):
                    while len(former) <= k:
                        former.append(LookupIndex())
                    former[k].add(
                        Entry(
                            household_id=h.id,
                            name=str(f.get("name", "")),
                            id_number=str(f.get("id_number", "")),
                            phone=str(f.get("phone", "")),
                            village=village,
                            group=group,
                        )
                    )
            self._former = former
        return former

    def household_view(self, household_id: int, identity: Identity | None = None, matched: str = "") -> LookupHit:
        """What the desk shows of one household: private fields only with a passed
        identity check for it, today."""
        self.ensure_ready()
        reg = self.svc.registry
        h = reg.household(household_id)
        e = self.index.get(household_id) or self._entry(h)
        confirmed = self.checks.valid(identity, household_id)
        programs = self._program_names()
        # The hot path of every lookup (about 50 records a household, ten households):
        # the stored tuples are read as they are, sorted by C-level keys (by program,
        # then stably by year, newest first), and the lock is taken once.
        today = self.svc.today()
        raw = sorted(self._unpacked(household_id), key=BY_PROGRAM)
        raw.sort(key=BY_YEAR, reverse=True)
        with self._lock:
            posted = self._posted_all([t[NOTICES] for t in raw], today)
        records = []
        for t, seen in zip(raw, posted, strict=True):
            if t[VOID]:
                continue
            name, unit = programs.get((t[YEAR], t[PROGRAM])) or (t[PROGRAM], "")
            records.append(record_view(t, name, unit, confirmed, seen))
        hit = LookupHit(
            household_id=h.id,
            name=mask_digit_runs(h.name),
            village=e.village,
            group=e.group,
            id_masked=mask_id(h.id_number),
            matched=matched,
            records=records,
            confirmed=confirmed,
            status={"active": "", "deceased": "已故", "moved": "迁出"}.get(h.status, ""),
        )
        if confirmed:
            hit.phone_tail = tail(h.phone)
            hit.card_tail = tail(h.card_account)
        return hit

    def _program_names(self) -> dict[tuple[int, str], tuple[str, str]]:
        """(year, code) -> (name, unit) of every program, kept until the registry is
        saved again (a history of ~50 records must not scan the policy list 50 times)."""
        names = self._programs
        if names is None:
            names = {(p.year, p.code): (p.name, p.unit) for p in self.svc.programs.list(include_void=True)}
            self._programs = names
        return names

    def _posted_all(self, codes_list: list[tuple[str, ...]], today: dt.date) -> list[Posted]:
        """(public, on a result notice, the notice to show) for each tuple of codes that
        froze a record. Thousands of records share each tuple, so the answer is kept per
        tuple until the notices or the day change (the caller holds the lock: the
        loader clears the memo when it adds notices)."""
        memo = self._posted_memo
        if self._posted_day != today:
            memo.clear()
            self._posted_day = today
        out = []
        for codes in codes_list:
            got = memo.get(codes)
            if got is None:
                notices = self._notices
                refs = [notices[c] for c in codes if c in notices]
                refs = [n for n in refs if n.start is not None and n.start <= today]
                got = (bool(refs), any(n.kind == "result" for n in refs), refs[-1] if refs else None)
                memo[codes] = got
            out.append(got)
        return out

    # ------------------------------------------------------------------ the script
    def answer_script(
        self, household_id: int, identity: Identity | None, year: int | None = None, program: str | None = None
    ) -> str:
        """Sentences for the clerk to read out; only after the identity check."""
        if not self.checks.valid(identity, household_id):
            raise VBError("身份未核实，不能说明个人信息。")
        hit = self.household_view(household_id, identity)
        return script_text(self.svc, hit, self.records(household_id), year, program)
