"""A realistic, deterministic demo township (古县 岳阳镇): Shanxi surnames with
homophones, valid IDs (the older heads' under 古县's old code as often as the new), three
programs, two years of applications on real land (确权, 扣除 with its reason, 补贴面积) and
payouts with a few bank failures, every date in the order the work is done in.

农机购置补贴 is not among the programs: the county's agricultural machinery office
takes the applications and pays fixed amounts per machine type from the national
catalogue; a township neither enters nor posts it."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import tempfile
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from stdnum.cn import ric

from villageboard.domain.errors import VBError
from villageboard.domain.land import Land
from villageboard.domain.models import Application, Household, Program, Township
from villageboard.domain.validate import luhn_check_digit
from villageboard.services.context import SETTINGS_TABLE, Services
from villageboard.services.demo_data import (
    BANKS,
    DEDUCTION_REASONS,
    DOT_NAMES,
    FAIL_REASONS,
    GIVEN_ONE,
    GIVEN_TWO,
    GROUPS,
    OLD_REGION,
    REGION,
    SURNAMES,
    VILLAGES,
)
from villageboard.services.paths import REGISTRY
from villageboard.store.store import now_iso

PROGRAMS: tuple[dict[str, Any], ...] = (
    dict(
        code="GDDL",
        name="耕地地力保护补贴",
        unit="亩",
        rate_fen=10368,
        department="县农业农村局",
        basis="《财政部 农业农村部关于下达耕地地力保护补贴资金预算的通知》",
        eligibility="拥有耕地承包权的种地农民",
        max_quantity=Decimal("200"),
    ),
    dict(
        code="ZLYC",
        name="种粮农民一次性补贴",
        unit="亩",
        rate_fen=1520,
        department="县农业农村局",
        basis="《关于对实际种粮农民发放一次性补贴的通知》",
        eligibility="实际承担种粮成本的农民",
        max_quantity=Decimal("300"),
    ),
    dict(
        code="STGY",
        name="生态公益林补偿",
        unit="亩",
        rate_fen=1600,
        department="县林业局",
        basis="《中央财政林业改革发展资金管理办法》",
        eligibility="拥有集体公益林的农户",
        max_quantity=Decimal("500"),
    ),
)


def _id_number(rng: random.Random, born: dt.date, used: set[str]) -> str:
    """A valid ID: heads born before 2000 were first issued theirs under 古县's old code
    (142627) about as often as under today's (141025)."""
    region = OLD_REGION if born.year < 2000 and rng.random() < 0.5 else REGION
    while True:
        body = f"{region}{born:%Y%m%d}{rng.randint(1, 999):03d}"
        full = body + ric.calc_check_digit(body + "0")
        if full not in used:
            used.add(full)
            return full


def _card(rng: random.Random, prefix: str) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(12))
    return body + luhn_check_digit(body)


def _name(rng: random.Random, surnames: list[str], weights: list[int]) -> str:
    r = rng.random()
    if r < 0.004:
        return rng.choice(DOT_NAMES)
    s = rng.choices(surnames, weights)[0]
    if r < 0.35:
        return s + rng.choice(GIVEN_ONE)
    return s + rng.choice(GIVEN_TWO)


_CENT = Decimal("0.01")


def _area(rng: random.Random, low: int, high: int) -> Decimal:
    """An area in 亩 between low/100 and high/100, two places."""
    return Decimal(rng.randint(low, high)) / 100


def _farmland(rng: random.Random) -> Land:
    """A household's 耕地: its 确权 land, and for some of them land that no longer
    qualifies (a road, trees, a house, fallow) deducted with the reason."""
    certified = _area(rng, 6000, 12000) if rng.random() < 0.004 else _area(rng, 150, 2400)
    if rng.random() < 0.08:
        most = max(30, min(300, int(certified * 40)))  # at most 3 亩, and 40% of the land
        deducted = _area(rng, 30, most)
        return Land(certified, deducted, rng.choice(DEDUCTION_REASONS))
    return Land(certified, Decimal(0), "")


def _next_year(rng: random.Random, land: Land) -> Land:
    """The same land a year later: nearly always unchanged; now and then a new road
    takes a strip, and once in a while the 确权 area quietly grows (what the growth
    flag is for)."""
    r = rng.random()
    if r < 0.01:
        return Land((land.certified * Decimal("1.35")).quantize(_CENT), land.deducted, land.reason)
    if r < 0.03 and not land.deducted and land.certified > 2:
        return Land(land.certified, _area(rng, 30, min(150, int(land.certified * 40))), "修路占地")
    return land


class _Plan:
    """What each household applies for, year by year: land carried forward, the share
    of its 耕地 it plants with grain, and the few who rent a neighbour's land as well
    (their 种粮 area above their own 耕地 is what the 种粮超耕地 flag is for)."""

    def __init__(self, rng: random.Random, hs: list[Household]) -> None:
        self.rng = rng
        self.ghost = hs[min(12, len(hs) - 1)].id  # the dead man still on the GDDL list
        farmers = [h.id for h in hs if h.status == "active"]
        self.renters = set(rng.sample(farmers, min(2, len(farmers))))
        self.rented = {hid: _area(rng, 2000, 5000) for hid in sorted(self.renters)}
        # who holds what, once: land stays with a household from year to year
        self.farmland: dict[int, Land] = {}
        self.planted_share: dict[int, Decimal] = {}
        self.forest: dict[int, Land] = {}
        for h in hs:
            if h.id in (self.ghost, *self.renters) or rng.random() < 0.9:
                self.farmland[h.id] = _farmland(rng)
                if h.id in self.renters or rng.random() < 0.75:
                    self.planted_share[h.id] = Decimal(rng.randint(60, 100)) / 100
            if rng.random() < 0.2 or h.id == self.ghost:  # his forest share is still claimed too
                self.forest[h.id] = Land(_area(rng, 500, 8000), Decimal(0), "")

    def items(self, hs: list[Household], first: bool) -> list[tuple[int, str, Decimal, Land | None]]:
        """A year's applications: (household, program, quantity, land)."""
        rng = self.rng
        out: list[tuple[int, str, Decimal, Land | None]] = []
        for h in hs:
            if h.status != "active" and h.id != self.ghost and not (h.status == "deceased" and rng.random() < 0.3):
                continue
            land = self.farmland.get(h.id)
            if land is not None:
                if not first:
                    land = self.farmland[h.id] = _next_year(rng, land)
                out.append((h.id, "GDDL", land.subsidy, land))
                share = self.planted_share.get(h.id)
                if share is not None:
                    # the grain actually sown: part of the household's own 补贴面积,
                    # plus the land the few renters took on from neighbours
                    planted = (land.subsidy * share).quantize(_CENT, rounding=ROUND_DOWN)
                    planted += self.rented.get(h.id, Decimal(0))
                    if planted > 0:
                        out.append((h.id, "ZLYC", planted, None))
            forest = self.forest.get(h.id)
            if forest is not None:
                out.append((h.id, "STGY", forest.subsidy, forest))
        return out


def _enter(svc: Services, year: int, items: list[tuple[int, str, Decimal, Land | None]]) -> None:
    """Each program's applications of a year, entered on the services' today."""
    for p in PROGRAMS:
        program = svc.programs.get(year, p["code"])
        built: list[Application] = []
        for hid, code, q, land in items:
            if code != p["code"]:
                continue
            app, problems = svc.applications.build(hid, program, q, land=land)
            if app is None:
                raise VBError("；".join(str(x) for x in problems))
            built.append(app)
        with svc.store.begin(f"演示.{year}年{p['name']}申报") as tx:
            for app in built:
                svc.applications.insert(app, tx)


def build_demo(
    data_dir: Path,
    households: int = 3000,
    villages: int = 12,
    seed: int = 20261128,
    year: int | None = None,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Services:
    """Create the demo township in an empty ``data_dir`` and return it open."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    year = year or today.year
    say = progress or (lambda _m: None)
    villages = max(1, min(villages, len(VILLAGES)))
    svc = Services.create(data_dir, today=today, operator="演示")
    t = Township(
        name="岳阳镇",
        county="古县",
        code=REGION,
        hotline="0357-5221234",
        supervision_hotline="0357-5225678",
        supervision_address="古县纪委监委信访室（县城府前街8号）",
        issuing_units=["岳阳镇人民政府", "岳阳镇农业综合服务中心"],
        tag_key=secrets.token_hex(32) if seed is None else random.Random(seed ^ 0x5EED).randbytes(32).hex(),
        created=now_iso(),
        demo=True,
    )
    say("建立乡镇和村组…")
    with svc.store.begin("演示.建立乡镇") as tx:
        tx.put(REGISTRY, SETTINGS_TABLE, 1, t.to_dict())
        vids = []
        for name in VILLAGES[:villages]:
            v = svc.registry.add_village(name, tx)
            vids.append(v.id)
            for g in GROUPS[: rng.randint(3, 6)]:
                svc.registry.add_group(v.id, g, tx)
        for y in (year - 1, year):
            for p in PROGRAMS:
                svc.programs.add(
                    Program(
                        year=y,
                        posting_days=7,
                        hotline="0357-5221234",
                        rounding="half_up",
                        procedure="农户向村委会提出申请，村级审核公示后报镇审核，县级审定后通过一卡通发放",
                        materials="身份证、户口簿、土地承包经营权证或林权证、一卡通存折复印件",
                        office="岳阳镇农业综合服务中心（镇政府一楼）",
                        time_limit="每年3月1日至4月30日",
                        scope="本镇行政区域内",
                        **p,
                    ),
                    tx,
                )
    say(f"生成{households}户农户…")
    surnames = [s for s, _w in SURNAMES]
    weights = [w for _s, w in SURNAMES]
    used: set[str] = set()
    rows = []
    groups_by_v = {vid: [g.id for g in svc.registry.groups(vid)] for vid in vids}
    forced = ["张伟", "章伟", "张维", "李娜", "黎娜", "王芳", "汪芳", "单雄", "曾国强", "解放"]
    for i in range(households):
        vid = vids[i % len(vids)] if i < len(vids) * 2 else rng.choice(vids)
        name = forced[i] if i < len(forced) else _name(rng, surnames, weights)
        born = dt.date(rng.randint(1938, 2000), rng.randint(1, 12), rng.randint(1, 28))
        prefix, bank = rng.choice(BANKS)
        status, sdate = "active", None
        r = rng.random()
        if r < 0.012:
            status, sdate = "deceased", today - dt.timedelta(days=rng.randint(30, 3000))
        elif r < 0.02:
            status, sdate = "moved", today - dt.timedelta(days=rng.randint(30, 2000))
        phone = (
            "" if rng.random() < 0.15 else f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        )
        rows.append(
            Household(
                name=name,
                id_number=_id_number(rng, born, used),
                phone=phone,
                card_account=_card(rng, prefix),
                bank=bank,
                village_id=vid,
                group_id=rng.choice(groups_by_v[vid]),
                status=status,
                status_date=sdate,
            ).to_dict()
        )
    # one man dead for years who keeps "applying" (the case the status flag exists for)
    if len(rows) > 12:
        rows[12]["status"], rows[12]["status_date"] = "deceased", (today - dt.timedelta(days=900)).isoformat()
    # a few households paid into someone else's card (一卡多户), as audits keep finding
    for src, dst in ((20, 21), (45, 300)):
        if dst < len(rows):
            rows[dst]["card_account"], rows[dst]["bank"] = rows[src]["card_account"], rows[src]["bank"]
    with svc.store.begin("演示.导入农户") as tx:
        hs = svc.registry.add_households_bulk(rows, tx)
    svc.registry.forget()  # reload with ids

    plan = _Plan(rng, hs)
    real_today = svc.fixed_today
    for y in (year - 1, year):
        say(f"生成{y}年申报和发放…")
        last = y < year
        entered, post_day, reviewed, issue_day, paid_on = _timeline(y, today, last)
        try:
            svc.set_today(entered)
            _enter(svc, y, plan.items(hs, first=last))
        finally:
            svc.set_today(real_today)
        # the order of work: 申报公示 posted (with its photo) and its period run, then
        # review and payment. This year's STGY is not on a notice yet, so it has only
        # been through the village's first look.
        paid_programs = ("GDDL", "ZLYC", "STGY") if last else ("GDDL", "ZLYC")
        _application_notices(svc, y, post_day, [c for c in paid_programs if svc.applications.list(y, c)])
        try:
            svc.set_today(reviewed)
            _review_and_pay(svc, rng, y, last, paid_programs, issue_day, paid_on)
        finally:
            svc.set_today(real_today)
    say("生成公示和异议…")
    _demo_notices(svc, rng, year, today)
    for hook in DEMO_EXTENSIONS:
        hook(svc, rng, year, say)
    return svc


def _review_and_pay(
    svc: Services,
    rng: random.Random,
    y: int,
    last: bool,
    paid_programs: tuple[str, ...],
    issue_day: dt.date,
    paid_on: dt.date,
) -> None:
    """Review after the 申报公示 ran (last year all approved; this year mostly), then
    the bank sheet and, days later, the bank's return (this year with a few failures)."""
    for p in PROGRAMS:
        apps = svc.applications.list(y, p["code"])  # as frozen by the notice
        noticed = p["code"] in paid_programs
        with svc.store.begin(f"演示.{y}年{p['name']}审核") as tx:
            for a in apps:
                r = rng.random()
                if not noticed:  # not yet on a 申报公示: only the village has looked
                    target = "village_ok" if r < 0.6 else "applied"
                elif last or r < 0.85:
                    target = "approved"
                else:
                    target = rng.choice(["applied", "village_ok", "town_ok", "rejected"])
                if target == "rejected":
                    a.status, a.reject_reason = "rejected", "经村组核实，申报面积与承包合同不符"
                else:
                    a.status = target
                svc.applications.save(a, "", tx)
        if not noticed:
            continue
        approved = [a for a in apps if a.status == "approved"]
        batch = f"{y}-{p['code']}-01"
        with svc.store.begin(f"演示.{y}年{p['name']}发放") as tx:
            svc.payouts.issue(approved, batch, tx, day=issue_day)  # the bank sheet comes before payment
            fails = set() if last else set(rng.sample(range(len(approved)), min(3, len(approved))))
            for i, a in enumerate(approved):
                if i in fails:
                    svc.payouts.record_result(a, False, FAIL_REASONS[sorted(fails).index(i) % 3], paid_on, tx)
                else:
                    svc.payouts.record_result(a, True, "", paid_on, tx)


def _timeline(y: int, today: dt.date, last: bool) -> tuple[dt.date, dt.date, dt.date, dt.date, dt.date]:
    """(entered, 申报公示 posted, reviewed, bank sheet made, paid) for the demo's year
    ``y``: spring entry and notices, review after the notice's 7 days, an October bank
    sheet and a November payment, pulled earlier when the demo is built early in the
    year, so the order always holds and this year's result notices (posted up to a week
    ago) come after the payment."""
    paid = dt.date(y, 11, 3) if last else min(dt.date(y, 11, 3), today - dt.timedelta(days=9))
    issued = min(dt.date(y, 10, 20), paid - dt.timedelta(days=10))
    reviewed = min(dt.date(y, 5, 15), issued - dt.timedelta(days=10))
    posted = min(dt.date(y, 4, 20), reviewed - dt.timedelta(days=14))
    entered = min(dt.date(y, 3, 16), posted - dt.timedelta(days=10))
    return entered, posted, reviewed, issued, paid


def _application_notices(svc: Services, year: int, start: dt.date, programs: list[str], days: int = 7) -> None:
    """Each village's 申报公示 of each program: posted on ``start`` with its posting
    photo, archived when its period has run."""
    from villageboard.render.qr import qr_png

    ns = svc.notices
    real_today = svc.fixed_today
    with tempfile.TemporaryDirectory() as tmp:
        try:
            svc.set_today(start)
            for code in programs:
                for v in svc.registry.villages():
                    if not svc.applications.list(year, code, v.id):
                        continue
                    n = ns.create("application", year, v.id, code)
                    ns.post(n.code, start=start, days=days)
                    photo = Path(tmp) / f"{n.code}.png"
                    photo.write_bytes(qr_png(f"演示张贴照片 {n.code}", box_size=2))
                    ns.attach_photo(n.code, photo)
            svc.set_today(start + dt.timedelta(days=days))
            ns.archive_due()
        finally:
            svc.set_today(real_today)


def _demo_notices(svc: Services, rng: random.Random, year: int, today: dt.date) -> None:
    """Notices in every state (the application notices are made with the applications):
    last year's archived, result notices on the board (one with a day left), a draft, one whose
    period has just ended, an open objection and a correction."""
    ns = svc.notices
    villages = svc.registry.villages()
    real_today = svc.fixed_today
    try:
        # last year: result notices and the year summary, each archived the day after
        # its period ended (as the next start of the app would have done)
        svc.set_today(dt.date(year - 1, 11, 10))
        for v in villages:
            for code in ("GDDL", "ZLYC", "STGY"):
                if not svc.applications.list(year - 1, code, v.id):
                    continue
                n = ns.create("result", year - 1, v.id, code)
                ns.post(n.code, start=dt.date(year - 1, 11, 10), days=7)
        svc.set_today(dt.date(year - 1, 11, 18))
        ns.archive_due()
        svc.set_today(dt.date(year - 1, 12, 20))
        for v in villages:
            n = ns.create("summary", year - 1, v.id)
            ns.post(n.code, start=dt.date(year - 1, 12, 20), days=7)
        svc.set_today(dt.date(year - 1, 12, 28))
        ns.archive_due()
        svc.set_today(today)
        # result notices now on the board, the first one with its last day today
        for i, v in enumerate(villages):
            n = ns.create("result", year, v.id, "GDDL")
            start = today - dt.timedelta(days=6) if i == 0 else today - dt.timedelta(days=rng.randint(0, 4))
            ns.post(n.code, start=start, days=7)
        if len(villages) > 1:
            ns.create("result", year, villages[1].id, "ZLYC")  # a draft, not yet posted
        if len(villages) > 2:
            # one whose period ended yesterday: archived at the next start
            n = ns.create("result", year, villages[2].id, "ZLYC")
            svc.set_today(today - dt.timedelta(days=7))
            ns.post(n.code, start=today - dt.timedelta(days=7), days=7)
            svc.set_today(today)
        # an open objection, and one resolved with a correction
        on_board = [r.notice for r in ns.rows(year, "posted") if r.notice.kind == "result"]
        if on_board:
            first = on_board[0]
            rows = ns.snapshot(first)["rows"]
            ns.add_objection(first.code, "我家承包地面积应为登记面积，请核实", rows[0]["household_id"])
        if len(on_board) > 1:
            second = on_board[1]
            rows = ns.snapshot(second)["rows"]
            o = ns.add_objection(second.code, "公示上备注漏写了代耕情况", rows[-1]["household_id"])
            _o, c = ns.resolve_objection(
                o.id, "经村委会核实，补记代耕情况", correct=True, edits=[(rows[-1]["app"], "remark", "由亲属代耕")]
            )
            if c is not None:
                ns.post(c.code, start=today)
    finally:
        svc.set_today(real_today)


#: Later workflows (notices in every state, calls) extend the demo here.
DEMO_EXTENSIONS: list[Callable[[Services, random.Random, int, Callable[[str], None]], None]] = []
