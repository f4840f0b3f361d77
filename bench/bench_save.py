"""One durable save, at 5k and at 500k rows in the archive, beside SQLite.

    .venv/bin/python bench/bench_save.py [--rows-large 500000] [--repeat 200]

Builds two data dirs under bench/work/ (reused on later runs): a small one with
5,000 application rows and a large one with 500,000 (10 years × 10 programs × 50
villages × 100 rows), partitioned as the store partitions them. It then times one
application insert and one update through the services (median and p95), and the
same insert and update in an indexed SQLite table holding the same rows, committed
per row (synchronous=FULL, WAL off: the same durability promise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from villageboard.domain.models import Application, Household, Program, Township  # noqa: E402
from villageboard.services import Services  # noqa: E402
from villageboard.services.applications import APPLICATIONS  # noqa: E402
from villageboard.services.paths import app_counter, app_number, applications_file  # noqa: E402
from villageboard.services.township import init_township  # noqa: E402

WORK = Path(__file__).resolve().parent / "work"
TODAY = dt.date(2026, 11, 28)
VILLAGES, PROGRAMS, YEARS = 50, 10, 10


def build(root: Path, rows: int) -> None:
    """Fill a township with ``rows`` application rows spread like the reference scale."""
    if (root / "villageboard.json").exists():
        return
    rng = random.Random(1)
    per_file = max(1, rows // (VILLAGES * PROGRAMS * YEARS))
    years = list(range(TODAY.year - YEARS + 1, TODAY.year + 1))
    svc = init_township(root, Township(name="基准镇", county="古县", code="141025", hotline="0357-5221234"), operator="bench")
    with svc.store.begin("bench.村组") as tx:
        vids = [svc.registry.add_village(f"基准{i:02d}村", tx).id for i in range(VILLAGES)]
        for y in years:
            for p in range(PROGRAMS):
                svc.programs.add(Program(code=f"P{p:02d}", year=y, name=f"补贴项目{p:02d}", unit="亩", rate_fen=10000), tx)
    hids = {}
    with svc.store.begin("bench.农户") as tx:
        for vi, vid in enumerate(vids):
            for k in range(per_file):
                body = f"141025{1950 + k % 50}0101{vi:01d}{k % 100:02d}"[:17]
                from stdnum.cn import ric

                idn = body + ric.calc_check_digit(body + "0")
                h = Household(name="张伟", id_number=idn, village_id=vid)
                hids[(vid, k)] = tx.insert(f"households/{vid:04d}.json", "households", "household", h.to_dict())
    done = 0
    for y in years:
        for p in range(PROGRAMS):
            code = f"P{p:02d}"
            with svc.store.begin(f"bench.{y}.{code}") as tx:
                for vid in vids:
                    rel = applications_file(y, code, vid)
                    for k in range(per_file):
                        q = Decimal(rng.randint(100, 3000)) / 100
                        a = Application(year=y, program_code=code, household_id=hids[(vid, k)], village_id=vid,
                                        quantity=q, rate_fen=10000, amount_fen=int(q * 10000), status="approved")
                        n = tx.insert(rel, APPLICATIONS, app_counter(y), a.to_dict(), key_field=None)
                        a.id = app_number(y, n)
                        d = a.to_dict()
                        d["_ctr"] = app_counter(y)
                        tx.put(rel, APPLICATIONS, n, d)
                        done += 1
                        if done >= rows:
                            break
                    if done >= rows:
                        break
            if done >= rows:
                break
        if done >= rows:
            break
    svc.close()


def time_saves(root: Path, repeat: int) -> dict[str, list[float]]:
    # work on a copy so the built township stays as built
    run = root.with_name(root.name + "-run")
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(root, run)
    svc = Services.open(run, today=TODAY, operator="bench")
    hs = svc.registry.households()
    extra = -(-repeat // len(hs))
    with svc.store.begin("bench.新项目") as tx:
        for j in range(extra):
            svc.programs.add(Program(code=f"NEW{j}", year=TODAY.year, name=f"新增项目{j}", unit="亩", rate_fen=10000), tx)
    out: dict[str, list[float]] = {"insert": [], "update": []}
    target = svc.applications.list(TODAY.year, "P00", hs[0].village_id)[0]
    for i in range(repeat):
        h = hs[i % len(hs)]
        t = time.perf_counter()
        svc.applications.add(h.id, f"NEW{i // len(hs)}", TODAY.year, "1.5")
        out["insert"].append(time.perf_counter() - t)
        t = time.perf_counter()
        svc.applications.edit(target.id, remark=f"第{i}次")
        out["update"].append(time.perf_counter() - t)
    svc.close()
    shutil.rmtree(run, ignore_errors=True)
    return out


def sqlite_saves(path: Path, rows: int, repeat: int) -> dict[str, list[float]]:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("CREATE TABLE app (id INTEGER PRIMARY KEY, year INT, program TEXT, village INT, household INT, quantity TEXT, amount_fen INT, remark TEXT)")
    db.execute("CREATE INDEX app_key ON app(year, program, village)")
    db.execute("CREATE UNIQUE INDEX app_hh ON app(year, program, household)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO app(year, program, village, household, quantity, amount_fen, remark) VALUES (?,?,?,?,?,?,?)",
                   ((2017 + i % 10, f"P{i // 10 % 10:02d}", i % 50, i, "1.5", 15000, "") for i in range(rows)))
    db.execute("COMMIT")
    out: dict[str, list[float]] = {"insert": [], "update": []}
    for i in range(repeat):
        t = time.perf_counter()
        db.execute("BEGIN")
        db.execute("INSERT INTO app(year, program, village, household, quantity, amount_fen, remark) VALUES (?,?,?,?,?,?,?)",
                   (2026, "P00", 1, rows + i, "1.5", 15000, ""))
        db.execute("COMMIT")
        out["insert"].append(time.perf_counter() - t)
        t = time.perf_counter()
        db.execute("BEGIN")
        db.execute("UPDATE app SET remark=? WHERE id=?", (f"第{i}次", 1))
        db.execute("COMMIT")
        out["update"].append(time.perf_counter() - t)
    db.close()
    return out


def stats(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs) * 1000, xs[min(len(xs) - 1, int(len(xs) * 0.95))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows-small", type=int, default=5_000)
    ap.add_argument("--rows-large", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=200)
    a = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = {}
    for label, rows in (("small", a.rows_small), ("large", a.rows_large)):
        root = WORK / f"save-{rows}"
        t = time.perf_counter()
        build(root, rows)
        print(f"built {rows} rows in {time.perf_counter() - t:.1f} s ({root})", file=sys.stderr)
        results[label] = (rows, time_saves(root, a.repeat), sqlite_saves(WORK / f"sqlite-{rows}.db", rows, a.repeat))
    print("| operation | rows | villageboard median / p95 (ms) | SQLite median / p95 (ms) | ratio (median) |")
    print("| --- | --- | --- | --- | --- |")
    for label in ("small", "large"):
        rows, ours, base = results[label]
        for op in ("insert", "update"):
            m, p = stats(ours[op])
            bm, bp = stats(base[op])
            print(f"| {op} | {rows:,} | {m:.2f} / {p:.2f} | {bm:.2f} / {bp:.2f} | {m / bm:.1f}× |")
    for op in ("insert", "update"):
        small = stats(results["small"][1][op])[0]
        large = stats(results["large"][1][op])[0]
        print(f"{op}: cost at {results['large'][0]:,} rows ÷ cost at {results['small'][0]:,} rows = {large / small:.2f}")


if __name__ == "__main__":
    main()
