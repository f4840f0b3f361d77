"""Village and group names as compared: the one place where "3组", "三组", "第三组",
"03" and "3" become the same group, and "东沟村" and "东沟" the same village.

Every part of the kit that matches a typed or imported place against the registry
(imports, the phone desk's index, the registry's own look-ups, the forms) uses these
keys, so a place found in one of them is found in all.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NAMES = "零一二三四五六七八九"
#: a group's number, in Arabic or Chinese numerals (for patterns over free text)
GROUP_NUM = r"[0-9]+|[〇零一二两三四五六七八九十百]+"
#: the words after a group's number: 一组, 一村民小组, 一队, 一社
GROUP_SUFFIX = r"村民小组|小组|组|队|社"
_NUMBERED = re.compile(rf"第?({GROUP_NUM})(?:{GROUP_SUFFIX})?")
#: what may follow a named group's own name (河东组 is 河东)
_NAMED_SUFFIXES = ("村民小组", "小组", "组")
VILLAGE_SUFFIXES = ("村民委员会", "村委会", "居委会", "社区", "村")


def fold(text: object) -> str:
    """The text as compared: NFKC (full-width folded), only letters and digits kept
    (spaces, dots and dashes dropped), lower case."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", str(text or "")) if ch.isalnum()).lower()


def cn_int(text: str) -> int | None:
    """``12``, ``012``, ``十二``, ``二十``, ``一百零三``, ``两``, ``一二`` -> the number;
    None when the text is not a number below 1000."""
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    if "百" not in text and "十" not in text:  # 三 / 一二: digit by digit
        if len(text) <= 3 and all(ch in CN_DIGITS for ch in text):
            return int("".join(str(CN_DIGITS[ch]) for ch in text))
        return None
    total, rest = 0, text
    if "百" in rest:
        head, _, rest = rest.partition("百")
        if CN_DIGITS.get(head, 0) == 0 or "百" in rest:
            return None
        total = 100 * CN_DIGITS[head]
        rest = rest[1:] if rest[:1] in ("零", "〇") else rest
    if "十" in rest:
        head, _, rest = rest.partition("十")
        tens = 1 if head == "" else CN_DIGITS.get(head, 0)
        if tens == 0 or "十" in rest:
            return None
        total += 10 * tens
    if rest:
        if len(rest) != 1 or CN_DIGITS.get(rest, 0) == 0:
            return None
        total += CN_DIGITS[rest]
    return total


def cn_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 20 -> 二十, 35 -> 三十五; 100 and up stay in Arabic numerals."""
    if n < 10:
        return _CN_NAMES[n]
    if n < 20:
        return "十" + (_CN_NAMES[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_NAMES[n // 10] + "十" + (_CN_NAMES[n % 10] if n % 10 else "")
    return str(n)


@lru_cache(maxsize=4096)  # a township has a few hundred groups, each named thousands of times
def group_key(name: str) -> str:
    """The group as compared: a numbered group is its number in Arabic numerals
    ("3组", "三组", "第三组", "03", "三村民小组", "3队" -> "3"); a named group is its
    name without 组 ("河东组" -> "河东")."""
    text = fold(name)
    m = _NUMBERED.fullmatch(text)
    if m:
        n = cn_int(m.group(1))
        if n is not None:
            return str(n)
    for suffix in _NAMED_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def group_label(key: str) -> str:
    """The name a new group gets from its key: "3" -> "三组", "河东" -> "河东组"."""
    return (cn_number(int(key)) if key.isdigit() else key) + "组"


@lru_cache(maxsize=1024)
def village_key(name: str) -> str:
    """The village as compared: "东沟村", "东沟", " 东 沟 村委会 " -> "东沟". A suffix is
    dropped only when two characters are left (李村 stays 李村)."""
    text = fold(name)
    for suffix in VILLAGE_SUFFIXES:
        if text.endswith(suffix) and len(text) - len(suffix) >= 2:
            return text[: -len(suffix)]
    return text


def village_names(name: str) -> frozenset[str]:
    """Every form a clerk may type for a village: its folded full name and its key."""
    full = fold(name)
    return frozenset(x for x in (full, village_key(name)) if x)


def same_village(a: str, b: str) -> bool:
    return bool(village_key(a)) and village_key(a) == village_key(b)


def same_group(a: str, b: str) -> bool:
    return bool(group_key(a)) and group_key(a) == group_key(b)
