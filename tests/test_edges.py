"""The edges of ordinary use: a reader that stops early, long names, far dates, the
portal address, control characters."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import TODAY
from tests.test_cli_core import vb


def piped_into_head(data: Path, *args: str) -> tuple[int, str, str]:
    """Run a command with its output piped into ``head -1`` that has already read its one
    line and gone: every write the command makes meets a closed pipe. Returns the
    command's own exit status, what head printed and the command's stderr."""
    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "villageboard", "--data-dir", str(data), *args])
    script = f'(echo 第一行; {cmd} 2>"$ERR") | head -1; exit "${{PIPESTATUS[0]}}"'
    err = data.parent / "stderr.txt"
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat(), ERR=str(err))
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300, env=env)
    return r.returncode, r.stdout, err.read_text(encoding="utf-8")


@pytest.mark.skipif(os.name != "posix", reason="a shell pipe")
def test_a_broken_pipe_ends_quietly_and_the_bank_batch_is_whole(demo_dir: Path, tmp_path: Path) -> None:
    rc, shown, err = piped_into_head(demo_dir, "notice", "list")
    assert (rc, shown) == (0, "第一行\n") and "程序内部出错" not in err and "Traceback" not in err
    rc, shown, err = piped_into_head(demo_dir, "--help")
    assert (rc, err) == (0, "")

    bank = tmp_path / "银行.xlsx"
    rc, shown, err = piped_into_head(demo_dir, "export", "bank", "--program", "STGY", "--year", "2026", "--out", str(bank))
    assert rc == 0 and "程序内部出错" not in err and "Traceback" not in err
    rows = [r for r in load_workbook(bank).active.iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)]
    listed = json.loads(vb("application", "list", "--year", "2026", "--program", "STGY", "--json", data=demo_dir).stdout)
    batch = {r[10] for r in rows}
    assert len(batch) == 1
    sent = {a["id"] for a in listed if a["attempts"] and a["attempts"][-1]["batch"] in batch}
    assert rows and {r[1] for r in rows} == sent  # every row on the sheet is on record as sent, and only those
    again = vb("export", "bank", "--program", "STGY", "--year", "2026", "--out", str(tmp_path / "再.xlsx"), data=demo_dir)
    assert again.returncode == 1 and "没有可以发放" in again.stderr
    assert vb("check", data=demo_dir).returncode == 0

    # a failing command keeps its failing status when its reader is gone
    rc, shown, err = piped_into_head(demo_dir, "notice", "render", "NOPE-1", "--out", str(tmp_path))
    assert rc == 1 and "Traceback" not in err
