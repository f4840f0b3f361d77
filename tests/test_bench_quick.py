"""The benchmark must not rot: run ``bench/run.py --quick`` once, end to end.

No timing is asserted here (DESIGN.md §8: timings live in bench/, never in tests); the
test only checks that every measurement ran and the results table was written. It
builds a 1/20-scale township in a temp dir and takes about a minute, so it is one of the
slow runs (``pytest -m slow``, which CI runs). The PDF baseline is the plain-Pillow one,
as on a fresh install without WeasyPrint.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_quick_runs_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "out" / "RESULTS.md"
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
            "--pdf-baseline",
            "pillow",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    text = out.read_text("utf-8")
    assert "| operation | target | villageboard | baseline (same run) | ratio | result |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    for what in ("one save", "phone lookup", "CLI start", "app start", "PDF", "PNG", "import", "memory"):
        assert any(what in line for line in rows), what
    assert out.with_suffix(".json").is_file()
