"""In-memory lookup index for the phone desk (电话解答).

A clerk on the phone types what the caller *says*: a name heard, not seen (so the
characters may be wrong but the sound right), the tail of an ID or phone number, a
village name.  The right household has to come first, instantly, out of 10,000+.

So everything a query could be compared with is precomputed per household when the
household is saved (``add``; see ``keys``), and ``search`` only does dictionary
look-ups and scores a small candidate set (``scoring``).  Add, replace and remove touch
only that household's own keys: no rebuild.

The package is pure Python: no I/O, no Textual, no database.  Its parts:

* ``tables``: score bands, pinyin syllables, surname readings, limits;
* ``readings``: how a name is read (pypinyin, loaded lazily), text normalisation;
* ``keys``: what a household is filed under, and the maps holding it;
* ``query``: what the clerk typed, taken apart; its pronunciations;
* ``scoring``: the tiers that score a name query;
* ``index`` (here): the index itself, its stored state, numbers and the listing.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from villageboard.services.lookup import keys as _keys_module
from villageboard.services.lookup import readings as _readings_module
from villageboard.services.lookup import tables as _tables_module
from villageboard.services.lookup.keys import Entry, Maps, make_record
from villageboard.services.lookup.query import parse
from villageboard.services.lookup.readings import digits, id_norm
from villageboard.services.lookup.scoring import NameSearch, starts_with_letter
from villageboard.services.lookup.tables import S_ID, S_ID_AND_PHONE, S_LISTING, S_PHONE

__all__ = ["STATE_SOURCES", "Hit", "LookupIndex"]

#: The source files whose code shapes ``export_state`` (for a stored state's stamp).
STATE_SOURCES = (_tables_module.__file__, _readings_module.__file__, _keys_module.__file__, __file__)


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result; ``matched`` tells the clerk, in Chinese, why it matched."""

    household_id: int
    score: float  # higher is better
    matched: str


class LookupIndex:
    """Households by name (汉字, pinyin, initials, homophones), ID tail, phone tail,
    village and group.

    ``add`` and ``remove`` are incremental and cheap, so the index is kept current on
    every save instead of being rebuilt.  All methods take a lock: the full index may be
    loaded by a background thread while the clerk is already searching.

    Pinyin, fuzzy and initials keys are kept per reading rank, so every bucket holds
    households that would all get the same score from a Latin query; a search then
    keeps only the ``limit`` smallest ids of a big bucket (ties break by id, so no other
    member can reach the result) instead of scoring hundreds of Zhangs one by one.
    """

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._lock = threading.Lock()
        self._maps = Maps()
        self.add_all(entries)

    # -- maintenance --------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Insert a household, or replace it when its id is already indexed."""
        record = make_record(entry)  # the slow part (pypinyin), outside the lock
        maps = self._maps
        with self._lock:
            old = maps.records.pop(entry.household_id, None)
            if old is not None:
                maps.unlink(old)
            maps.records[entry.household_id] = record
            maps.link(record)

    def add_all(self, entries: Iterable[Entry]) -> None:
        """Bulk load (same as calling ``add`` for each)."""
        for entry in entries:
            self.add(entry)

    def remove(self, household_id: int) -> None:
        """Forget a household; unknown ids are ignored."""
        with self._lock:
            old = self._maps.records.pop(household_id, None)
            if old is not None:
                self._maps.unlink(old)

    def get(self, household_id: int) -> Entry | None:
        """The indexed entry of a household, or None."""
        record = self._maps.records.get(household_id)
        return record.entry if record else None

    def __len__(self) -> int:
        return len(self._maps.records)

    def __contains__(self, household_id: object) -> bool:
        return household_id in self._maps.records

    def __iter__(self) -> Iterator[Entry]:
        with self._lock:
            entries = [r.entry for r in self._maps.records.values()]
        return iter(entries)

    # -- a stored state ----------------------------------------------------------
    # Building the index means reading every name in pinyin (~0.6 s for 10,000
    # households). Its maps hold only names, readings, tails of ID and phone numbers
    # and place names, so they can be stored (see PhoneDesk) and restored for the same
    # entries in a fraction of that.

    def export_state(self) -> dict[str, Any]:
        """The index as plain data (dicts, sets, lists, tuples, str and int: what
        marshal stores): every map, the village aliases, and each household's name
        key (its entry is not stored: the caller has it)."""
        with self._lock:
            return self._maps.export()

    @classmethod
    def from_state(cls, entries: Iterable[Entry], state: dict[str, Any], owned: bool = False) -> LookupIndex | None:
        """An index equal to ``LookupIndex(entries)``, restored from ``export_state``;
        None when the state does not describe exactly these entries. With ``owned``
        the index takes the state's sets over instead of copying them (the caller
        keeps no other use of it)."""
        ix = cls()
        return ix if ix._maps.restore(entries, state, owned) else None

    # -- search ---------------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """Best first; equal scores are ordered by household_id.

        Village and group tokens narrow (filter) the result; digits are ID or phone
        tails; the rest is the name, in 汉字, pinyin, initials or a mix.
        """
        if limit <= 0 or not isinstance(query, str):
            return []
        with self._lock:
            return self._search(query, limit)

    def _search(self, query: str, limit: int) -> list[Hit]:
        parsed = parse(self._maps, query)
        if parsed is None:
            return []

        maps = self._maps
        allowed: set[int] | None = None
        if parsed.villages:
            allowed = set()
            for alias in parsed.villages:
                for village in maps.village_alias.get(alias, ()):
                    allowed |= maps.by_village.get(village) or set()
        if parsed.groups:
            in_groups: set[int] = set()
            for g in parsed.groups:
                in_groups |= maps.by_group.get(g) or set()
            allowed = in_groups if allowed is None else allowed & in_groups

        numbers: dict[int, tuple[float, str]] | None = None
        for num in parsed.numbers:
            hits = self._number_hits(num)
            if numbers is None:
                numbers = hits
            else:
                numbers = {h: (max(v[0], hits[h][0]), f"{v[1]}、{hits[h][1]}") for h, v in numbers.items() if h in hits}
        if numbers is not None:
            allowed = set(numbers) if allowed is None else allowed & numbers.keys()

        best: dict[int, tuple[float, str]] = {}
        if parsed.units:
            if allowed is None or allowed:
                NameSearch(maps, parsed.units, allowed, limit, best).run()
            if numbers is not None:
                for hid, (score, reason) in best.items():
                    best[hid] = (score, f"{reason}，{numbers[hid][1]}")
        elif numbers is not None:
            best = {h: v for h, v in numbers.items() if allowed is None or h in allowed}
        elif allowed is not None:
            label = "所在村组"
            if parsed.letter:
                records, letter = maps.records, parsed.letter
                allowed = {h for h in allowed if starts_with_letter(records[h], letter)}
                label = "所在村组，首字母"
            for hid in heapq.nsmallest(limit, allowed):
                best[hid] = (S_LISTING, label)
            if parsed.ambiguous_village:
                # 王庄 may be a village and a person: list the person first.
                NameSearch(maps, [("han", parsed.ambiguous_village)], None, limit, best).run()

        top = heapq.nsmallest(limit, best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [Hit(hid, score, reason) for hid, (score, reason) in top]

    # -- numbers ------------------------------------------------------------------------

    def _number_hits(self, num: str) -> dict[int, tuple[float, str]]:
        """ID tail (4–18, trailing X allowed) and phone tail (4+ digits)."""
        maps = self._maps
        out: dict[int, tuple[float, str]] = {}
        upper = num.upper()
        n = len(upper)
        if n < 4 or n > 18:
            return out
        tail = upper[-6:] if n >= 6 else upper
        id_label = "身份证号相同" if n == 18 else f"身份证后{n}位"
        for hid in maps.id_tail.get(tail) or ():
            if n <= 6 or id_norm(maps.records[hid].entry.id_number).endswith(upper):
                out[hid] = (S_ID, id_label)
        if not upper.endswith("X"):
            for hid in maps.phone_tail.get(upper[-4:]) or ():
                phone = digits(maps.records[hid].entry.phone)
                if n > 4 and not phone.endswith(upper):
                    continue
                label = "电话号码相同" if n == len(phone) else f"电话后{n}位"
                if hid in out:
                    out[hid] = (S_ID_AND_PHONE, f"{out[hid][1]}、{label}")
                else:
                    out[hid] = (S_PHONE, label)
        return out
