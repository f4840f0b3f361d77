"""`villageboard check`, whole: the store's check (every file readable, the journal
chain whole, every record what the journal says) and what the records must say about
each other:

* one ID number belongs to at most one live household;
* a household is live in one village's file only, and that village (and its group)
  exists;
* every application's household, village and group exist.

The rules read the same files the store's check reads, as it reads them (no second
pass over the data dir), so a check of a large township costs no more than before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from villageboard.domain.masking import mask_id
from villageboard.services.paths import HOUSEHOLDS_DIR, REGISTRY, households_file
from villageboard.services.registry import GROUPS, HOUSEHOLDS, VILLAGES, pick_copy

_APPLICATIONS = "applications"
_HH_FIELDS = ("id", "name", "id_number", "village_id", "group_id", "void", "_jseq")
_APP_FIELDS = ("id", "household_id", "village_id", "group_id")


class Finding(str):
    """One problem line. ``households`` names the live households that share one ID
    number (empty for every other kind of problem), so a caller can say how to put it
    right in its own terms."""

    households: tuple[int, ...] = ()

    @classmethod
    def of(cls, text: str, households: tuple[int, ...] = ()) -> Finding:
        f = cls(text)
        f.households = households
        return f


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
                ):
                    continue  # sound, and nothing shown later can change that: not kept
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

    def problems(self) -> list[str]:
        out: list[str] = []
        live_by_idn: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for hid in sorted(self.copies):
            copies = self.copies[hid]
            live = [(rel, d) for rel, d in copies if not d.get("void")]
            if len(live) > 1:
                out.append(f"户编号{hid}：在{'、'.join(rel for rel, _d in live)}中都是有效记录，应只在一个村")
            h = pick_copy([d for _r, d in copies])
            if h.get("void"):
                continue
            live_by_idn.setdefault(str(h.get("id_number") or ""), []).append((hid, h))
            who = f"户编号{hid}（{h.get('name', '')}）"
            wrong = self._place(h.get("village_id"), h.get("group_id"))
            if wrong:
                out.append(f"{who}：{wrong}")
            rel = next(r for r, d in copies if d is h)
            if not wrong and rel != households_file(h["village_id"]):
                out.append(f"{who}：记在{rel}中，与所在的村（编号{h['village_id']}）不符")
        for idn, held in sorted(live_by_idn.items()):
            if len(held) > 1 and idn:
                names = "、".join(f"户编号{hid}（{self._village_name(h)}{h.get('name', '')}）" for hid, h in held)
                out.append(
                    Finding.of(
                        f"身份证号{mask_id(idn)}：同时是{len(held)}户有效农户的户主（{names}），一个身份证号只能有一户",
                        tuple(hid for hid, _h in held),
                    )
                )
        for rel, a in sorted(self.apps, key=lambda x: str(x[1].get("id"))):
            where = f"申报{a.get('id')}（{rel}）"
            if a.get("household_id") not in self.copies:
                out.append(f"{where}：对应的农户（户编号{a.get('household_id')}）不存在")
            wrong = self._place(a.get("village_id"), a.get("group_id"))
            if wrong:
                out.append(f"{where}：{wrong}")
        return out

    def _village_name(self, h: dict[str, Any]) -> str:
        v = self.villages.get(h.get("village_id", 0))
        return v["name"] if v else "?"


def check_all(root: Path) -> list[str]:
    """Every problem in the data dir, one Chinese line each; empty when all is sound."""
    from villageboard.store.check import check_data_dir

    rules = RegisterRules()
    problems = check_data_dir(Path(root), see=rules.see)
    return problems + rules.problems()
