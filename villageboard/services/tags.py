"""Notice tags: HMAC-SHA256 under the township's key over the notice's canonical
content, truncated to 80 bits and written in Crockford base32 (4 groups of 4)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TAG_BITS = 80
_DECODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def canonical(content: dict[str, Any]) -> bytes:
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def crockford(data: bytes, bits: int) -> str:
    n = int.from_bytes(data, "big") >> (len(data) * 8 - bits)
    out = []
    for _ in range(bits // 5):
        out.append(ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(out))


def make_tag(key_hex: str, content: dict[str, Any]) -> str:
    mac = hmac.new(bytes.fromhex(key_hex), canonical(content), hashlib.sha256).digest()
    raw = crockford(mac, TAG_BITS)
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_tag(text: str) -> str:
    """Accept what a person might type: any case, spaces or dashes, O for 0, I/L for 1."""
    t = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_DECODE_ALIASES)
    return "-".join(t[i : i + 4] for i in range(0, len(t), 4))


def tags_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(normalise_tag(a), normalise_tag(b))
