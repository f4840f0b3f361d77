"""How tests/data/township-format2.zip was made: a small township written by the
program at data format 2 (every journal segment a plain ``NNNNNN.jsonl``), kept so that
the upgrade of a real folder of that format is tested on every run.

It was made with the program as it stood at format 2 (git commit deb308a)::

    PYTHONPATH=. python tests/make_format2_township.py tests/data/township-format2.zip

Segments roll over at 16 KB instead of 4 MB, so the small journal still has several
sealed segments. The demo's own work (villages, households, applications, review and
payouts, posted notices with their photos) is followed by a few single saves.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import zipfile
from pathlib import Path

TODAY = dt.date(2026, 11, 28)


def make(out: Path) -> None:
    os.environ["VILLAGEBOARD_TODAY"] = TODAY.isoformat()
    os.environ["VILLAGEBOARD_AUTO_BACKUP"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VILLAGEBOARD_HOME"] = str(Path(tmp, "home"))
        os.environ["VILLAGEBOARD_CACHE"] = str(Path(tmp, "cache"))
        from villageboard.services.demo import build_demo
        from villageboard.store import journal

        journal.SEGMENT_BYTES = 16 * 1024
        root = Path(tmp, "data")
        svc = build_demo(root, households=24, villages=3, seed=5, today=TODAY)
        try:
            for h in svc.registry.households()[:6]:
                svc.registry.update_household(h.id, {"phone": f"1390000{h.id:04d}"})
        finally:
            svc.close()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for p in sorted(root.rglob("*")):
                rel = p.relative_to(root).as_posix()
                if p.is_file() and not rel.startswith("."):
                    zf.write(p, rel)


if __name__ == "__main__":
    make(Path(sys.argv[1]))
