"""A process that saves as fast as it can until it is killed.

Usage: python crash_worker.py DATA_DIR ACK_FILE SEED [CHECKPOINT_EVERY]

Each step is one transaction of a random kind: insert a record, update one, void one,
or update two records in two different files at once. After ``commit()`` returns, the
step is written (and fsynced) to ACK_FILE: anything listed there was acknowledged to
the user and must survive the kill.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from villageboard.store import Store
from villageboard.store.store import is_data_dir

FILES = [f"years/2026/applications/P{p}/{v:04d}.json" for p in range(2) for v in range(3)]


def main() -> None:
    root, ack_path, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    store = Store.open(root) if is_data_dir(root) else Store.create(root)
    if len(sys.argv) > 4:
        store.checkpoint_every = int(sys.argv[4])
    known: list[tuple[str, int]] = []
    for rel in FILES:
        for key in store.table(rel, "rows"):
            known.append((rel, int(key)))
    step = max([0] + [d.get("step", 0) for rel in FILES for d in store.table(rel, "rows").values()])
    ack = open(ack_path, "a", encoding="utf-8")
    while True:
        step += 1
        kind = rng.choice(["insert", "insert", "update", "void", "pair"]) if known else "insert"
        touched: list[tuple[str, int]] = []
        with store.begin(f"crash.{kind}") as tx:
            if kind == "insert":
                rel = rng.choice(FILES)
                key = tx.insert(rel, "rows", "row", {"step": step, "text": "𠮷张伟·" * rng.randint(1, 30)})
                touched.append((rel, key))
            elif kind in ("update", "void"):
                rel, key = rng.choice(known)
                doc = tx.current(rel, "rows", key) or {}
                doc["step"] = step
                if kind == "void":
                    doc["void"] = True
                tx.put(rel, "rows", key, doc)
                touched.append((rel, key))
            else:
                for rel, key in rng.sample(known, min(2, len(known))):
                    doc = tx.current(rel, "rows", key) or {}
                    doc["step"] = step
                    tx.put(rel, "rows", key, doc)
                    touched.append((rel, key))
        for rel, key in touched:
            if kind == "insert":
                known.append((rel, key))
        ack.write(f"{step} " + " ".join(f"{rel}#{key}" for rel, key in touched) + "\n")
        ack.flush()
        os.fsync(ack.fileno())


if __name__ == "__main__":
    main()
