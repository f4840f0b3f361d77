"""The layer contracts in pyproject.toml ([tool.importlinter]), checked by import-linter
on the whole import graph, imports inside functions included: domain -> store / io /
render -> services -> cli / tui, only the TUI imports Textual, only the store uses the
database library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUN = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def test_the_import_contracts_are_kept() -> None:
    r = subprocess.run(
        [sys.executable, "-c", RUN],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout
