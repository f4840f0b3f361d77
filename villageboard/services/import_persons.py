"""The entitled person (享受人) of a row in an application sheet for a per-person program.

A sheet may name the person in their own columns (享受人姓名, 享受人身份证号码 and their
synonyms) beside the head's, or in those columns alone, or, for a per-person program,
in the usual 姓名 / 身份证号 columns. The person must be registered (a head, or a member
added with `household member`), and the name in the sheet must be the registered one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from villageboard.domain.errors import Problem
from villageboard.domain.models import Household, Program
from villageboard.domain.validate import check_id_number, check_name, squash
from villageboard.services.payees import person_in

if TYPE_CHECKING:
    from villageboard.io.tables import Sheet
    from villageboard.services.context import Services


def _holder(svc: Services, idn: str) -> Household | None:
    """The live household holding ``idn`` as its head or as a live member."""
    reg = svc.registry
    hid = reg.live_number(idn)
    if hid is None:
        hid = reg.member_number(idn)
    return reg.by_number()[hid] if hid is not None else None


def _same_name(h: Household, idn: str, typed: str, col: str, row: int, problems: list[Problem]) -> None:
    who = person_in(h, idn)
    name = str(check_name(typed).value or "") if typed else ""
    if who is not None and name and name != who.name:
        problems.append(Problem(f"姓名与名册不符：名册中该身份证号是“{who.name}”（{who.relation}）", col, row))


def person_of(
    svc: Services,
    v: dict[str, str],
    row: int,
    sheet: Sheet,
    prog: Program | None,
    problems: list[Problem],
    reported: set[tuple[int | None, str | None]],
) -> tuple[str, Household | None]:
    """(the person's ID number as written, the household found through them). The
    household is found here only when the row leaves the head's ID number out; a
    person who cannot be read or found is refused here (the ID number still comes
    back, so the row is not read as a household row)."""
    if "person_id" not in sheet.columns or not squash(v.get("person_id", "")):
        return "", None
    col = sheet.label("person_id")
    pc = check_id_number(v.get("person_id", ""), svc.today())
    if pc.errors:
        if (row, col) not in reported:
            problems.extend(Problem(e, col, row) for e in pc.errors)
        return squash(v.get("person_id", "")).upper(), None
    idn = str(pc.value)
    h = _holder(svc, idn)
    if h is not None and "person_name" in sheet.columns:
        _same_name(h, idn, v.get("person_name", ""), sheet.label("person_name"), row, problems)
    if prog is None or squash(v.get("id_number", "")):
        return idn, None
    if h is None:
        problems.append(
            Problem("名册中没有这个享受人（户主或家庭成员），请先登记农户或添加家庭成员，或填写户主身份证号", col, row)
        )
    return idn, h


def member_household(
    svc: Services, idn: str, v: dict[str, str], row: int, sheet: Sheet, problems: list[Problem]
) -> Household | None:
    """For a per-person sheet without 享受人 columns: the household of the member whose
    ID number the row gives (None when it is no member's: a head, or someone new)."""
    hid = svc.registry.member_number(idn)
    if hid is None or svc.registry.live_number(idn) is not None:
        return None
    h = svc.registry.by_number()[hid]
    _same_name(h, idn, v.get("name", ""), sheet.label("name"), row, problems)
    return h
