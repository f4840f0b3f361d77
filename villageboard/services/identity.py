"""The phone desk's identity check (身份核实), made so that it cannot be guessed.

- It checks one household at a time: the one the clerk selected. A query that finds
  several households confirms none of them.
- A household gets at most :data:`MAX_WRONG` wrong birth dates a day. After that the
  desk does not confirm it by phone that day, not even with the right date (so the
  answer gives nothing away): the caller verifies in person or calls back tomorrow.
  A supervisor can let one check through, with a written note.
- Every check that fails, and every override, is a journaled record in the store (the
  year's calls file), with operator and time. The record never holds the date that
  was tried, nor anything else the caller said. The counts are therefore the same in
  every process: separate command-line runs and the app share them.

A passed check hands back an :class:`Identity`; the desk shows private fields and the
answer script only to a holder of one for that household and day.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import VBError
from villageboard.domain.validate import birth_date_of
from villageboard.services.paths import calls_file

if TYPE_CHECKING:
    from villageboard.services.context import Services

#: Wrong birth dates a household may get in one day before the desk stops checking it.
MAX_WRONG = 3
TABLE = "id_checks"
COUNTER = "id_check"

CONFIRMED = "confirmed"
WRONG = "wrong"
LOCKED = "locked"
SEVERAL = "several"
#: Results that count as a failed check.
FAILED = (WRONG, LOCKED, SEVERAL)

IN_PERSON = "请来电人带身份证到村委会或乡镇当面核实，或明天再打来。"
READONLY = (
    "数据正由另一个程序使用（只读打开）。核实身份要留下记录，这里不能核实；"
    "请在正在使用的那个程序里核实，或关掉它后再试。"
)
NOTE_NEEDED = "主管放行要写明理由（谁同意、为什么），不能空着。"


@dataclass(frozen=True)
class Identity:
    """A passed check: the household, the day, and whether a supervisor let it through."""

    household_id: int
    day: dt.date
    override: bool = False


@dataclass
class CheckResult:
    outcome: str  # confirmed | wrong | locked | several
    household_id: int | None
    wrong_today: int = 0  # wrong dates for this household today, this one included
    identity: Identity | None = None
    matches: int = 1

    @property
    def confirmed(self) -> bool:
        return self.identity is not None

    @property
    def left(self) -> int:
        return max(0, MAX_WRONG - self.wrong_today)

    @property
    def message(self) -> str:
        """What the clerk reads, in the desk's words."""
        if self.outcome == CONFIRMED:
            return "身份已核实（主管放行）" if self.identity and self.identity.override else "身份已核实"
        return f"{self.reason}只能说明已公示的内容。"

    @property
    def reason(self) -> str:
        if self.outcome == SEVERAL:
            return (
                f"查到{self.matches}户，出生日期没有核对：一次只能核实一户。"
                "请加上村名、多输几位身份证号，或选定其中一户后再核实。"
            )
        if self.outcome == LOCKED:
            return (
                f"这户今天出生日期已经错满{MAX_WRONG}次，今天不能再在电话里核实身份。"
                f"{IN_PERSON}确需办理的，由主管写明理由放行。"
            )
        if self.left == 0:
            return f"出生日期不符，身份未核实。这户今天已经错满{MAX_WRONG}次，今天不能再在电话里核实。{IN_PERSON}"
        return f"出生日期不符，身份未核实（这户今天还可以再核对{self.left}次）。"


@dataclass
class CheckFigures:
    failed: int = 0  # every failed check
    wrong: int = 0  # a wrong birth date
    locked: int = 0  # tried after the day's wrong dates ran out
    several: int = 0  # a query that found several households
    overrides: int = 0  # supervisor overrides (with a note)


#: Four or more digits, maybe split by date or number separators: a date, an ID, a
#: card or a phone number. A note keeps none of them.
_NUMBERISH = re.compile(r"\d(?:[\s./\-_,:年月日号]*\d){3,}")


def clean_note(text: str) -> str:
    """A supervisor's note as it is kept: one line, no control characters, and no
    date or long number (a note is no place for the date the caller gave)."""
    flat = unicodedata.normalize("NFKC", text or "")
    one = " ".join("".join(ch if ch.isprintable() else " " for ch in flat).split())
    return _NUMBERISH.sub(lambda m: "*" * sum(ch.isdigit() for ch in m.group()), one)


class IdentityChecks:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store

    # -- reading --------------------------------------------------------------------
    def _records(self, year: int) -> list[dict[str, Any]]:
        return list(self.store.table(calls_file(year), TABLE).values())

    def wrong_today(self, household_id: int) -> int:
        """Wrong birth dates this household got today (from the store: every process
        sees the same count)."""
        today = self.svc.today()
        day = today.isoformat()
        return sum(
            1
            for r in self._records(today.year)
            if r.get("household_id") == household_id and r.get("day") == day and r.get("result") == WRONG
        )

    def locked(self, household_id: int) -> bool:
        return self.wrong_today(household_id) >= MAX_WRONG

    def valid(self, identity: Identity | None, household_id: int) -> bool:
        """Does this passed check stand for this household today?"""
        return identity is not None and identity.household_id == household_id and identity.day == self.svc.today()

    def figures(self, year: int) -> CheckFigures:
        f = CheckFigures()
        for r in self._records(year):
            result = r.get("result")
            if result in FAILED:
                f.failed += 1
                setattr(f, result, getattr(f, result) + 1)
            if r.get("override"):
                f.overrides += 1
        return f

    # -- checking -------------------------------------------------------------------
    def check(self, household_id: int, birth: dt.date, override_note: str | None = None) -> CheckResult:
        """Check the birth date the caller gave for one selected household.

        ``override_note`` (a supervisor's reason) lets one check through when the
        household is locked for the day; it is journaled with the result. On a
        household that is not locked it is not needed and not used."""
        self._writable()
        note = clean_note(override_note) if override_note is not None else None
        if note is not None and not note:
            raise VBError(NOTE_NEEDED)
        wrong = self.wrong_today(household_id)
        right = self._matches(household_id, birth)
        today = self.svc.today()
        if wrong >= MAX_WRONG:
            if note is None:
                self._record(household_id, LOCKED)
                return CheckResult(LOCKED, household_id, wrong)
            if right:
                self._record(household_id, CONFIRMED, note=note)
                return CheckResult(CONFIRMED, household_id, wrong, Identity(household_id, today, override=True))
            self._record(household_id, WRONG, note=note)
            return CheckResult(WRONG, household_id, wrong + 1)
        if right:
            return CheckResult(CONFIRMED, household_id, wrong, Identity(household_id, today))
        self._record(household_id, WRONG)
        return CheckResult(WRONG, household_id, wrong + 1)

    def several(self, matches: int) -> CheckResult:
        """A birth date given for a query that found several households: nobody is
        checked, and the attempt is journaled (with no household)."""
        self._writable()
        self._record(None, SEVERAL)
        return CheckResult(SEVERAL, None, matches=matches)

    def _writable(self) -> None:
        if self.svc.readonly:
            raise VBError(READONLY)

    def _matches(self, household_id: int, birth: dt.date) -> bool:
        h = self.svc.registry.household(household_id)
        try:
            return birth_date_of(h.id_number) == birth
        except Exception:
            return False

    def _record(self, household_id: int | None, result: str, note: str | None = None) -> None:
        """One journaled record of a check: who, when, which household, the result. The
        tried date is never part of it."""
        today = self.svc.today()
        doc: dict[str, Any] = {
            "time": self.svc.now().isoformat(),
            "day": today.isoformat(),
            "household_id": household_id,
            "operator": self.svc.operator,
            "result": result,
        }
        if note is not None:
            doc.update(override=True, note=note)
        action = "身份核实.主管放行" if note is not None else "身份核实.未通过"
        with self.store.begin(action) as tx:
            tx.insert(calls_file(today.year), TABLE, COUNTER, doc)
