"""Dates the way a notice writes them: 2026年11月3日."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_ISO = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*")


def cn_date(value: Any) -> str:
    """2026-11-03 (a date or an ISO date string) -> 2026年11月3日; None -> ""; any other
    text unchanged, so a template that passes words through still prints them."""
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    text = str(value or "")
    m = _ISO.fullmatch(text)
    if m:
        return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    return text
