"""`check`'s register rules and the write paths that keep them: each breach, forced
into the store as old data or a bad migration could leave it, is reported; the
services refuse to make one; a voided copy never shadows a live record."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

import pytest
from stdnum.cn import ric

from tests.conftest import TODAY
from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.domain.models import Application, Household, Program
from villageboard.services.integrity import check_all, check_problems
from villageboard.services.paths import applications_file, households_file

_serial = iter(range(100, 999))


def make_id(born: str = "19700101") -> str:
    body = f"141025{born}{next(_serial):03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def town(empty_svc):
    """Three villages with two groups each, GDDL for this year, no households."""
    svc = empty_svc
    with svc.store.begin("测试.村组") as tx:
        for name in ("东沟村", "西沟村", "南沟村"):
            v = svc.registry.add_village(name, tx)
            svc.registry.add_group(v.id, "一组", tx)
            svc.registry.add_group(v.id, "二组", tx)
    svc.programs.add(
        Program(
            code="GDDL", year=TODAY.year, name="耕地地力保护补贴", unit="亩", rate_fen=10000, hotline="0357-5221234"
        )
    )
    return svc


def add(svc, name: str, village: str = "东沟村", group: str = "一组", idn: str | None = None) -> Household:
    h, _w = svc.registry.add_household(
        {"name": name, "id_number": idn or make_id(), "village": village, "group": group}
    )
    return h


def force(svc, rel: str, table: str, key: int, doc: dict) -> None:
    """Write one record straight into the store, past every service rule."""
    with svc.store.begin("测试.旧数据") as tx:
        tx.put(rel, table, key, doc)
    svc.registry.forget()


def test_a_sound_register_passes(town) -> None:
    a = add(town, "张一")
    add(town, "李二", "西沟村", "二组")
    town.registry.move_household(a.id, "南沟", "第二组")
    town.applications.add(a.id, "GDDL", TODAY.year, "3")
    assert check_all(town.root) == []


def test_two_live_households_with_one_id_are_reported(town) -> None:
    a = add(town, "张一")
    b = Household.from_dict(
        {**a.to_dict(), "id": 999, "name": "张一", "village_id": town.registry.villages()[1].id, "group_id": 0}
    )
    force(town, households_file(b.village_id), "households", b.id, b.to_dict())
    problems = check_all(town.root)
    assert len(problems) == 1
    assert "同时是2户有效农户" in problems[0] and "户编号999" in problems[0] and f"户编号{a.id}" in problems[0]
    assert a.id_number not in problems[0]  # shown masked
    # and through the command line, as a failure
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    town.close()
    r = subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(town.root), "check"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 1 and "同时是2户有效农户" in r.stdout, r.stdout + r.stderr


def test_check_carries_the_duplicate_households_and_the_command_line_says_how_to_fix(town) -> None:
    """An ID registered in two villages, as a merged or hand-edited data file could leave
    it: the check's problem names both households, and `check` prints the repair advice
    on the line after it (only there: a problem of another kind gets none)."""
    a = add(town, "张一")
    west = town.registry.villages()[1].id
    dup = Household.from_dict({**a.to_dict(), "id": 998, "village_id": west, "group_id": 0})
    force(town, households_file(west), "households", dup.id, dup.to_dict())
    ghost = Household(id=500, name="王空", id_number=make_id(), village_id=77, group_id=0)
    force(town, households_file(77), "households", ghost.id, ghost.to_dict())
    problems = check_problems(town.root)
    assert [p.households for p in problems] == [(), (a.id, 998)]
    assert [p.text for p in problems] == check_all(town.root)
    town.close()
    from villageboard.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--data-dir", str(town.root), "check"])
    lines = out.getvalue().splitlines()
    assert rc == 1 and "发现2处问题" in err.getvalue(), out.getvalue() + err.getvalue()
    assert len(lines) == 3 and "户编号500" in lines[0] and "同时是2户有效农户" in lines[1], lines
    assert lines[2].strip().startswith("修复：") and "villageboard household void 998 --reason 重复登记" in lines[2]
    assert f"户编号{a.id}、998" in lines[2]


def test_a_household_live_in_two_files_is_reported(town) -> None:
    a = add(town, "张一")
    other = town.registry.villages()[2].id
    force(town, households_file(other), "households", a.id, {**a.to_dict(), "village_id": other, "group_id": 0})
    problems = check_all(town.root)
    assert any(f"户编号{a.id}" in p and "都是有效记录" in p for p in problems), problems


def test_missing_places_are_reported(town) -> None:
    ghost = Household(id=500, name="王空", id_number=make_id(), village_id=77, group_id=0)
    force(town, households_file(77), "households", ghost.id, ghost.to_dict())
    a = add(town, "张一")
    west = town.registry.villages()[1]
    west_group = town.registry.groups(west.id)[0]
    force(town, households_file(a.village_id), "households", a.id, {**a.to_dict(), "group_id": west_group.id})
    problems = check_all(town.root)
    assert any("户编号500" in p and "村（编号77）不存在" in p for p in problems), problems
    assert any(f"户编号{a.id}" in p and f"不属于{town.registry.village(a.village_id).name}" in p for p in problems), (
        problems
    )
    assert len(problems) == 2


def test_an_application_whose_household_is_missing_is_reported(town) -> None:
    a = add(town, "张一")
    app = town.applications.add(a.id, "GDDL", TODAY.year, "3")
    n = int(app.id.split("-")[1])
    rel = applications_file(TODAY.year, "GDDL", a.village_id)
    orphan = Application.from_dict({**app.to_dict(), "household_id": 4242})
    force(town, rel, "applications", n, orphan.to_dict())
    problems = check_all(town.root)
    assert problems == [f"申报{app.id}（{rel}）：对应的农户（户编号4242）不存在"]


def test_every_write_path_refuses_a_second_live_household(town, tmp_path) -> None:
    idn = make_id()
    a = add(town, "张一", idn=idn)
    b = add(town, "李二", "西沟村")
    with pytest.raises(ValidationFailed, match="已登记"):
        add(town, "张一", "南沟村", idn=idn)
    with pytest.raises(ValidationFailed, match="已登记"):
        town.registry.update_household(b.id, {"id_number": idn})
    with pytest.raises(VBError, match="已登记"):
        with town.store.begin("测试.批量") as tx:
            town.registry.add_households_bulk([{**b.to_dict(), "id": 0, "id_number": idn}], tx)
    # an import of the same ID is an update of that household, wherever the sheet puts it
    sheet = tmp_path / "h.csv"
    sheet.write_text(f"村,组,户主姓名,身份证号码\n南沟,第二组,张一,{idn}\n", encoding="utf-8")
    rep = town.transfer.import_households(sheet)
    assert (rep.new_households, rep.updated_households) == (0, 1)
    # voided, the ID may be registered again: as a new household
    town.registry.void_household(a.id, "重复登记")
    c = add(town, "张一", idn=idn)
    assert c.id != a.id
    assert [h.id for h in town.registry.households() if h.id_number == idn] == [c.id]
    assert check_all(town.root) == []


@pytest.mark.parametrize("direction", ["to a lower village number", "to a higher village number"])
def test_a_moved_household_survives_reopening(town, direction: str) -> None:
    from villageboard.services import Services

    vids = [v.id for v in town.registry.villages()]
    start, end = (vids[2], vids[0]) if direction.startswith("to a lower") else (vids[0], vids[2])
    h = add(town, "张一", town.registry.village(start).name)
    town.applications.add(h.id, "GDDL", TODAY.year, "3")
    town.registry.move_household(h.id, end)
    root = town.root
    town.close()
    with Services.open(root, today=TODAY) as svc:
        moved = svc.registry.by_id_number(h.id_number)
        assert moved is not None and moved.id == h.id and not moved.void and moved.village_id == end
        assert svc.registry.count() == 1
        assert [a.household_id for a in svc.applications.for_household(h.id, TODAY.year)] == [h.id]
        assert [x.household_id for x in svc.phone.lookup(h.id_number[-4:]).hits] == [h.id]
        with pytest.raises(ValidationFailed, match="已申报过"):
            svc.applications.add(h.id, "GDDL", TODAY.year, "3")
        assert check_all(root) == []


def test_the_duplicate_id_flag_looks_at_every_stored_record(town) -> None:
    """A voided household keeps its application; the same ID, registered again, is
    refused a second row, and where older data holds one anyway both rows are flagged,
    although only one household is live."""
    idn = make_id()
    a = add(town, "张一", idn=idn)
    first = town.applications.add(a.id, "GDDL", TODAY.year, "3")
    town.registry.void_household(a.id, "误作废")
    b = add(town, "张一", "西沟村", idn=idn)
    with pytest.raises(ValidationFailed, match="同一人不能领取两次"):
        town.applications.add(b.id, "GDDL", TODAY.year, "3")
    # as an older version could have left it: the second row written past that rule
    older = {**first.to_dict(), "id": "", "household_id": b.id, "village_id": b.village_id, "group_id": b.group_id}
    with town.store.begin("测试.旧数据") as tx:
        second = town.applications.insert(Application.from_dict(older), tx)
    for app, other in ((first, second), (second, first)):
        flags = [f for f in town.flags.flags_for(town.applications.get(app.id)) if f.kind == "duplicate_id"]
        assert flags and other.id in flags[0].message


def test_saving_unchanged_writes_nothing(town) -> None:
    a = add(town, "张一")
    seq = town.store.journal.last_seq
    same, _w = town.registry.update_household(a.id, a.to_dict())
    assert same.to_dict() == a.to_dict() and town.store.journal.last_seq == seq


def test_the_open_phone_desk_follows_a_move(town) -> None:
    """The desk's index is kept current on every save: after a move (the voided copy
    in the old file arrives in the same save) the household is found, in its new
    village, under its old number."""
    h = add(town, "张一", "南沟村")
    town.phone.ensure_ready()
    assert [x.village for x in town.phone.lookup(h.id_number[-4:]).hits] == ["南沟村"]
    town.registry.move_household(h.id, "东沟村", "二组")
    hits = town.phone.lookup(h.id_number[-4:]).hits
    assert [(x.household_id, x.village, x.group) for x in hits] == [(h.id, "东沟村", "二组")]
    assert [x.household_id for x in town.phone.lookup("东沟 张一").hits] == [h.id]
