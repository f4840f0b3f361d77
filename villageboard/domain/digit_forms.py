"""Digits however they are written, as the privacy scanner reads them: full-width and
other compatibility forms, Chinese digits, invisible characters removed."""

from __future__ import annotations

import re
import unicodedata

CHINESE_DIGITS: dict[str, str] = {
    **dict.fromkeys("〇○◯零", "0"),
    **dict.fromkeys("一壹幺弌〡", "1"),
    **dict.fromkeys("二贰貳两兩弍〢", "2"),
    **dict.fromkeys("三叁參弎〣", "3"),
    **dict.fromkeys("四肆〤", "4"),
    **dict.fromkeys("五伍〥", "5"),
    **dict.fromkeys("六陆陸〦", "6"),
    **dict.fromkeys("七柒〧", "7"),
    **dict.fromkeys("八捌〨", "8"),
    **dict.fromkeys("九玖〩", "9"),
}
_CN = "".join(CHINESE_DIGITS)
# Characters whose compatibility form holds a digit although they are not decimal digits
# themselves (superscripts, fractions, circled and parenthesised numbers, CJK radicals
# and compatibility ideographs for 一二三…, "1日"-style symbols). A test checks this list
# against every code point.
_COMPAT_DIGITS = (
    "\u00b2\u00b3\u00b9\u00bc-\u00be\u2070\u2074-\u2079\u2080-\u2089\u2150-\u215f\u2189"
    "\u2460-\u249b\u24ea\u2f00\u2f06\u2f0b\u2f33\u3192-\u3195\u3220-\u3228\u3251-\u325f"
    "\u3280-\u3288\u32b1-\u32cb\u3358-\u3370\u3378\u3379\u339f-\u33a6\u33a8\u33af"
    "\u33e0-\u33fe\uf96b\uf978\uf9b2\uf9d1\uf9d3\uffee"
    "\U0001f100-\U0001f10a\U0001f214\U0001f229\U0001f22a\U0001f241\U0001f242"
)
DIGITISH = re.compile(rf"[\d{_CN}]")
COMPAT = re.compile(f"[{_COMPAT_DIGITS}]")
# Not drawn, or drawn as nothing: removed before scanning.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_STRIP_CATEGORIES = frozenset({"Cf", "Cc", "Mn", "Me", "Mc", "Co", "Cs", "Cn"})
_KEEP_CONTROLS = frozenset("\t\n\r")


def invisible(ch: str) -> bool:
    if ch in _KEEP_CONTROLS:
        return False
    return ch in _FILLERS or unicodedata.category(ch) in _STRIP_CATEGORIES


def _fold(ch: str) -> str:
    """One original character as the scanner reads it (may be empty or several)."""
    if ch.isascii():
        return "" if invisible(ch) else ch
    if invisible(ch):
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in CHINESE_DIGITS:
            out.append(CHINESE_DIGITS[c])
        elif not c.isascii() and c.isdecimal():
            out.append(str(unicodedata.decimal(c)))
        elif not invisible(c):
            out.append(c)
    return "".join(out)


def normalise_map(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the original
    character it came from."""
    out: list[str] = []
    src: list[int] = []
    for k, ch in enumerate(text):
        folded = _fold(ch)
        out.append(folded)
        src.extend([k] * len(folded))
    return "".join(out), src


def normalise(text: str) -> str:
    """``text`` as the privacy scanner reads it: NFKC, invisible characters removed,
    every kind of digit (Chinese digits included) written 0–9. Separators are kept."""
    return normalise_map(text)[0]


def may_hold_number(text: str) -> bool:
    """Cheap pre-check: False when ``text`` cannot hold any risky number (fewer than 11
    digit-like characters and none that expands into several)."""
    if not text:
        return False
    if text.isascii():
        return sum(c.isdigit() for c in text) >= 11
    return bool(COMPAT.search(text)) or len(DIGITISH.findall(text)) >= 11
