"""Send a finished poster to the printer: `lp` where CUPS is installed, the Windows
shell's "print" verb on Windows; otherwise tell the clerk where the file is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def printer_available() -> bool:
    return shutil.which("lp") is not None or sys.platform == "win32"


def print_file(path: Path) -> str:
    """Print ``path`` and say what happened, in one sentence. Never raises."""
    lp = shutil.which("lp")
    if lp is not None:
        try:
            done = subprocess.run([lp, str(path)], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"打印没有成功（{exc}）。文件在：{path}"
        if done.returncode == 0:
            return f"已送到打印机：{path.name}"
        why = (done.stderr or done.stdout).strip().splitlines()[:1]
        return f"打印没有成功（{why[0] if why else '打印机没有响应'}）。文件在：{path}"
    if sys.platform == "win32":
        try:
            os.startfile(str(path), "print")  # type: ignore[attr-defined]
        except OSError as exc:
            return f"打印没有成功（{exc}）。文件在：{path}"
        return f"已送到打印机：{path.name}"
    return f"这台电脑没有可用的打印命令，请用其他程序打开文件打印：{path}"
