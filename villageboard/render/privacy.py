"""The privacy gate: no full ID, card or phone number ever reaches a public output.

Boards that printed full ID and bank-card numbers (海口 2019, 杭州钱塘 2023, 蕲春 2025,
桐庐/兰溪 2021) are the failure this module exists to prevent. Every public backend calls
:func:`gate_document` before it returns or writes a byte; it blocks, naming the record
and field, when it finds (DESIGN.md §5):

* an 18-character ID with a valid check digit, or a 15-digit old-style ID;
* a Luhn-valid 16–19 digit number;
* an 11-digit mobile number (1[3-9]…);
* any run of 12 or more digits.

Text is normalised first (full-width digits, other Unicode decimal digits, full-width
X), and numbers broken up by spaces or hyphens (``138 1234 5678``,
``6222-0212-3456-7890``) are joined back and checked for the same shapes. A plain
"12 or more digits" rule is applied to contiguous runs only, so a notice code such as
``141025-2026-0012`` (three short groups) and a masked ID ``141025********123X`` pass.
Found numbers are never echoed back in full: messages show them masked.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable

from stdnum.cn import ric

from villageboard.domain.errors import PrivacyError
from villageboard.domain.masking import mask_id
from villageboard.domain.validate import luhn_valid

# One separator between digit groups: a space of any kind or a hyphen/dash of any kind.
_SEP = r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d_]"
# A maximal sequence of digit groups joined by 1–3 separators, optionally ending in an
# ID check character X (possibly itself after a separator).
_SEQUENCE = re.compile(
    rf"(?<![0-9])[0-9]+(?:{_SEP}{{1,3}}[0-9]+)*(?:{_SEP}{{0,3}}[Xx](?![A-Za-z]))?"
)
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_DIGIT = re.compile(r"[0-9]")


def normalize_digits(text: str) -> str:
    """Fold every way of writing a digit into ASCII so ``１３８…`` or Arabic-Indic digits
    cannot slip past; also folds full-width X and odd spaces (NFKC)."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    out = []
    for ch in text:
        if not ch.isascii() and ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def _valid_id18(s: str) -> bool:
    return (
        len(s) == 18 and s[:17].isdigit() and (s[17].isdigit() or s[17] in "Xx")
        and ric.calc_check_digit(s.upper()) == s[17].upper()
    )


def _valid_yymmdd(s: str) -> bool:
    try:
        dt.date(1900 + int(s[0:2]), int(s[2:4]), int(s[4:6]))
    except ValueError:
        return False
    return True


def _valid_id15(s: str) -> bool:
    return len(s) == 15 and s.isdigit() and _valid_yymmdd(s[6:12])


def _tail(s: str) -> str:
    return f"尾号{s[-4:]}"


def _classify(digits: str, contiguous: bool) -> str | None:
    """The reason a (joined) digit string must not be published, or None.

    ``contiguous`` is False for groups joined across separators: those are checked only
    for the specific risky shapes, not for mere length, so short codes and dates pass.
    """
    n = len(digits)
    if n == 18 and _valid_id18(digits):
        return f"身份证号（{mask_id(digits.upper())}）"
    if not digits.isdigit():
        return None
    if n == 15 and _valid_id15(digits):
        return f"15位旧身份证号（{mask_id(digits)}）"
    if 16 <= n <= 19 and luhn_valid(digits):
        return f"银行卡号（{_tail(digits)}，共{n}位）"
    if n == 11 and _MOBILE.fullmatch(digits):
        return f"手机号码（{_tail(digits)}）"
    if contiguous and n >= 12:
        return f"连续{n}位数字（{_tail(digits)}），可能是账号或证件号"
    return None


def _groups(seq: str) -> list[str]:
    parts = [p for p in re.split(rf"{_SEP}+", seq) if p]
    # An X standing alone after a separator belongs to the group before it.
    if len(parts) >= 2 and parts[-1] in ("X", "x"):
        x = parts.pop()
        parts[-1] += x
    return parts


def _date_groups(groups: list[str]) -> list[bool]:
    """Which groups belong to a written date (2026-11-03 → "2026", "11", "03")."""
    marks = [False] * len(groups)
    for i in range(len(groups) - 2):
        y, mo, d = groups[i : i + 3]
        if (
            len(y) == 4 and y[:2] in ("19", "20") and len(mo) <= 2 and len(d) <= 2
            and mo.isdigit() and d.isdigit() and 1 <= int(mo) <= 12 and 1 <= int(d) <= 31
        ):
            marks[i] = marks[i + 1] = marks[i + 2] = True
    return marks


def scan_text(text: str) -> list[str]:
    """Reasons this text must not appear in a public output (empty when it is clean).

    Each reason names what was found with the number masked, e.g.
    ``疑似身份证号（141025********123X）``.
    """
    if not text:
        return []
    norm = normalize_digits(text)
    # Every shape needs at least 11 digits: most cells (serials, amounts, masked IDs)
    # are cleared here without the expensive search.
    if len(_DIGIT.findall(norm)) < 11:
        return []
    found: list[str] = []
    seen: set[str] = set()

    def add(reason: str | None) -> bool:
        if reason and reason not in seen:
            seen.add(reason)
            found.append("疑似" + reason)
        return bool(reason)

    for m in _SEQUENCE.finditer(norm):
        groups = _groups(m.group(0))
        n = len(groups)
        covered: list[tuple[int, int]] = []
        in_date = _date_groups(groups)
        # Longest spans first, so "110105 19491231 002X" reports one ID and not also the
        # mobile-looking middle. Joined spans are checked for the specific shapes only;
        # single groups (contiguous digits) also for the 12-or-more rule.
        for size in range(n, 0, -1):
            for i in range(0, n - size + 1):
                j = i + size
                if any(a <= i and j <= b for a, b in covered):
                    continue
                if size > 1 and all(in_date[i:j]):
                    continue  # "2026-11-03 2026-11-10" is two dates, not a card number
                joined = "".join(groups[i:j])
                contiguous = size == 1
                reason = _classify(joined, contiguous)
                if reason is None and not joined.isdigit():
                    reason = _classify(joined[:-1], contiguous)
                if add(reason):
                    covered.append((i, j))
        # A long number written in card-style groups (e.g. 6222 0212 3456 7890 123).
        whole = "".join(g.rstrip("Xx") for g in groups)
        if (
            not covered and n >= 2 and len(whole) >= 16
            and all(len(g.rstrip("Xx")) >= 3 for g in groups)
        ):
            add(f"分段书写的{len(whole)}位数字（{_tail(whole)}），可能是账号或证件号")
    return found


def gate(items: Iterable[tuple[str, str]], output_label: str) -> None:
    """Scan every (where, text) pair; raise :class:`PrivacyError` listing every finding.

    ``where`` names the record and field, e.g. ``第12行 张伟 “备注”``, so the clerk can fix
    the source record; ``output_label`` names the output being made.
    """
    findings: list[str] = []
    for where, text in items:
        for reason in scan_text(text):
            findings.append(f"{where}：{reason}")
    if findings:
        raise PrivacyError(findings, output_label)


def gate_document(doc: object, output_label: str = "") -> None:
    """Run the gate over every string of a NoticeDocument, the QR payload included."""
    from villageboard.render.document import NoticeDocument

    if not isinstance(doc, NoticeDocument):
        raise TypeError("gate_document needs a NoticeDocument")
    label = output_label or f"公示《{doc.title}》"
    gate(doc.texts(), label)
