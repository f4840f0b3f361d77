"""Personal numbers in free text, however they are written: find them, and mask them.

The privacy gate (DESIGN.md §5, §9 "Privacy, tightened") refuses an 18-character ID
with a valid check digit, a 15-digit old-style ID, a Luhn-valid 16–19 digit number, an
11-digit mobile and any run of 12 or more digits. A number is looked for only after the
text has been normalised the way a reader would read it:

* NFKC (full-width and other compatibility forms, circled and superscript digits);
* invisible characters removed (zero-width, soft hyphen, word joiner, BOM, bidi marks,
  variation selectors and other combining marks, control characters);
* Chinese digits read as digits (〇零一…九, 壹…玖, 幺, 两 and their old forms);
* digit groups joined across one separator (``. / , - _ ( ) · :``, a dash, a middle
  dot, an ideographic comma or a space; up to three such characters in a row).

Ordinary notice text still passes: dates (2026-12-09), times (9:30), amounts (1,234.56),
landline hotlines (0357-5221234), notice codes (141025-2026-0012), masked IDs and areas.
Such a block, set off by a space or list punctuation, is not joined to its neighbours
except to find a whole 18-digit ID with a real birth date; the visible ends of a masked
number and our own notice codes are never joined. Across list punctuation (，、；。) the
groups beside the mark must have three or more digits (138，0013，8000), so a list of
small numbers stays a list. A chain joined by commas ("," or "，") that holds 15 or
more digits and is neither thousands amounts (1,234,567, first group 1–3 digits, every
later one exactly 3; a "，" never groups thousands, but may list such amounts: 12,345，
23,456) nor a list of one- and two-digit numbers (3,5,7 / 12,15) is read as one
number: nothing inside it counts as a date, landline or amount (6,000,0000,010,2000004
is no number followed by a landline; 606，347，620，202，7，432 is one number).
Joined groups are checked for the exact shapes above; the plain "12 or more digits"
rule joins groups only when each has three or more digits, groups of four or more hold
at least eight of them (1234.5678.9012, 6.00000.00000.0…), or one group alone holds
seven or more (0002000-01-010).

Limits, by design: a number written to look exactly like a date, time, amount or
hotline list (1,30000,100.00) is read as that; letters standing for digits (O for 0,
l for 1) are not read as digits.

Everything here is pure: the services call it where text enters, the render layer calls
it on every public output.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stdnum.cn import ric

from villageboard.domain.digit_forms import (
    CHINESE_DIGITS,
    COMPAT,
    DIGITISH,
    invisible,
    may_hold_number,
    normalise,
    normalise_map,
)

__all__ = [
    "CHINESE_DIGITS",
    "Finding",
    "find_numbers",
    "mask_id_like",
    "mask_numbers",
    "may_hold_number",
    "normalise",
    "scan_text",
]

# --- finding ----------------------------------------------------------------------------

_SEP_CHARS = r"\s.,/\\_:;()\[\]·・•‧∙⋅、。\-\u2010-\u2015\u2212\ufe58\ufe63"
_SEQUENCE = re.compile(rf"[0-9]+(?:[{_SEP_CHARS}]{{1,3}}[0-9]+)*(?:[{_SEP_CHARS}]{{0,3}}[Xx](?![A-Za-z]))?")
_GROUP = re.compile(r"[0-9]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MAX_CUT = 6  # Chinese digits cut off either end of a number (一张, 两本 …)


@dataclass(frozen=True)
class Finding:
    """One risky number: its kind, its digits and where it is in the original text."""

    kind: str  # id18 | id15 | card | mobile | run | split
    digits: str
    start: int
    end: int

    @property
    def tail(self) -> str:
        return f"尾号{self.digits[-4:]}"

    @property
    def reason(self) -> str:
        n = len(self.digits)
        return {
            "id18": f"身份证号（{mask_id_like(self.digits)}）",
            "id15": f"15位旧身份证号（{mask_id_like(self.digits)}）",
            "card": f"银行卡号（{self.tail}，共{n}位）",
            "mobile": f"手机号码（{self.tail}）",
            "run": f"连续{n}位数字（{self.tail}），可能是账号或证件号",
            "split": f"分段书写的{n}位数字（{self.tail}），可能是账号或证件号",
        }[self.kind]

    @property
    def masked(self) -> str:
        """The township's mask for this kind (DESIGN.md §5): an ID keeps its first 6
        and last 4, a card or account its last 4, a phone nothing."""
        if self.kind in ("id18", "id15"):
            return mask_id_like(self.digits)
        if self.kind == "mobile":
            return "*" * len(self.digits)
        return "*" * (len(self.digits) - 4) + self.digits[-4:]


def mask_id_like(digits: str) -> str:
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _id18(s: str, strict: bool) -> bool:
    """A valid check digit; ``strict`` also wants a real region and birth date."""
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return False
    if ric.calc_check_digit(s) != s[17]:
        return False
    return not strict or (
        s[0] in "123456" and _valid_date(int(s[6:10]), int(s[10:12]), int(s[12:14])) and 1900 <= int(s[6:10]) <= 2100
    )


def _id15(s: str) -> bool:
    return len(s) == 15 and s.isdigit() and _valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _luhn(s: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _shape(digits: str, beside: bool) -> str | None:
    """The kind of a (joined) digit string, checked for the exact shapes only.
    ``beside`` when the digits hold a whole date, time, landline or amount set off by a
    space or list punctuation (1,234.56，138…): then only an 18-digit ID with a real birth
    date counts."""
    n = len(digits)
    if n == 18 and _id18(digits, beside):
        return "id18"
    if not digits.isdigit():
        return None
    if beside:
        return None
    if n == 15 and _id15(digits):
        return "id15"
    if 16 <= n <= 19 and _luhn(digits):
        return "card"
    if n == 11 and _MOBILE.fullmatch(digits):
        return "mobile"
    return None


def _amount_end(groups: list[str], seps: list[str], i: int, typed: list[str]) -> int:
    """End of an amount or decimal starting at group i (1,234,567.89 / 12.5 / 3,000),
    or 0."""
    n = len(groups)
    if not 1 <= len(groups[i]) <= 7 or groups[i].endswith("X") or (groups[i][0] == "0" and groups[i] != "0"):
        return 0
    if i > 0 and (seps[i] == "." or typed[i] == "," or (seps[i] == "," and len(groups[i - 1]) == 3)):
        return 0  # inside a longer grouped number (1.2.3, 6,222,021,…, 1,3000,100,000)
    j = i + 1
    if len(groups[i]) <= 3:
        while j < n and seps[j] == "," and len(groups[j]) == 3 and "，" not in typed[j]:
            j += 1  # thousands are grouped with "," ; a Chinese "，" separates items
    if sum(len(g) for g in groups[i:j]) > 10:
        return 0  # no amount is that large: a card or account written like one
    if j - i >= 2 and j < n and seps[j] == ",":
        return 0  # 1,100,00000: the commas go on past the thousands
    if (
        j < n
        and seps[j] == "."
        and 1 <= len(groups[j]) <= 2
        and not groups[j].endswith("X")
        and (j + 1 >= n or "." not in seps[j + 1])
    ):
        return j + 1
    return j if j - i >= 2 else 0


_LIST_MARKS = ",、;。"


def _loose(sep: str) -> bool:
    """A space or list punctuation: what stands between separate items of a list."""
    return any(c in _LIST_MARKS or c.isspace() for c in sep)


def _listed(seps: list[str], k: int) -> bool:
    return k == 0 or _loose(seps[k])


def _blocks(
    groups: list[str], seps: list[str], typed: list[str]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Runs of groups that read as ordinary text: a date (2026-12-09), a time (9:30), a
    landline with its area code (0357-5221234, (0357)5221234, an extension after it), a
    notice code (141025-2026-0012) or an amount (1,234.56). Except for our own notice codes, a
    block must stand apart: set off from its neighbours by a space or list punctuation.
    ``seps[i]`` is what stands between group i-1 and group i (``typed[i]`` as typed,
    so that an ASCII comma chaining numbers differs from the Chinese "，" between items).
    Returns all blocks, and the notice codes among them."""
    found: list[tuple[int, int]] = []
    codes: list[tuple[int, int]] = []
    n = len(groups)

    def apart(i: int, e: int) -> bool:
        return _listed(seps, i) and (e >= n or _listed(seps, e))

    i = 0
    while i < n:
        g = groups[i]
        end = 0
        if i + 2 < n:
            y, mo, d = groups[i : i + 3]
            sep = seps[i + 1].strip()
            if (
                len(y) == 4
                and y[:2] in ("19", "20")
                and 1 <= len(mo) <= 2
                and 1 <= len(d) <= 2
                and mo.isdigit()
                and d.isdigit()
                and 1 <= int(mo) <= 12
                and 1 <= int(d) <= 31
                and sep in ("-", "/", ".")
                and seps[i + 2].strip() == sep
                and apart(i, i + 3)
            ):
                end = i + 3
            elif (
                len(g) == 6
                and len(groups[i + 1]) == 4
                and groups[i + 1][:2] == "20"
                and len(groups[i + 2]) == 4
                and seps[i + 1] == "-"
                and seps[i + 2] == "-"
                and (i == 0 or seps[i] != "-")
                and (i + 3 >= n or seps[i + 3] != "-")
            ):
                codes.append((i, i + 3))
                end = i + 3
        if (
            not end
            and i + 1 < n
            and seps[i + 1] == ":"
            and len(g) <= 2
            and g.isdigit()
            and int(g) <= 23
            and len(groups[i + 1]) == 2
            and groups[i + 1].isdigit()
            and int(groups[i + 1]) <= 59
            and apart(i, i + 2)
        ):
            end = i + 2  # a time of day, 9:30
        if not end:
            amount = _amount_end(groups, seps, i, typed)
            if amount and apart(i, amount):
                end = amount
        if (
            not end
            and i + 1 < n
            and re.fullmatch(r"0[1-9][0-9]{1,2}", g)
            and re.fullmatch(r"[2-9][0-9]{6,7}", groups[i + 1])
            and "." not in seps[i + 1]
        ):
            e = i + 2
            if e < n and 1 <= len(groups[e]) <= 5 and seps[e].strip() == "-":
                e += 1
            if apart(i, e):
                end = e
        if end:
            found.append((i, end))
            i = end
        else:
            i += 1
    return found, codes


def _year(g: str) -> bool:
    return len(g) == 4 and g[:2] in ("19", "20")


def _one_number_chains(groups: list[str], typed: list[str]) -> list[int]:
    """For each group, its chain (from 1) when groups joined by commas read as one number
    (6,000,0000,010,2000004): 15+ digits, neither small numbers (3,5,7) nor thousands
    amounts (1,234,567; or such amounts listed with "，": 12,345，23,456); else 0."""
    one, i = [0] * len(groups), 0
    while i < len(groups):
        j = i + 1
        while j < len(groups) and typed[j] in (",", "，"):
            j += 1
        size = [len(g.rstrip("X")) for g in groups[i:j]]
        cuts = [k - i for k in range(i, j) if k == i or typed[k] == "，"] + [j - i]
        amounts = all(
            1 <= size[a] <= 3 and set(size[a + 1 : b]) <= {3} and (b - a >= 2 or len(cuts) == 2)
            for a, b in zip(cuts, cuts[1:], strict=False)
        )
        if j - i >= 2 and sum(size) >= 15 and max(size) >= 3 and not amounts:
            one[i:j] = [i + 1] * (j - i)
        i = j
    return one


def _scan_sequence(
    groups: list[str], seps: list[str], lead: list[int], trail: list[int], masked: list[bool], typed: list[str]
) -> list[tuple[int, int, int, int, str]]:
    """(first group, end group, digits cut from the first, digits cut from the last,
    kind) of every risky number in one run of groups. ``lead``/``trail`` count the
    digits at each group's ends that were written as Chinese digits: ordinary words
    (一张, 两本) can sit right against a number, so those may be cut off. ``masked``
    marks groups that are the visible ends of a masked number (141025********123X):
    they are never joined to anything."""
    n = len(groups)
    blocks, codes = _blocks(groups, seps, typed)
    one = _one_number_chains(groups, typed)
    blocks = [(a, e) for a, e in blocks if not (one[a] and all(one[k] == one[a] for k in range(a, e)))]
    block_of = [-1] * n
    for b, (a, e) in enumerate(blocks):
        for k in range(a, e):
            block_of[k] = b
    never_join = [masked[k] or any(a <= k < e for a, e in codes) for k in range(n)]
    found: list[tuple[int, int, int, int, str]] = []

    def covered(i: int, j: int) -> bool:
        return any(a <= i and j <= b for a, b, _x, _y, _k in found)

    def shape(digits: str, beside: bool) -> str | None:
        kind = _shape(digits, beside)
        if kind is None and digits.endswith("X"):
            kind = _shape(digits[:-1], beside)
        return kind

    def trimmed(i: int, j: int, joined: str, beside: bool) -> tuple[int, int, str] | None:
        for a in range(min(lead[i], len(groups[i]) - 1, _MAX_CUT) + 1):
            for b in range(min(trail[j - 1], len(groups[j - 1]) - 1, _MAX_CUT) + 1):
                if (a or b) and 11 <= len(joined) - a - b <= 19:
                    kind = shape(joined[a : len(joined) - b], beside)
                    if kind:
                        return a, b, kind
        return None

    def grouped(i: int, j: int) -> bool:
        """Groups joined across list punctuation (，、；。) read as one number only when
        the groups beside each such mark have three or more digits, the first and last
        excepted (138，0013，8000, 6,222,021,…): "0:13，0:13，110000" is a list."""
        if not any(c in _LIST_MARKS for k in range(i + 1, j) for c in seps[k]):
            return True
        if one[i] and all(one[k] == one[i] for k in range(i, j)):
            return True
        for k in range(i + 1, j):
            if any(c in _LIST_MARKS for c in seps[k]):
                if (k - 1 > i and len(groups[k - 1]) < 3) or (k < j - 1 and len(groups[k]) < 3):
                    return False
        return True

    # single groups: contiguous digits
    for i, g in enumerate(groups):
        kind = shape(g, False)
        if kind is None and len(g.rstrip("X")) >= 12:
            kind = "run"
        if kind:
            found.append((i, i + 1, 0, 0, kind))
        elif lead[i] or trail[i]:
            hit = trimmed(i, i + 1, g, False)
            if hit:
                found.append((i, i + 1, *hit))
    # joined spans, longest first; a span that cuts into a block, or is made of blocks
    # only, is skipped; one that holds a whole block can only be an ID with a real
    # birth date.
    spans: list[tuple[int, int, str]] = []
    for i in range(n):
        total = len(groups[i])
        for j in range(i + 2, n + 1):
            total += len(groups[j - 1])
            if total - lead[i] - trail[j - 1] > 19:
                if total - lead[i] > 40:
                    break
                continue
            spans.append((i, j, "".join(groups[i:j])))
    spans.sort(key=lambda s: (s[0] - s[1], s[0]))
    for i, j, joined in spans:
        if covered(i, j):
            continue
        if (block_of[i] >= 0 and i > 0 and block_of[i - 1] == block_of[i]) or (
            block_of[j - 1] >= 0 and j < n and block_of[j] == block_of[j - 1]
        ):
            continue  # cuts into a block
        if all(b >= 0 for b in block_of[i:j]):
            continue  # only dates / landlines / codes
        if any(never_join[i:j]):
            continue  # our own notice code, or the visible end of a masked number
        if not grouped(i, j):
            continue  # a list ("0:13，0:13，…"), not one number
        beside = any(b >= 0 for b in block_of[i:j])
        kind = shape(joined, beside) if len(joined) <= 19 else None
        if kind:
            found.append((i, j, 0, 0, kind))
        elif lead[i] or trail[j - 1]:
            hit = trimmed(i, j, joined, beside)
            if hit:
                found.append((i, j, *hit))

    # a long number written in groups (6222 0212 3456 7890, 1234.5678.9012, 6.00000.0000…):
    # a chain of groups that are no block, code, masked end or list of years, not broken
    # by list punctuation (，、；。), holding 12 or more digits, either all in groups of
    # three or more, with at least 8 in groups of four or more, or with one group of seven
    # or more ("第10,11,12,13组" is a list; "0002000-01-010" is one number)
    def free(k: int) -> bool:
        if block_of[k] >= 0 or never_join[k]:
            return False
        return not (_year(groups[k]) and ((k > 0 and _year(groups[k - 1])) or (k + 1 < n and _year(groups[k + 1]))))

    i = 0
    while i < n:
        if not free(i):
            i += 1
            continue
        j = i + 1
        while j < n and free(j) and not any(c in _LIST_MARKS for c in seps[j]):
            j += 1
        sizes = [len(g.rstrip("X")) for g in groups[i:j]]
        if (
            j - i >= 2
            and sum(sizes) >= 12
            and not covered(i, j)
            and (min(sizes) >= 3 or sum(s for s in sizes if s >= 4) >= 8 or max(sizes) >= 7)
        ):
            found.append((i, j, 0, 0, "split"))
        i = j
    return found


def find_numbers(text: str) -> list[Finding]:
    """Every risky number in ``text``, in order, with its span in ``text`` itself."""
    if not may_hold_number(text):
        return []
    norm, src = normalise_map(text)
    out: list[Finding] = []
    for m in _SEQUENCE.finditer(norm):
        body = m.group()
        base = m.start()
        groups: list[str] = []
        seps: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        lead: list[int] = []
        trail: list[int] = []
        prev_end = 0
        for g in _GROUP.finditer(body):
            seps.append(body[prev_end : g.start()])
            groups.append(g.group())
            a, e = base + g.start(), base + g.end()
            starts.append(a)
            ends.append(e)
            lead.append(_cn_count(text, src, range(a, e)))
            trail.append(_cn_count(text, src, range(e - 1, a - 1, -1)))
            prev_end = g.end()
        if body[-1] in "Xx":
            groups[-1] += "X"
            ends[-1] = m.end()
            trail[-1] = 0
        masked = [
            (a > 0 and norm[a - 1] == "*") or (e < len(norm) and norm[e] == "*")
            for a, e in zip(starts, ends, strict=True)
        ]
        typed = [""] + [
            "".join(c for c in text[src[ends[k - 1] - 1] + 1 : src[starts[k]]] if not invisible(c))
            for k in range(1, len(groups))
        ]
        for i, j, cut_a, cut_b, kind in _scan_sequence(groups, seps, lead, trail, masked, typed):
            digits = "".join(groups[i:j])
            digits = digits[cut_a : len(digits) - cut_b]
            if kind in ("mobile", "id15", "card") or (kind in ("run", "split") and digits.endswith("X")):
                digits = digits.rstrip("X")
            start, end = starts[i] + cut_a, ends[j - 1] - cut_b
            out.append(Finding(kind, digits, src[start], src[end - 1] + 1))
    out.sort(key=lambda f: (f.start, -f.end))
    return out


def _cn_count(text: str, src: list[int], positions: range) -> int:
    """How many digits at one end of a group were written as Chinese digits."""
    n = 0
    for p in positions:
        if text[src[p]] not in CHINESE_DIGITS:
            break
        n += 1
    return n


def scan_text(text: str) -> list[str]:
    """Reasons ``text`` must not appear in a public output (empty when it is clean),
    each naming what was found with the number masked, e.g. ``疑似手机号码（尾号5678）``."""
    reasons: list[str] = []
    for f in find_numbers(text):
        r = "疑似" + f.reason
        if r not in reasons:
            reasons.append(r)
    return reasons


def mask_numbers(text: str) -> str:
    """``text`` with every risky number replaced by its mask (an ID keeps its first 6
    and last 4, a card or account its last 4, a phone nothing). The result always passes
    :func:`scan_text`."""
    for _round in range(3):
        found = find_numbers(text)
        if not found:
            return text
        pieces: list[str] = []
        pos = 0
        i = 0
        while i < len(found):
            f = found[i]
            start, end, mask = f.start, f.end, f.masked
            j = i + 1
            while j < len(found) and found[j].start < end:  # overlapping: hide them all
                end = max(end, found[j].end)
                mask = ""
                j += 1
            if not mask:
                mask = "*" * sum(c.isdigit() or c in "Xx" for c in normalise(text[start:end]))
            if start < pos:
                start = pos
            pieces.append(text[pos:start])
            pieces.append(mask)
            pos = end
            i = j
        pieces.append(text[pos:])
        text = "".join(pieces)
    # Still something left (numbers formed across the masks): hide every digit.
    return "".join("*" if DIGITISH.fullmatch(ch) or COMPAT.fullmatch(ch) else ch for ch in text)
