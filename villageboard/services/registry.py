"""Villages, groups and households (农户名册)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from villageboard.domain.errors import NotFound, Problem, VBError
from villageboard.domain.masking import mask_id
from villageboard.domain.models import HOUSEHOLD_STATUS, Group, Household, Village
from villageboard.domain.places import group_key, village_key
from villageboard.domain.validate import (
    check_card,
    check_id_number,
    check_name,
    check_phone,
    strip_controls,
)
from villageboard.services.paths import HOUSEHOLDS_DIR, REGISTRY, households_file
from villageboard.services.private_entry import refusal, screen
from villageboard.store.changes import Commit

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.store import Tx

T = TypeVar("T")

VILLAGES, GROUPS, HOUSEHOLDS = "villages", "groups", "households"

HOUSEHOLD_LABELS = {
    "name": "户主姓名",
    "id_number": "身份证号",
    "phone": "联系电话",
    "card_account": "一卡通账号",
    "bank": "开户银行",
    "village": "村",
    "group": "组",
    "remark": "备注",
}


def pick_copy(copies: list[dict[str, Any]]) -> dict[str, Any]:
    """The record that stands among the stored copies of one household: the live one
    (a move leaves a voided copy in the old village's file, and that copy must never
    shadow the record it points to), else the latest voided one. Never the file order."""
    live = [d for d in copies if not d.get("void")]
    return max(live or copies, key=lambda d: d.get("_jseq", 0))


class RegistryService:
    """The household registry, kept fully in memory (it is small: ~10k households)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.store = svc.store
        self.listeners: list[Callable[[Household], Any]] = []
        self._households: dict[int, Household] | None = None
        self._by_id_number: dict[str, int] = {}  # live households only
        self._copies: dict[int, dict[str, str]] = {}  # household -> {file: ID number stored there}
        self._holders: dict[str, set[int]] | None = None  # ID number -> every household storing it
        self._members: dict[str, int] | None = None  # ID number -> live household holding it as a live member
        self._members_of: dict[int, set[str]] = {}  # household -> the ID numbers it holds in _members
        # Every committed household reaches the in-memory registry while the commit
        # still holds the store's lock, so nothing reading under that lock (the kept
        # figures of store.derived) sees new files beside an old registry.
        self.store.subscribe(self._on_commit)

    def _on_commit(self, commit: Commit) -> None:
        if self._households is None:
            return
        touched: dict[int, list[tuple[str, Mapping[str, Any]]]] = {}
        for c in commit.changes:
            if c.file.startswith(f"{HOUSEHOLDS_DIR}/") and c.table == HOUSEHOLDS:
                touched.setdefault(c.key, []).append((c.file, c.after))
        for hid, docs in touched.items():
            for rel, doc in docs:
                self._note_copy(hid, rel, doc)
            live = [d for _f, d in docs if not d.get("void")]
            cur = self._households.get(hid)
            if (
                not live
                and cur is not None
                and not cur.void
                and all(d.get("village_id") != cur.village_id for _f, d in docs)
            ):
                continue  # only a copy left behind by a move was rewritten: the live record stands
            self._absorb(Household.from_dict((live or [d for _f, d in docs])[-1]))

    # -- villages and groups ---------------------------------------------------------
    def villages(self, include_void: bool = False) -> list[Village]:
        docs = self.store.table(REGISTRY, VILLAGES).values()
        out = [Village.from_dict(d) for d in docs]
        return sorted((v for v in out if include_void or not v.void), key=lambda v: v.id)

    def village(self, village_id: int) -> Village:
        doc = self.store.table(REGISTRY, VILLAGES).get(str(village_id))
        if doc is None:
            raise NotFound(f"没有编号为{village_id}的村")
        return Village.from_dict(doc)

    def village_by_name(self, name: str) -> Village | None:
        key = village_key(name)
        for v in self.villages():
            if key and village_key(v.name) == key:
                return v
        return None

    def require_village(self, name: str) -> Village:
        v = self.village_by_name(name)
        if v is None:
            names = "、".join(x.name for x in self.villages()) or "（还没有村）"
            raise VBError(f"没有叫“{name}”的村。现有的村：{names}")
        return v

    def groups(self, village_id: int | None = None) -> list[Group]:
        docs = self.store.table(REGISTRY, GROUPS).values()
        out = [Group.from_dict(d) for d in docs]
        return sorted(
            (g for g in out if not g.void and (village_id is None or g.village_id == village_id)),
            key=lambda g: g.id,
        )

    def group(self, group_id: int) -> Group:
        doc = self.store.table(REGISTRY, GROUPS).get(str(group_id))
        if doc is None:
            raise NotFound(f"没有编号为{group_id}的组")
        return Group.from_dict(doc)

    def place_names(self, h: Household, unknown: str = "") -> tuple[str, str]:
        """(village, group) names of a household, voided places included; ``unknown``
        stands for a village that is not in the registry."""
        v = self.store.table(REGISTRY, VILLAGES).get(str(h.village_id))
        g = self.store.table(REGISTRY, GROUPS).get(str(h.group_id)) if h.group_id else None
        return (v["name"] if v else unknown), (g["name"] if g else "")

    def group_by_name(self, village_id: int, name: str) -> Group | None:
        key = group_key(name)
        for g in self.groups(village_id):
            if key and group_key(g.name) == key:
                return g
        return None

    def add_village(self, name: str, tx: Tx | None = None) -> Village:
        name = "".join(strip_controls(str(name)).split())
        if len(name) < 2:
            raise VBError("村名至少2个字")
        if self.village_by_name(name) is not None:
            raise VBError(f"已经有“{name}”了")
        return self._write(
            tx,
            "村.新增",
            lambda t: Village(id=t.insert(REGISTRY, VILLAGES, "village", Village(name=name).to_dict()), name=name),
        )

    def add_group(self, village_id: int, name: str, tx: Tx | None = None) -> Group:
        name = "".join(strip_controls(str(name)).split())
        if not name:
            raise VBError("组名不能为空")
        if self.group_by_name(village_id, name) is not None:
            raise VBError(f"该村已经有“{name}”了")
        g = Group(village_id=village_id, name=name)
        return self._write(
            tx,
            "组.新增",
            lambda t: Group(id=t.insert(REGISTRY, GROUPS, "group", g.to_dict()), village_id=village_id, name=name),
        )

    def _write(self, tx: Tx | None, action: str, fn: Callable[[Tx], T]) -> T:
        if tx is not None:
            return fn(tx)
        with self.store.begin(action) as t:
            return fn(t)

    def place_label(self, village_id: int, group_id: int) -> str:
        try:
            v = self.village(village_id).name
        except NotFound:
            v = "?"
        try:
            g = self.group(group_id).name if group_id else ""
        except NotFound:
            g = ""
        return v + g

    # -- households -----------------------------------------------------------------
    def _load(self) -> dict[int, Household]:
        if self._households is None:
            copies: dict[int, list[dict[str, Any]]] = {}
            self._copies = {}
            for rel in self.store.list_files(HOUSEHOLDS_DIR):
                for key, doc in self.store.table(rel, HOUSEHOLDS).items():
                    copies.setdefault(int(key), []).append(doc)
                    self._copies.setdefault(int(key), {})[rel] = doc.get("id_number", "")
            hs = {
                hid: Household.from_dict(docs[0] if len(docs) == 1 else pick_copy(docs)) for hid, docs in copies.items()
            }
            self._households = hs
            self._by_id_number = {h.id_number: h.id for h in sorted(hs.values(), key=lambda h: -h.id) if not h.void}
            self._holders = None
            self._members = None
        return self._households

    def by_number(self) -> Mapping[int, Household]:
        """Every household (voided ones too) by its number: the registry's own
        records, for passes over all of them. Read-only."""
        return self._load()

    def live_number(self, id_number: str) -> int | None:
        """The number of the live household holding this ID number (as stored), if any."""
        self._load()
        return self._by_id_number.get(id_number)

    def forget(self) -> None:
        """Drop the in-memory registry; it is read again from the store on next use."""
        self._households = None
        self._by_id_number = {}
        self._copies = {}
        self._holders = None
        self._members = None

    def member_number(self, id_number: str) -> int | None:
        """The number of the live household holding this ID number (as stored) as a
        live member (家庭成员), if any."""
        hs = self._load()
        if self._members is None:
            self._members, self._members_of = {}, {}
            for h in sorted(hs.values(), key=lambda h: -h.id):
                self._index_members(h)
        return self._members.get(id_number)

    def _index_members(self, h: Household) -> None:
        """Keep the member index (when built) in step with one saved household."""
        if self._members is None:
            return
        for idn in self._members_of.pop(h.id, ()):
            if self._members.get(idn) == h.id:
                del self._members[idn]
        held = {str(m["id_number"]) for m in h.members if m.get("id_number") and not m.get("void")}
        if held and not h.void:
            self._members_of[h.id] = held
            for idn in held:
                self._members[idn] = h.id

    def holders(self) -> dict[str, set[int]]:
        """Every household any stored record (live, voided, or left behind by a move)
        gives each ID number. Read-only."""
        self._load()
        if self._holders is None:
            out: dict[str, set[int]] = {}
            for hid, files in self._copies.items():
                for idn in files.values():
                    if idn:
                        out.setdefault(idn, set()).add(hid)
            self._holders = out
        return self._holders

    def households(self, village_id: int | None = None, include_void: bool = False) -> list[Household]:
        hs = self._load().values()
        return sorted(
            (h for h in hs if (include_void or not h.void) and (village_id is None or h.village_id == village_id)),
            key=lambda h: h.id,
        )

    def household(self, household_id: int) -> Household:
        h = self._load().get(household_id)
        if h is None:
            raise NotFound(f"没有编号为{household_id}的农户")
        return Household.from_dict(h.to_dict())

    def by_id_number(self, id_number: str) -> Household | None:
        hid = self.live_number(id_number.strip().upper())
        return self.household(hid) if hid else None

    def count(self) -> int:
        return sum(1 for h in self._load().values() if not h.void)

    def validate_household(
        self, data: dict[str, Any], row: int | None = None, exclude_id: int | None = None, mask_private: bool = False
    ) -> tuple[dict[str, Any], list[Problem]]:
        """Normalise and check a household's fields. Returns (clean values, problems);
        problems flagged ``warning`` do not block a save. A name or remark holding a full
        personal number is refused (a remark is masked instead with ``mask_private``)."""
        problems: list[Problem] = []
        clean: dict[str, Any] = {}

        def take(key: str, check: Any) -> None:
            clean[key] = check.value
            label = HOUSEHOLD_LABELS[key]
            problems.extend(Problem(e, label, row) for e in check.errors)
            problems.extend(Problem(w, label, row, warning=True) for w in check.warnings)

        take("name", check_name(data.get("name", ""), "户主姓名"))
        take("id_number", check_id_number(data.get("id_number", ""), self.svc.today()))
        take("phone", check_phone(data.get("phone", "")))
        take("card_account", check_card(data.get("card_account", "")))
        clean["bank"] = str(data.get("bank") or "").strip()
        clean["remark"] = str(data.get("remark") or "").strip()
        problems += screen(
            clean, {"name": HOUSEHOLD_LABELS["name"], "remark": HOUSEHOLD_LABELS["remark"]}, row, mask_private
        )
        idn = clean["id_number"]
        if idn and not any(p.field == "身份证号" and not p.warning for p in problems):
            other = self._load() and self._by_id_number.get(idn)
            if other and other != exclude_id:
                h = self._load()[other]
                problems.append(
                    Problem(
                        f"该身份证号已登记在 {self.place_label(h.village_id, h.group_id)} {h.name} 名下（户编号{h.id}）",
                        "身份证号",
                        row,
                    )
                )
            elif not other:
                problems += self._member_problems(idn, data, row, exclude_id)
        return clean, problems

    def _member_problems(
        self, idn: str, data: dict[str, Any], row: int | None, exclude_id: int | None
    ) -> list[Problem]:
        """A head's ID number that is a live member's (one ID, one live person record)."""
        own = [m for m in data.get("members") or () if m.get("id_number") == idn and not m.get("void")]
        if own:
            return [
                Problem(
                    f"这是本户家庭成员{own[0].get('name', '')}的身份证号；成员接任户主请用变更户主", "身份证号", row
                )
            ]
        holder = self.member_number(idn)
        if holder is None or holder == exclude_id:
            return []
        h = self._load()[holder]
        return [
            Problem(
                f"该身份证号已是 {self.place_label(h.village_id, h.group_id)} {h.name}户（户编号{h.id}）的家庭成员",
                "身份证号",
                row,
            )
        ]

    def _resolve_place(self, data: dict[str, Any], row: int | None, problems: list[Problem]) -> tuple[int, int]:
        vid = data.get("village_id")
        gid = data.get("group_id") or 0
        if not vid:
            vname = str(data.get("village") or "").strip()
            v = self.village_by_name(vname) if vname else None
            if v is None:
                problems.append(Problem(f"没有叫“{vname}”的村" if vname else "请选择村", "村", row))
                return 0, 0
            vid = v.id
            gname = str(data.get("group") or "").strip()
            if gname:
                g = self.group_by_name(vid, gname)
                if g is None:
                    problems.append(Problem(f"{v.name}没有“{gname}”", "组", row))
                else:
                    gid = g.id
        return int(vid), int(gid)

    def add_household(
        self, data: dict[str, Any], tx: Tx | None = None, mask_private: bool = False
    ) -> tuple[Household, list[Problem]]:
        """Validate and save a new household. Returns it and any warnings."""
        clean, problems = self.validate_household(data, mask_private=mask_private)
        vid, gid = self._resolve_place(data, None, problems)
        errors = [p for p in problems if not p.warning]
        if errors:
            raise refusal(errors, "农户信息有误，没有保存：")
        h = Household(village_id=vid, group_id=gid, **clean)
        doc = h.to_dict()

        def run(t: Tx) -> Household:
            h.id = t.insert(households_file(vid), HOUSEHOLDS, "household", doc)
            return h

        saved = self._write(tx, "农户.新增", run)
        self._remember(saved)
        return saved, [p for p in problems if p.warning]

    def update_household(
        self, household_id: int, changes: dict[str, Any], tx: Tx | None = None, mask_private: bool = False
    ) -> tuple[Household, list[Problem]]:
        """Validate and save changes to a household. A new ``village_id`` moves it (its
        number and history stay; the group is cleared unless one is given). Saving
        what is already stored writes nothing."""
        old = self.household(household_id)
        if old.void:
            raise VBError("该农户已作废，不能修改")
        merged = old.to_dict()
        merged.update({k: v for k, v in changes.items() if k in merged})
        if int(merged["village_id"] or 0) != old.village_id and "group_id" not in changes:
            merged["group_id"] = 0
        clean, problems = self.validate_household(merged, exclude_id=household_id, mask_private=mask_private)
        vid, gid = int(merged["village_id"] or 0), int(merged.get("group_id") or 0)
        if (vid, gid) != (old.village_id, old.group_id):
            problems += self._place_problems(vid, gid)
        errors = [p for p in problems if not p.warning]
        if errors:
            raise refusal(errors, "农户信息有误，没有保存：")
        new = Household.from_dict({**old.to_dict(), **clean, "village_id": vid, "group_id": gid})
        for k in ("status", "status_date", "former_heads", "name_since", "members"):
            if k in changes:
                setattr(new, k, changes[k])
        if new.name != old.name and "name_since" not in changes:
            new.name_since = self.svc.today().isoformat()  # a corrected name: reissue may follow
        if new.to_dict() == old.to_dict():
            return old, [p for p in problems if p.warning]
        saved = self._write(
            tx, "农户.迁村" if vid != old.village_id else "农户.修改", lambda t: self.put_household(t, old, new)
        )
        self._remember(saved)
        return saved, [p for p in problems if p.warning]

    def move_household(
        self, household_id: int, village: int | str, group: int | str = 0, tx: Tx | None = None
    ) -> Household:
        """Move a household to another village (and group), by id or by name. It keeps
        its number, its applications and its history."""
        v = self.village(village) if isinstance(village, int) else self.require_village(village)
        vid, gid = v.id, group if isinstance(group, int) else 0
        if isinstance(group, str) and group.strip():
            g = self.group_by_name(vid, group)
            if g is None:
                raise VBError(f"{v.name}没有“{group.strip()}”")
            gid = g.id
        h, _ = self.update_household(household_id, {"village_id": vid, "group_id": gid}, tx)
        return h

    def _place_problems(self, vid: int, gid: int) -> list[Problem]:
        try:
            if self.village(vid).void:
                return [Problem(f"{self.village(vid).name}已作废", "村")]
            if gid and self.group(gid).village_id != vid:
                return [Problem("所选的组不属于这个村", "组")]
        except NotFound as exc:
            return [Problem(str(exc), "组" if "组" in str(exc) else "村")]
        return []

    def put_household(self, t: Tx, old: Household, new: Household) -> Household:
        """Write ``new`` over ``old`` in ``t``. A household lives in its village's file:
        a change of village writes it there and leaves, in the old file, a voided copy
        saying where it went (for the history; loading never lets it shadow the record)."""
        if new.village_id != old.village_id:
            gone = old.to_dict()
            v = t.current(REGISTRY, VILLAGES, new.village_id) or {}  # made in this same save, maybe
            g = (t.current(REGISTRY, GROUPS, new.group_id) or {}) if new.group_id else {}
            gone.update(void=True, void_reason=f"迁到{v.get('name', '?')}{g.get('name', '')}（同一编号）")
            t.put(households_file(old.village_id), HOUSEHOLDS, old.id, gone)
        t.put(households_file(new.village_id), HOUSEHOLDS, new.id, new.to_dict())
        return new

    def set_status(self, household_id: int, status: str, date: dt.date | None, tx: Tx | None = None) -> Household:
        if status not in HOUSEHOLD_STATUS:
            raise VBError(f"状态只能是：{'、'.join(HOUSEHOLD_STATUS.values())}")
        if status != "active" and date is None:
            raise VBError("请填写已故或迁出的日期")
        if date and date > self.svc.today():
            raise VBError("日期不能晚于今天")
        h, _ = self.update_household(
            household_id, {"status": status, "status_date": date if status != "active" else None}, tx
        )
        return h

    def void_household(self, household_id: int, reason: str) -> Household:
        if not reason.strip():
            raise VBError("作废需要填写原因")
        h = self.household(household_id)
        if h.void:
            raise VBError("该农户已作废")
        h.void, h.void_reason = True, reason.strip()
        with self.store.begin("农户.作废") as t:
            t.put(households_file(h.village_id), HOUSEHOLDS, h.id, h.to_dict())
        self._remember(h)
        return h

    def _remember(self, h: Household) -> None:
        self._absorb(h)  # already done by _on_commit when the registry was loaded
        for fn in self.listeners:
            fn(h)

    def _note_copy(self, hid: int, rel: str, doc: Mapping[str, Any]) -> None:
        files = self._copies.setdefault(hid, {})
        if files.get(rel) != doc.get("id_number", ""):
            files[rel] = doc.get("id_number", "")
            self._holders = None

    def _absorb(self, h: Household) -> None:
        hs = self._load()
        old = hs.get(h.id)
        gone = ""
        if old is not None and self._by_id_number.get(old.id_number) == h.id:
            del self._by_id_number[old.id_number]
            gone = old.id_number
        hs[h.id] = Household.from_dict(h.to_dict())
        self._index_members(h)
        if not h.void:
            self._by_id_number[h.id_number] = h.id
        if gone and gone not in self._by_id_number:
            # a data dir damaged before the rule held may keep a second live holder:
            # it holds the number now (voiding one of two duplicates must not free it)
            others = [hs[o] for o in self.holders().get(gone, ()) if o in hs and o != h.id]
            live = sorted(o.id for o in others if not o.void and o.id_number == gone)
            if live:
                self._by_id_number[gone] = live[0]

    def add_households_bulk(self, rows: Iterable[dict[str, Any]], tx: Tx) -> list[Household]:
        """Insert many already-validated households inside the caller's transaction.
        An ID number already live in the registry, or twice in ``rows``, is refused."""
        out = []
        self._load()
        live = self._by_id_number
        taken: set[str] = set()
        for data in rows:
            h = Household.from_dict(data)
            if h.id_number in live or h.id_number in taken:
                raise VBError(f"身份证号{mask_id(h.id_number)}已登记在另一户名下，没有保存")
            taken.add(h.id_number)
            h.id = tx.insert(households_file(h.village_id), HOUSEHOLDS, "household", h.to_dict())
            out.append(h)
        return out

    def remember_all(self, households: Iterable[Household]) -> None:
        for h in households:
            self._remember(h)
