"""The line of screen keys under the header (F1 首页 … F9 设置), the current screen
highlighted. It keeps the footer short: the footer shows only what the current
screen can do."""

from __future__ import annotations

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


class NavBar(Static):
    def __init__(self, current: str) -> None:
        super().__init__(id="navbar")
        self.current = current

    def on_mount(self) -> None:
        parts = []
        for key, mode, label in NAV:
            style = "reverse bold" if mode == self.current else ""
            parts.append(Content.from_markup(
                f"[{style} @click=app.go('{mode}')] $key $label [/]" if style else f"[@click=app.go('{mode}')] $key $label [/]",
                key=key.upper(), label=label,
            ))
        self.update(Content(" ").join(parts))
