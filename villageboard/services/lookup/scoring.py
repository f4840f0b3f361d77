"""Scoring a name query against the phone-desk lookup's maps.

One :class:`NameSearch` runs per query: its tiers (exact 汉字 name, homophone, prefix,
given name, contained characters, initials, fuzzy sound …) run in descending order of
the best score each can give, each adding its hits to ``best`` (every household keeps
its best score), and the run stops once ``limit`` hits are out of reach of every tier
still to run.  A bucket whose members all score the same only offers its ``limit``
smallest ids (ties break by id), so hundreds of Zhangs cost one sort.

Score bands are in ``tables``; the ranking promised to the clerk: exact 汉字 name > same
pinyin with the same surname character > homophone > partial > initials > fuzzy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import product

from villageboard.services.lookup.keys import RANKS, Maps, MultiMap, Record
from villageboard.services.lookup.query import Form, forms
from villageboard.services.lookup.readings import merge, query_char_readings, segmentations
from villageboard.services.lookup.tables import (
    BONUS_GIVEN,
    BONUS_SURNAME,
    MAX_FORMS,
    MAX_SYL,
    PARTIAL,
    READING_PENALTY,
    S_CONTAINS,
    S_EXACT,
    S_FUZZY,
    S_FUZZY_PREFIX,
    S_GIVEN,
    S_HAN_PREFIX,
    S_HOMOPHONE,
    S_INITIALS,
    S_INITIALS_PREFIX,
    S_PINYIN,
    S_PY_GIVEN,
    S_PY_PARTIAL,
    S_PY_PREFIX,
    S_PY_SURNAME,
    S_SOME_CHARS,
    S_SUBSEQ,
    S_SURNAME,
)


class NameSearch:
    """One name query against one index: the query's pronunciations are worked out
    once, then each tier adds its hits to ``best`` (keeping each household's best)."""

    __slots__ = (
        "maps",
        "units",
        "han_only",
        "lat_only",
        "han_chars",
        "allowed",
        "limit",
        "best",
        "_forms",
    )

    def __init__(
        self,
        maps: Maps,
        units: list[tuple[str, str]],
        allowed: set[int] | None,
        limit: int,
        best: dict[int, tuple[float, str]],
    ) -> None:
        self.maps = maps
        self.units = units
        self.han_only = units[0][1] if len(units) == 1 and units[0][0] == "han" else None
        self.lat_only = units[0][1] if len(units) == 1 and units[0][0] == "lat" else None
        self.han_chars = "".join(t for k, t in units if k == "han")
        self.allowed = allowed
        self.limit = limit
        self.best = best
        self._forms: list[Form] | None = None

    def run(self) -> None:
        """Run the tiers that apply, in descending order of the best score each can
        give; stop once ``limit`` hits are out of reach of every tier still to run."""
        tiers: list[tuple[float, Callable[[], None]]] = []
        if self.han_only:
            tiers += [
                (S_EXACT, self.exact_name),
                (S_HOMOPHONE + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_full),
                (S_SURNAME, self.han_prefix),
                (S_PY_PREFIX + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_prefix),
                (S_GIVEN, self.han_given),
                (S_CONTAINS, self.han_contains),
                (S_PY_GIVEN, self.pinyin_given),
                (S_SOME_CHARS, self.han_some_chars),
                (S_FUZZY, self.fuzzy),
            ]
        elif self.lat_only:
            tiers += [
                (S_PINYIN, self.pinyin_full),
                (S_PY_SURNAME, self.pinyin_prefix),
                (S_PY_GIVEN, self.pinyin_given),
                (S_PY_PARTIAL, self.pinyin_partial),
                (S_INITIALS, self.initials),
                (S_FUZZY, self.fuzzy),
            ]
        else:  # 汉字 and Latin mixed: 张wei, 张 wd, zhang 伟
            tiers += [
                (S_HOMOPHONE + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_full),
                (S_PY_PREFIX + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_prefix),
                (S_PY_PARTIAL + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_partial),
                (S_INITIALS + BONUS_SURNAME, self.initials),
                (S_FUZZY, self.fuzzy),
            ]
        best, limit = self.best, self.limit
        for i, (_, tier) in enumerate(tiers):
            tier()
            if i + 1 < len(tiers) and len(best) >= limit:
                floor = tiers[i + 1][0]
                if sum(1 for v in best.values() if v[0] > floor) >= limit:
                    return

    # -- helpers ------------------------------------------------------------------

    def _filtered(self, ids: set[int] | None) -> set[int]:
        if not ids:
            return set()
        return ids & self.allowed if self.allowed is not None else ids

    def _offer_top(self, ids: set[int] | None, score: float, reason: str) -> None:
        """Offer a bucket whose members all get the same score: only its ``limit``
        smallest ids can make the result, so a bucket of 800 Wangs costs a sort."""
        ids = self._filtered(ids)
        if not ids:
            return
        chosen: Iterable[int] = sorted(ids)[: self.limit] if len(ids) > self.limit else ids
        best = self.best
        for hid in chosen:
            cur = best.get(hid)
            if cur is None or score > cur[0]:
                best[hid] = (score, reason)

    def _offer(self, hid: int, score: float, reason: str) -> None:
        if self.allowed is not None and hid not in self.allowed:
            return
        cur = self.best.get(hid)
        if cur is None or score > cur[0]:
            self.best[hid] = (score, reason)

    def forms(self) -> list[Form]:
        """Pronunciations of the name part, worked out once per query."""
        if self._forms is None:
            self._forms = forms(self.units)
        return self._forms

    def _bonus(self, rec: Record, key: str, han_at: tuple[tuple[int, int, str], ...]) -> tuple[float, bool]:
        """Reward typed 汉字 that sit on the same character of the name: the surname
        most (张wei ranks 张伟 above 章伟), the given name less.

        Returns (bonus, same surname character)."""
        syls = rec.syls.get(key, ())
        name, sl, n = rec.name_key, rec.surname_len, len(syls)
        sur_n = sur_hit = giv_n = giv_hit = 0
        j = offset = 0
        for start, end, ch in han_at:  # spans come in order
            while j < n and offset < start:
                offset += len(syls[j])
                j += 1
            aligned = offset == start and j < n and offset + len(syls[j]) == end
            hit = aligned and name[j] == ch
            if (aligned and j < sl) or (not aligned and start == 0):
                sur_n += 1
                sur_hit += hit
            else:
                giv_n += 1
                giv_hit += hit
        same_surname = sur_n > 0 and sur_hit == sur_n
        bonus = (BONUS_SURNAME if same_surname else 0.0) + (BONUS_GIVEN * giv_hit / giv_n if giv_n else 0.0)
        return bonus, same_surname

    def _pinyin_ids(
        self,
        key: str,
        ids: set[int] | None,
        rank: int,
        form: Form,
        base: float,
        plain: str,
        sounds: tuple[str, str],
    ) -> None:
        """Offer one pinyin bucket.  Latin-only: everyone scores the same (``plain``).
        With typed 汉字: those whose name holds one of them get the alignment bonus
        (``sounds[0]`` when the surname character is the typed one), the rest score the
        same (``sounds[1]``)."""
        ids = self._filtered(ids)
        if not ids:
            return
        score = base - READING_PENALTY * rank - form.penalty
        if not form.han_at:
            self._offer_top(ids, score, "多音字读音" if rank else plain)
            return
        near, rest = self._split_near(ids)
        if near:
            self._offer_near({hid: (score, key, form) for hid in near}, sounds)
        self._offer_top(rest, score, sounds[1])

    def _split_near(self, ids: set[int]) -> tuple[set[int], set[int]]:
        """(ids whose name holds a typed 汉字, the others)."""
        near: set[int] = set()
        by_char = self.maps.by_char
        for ch in set(self.han_chars):
            near |= ids & (by_char.get(ch) or set())
        return near, (ids - near if near else ids)

    def _offer_near(self, pending: dict[int, tuple[float, str, Form]], sounds: tuple[str, str]) -> None:
        """Score households holding a typed character (hid -> score before bonus, key,
        form) in id order, and stop once ``limit`` of them reached the best score any
        of them could: nobody after them can rank ahead (ties go to the smaller id)."""
        ceiling = max(score + form.top_bonus for score, _, form in pending.values())
        records, best, limit = self.maps.records, self.best, self.limit
        at_top = 0
        for hid in sorted(pending) if len(pending) > limit else pending:
            score, key, form = pending[hid]
            cur = best.get(hid)
            if cur is not None and cur[0] >= ceiling:
                at_top += 1
            else:
                bonus, same_surname = self._bonus(records[hid], key, form.han_at)
                if cur is None or score + bonus > cur[0]:
                    best[hid] = (score + bonus, sounds[0] if same_surname else sounds[1])
                if score + bonus >= ceiling:
                    at_top += 1
            if at_top >= limit:
                return

    # -- tiers ----------------------------------------------------------------------

    def exact_name(self) -> None:
        if self.han_only:
            self._offer_top(self.maps.by_name.get(self.han_only), S_EXACT, "姓名完全相同")

    def pinyin_full(self) -> None:
        base = S_PINYIN if self.lat_only else S_HOMOPHONE
        ranked = self.maps.fam["py_full"]
        for form in self.forms():
            for rank in range(RANKS):
                ids = ranked[rank].get(form.key)
                self._pinyin_ids(form.key, ids, rank, form, base, "拼音相同", ("同姓同音", "同音字"))

    def han_prefix(self) -> None:
        q = self.han_only
        if q:
            self._offer_top(self.maps.by_surname.get(q), S_SURNAME, "姓氏相同")
            self._offer_top(self.maps.by_han_prefix.get(q), S_HAN_PREFIX, "姓名前缀相同")

    def pinyin_prefix(self) -> None:
        """``zhang`` lists the Zhangs (姓氏拼音), ``zhang wei`` also 张卫东 (前缀)."""
        sur, pre = self.maps.fam["py_sur"], self.maps.fam["py_pre"]
        for form in self.forms():
            for rank in range(RANKS):
                self._pinyin_ids(
                    form.key,
                    sur[rank].get(form.key),
                    rank,
                    form,
                    S_PY_SURNAME if not form.han_at else S_PY_PREFIX,
                    "姓氏拼音相同",
                    ("同姓，拼音前缀", "同音姓"),
                )
                self._pinyin_ids(
                    form.key,
                    pre[rank].get(form.key),
                    rank,
                    form,
                    S_PY_PREFIX,
                    "拼音前缀",
                    ("同姓，拼音前缀", "同音前缀"),
                )

    def han_given(self) -> None:
        if self.han_only:
            self._offer_top(self.maps.by_given.get(self.han_only), S_GIVEN, "名字相同")

    def han_contains(self) -> None:
        """Every typed character is in the name: as a block (姓名包含) or in order
        with gaps (张东 for 张卫东)."""
        q = self.han_only
        if not q:
            return
        records = self.maps.records
        for hid in self._filtered(_intersect(self.maps.by_char, q)):
            name = records[hid].name_key
            if name == q:
                continue
            if q in name:
                self._offer(hid, S_CONTAINS, "姓名包含")
            elif _is_subsequence(q, name):
                self._offer(hid, S_SUBSEQ, "姓名部分相同")

    def pinyin_given(self) -> None:
        ranked = self.maps.fam["py_given"]
        for form in self.forms():
            reason = "名字同音" if form.han_at else "名字拼音相同"
            for rank in range(RANKS):
                score = S_PY_GIVEN - READING_PENALTY * rank - form.penalty
                self._offer_top(ranked[rank].get(form.key), score, reason)

    def pinyin_partial(self) -> None:
        """The last syllable is still being typed: ``zhangw``, ``zhang we``, ``张w``.

        Each way the tail can end is looked up; with typed 汉字 the candidates of all
        of them are gathered first so the alignment bonus is worked out once, in id
        order, for as few households as the result needs."""
        if not self.units or self.units[-1][0] != "lat":
            return
        tail_text = self.units[-1][1]
        fam = self.maps.fam
        maps = [(rank, ranked[rank].data) for rank in range(RANKS) for ranked in (fam["py_sur"], fam["py_pre"])]
        sounds = ("同姓，拼音前缀", "同音前缀")
        pending: dict[int, tuple[float, str, Form]] = {}
        rest: dict[float, set[int]] = {}
        for form in self.forms():
            seen: set[str] = set()
            for k in range(1, min(MAX_SYL, len(tail_text)) + 1):
                t = tail_text[-k:]
                if t not in PARTIAL or not segmentations(tail_text[:-k]):
                    continue
                head = form.key[:-k]
                for syl in PARTIAL[t]:
                    key = head + syl
                    if key == form.key or key in seen:
                        continue
                    seen.add(key)
                    for rank, d in maps:
                        found = d.get(key)
                        if found is None:
                            continue
                        ids = self._filtered({found} if isinstance(found, int) else found)
                        if not ids:
                            continue
                        score = S_PY_PARTIAL - READING_PENALTY * rank - form.penalty
                        if not form.han_at:
                            self._offer_top(ids, score, "多音字读音" if rank else "拼音前缀")
                            continue
                        near, others = self._split_near(ids)
                        for hid in near:
                            if hid not in pending or pending[hid][0] < score:
                                pending[hid] = (score, key, form)
                        if others:
                            rest.setdefault(score, set()).update(others)
        if pending:
            self._offer_near(pending, sounds)
        for score, ids in rest.items():
            self._offer_top(ids, score, sounds[1])

    def initials(self) -> None:
        """``zw`` / ``zhw`` for 张伟; with 汉字 as well: ``张wd`` for 张卫东."""
        keys: list[tuple[str, str | None]] = []
        if self.lat_only:
            keys.append((self.lat_only, None))
        else:
            parts: list[list[tuple[str, str | None]]] = []
            for kind, text in self.units:
                if kind == "lat":
                    if segmentations(text):
                        return  # whole syllables: the pinyin tiers handle it
                    parts.append([(text, None)])
                    continue
                for i, ch in enumerate(text):
                    first = not parts and i == 0
                    letters = merge((r[0] for r in query_char_readings(ch, first)), ())
                    if not letters:
                        return
                    parts.append([(c, ch) for c in letters])
            for combo in product(*parts):
                keys.append(("".join(c for c, _ in combo), "".join(h or "?" for _, h in combo)))
                if len(keys) >= MAX_FORMS:
                    break
        full, pre = self.maps.fam["ini_full"], self.maps.fam["ini_pre"]
        records = self.maps.records
        for key, pattern in keys:
            for rank in range(RANKS):
                for ranked, base in ((full, S_INITIALS), (pre, S_INITIALS_PREFIX)):
                    ids = ranked[rank].get(key)
                    score = base - READING_PENALTY * rank
                    if pattern is None:
                        self._offer_top(ids, score, "首字母")
                        continue
                    ids = self._filtered(ids)
                    if not ids:
                        continue
                    near, rest = self._split_near(ids)
                    for hid in near:  # the typed 汉字 in their places earn the bonus
                        chars = records[hid].name_key
                        same = len(chars) >= len(pattern) and all(
                            p in ("?", c) for p, c in zip(pattern, chars, strict=False)
                        )
                        self._offer(hid, score + (BONUS_SURNAME if same else 0.0), "首字母")
                    self._offer_top(rest, score, "首字母")

    def han_some_chars(self) -> None:
        """Two of three characters right (张卫冬 for 张卫东): a misheard character whose
        sound differs too, so neither 汉字 nor pinyin match whole."""
        q = self.han_only
        if not q or len(q) < 3 or len(q) > 6:
            return
        maps = self.maps
        candidates: set[int] = set()
        for i in range(len(q)):
            candidates |= _intersect(maps.by_char, q[:i] + q[i + 1 :])
        for hid in self._filtered(candidates):
            if abs(len(maps.records[hid].name_key) - len(q)) <= 1:
                self._offer(hid, S_SOME_CHARS, "姓名部分相同")

    def fuzzy(self) -> None:
        """Near sounds (z/zh, n/l, an/ang …), below every exact-sound match."""
        full, pre = self.maps.fam["fz_full"], self.maps.fam["fz_pre"]
        for form in self.forms():
            for key in form.fuzzy:
                for rank in range(RANKS):
                    penalty = READING_PENALTY * rank + form.penalty
                    self._offer_top(full[rank].get(key), S_FUZZY - penalty, "近似音")
                    self._offer_top(pre[rank].get(key), S_FUZZY_PREFIX - penalty, "近似音")


def starts_with_letter(rec: Record, letter: str) -> bool:
    """The name's first syllable, in any of its readings, begins with ``letter``."""
    return any(len(syls) == 1 and key[0] == letter for key, syls in rec.syls.items())


def _intersect(index: MultiMap, chars: str) -> set[int]:
    """Households whose name has every one of ``chars`` (smallest set first)."""
    sets: list[set[int]] = []
    for ch in set(chars):
        ids = index.get(ch)
        if not ids:
            return set()
        sets.append(ids)
    sets.sort(key=len)
    out = set(sets[0]) if sets else set()
    for ids in sets[1:]:
        out &= ids
        if not out:
            break
    return out


def _is_subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)
