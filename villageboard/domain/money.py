"""Money is integer fen; quantities are exact decimals. Nothing here uses floats."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal

ROUNDING_RULES: dict[str, tuple[str, str]] = {
    # code: (decimal rounding mode, Chinese label)
    "half_up": (ROUND_HALF_UP, "四舍五入到分"),
    "down": (ROUND_DOWN, "舍去分以下"),
    "up": (ROUND_UP, "分以下进一"),
    "half_even": (ROUND_HALF_EVEN, "银行家舍入到分"),
}
DEFAULT_ROUNDING = "half_up"

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SECTION_UNITS = ("", "万", "亿", "万亿")


def entitlement_fen(quantity: Decimal, rate_fen: Decimal | int, rounding: str = DEFAULT_ROUNDING) -> int:
    """quantity × rate, rounded once, per row, to the fen by the program's rule."""
    if rounding not in ROUNDING_RULES:
        raise ValueError(f"unknown rounding rule {rounding!r}")
    mode = ROUNDING_RULES[rounding][0]
    exact = Decimal(quantity) * Decimal(str(rate_fen))
    return int(exact.quantize(Decimal(1), rounding=mode))


#: a rate keeps the policy document's precision: up to 4 decimals of a yuan
RATE_PLACES = 4


def format_rate(rate_fen: Decimal | int | str, thousands: bool = True) -> str:
    """A rate (fen per unit, maybe fractional) in yuan, 2 to 4 decimals:
    10368 -> '103.68', Decimal('10368.5') -> '103.685'."""
    yuan = Decimal(str(rate_fen)) / 100
    text = f"{yuan:,.{RATE_PLACES}f}" if thousands else f"{yuan:.{RATE_PLACES}f}"
    whole, _, dec = text.partition(".")
    dec = dec.rstrip("0")
    return f"{whole}.{dec.ljust(2, '0')}"


def parse_rate(text: str) -> Decimal:
    """'103.685' or '103.685元' -> Decimal('10368.5') fen per unit. Raises ValueError on
    more than 4 decimals, a negative or an unreadable rate."""
    t = text.strip().replace("，", ",").removesuffix("元").strip()
    if not _YUAN.fullmatch(t) or t.startswith("-"):
        raise ValueError(f"补贴标准“{text}”写法不对")
    d = Decimal(t.replace(",", ""))
    if d != d.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise ValueError(f"补贴标准最多{RATE_PLACES}位小数")
    fen = d * 100
    return fen.quantize(Decimal(1)) if fen == fen.to_integral_value() else fen.normalize()


def format_fen(fen: int, thousands: bool = True) -> str:
    """12345 -> '123.45' (with thousands separators by default: 1,234.56)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    yuan, cents = divmod(fen, 100)
    y = f"{yuan:,}" if thousands else str(yuan)
    return f"{sign}{y}.{cents:02d}"


#: yuan as written: plain digits, or thousands in groups of exactly three (1,250.50)
_YUAN = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")


def parse_yuan(text: str) -> int:
    """'1,250.5' or '1250.50元' -> 125050 fen. Raises ValueError on more than 2 decimals,
    and on a comma that is not a thousands separator ('1,5' is not 15) or an exponent."""
    t = text.strip().replace("，", ",").removesuffix("元").strip()
    if not _YUAN.fullmatch(t):
        raise ValueError(f"金额“{text}”写法不对")
    d = Decimal(t.replace(",", ""))
    if d != d.quantize(Decimal("0.01")):
        raise ValueError("金额最多两位小数")
    return int(d * 100)


def _section_words(n: int) -> str:
    """Words for 1..9999 inside one 4-digit section, with inner zeros collapsed."""
    out = ""
    pending_zero = False
    for place, unit in ((1000, "仟"), (100, "佰"), (10, "拾"), (1, "")):
        d = n // place % 10
        if d == 0:
            pending_zero = pending_zero or bool(out)
            continue
        if pending_zero:
            out += "零"
            pending_zero = False
        out += _DIGITS[d] + unit
    return out


def _yuan_words(yuan: int) -> str:
    if yuan == 0:
        return "零"
    sections = []
    while yuan:
        sections.append(yuan % 10000)
        yuan //= 10000
    if len(sections) > len(_SECTION_UNITS):
        raise ValueError("金额过大")
    out = ""
    gap = False
    for idx in reversed(range(len(sections))):
        s = sections[idx]
        if s == 0:
            gap = gap or bool(out)
            continue
        if out and (gap or s < 1000):
            out += "零"
        out += _section_words(s) + _SECTION_UNITS[idx]
        gap = False
    return out


def capital_amount(fen: int) -> str:
    """Chinese capital numerals for an amount, as written on vouchers:
    1234567 fen -> 人民币壹万贰仟叁佰肆拾伍元陆角柒分; 100000 -> 人民币壹仟元整."""
    if fen < 0:
        raise ValueError("金额不能为负数")
    yuan, rest = divmod(fen, 100)
    jiao, f = divmod(rest, 10)
    if jiao == 0 and f == 0:
        return f"人民币{_yuan_words(yuan)}元整"
    out = "人民币"
    if yuan:
        out += _yuan_words(yuan) + "元"
        if jiao:
            out += _DIGITS[jiao] + "角"
        else:
            out += "零"
    elif jiao:
        out += _DIGITS[jiao] + "角"
    if f:
        out += _DIGITS[f] + "分"
    return out


def format_quantity(q: Decimal | str | int) -> str:
    """Exact decimal without trailing zeros: 12.50 -> '12.5', 3.00 -> '3'."""
    d = Decimal(q)
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")
