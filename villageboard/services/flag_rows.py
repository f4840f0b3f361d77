"""The rows the risk flags work on: what the flags need of one stored application,
extracted once per data file from the raw document, with quantities as exact
hundredths and every personal number as a keyed digest (the extracts are kept outside
the data dir, store.derived)."""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal
from typing import Any, NamedTuple

from villageboard.domain.masking import mask_long_numbers
from villageboard.domain.money import format_quantity

PLAIN_QTY = re.compile(r"(\d+)(?:\.(\d{1,2}))?")


def hundredths(value: Any) -> int:
    """A stored quantity ('12.5', '3', Decimal) as exact hundredths (1250, 300)."""
    text = str(value)
    m = PLAIN_QTY.fullmatch(text)
    if m is not None:
        return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    return int(Decimal(text).scaleb(2).to_integral_value())  # '1E+1' and the like


def show_hundredths(h: int) -> str:
    """Hundredths back to the quantity as written: 1250 -> '12.5', 300 -> '3'."""
    whole, frac = divmod(h, 100)
    return str(whole) if not frac else f"{whole}.{frac:02d}".rstrip("0")


def show_half(h2: int) -> str:
    """Twice a quantity in hundredths, halved (an even count's median)."""
    return format_quantity((Decimal(h2) / 2).scaleb(-2).quantize(Decimal("0.01")))


class FlagRow(NamedTuple):
    """What the flags need of one stored application, extracted once per file."""

    app_id: str
    code: str
    household_id: int
    village_id: int
    q: int  # quantity in hundredths
    rejected: bool
    approved: bool  # 通过: only these are a baseline for the growth flag
    created: str  # YYYY-MM-DD
    events: tuple[tuple[str, str], ...]  # per bank attempt: (issued day, paid day or "")
    cleared: tuple[dict[str, Any], ...]
    land: bool  # the row keeps 确权/扣除 land (then q is its 补贴面积)
    no_reason: bool  # land with a deduction but no 扣除原因
    # A per-person row's entitled person, and the card its last bank attempt went to
    # (with that card's last 4 digits), as keyed digests: the extracts are kept outside
    # the data dir, so no whole ID or card number goes in them.
    person: str
    paid_to: str
    paid_tail: str


def digest_number(key: bytes, text: str) -> str:
    """A number as a keyed digest (letters and the digits 2-7 only, so it never reads
    as a long number): the same number gives the same digest, and nobody without the
    township's key can tell which number it was."""
    raw = hashlib.blake2b(text.encode(), key=key, digest_size=10).digest()
    return base64.b32encode(raw).decode().rstrip("=")


def extract_row(
    doc: dict[str, Any], memo: dict[Any, int], key: bytes = b"", digests: dict[str, str] | None = None
) -> FlagRow:
    """``digests``: the digests already made with this ``key``, by number (a
    household's card and ID come back in every program and year); filled in here."""
    raw = doc["quantity"]
    q = memo.get(raw)
    if q is None:
        q = memo[raw] = hundredths(raw)
    events = tuple(
        (str(a.get("issued", ""))[:10], str(a.get("paid_date", ""))[:10] if a.get("result") == "paid" else "")
        for a in doc.get("attempts") or ()
    )
    land = doc.get("certified_area") is not None
    deducted = doc.get("deducted_area")
    no_reason = (
        land
        and deducted is not None
        and hundredths(deducted) > 0
        and not str(doc.get("deduction_reason") or "").strip()
    )
    return FlagRow(
        doc["id"],
        doc["program_code"],
        doc["household_id"],
        doc["village_id"],
        q,
        doc.get("status") == "rejected",
        doc.get("status") == "approved",
        str(doc.get("created", ""))[:10],
        events,
        tuple(masked_clearing(c) for c in doc.get("cleared_flags") or ()),
        land,
        no_reason,
        _digest(key, person, digests) if (person := doc.get("person_id_number")) else "",
        _digest(key, account, digests) if (account := last_account(doc)) else "",
        account[-4:],
    )


def _digest(key: bytes, text: str, digests: dict[str, str] | None) -> str:
    if digests is None:
        return digest_number(key, text)
    got = digests.get(text)
    if got is None:
        got = digests[text] = digest_number(key, text)
    return got


def last_account(doc: dict[str, Any]) -> str:
    for a in reversed(doc.get("attempts") or ()):
        if a.get("account"):
            return str(a["account"])
    return ""


def masked_clearing(c: dict[str, Any]) -> dict[str, Any]:
    """A clearing record with any whole phone, ID or card number in its free text
    masked: the extracted rows are kept outside the data dir (store.derived)."""
    return {k: mask_long_numbers(v) if k in ("note", "message") and isinstance(v, str) else v for k, v in c.items()}
