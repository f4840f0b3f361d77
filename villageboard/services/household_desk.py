"""What the `household` commands need on top of the registry: finding one household
from what a clerk types, its applications over every year, a status change with a
note, and voiding (which is how a household registered twice is put right).

Every save still goes through :class:`~villageboard.services.registry.RegistryService`
and so keeps its rules (one ID number per live household, a move keeps the number).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import NotFound, VBError
from villageboard.domain.masking import mask_card, mask_id, tail
from villageboard.domain.models import (
    APP_STATUS,
    HOUSEHOLD_STATUS,
    PAYOUT_STATUS,
    Application,
    Household,
)
from villageboard.domain.money import format_fen, format_quantity
from villageboard.domain.places import village_names
from villageboard.domain.validate import squash, strip_controls

if TYPE_CHECKING:
    from villageboard.services.context import Services

#: "户编号12", "户12", "12号": a household number and nothing else
_NUMBER = re.compile(r"(?:户编号|编号|户)(\d{1,9})|(\d{1,9})号")
#: an ID tail is at least this long (shorter is only ever a household number)
TAIL_MIN = 4
#: how many households an ambiguous answer lists
LIST_MAX = 20


class Ambiguous(VBError):
    """What the clerk typed fits several households; nothing was done."""

    def __init__(self, text: str, found: list[Household], lines: list[str], more: int = 0) -> None:
        self.found = found
        out = [f"“{text}”对应{len(found) + more}户，请用户编号指定其中一户（如 户编号{found[0].id}）："]
        out += [f"  {x}" for x in lines]
        if more:
            out.append(f"  ……还有{more}户")
        super().__init__("\n".join(out))


class HasOpenApplications(VBError):
    """A household with applications still in progress is not voided."""

    def __init__(self, message: str, applications: list[Application]) -> None:
        self.applications = applications
        super().__init__(message)


def status_code(text: str) -> str:
    """A household status as a clerk writes it (正常 / 已故 / 迁出, or the code)."""
    t = squash(text)
    for code, label in HOUSEHOLD_STATUS.items():
        if t in (code, label):
            return code
    raise VBError(f"“状态”：“{text}”不对，只能是{'、'.join(HOUSEHOLD_STATUS.values())}")


def line(svc: Services, h: Household) -> str:
    """One line naming a household, numbers masked: 户编号12 东沟村一组 张三 141025********123X 正常."""
    village, group = svc.registry.place_names(h, unknown="?")
    state = HOUSEHOLD_STATUS.get(h.status, h.status)
    if h.status_date and h.status != "active":
        state += f"（{h.status_date.isoformat()}）"
    if h.void:
        state = f"已作废（{h.void_reason}）"
    return f"户编号{h.id} {village}{group} {h.name} {mask_id(h.id_number)} {state}"


def matches(svc: Services, text: str) -> list[Household]:
    """Every household ``text`` may mean, best first. A household number (户编号12, or
    a bare number) may name a voided household; a name, a whole ID number or an ID
    tail (4 or more characters) names live ones only (a whole ID number falls back to
    voided records when no live household holds it). A village may lead the name,
    with or without a space: 东沟张三."""
    reg = svc.registry
    raw = strip_controls(str(text)).strip()
    t = squash(raw).upper()
    if not t:
        raise VBError("请写户编号、户主姓名或身份证号后4位")
    m = _NUMBER.fullmatch(t)
    if m:
        return _by_number(svc, int(m.group(1) or m.group(2)))
    live = reg.households()
    if re.fullmatch(r"\d{17}[\dX]|\d{15}", t):
        held = [h for h in live if h.id_number == t]
        return held or by_former_head(svc, t) or [h for h in reg.households(include_void=True) if h.id_number == t]
    if re.fullmatch(r"\d+X?", t):
        found = _by_number(svc, int(t)) if t.isdigit() else []
        if len(t) >= TAIL_MIN:
            found += [h for h in live if h.id_number.endswith(t) and h not in found]
            if not found:
                found = by_former_head(svc, t)
        return found
    found = [h for h in live if squash(h.name) == t] or by_former_head(svc, t)
    if found:
        return found
    wanted = {
        (v.id, t[len(form) :])
        for v in reg.villages()  # 东沟村张三, 东沟 张三
        for form in village_names(v.name)
        if t.startswith(form.upper()) and len(t) > len(form)
    }
    return [h for h in live if (h.village_id, squash(h.name)) in wanted]


def _by_number(svc: Services, n: int) -> list[Household]:
    try:
        return [svc.registry.household(n)]
    except NotFound:
        return []


def find(svc: Services, text: str) -> Household:
    """The one household ``text`` names; else a Chinese refusal that lists the
    candidates (several) or says what was looked for (none)."""
    found = matches(svc, text)
    if len(found) == 1:
        return found[0]
    shown = strip_controls(str(text)).strip()
    if found:
        shown_hs = found[:LIST_MAX]
        raise Ambiguous(shown, shown_hs, [line(svc, h) for h in shown_hs], len(found) - len(shown_hs))
    hint = ""
    key = squash(shown)
    if key and not re.fullmatch(r"[\dXx]+", key):
        near = [h for h in svc.registry.households() if key in squash(h.name)][:5]
        if near:
            hint = "。名字相近的：" + "；".join(line(svc, h) for h in near)
    raise NotFound(f"名册中没有“{shown}”（按户编号、户主姓名、身份证号或其后4位查找）{hint}")


def applications_of(svc: Services, household_id: int) -> list[Application]:
    """The household's applications (voided ones left out), every year, newest first."""
    out: list[Application] = []
    for year in sorted(set(svc.store.years()) | {svc.today().year}, reverse=True):
        out += svc.applications.for_household(household_id, year)
    return out


def in_progress(app: Application) -> bool:
    """Still being worked on: not voided, not refused, not paid out."""
    return not app.void and app.status != "rejected" and app.payout_status != "paid"


def app_line(svc: Services, a: Application, programs: dict[tuple[int, str], Any] | None = None) -> str:
    p = (programs or {}).get((a.year, a.program_code))
    name, unit = (p.name, p.unit) if p else (a.program_code, "")
    status = APP_STATUS.get(a.status, a.status)
    if a.status == "rejected" and a.reject_reason:
        status += f"（{a.reject_reason}）"
    pay = PAYOUT_STATUS.get(a.payout_status, a.payout_status)
    return f"{a.id} {name} {format_quantity(a.quantity)}{unit} {format_fen(a.amount_fen)}元 {status} {pay}"


def program_names(svc: Services) -> dict[tuple[int, str], Any]:
    return {(p.year, p.code): p for p in svc.programs.list(include_void=True)}


@dataclass
class HouseholdView:
    """A household as the `household show` command gives it."""

    household: Household
    village: str
    group: str
    applications: list[Application]

    def to_json(self, svc: Services, full: bool = False) -> dict[str, Any]:
        h = self.household
        programs = program_names(svc)
        out: dict[str, Any] = {
            "id": h.id,
            "name": h.name,
            "village": self.village,
            "group": self.group,
            "id_masked": mask_id(h.id_number),
            "card_masked": mask_card(h.card_account),
            "phone_tail": tail(h.phone) or None,
            "bank": h.bank,
            "remark": h.remark,
            "status": HOUSEHOLD_STATUS.get(h.status, h.status),
            "status_date": h.status_date.isoformat() if h.status_date else None,
            "void": h.void,
            "void_reason": h.void_reason or None,
            "former_heads": [
                {
                    "name": f.get("name", ""),
                    "id_masked": mask_id(f.get("id_number", "")),
                    "reason": f.get("reason", ""),
                    "date": f.get("date", ""),
                }
                for f in h.former_heads
            ],
            "members": [
                {
                    "name": m.get("name", ""),
                    "relation": m.get("relation", ""),
                    "id_masked": mask_id(m.get("id_number", "")),
                    "card_masked": mask_card(m.get("card_account", "")),
                    "bank": m.get("bank", ""),
                    **(
                        {"id_number": m.get("id_number", ""), "card_account": m.get("card_account", "")} if full else {}
                    ),
                    **({"removed": m.get("void_reason", "")} if m.get("void") else {}),
                }
                for m in h.members
            ],
            "applications": [
                {
                    "id": a.id,
                    "year": a.year,
                    "program": a.program_code,
                    "program_name": programs[(a.year, a.program_code)].name
                    if (a.year, a.program_code) in programs
                    else a.program_code,
                    "quantity": format_quantity(a.quantity),
                    "amount_fen": a.amount_fen,
                    "status": APP_STATUS.get(a.status, a.status),
                    "payout": PAYOUT_STATUS.get(a.payout_status, a.payout_status),
                }
                for a in self.applications
            ],
        }
        if full:
            out.update(id_number=h.id_number, card_account=h.card_account, phone=h.phone)
        return out


def view(svc: Services, h: Household) -> HouseholdView:
    village, group = svc.registry.place_names(h, unknown="?")
    return HouseholdView(h, village, group, applications_of(svc, h.id))


def set_status(svc: Services, household_id: int, status: str, date: dt.date | None, note: str = "") -> Household:
    """Mark the head 已故 / 迁出 (with the date) or 正常 again. A note goes into the
    change record (修改记录) with the change itself."""
    note = " ".join(strip_controls(note).split())
    if not note:
        return svc.registry.set_status(household_id, status, date)
    label = HOUSEHOLD_STATUS.get(status, status)
    with svc.store.begin(f"农户.状态改为{label}（{note}）") as tx:
        return svc.registry.set_status(household_id, status, date, tx)


def void(svc: Services, household_id: int, reason: str) -> Household:
    """Void a household (its number is never used again and its record stays). One
    with applications still in progress is refused: those would be paid to, or posted
    for, a household that no longer counts. Voided, refused or paid applications stay
    as its history."""
    reason = " ".join(strip_controls(reason).split())
    if not reason:
        raise VBError("“作废原因”：不能为空，请写明为什么作废（如 重复登记）")
    h = svc.registry.household(household_id)
    if h.void:
        raise VBError(f"户编号{h.id}（{h.name}）已经作废（{h.void_reason}），不用再作废")
    open_apps = [a for a in applications_of(svc, household_id) if in_progress(a)]
    if open_apps:
        programs = program_names(svc)
        lines = [
            f"户编号{h.id}（{h.name}）还有{len(open_apps)}条办理中的申报，作废后这些申报将没有有效的农户，所以没有作废："
        ]
        lines += [f"  {app_line(svc, a, programs)}" for a in open_apps]
        lines.append("请先把这些申报作废或办结（发放或不通过），再作废这户。")
        raise HasOpenApplications("\n".join(lines), open_apps)
    return svc.registry.void_household(household_id, reason)


def live_holders(svc: Services, id_number: str) -> list[Household]:
    """The live households holding one ID number (more than one only in a damaged dir)."""
    return [h for h in svc.registry.households() if h.id_number == id_number]


# --- change of head (户主变更) -------------------------------------------------------------


@dataclass
class HeadChange:
    """What `change-head` did: the household as saved, the head it replaced, and its
    rows not yet paid (they go to the new head's card on the next bank sheet)."""

    household: Household
    former: dict[str, Any]
    unpaid: list[Application]
    warnings: list[Any]


def change_head(
    svc: Services,
    household_id: int,
    *,
    name: str,
    id_number: str,
    card: str | None = None,
    bank: str | None = None,
    phone: str | None = None,
    reason: str,
    date: dt.date | None,
) -> HeadChange:
    """Put a new head (户主) on a household, e.g. when the head died. The household keeps
    its number, its village, its land and every application; the old head is kept on
    the record (``former_heads``, and the journal), nothing is deleted. The new head's
    card is the one the next bank sheet pays; with no card given the card is cleared,
    so nothing is sent to the old head's account."""
    reason = " ".join(strip_controls(reason or "").split())
    if not reason:
        raise VBError("“变更原因”：不能为空，请写明为什么变更户主（如 户主死亡）")
    if date is None:
        raise VBError("“变更日期”：请写户主变更的日期（YYYY-MM-DD）")
    if date > svc.today():
        raise VBError(f"“变更日期”：{date.isoformat()}晚于今天，不能登记")
    h = svc.registry.household(household_id)
    if h.void:
        raise VBError(f"户编号{h.id}（{h.name}）已作废（{h.void_reason}），不能变更户主")
    new_id = squash(strip_controls(id_number or "")).upper()
    if not new_id:
        raise VBError("“新户主身份证号”：不能为空")
    if new_id == h.id_number:
        raise VBError(f"“新户主身份证号”：与现在的户主{h.name}相同；只改姓名请用修改农户信息")
    former = {
        "name": h.name,
        "id_number": h.id_number,
        "card_account": h.card_account,
        "bank": h.bank,
        "phone": h.phone,
        "status": h.status,
        "status_date": h.status_date.isoformat() if h.status_date else "",
        "reason": reason,
        "date": date.isoformat(),
        "recorded": svc.today().isoformat(),
    }
    members = [
        {**m, "void": True, "void_reason": "成为户主", "voided": svc.today().isoformat()}
        if m.get("id_number") == new_id and not m.get("void")
        else m
        for m in h.members
    ]
    changes: dict[str, Any] = {
        "members": members,
        "name": name or "",
        "id_number": new_id,
        "card_account": card or "",
        "status": "active",
        "status_date": None,
        "former_heads": [*h.former_heads, former],
        "name_since": date.isoformat(),
    }
    if bank is not None:
        changes["bank"] = bank
    if phone is not None:
        changes["phone"] = phone
    with svc.store.begin(f"农户.户主变更（{reason}）") as tx:
        new, warnings = svc.registry.update_household(h.id, changes, tx)
    unpaid = [a for a in applications_of(svc, h.id) if in_progress(a) and a.payout_status in ("", "failed")]
    return HeadChange(new, former, unpaid, warnings)


def former_head_line(f: dict[str, Any], full: bool = False) -> str:
    idn = f.get("id_number", "")
    return f"{f.get('name', '')} {idn if full else mask_id(idn)}（{f.get('date', '')} {f.get('reason', '')}）"


def by_former_head(svc: Services, t: str) -> list[Household]:
    """Live households whose earlier head had this name, whole ID number or ID tail."""
    out = []
    for h in svc.registry.households():
        for f in h.former_heads:
            idn = str(f.get("id_number", "")).upper()
            if (
                squash(f.get("name", "")) == t
                or idn == t
                or (len(t) >= TAIL_MIN and re.fullmatch(r"\d+X?", t) and idn.endswith(t))
            ):
                out.append(h)
                break
    return out


# --- members (家庭成员) and collection (代领/委托) ----------------------------------------------

RELATIONS = ("配偶", "子", "女", "儿媳", "女婿", "孙子", "孙女", "父亲", "母亲", "兄弟", "姐妹", "其他")
COLLECTION_KINDS = ("代领", "委托")


def _relation(text: str, field_label: str) -> str:
    t = squash(strip_controls(text or ""))
    if not t:
        raise VBError(f"“{field_label}”：不能为空，写{'、'.join(RELATIONS)}之一")
    if t not in RELATIONS:
        raise VBError(f"“{field_label}”：“{t}”不对，只能是{'、'.join(RELATIONS)}")
    return t


def add_member(
    svc: Services,
    household_id: int,
    *,
    name: str,
    id_number: str,
    relation: str,
    card: str = "",
    bank: str = "",
) -> Household:
    """Add a member (name, ID number, relation to the head, and the member's own card
    for per-person programs) to a household, journaled. An ID number already the
    head's, already a member here or in any live household, or any live head's, is
    refused: one ID number is one live person record."""
    from villageboard.domain.validate import check_id_number, check_name
    from villageboard.services.payees import clean_card

    h = svc.registry.household(household_id)
    if h.void:
        raise VBError(f"户编号{h.id}（{h.name}）已作废，不能添加家庭成员")
    n = check_name(name or "", "成员姓名")
    if n.errors:
        raise VBError(f"“成员姓名”：{n.errors[0]}")
    idc = check_id_number(id_number or "", svc.today())
    if idc.errors:
        raise VBError(f"“成员身份证号”：{idc.errors[0]}")
    rel = _relation(relation, "与户主关系")
    idn = str(idc.value)
    if idn == h.id_number:
        raise VBError(f"“成员身份证号”：这是户主{h.name}本人的身份证号")
    if any(m.get("id_number") == idn and not m.get("void") for m in h.members):
        raise VBError(f"“成员身份证号”：{mask_id(idn)}已是这户的家庭成员")
    other = svc.registry.by_id_number(idn)
    if other is not None:
        raise VBError(f"“成员身份证号”：{mask_id(idn)}是{line(svc, other)}的户主，不能同时作为这户的成员")
    held = svc.registry.member_number(idn)
    if held is not None:
        raise VBError(
            f"“成员身份证号”：{mask_id(idn)}已是{line(svc, svc.registry.household(held))}的家庭成员；"
            "迁到这户的，请先在原户把这位成员移出"
        )
    account, _warnings = clean_card(card)
    member = {"name": str(n.value), "id_number": idn, "relation": rel, "added": svc.today().isoformat()}
    if account:
        member["card_account"] = account
        member["bank"] = " ".join(strip_controls(bank or "").split())
    with svc.store.begin(f"农户.添加家庭成员（{rel}）") as tx:
        new, _w = svc.registry.update_household(h.id, {"members": [*h.members, member]}, tx)
    return new


def member_line(m: dict[str, Any], full: bool = False) -> str:
    idn = m.get("id_number", "")
    out = f"{m.get('name', '')}（{m.get('relation', '')}） {idn if full else mask_id(idn)}"
    card = m.get("card_account", "")
    if card:
        out += f" 一卡通{card if full else mask_card(card)}" + (f"（{m['bank']}）" if m.get("bank") else "")
    if m.get("void"):
        out += f" 已移出（{m.get('void_reason', '')}）"
    return out


def record_collection(
    svc: Services, app_id: str, *, kind: str, collector: str, relation: str, date: dt.date | None = None, note: str = ""
) -> Application:
    """Record that someone collected (代领) or was entrusted (委托) for an application's
    payee. Only a record: money still goes to the entitled person's own card."""
    from villageboard.domain.validate import check_name

    app = svc.applications.get(app_id)
    if app.void:
        raise VBError(f"申报{app.id}已作废")
    k = squash(kind or "")
    if k not in COLLECTION_KINDS:
        raise VBError(f"“方式”：“{kind}”不对，只能是{'、'.join(COLLECTION_KINDS)}")
    n = check_name(collector or "", "代领人姓名")
    if n.errors:
        raise VBError(f"“代领人姓名”：{n.errors[0]}")
    rel = _relation(relation, "代领人与户主关系")
    day = date or svc.today()
    if day > svc.today():
        raise VBError(f"“日期”：{day.isoformat()}晚于今天")
    text = " ".join(strip_controls(note or "").split())
    app.collections = [
        *app.collections,
        {"kind": k, "name": str(n.value), "relation": rel, "date": day.isoformat(), "note": text},
    ]
    return svc.applications.save(app, f"申报.{k}登记（{rel}）")
