"""The reference township of DESIGN.md §8, built with the project's own services, and
its SQLite twin for the side-by-side baseline.

Reference scale (``FULL``): 50 villages, 10,000 households, 10 programs a year, 10 years
(2017–2026): ≈ 500,000 application/payout rows and 4,850 result notices. Built with:

* ``registry.add_village`` / ``add_group`` and ``registry.add_households_bulk`` (one
  transaction for the whole registry);
* per (year, program) one transaction holding ``applications.build`` + ``insert`` for
  every applying household, then ``payouts.issue`` and ``payouts.record_result`` for the
  approved rows (a real office spreads this over several saves; one transaction keeps
  the journal at one change per row, which is what the store would hold after
  compaction anyway, and keeps the build to minutes);
* ``notices.create`` + ``notices.post`` for every village × paid program, with the
  date frozen through ``Services(today=…)`` so past years can be posted, and
  ``notices.archive_due`` (run by ``Services.open``) archiving each year's notices when
  the next year is opened.

Shape of the data (fixed seed, so every build is identical):

* village 1 (东沟村) is the big village: 400 households; the other 49 share the rest
  (≈ 196 each, ±25 %). Every household applies for 耕地地力保护补贴 (GDDL) every year,
  so that village's GDDL result notice lists exactly 400 households: the 400-household
  PDF of §8 is a real notice of the reference township;
* the ten programs' take-up (share of households applying) runs from 100 % (GDDL) to
  10 % (农机购置补贴) and sums to 5.0, so a year has ≈ 50,000 rows;
* past years: everything approved (0.5 % rejected outside GDDL), paid on Oct 20 (0.3 %
  failed: 账户冻结 / 户名不符 / 账户已销户), result notices posted Nov 1 for 7 days and
  archived at the next year's open;
* the current year (2026, "today" = 2026-11-28): programs 1–7 paid, their result notices
  posted on Nov 25 (on the board today); programs 8–10 still under review (申报 / 村审核 /
  乡镇审核 / 通过), not on any notice — these are the rows the save benchmark edits.

The 5k-row township for the save ratio (``SMALL``) has the same village size (200
households) and the same programs, but 5 villages and one year: the file a save
rewrites has the same size in both, only the archive around it differs.

Built townships are cached under ``bench/work/<name>/`` and reused while
``BUILD_VERSION`` and the scale are unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Bump when the generator changes: cached townships are rebuilt.
BUILD_VERSION = 1  # the generator, not the storage format: an older folder is upgraded when opened
SEED = 20261128
TODAY = dt.date(2026, 11, 28)
MARKER = "BENCH-BUILT.json"  # beside the data dir, never inside it

BENCH_DIR = Path(__file__).resolve().parent
WORK = BENCH_DIR / "work"

# (code, name, unit, rate in fen, max quantity, take-up share, quantity range)
PROGRAMS: tuple[tuple[str, str, str, int, int, float, tuple[int, int]], ...] = (
    ("GDDL", "耕地地力保护补贴", "亩", 10368, 200, 1.00, (150, 2400)),
    ("ZLYC", "种粮农民一次性补贴", "亩", 1520, 300, 0.90, (150, 2400)),
    ("YMSC", "玉米生产者补贴", "亩", 8650, 300, 0.70, (100, 2000)),
    ("NYBX", "农业保险保费补贴", "亩", 1200, 300, 0.60, (150, 2400)),
    ("DDSC", "大豆生产者补贴", "亩", 23500, 200, 0.50, (50, 1200)),
    ("STGY", "生态公益林补偿", "亩", 1600, 500, 0.40, (500, 8000)),
    ("TGHL", "退耕还林补助", "亩", 12000, 100, 0.35, (50, 800)),
    ("NMBX", "能繁母猪补贴", "头", 10000, 50, 0.25, (1, 12)),
    ("JGLS", "耕地轮作休耕补助", "亩", 15000, 100, 0.20, (100, 1500)),
    ("NJGZ", "农机购置补贴", "台", 300000, 3, 0.10, (1, 2)),
)
#: Programs of the current year still under review (no payout, no notice).
OPEN_PROGRAMS = 3
FAIL_REASONS = ("账户冻结", "户名不符", "账户已销户")
GROUPS = ("一组", "二组", "三组", "四组", "五组", "六组")

# Name tables, copied from villageboard/services/demo.py (as of build version 1) so that the
# reference township does not change when the demo's tables do.
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
# the given names are the demo's (the build stays the same: the lists are unchanged)
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
BANKS = (("621779", "古县农商银行"), ("622188", "邮储银行古县支行"), ("621700", "建设银行古县支行"))


@dataclass(frozen=True)
class Scale:
    name: str
    villages: int
    households: int
    big_village: int  # households in village 1 (0: all villages alike)
    years: int
    notice_years: int  # result notices for the last N years only (the rest: paid, no notice)

    @property
    def first_year(self) -> int:
        return TODAY.year - self.years + 1


FULL = Scale("reference", villages=50, households=10_000, big_village=400, years=10, notice_years=10)
SMALL = Scale("small-5k", villages=5, households=1_000, big_village=0, years=1, notice_years=1)
# --quick: 1/20 of the households and rows; notices for the last two years only
QUICK = Scale("quick", villages=5, households=500, big_village=100, years=10, notice_years=2)
QUICK_SMALL = Scale("quick-small", villages=1, households=100, big_village=0, years=1, notice_years=1)


def setup_env(work: Path) -> None:
    """Keep every cache and default data dir of the benchmark under ``work`` (the
    start-up check's verify cache lives outside the data dir, see locations.py); the
    subprocesses the benchmark starts inherit this."""
    work.mkdir(parents=True, exist_ok=True)
    os.environ["VILLAGEBOARD_CACHE"] = str(work / "cache")
    os.environ["VILLAGEBOARD_HOME"] = str(work / "home")
    os.environ["VILLAGEBOARD_TODAY"] = TODAY.isoformat()


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- people


def _check_digit(body: str) -> str:
    from stdnum.cn import ric

    return ric.calc_check_digit(body + "0")


def _card(rng: random.Random, prefix: str) -> str:
    from villageboard.domain.validate import luhn_check_digit

    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(12))
    return body + luhn_check_digit(body)


def village_sizes(scale: Scale, rng: random.Random) -> list[int]:
    n = scale.villages
    if scale.big_village and n > 1:
        rest_n, rest = n - 1, scale.households - scale.big_village
        head = [scale.big_village]
    else:
        rest_n, rest, head = n, scale.households, []
    weights = [rng.uniform(0.75, 1.25) for _ in range(rest_n)]
    total = sum(weights)
    raw = [rest * w / total for w in weights]
    sizes = [int(x) for x in raw]
    for i in sorted(range(rest_n), key=lambda i: raw[i] - sizes[i], reverse=True)[: rest - sum(sizes)]:
        sizes[i] += 1
    return head + sizes


def household_rows(
    scale: Scale, rng: random.Random, village_ids: list[int], groups: dict[int, list[int]]
) -> list[dict[str, Any]]:
    """Household dicts (the Household.to_dict shape), village by village."""
    from villageboard.domain.models import Household
    from villageboard.services.demo_data import GIVEN_ONE, GIVEN_TWO

    surnames = [s for s, _w in SURNAMES]
    weights = [w for _s, w in SURNAMES]
    used: set[str] = set()
    out = []
    for vid, size in zip(village_ids, village_sizes(scale, rng), strict=True):
        for _ in range(size):
            r = rng.random()
            if r < 0.004:
                name = rng.choice(DOT_NAMES)
            else:
                s = rng.choices(surnames, weights)[0]
                name = s + (rng.choice(GIVEN_ONE) if r < 0.35 else rng.choice(GIVEN_TWO))
            while True:
                born = dt.date(rng.randint(1940, 2000), rng.randint(1, 12), rng.randint(1, 28))
                body = f"141025{born:%Y%m%d}{rng.randint(1, 999):03d}"
                idn = body + _check_digit(body)
                if idn not in used:
                    used.add(idn)
                    break
            prefix, bank = rng.choice(BANKS)
            phone = (
                ""
                if rng.random() < 0.15
                else f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
            )
            gid = rng.choice(groups[vid])
            d = Household(
                name=name,
                id_number=idn,
                phone=phone,
                card_account=_card(rng, prefix),
                bank=bank,
                village_id=vid,
                group_id=gid,
            ).to_dict()
            out.append(d)
    return out


def sheet_rows(scale: Scale, seed: int = SEED) -> list[list[Any]]:
    """The reference households as rows of a clerk's sheet (for the import benchmark):
    the same people the reference township registers."""
    rng = random.Random(seed)

    vids = list(range(1, scale.villages + 1))
    groups = {v: list(range((v - 1) * 6 + 1, v * 6 + 1)) for v in vids}
    rows = household_rows(scale, rng, vids, groups)
    out = []
    for i, d in enumerate(rows, 1):
        g = (d["group_id"] - 1) % 6
        out.append(
            [
                i,
                VILLAGES[d["village_id"] - 1],
                GROUPS[g],
                d["name"],
                d["id_number"],
                d["phone"],
                d["card_account"],
                d["bank"],
                "",
            ]
        )
    return out


def write_household_sheet(path: Path, scale: Scale) -> int:
    """A normal (not write-only) openpyxl workbook, laid out like a clerk's: a title row
    above the header, shared strings. Returns the row count."""
    from openpyxl import Workbook

    rows = sheet_rows(scale)
    wb = Workbook()
    ws = wb.active
    ws.title = "农户信息"
    ws.append(["岳阳镇农户名册"])
    ws.append(["序号", "村", "组", "户主姓名", "身份证号码", "联系电话", "一卡通账号", "开户银行", "备注"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return len(rows)


# --------------------------------------------------------------------------- building


def _program(code: str, name: str, unit: str, rate: int, maxq: int, year: int) -> Any:
    from villageboard.domain.models import Program

    return Program(
        code=code,
        year=year,
        name=name,
        unit=unit,
        rate_fen=rate,
        max_quantity=Decimal(maxq),
        department="县农业农村局",
        basis=f"《{name}实施方案》",
        eligibility="本镇符合条件的农户",
        procedure="农户向村委会提出申请，村级审核公示后报镇审核，县级审定后通过一卡通发放",
        materials="身份证、户口簿、一卡通存折复印件及相关证明",
        office="岳阳镇农业综合服务中心",
        hotline="0357-5221234",
        posting_days=7,
        rounding="half_up",
        time_limit="每年3月1日至4月30日",
        scope="本镇行政区域内",
    )


def _quantity(rng: random.Random, lo_hi: tuple[int, int], unit: str) -> Decimal:
    lo, hi = lo_hi
    if unit in ("台", "头"):
        return Decimal(rng.randint(lo, hi))
    return Decimal(rng.randint(lo, hi)) / 100


@dataclass
class BuildReport:
    scale: dict[str, Any]
    version: int
    seed: int
    seconds: float
    rows: int
    notices: int
    households: int
    phases: dict[str, float]
    per_op_ms: dict[str, float]
    disk_mb: float
    journal_mb: float


def _du(path: Path) -> tuple[float, float]:
    total = journal = 0
    for dirpath, _d, files in os.walk(path):
        for f in files:
            size = os.path.getsize(os.path.join(dirpath, f))
            total += size
            if "journal" in Path(dirpath).parts[-1:]:
                journal += size
    return total / 1e6, journal / 1e6


def build(root: Path, scale: Scale, seed: int = SEED) -> BuildReport:
    """Build ``scale`` into the empty folder ``root`` with the project's services."""
    from villageboard.domain.models import Township
    from villageboard.services import Services
    from villageboard.services.township import init_township

    t_start = time.perf_counter()
    rng = random.Random(seed)
    phases: dict[str, float] = {}
    ops: dict[str, list[float]] = {"notice.create": [], "notice.post": [], "app+payout row": []}

    t0 = time.perf_counter()
    svc = init_township(
        root,
        Township(
            name="岳阳镇",
            county="古县",
            code="141025",
            hotline="0357-5221234",
            supervision_hotline="0357-5225678",
            supervision_address="古县纪委监委信访室（县城府前街8号）",
            issuing_units=["岳阳镇人民政府", "岳阳镇农业综合服务中心"],
        ),
        operator="基准",
    )
    years = list(range(scale.first_year, TODAY.year + 1))
    with svc.store.begin("基准.村组项目") as tx:
        vids = []
        groups: dict[int, list[int]] = {}
        for name in VILLAGES[: scale.villages]:
            v = svc.registry.add_village(name, tx)
            vids.append(v.id)
            groups[v.id] = [svc.registry.add_group(v.id, g, tx).id for g in GROUPS]
        for y in years:
            for code, name, unit, rate, maxq, _share, _q in PROGRAMS:
                svc.programs.add(_program(code, name, unit, rate, maxq, y), tx)
    rows = household_rows(scale, rng, vids, groups)
    with svc.store.begin("基准.农户名册") as tx:
        added = svc.registry.add_households_bulk(rows, tx)
    svc.registry.remember_all(added)
    households = svc.registry.households()
    svc.close()
    phases["registry"] = time.perf_counter() - t0

    n_rows = n_notices = 0
    for y in years:
        current = y == TODAY.year
        day = dt.date(y, 11, 25) if current else dt.date(y, 11, 1)
        # opening with the date frozen in year y archives year y-1's notices (archive_due)
        svc = Services.open(root, today=day, operator="基准")
        t0 = time.perf_counter()
        paid_codes = []
        for pi, (code, _name, unit, _rate, _maxq, share, qrange) in enumerate(PROGRAMS):
            program = svc.programs.get(y, code)
            open_program = current and pi >= len(PROGRAMS) - OPEN_PROGRAMS
            t_tx = time.perf_counter()
            with svc.store.begin(f"基准.{y}年{program.name}") as tx:
                apps = []
                for h in households:
                    if share < 1.0 and rng.random() >= share:
                        continue
                    app, problems = svc.applications.build(h.id, program, _quantity(rng, qrange, unit), household=h)
                    if app is None:
                        raise RuntimeError(f"build refused: {problems}")
                    svc.applications.insert(app, tx)
                    apps.append(app)
                if open_program:
                    for a in apps:
                        a.status = rng.choices(("applied", "village_ok", "town_ok", "approved"), (4, 3, 2, 1))[0]
                        svc.applications.save(a, "", tx)
                else:
                    approved = []
                    for a in apps:
                        if code != "GDDL" and rng.random() < 0.005:
                            a.status, a.reject_reason = "rejected", "经村组核实，申报数量与实际不符"
                            svc.applications.save(a, "", tx)
                        else:
                            a.status = "approved"
                            approved.append(a)
                    svc.payouts.issue(approved, f"{y}-{code}-01", tx, day=dt.date(y, 10, 10))  # sheet before payment
                    for a in approved:
                        if rng.random() < 0.003:
                            svc.payouts.record_result(a, False, rng.choice(FAIL_REASONS), dt.date(y, 10, 20), tx)
                        else:
                            svc.payouts.record_result(a, True, "", dt.date(y, 10, 20), tx)
                    paid_codes.append(code)
            if apps:
                ops["app+payout row"].append((time.perf_counter() - t_tx) / len(apps))
            n_rows += len(apps)
        phases[f"{y} rows"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if y > TODAY.year - scale.notice_years:
            for vid in vids:
                for code in paid_codes:
                    t = time.perf_counter()
                    n = svc.notices.create("result", y, vid, code)
                    ops["notice.create"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    svc.notices.post(n.code, start=day, days=7)
                    ops["notice.post"].append(time.perf_counter() - t)
                    n_notices += 1
        phases[f"{y} notices"] = time.perf_counter() - t0
        svc.close()
        say(
            f"  {scale.name}: {y} built ({n_rows:,} rows, {n_notices:,} notices so far, "
            f"{time.perf_counter() - t_start:.0f} s)"
        )
    disk, journal = _du(root)
    per_op = {k: (sum(v) / len(v) * 1000 if v else 0.0) for k, v in ops.items()}
    return BuildReport(
        scale=asdict(scale),
        version=BUILD_VERSION,
        seed=seed,
        seconds=time.perf_counter() - t_start,
        rows=n_rows,
        notices=n_notices,
        households=len(households),
        phases=phases,
        per_op_ms=per_op,
        disk_mb=disk,
        journal_mb=journal,
    )


def ensure(scale: Scale, work: Path = WORK, rebuild: bool = False) -> tuple[Path, dict[str, Any], bool]:
    """The cached township of ``scale`` (built when missing or out of date).
    Returns (data dir, build report, built now)."""
    base = work / scale.name
    root = base / "data"
    marker = base / MARKER
    if not rebuild and marker.is_file() and (root / "villageboard.json").is_file():
        info = json.loads(marker.read_text("utf-8"))
        if info.get("version") == BUILD_VERSION and info.get("scale") == asdict(scale) and info.get("seed") == SEED:
            return root, info, False
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    say(f"building {scale.name} township in {root} (once; cached for later runs)…")
    report = build(root, scale)
    info = asdict(report)
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=1), "utf-8")
    say(
        f"  built in {report.seconds:.0f} s: {report.rows:,} rows, {report.notices:,} notices, "
        f"{report.disk_mb:,.0f} MB ({report.journal_mb:,.0f} MB journal)"
    )
    return root, info, True


def clone(src: Path, dst: Path) -> None:
    """A writable copy for benchmarks that save: data files are hard links (the store
    only ever replaces them, never writes in place), the journal's last segment (which
    is appended to) is a real copy. Falls back to copying when links are impossible."""
    shutil.rmtree(dst, ignore_errors=True)
    from villageboard.store.journal import segments

    segs = segments(src / "journal")  # plain and compressed (sealed) ones alike
    last = str(segs[-1]) if segs else ""

    def copy(s: str, d: str) -> None:
        if s == last:
            shutil.copy2(s, d)
            return
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=copy, ignore=shutil.ignore_patterns(".lock", "*.vbtmp"))


# --------------------------------------------------------------------------- SQLite twin

SQLITE_SCHEMA = """
CREATE TABLE household (id INTEGER PRIMARY KEY, name TEXT, pinyin TEXT, initials TEXT, id_number TEXT,
                        id_tail TEXT, phone TEXT, phone_tail TEXT, village TEXT, grp TEXT, doc TEXT);
CREATE INDEX household_name ON household(name);
CREATE INDEX household_pinyin ON household(pinyin);
CREATE INDEX household_initials ON household(initials);
CREATE INDEX household_id_tail ON household(id_tail);
CREATE INDEX household_phone_tail ON household(phone_tail);
CREATE UNIQUE INDEX household_id_number ON household(id_number);
CREATE TABLE app (id TEXT PRIMARY KEY, year INT, program TEXT, village INT, household INT, quantity TEXT,
                  amount_fen INT, status TEXT, payout_status TEXT, remark TEXT, frozen_by TEXT, doc TEXT);
CREATE INDEX app_file ON app(year, program, village);
CREATE UNIQUE INDEX app_taken ON app(year, program, household);
CREATE INDEX app_household ON app(household);
"""
#: The same rows as one wide table, one row per application with the household's columns
#: copied in: the layout of DESIGN.md §8's reference figure ("a LIKE '%1234' scan over
#: 300k rows took 40 ms").
SQLITE_FLAT = """
CREATE TABLE app_flat AS
SELECT a.household AS household, h.name AS name, h.pinyin AS pinyin, h.initials AS initials,
       h.id_number AS id_number, h.phone AS phone, a.year AS year, a.program AS program,
       a.quantity AS quantity, a.amount_fen AS amount_fen, a.status AS status,
       a.payout_status AS payout_status, a.frozen_by AS frozen_by
FROM app a JOIN household h ON h.id = a.household;
"""
#: Bump when the SQLite twin's layout changes.
SQLITE_VERSION = 2


def pinyin_columns(name: str) -> tuple[str, str]:
    """(joined toneless pinyin, initials) in the standard reading, as an SQLite app
    would precompute them."""
    from pypinyin import Style, lazy_pinyin

    syl = [s for s in lazy_pinyin(name.replace("·", ""), style=Style.NORMAL) if s.strip()]
    return "".join(syl), "".join(s[0] for s in syl)


def iter_application_docs(root: Path) -> Iterator[dict[str, Any]]:
    from villageboard.services import Services
    from villageboard.services.paths import applications_dir

    with Services.open(root, readonly=True, today=TODAY) as svc:
        for y in svc.store.years():
            for rel in svc.store.list_files(applications_dir(y)):
                yield from svc.store.read_raw(rel).get("applications", {}).values()


def ensure_sqlite(root: Path, scale: Scale, work: Path = WORK) -> Path:
    """The same households and application rows in an indexed SQLite database
    (cached beside the township)."""
    path = work / scale.name / "baseline.sqlite"
    marker = work / scale.name / "baseline.json"
    built = json.loads((work / scale.name / MARKER).read_text("utf-8"))
    if path.is_file() and marker.is_file():
        m = json.loads(marker.read_text("utf-8"))
        if m.get("built") == built["seconds"] and m.get("version") == SQLITE_VERSION:
            return path
    say(f"building the SQLite baseline of {scale.name}…")
    t0 = time.perf_counter()
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(SQLITE_SCHEMA)
    from villageboard.services import Services

    db.execute("BEGIN")
    with Services.open(root, readonly=True, today=TODAY) as svc:
        villages = {v.id: v.name for v in svc.registry.villages()}
        groups = {g.id: g.name for g in svc.registry.groups()}
        for h in svc.registry.households():
            py, ini = pinyin_columns(h.name)
            d = h.to_dict()
            db.execute(
                "INSERT INTO household VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    h.id,
                    h.name,
                    py,
                    ini,
                    h.id_number,
                    h.id_number[-4:],
                    h.phone,
                    h.phone[-4:] if h.phone else "",
                    villages.get(h.village_id, ""),
                    groups.get(h.group_id, ""),
                    json.dumps(d, ensure_ascii=False, default=str),
                ),
            )
    db.executemany(
        "INSERT INTO app VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            (
                d["id"],
                d["year"],
                d["program_code"],
                d["village_id"],
                d["household_id"],
                str(d.get("quantity", "")),
                d.get("amount_fen", 0),
                d.get("status", ""),
                d.get("payout_status", ""),
                d.get("remark", ""),
                ",".join(d.get("frozen_by") or ()),
                json.dumps(d, ensure_ascii=False),
            )
            for d in iter_application_docs(root)
        ),
    )
    db.execute("COMMIT")
    db.executescript(SQLITE_FLAT)
    db.execute("ANALYZE")
    db.close()
    marker.write_text(
        json.dumps({"built": built["seconds"], "version": SQLITE_VERSION, "seconds": time.perf_counter() - t0}), "utf-8"
    )
    say(f"  SQLite baseline built in {time.perf_counter() - t0:.0f} s")
    return path


def progress_printer(label: str) -> Callable[[int, int], None]:
    def tick(done: int, total: int) -> None:
        if total and done == total:
            say(f"  {label}: {done}/{total}")

    return tick
