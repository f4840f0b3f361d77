"""A realistic, deterministic demo township (古县 某镇): names from real surname
frequencies with homophones, valid IDs, four programs, two years of applications
and payouts with a few bank failures."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from stdnum.cn import ric

from villageboard.domain.models import Household, Program, Township
from villageboard.domain.validate import luhn_check_digit
from villageboard.services.context import SETTINGS_TABLE, Services
from villageboard.services.paths import REGISTRY
from villageboard.store.store import now_iso

#: Common surnames with rough relative frequencies (per mille), incl. homophone pairs
#: 张/章, 李/黎, 王/汪 and multi-reading surnames 单, 曾, 解.
SURNAMES = (
    ("王", 72),
    ("李", 72),
    ("张", 68),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("赵", 23),
    ("黄", 22),
    ("周", 21),
    ("吴", 20),
    ("徐", 17),
    ("孙", 15),
    ("胡", 13),
    ("朱", 13),
    ("高", 13),
    ("林", 12),
    ("何", 12),
    ("郭", 12),
    ("马", 11),
    ("罗", 9),
    ("梁", 9),
    ("宋", 8),
    ("郑", 8),
    ("谢", 8),
    ("韩", 8),
    ("唐", 7),
    ("冯", 7),
    ("于", 6),
    ("董", 6),
    ("萧", 3),
    ("程", 6),
    ("曹", 6),
    ("袁", 5),
    ("邓", 5),
    ("许", 5),
    ("傅", 5),
    ("沈", 4),
    ("曾", 4),
    ("彭", 4),
    ("吕", 4),
    ("苏", 4),
    ("卢", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("贾", 4),
    ("丁", 4),
    ("魏", 4),
    ("薛", 4),
    ("叶", 4),
    ("阎", 3),
    ("余", 3),
    ("潘", 3),
    ("杜", 3),
    ("戴", 3),
    ("夏", 3),
    ("钟", 3),
    ("汪", 3),
    ("田", 3),
    ("任", 3),
    ("姜", 3),
    ("范", 3),
    ("方", 3),
    ("石", 3),
    ("姚", 3),
    ("谭", 2),
    ("廖", 2),
    ("邹", 2),
    ("熊", 2),
    ("金", 2),
    ("陆", 2),
    ("郝", 2),
    ("孔", 2),
    ("白", 2),
    ("崔", 2),
    ("康", 2),
    ("毛", 2),
    ("邱", 2),
    ("秦", 2),
    ("江", 2),
    ("史", 2),
    ("顾", 2),
    ("侯", 2),
    ("邵", 2),
    ("孟", 2),
    ("龙", 2),
    ("万", 2),
    ("段", 2),
    ("章", 2),
    ("钱", 2),
    ("汤", 2),
    ("尹", 2),
    ("黎", 2),
    ("易", 1),
    ("常", 1),
    ("武", 1),
    ("乔", 1),
    ("贺", 1),
    ("赖", 1),
    ("龚", 1),
    ("文", 1),
    ("单", 1),
    ("解", 1),
    ("仇", 1),
    ("申", 1),
    ("牛", 1),
)
GIVEN_ONE = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志文斌海波宁辉鹏飞云峰"
GIVEN_TWO = (
    "建国",
    "建军",
    "国强",
    "志强",
    "永红",
    "秀英",
    "桂兰",
    "玉兰",
    "春花",
    "冬梅",
    "海燕",
    "志明",
    "文华",
    "俊杰",
    "丽娟",
    "晓东",
    "卫东",
    "红梅",
    "建华",
    "秀兰",
    "凤英",
    "淑珍",
    "宝山",
    "金虎",
    "来福",
    "德胜",
    "保国",
    "存良",
    "润生",
    "晋生",
    "满仓",
    "拴柱",
    "二虎",
    "三喜",
    "引弟",
    "改花",
    "爱莲",
    "翠兰",
    "巧云",
    "天佑",
)
DOT_NAMES = ("阿依古丽·买买提", "热合曼·吐尔逊", "古丽娜尔·艾力", "买买提·依明")
VILLAGES = (
    "东沟村",
    "西沟村",
    "南庄村",
    "北坡村",
    "古城村",
    "河底村",
    "岳阳村",
    "石壁村",
    "旧县村",
    "永乐村",
    "南垣村",
    "北平村",
    "三合村",
    "五马村",
    "石门村",
    "涧底村",
    "下冶村",
    "上冶村",
    "贾寨村",
    "闫家庄村",
    "旧寨村",
    "安吉村",
    "秦壁村",
    "桑曲村",
    "蔺村",
    "石槽村",
    "麻姑头村",
    "南靳壁村",
    "北靳壁村",
    "郭家庄村",
    "韩村",
    "泉头村",
    "东庄村",
    "西庄村",
    "南沟村",
    "北沟村",
    "王村",
    "李村",
    "张村",
    "赵村",
    "前进村",
    "红旗村",
    "胜利村",
    "和平村",
    "新民村",
    "新华村",
    "光明村",
    "幸福村",
    "团结村",
    "民主村",
)
GROUPS = ("一组", "二组", "三组", "四组", "五组", "六组")
BANKS = (("621779", "古县农商银行"), ("622188", "邮储银行古县支行"), ("621700", "建设银行古县支行"))
FAIL_REASONS = ("账户冻结", "户名不符", "账户已销户")
REGION = "141025"

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
        code="NJGZ",
        name="农机购置补贴",
        unit="台",
        rate_fen=300000,
        department="县农业农村局",
        basis="《农业机械购置与应用补贴实施方案》",
        eligibility="购置列入补贴范围农机具的农户",
        max_quantity=Decimal("3"),
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
    while True:
        body = f"{REGION}{born:%Y%m%d}{rng.randint(1, 999):03d}"
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


def _quantity(rng: random.Random, code: str) -> Decimal:
    if code == "NJGZ":
        return Decimal(1)
    if code == "STGY":
        return Decimal(rng.randint(500, 8000)) / 100
    if rng.random() < 0.004:  # a large grower, far above the village median
        return Decimal(rng.randint(6000, 12000)) / 100
    return Decimal(rng.randint(150, 2400)) / 100


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
                        materials="身份证、户口簿、土地承包经营权证或购机发票、一卡通存折复印件",
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

    previous: dict[tuple[int, str], Decimal] = {}
    for y in (year - 1, year):
        say(f"生成{y}年申报和发放…")
        last = y < year
        paid_on, issue_day, post_day = _timeline(y, today, last)
        entered = []
        for p in PROGRAMS:
            share = {"GDDL": 0.9, "ZLYC": 0.7, "NJGZ": 0.04, "STGY": 0.2}[p["code"]]
            items = []
            for h in hs:
                ghost = h.id == hs[min(12, len(hs) - 1)].id and p["code"] == "GDDL"
                if h.status != "active" and not ghost and not (h.status == "deceased" and rng.random() < 0.3):
                    continue
                if rng.random() >= share and not ghost:
                    continue
                q = _quantity(rng, p["code"])
                before = previous.get((h.id, p["code"]))
                if before is not None and p["code"] != "NJGZ":
                    # land rarely changes; now and then an area quietly grows
                    grow = Decimal(rng.choice([100] * 97 + [101, 99, 135])) / 100
                    q = min((before * grow).quantize(Decimal("0.01")), p["max_quantity"])
                previous[(h.id, p["code"])] = q
                items.append((h.id, p["code"], y, q, ""))
            entered.append((p, svc.applications.add_many(items, action=f"演示.{y}年{p['name']}申报")))
        # the order of work: 申报公示 posted (with its photo) and its period run, then
        # review and payment. This year's STGY and NJGZ are not on a notice yet.
        paid_programs = ("GDDL", "ZLYC", "STGY") if last else ("GDDL", "ZLYC")
        _application_notices(
            svc, y, post_day, [p["code"] for p, apps in entered if apps and p["code"] in paid_programs]
        )
        for p, apps in entered:
            apps = svc.applications.list(y, p["code"])  # as frozen by the notice
            # statuses: last year all approved and paid; this year mostly approved
            with svc.store.begin(f"演示.{y}年{p['name']}审核") as tx:
                for a in apps:
                    r = rng.random()
                    target = (
                        "approved" if last or r < 0.85 else rng.choice(["applied", "village_ok", "town_ok", "rejected"])
                    )
                    if target == "rejected":
                        a.status, a.reject_reason = "rejected", "经村组核实，申报面积与承包合同不符"
                    else:
                        a.status = target
                    svc.applications.save(a, "", tx)
            if p["code"] not in paid_programs:
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
    say("生成公示和异议…")
    _demo_notices(svc, rng, year, today)
    for hook in DEMO_EXTENSIONS:
        hook(svc, rng, year, say)
    return svc


def _timeline(y: int, today: dt.date, last: bool) -> tuple[dt.date, dt.date, dt.date]:
    """(paid, bank sheet made, 申报公示 posted) for the demo's year ``y``: spring
    notices, an October bank sheet and a November payment, pulled earlier when the
    demo is built early in the year, so the order always holds and this year's result
    notices (posted up to a week ago) come after the payment."""
    paid = dt.date(y, 11, 3) if last else min(dt.date(y, 11, 3), today - dt.timedelta(days=9))
    issued = min(dt.date(y, 10, 20), paid - dt.timedelta(days=10))
    posted = min(dt.date(y, 4, 20), issued - dt.timedelta(days=30))
    return paid, issued, posted


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
            for code in ("GDDL", "ZLYC"):
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
