"""The villages and groups a sheet names, matched to the township's own.

Nothing is guessed: a village the township does not have yet is planned for creation,
and a dry run lists it first (将新建：东沟村一组), so a misspelt village is caught before
anything is written. The planned places are created in the import's own transaction.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from villageboard.domain.errors import Problem
from villageboard.domain.places import group_key, group_label, village_key
from villageboard.domain.private_numbers import scan_text
from villageboard.domain.validate import squash

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.store import Tx

__all__ = ["GRef", "SheetPlaces", "VRef"]

_PLACE_CHARS = re.compile(r"[\u3400-\u9fff0-9·]+")


VRef = int | str  # existing village id, or the key of a village to create
GRef = int | tuple[VRef, str]  # existing group id (0 = none), or (village, key) to create


class SheetPlaces:
    """Matches the villages and groups named in a sheet to the township's, and plans
    the ones to create."""

    def __init__(self, svc: Services) -> None:
        reg = svc.registry
        self.reg = reg
        self.villages = {village_key(v.name): v for v in reg.villages()}
        self.groups = {(g.village_id, group_key(g.name)): g for g in reg.groups()}
        self.new_villages: dict[str, str] = {}
        self.new_groups: dict[tuple[VRef, str], str] = {}
        self.village_ids: dict[str, int] = {}
        self.group_ids: dict[tuple[VRef, str], int] = {}
        self._seen: dict[tuple[str, str], tuple[VRef, GRef]] = {}
        self._names: dict[int, str] = {}
        self._keys: dict[str, str] = {}

    def registered_name(self, village_id: int) -> str:
        """A registered village's name (read once per village per sheet)."""
        name = self._names.get(village_id)
        if name is None:
            name = self._names[village_id] = self.reg.village(village_id).name
        return name

    def key(self, name: str) -> str:
        """:func:`village_key`, once per distinct name in a sheet."""
        k = self._keys.get(name)
        if k is None:
            k = self._keys[name] = village_key(name)
        return k

    def resolve(
        self, vname: str, gname: str, row: int, vlabel: str, glabel: str, problems: list[Problem]
    ) -> tuple[VRef, GRef] | None:
        """The village and group of one row (planning any to create), or None with the
        problem added. A sheet names the same few places thousands of times, so a
        good answer is remembered."""
        hit = self._seen.get((vname, gname))
        if hit is not None:
            return hit
        got = self._resolve(vname, gname, row, vlabel, glabel, problems)
        if got is not None:
            self._seen[(vname, gname)] = got
        return got

    def _resolve(
        self, vname: str, gname: str, row: int, vlabel: str, glabel: str, problems: list[Problem]
    ) -> tuple[VRef, GRef] | None:
        vtext = squash(vname)
        if not vtext:
            problems.append(Problem("请填写所在的村", vlabel, row))
            return None
        vk = village_key(vtext)
        v = self.villages.get(vk)
        vref: VRef
        if v is not None:
            vref = v.id
        else:
            numbers = scan_text(vtext)
            if numbers:  # a village name is printed on every poster
                problems.append(Problem(f"村名含有{'、'.join(numbers)}；村名里不能写号码", vlabel, row))
                return None
            if len(vtext) < 2 or len(vtext) > 20 or not _PLACE_CHARS.fullmatch(vtext) or vtext.isdigit():
                problems.append(Problem(f"村名“{vname}”不对：应为2到20个汉字，如“东沟村”", vlabel, row))
                return None
            self.new_villages.setdefault(vk, vtext)
            vref = vk
        gtext = squash(gname)
        if not gtext:
            return vref, 0
        gk = group_key(gtext)
        if not gk or not _PLACE_CHARS.fullmatch(gk) or len(gk) > 10:
            problems.append(Problem(f"组名“{gname}”不对：应如“一组”或“3组”", glabel, row))
            return None
        if isinstance(vref, int):
            g = self.groups.get((vref, gk))
            if g is not None:
                return vref, g.id
        self.new_groups.setdefault((vref, gk), group_label(gk))
        return vref, (vref, gk)

    def village_name(self, vref: VRef) -> str:
        if isinstance(vref, int):
            return self.reg.village(vref).name
        return self.new_villages[vref]

    def planned(self) -> list[str]:
        out = [name for name in self.new_villages.values()]
        out += [self.village_name(vref) + gname for (vref, _k), gname in self.new_groups.items()]
        return out

    def create(self, tx: Tx) -> None:
        for vk, name in self.new_villages.items():
            self.village_ids[vk] = self.reg.add_village(name, tx).id
        for (vref, gk), name in self.new_groups.items():
            vid = vref if isinstance(vref, int) else self.village_ids[vref]
            self.group_ids[(vref, gk)] = self.reg.add_group(vid, name, tx).id

    def ids(self, vref: VRef, gref: GRef) -> tuple[int, int]:
        vid = vref if isinstance(vref, int) else self.village_ids[vref]
        gid = gref if isinstance(gref, int) else self.group_ids[gref]
        return vid, gid
