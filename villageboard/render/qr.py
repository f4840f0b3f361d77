"""QR codes for notices: the payload format, its parser, and the module matrix.

The payload carries no personal data: only the notice code, its version and its tag
(DESIGN.md §6). Two forms:

* offline (no portal configured): ``VB1/141025-2026-0012/V1/7K2P9QXM4ZT3A`` — upper case
  letters, digits, ``/`` and ``-`` only, so it fits QR's compact alphanumeric mode (a
  smaller symbol prints with bigger modules) and a phone's own scanner shows the code,
  version and tag as readable text that the villager can compare with the poster;
* with the county portal: ``https://portal.example.gov.cn/verify?c=141025-2026-0012&v=1&t=7K2P…``
  so the phone offers to open the verification page.

:func:`parse_qr_payload` reads both back (also ``|`` separators and lower case), which
is what the archive's "verify from a poster" screen uses.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
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
    bad = VBError("扫描到的二维码不是本系统公示的核验码（应为“VB1/编号/V版本/核验码”或核验网址）。")
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


def _make(payload: str):  # -> qrcode.QRCode
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

