"""Who an application pays (享受人), and the household members' own cards.

A per-household program (按户) pays the head (户主) of the household, to the head's card.
A per-person program (按人) names, on each application, the person entitled: the head
or a live member of the household, by ID number. That person is paid to their own card,
whoever collects (代领/委托 is only a record).

A member's card is kept like the head's: on the household record in the data dir,
validated as the head's card is, and shown masked (last 4 digits) everywhere public.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import NotFound, VBError
from villageboard.domain.masking import mask_card, mask_id
from villageboard.domain.models import Application, Household
from villageboard.domain.validate import check_card, squash, strip_controls

if TYPE_CHECKING:
    from villageboard.services.context import Services

HEAD = "户主"


@dataclass(frozen=True)
class Payee:
    """The person an application pays, and where: name, ID number, card, bank."""

    name: str
    id_number: str
    card_account: str
    bank: str
    relation: str  # 户主 for the head, else the member's relation to the head
    household: Household

    @property
    def is_head(self) -> bool:
        return self.relation == HEAD

    def who(self) -> str:
        """户编号12（张三户）享受人张小军（子）, numbers left out."""
        h = self.household
        person = f"享受人{self.name}（{self.relation}）" if not self.is_head else f"享受人{self.name}（户主）"
        return f"户编号{h.id}（{h.name}户）{person}"


def live_members(h: Household) -> list[dict[str, Any]]:
    return [m for m in h.members if not m.get("void")]


def head_payee(h: Household) -> Payee:
    return Payee(h.name, h.id_number, h.card_account, h.bank, HEAD, h)


def person_in(h: Household, id_number: str) -> Payee | None:
    """The head or live member of ``h`` holding this ID number, as a payee."""
    idn = squash(id_number).upper()
    if not idn:
        return None
    if h.id_number == idn:
        return head_payee(h)
    for m in live_members(h):
        if m.get("id_number") == idn:
            return Payee(
                str(m.get("name", "")),
                idn,
                str(m.get("card_account", "")),
                str(m.get("bank", "")),
                str(m.get("relation", "")),
                h,
            )
    return None


class NotAPerson(VBError):
    """A per-person row whose person is no longer the head or a member of its household."""


def payee_of(svc: Services, app: Application, h: Household | None = None) -> Payee:
    """Whom ``app`` pays: the head for a per-household row, else its entitled person
    (refused with a Chinese reason when that person left the household)."""
    h = h if h is not None else svc.registry.household(app.household_id)
    if not app.person_id_number:
        return head_payee(h)
    found = person_in(h, app.person_id_number)
    if found is None:
        raise NotAPerson(
            f"申报{app.id}：户编号{h.id}（{h.name}户）享受人{app.person_name}（{mask_id(app.person_id_number)}）"
            "已不是这户的户主或家庭成员，不能发放"
        )
    return found


def member_holders(svc: Services) -> dict[str, int]:
    """ID number -> the live household holding it as a live member (registry-wide)."""
    out: dict[str, int] = {}
    for h in svc.registry.households():
        for m in live_members(h):
            idn = m.get("id_number")
            if idn:
                out.setdefault(str(idn), h.id)
    return out


def find_person(svc: Services, id_number: str) -> Payee | None:
    """The live head or live member holding this ID number, anywhere in the registry."""
    idn = squash(id_number).upper()
    h = svc.registry.by_id_number(idn)
    if h is not None:
        return head_payee(h)
    hid = member_holders(svc).get(idn)
    return person_in(svc.registry.household(hid), idn) if hid is not None else None


def _member_index(h: Household, id_number: str) -> int:
    idn = squash(strip_controls(id_number or "")).upper()
    for i, m in enumerate(h.members):
        if m.get("id_number") == idn and not m.get("void"):
            return i
    raise NotFound(f"户编号{h.id}（{h.name}户）没有身份证号为{mask_id(idn)}的家庭成员")


def clean_card(card: str, label: str = "成员一卡通账号") -> tuple[str, list[str]]:
    """A card as typed, checked as the head's card is: (value, warnings); a bad one is refused."""
    c = check_card(card or "")
    if c.errors:
        raise VBError(f"“{label}”：{c.errors[0]}")
    return str(c.value or ""), list(c.warnings)


def set_member_card(
    svc: Services, household_id: int, id_number: str, *, card: str, bank: str | None = None
) -> tuple[Household, list[str]]:
    """Register (or correct, or with "" clear) a member's own card, journaled."""
    h = svc.registry.household(household_id)
    if h.void:
        raise VBError(f"户编号{h.id}（{h.name}）已作废，不能修改家庭成员")
    i = _member_index(h, id_number)
    value, warnings = clean_card(card)
    member = {**h.members[i], "card_account": value}
    if bank is not None:
        member["bank"] = " ".join(strip_controls(bank).split())
    if member == h.members[i]:
        return h, warnings
    members = [*h.members[:i], member, *h.members[i + 1 :]]
    with svc.store.begin("农户.家庭成员一卡通账号") as tx:
        new, _w = svc.registry.update_household(h.id, {"members": members}, tx)
    return new, warnings


def void_member(svc: Services, household_id: int, id_number: str, reason: str) -> Household:
    """Mark a member as no longer in the household (迁出, 死亡, 分户…), with a reason;
    the record stays. Applications already made stay counted for that person."""
    reason = " ".join(strip_controls(reason or "").split())
    if not reason:
        raise VBError("“原因”：不能为空，请写明成员为什么不在这户了（如 迁出、死亡、分户）")
    h = svc.registry.household(household_id)
    if h.void:
        raise VBError(f"户编号{h.id}（{h.name}）已作废，不能修改家庭成员")
    i = _member_index(h, id_number)
    member = {**h.members[i], "void": True, "void_reason": reason, "voided": svc.today().isoformat()}
    members = [*h.members[:i], member, *h.members[i + 1 :]]
    with svc.store.begin(f"农户.家庭成员移出（{reason}）") as tx:
        new, _w = svc.registry.update_household(h.id, {"members": members}, tx)
    return new


def card_line(p: Payee) -> str:
    return mask_card(p.card_account) or "（未登记）"
