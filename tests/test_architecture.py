"""Layering rules of DESIGN.md §3, checked on the source: only the TUI imports Textual,
only the store opens database files, and nothing is opened at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "villageboard"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def modules(exclude: str) -> list[Path]:
    return [p for p in PKG.rglob("*.py") if exclude not in p.relative_to(PKG).parts]


def test_only_the_tui_imports_textual() -> None:
    bad = [p for p in modules("tui") if any(m == "textual" or m.startswith("textual.") for m in imports(p))]
    assert bad == []


def test_only_the_store_uses_tinydb_and_the_storage_layer() -> None:
    bad = []
    for p in modules("store"):
        for m in imports(p):
            if (
                m == "tinydb"
                or m.startswith("tinydb.")
                or m in ("villageboard.store.storage", "villageboard.store.journal")
            ):
                bad.append((p.relative_to(PKG).as_posix(), m))
    assert bad == []


def test_importing_the_package_opens_nothing(tmp_path: Path) -> None:
    """Importing every module must not create a data dir or open a database."""
    code = (
        "import importlib, pkgutil, os, villageboard\n"
        "for m in pkgutil.walk_packages(villageboard.__path__, 'villageboard.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "print(os.listdir(os.environ['VILLAGEBOARD_HOME']))\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {"VILLAGEBOARD_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PKG.parent)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
