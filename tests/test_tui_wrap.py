"""Line breaking for what the screens show: between Chinese characters, never inside a
code, a number with its measure word, or a folder name of a path; never wider than the
line; and the lines joined give back the text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.content import Content

from villageboard.tui.text import ELLIPSIS, break_lines
from villageboard.tui.widgets.prose import BrokenLines

CODES = [
    "2026-005396",
    "141025-2026-0025",
    "238,114.60元",
    "103.68元/亩",
    "0357-5221234",
    "12笔",
    "2026年",
    "Ctrl+R",
    "42",
]
PATHS = [
    "/home/clerk/村务公开栏/东沟村-2026-0013.pdf",
    "~/备份/vb-20261128.zip",
    "/media/clerk/KINGSTON/村务备份/",
    "./outputs/bank-2026.xlsx",
    "D:\\村务\\名册.xlsx",
]
HAN = "东沟村南庄申报编号应补合计的已保存到打印公示核验码备份在里"
PUNCT = ["，", "。", "（", "）", "、", "：", " "]


def folders(path: str) -> list[str]:
    """A path's parts that a line may not split: each folder with the separator after it."""
    return re.findall(r"[^/\\]*[/\\]|[^/\\]+", path)


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Chinese text with codes, numbers and paths in it, and the pieces that must stay
    whole. Codes sit between Chinese characters (or punctuation), as they do in the
    messages; a path ends at a space or Chinese punctuation, as it does there."""
    parts: list[str] = []
    whole: list[str] = []
    for _ in range(draw(st.integers(1, 12))):
        parts.append(draw(st.text(alphabet=HAN, min_size=1, max_size=12)))
        kind = draw(st.sampled_from(["code", "path", "punct", "none"]))
        if kind == "code":
            code = draw(st.sampled_from(CODES))
            parts.append(code)
            whole.append(code)
        elif kind == "path":
            path = draw(st.sampled_from(PATHS))
            parts.append(draw(st.sampled_from([" ", "："])) + path + draw(st.sampled_from([" ", "。", "，", "）"])))
            whole.extend(folders(path))
        elif kind == "punct":
            parts.append(draw(st.sampled_from(PUNCT)))
        if draw(st.integers(0, 9)) == 0:
            parts.append("\n")
    return "".join(parts), whole


def spans(lines: list[str]) -> list[tuple[int, int]]:
    out, at = [], 0
    for line in lines:
        out.append((at, at + len(line)))
        at += len(line)
    return out


@given(messages(), st.integers(min_value=24, max_value=80))
def test_no_line_splits_a_code_a_number_or_a_folder_and_the_lines_give_back_the_text(
    message: tuple[str, list[str]], width: int
) -> None:
    text, whole = message
    lines = break_lines(text, width)
    assert "".join(lines) == text
    for line in lines:
        assert cell_len(line.rstrip()) <= width, (line, width)
        assert "\n" not in line.rstrip("\n")
    where = spans(lines)
    for piece in whole:
        for m in re.finditer(re.escape(piece), text):
            assert any(a <= m.start() and m.end() <= b for a, b in where), (piece, lines)
    # a line never starts with closing punctuation (unless the text did)
    for (a, _b), line in zip(where[1:], lines[1:], strict=True):
        if text[a - 1] != "\n":
            assert not line.startswith(("，", "。", "）", "、", "：")), lines


@given(messages(), st.integers(min_value=2, max_value=23))
def test_on_a_narrow_line_nothing_is_wider_than_the_line_and_no_character_is_cut(
    message: tuple[str, list[str]], width: int
) -> None:
    text, _whole = message
    lines = break_lines(text, width)
    for line in lines:
        assert cell_len(line.rstrip()) <= width, (line, width)
    # every character shown is one of the text's (cut only between characters), with
    # "…" in front of a folder name too wide for the line
    shown = "".join(lines).replace(ELLIPSIS, "")
    assert set(shown) <= set(text)


def test_a_long_path_breaks_only_after_a_separator() -> None:
    path = "/home/clerk/村务公开栏/2026年/东沟村/141025-2026-0013-公示.pdf"
    text = f"已生成3个文件（{path}）：按 Ctrl+R 打印"
    lines = break_lines(text, 30)
    assert "".join(lines) == text
    joined_ends = [line for line in lines if any(seg in line for seg in ("clerk", "村务", "2026年/", "东沟村/"))]
    for line in joined_ends[:-1]:
        assert line.rstrip().endswith("/"), lines


def test_a_folder_name_wider_than_the_line_shows_its_end_after_an_ellipsis() -> None:
    folder = "a-very-long-folder-name-for-the-backups-of-2026"
    lines = break_lines(f"已备份，在 /media/clerk/{folder}/2026.zip", 20)
    long = next(line for line in lines if line.startswith(ELLIPSIS))
    assert long.rstrip() == ELLIPSIS + folder[-(20 - 2) :] + "/"
    assert cell_len(long.rstrip()) <= 20
    assert lines[-1] == "2026.zip"


@pytest.mark.parametrize("text", ["元/亩和2026/11/28日", "103.68元/亩", "每户12笔，共238,114.60元"])
def test_units_and_dates_are_not_paths(text: str) -> None:
    lines = break_lines(text * 3, 16)
    assert "".join(lines) == text * 3
    assert not any(line.startswith(ELLIPSIS) for line in lines)


def test_the_shown_text_keeps_its_styles_and_breaks_where_the_text_does() -> None:
    content = Content.from_markup("已保存：[b]2026-005396[/b]，东沟村一组应补合计238,114.60元")
    shown = BrokenLines(content).at(14)
    assert shown.plain.split("\n") == [line.rstrip() for line in break_lines(content.plain, 14)]
    assert any(span.style == "b" or "bold" in str(span.style) for span in shown.spans)


def test_the_app_reaches_into_no_private_module_or_name_of_rich_or_textual() -> None:
    """Line breaking used to replace a private pattern inside Rich; nothing like that is
    left, so an upgrade of either library cannot quietly change how text breaks."""
    root = Path(__file__).resolve().parent.parent / "villageboard"
    private = re.compile(r"\b(?:rich|textual)(?:\.\w+)*\._\w|from (?:rich|textual)[\w.]* import[^\n]*\b_\w")
    found = [
        f"{p.relative_to(root)}:{i}"
        for p in root.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if private.search(line)
    ]
    assert found == []


async def test_a_message_at_80_columns_breaks_a_long_path_only_after_a_separator() -> None:
    from textual.app import App, ComposeResult

    from villageboard.tui.widgets.prose import Prose

    path = (
        "/tmp/乡镇数据/villageboard-township-data-2026/村务公开栏工具包的数据和备份文件夹/demo-backups/vb-20261207.zip"
    )
    text = f"已备份到 {path}（5.4 MB，已检查完好）"

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Prose(text, markup=False, id="msg")

    app = One()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        msg = app.query_one("#msg", Prose)
        shown = msg.render()
        assert isinstance(shown, BrokenLines) and str(shown) == text
        lines = shown.at(msg.content_size.width).plain.split("\n")
        assert msg.size.height == len(lines) > 1
        assert all(cell_len(line) <= 80 for line in lines)
        assert "".join(lines) == text
        for folder in folders(path):  # no folder name split over two lines
            assert any(folder in line for line in lines), (folder, lines)
