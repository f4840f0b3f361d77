"""What the store tells its listeners after each save: typed change events.

Listeners (the in-memory registry, the phone desk's index, the flag extracts) learn
which documents a save wrote from these, never from the journal's own record layout,
which stays the store's business (journal.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Change:
    """One document a save wrote: ``before`` is None for a new document. Both are
    the store's own copies: read them, never change them."""

    file: str
    table: str
    key: int
    before: Mapping[str, Any] | None
    after: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Commit:
    """One save, as its listeners see it once it is durable."""

    seq: int
    action: str
    operator: str
    changes: tuple[Change, ...]

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Commit:
        """The event for one journal entry (the journal's record layout is read here only)."""
        return cls(
            seq=int(entry["seq"]),
            action=str(entry.get("action", "")),
            operator=str(entry.get("op", "")),
            changes=tuple(
                Change(file=c["f"], table=c["t"], key=int(c["k"]), before=c["b"], after=c["a"])
                for c in entry.get("changes", ())
            ),
        )


#: A function told about every save.
Listener = Callable[[Commit], None]
