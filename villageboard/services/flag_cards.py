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
    d = digest  # memoised by the caller
    groups: dict[tuple[str, str], list[tuple[str, str, int]]] = defaultdict(list)  # (program, card) -> rows
    tails: dict[str, str] = {}
    for r in rows:
        h = households.get(r.household_id)
        if h is None:
            continue
        # a per-household row pays its head (one head per household); a per-person row its person
        who, card = (r.person, _card_of(r, h, d)) if r.person else (f"h{h.id}", h.card_account)
        if r.paid_to:
            key = r.paid_to
            tails.setdefault(key, r.paid_tail)
        elif card:
            key = d(card)
            tails.setdefault(key, card[-4:])
        else:
            continue
        groups[(r.code, key)].append((r.app_id, who, h.id))
    out: dict[str, str] = {}
    for (_code, key), members in groups.items():
        if len({who for _a, who, _h in members}) < 2:
            continue
        names = {who: _name_of(who, households[hid], d, village_names) for _a, who, hid in members}
        for app_id, who, _h in members:
            others = "、".join(dict.fromkeys(n for w, n in names.items() if w != who))
            out[app_id] = f"一卡通账号（尾号{tails.get(key, '')}）在本项目还发给{others}"
    return out


def _card_of(r: _Row, h: Household, d: Callable[[str], str]) -> str:
    """The card a per-person row not yet sent would be paid to: its person's own."""
    if d(h.id_number) == r.person:
        return h.card_account
    for m in h.members:
        if not m.get("void") and d(str(m.get("id_number", ""))) == r.person:
            return str(m.get("card_account", ""))
    return ""


def _name_of(who: str, h: Household, d: Callable[[str], str], village_names: Mapping[int, str]) -> str:
    place = village_names.get(h.village_id, "?")
    if who.startswith("h") or d(h.id_number) == who:
        return f"{h.name}（{place}）"
    for m in h.members:
        if d(str(m.get("id_number", ""))) == who:
            return f"{m.get('name', '')}（{place}）"
    return f"{h.name}户的享受人（{place}）"
