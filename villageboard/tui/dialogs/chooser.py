"""Choose a folder (where a backup goes) or a backup file (what to restore) from a
tree of folders, in plain Chinese.

The tree shows folders only, or folders and ``.zip`` files. The box at the top holds
the place shown: type or paste a folder there and press Enter to go to it. In the
tree, Enter opens a folder; on a file it chooses it. The highlighted folder is the
one 选这个文件夹 chooses (Ctrl+S too). Esc cancels.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Static

from villageboard.tui.text import display_path


class FolderTree(DirectoryTree):
    """A DirectoryTree of folders (and, when ``suffix`` is given, files ending in it);
    hidden entries are left out."""

    def __init__(self, path: Path, suffix: str = "", id: str | None = None) -> None:
        super().__init__(path, id=id)
        self.suffix = suffix.lower()

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for p in paths:
            if p.name.startswith("."):
                continue
            try:
                if p.is_dir() or (self.suffix and p.is_file() and p.name.lower().endswith(self.suffix)):
                    out.append(p)
            except OSError:
                continue
        return out


class PathChooser(ModalScreen[Path | None]):
    """Returns the chosen folder (``files=False``) or ``.zip`` file (``files=True``)."""

    DEFAULT_CSS = """
    PathChooser .chooser { height: 80%; }
    PathChooser #chooser-tree { height: 1fr; border: round $primary-lighten-2; }
    PathChooser #chooser-place { margin-bottom: 1; }
    PathChooser #chooser-chosen { height: auto; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "取消", id="chooser-cancel", tooltip="不选了，关闭这个窗口"),
        Binding("ctrl+s", "choose", "选定", id="chooser-choose", tooltip="选定高亮的文件夹或文件"),
        Binding("backspace", "up", "上一级", show=False, id="chooser-up", tooltip="到上一级文件夹"),
    ]

    def __init__(self, title: str, start: Path, files: bool = False, note: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.files = files
        self.note = note
        start = Path(start).expanduser()
        while not start.is_dir() and start.parent != start:
            start = start.parent
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide chooser"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Static(self.note, classes="dialog-message", markup=False)
            yield Input(str(self.start), placeholder="文件夹的完整路径，回车前往", id="chooser-place", compact=True)
            yield FolderTree(self.start, suffix=".zip" if self.files else "", id="chooser-tree")
            yield Static("", id="chooser-chosen", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("选这个文件" if self.files else "选这个文件夹", id="choose", variant="primary")
                yield Button("上一级", id="up")
                yield Button("取消", id="cancel")
            hint = ("↑↓ 移动，回车打开文件夹或选定备份文件；Backspace 上一级；Esc 取消" if self.files
                    else "↑↓ 移动，回车打开文件夹；Ctrl+S 或“选这个文件夹”选定高亮的文件夹；Esc 取消")
            yield Static(hint, classes="hint")

    def on_mount(self) -> None:
        self.query_one(FolderTree).focus()
        self._show_chosen()

    # -- where we are ---------------------------------------------------------------
    @property
    def tree(self) -> FolderTree:  # type: ignore[override]  # shadows DOMNode.tree (a debugging view)
        return self.query_one(FolderTree)

    def highlighted(self) -> Path:
        node = self.tree.cursor_node
        if node is not None and node.data is not None:
            return Path(node.data.path)
        return Path(self.tree.path)

    def _show_chosen(self) -> None:
        p = self.highlighted()
        if self.files:
            text = f"已选：{display_path(p)}" if p.is_file() else "请选一个备份文件（.zip）"
        else:
            text = f"已选：{display_path(p)}" if p.is_dir() else ""
        self.query_one("#chooser-chosen", Static).update(text)

    def go(self, folder: Path) -> None:
        self.tree.path = folder
        self.query_one("#chooser-place", Input).value = str(folder)
        self.call_after_refresh(self._show_chosen)

    # -- events -----------------------------------------------------------------------
    def on_tree_node_highlighted(self, event: DirectoryTree.NodeHighlighted) -> None:
        event.stop()
        self._show_chosen()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if self.files:
            self.dismiss(Path(event.path))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        p = Path(text).expanduser()
        if self.files and p.is_file() and p.name.lower().endswith(".zip"):
            self.dismiss(p)
            return
        if not p.is_dir():
            self.query_one("#chooser-chosen", Static).update(f"没有这个文件夹：{text}")
            self.app.bell()
            return
        self.go(p)
        self.tree.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "choose":
            self.action_choose()
        elif event.button.id == "up":
            self.action_up()
        else:
            self.dismiss(None)

    def action_up(self) -> None:
        here = Path(self.tree.path)
        if here.parent != here:
            self.go(here.parent)

    def action_choose(self) -> None:
        p = self.highlighted()
        if self.files:
            if p.is_file():
                self.dismiss(p)
                return
            self.query_one("#chooser-chosen", Static).update("请选一个备份文件（.zip），不是文件夹")
            self.app.bell()
            return
        if not p.is_dir():
            p = p.parent
        self.dismiss(p)

    def action_cancel(self) -> None:
        self.dismiss(None)
