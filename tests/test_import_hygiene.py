"""Start-up stays light: the command line and the services load the heavy libraries
(Textual, pinyin, PDF, Excel, fonts) only when a command uses them. Each check runs in
a fresh interpreter, so nothing another test imported counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("textual", "pypinyin", "fpdf", "openpyxl", "fontTools")

#: Imports the entry module and the services, uses the command line and services the
#: way a non-rendering command does, and prints the heavy packages loaded at each step.
SCRIPT = """
import contextlib, io, json, sys
HEAVY = %r
def loaded():
    return sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
steps = {}
import villageboard.cli.main as cli
import villageboard.services
steps["import"] = loaded()
with contextlib.redirect_stdout(io.StringIO()):
    try:
        cli.main(["--help"])
    except SystemExit:
        pass
steps["help"] = loaded()
data = sys.argv[1]
init = ["--data-dir", data, "init", "--township", "岳阳镇", "--county", "古县", "--code", "141025",
        "--hotline", "0357-3212345"]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    codes = [cli.main(init), cli.main(["--data-dir", data, "program", "list"]),
             cli.main(["--data-dir", data, "household", "list"]), cli.main(["--data-dir", data, "check"])]
steps["commands"] = loaded()
steps["codes"] = codes
from villageboard.services import Services
with Services.open(data) as svc:
    svc.registry.households()
    svc.programs.list(svc.today().year)
    steps["services"] = loaded()
    svc.phone.ensure_ready()
    svc.phone.lookup("张伟")
    steps["lookup"] = loaded()
with contextlib.redirect_stdout(io.StringIO()):
    codes.append(cli.main(["--data-dir", data, "templates", "--out", sys.argv[2]]))
steps["templates"] = loaded()
print(json.dumps(steps))
"""


def run_steps(tmp_path: Path) -> dict[str, list[str]]:
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT % (HEAVY,), str(tmp_path / "data"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "VILLAGEBOARD_HOME": str(tmp_path / "home"),
            "HOME": str(tmp_path),
        },
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_cli_and_the_services_load_no_heavy_library_until_used(tmp_path: Path) -> None:
    steps = run_steps(tmp_path)
    assert steps["codes"] == [0, 0, 0, 0, 0]
    for step in ("import", "help", "commands", "services"):
        assert steps[step] == [], step
    # the check sees a library once it is used: a search in Chinese reads pinyin, the
    # blank import workbooks are written with openpyxl
    assert steps["lookup"] == ["pypinyin"]
    assert "openpyxl" in steps["templates"] and "textual" not in steps["templates"]
