"""One cell of a clerk's table as text, and the traces Excel leaves on long numbers.

Every value comes back as *text*; the domain validators decide what is valid. Only what
is certainly noise is cleaned off (full-width digits, stray spaces, control characters,
the ``="0123"`` and ``'0123`` tricks for keeping numbers as text). An ID or account that
Excel stored as a number has already lost its last digits, so it is shown the way Excel
shows it (``1.41025199001011E+17``) and flagged, never "repaired".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import TYPE_CHECKING, Literal

from villageboard.domain.validate import halfwidth, luhn_valid

if TYPE_CHECKING:
    from villageboard.io.headers import FieldSpec

__all__ = [
    "CONTROL_CHARS",
    "NUMBER_NOUNS",
    "NUMBER_SENSITIVE",
    "SPACES",
    "CleanKind",
    "cell_text",
    "excel_number_text",
    "is_blank",
    "lost_digits_hint",
    "squash_cell",
]

CleanKind = Literal["compact", "name", "text"]

SPACES = re.compile(r"[\s\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff]+")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_blank(value: object) -> bool:
    """Empty, or only spaces and control characters (which xlsx cannot even hold)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    if value.isprintable():  # no control or format character: only spaces can be blank
        return not value or value.isspace()
    return not SPACES.sub("", CONTROL_CHARS.sub("", value))


def excel_number_text(value: float | int) -> str:
    """A number as Excel's General format shows it in the formula bar for long numbers.

    Used for ID/account columns that were stored as numbers: ``141025199001011000``
    becomes ``1.41025199001011E+17`` — recognisably broken, never silently "repaired".
    """
    f = float(value)
    if not math.isfinite(f):
        return ""
    if f.is_integer() and abs(f) < 1e11:
        return str(int(f))
    if abs(f) < 1e11:
        return format(f, ".15g")
    mantissa, exponent = f"{f:.14E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{int(exponent):+03d}"


def _number_text(value: float | int) -> str:
    """A numeric cell as the clerk sees it: integral values without ``.0``, others with
    at most 15 significant digits (what Excel stores), so 1.1*3 reads as 3.3."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return format(value, ".15g")


# anything _clean_text would change: spaces, control and full-width characters, quotes
_NEEDS_CLEANING = re.compile(r"[\s\x00-\x1f\u3000\u00a0\u200b-\u200d\u2060\ufeff\uff01-\uff5e'`‘’=]")


def _clean_text(text: str, kind: CleanKind) -> str:
    if not _NEEDS_CLEANING.search(text):
        return text  # the common case, checked with one scan
    text = CONTROL_CHARS.sub("", text)  # control characters are never data
    if kind == "text":
        return SPACES.sub(" ", text).strip()
    if kind == "name":
        return SPACES.sub("", text)
    t = SPACES.sub("", halfwidth(text))
    # Excel/WPS tricks for keeping long numbers as text in CSV: ="0123", '0123, `0123
    if len(t) >= 3 and t.startswith('="') and t.endswith('"'):
        t = t[2:-1]
    return t.lstrip("'`‘’")


def cell_text(value: object, spec: FieldSpec) -> tuple[str, bool]:
    """(text, stored_as_number) for one cell of one field."""
    if type(value) is str:  # the common case first
        if value.isascii() and value.isalnum():
            return value, False  # nothing to clean: no space, control, full-width or quote
        return _clean_text(value, spec.clean), False
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int | float):
        if spec.text_only or spec.key in NUMBER_SENSITIVE:
            return excel_number_text(value), True
        return _number_text(value), False
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), False
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(), False
    if isinstance(value, str):
        return _clean_text(value, spec.clean), False
    return _clean_text(str(value), spec.clean), False


NUMBER_SENSITIVE = frozenset({"id_number", "card_account"})
NUMBER_NOUNS = {"id_number": "身份证号", "card_account": "账号"}


def _id_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def lost_digits_hint(key: str, text: str) -> bool:
    """A long number whose tail became zeros and whose check digit fails: the typical
    trace of Excel's 15-digit limit after the sheet was saved as CSV or copied around."""
    if not text.isdigit() or len(text) < 16:
        return False
    if not text.endswith("0" * (len(text) - 15)):
        return False
    if key == "id_number":
        return len(text) == 18 and _id_check_digit(text[:17]) != text[17]
    return not luhn_valid(text)


def squash_cell(value: object) -> str:
    """Any cell as compact text (for recognising 合计/示例 rows); control characters
    are dropped as everywhere else, since the errors sheet cannot even hold them."""
    if value is None:
        return ""
    text = str(value)
    if not _NEEDS_CLEANING.search(text):
        return text  # nothing to drop or fold
    return SPACES.sub("", halfwidth(CONTROL_CHARS.sub("", text)))
