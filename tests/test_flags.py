"""Risk flags: each kind fires on the case it exists for and stays quiet on the
nearby honest case; clearing needs a note and is journaled; flags never block."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from stdnum.cn import ric

from tests.conftest import TODAY
from villageboard.domain.errors import ValidationFailed, VBError
from villageboard.domain.models import Application, Program
from villageboard.services.flags import Held

_serial = iter(range(100, 999))


def make_id(born: str = "19700101") -> str:
    body = f"141025{born}{next(_serial):03d}"
    return body + ric.calc_check_digit(body + "0")


def card(n: int) -> str:
    body = f"621779{n:012d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


@pytest.fixture
def town(empty_svc):
    """Two villages, GDDL for 2025 and 2026, no households yet."""
    svc = empty_svc
    with svc.store.begin("测试.村组") as tx:
        for name in ("东沟村", "西沟村"):
            v = svc.registry.add_village(name, tx)
            svc.registry.add_group(v.id, "一组", tx)
    for year in (2025, 2026):
        svc.programs.add(
            Program(
                code="GDDL",
                year=year,
                name="耕地地力保护补贴",
                unit="亩",
                rate_fen=10000,
                hotline="0357-5221234",
                eligibility="承包农户",
                procedure="村申报镇审核",
                materials="身份证",
                office="镇农业中心",
            )
        )
    return svc


_cards = iter(range(1, 10_000))


def add(svc, name: str, village: str = "东沟村", **kw):
    data = {
        "name": name,
        "id_number": make_id(),
        "card_account": card(next(_cards)),
        "village": village,
        "group": "一组",
    }
    data.update(kw)
    h, _w = svc.registry.add_household(data)
    return h


def apply(svc, h, qty: str, year: int = 2026, code: str = "GDDL"):
    return svc.applications.add(h.id, code, year, qty)


def approve(svc, app):
    for step in ("village_ok", "town_ok", "approved"):
        app = svc.applications.set_status(app.id, step, note="测试核实")
    return app


def base(svc, h, qty: str, year: int = 2025, code: str = "GDDL"):
    """An approved row of an earlier year: what the growth flag compares with."""
    return approve(svc, apply(svc, h, qty, year, code))


def kinds(svc, app) -> set[str]:
    return {f.kind for f in svc.flags.flags_for(svc.applications.get(app.id))}


def test_growth_over_twenty_percent(town) -> None:
    up, level = add(town, "张增长"), add(town, "李持平")
    base(town, up, "10", 2025)
    base(town, level, "10", 2025)
    a_up = apply(town, up, "12.5")
    a_level = apply(town, level, "12")  # exactly +20%: not more than 20%
    assert "growth" in kinds(town, a_up)
    assert "growth" not in kinds(town, a_level)
    f = next(f for f in town.flags.flags_for(a_up) if f.kind == "growth")
    assert "10亩" in f.message and "25%" in f.message


def add_years(svc, *years: int) -> None:
    for year in years:
        svc.programs.add(
            Program(
                code="GDDL",
                year=year,
                name="耕地地力保护补贴",
                unit="亩",
                rate_fen=10000,
                hotline="0357-5221234",
                eligibility="承包农户",
                procedure="村申报镇审核",
                materials="身份证",
                office="镇农业中心",
            )
        )


def growth_message(svc, app) -> str | None:
    return next((f.message for f in svc.flags.flags_for(svc.applications.get(app.id)) if f.kind == "growth"), None)


def test_growth_creeping_over_years_fires_against_the_smallest_approved_year(town) -> None:
    """10 → 11.5 → 13.2: +15% and +14.8% on each year before, never more than 20%;
    against the smallest approved year (10) it is +32%, above the 1.2 line."""
    add_years(town, 2024)
    h = add(town, "赵慢增")
    base(town, h, "10", 2024)
    mid = base(town, h, "11.5", 2025)
    assert growth_message(town, mid) is None  # 100 × 1150 = 115000 ≤ 120 × 1000
    last = apply(town, h, "13.2")
    msg = growth_message(town, last)
    assert msg is not None and "比2024年（10亩）增加32%" in msg  # (1320 − 1000) × 100 // 1000 = 32


def test_growth_baseline_is_approved_rows_only(town) -> None:
    add_years(town, 2024)
    # a rejected 5 last year is no baseline: the approved 10 of 2024 is; 11 is +10%
    h = add(town, "钱驳回")
    base(town, h, "10", 2024)
    town.applications.set_status(apply(town, h, "5", 2025).id, "rejected", "面积不实")
    assert growth_message(town, apply(town, h, "11")) is None
    # only a rejected row, or only an unreviewed row, before: nothing to compare with
    r, u = add(town, "孙只驳回"), add(town, "周未审核")
    town.applications.set_status(apply(town, r, "5", 2025).id, "rejected", "面积不实")
    apply(town, u, "5", 2025)
    assert growth_message(town, apply(town, r, "12")) is None
    assert growth_message(town, apply(town, u, "12")) is None


def test_growth_baseline_reaches_three_years_back_not_four(town) -> None:
    add_years(town, 2022, 2023)
    old, three = add(town, "吴四年前"), add(town, "郑三年前")
    base(town, old, "5", 2022)  # 2026 − 4: outside the window
    base(town, three, "5", 2023)  # 2026 − 3: inside
    assert growth_message(town, apply(town, old, "10")) is None
    msg = growth_message(town, apply(town, three, "10"))
    assert msg is not None and "比2023年（5亩）增加100%" in msg


def test_one_card_two_households(town) -> None:
    shared = card(9999)
    a = add(town, "王甲", card_account=shared)
    b = add(town, "王乙", village="西沟村", card_account=shared)
    c = add(town, "王丙")
    fa, fb, fc = apply(town, a, "5"), apply(town, b, "5"), apply(town, c, "5")
    assert "shared_card" in kinds(town, fa) and "shared_card" in kinds(town, fb)
    assert "shared_card" not in kinds(town, fc)
    msg = next(f.message for f in town.flags.flags_for(fa) if f.kind == "shared_card")
    assert "王乙" in msg and shared not in msg  # the card is shown masked


def _force_households(svc, rows: list[dict]) -> list:
    """Registry rows every write path refuses (the same ID twice), as old data or a
    bad migration could leave them: written straight into the store."""
    from villageboard.domain.models import Household
    from villageboard.services.paths import households_file

    with svc.store.begin("测试.旧数据") as tx:
        hs = [Household.from_dict(r) for r in rows]
        for h in hs:
            h.id = tx.insert(households_file(h.village_id), "households", "household", h.to_dict())
    svc.registry.forget()
    return hs


def test_one_id_in_two_villages(town) -> None:
    idn = make_id("19650505")
    v1, v2 = (v.id for v in town.registry.villages())
    h1, h2 = _force_households(
        town,
        [
            {"name": "赵两村", "id_number": idn, "village_id": v1, "card_account": card(501)},
            {"name": "赵两村", "id_number": idn, "village_id": v2, "card_account": card(502)},
        ],
    )
    other = add(town, "赵单村")
    a1 = apply(town, h1, "3")
    a_other = apply(town, other, "3")
    assert "duplicate_id" in kinds(town, a1)
    assert "西沟村" in next(f.message for f in town.flags.flags_for(a1) if f.kind == "duplicate_id")
    assert "duplicate_id" not in kinds(town, a_other)
    del h2


def test_one_id_twice_in_one_program(town) -> None:
    idn = make_id("19660606")
    v1 = town.registry.villages()[0].id
    h1, h2 = _force_households(
        town,
        [
            {"name": "钱两报", "id_number": idn, "village_id": v1, "card_account": card(601)},
            {"name": "钱两报", "id_number": idn, "village_id": v1, "card_account": card(602)},
        ],
    )
    a1 = apply(town, h1, "4")
    with pytest.raises(ValidationFailed, match="同一人不能领取两次"):
        apply(town, h2, "4")
    # the second row as older data could hold it, written past that rule
    older = {**a1.to_dict(), "id": "", "household_id": h2.id, "village_id": h2.village_id, "group_id": h2.group_id}
    with town.store.begin("测试.旧数据") as tx:
        a2 = town.applications.insert(Application.from_dict(older), tx)
    assert "duplicate_id" in kinds(town, a1) and "duplicate_id" in kinds(town, a2)
    msg = next(f.message for f in town.flags.flags_for(a1) if f.kind == "duplicate_id")
    assert a2.id in msg
    # last year's application of the same person is not "twice in one program"
    solo = add(town, "孙一次")
    apply(town, solo, "4", 2025)
    assert "duplicate_id" not in kinds(town, apply(town, solo, "4"))


def test_deceased_still_applying(town) -> None:
    dead, alive_today = add(town, "周已故"), add(town, "吴迁出")
    town.registry.set_status(dead.id, "deceased", dt.date(2026, 3, 1))
    town.registry.set_status(alive_today.id, "moved", TODAY)  # moved today: the application is not after
    a_dead = apply(town, dead, "6")
    a_moved = apply(town, alive_today, "6")
    assert "status" in kinds(town, a_dead)
    assert "已故" in next(f.message for f in town.flags.flags_for(a_dead) if f.kind == "status")
    assert "status" not in kinds(town, a_moved)


def test_deceased_still_being_paid(town) -> None:
    h, ok = add(town, "郑后故"), add(town, "郑健在")
    apps = []
    for x in (h, ok):
        a = apply(town, x, "6")
        a.created = "2026-01-05T09:00:00"  # applied while alive
        for step in ("village_ok", "town_ok", "approved"):
            a.status = step
        town.applications.save(a, "测试.审核")
        apps.append(a)
    town.registry.set_status(h.id, "deceased", dt.date(2026, 2, 1))
    assert "status" not in kinds(town, apps[0])  # applied before the death: nothing yet
    with town.store.begin("测试.发放") as tx:
        town.payouts.issue(apps, "2026-GDDL-01", tx, day=dt.date(2026, 10, 20))  # the bank sheet before payment
        for a in apps:
            town.payouts.record_result(a, True, "", dt.date(2026, 11, 3), tx)
    assert "status" in kinds(town, apps[0])
    msg = next(f.message for f in town.flags.flags_for(apps[0]) if f.kind == "status")
    assert "2026-11-03发放" in msg
    assert "status" not in kinds(town, apps[1])


def test_quantity_above_three_times_the_village_median(town) -> None:
    qs = ["2", "3", "3", "4", "9", "20"]
    apps = [apply(town, add(town, f"冯{'甲乙丙丁戊己'[i]}"), q) for i, q in enumerate(qs)]
    # median of 2,3,3,4,9,20 is 3.5: 20 > 10.5 is flagged, 9 is not
    assert "outlier" in kinds(town, apps[-1])
    assert all("outlier" not in kinds(town, a) for a in apps[:-1])
    # the other village has its own median
    west = [apply(town, add(town, f"陈{'甲乙丙'[i]}", village="西沟村"), q) for i, q in enumerate(["20", "21", "22"])]
    assert all("outlier" not in kinds(town, a) for a in west)


def test_flags_never_block_and_rejected_or_void_rows_are_not_flagged(town) -> None:
    shared = card(8888)
    a = apply(town, add(town, "蒋共卡", card_account=shared), "5")
    b = apply(town, add(town, "蒋共卡二", card_account=shared), "5")
    for step in ("village_ok", "town_ok", "approved"):  # approval with a flag needs only a note
        a = town.applications.set_status(a.id, step, note="经核实为父子共用一卡")
    town.applications.set_status(b.id, "rejected", "核实后为代领")
    assert kinds(town, b) == set()
    assert "shared_card" in kinds(town, a)
    town.applications.void(a.id, "撤回")
    assert town.flags.flags_for(town.applications.get(a.id)) == []


def test_clearing_needs_a_note_and_is_journaled(town) -> None:
    h = add(town, "韩核实")
    base(town, h, "10", 2025)
    a = apply(town, h, "15")
    with pytest.raises(VBError, match="核实情况"):
        town.flags.clear(a.id, "growth", " ")
    with pytest.raises(VBError, match="没有“一卡多户”提示"):
        town.flags.clear(a.id, "一卡多户", "无此情况")
    with pytest.raises(VBError, match="没有“"):
        town.flags.clear(a.id, "unknown-kind", "x")
    town.flags.clear(a.id, "比上年增加", "经村组实地核实，新承包邻户土地5亩")
    f = town.flags.flags_for(town.applications.get(a.id))[0]
    assert f.is_cleared and f.cleared["note"].startswith("经村组实地核实")
    assert f.cleared["operator"] == "测试" and f.cleared["date"] == TODAY.isoformat()
    assert town.flags.flags(2026, open_only=True) == []
    assert len(town.flags.flags(2026)) == 1
    with pytest.raises(VBError, match="已于"):
        town.flags.clear(a.id, "growth", "再核一次")
    # the note is in the journal entry that saved the application
    entry = town.store.journal.last_entry
    assert entry["action"].startswith("风险提示.核实")
    assert "新承包邻户土地5亩" in orjson.dumps(entry).decode()


def test_flags_follow_edits_and_filter_by_program_and_village(town) -> None:
    h = add(town, "杨改动")
    base(town, h, "10", 2025)
    a = apply(town, h, "11")
    assert kinds(town, a) == set()
    town.applications.edit(a.id, quantity="13")
    assert kinds(town, a) == {"growth"}
    v_east, v_west = (v.id for v in town.registry.villages())
    assert len(town.flags.flags(2026, "GDDL", v_east)) == 1
    assert town.flags.flags(2026, "GDDL", v_west) == []
    assert town.flags.flags(2026, "ZLYC") == []
    assert town.flags.counts(2026)["growth"] == 1


def test_demo_township_flags_and_export(svc, tmp_path) -> None:
    from openpyxl import load_workbook

    flags = svc.flags.flags(2026)
    assert {f.kind for f in flags} >= {"status"}  # the demo has deceased applicants
    out = svc.transfer.export_flags(2026, tmp_path / "flags.xlsx")
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert "内部资料" in rows[0][0]
    assert rows[1][0] == "提示类型"
    data = [r for r in rows[2:] if r[1] and str(r[1]).startswith("2026-")]
    assert len(data) == len(flags)
    assert all(isinstance(r[4], str) and len(r[4]) == 18 for r in data)  # full IDs: internal sheet


def test_growth_boundary_is_exact_decimal(town) -> None:
    a_h, b_h = add(town, "秦小数"), add(town, "秦整数")
    base(town, a_h, "0.1", 2025)
    base(town, b_h, "0.1", 2025)
    assert kinds(town, apply(town, a_h, "0.12")) == set()  # exactly +20%
    assert kinds(town, apply(town, b_h, "0.13")) == {"growth"}


def test_counting_lets_go_of_what_it_loaded_and_keeps_what_was_held(svc) -> None:
    """The home screen's count after a save must not hold a year's flags and rows all
    day; a screen that already holds them keeps them."""
    flags = svc.flags
    counts = flags.counts(TODAY.year)
    expected = dict.fromkeys(counts, 0)
    for f in flags.flags(TODAY.year, open_only=True):  # loads and holds them
        expected[f.kind] += 1
    assert counts == expected and sum(counts.values()) > 0
    held = flags.held()
    assert TODAY.year in held.years and held.files
    a = next(x for x in svc.applications.iter(TODAY.year) if not x.frozen_by and not x.void)
    svc.applications.edit(a.id, remark="改一处，计数重做")
    flags.counts(TODAY.year)
    assert TODAY.year in flags.held().years  # the screen's flags stay
    flags.let_go()
    svc.applications.edit(a.id, remark="再改一处")
    assert flags.counts(TODAY.year) == counts
    assert flags.held() == Held(frozenset(), 0)  # counted, then let go


def test_extracted_rows_share_the_digests_of_numbers_seen_before() -> None:
    """A household's card and ID come back in every program and year: the extract
    digests each once, and the row is the same as one digested afresh."""
    from villageboard.services.flag_rows import digest_number, extract_row

    key = b"k" * 32
    doc = {
        "id": "A1",
        "program_code": "GDDL",
        "household_id": 1,
        "village_id": 1,
        "quantity": "12.5",
        "status": "approved",
        "created": "2026-03-01T08:00:00",
        "person_id_number": "110101199003070000",
        "attempts": [
            {"issued": "2026-05-01", "result": "paid", "paid_date": "2026-05-03", "account": "6222020200112233445"}
        ],
    }
    digests: dict[str, str] = {}
    first = extract_row(doc, {}, key, digests)
    assert first == extract_row(doc, {}, key)
    assert digests == {
        "110101199003070000": digest_number(key, "110101199003070000"),
        "6222020200112233445": digest_number(key, "6222020200112233445"),
    }
    assert extract_row(dict(doc, id="A2"), {}, key, digests)[12:] == first[12:]
