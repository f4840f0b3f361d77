"""One live household per ID number, searched for: random sequences of add, update,
move, status change, import, void and reopen (close the data dir and open it again)
over a small pool of ID numbers, so that collisions are the rule. After every step
the registry agrees with a plain model of what each step should have done, no ID
number is live twice, and `check` finds no problem."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)
from stdnum.cn import ric

from tests.conftest import TODAY
from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.domain.places import group_key, village_key

VILLAGES = ("东沟村", "西沟村", "南沟村")
#: ways a clerk writes each village and group in a sheet
VILLAGE_FORMS = ("{v}", "{short}", " {short} 村 ")
GROUP_FORMS = ("{n}组", "{cn}组", "第{cn}组", "0{n}", "{n}")
CN = "零一二三"
NAMES = ("张建国", "李秀英", "王桂兰", "刘志强", "欧阳·明")


def _id(i: int) -> str:
    body = f"14102519{60 + i}0{1 + i}1{i}{100 + i:03d}"
    return body + ric.calc_check_digit(body + "0")


IDS = tuple(_id(i) for i in range(6))


class Registry(RuleBasedStateMachine):
    live_households = Bundle("live_households")

    def __init__(self) -> None:
        super().__init__()
        from villageboard.domain.models import Township
        from villageboard.services.township import init_township

        self.tmp = Path(tempfile.mkdtemp(prefix="vb-machine-"))
        self.root = self.tmp / "data"
        init_township(self.root, Township(name="岳阳镇", county="古县", code="141025", hotline="0357-5221234")).close()
        self.svc = self._open()
        with self.svc.store.begin("测试.村组") as tx:
            for name in VILLAGES:
                v = self.svc.registry.add_village(name, tx)
                for n in (1, 2):
                    self.svc.registry.add_group(v.id, f"{CN[n]}组", tx)
        self.vids = [v.id for v in self.svc.registry.villages()]
        # the model: household number -> (ID number, village key, group key, status, void)
        self.model: dict[int, tuple[str, str, str, str, bool]] = {}
        self.sheets = 0

    def _open(self):
        from villageboard.services import Services

        return Services.open(self.root, today=TODAY, operator="测试")

    def teardown(self) -> None:
        self.svc.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------
    def _live_ids(self) -> dict[str, int]:
        return {m[0]: hid for hid, m in self.model.items() if not m[4]}

    def _group_id(self, vid: int, n: int) -> int:
        g = self.svc.registry.group_by_name(vid, f"{n}组")
        assert g is not None
        return g.id

    def _place(self, vid: int, n: int) -> tuple[str, str]:
        return village_key(self.svc.registry.village(vid).name), str(n)

    # -- rules ----------------------------------------------------------------------
    @rule(
        target=live_households,
        idn=st.sampled_from(IDS),
        name=st.sampled_from(NAMES),
        v=st.integers(0, 2),
        n=st.integers(1, 2),
    )
    def add(self, idn: str, name: str, v: int, n: int):
        vid = self.vids[v]
        data = {"name": name, "id_number": idn, "village_id": vid, "group_id": self._group_id(vid, n)}
        if idn in self._live_ids():
            with pytest.raises(ValidationFailed, match="已登记"):
                self.svc.registry.add_household(data)
            return self._live_ids()[idn]
        h, _w = self.svc.registry.add_household(data)
        assert h.id not in self.model
        self.model[h.id] = (idn, *self._place(vid, n), "active", False)
        return h.id

    @rule(hid=live_households, idn=st.sampled_from(IDS), name=st.sampled_from(NAMES))
    def update(self, hid: int, idn: str, name: str) -> None:
        old = self.model[hid]
        if old[4]:
            with pytest.raises(VBError, match="已作废"):
                self.svc.registry.update_household(hid, {"id_number": idn, "name": name})
            return
        holder = self._live_ids().get(idn)
        if holder is not None and holder != hid:
            with pytest.raises(ValidationFailed, match="已登记"):
                self.svc.registry.update_household(hid, {"id_number": idn, "name": name})
            return
        self.svc.registry.update_household(hid, {"id_number": idn, "name": name})
        self.model[hid] = (idn, *old[1:])

    @rule(hid=live_households, v=st.integers(0, 2), n=st.integers(0, 2), by_name=st.booleans())
    def move(self, hid: int, v: int, n: int, by_name: bool) -> None:
        vid = self.vids[v]
        old = self.model[hid]
        village: int | str = self.svc.registry.village(vid).name.removesuffix("村") if by_name else vid
        group: int | str = (f"第{CN[n]}组" if n else "") if by_name else (self._group_id(vid, n) if n else 0)
        if old[4]:
            with pytest.raises(VBError, match="已作废"):
                self.svc.registry.move_household(hid, village, group)
            return
        h = self.svc.registry.move_household(hid, village, group)
        assert h.id == hid and h.village_id == vid
        self.model[hid] = (old[0], village_key(VILLAGES[v]), str(n) if n else "", *old[3:])

    @rule(hid=live_households, status=st.sampled_from(["deceased", "moved", "active"]))
    def change_status(self, hid: int, status: str) -> None:
        old = self.model[hid]
        day = None if status == "active" else TODAY - dt.timedelta(days=30)
        if old[4]:
            with pytest.raises(VBError, match="已作废"):
                self.svc.registry.set_status(hid, status, day)
            return
        self.svc.registry.set_status(hid, status, day)
        self.model[hid] = (*old[:3], status, False)

    @rule(hid=consumes(live_households))
    def void(self, hid: int) -> None:
        old = self.model[hid]
        if old[4]:
            with pytest.raises(VBError, match="已作废"):
                self.svc.registry.void_household(hid, "录入错误")
            return
        self.svc.registry.void_household(hid, "录入错误")
        self.model[hid] = (*old[:4], True)

    @rule(
        rows=st.lists(
            st.tuples(
                st.sampled_from(IDS),
                st.sampled_from(NAMES),
                st.integers(0, 2),
                st.integers(1, 2),
                st.sampled_from(VILLAGE_FORMS),
                st.sampled_from(GROUP_FORMS),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def import_sheet(self, rows: list[tuple[str, str, int, int, str, str]]) -> None:
        from villageboard.services.import_common import ImportFailed

        self.sheets += 1
        path = self.tmp / f"sheet{self.sheets}.csv"
        lines = ["村,组,户主姓名,身份证号码"]
        for idn, name, v, n, vform, gform in rows:
            short = VILLAGES[v].removesuffix("村")
            lines.append(f"{vform.format(v=VILLAGES[v], short=short)},{gform.format(n=n, cn=CN[n])},{name},{idn}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if len({r[0] for r in rows}) < len(rows):
            with pytest.raises(ImportFailed, match="重复"):
                self.svc.transfer.import_households(path)
            return
        live = self._live_ids()
        report = self.svc.transfer.import_households(path)
        assert report.new_households == sum(1 for r in rows if r[0] not in live)
        for idn, _name, v, n, _vf, _gf in rows:
            h = self.svc.registry.by_id_number(idn)
            assert h is not None
            if idn in live:
                assert h.id == live[idn]  # an update, never a second household
                old = self.model[h.id]
                self.model[h.id] = (idn, village_key(VILLAGES[v]), str(n), old[3], False)
            else:
                assert h.id not in self.model
                self.model[h.id] = (idn, village_key(VILLAGES[v]), str(n), "active", False)

    @rule()
    def reopen(self) -> None:
        self.svc.close()
        self.svc = self._open()

    # -- what must hold after every step ------------------------------------------
    @invariant()
    def one_live_household_per_id(self) -> None:
        live = [h.id_number for h in self.svc.registry.households()]
        assert len(live) == len(set(live))

    @invariant()
    def registry_matches_the_model(self) -> None:
        reg = self.svc.registry
        got = {}
        for h in reg.households(include_void=True):
            village, group = reg.place_names(h)
            got[h.id] = (h.id_number, village_key(village), group_key(group) if group else "", h.status, h.void)
        assert got == self.model
        for idn, hid in self._live_ids().items():
            found = reg.by_id_number(idn)
            assert found is not None and found.id == hid

    @invariant()
    def check_agrees(self) -> None:
        from villageboard.services.integrity import check_all

        assert check_all(self.root) == []


Registry.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRegistry = Registry.TestCase


@pytest.mark.slow
def test_registry_machine_long() -> None:
    run_state_machine_as_test(
        Registry,
        settings=settings(
            max_examples=150,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
