"""The 共用银行卡 flag: in one program and year, two different entitled people paid (or
to be paid) into one card number. Heads of different households count as people too,
so it also fires when two households' rows go to one card; a per-person row counts its
own person. It is a flag only: the clerk may know why (a parent's card for a child
away at school), and clears it with a note.

The rows come from the kept extracts (services/flags.py), which hold the person and the
card of the last bank attempt only as keyed digests; the registry (in memory) gives the
card a row not yet sent would be paid to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from villageboard.domain.models import Household


class _Row(Protocol):
    @property
    def app_id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def household_id(self) -> int: ...
    @property
    def person(self) -> str: ...
    @property
    def paid_to(self) -> str: ...
    @property
    def paid_tail(self) -> str: ...


def shared_payee_cards(
    rows: Iterable[_Row],
    households: Mapping[int, Household],
    village_names: Mapping[int, str],
    digest: Callable[[str], str],
) -> dict[str, str]:
    """Application number -> the flag's message, for every row whose card another
    person's row of the same program also goes to."""
    memo: dict[str, str] = {}

    def d(text: str) -> str:
        got = memo.get(text)
        if got is None:
            got = memo[text] = digest(text)
        return got

    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)  # (program, card) -> rows
    tails: dict[str, str] = {}
    for r in rows:
        h = households.get(r.household_id)
        if h is None:
            continue
        name, who, card = _payee(r, h, d)
        if r.paid_to:
            key, tails[r.paid_to] = r.paid_to, r.paid_tail
        elif card:
            key = d(card)
            tails[key] = card[-4:]
        else:
            continue
        place = village_names.get(h.village_id, "?")
        groups[(r.code, key)].append((r.app_id, who, f"{name}（{place}）"))
    out: dict[str, str] = {}
    for (_code, key), members in groups.items():
        if len({who for _a, who, _n in members}) < 2:
            continue
        for app_id, who, _n in members:
            others = "、".join(dict.fromkeys(n for a, w, n in members if w != who))
            out[app_id] = f"一卡通账号（尾号{tails.get(key, '')}）在本项目还发给{others}"
    return out


def _payee(r: _Row, h: Household, d: Callable[[str], str]) -> tuple[str, str, str]:
    """(name, person digest, current card) of whom row ``r`` pays."""
    if not r.person:
        return h.name, d(h.id_number), h.card_account
    if d(h.id_number) == r.person:
        return h.name, r.person, h.card_account
    for m in h.members:
        if not m.get("void") and d(str(m.get("id_number", ""))) == r.person:
            return str(m.get("name", "")), r.person, str(m.get("card_account", ""))
    return "享受人", r.person, ""
