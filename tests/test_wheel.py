"""The wheel is the product: built from a copy of the source tree, installed without -e
into a fresh venv, and run from a folder outside the checkout, it makes the demo
township, prints a posted notice and writes the blank import sheets.

The fresh venv has no pip and no site packages of its own; the third-party libraries
come from the running interpreter's site-packages, listed *after* the venv's own in a
``.pth`` file, so the only ``villageboard`` the venv can import is the installed wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from villageboard.io.templates import write_blank_templates

SOURCE = Path(__file__).resolve().parents[1]
SHIPPED_TEMPLATES = {p.name for p in (SOURCE / "templates").glob("*.j2")}
SHIPPED_DATA = {p.name for p in (SOURCE / "data").glob("*.xlsx")}


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{args}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r.stdout


def _build_wheel(tmp: Path) -> Path:
    """Build from a copy, so that the checkout gets no build/ or egg-info."""
    src = tmp / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".*")
    for name in ("villageboard", "templates", "data"):
        shutil.copytree(SOURCE / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(SOURCE / name, src / name)
    dist = tmp / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(dist),
            str(src),
        ],
        cwd=tmp,
    )
    (wheel,) = dist.glob("villageboard-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        cwd=tmp,
    )
    own = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).strip())
    # the libraries the kit needs, after the venv's own site-packages (a .pth line appends)
    (own / "zz_libraries.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return venv


@pytest.mark.slow  # builds the wheel and a venv: it runs with the slow set, which CI runs
def test_installed_wheel_makes_the_demo_prints_a_notice_and_writes_blank_sheets(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {
        p.parent.relative_to(SOURCE).as_posix()
        for p in (SOURCE / "villageboard").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert {f"{p}/__init__.py" for p in packages} <= names, "a package is missing from the wheel"
    assert {f"villageboard/templates/{n}" for n in SHIPPED_TEMPLATES} <= names
    assert {f"villageboard/data/{n}" for n in SHIPPED_DATA} <= names

    venv = _fresh_venv(tmp_path, wheel)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    imported = _run(
        [str(venv / "bin" / "python"), "-c", "import villageboard; print(villageboard.__file__)"], cwd=outside, env=env
    )
    assert Path(imported.strip()).is_relative_to(venv), imported
    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from villageboard.locations import shipped; print(shipped('templates')); print(shipped('data'))",
        ],
        cwd=outside,
        env=env,
    ).split("\n")
    templates, data = Path(where[0]), Path(where[1])
    assert templates.is_relative_to(venv) and data.is_relative_to(venv), where
    assert {p.name for p in templates.iterdir()} >= SHIPPED_TEMPLATES

    vb = [str(venv / "bin" / "villageboard"), "--data-dir", str(outside / "乡镇")]
    _run([*vb, "demo", "--households", "40", "--villages", "2", "--seed", "3"], cwd=outside, env=env)
    rows = json.loads(_run([*vb, "notice", "list", "--state", "posted", "--json"], cwd=outside, env=env))
    assert rows, "the demo township has no posted notice"
    code = rows[0]["code"]
    _run([*vb, "notice", "render", code, "--out", str(outside / "张贴"), "--format", "pdf"], cwd=outside, env=env)
    pdfs = list((outside / "张贴").glob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF-")
    assert pdfs[0].stat().st_size > 10_000

    _run([*vb, "templates", "--out", str(outside / "模板")], cwd=outside, env=env)
    written = sorted((outside / "模板").glob("*.xlsx"))
    expected = write_blank_templates(tmp_path / "expected")
    assert [p.name for p in written] == sorted(p.name for p in expected)
    assert sorted(p.name for p in data.glob("*.xlsx")) == [p.name for p in written]
    for got in written:
        want = _cells(tmp_path / "expected" / got.name)
        assert _cells(got)[0] == want[0]  # the same columns (the demo's copy also lists its villages)
        assert _cells(data / got.name) == want, f"the installed data/{got.name} is not what the program writes"


def _cells(path: Path) -> list[list[object]]:
    wb = openpyxl.load_workbook(path)
    return [[c.value for c in row] for ws in wb.worksheets for row in ws.iter_rows()]
