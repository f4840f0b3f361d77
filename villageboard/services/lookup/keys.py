"""What a household is filed under in the phone-desk lookup, and the maps that hold it.

Everything a query could be compared with is derived per household when it is saved:

* the name in 汉字: whole, every prefix, the given name, each character;
* the toneless pinyin of the name in every plausible reading (see ``readings``), as
  whole keys, syllable-boundary prefixes and given-name keys;
* the same keys in a *fuzzy* form that merges sounds commonly confused over the phone
  (z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing, ü/u);
* initials (``zw`` and ``zhw`` for 张伟);
* the last 4, 5 and 6 characters of the ID number and the last 4 digits of the phone;
* village and group.

Pinyin, fuzzy and initials keys are kept per reading rank (0 standard, 1 and 2 with
alternative readings), so a bucket holds households that a Latin query scores alike.
:class:`Maps` holds all of it; the index writes it (under its lock), query parsing and
scoring read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from villageboard.domain.places import group_key, village_names
from villageboard.services.lookup.readings import (
    combos,
    digits,
    fuzzy_syllable,
    id_norm,
    name_char_readings,
    name_key,
    surname_len,
)

RANKS = 3  # reading ranks 0 (standard), 1 and 2 alternative readings
FAMILIES = ("py_sur", "py_pre", "py_full", "py_given", "fz_pre", "fz_full", "ini_pre", "ini_full")


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index knows of one household (户主 and where it lives)."""

    household_id: int
    name: str  # 户主姓名 in 汉字, may contain · and rare chars like 𠮷
    id_number: str  # 18 chars
    phone: str  # may be ""
    village: str  # e.g. "东沟村"
    group: str  # e.g. "一组"


@dataclass(slots=True)
class Record:
    """What a search needs of a household beyond its entry.  The keys it was filed
    under are not kept: remove() derives them again from the entry (the derivation is
    deterministic), which halves the index's memory."""

    entry: Entry
    name_key: str
    surname_len: int
    # pinyin key (any syllable-boundary prefix) -> syllables of the characters it covers;
    # None until first needed when the index was restored from a stored state
    _syls: dict[str, tuple[str, ...]] | None = None

    @property
    def syls(self) -> dict[str, tuple[str, ...]]:
        if self._syls is None:
            self._syls = name_parts(self.name_key)[5]
        return self._syls


class MultiMap:
    """key -> household ids.  A lone id is kept as a bare int: most keys (an ID tail, a
    whole pinyin) belong to one household, and a one-member set costs 216 bytes.

    ``data`` is that raw map: scoring reads it where building a one-member set per
    look-up would cost; only ``add``, ``discard`` and ``Maps.restore`` change it."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[str, int | set[int]] = {}

    def add(self, key: str, hid: int) -> None:
        cur = self.data.get(key)
        if cur is None:
            self.data[key] = hid
        elif isinstance(cur, int):
            if cur != hid:
                self.data[key] = {cur, hid}
        else:
            cur.add(hid)

    def discard(self, key: str, hid: int) -> None:
        cur = self.data.get(key)
        if cur is None:
            return
        if isinstance(cur, int):
            if cur == hid:
                del self.data[key]
            return
        cur.discard(hid)
        if len(cur) == 1:
            self.data[key] = next(iter(cur))
        elif not cur:
            del self.data[key]

    def get(self, key: str) -> set[int] | None:
        """The ids under ``key`` (the caller must not modify the set)."""
        cur = self.data.get(key)
        if cur is None or isinstance(cur, set):
            return cur
        return {cur}

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __len__(self) -> int:
        return len(self.data)

    def items(self) -> Iterator[tuple[str, set[int]]]:
        for key in self.data:
            ids = self.get(key)
            if ids:
                yield key, ids


def _put_min(d: dict[str, int], key: str, rank: int) -> None:
    old = d.get(key)
    if old is None or rank < old:
        d[key] = rank


def _shengmu_letters(syls: tuple[str, ...]) -> str:
    return "".join(s[:2] if s[:2] in ("zh", "ch", "sh") else s[0] for s in syls)


NameParts = tuple[
    tuple[str, ...],  # chars
    int,  # surname length
    str,  # surname ("" when the name is no longer than it)
    tuple[str, ...],  # han prefixes
    tuple[str, ...],  # given names
    dict[str, tuple[str, ...]],  # syllables per pinyin key
    dict[str, dict[str, int]],  # key families
]


@lru_cache(maxsize=2048)
def name_parts(name_key: str) -> NameParts:
    """Everything the index derives from a name.  Cached because a township has many
    namesakes (王芳, 张伟 …); the dicts are shared between records and never mutated."""
    chars = tuple(name_key)
    sl = surname_len(name_key)
    surname = name_key[:sl] if len(name_key) > sl else ""
    han_prefixes = tuple(name_key[:k] for k in range(1, len(name_key)) if k != sl)
    given_starts = sorted({sl} | ({1} if sl == 2 else set()))
    givens = tuple(name_key[g:] for g in given_starts if name_key[g:])

    syls_of: dict[str, tuple[str, ...]] = {}
    fam: dict[str, dict[str, int]] = {f: {} for f in FAMILIES}
    if chars:
        readings = name_char_readings(chars, sl)
        known = next((i for i, r in enumerate(readings) if not r), len(readings))
        complete = known == len(readings)
        for rank, syls in combos(readings[:known]) if known else []:
            fsyls = tuple(fuzzy_syllable(s) for s in syls)
            letters = "".join(s[0] for s in syls)
            for k in range(1, len(syls) + 1):
                key = "".join(syls[:k])
                syls_of.setdefault(key, syls[:k])  # combos come lowest rank first
                _put_min(fam["py_sur" if k == sl and len(chars) > sl else "py_pre"], key, rank)
                _put_min(fam["fz_pre"], "".join(fsyls[:k]), rank)
                if k >= 2:
                    _put_min(fam["ini_pre"], letters[:k], rank)
                    _put_min(fam["ini_pre"], _shengmu_letters(syls[:k]), rank)
            if complete:
                _put_min(fam["py_full"], "".join(syls), rank)
                _put_min(fam["fz_full"], "".join(fsyls), rank)
                _put_min(fam["ini_full"], letters, rank)
                _put_min(fam["ini_full"], _shengmu_letters(syls), rank)
                for g in given_starts:
                    if g < len(syls):
                        _put_min(fam["py_given"], "".join(syls[g:]), rank)
    return chars, sl, surname, han_prefixes, givens, syls_of, fam


def make_record(entry: Entry) -> Record:
    key = name_key(entry.name)
    _, sl, _, _, _, syls_of, _ = name_parts(key)
    return Record(entry=entry, name_key=key, surname_len=sl, _syls=syls_of)


def entry_keys(entry: Entry) -> tuple[tuple[str, ...], str, str, frozenset[str], str]:
    """ID tails, phone tail, village, village aliases and group of an entry."""
    ids = id_norm(entry.id_number)
    phone = digits(entry.phone)
    village, aliases = _village_keys(entry.village)
    return (
        tuple(ids[-k:] for k in (4, 5, 6) if len(ids) >= k),
        phone[-4:] if len(phone) >= 4 else "",
        village,
        aliases,
        group_key(entry.group),
    )


@lru_cache(maxsize=1024)
def _village_keys(village: str) -> tuple[str, frozenset[str]]:
    """The village's full name and every form it may be typed in (东沟村 is also 东沟)."""
    return name_key(village), village_names(village)


def _copy_ids(d: dict[str, int | set[int]]) -> dict[str, int | set[int]]:
    """A multi-map's contents with its sets copied (a lone id is an int: see MultiMap)."""
    return {k: (set(v) if isinstance(v, set) else v) for k, v in d.items()}


def _fingerprint(entry: Entry) -> list[Any]:
    """What an entry is filed under besides its name (ID and phone tails, village,
    group), as stored with the index's state to check that it still describes it."""
    id_tails, phone_tail, village, _aliases, group = entry_keys(entry)
    return [list(id_tails), phone_tail, village, group]


Ranked = tuple[MultiMap, ...]  # one map per reading rank


def ranked() -> Ranked:
    return tuple(MultiMap() for _ in range(RANKS))


class Maps:
    """The records and every map a household is filed in.  ``LookupIndex`` changes them
    (holding its lock) through ``link``, ``unlink`` and ``restore``; query parsing and
    scoring only read them."""

    __slots__ = (
        "records",
        "by_name",
        "by_surname",
        "by_han_prefix",
        "by_char",
        "by_given",
        "fam",
        "id_tail",
        "phone_tail",
        "by_village",
        "by_group",
        "village_alias",
        "alias_order",
    )

    def __init__(self) -> None:
        self.records: dict[int, Record] = {}
        self.by_name = MultiMap()
        self.by_surname = MultiMap()
        self.by_han_prefix = MultiMap()
        self.by_char = MultiMap()
        self.by_given = MultiMap()
        self.fam: dict[str, Ranked] = {f: ranked() for f in FAMILIES}
        self.id_tail = MultiMap()
        self.phone_tail = MultiMap()
        self.by_village = MultiMap()
        self.by_group = MultiMap()
        self.village_alias: dict[str, set[str]] = {}  # alias -> village keys
        self.alias_order: list[str] | None = None  # cache, reset when villages change

    def by_label(self) -> dict[str, MultiMap]:
        """Every map under the name it is stored as."""
        maps = {
            "name": self.by_name,
            "surname": self.by_surname,
            "han_prefix": self.by_han_prefix,
            "char": self.by_char,
            "given": self.by_given,
            "id_tail": self.id_tail,
            "phone_tail": self.phone_tail,
            "village": self.by_village,
            "group": self.by_group,
        }
        for f, rk in self.fam.items():
            for rank, m in enumerate(rk):
                maps[f"{f}.{rank}"] = m
        return maps

    def keys_of(self, r: Record) -> Iterator[tuple[MultiMap, str]]:
        """Every (map, key) a household is filed under."""
        chars, _, surname, han_prefixes, givens, _, fam = name_parts(r.name_key)
        if r.name_key:
            yield self.by_name, r.name_key
        if surname:
            yield self.by_surname, surname
        for key in han_prefixes:
            yield self.by_han_prefix, key
        for ch in set(chars):
            yield self.by_char, ch
        for key in givens:
            yield self.by_given, key
        id_tails, phone_tail, village, _, group = entry_keys(r.entry)
        for key in id_tails:
            yield self.id_tail, key
        if phone_tail:
            yield self.phone_tail, phone_tail
        if village:
            yield self.by_village, village
        if group:
            yield self.by_group, group
        for f in FAMILIES:
            rk = self.fam[f]
            for key, rank in fam[f].items():
                yield rk[rank], key

    def link(self, r: Record) -> None:
        hid = r.entry.household_id
        for m, key in self.keys_of(r):
            m.add(key, hid)
        _, _, village, aliases, _ = entry_keys(r.entry)
        if village:
            for alias in aliases:
                if alias not in self.village_alias:
                    self.alias_order = None
                self.village_alias.setdefault(alias, set()).add(village)

    def unlink(self, r: Record) -> None:
        hid = r.entry.household_id
        for m, key in self.keys_of(r):
            m.discard(key, hid)
        _, _, village, aliases, _ = entry_keys(r.entry)
        if village and village not in self.by_village:
            for alias in aliases:
                villages = self.village_alias.get(alias)
                if villages is not None:
                    villages.discard(village)
                    if not villages:
                        del self.village_alias[alias]
                        self.alias_order = None

    # -- a stored state ----------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """See ``LookupIndex.export_state``."""
        return {
            "maps": {n: _copy_ids(m.data) for n, m in self.by_label().items()},
            "aliases": {a: set(v) for a, v in self.village_alias.items()},
            "records": {
                str(hid): [r.name_key, r.surname_len, *_fingerprint(r.entry)] for hid, r in self.records.items()
            },
            # each name's pinyin keys -> syllables, once per name (scoring needs them)
            "syls": {r.name_key: dict(r.syls) for r in self.records.values()},
        }

    def restore(self, entries: Iterable[Entry], state: dict[str, Any], owned: bool) -> bool:
        """Fill these (empty) maps from ``export``; False when the state does not
        describe exactly these entries.  See ``LookupIndex.from_state``."""
        records = state.get("records", {})
        entries = list(entries)
        if len(entries) != len(records):
            return False
        syls = state.get("syls", {})  # read only, shared by every record of that name
        for e in entries:
            got = records.get(str(e.household_id))
            if got is None or got[0] != name_key(e.name) or got[2:] != _fingerprint(e):
                return False  # the household changed since: its keys would be stale
            self.records[e.household_id] = Record(entry=e, name_key=got[0], surname_len=got[1], _syls=syls.get(got[0]))
        maps = self.by_label()
        if set(state.get("maps", {})) != set(maps):
            return False
        for n, d in state["maps"].items():
            maps[n].data = d if owned else _copy_ids(d)
        aliases = state.get("aliases", {})
        self.village_alias = aliases if owned else {a: set(v) for a, v in aliases.items()}
        return True
