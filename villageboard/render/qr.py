"""QR codes for notices: the payload format, its parser, and the module matrix.

The payload carries no personal data: what the notice is, its version, its totals and
its tag, never a name or a number of a person (DESIGN.md §6, §9). Three forms:

* the sentence (notices posted since the key panel): any phone's scanner shows it as
  plain words a villager can hold against the poster, e.g.
  ``古县岳阳镇东沟村 2026年耕地地力保护补贴发放结果公示 第1版 86户 合计222,105.35元
  核验码MBSF-JT6G-WJ8E-QRF2 核验电话0357-5225678`` (see :func:`qr_sentence`);

* offline (no portal configured): ``VB1/141025-2026-0012/V1/7K2P9QXM4ZT3A`` — upper case
  letters, digits, ``/`` and ``-`` only, so it fits QR's compact alphanumeric mode (a
  smaller symbol prints with bigger modules) and a phone's own scanner shows the code,
  version and tag as readable text that the villager can compare with the poster;
* with the county portal: ``https://portal.example.gov.cn/verify?c=141025-2026-0012&v=1&t=7K2P…``
  so the phone offers to open the verification page.

:func:`read_payload` reads all three back (also ``|`` separators and lower case) as a
:class:`Claim`: what the scanned text says, for ``verify`` to hold against the archive.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from villageboard.domain.errors import VBError

PREFIX = "VB1"
#: Error correction Q (25 % of the symbol can be lost: a stained or creased poster).
ERROR_CORRECTION = "Q"
QUIET_ZONE = 4


#: Tag placeholder of a draft (not yet posted, so not yet tagged): verify rejects it.
DRAFT_TAG = "DRAFT"


def qr_payload(code: str, version: int, tag: str, portal_url: str = "") -> str:
    """The text encoded in a notice's QR code. No personal data, ever. A draft has no
    tag yet; its preview carries ``DRAFT``, which no verification accepts."""
    code = code.strip()
    tag = tag.strip() or DRAFT_TAG
    if not code:
        raise ValueError("qr_payload needs a notice code")
    if portal_url.strip():
        base = portal_url.strip().rstrip("/")
        if not base.lower().endswith("/verify"):
            base += "/verify"
        sep = "&" if "?" in base else "?"
        return base + sep + urlencode({"c": code, "v": int(version), "t": tag})
    return f"{PREFIX}/{code}/V{int(version)}/{tag.upper()}"


def parse_qr_payload(text: str) -> tuple[str, int, str]:
    """(code, version, tag) from a scanned payload; VBError when it is not ours."""
    t = (text or "").strip()
    bad = VBError("扫描到的二维码不是本系统公示的核验码（应为扫码得到的整段文字、“VB1/编号/V版本/核验码”或核验网址）。")
    if re.match(r"(?i)^https?://", t):
        query = parse_qs(urlsplit(t).query)
        try:
            code = query["c"][0].strip()
            version = int(query["v"][0])
            tag = query["t"][0].strip().upper()
        except (KeyError, IndexError, ValueError):
            raise bad from None
        if not code or not tag:
            raise bad
        return code, version, tag
    parts = re.split(r"[/|]", t)
    if len(parts) < 4 or parts[0].upper() != PREFIX:
        raise bad
    version_text, tag = parts[-2].strip(), parts[-1].strip().upper()
    code = "/".join(parts[1:-2]).strip()
    m = re.fullmatch(r"[Vv]?(\d+)", version_text)
    if not m or not code or not tag:
        raise bad
    return code, int(m.group(1)), tag


#: A sentence payload's fields, in order; each is one space-separated word.
_SENTENCE = re.compile(
    r"^(?P<place>\S+)\s+(?P<subject>(?P<year>\d{4})年\S+)\s+第(?P<version>\d+)版\s+(?P<households>\d+)户\s+"
    r"合计(?P<amount>[\d,]+\.\d{2})元\s+核验码(?P<tag>[0-9A-Za-z-]+)(?:\s+核验电话(?P<phone>\S+))?\s*$"
)


def qr_sentence(
    place: str, subject: str, version: int, households: int, amount_fen: int, tag: str, phone: str = ""
) -> str:
    """The QR text of a notice as one sentence a phone shows as it is: place (county,
    township, village), year + program + kind, version, households, total, tag and the
    number to call. No personal data: the totals are printed on the poster anyway."""
    from villageboard.domain.money import format_fen

    tag = tag.strip().upper() or DRAFT_TAG
    words = [
        _word(place),
        _word(subject),
        f"第{int(version)}版",
        f"{int(households)}户",
        f"合计{format_fen(amount_fen)}元",
        f"核验码{tag}",
    ]
    if phone.strip():
        words.append(f"核验电话{_word(phone)}")
    return " ".join(words)


def _word(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class Claim:
    """What a scanned or typed payload says about its notice. ``code`` is empty for a
    sentence (the tag finds the notice); the other fields are None when the form does
    not carry them."""

    tag: str
    code: str = ""
    version: int | None = None
    year: int | None = None
    place: str | None = None
    subject: str | None = None
    households: int | None = None
    amount_fen: int | None = None
    phone: str | None = None


def read_payload(text: str) -> Claim:
    """A scanned QR text in any of its forms (sentence, ``VB1/…``, portal address) as a
    :class:`Claim`; VBError when it is none of them."""
    t = (text or "").strip()
    m = _SENTENCE.match(t)
    if m:
        from villageboard.domain.money import parse_yuan

        return Claim(
            tag=m["tag"].upper(),
            version=int(m["version"]),
            year=int(m["year"]),
            place=m["place"],
            subject=m["subject"],
            households=int(m["households"]),
            amount_fen=parse_yuan(m["amount"]),
            phone=m["phone"],
        )
    code, version, tag = parse_qr_payload(t)
    return Claim(tag=tag, code=code, version=version)


def _make(payload: str) -> Any:  # a qrcode.QRCode (the library ships no types)
    import qrcode
    from qrcode.constants import ERROR_CORRECT_Q

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=QUIET_ZONE, box_size=10)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr


@lru_cache(maxsize=256)
def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    """Module matrix (True = dark) INCLUDING the 4-module quiet zone on every side.

    Cached: a batch draws the same symbol on every page of a notice."""
    qr = _make(payload)
    return tuple(tuple(bool(v) for v in row) for row in qr.get_matrix())


def qr_png(payload: str, box_size: int = 8) -> bytes:
    """A crisp black-on-white PNG of the symbol, quiet zone included (for HTML)."""
    from PIL import Image

    matrix = qr_matrix(payload)
    n = len(matrix)
    img = Image.new("1", (n, n), 1)
    img.putdata([0 if dark else 1 for row in matrix for dark in row])
    img = img.resize((n * box_size, n * box_size), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
