"""The round-two rows of the benchmark that are not about one save or one start:
`villageboard check`, the data dir's size, and refusing a 50,000-row sheet whose last
row is bad. Each beside its baseline, measured in the same run.

    .venv/bin/python bench/bench_upkeep.py            # reference township (bench/work/)
    .venv/bin/python bench/bench_upkeep.py --quick    # 1/20 scale
    .venv/bin/python bench/bench_upkeep.py --only sheet --profile   # cProfile of the refusal

How:

- ``check``: ``villageboard --data-dir REF check`` in a subprocess, wall time and its
  peak RSS (``ru_maxrss`` of that child), median of 2. Baselines: SQLite's
  ``PRAGMA integrity_check`` on the same rows (the SQLite twin, which holds no history),
  and the floor of reading every byte of the data dir once through SHA-256.
- data dir: the bytes of every file under the reference data dir (the journal apart).
  Baseline: the SQLite twin's file (the same rows, indexed, but without any history).
- the sheet: next year's applications of the reference households (the reference
  take-up of the ten programs: ≈ 50,000 rows, one year), as a clerk's xlsx (title row,
  shared strings), whose last row asks for more than the program allows.
  ``villageboard import applications`` on a hard-linked clone of the reference township
  (next year's programs added), subprocess wall time until it refuses, median of 3.
  Baselines: reading the sheet alone (``read_table``, in process), and SQLite inserting
  the same rows into its indexed application table in one transaction that a
  ``CHECK`` on the last row rolls back.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import reference as ref  # noqa: E402

NEXT_YEAR = ref.TODAY.year + 1
SHEET_VERSION = 1  # bump when the sheet's generator changes


#: Runs the command line in a child and prints its peak RSS (VmHWM) last, to stderr: the
#: child's ``ru_maxrss`` would count the parent's memory at the fork.
_HWM = (
    "import atexit, sys\n"
    "def hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            print('VMHWM', int(line.split()[1]) / 1024, file=sys.stderr, flush=True)\n"
    "atexit.register(hwm)\n"
)
CLI = _HWM + "from villageboard.cli.main import main\nsys.argv[0] = 'villageboard'\nsys.exit(main())\n"


def _run_child(
    args: list[str], env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[float, float, int, str]:
    """(wall s, peak RSS MB, exit code, output) of ``python -c CODE args``, where CODE
    starts with ``_HWM`` (run in ``cwd``: the folder a ``-c`` program imports from first)."""
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", *args], capture_output=True, env=env, cwd=cwd, check=False)
    wall = time.perf_counter() - t
    err = r.stderr.decode("utf-8", "replace")
    hwm = [float(ln.split()[1]) for ln in err.splitlines() if ln.startswith("VMHWM ")]
    text = r.stdout.decode("utf-8", "replace") + err
    return wall, (hwm[-1] if hwm else float("nan")), r.returncode, text


def _du(root: Path) -> tuple[int, int]:
    total = journal = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            n = os.path.getsize(os.path.join(dirpath, f))
            total += n
            if Path(dirpath).name == "journal":
                journal += n
    return total, journal


# --------------------------------------------------------------------------- check


def bench_check(scale: ref.Scale, work: Path, runs: int = 2) -> dict[str, Any]:
    root, _info, _ = ref.ensure(scale, work)
    twin = ref.ensure_sqlite(root, scale, work)
    out: dict[str, Any] = {"wall": [], "rss_mb": []}
    for _ in range(runs):
        wall, rss, rc, text = _run_child([CLI, "--data-dir", str(root), "check"])
        if rc != 0:
            raise RuntimeError(f"check failed ({rc}):\n{text[-3000:]}")
        out["wall"].append(wall)
        out["rss_mb"].append(rss)
        out["said"] = next((ln for ln in reversed(text.splitlines()) if ln.strip() and not ln.startswith("VMHWM")), "")
    # SQLite: the whole database's integrity, in a fresh process (cold as ours)
    code = (
        _HWM + "import sqlite3\ndb = sqlite3.connect(sys.argv[1])\n"
        "r = db.execute('PRAGMA integrity_check').fetchall()\nassert r == [('ok',)], r\n"
    )
    out["sqlite_wall"], out["sqlite_rss_mb"], rc, text = _run_child([code, str(twin)])
    if rc != 0:
        raise RuntimeError(f"integrity_check failed:\n{text}")
    out["sqlite_bytes"] = twin.stat().st_size
    # the floor: every byte of the data dir read once through SHA-256 (one thread)
    t = time.perf_counter()
    n = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                data = fh.read()
            n += len(data)
            hashlib.sha256(data).digest()
    out["hash_all_s"] = time.perf_counter() - t
    out["hash_all_bytes"] = n
    ref.say(
        f"  check {statistics.median(out['wall']):.1f} s, {max(out['rss_mb']):.0f} MB; "
        f"SQLite integrity_check {out['sqlite_wall']:.1f} s; hash of every byte {out['hash_all_s']:.1f} s"
    )
    return out


def bench_disk(scale: ref.Scale, work: Path) -> dict[str, Any]:
    root, _info, _ = ref.ensure(scale, work)
    twin = ref.ensure_sqlite(root, scale, work)
    total, journal = _du(root)
    return {"bytes": total, "journal_bytes": journal, "sqlite_bytes": twin.stat().st_size}


# --------------------------------------------------------------------------- the sheet


def sheet_rows(scale: ref.Scale) -> list[list[Any]]:
    """Next year's applications of the reference households: village, group, name, ID,
    program, year, quantity; the last row asks for more than its program allows."""
    rng = random.Random(ref.SEED + NEXT_YEAR)
    people = ref.sheet_rows(scale)  # 序号, 村, 组, 姓名, 身份证, 电话, 卡号, 银行, 备注
    out: list[list[Any]] = []
    for _code, name, unit, _rate, _maxq, share, qrange in ref.PROGRAMS:
        for p in people:
            if share < 1.0 and rng.random() >= share:
                continue
            q = ref._quantity(rng, qrange, unit)
            out.append([p[1], p[2], p[3], p[4], name, NEXT_YEAR, str(q)])
    last = out[-1]
    maxq = next(m for c, n, _u, _r, m, _s, _q in ref.PROGRAMS if n == last[4])
    last[6] = str(maxq * 10)
    return out


def write_sheet(path: Path, rows: list[list[Any]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "申报"
    ws.append([f"岳阳镇{NEXT_YEAR}年补贴申报汇总表"])
    ws.append(["村", "组", "户主姓名", "身份证号码", "补贴项目", "年度", "数量"])
    for r in rows:
        ws.append(r)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    os.replace(tmp, path)


def ensure_sheet(scale: ref.Scale, work: Path) -> tuple[Path, int]:
    """The sheet, cached under ``work`` (writing it takes a while)."""
    path = work / scale.name / f"applications-{NEXT_YEAR}-last-row-bad.xlsx"
    marker = path.with_suffix(".json")
    want = {"version": SHEET_VERSION, "seed": ref.SEED, "scale": scale.name}
    if path.is_file() and marker.is_file():
        got = json.loads(marker.read_text("utf-8"))
        if {k: got.get(k) for k in want} == want:
            return path, int(got["rows"])
    rows = sheet_rows(scale)
    ref.say(f"  writing a {len(rows):,}-row application sheet (once)…")
    write_sheet(path, rows)
    marker.write_text(json.dumps({**want, "rows": len(rows)}), "utf-8")
    return path, len(rows)


def _next_year_clone(scale: ref.Scale, work: Path) -> Path:
    """A hard-linked clone of the reference township with next year's programs."""
    from villageboard.services import Services

    root, _info, _ = ref.ensure(scale, work)
    clone = work / scale.name / "sheet-clone" / "data"
    ref.clone(root, clone)
    svc = Services.open(clone, today=ref.TODAY, operator="基准", run_open_hooks=False)
    try:
        with svc.store.begin("基准.下一年项目") as tx:
            for code, name, unit, rate, maxq, _s, _q in ref.PROGRAMS:
                svc.programs.add(ref._program(code, name, unit, rate, maxq, NEXT_YEAR), tx)
    finally:
        svc.close()
    return clone


def _sqlite_refusal(twin: Path, rows: list[list[Any]]) -> float:
    """The same rows into SQLite's indexed application table, one transaction, the
    last row refused by a CHECK (quantity within the program's maximum): rolled back."""
    maxq = {n: m for _c, n, _u, _r, m, _s, _q in ref.PROGRAMS}
    code = {n: c for c, n, _u, _r, _m, _s, _q in ref.PROGRAMS}
    db = sqlite3.connect(twin, isolation_level=None)
    try:
        ids = dict(db.execute("SELECT id_number, id FROM household"))
        t = time.perf_counter()
        db.execute("BEGIN")
        db.execute("CREATE TEMP TABLE limits (program TEXT PRIMARY KEY, maxq REAL)")
        db.executemany("INSERT INTO limits VALUES (?, ?)", [(code[n], m) for n, m in maxq.items()])
        try:
            for i, r in enumerate(rows):
                hid = ids[r[3]]
                db.execute(
                    "INSERT INTO app (id, year, program, village, household, quantity, amount_fen, status) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (f"{NEXT_YEAR}-{i + 1:06d}", r[5], code[r[4]], 0, hid, r[6], 0, "applied"),
                )
                ok = db.execute(
                    "SELECT CAST(? AS REAL) <= maxq FROM limits WHERE program = ?", (r[6], code[r[4]])
                ).fetchone()[0]
                if not ok:
                    raise ValueError(i)
            raise AssertionError("the last row was not refused")
        except ValueError:
            db.execute("ROLLBACK")
        return time.perf_counter() - t
    finally:
        db.close()


def bench_sheet(scale: ref.Scale, work: Path, runs: int = 3, profile: bool = False) -> dict[str, Any]:
    from villageboard.io.headers import APPLICATION_FIELDS
    from villageboard.io.tables import read_table

    sheet, n = ensure_sheet(scale, work)
    root, _info, _ = ref.ensure(scale, work)
    twin = ref.ensure_sqlite(root, scale, work)
    clone = _next_year_clone(scale, work)
    out: dict[str, Any] = {"rows": n, "wall": [], "read": [], "sqlite": []}
    try:
        for _ in range(runs):
            wall, rss, rc, text = _run_child([CLI, "--data-dir", str(clone), "import", "applications", str(sheet)])
            if rc == 0:
                raise RuntimeError(f"the bad sheet was imported:\n{text[-2000:]}")
            out["wall"].append(wall)
            out["rss_mb"] = max(out.get("rss_mb", 0.0), rss)
            out["said"] = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("VMHWM")][:3]
            t = time.perf_counter()
            got = read_table(sheet, APPLICATION_FIELDS)
            out["read"].append(time.perf_counter() - t)
            assert len(got.rows) == n, (len(got.rows), n)
            out["sqlite"].append(_sqlite_refusal(twin, sheet_rows(scale)))
        if profile:
            out["profile"] = profile_sheet(clone, sheet)
    finally:
        shutil.rmtree(clone.parent, ignore_errors=True)
    ref.say(
        f"  {n:,}-row sheet refused in {statistics.median(out['wall']):.1f} s "
        f"(reading it {statistics.median(out['read']):.1f} s, SQLite {statistics.median(out['sqlite']):.2f} s)"
    )
    return out


def profile_sheet(clone: Path, sheet: Path) -> list[str]:
    from villageboard.domain.errors import VBError
    from villageboard.services import Services

    svc = Services.open(clone, today=ref.TODAY, operator="基准", run_open_hooks=False)
    prof = cProfile.Profile()
    try:
        prof.enable()
        try:
            svc.transfer.import_applications(sheet)
        except VBError:
            pass
        prof.disable()
    finally:
        svc.close()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("cumulative").print_stats(40)
    st.sort_stats("tottime").print_stats(25)
    return buf.getvalue().splitlines()


# --------------------------------------------------------------------------- rows


def _s(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def rows(d: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """(operation, target, ours, baseline, ratio, verdict) for RESULTS.md."""
    out = []
    med = statistics.median
    if "check" in d:
        c = d["check"]
        w, rss = med(c["wall"]), max(c["rss_mb"])
        out.append(
            (
                "`villageboard check` (whole chain, every record against it, the register's rules; "
                f"subprocess, median of {len(c['wall'])})",
                "≤ 20 s",
                f"{_s(w)}, peak RSS {rss:.0f} MB",
                f"SQLite `PRAGMA integrity_check` {_s(c['sqlite_wall'])} ({c['sqlite_bytes'] / 1e6:,.0f} MB, "
                f"no history), {c['sqlite_rss_mb']:.0f} MB; reading and SHA-256 of every byte of the data dir "
                f"{_s(c['hash_all_s'])}",
                f"{w / c['sqlite_wall']:.1f}× SQLite",
                "met" if w <= 20 else "missed",
            )
        )
    if "disk" in d:
        k = d["disk"]
        out.append(
            (
                "data dir on disk (complete verifiable history kept)",
                "≤ 600 MB",
                f"{k['bytes'] / 1e6:,.0f} MB, of which the journal {k['journal_bytes'] / 1e6:,.0f} MB",
                f"SQLite, the same rows without any history {k['sqlite_bytes'] / 1e6:,.0f} MB",
                f"{k['bytes'] / k['sqlite_bytes']:.1f}×",
                "met" if k["bytes"] <= 600e6 else "missed",
            )
        )
    if "sheet" in d:
        s = d["sheet"]
        w = med(s["wall"])
        out.append(
            (
                f"refuse a {s['rows']:,}-row application sheet whose last row is bad (`import applications`, "
                f"subprocess, median of {len(s['wall'])})",
                "≤ 5 s",
                f"{_s(w)} (peak RSS {s['rss_mb']:.0f} MB)",
                f"reading the sheet alone {_s(med(s['read']))}; SQLite inserting the rows in one transaction, "
                f"rolled back at the last {_s(med(s['sqlite']))}",
                f"{w / med(s['sqlite']):.1f}× SQLite",
                "met" if w <= 5 else "missed",
            )
        )
    return out


def bench_all(scale: ref.Scale, work: Path, quick: bool = False, only: str = "") -> dict[str, Any]:
    d: dict[str, Any] = {}
    if only in ("", "disk"):
        d["disk"] = bench_disk(scale, work)
    if only in ("", "sheet"):
        d["sheet"] = bench_sheet(scale, work, runs=1 if quick else 3)
    if only in ("", "check"):
        d["check"] = bench_check(scale, work, runs=1 if quick else 2)
    return d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--work", type=Path, default=ref.WORK)
    ap.add_argument("--only", choices=("check", "disk", "sheet"), default="")
    ap.add_argument("--profile", action="store_true", help="with --only sheet: cProfile of one refusal")
    ap.add_argument("--runs", type=int, default=0)
    args = ap.parse_args()
    work = args.work.resolve()
    ref.setup_env(work)
    scale = ref.QUICK if args.quick else ref.FULL
    d: dict[str, Any] = {}
    if args.only == "sheet":
        d["sheet"] = bench_sheet(scale, work, runs=args.runs or 1, profile=args.profile)
        print("\n".join(d["sheet"].pop("profile", [])))
    elif args.only == "check":
        d["check"] = bench_check(scale, work, runs=args.runs or 1)
    else:
        d = bench_all(scale, work, args.quick, args.only)
    print(json.dumps(d, ensure_ascii=False, default=str))
    for r in rows(d):
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
