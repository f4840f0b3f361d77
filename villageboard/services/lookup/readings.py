"""How names are read: toneless pinyin of every character and of a whole name.

A stored name is filed under the surname reading of a multi-reading surname first
(单 shan, 曾 zeng, …), then the common reading; the standard reading of every given-name
character first (pypinyin's phrase table knows 长江 is chang-jiang), then its other
readings.  A typed character stands for every reading it may have.  Also the
normalisation shared by names, ID numbers and phone numbers (NFKC, separators dropped).

pypinyin is imported lazily: importing it costs ~0.25 s, which the app's start-to-ready
budget cannot afford.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations
from typing import Any

from villageboard.services.lookup.tables import (
    COMPOUND_SURNAMES,
    MAX_COMBOS,
    MAX_GIVEN_READINGS,
    MAX_SYL,
    SUPPLEMENT,
    SURNAME_READINGS,
    SYLLABLES,
)

# --- pypinyin, lazily --------------------------------------------------------------

_pypinyin: Any = None


def _pp() -> Any:
    """Import pypinyin on first use; the import costs ~0.25 s of start-up otherwise."""
    global _pypinyin
    if _pypinyin is None:
        import pypinyin
        import pypinyin.constants
        import pypinyin.pinyin_dict

        _pypinyin = pypinyin
    return _pypinyin


def _has_pinyin(ch: str) -> bool:
    return ord(ch) in _pp().pinyin_dict.pinyin_dict


def _strip_tone(reading: str) -> str:
    return reading.rstrip("012345")


@lru_cache(maxsize=16384)
def _char_readings(ch: str) -> tuple[str, ...]:
    """Toneless readings of one character, most common first.

    Only the first ``MAX_GIVEN_READINGS`` *toned* readings are kept before tones are
    dropped: pypinyin lists the common ones first, and its tail holds archaic readings
    (王 yù, 冰 níng) that would otherwise turn ordinary names into false homophones.
    """
    if ch in SUPPLEMENT:
        return SUPPLEMENT[ch]
    if ch.isascii():
        return (ch.lower(),) if ch.isalnum() else ()
    if not _has_pinyin(ch):
        return ()
    pp = _pp()
    toned = pp.pinyin(ch, style=pp.Style.TONE3, heteronym=True, errors="ignore")
    out: list[str] = []
    for reading in (toned[0] if toned else [])[:MAX_GIVEN_READINGS]:
        syl = _strip_tone(reading)
        if syl in SYLLABLES and syl not in out:
            out.append(syl)
    return tuple(out)


@lru_cache(maxsize=65536)
def _standard_readings(text: str) -> tuple[str | None, ...]:
    """The standard (context-aware) reading of each character of a given name.

    pypinyin's phrase table gets 长江 as chang-jiang where the single character would
    say zhang.  Its converter costs ~25 µs a call, so it only runs when some part of the
    name is in that table; otherwise each character's first reading is the answer it
    would give.  Characters nobody can read come back as None.
    """
    pp = _pp()
    if len(text) >= 2 and all(_has_pinyin(ch) for ch in text):
        phrases = pp.constants.PHRASES_DICT
        n = len(text)
        if any(text[i:j] in phrases for i in range(n) for j in range(i + 2, n + 1)):
            out = pp.lazy_pinyin(text, style=pp.Style.NORMAL)
            if len(out) == n:
                return tuple(r if r in SYLLABLES else None for r in out)
    return tuple((_char_readings(ch) or (None,))[0] for ch in text)


def merge(first: Iterable[str | None], rest: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for r in (*first, *rest):
        if r and r not in out:
            out.append(r)
    return tuple(out)


def surname_len(name: str) -> int:
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return 2
    return 1 if name else 0


def name_char_readings(chars: tuple[str, ...], sl: int) -> list[tuple[str, ...]]:
    """Readings per character of a stored name, the reading to rank first in front."""
    out: list[tuple[str, ...]] = []
    if sl == 2:
        compound = COMPOUND_SURNAMES["".join(chars[:2])]
        for i in range(2):
            out.append(merge((compound[i],), _char_readings(chars[i])))
    elif sl == 1:
        ch = chars[0]
        out.append(SURNAME_READINGS.get(ch) or _char_readings(ch))
    given = "".join(chars[sl:])
    std = _standard_readings(given)
    for ch, s in zip(given, std, strict=True):
        out.append(merge((s,), _char_readings(ch)))
    return out


def query_char_readings(ch: str, first: bool) -> tuple[str, ...]:
    """Every reading a typed character may stand for (recall matters on this side)."""
    if first and ch in SURNAME_READINGS:
        return merge(SURNAME_READINGS[ch], _char_readings(ch))
    return _char_readings(ch)


def combos(readings: list[tuple[str, ...]]) -> list[tuple[int, tuple[str, ...]]]:
    """Reading combinations of a name: (rank, syllables), rank = how many characters use
    an alternative reading.  At most two alternatives at once and ``MAX_COMBOS`` in all,
    so a long minority name cannot blow up."""
    base = tuple(r[0] for r in readings)
    out = [(0, base)]
    alts = [(i, j) for i, r in enumerate(readings) for j in range(1, len(r))]
    for i, j in alts:
        s = list(base)
        s[i] = readings[i][j]
        out.append((1, tuple(s)))
    for (i1, j1), (i2, j2) in combinations(alts, 2):
        if len(out) >= MAX_COMBOS:
            break
        if i1 == i2:
            continue
        s = list(base)
        s[i1] = readings[i1][j1]
        s[i2] = readings[i2][j2]
        out.append((2, tuple(s)))
    return out[:MAX_COMBOS]


def fuzzy_syllable(syl: str) -> str:
    """Merge sounds often confused over the phone: z/zh c/ch s/sh n/l an/ang en/eng
    in/ing ü/u.  Applied per syllable, never across a syllable boundary."""
    if syl[:2] in ("zh", "ch", "sh"):
        syl = syl[0] + syl[2:]
    elif syl[:1] == "n" and syl not in ("n", "ng"):
        syl = "l" + syl[1:]
    if syl.endswith(("ang", "eng", "ing")):
        syl = syl[:-1]
    return syl.replace("v", "u")


@lru_cache(maxsize=4096)
def segmentations(text: str) -> tuple[tuple[str, ...], ...]:
    """All ways (at most 16) to split ``text`` into whole pinyin syllables."""
    if not text:
        return ((),)
    if len(text) > 40:
        return ()
    out: list[tuple[str, ...]] = []
    for k in range(min(MAX_SYL, len(text)), 0, -1):
        head = text[:k]
        if head in SYLLABLES:
            for rest in segmentations(text[k:]):
                out.append((head, *rest))
                if len(out) >= 16:
                    return tuple(out)
    return tuple(out)


# --- text normalisation --------------------------------------------------------------


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def name_key(name: str) -> str:
    """The name as compared: NFKC, separators (·, spaces, dots) dropped."""
    return "".join(ch for ch in nfkc(name) if ch.isalnum()).lower()


def digits(text: str) -> str:
    return "".join(ch for ch in nfkc(text) if ch.isdigit())


def id_norm(text: str) -> str:
    return "".join(ch for ch in nfkc(text) if ch.isalnum()).upper()


def name_readings(name: str) -> list[str]:
    """The toneless readings a name is filed under, spaced, the one ranked first in
    front: 单雄 -> ["shan xiong", "dan xiong"].  For the phone desk to show how a name
    is said, and to check the surname table.  [] when a character has no reading."""
    key = name_key(name)
    if not key:
        return []
    readings = name_char_readings(tuple(key), surname_len(key))
    if not all(readings):
        return []
    return [" ".join(syls) for _, syls in combos(readings)]
