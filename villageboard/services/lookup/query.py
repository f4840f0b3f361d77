"""What the clerk typed, taken apart for the phone-desk lookup.

A clerk on the phone types what the caller *says*: a name heard, not seen (so the
characters may be wrong but the sound right), the tail of an ID or phone number, a
village name.  ``parse`` splits the query into name units (汉字 or Latin), number tails,
villages and groups, resolved against the index's maps; ``forms`` lists every way the
name part may be pronounced.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import product

from villageboard.domain.places import GROUP_NUM, GROUP_SUFFIX, cn_int, group_key
from villageboard.services.lookup.keys import Maps
from villageboard.services.lookup.readings import (
    fuzzy_syllable,
    merge,
    nfkc,
    query_char_readings,
    segmentations,
)
from villageboard.services.lookup.tables import (
    BONUS_GIVEN,
    BONUS_SURNAME,
    COMPOUND_SURNAMES,
    MAX_FORMS,
    MAX_QUERY,
    READING_PENALTY,
)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A digit right after a letter (and not followed by another digit) is a tone mark.
_TOKEN_RE = re.compile(rf"(?P<num>[0-9]+x?(?![a-z]))|(?P<lat>[a-z](?:[a-z]|[0-5](?![0-9]))*)|(?P<han>[{_HAN}]+)")
_GROUP_RE = re.compile(rf"第?({GROUP_NUM})(?:{GROUP_SUFFIX})")  # a group named inside a query


@dataclass(slots=True)
class Form:
    """One pronunciation of the name part of a query."""

    key: str  # toneless pinyin, no spaces
    han_at: tuple[tuple[int, int, str], ...]  # (start, end, 汉字) spans within key
    fuzzy: tuple[str, ...]  # fuzzy keys (one per syllabification)
    top_bonus: float  # the best alignment bonus any name can get from this form
    penalty: float  # typed 汉字 read in a less common reading (丁 as zheng) rank lower


@dataclass(slots=True)
class Parsed:
    units: list[tuple[str, str]]  # ("han" | "lat", text), consecutive kinds merged
    numbers: list[str]
    villages: list[str]  # alias texts, resolved against the index
    groups: list[str]  # group keys
    ambiguous_village: str | None  # a lone token that is a village *and* a name prefix
    letter: str  # a lone Latin letter: only used to thin a village or group listing


def _clean_query(query: str) -> str:
    """NFKC (full-width digits and letters), lower case, tone marks dropped with ü kept
    as v, punctuation turned into spaces."""
    text = nfkc(query[:MAX_QUERY]).lower()
    text = unicodedata.normalize("NFD", text).replace("u\u0308", "v").replace("u:", "v")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text)
    return "".join(ch if ch.isalnum() else " " for ch in text)


def parse(maps: Maps, query: str) -> Parsed | None:
    """Split a query into name units, number tails, villages and groups; None when
    nothing in it can be looked up."""
    text = _clean_query(query)
    groups: list[str] = []

    def take_group(m: re.Match[str]) -> str:
        n = cn_int(m.group(1))
        if n is None:
            return m.group(0)
        groups.append(str(n))
        return " "

    if not _is_name_start(maps, text.replace(" ", "")):  # 李一社 is a name, not group 1
        text = _GROUP_RE.sub(take_group, text)
    units: list[tuple[str, str]] = []
    numbers: list[str] = []
    villages: list[str] = []
    village_tokens: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        tok = m.group()
        if kind == "num":
            if len(tok) >= 4:  # 123x is an ID tail of 4
                numbers.append(tok)
            continue
        if kind == "lat":
            units.append(("lat", re.sub(r"[0-5]", "", tok)))
            continue
        # 汉字: a village, a group name, a village glued to a name, or name text
        if tok in maps.village_alias or _village_prefix(maps, tok):
            villages.extend(_village_alias_of(maps, tok))
            village_tokens.append(tok)
            continue
        group = group_key(tok)
        if group in maps.by_group and not group.isdigit() and not _is_name_start(maps, tok):
            groups.append(group)  # a named group: 河东组 / 河东
            continue
        split = _split_village(maps, tok)
        if split is not None:
            alias, rest = split
            villages.append(alias)
            units.append(("han", rest))
            continue
        units.append(("han", tok))

    merged: list[tuple[str, str]] = []
    for kind, tok in units:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + tok)
        else:
            merged.append((kind, tok))
    # One Latin letter says nothing about a name ("z" is a third of the township),
    # but it can thin out the listing of a village: 东沟 z.
    letter = ""
    if len(merged) == 1 and merged[0][0] == "lat" and len(merged[0][1]) < 2:
        letter = merged[0][1]
        merged = []
    ambiguous = None
    if not merged and not numbers and not groups and len(village_tokens) == 1:
        if _is_name_start(maps, village_tokens[0]):
            ambiguous = village_tokens[0]
    if not merged and not numbers and not villages and not groups:
        return None
    return Parsed(merged, numbers, villages, groups, ambiguous, letter)


def _is_name_start(maps: Maps, tok: str) -> bool:
    """Some household's name is, or begins with, ``tok``."""
    return tok in maps.by_han_prefix or tok in maps.by_surname or tok in maps.by_name


def _village_prefix(maps: Maps, tok: str) -> bool:
    """A typed prefix of a village name (张家 for 张家庄村), unless it is also how
    some household's name begins."""
    if len(tok) < 2 or _is_name_start(maps, tok):
        return False
    return any(alias.startswith(tok) for alias in maps.village_alias)


def _village_alias_of(maps: Maps, tok: str) -> list[str]:
    if tok in maps.village_alias:
        return [tok]
    return [alias for alias in maps.village_alias if alias.startswith(tok)]


def _aliases_longest_first(maps: Maps) -> list[str]:
    if maps.alias_order is None:
        maps.alias_order = sorted(maps.village_alias, key=lambda a: (-len(a), a))
    return maps.alias_order


def _split_village(maps: Maps, tok: str) -> tuple[str, str] | None:
    """东沟张伟 / 张伟东沟村 -> village + name, when the whole is no name prefix."""
    if _is_name_start(maps, tok):
        return None
    for alias in _aliases_longest_first(maps):
        if len(alias) < 2 or len(tok) <= len(alias):
            continue
        if tok.startswith(alias):
            return alias, tok[len(alias) :]
        if tok.endswith(alias):
            return alias, tok[: -len(alias)]
    return None


# -- numbers ------------------------------------------------------------------------


def forms(units: list[tuple[str, str]]) -> list[Form]:
    """Pronunciations of the name part: 汉字 contribute each of their readings (the
    surname readings for a leading character), Latin text is taken as typed."""
    choices: list[list[tuple[str, str | None, int]]] = []
    first = True
    for kind, text in units:
        if kind == "lat":
            choices.append([(text, None, 0)])
            first = False
            continue
        compound = COMPOUND_SURNAMES.get(text[:2]) if first else None
        for i, ch in enumerate(text):
            readings = query_char_readings(ch, first and i == 0)
            if compound and i < 2:
                readings = merge((compound[i],), readings)
            if not readings:
                return []
            choices.append([(r, ch, alt) for alt, r in enumerate(readings)])
        first = False
    out: list[Form] = []
    for combo in product(*choices):
        if len(out) >= MAX_FORMS:
            break
        key_parts: list[str] = []
        han_at: list[tuple[int, int, str]] = []
        offset = 0
        alternatives = 0
        for reading, han, alt in combo:
            if han is not None:
                han_at.append((offset, offset + len(reading), han))
            key_parts.append(reading)
            offset += len(reading)
            alternatives += alt > 0
        top_bonus = 0.0
        if han_at:
            top_bonus = (BONUS_SURNAME if han_at[0][0] == 0 else 0.0) + (BONUS_GIVEN if han_at[-1][0] > 0 else 0.0)
        fuzzy = _fuzzy_keys(tuple((reading, han) for reading, han, _ in combo))
        penalty = READING_PENALTY * alternatives
        out.append(Form("".join(key_parts), tuple(han_at), fuzzy, top_bonus, penalty))
    out.sort(key=lambda f: f.penalty)  # stable: the usual readings first
    return out


def _fuzzy_keys(combo: tuple[tuple[str, str | None], ...]) -> tuple[str, ...]:
    parts: list[tuple[str, ...]] = []
    for text, ch in combo:
        if ch is not None:
            parts.append((fuzzy_syllable(text),))
            continue
        segs = segmentations(text)
        if not segs:
            return ()
        parts.append(tuple("".join(fuzzy_syllable(s) for s in seg) for seg in segs))
    keys: list[str] = []
    for p in product(*parts):
        key = "".join(p)
        if key not in keys:
            keys.append(key)
        if len(keys) >= 8:
            break
    return tuple(keys)
