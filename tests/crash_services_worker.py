"""Mixed real saves through the services until killed.

Usage: python crash_services_worker.py DATA_DIR ACK_FILE SEED TODAY

Each step is one save a clerk makes: add an application, edit one, void one, edit a
household, or create and post a notice. After the call returns, a line describing it
is appended (and fsynced) to ACK_FILE.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

from villageboard.domain.errors import VBError
from villageboard.services import Services


def main() -> None:
    root, ack_path, seed, today = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        int(sys.argv[3]),
        dt.date.fromisoformat(sys.argv[4]),
    )
    rng = random.Random(seed)
    svc = Services.open(root, today=today, operator="压力测试")
    year = today.year
    ack = open(ack_path, "a", encoding="utf-8")
    households = svc.registry.households()
    programs = [p.code for p in svc.programs.list(year)]
    villages = svc.registry.villages()

    def done(line: str) -> None:
        ack.write(line + "\n")
        ack.flush()
        os.fsync(ack.fileno())

    while True:
        step = time.time_ns()  # grows across trials, so later saves compare as newer
        op = rng.choice(["add", "add", "edit", "edit", "void", "household", "notice"])
        try:
            if op == "add":
                h = rng.choice(households)
                code = rng.choice(programs)
                if svc.applications.existing(year, h.id, code) is not None:
                    continue
                a = svc.applications.add(
                    h.id,
                    code,
                    year,
                    f"{rng.randint(1, 300)}.{rng.randint(0, 99):02d}" if code != "NJGZ" else "1",
                    remark=f"s{step}",
                )
                done(f"app {a.id} s{step}")
            elif op in ("edit", "void"):
                apps = svc.applications.list(year, rng.choice(programs), rng.choice(villages).id)
                apps = [a for a in apps if not a.frozen_by and a.payout_status == ""]
                if not apps:
                    continue
                a = rng.choice(apps)
                if op == "edit":
                    svc.applications.edit(a.id, remark=f"s{step}")
                    done(f"app {a.id} s{step}")
                else:
                    svc.applications.void(a.id, f"s{step} 重复申报")
                    done(f"void {a.id}")
            elif op == "household":
                h = rng.choice(households)
                svc.registry.update_household(h.id, {"remark": f"s{step}"})
                done(f"household {h.id} s{step}")
            else:
                v = rng.choice(villages)
                code = rng.choice(["STGY", "NJGZ", "ZLYC", "GDDL"])
                n = svc.notices.create("application", year, v.id, code)
                done(f"draft {n.code}")
                n = svc.notices.post(n.code)
                done(f"posted {n.code} {n.tag}")
        except VBError:
            continue


if __name__ == "__main__":
    main()
