"""Text that breaks into lines where Chinese text may break: between characters,
never inside a code, a number with its measure word, or a folder name of a path.

A drop-in for ``Static``: the content is cut into lines by :func:`break_lines` at the
width the widget has, so the terminal's own folding (which breaks only at spaces,
and so anywhere in Chinese) never comes into play. Styled text keeps its styles."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import Static

from villageboard.tui.text import break_lines


class BrokenLines(Visual):
    """A text, shown cut into lines by :func:`break_lines` for the width it gets."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self._cut: tuple[int, Content] | None = None

    def at(self, width: int) -> Content:
        """The text with a line end at every break for this width."""
        if self._cut is not None and self._cut[0] == width:
            return self._cut[1]
        plain = self.content.plain
        lines = break_lines(plain, width)
        if "".join(lines) == plain:  # nothing shortened: cut the styled text itself
            offsets, at = [], 0
            for line in lines[:-1]:
                at += len(line)
                offsets.append(at)
            pieces = self.content.divide(offsets)
            cut = Content("\n").join(p.rstrip() for p in pieces)
        else:  # a folder name shown as "…" and its end: plain text
            cut = Content("\n".join(line.rstrip() for line in lines))
        self._cut = (width, cut)
        return cut

    def __str__(self) -> str:
        """The text itself, unbroken (what ``str(widget.render())`` gave for a ``Static``)."""
        return str(self.content)

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        return self.at(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content.get_optimal_width(rules, container_width)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return self.content.get_minimal_width(rules)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.at(width).get_height(rules, width)


def broken(text: str | Text) -> BrokenLines:
    """Plain or styled text (never markup) that breaks as :func:`break_lines` does, for
    places that take a visual rather than a widget (a list's option)."""
    return BrokenLines(Content(text) if isinstance(text, str) else Content.from_rich_text(text))


class Prose(Static):
    """A ``Static`` whose text breaks between words as Chinese is read."""

    def render(self):  # type: ignore[no-untyped-def]
        visual = super().render()
        return BrokenLines(visual) if isinstance(visual, Content) else visual
