"""`villageboard check`, whole: the store's check (every file readable, the journal
chain whole, every record what the journal says) and what the records must say about
each other:

* one ID number belongs to at most one live household, and to at most one live
  person record (a head or a household member);
* a per-person program pays one person at most once a year (one live row per person);
* a household is live in one village's file only, and that village (and its group)
  exists;
* every application's household, village and group exist.

The rules read the same files the store's check reads, as it reads them (no second
pass over the data dir), so a check of a large township costs no more than before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from villageboard.domain.masking import mask_id
from villageboard.services.paths import HOUSEHOLDS_DIR, REGISTRY, households_file
from villageboard.services.registry import GROUPS, HOUSEHOLDS, VILLAGES, pick_copy

_APPLICATIONS = "applications"
_HH_FIELDS = ("id", "name", "id_number", "village_id", "group_id", "void", "_jseq", "members")
_APP_FIELDS = ("id", "household_id", "village_id", "group_id", "program_code", "person_id_number", "void")


@dataclass(frozen=True)
class CheckProblem:
    """One problem `check` found: the Chinese line a clerk reads, and what a caller
    needs to say how to put it right in its own terms. ``households`` names the live
    households that share one ID number (empty for every other kind of problem)."""

    text: str
    households: tuple[int, ...] = ()

    def __str__(self) -> str:
        return self.text


class RegisterRules:
    """Collects what the rules need from each file shown to it, then reports."""

    def __init__(self) -> None:
        self.villages: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.copies: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        # applications to judge at the end: those not already sound when shown (the
        # villages and groups come from the registry, shown once; households only add up)
        self.apps: list[tuple[str, dict[str, Any]]] = []
        self.registry_seen = False

    def see(self, rel: str, body: dict[str, Any]) -> None:
        if rel == REGISTRY:
            self.registry_seen = True
            self.villages = {
                int(k): {"name": d.get("name", ""), "void": d.get("void")} for k, d in body.get(VILLAGES, {}).items()
            }
            self.groups = {
                int(k): {"name": d.get("name", ""), "village_id": d.get("village_id")}
                for k, d in body.get(GROUPS, {}).items()
            }
        elif rel.startswith(f"{HOUSEHOLDS_DIR}/"):
            for key, doc in body.get(HOUSEHOLDS, {}).items():
                self.copies.setdefault(int(key), []).append((rel, {f: doc.get(f) for f in _HH_FIELDS}))
        elif rel.startswith("years/") and "/applications/" in rel:
            for doc in body.get(_APPLICATIONS, {}).values():
                if (
                    self.registry_seen
                    and doc.get("household_id") in self.copies
                    and not self._place(doc.get("village_id"), doc.get("group_id"))
                    and not (doc.get("person_id_number") and not doc.get("void"))
                ):
                    continue  # sound, and nothing shown later can change that: not kept
                # (a live per-person row is kept: a later file may name the same person)
                self.apps.append((rel, {f: doc.get(f) for f in _APP_FIELDS}))

    def _place(self, vid: Any, gid: Any) -> str:
        """What is wrong with a record's village and group ("" when both exist)."""
        v = self.villages.get(vid) if isinstance(vid, int) else None
        if v is None:
            return f"所在的村（编号{vid}）不存在"
        if gid:
            g = self.groups.get(gid) if isinstance(gid, int) else None
            if g is None:
                return f"所在的组（编号{gid}）不存在"
            if g["village_id"] != vid:
                return f"所在的组“{g['name']}”不属于{v['name']}"
        return ""

    def problems(self) -> list[CheckProblem]:
        out: list[CheckProblem] = []
        live_by_idn: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for hid in sorted(self.copies):
            copies = self.copies[hid]
            live = [(rel, d) for rel, d in copies if not d.get("void")]
            if len(live) > 1:
                out.append(
                    CheckProblem(f"户编号{hid}：在{'、'.join(rel for rel, _d in live)}中都是有效记录，应只在一个村")
                )
            h = pick_copy([d for _r, d in copies])
            if h.get("void"):
                continue
            live_by_idn.setdefault(str(h.get("id_number") or ""), []).append((hid, h))
            who = f"户编号{hid}（{h.get('name', '')}）"
            wrong = self._place(h.get("village_id"), h.get("group_id"))
            if wrong:
                out.append(CheckProblem(f"{who}：{wrong}"))
            rel = next(r for r, d in copies if d is h)
            if not wrong and rel != households_file(h["village_id"]):
                out.append(CheckProblem(f"{who}：记在{rel}中，与所在的村（编号{h['village_id']}）不符"))
        for idn, held in sorted(live_by_idn.items()):
            if len(held) > 1 and idn:
                names = "、".join(f"户编号{hid}（{self._village_name(h)}{h.get('name', '')}）" for hid, h in held)
                out.append(
                    CheckProblem(
                        f"身份证号{mask_id(idn)}：同时是{len(held)}户有效农户的户主（{names}），一个身份证号只能有一户",
                        tuple(hid for hid, _h in held),
                    )
                )
        out += self._person_problems(live_by_idn)
        for rel, a in sorted(self.apps, key=lambda x: str(x[1].get("id"))):
            where = f"申报{a.get('id')}（{rel}）"
            if a.get("household_id") not in self.copies:
                out.append(CheckProblem(f"{where}：对应的农户（户编号{a.get('household_id')}）不存在"))
            wrong = self._place(a.get("village_id"), a.get("group_id"))
            if wrong:
                out.append(CheckProblem(f"{where}：{wrong}"))
        return out

    def _person_problems(self, live_by_idn: dict[str, list[tuple[int, dict[str, Any]]]]) -> list[CheckProblem]:
        """A live member's ID number held by another live person record, and one person
        on two live rows of one per-person program and year."""
        out: list[CheckProblem] = []
        members: dict[str, list[int]] = {}
        for held in live_by_idn.values():
            for hid, h in held:
                for m in h.get("members") or ():
                    if m.get("id_number") and not m.get("void"):
                        members.setdefault(str(m["id_number"]), []).append(hid)
        for idn, hids in sorted(members.items()):
            heads = [hid for hid, _h in live_by_idn.get(idn, [])]
            if len(hids) + len(heads) > 1:
                where = "、".join([*(f"户编号{h}的户主" for h in heads), *(f"户编号{h}的家庭成员" for h in hids)])
                out.append(CheckProblem(f"身份证号{mask_id(idn)}：同时是{where}，一个身份证号只能是一个人"))
        rows: dict[tuple[str, str, str], list[str]] = {}
        for _rel, a in self.apps:
            if a.get("person_id_number") and not a.get("void"):
                year = str(a.get("id", "")).split("-")[0]
                rows.setdefault((year, str(a.get("program_code")), str(a["person_id_number"])), []).append(str(a["id"]))
        for (year, code, idn), ids in sorted(rows.items()):
            if len(ids) > 1:
                out.append(
                    CheckProblem(
                        f"身份证号{mask_id(idn)}：{year}年{code}按人发放有{len(ids)}条有效申报"
                        f"（{'、'.join(sorted(ids))}），同一人只能领取一次"
                    )
                )
        return out

    def _village_name(self, h: dict[str, Any]) -> str:
        v = self.villages.get(h.get("village_id", 0))
        return v["name"] if v else "?"


def check_problems(root: Path) -> list[CheckProblem]:
    """Every problem in the data dir, structured; empty when all is sound."""
    from villageboard.store.check import check_data_dir

    rules = RegisterRules()
    store_problems = check_data_dir(Path(root), see=rules.see)
    return [CheckProblem(text) for text in store_problems] + rules.problems()


def check_all(root: Path) -> list[str]:
    """Every problem in the data dir, one Chinese line each; empty when all is sound."""
    return [p.text for p in check_problems(root)]
