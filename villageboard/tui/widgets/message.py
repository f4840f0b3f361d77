"""The message line above the footer: what just happened ("已保存：…").

Textual's toasts float over the screen, and its compositor cuts every line at the
edges of the widgets underneath; a wide character that straddles such an edge is
split into two blanks, so a toast over a form read "已保存：赵    ，南庄村三组".
This line is part of the screen's own layout, with nothing underneath it, so it is
never cut. It shows the latest message until its time is up.
"""

from __future__ import annotations

from textual.timer import Timer

from villageboard.tui.widgets.prose import Prose


class MessageLine(Prose):
    def __init__(self) -> None:
        super().__init__("", id="message-line", markup=False)
        self._timer: Timer | None = None

    def show(self, text: str, severity: str = "information", timeout: float = 6) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.update(text)
        for kind in ("information", "warning", "error"):
            self.set_class(kind == severity, f"-{kind}")
        self.add_class("-shown")
        self._timer = self.set_timer(max(timeout, 0.5), self.clear)

    def clear(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.update("")
        self.remove_class("-shown")

    @property
    def text(self) -> str:
        return str(self.render()) if self.has_class("-shown") else ""  # type: ignore[no-untyped-call]
