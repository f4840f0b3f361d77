"""The output-folder box used wherever files are written (posters, bank sheets); the
form offers the folder chooser for it (Ctrl+O)."""

from __future__ import annotations

from pathlib import Path

from villageboard.tui.dialogs.form import FormField
from villageboard.tui.text import default_output_dir


def _folder_problem(text: str) -> str:
    p = Path(text).expanduser()
    if p.exists() and not p.is_dir():
        return "这是一个文件，不是文件夹"
    return ""


def folder_field(current: Path | None, label: str = "保存到文件夹") -> FormField:
    folder = current or default_output_dir()
    return FormField(
        "folder",
        label,
        str(folder),
        placeholder="按 Ctrl+O 选择文件夹（写上的没有会自动建立）",
        required=True,
        check=_folder_problem,
        kind="folder",
    )


def folder_of(values: dict[str, object]) -> Path:
    return Path(str(values["folder"])).expanduser()
