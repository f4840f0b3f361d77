"""Choose a folder (where a backup, a poster or a bank sheet goes) or a file (a sheet
to import, a backup to restore) without typing its path, in plain Chinese.

On the left, places to start from: the folders used last time, the USB sticks the
system has mounted (listed afresh each time), the home folder and the desktop. On the
right, a tree of folders, and of the files that may be chosen (only those endings).
The box at the top holds the place shown: type or paste a folder (or a file) there
and press Enter to go to it. In the tree, Enter opens a folder and, on a file,
chooses it. The highlighted folder is the one 选这个文件夹 chooses (Ctrl+S too).
Backspace goes up a folder; Esc cancels. What was chosen is remembered as a recent
folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, OptionList, Static
from textual.widgets.directory_tree import DirEntry
from textual.widgets.option_list import Option

from villageboard.tui.recent import recent_folders, remember_folder
from villageboard.tui.text import display_path
from villageboard.tui.widgets.prose import Prose, broken

#: What each kind of file the app reads is called, for the chooser's messages.
SHEETS = (".xlsx", ".xlsm", ".csv", ".txt")


def _kind_words(suffixes: Sequence[str]) -> str:
    if tuple(suffixes) == (".zip",):
        return "备份文件（.zip）"
    return "表格文件（" + "、".join(suffixes) + "）"


def places() -> list[tuple[str, Path]]:
    """(label, folder) to start from: recent folders, USB sticks, home, desktop."""
    from villageboard.services import backup as backup_service

    out: list[tuple[str, Path]] = []
    seen: set[Path] = set()

    def add(label: str, p: Path) -> None:
        try:
            if p in seen or not p.is_dir():
                return
        except OSError:
            return
        seen.add(p)
        out.append((label, p))

    for d in backup_service.removable_drives():
        add(f"U盘 {d.name}", d)
    for p in recent_folders():
        add(f"最近 {p.name or p}", p)
    home = Path.home()
    add("主文件夹", home)
    for name in ("桌面", "Desktop"):
        add("桌面", home / name)
    return out


class FolderTree(DirectoryTree):
    """A DirectoryTree of folders (and files ending in one of ``suffixes``); hidden
    entries are left out."""

    def __init__(self, path: Path, suffixes: Sequence[str] = (), id: str | None = None) -> None:
        super().__init__(path, id=id)
        self.suffixes = tuple(s.lower() for s in suffixes)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for p in paths:
            if p.name.startswith("."):
                continue
            try:
                if p.is_dir() or (self.suffixes and p.is_file() and p.name.lower().endswith(self.suffixes)):
                    out.append(p)
            except OSError:
                continue
        return out


class PathChooser(ModalScreen[Path | None]):
    """Returns the chosen folder (``files=False``) or file (``files=True``: one ending
    in ``suffixes``, by default a ``.zip`` backup)."""

    DEFAULT_CSS = """
    PathChooser .chooser { height: 80%; }
    PathChooser.-short .chooser { height: 100%; }
    PathChooser #chooser-body { height: 1fr; }
    PathChooser #chooser-places { width: 26; height: 1fr; margin-right: 1; }
    PathChooser.-tiny #chooser-places { display: none; }
    PathChooser #chooser-tree { width: 1fr; height: 1fr; border: round $primary-lighten-2; }
    PathChooser #chooser-place { margin-bottom: 1; }
    PathChooser.-short #chooser-place { margin-bottom: 0; }
    PathChooser #chooser-chosen { height: auto; margin-top: 1; }
    PathChooser.-short #chooser-chosen { margin-top: 0; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "取消", id="chooser-cancel", tooltip="不选了，关闭这个窗口"),
        Binding("ctrl+s", "choose", "选定", id="chooser-choose", tooltip="选定高亮的文件夹或文件"),
        Binding("backspace", "up", "上一级", show=False, id="chooser-up", tooltip="到上一级文件夹"),
        Binding("tab", "cycle(1)", "下一处", show=False, id="chooser-next", tooltip="文件夹、常用位置、按钮之间切换"),
        Binding("shift+tab", "cycle(-1)", "上一处", show=False, id="chooser-previous"),
    ]
    #: Tab goes from the tree to the places beside it, then to the buttons.
    TAB_ORDER = ("#chooser-place", "#chooser-tree", "#chooser-places", "#choose", "#up", "#cancel")
    CLOSED_RESULT = None

    def __init__(
        self,
        title: str,
        start: Path | None = None,
        files: bool = False,
        note: str = "",
        suffixes: Sequence[str] = (".zip",),
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.files = files
        self.suffixes = tuple(s.lower() for s in suffixes) if files else ()
        self.note = note
        self.places = places()
        if start is None:
            recent = recent_folders()
            start = recent[0] if recent else Path.home()
        start = Path(start).expanduser()
        while not start.is_dir() and start.parent != start:
            start = start.parent
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide chooser"):
            yield Prose(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Prose(self.note, classes="dialog-message", markup=False)
            yield Input(str(self.start), placeholder="文件夹的完整路径，回车前往", id="chooser-place", compact=True)
            with Horizontal(id="chooser-body"):
                yield OptionList(
                    *[Option(broken(label), id=str(i)) for i, (label, _p) in enumerate(self.places)],
                    id="chooser-places",
                )
                yield FolderTree(self.start, suffixes=self.suffixes, id="chooser-tree")
            yield Prose("", id="chooser-chosen", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("选这个文件" if self.files else "选这个文件夹", id="choose", variant="primary")
                yield Button("上一级", id="up")
                yield Button("取消", id="cancel")
            hint = (
                "↑↓ 移动，回车打开文件夹或选定文件；Tab 常用位置；Backspace 上一级；Esc 取消"
                if self.files
                else "↑↓ 移动，回车打开文件夹；Ctrl+S 选定高亮的；Tab 常用位置；Esc 取消"
            )
            yield Prose(hint, classes="hint")

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

    def _wanted(self, p: Path) -> bool:
        """A file this chooser may return."""
        return self.files and p.is_file() and p.name.lower().endswith(self.suffixes)

    def _show_chosen(self) -> None:
        p = self.highlighted()
        if self.files:
            text = f"已选：{display_path(p)}" if self._wanted(p) else f"请选一个{_kind_words(self.suffixes)}"
        else:
            text = f"已选：{display_path(p)}" if p.is_dir() else ""
        self.query_one("#chooser-chosen", Static).update(text)

    def go(self, folder: Path) -> None:
        self.tree.path = folder
        self.query_one("#chooser-place", Input).value = str(folder)
        self.call_after_refresh(self._show_chosen)

    def _done(self, p: Path) -> None:
        remember_folder(p)
        self.dismiss(p)

    # -- events -----------------------------------------------------------------------
    def on_tree_node_highlighted(self, event: DirectoryTree.NodeHighlighted[DirEntry]) -> None:
        event.stop()
        self._show_chosen()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if self._wanted(Path(event.path)):
            self._done(Path(event.path))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        _label, folder = self.places[int(event.option.id or 0)]
        self.go(folder)
        self.tree.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        p = Path(text).expanduser()
        if self._wanted(p):
            self._done(p)
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
            if self._wanted(p):
                self._done(p)
                return
            self.query_one("#chooser-chosen", Static).update(f"请选一个{_kind_words(self.suffixes)}，不是文件夹")
            self.app.bell()
            return
        if not p.is_dir():
            p = p.parent
        self._done(p)

    def action_cycle(self, step: int) -> None:
        parts = [w for w in (self.query_one(sel) for sel in self.TAB_ORDER) if w.focusable]
        here = self.focused
        i = parts.index(here) if here in parts else 0
        parts[(i + step) % len(parts)].focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
