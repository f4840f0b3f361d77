"""The line of screen keys under the header (F1 首页 … F9 设置), the current screen
highlighted. It keeps the footer short: the footer shows only what the current
screen can do. When the full names do not fit (80 columns), shorter ones are used,
so F8 and F9 never fall off the end."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.widgets import Static

#: (key, mode, label): one key per screen, reachable from anywhere.
NAV: tuple[tuple[str, str, str], ...] = (
    ("f1", "home", "首页"),
    ("f2", "phone", "电话查询"),
    ("f3", "households", "农户"),
    ("f4", "programs", "补贴项目"),
    ("f5", "applications", "申报"),
    ("f6", "payouts", "发放"),
    ("f7", "notices", "公示"),
    ("f8", "archive", "档案"),
    ("f9", "settings", "设置"),
)
#: The names used when the full ones do not fit.
SHORT = {"phone": "电话", "programs": "项目"}


def nav_content(current: str, width: int) -> Content:
    """The keys in ``width`` cells: full names with room around them if they fit, else
    shorter names packed closer."""
    for short, pad, join, gap in (
        (False, " ", " ", " "),
        (False, "", " ", " "),
        (True, "", " ", " "),
        (True, "", " ", ""),
        (True, "", "", ""),
    ):
        parts = []
        for key, mode, label in NAV:
            name = SHORT.get(mode, label) if short else label
            style = "reverse bold" if mode == current else ""
            text = f"{pad}$key{join}$label{pad}"
            markup = f"[{style} @click=app.go('{mode}')]{text}[/]" if style else f"[@click=app.go('{mode}')]{text}[/]"
            parts.append(Content.from_markup(markup, key=key.upper(), label=name))
        line = Content(gap).join(parts)
        if line.cell_length <= width:
            return line
    return line


class NavBar(Static):
    def __init__(self, current: str) -> None:
        super().__init__(id="navbar")
        self.current = current

    def on_mount(self) -> None:
        self.update(nav_content(self.current, self.content_size.width or self.app.size.width - 2))

    def on_resize(self, event: events.Resize) -> None:
        self.update(nav_content(self.current, self.content_size.width))
