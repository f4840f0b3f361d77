"""NoticeDocument -> one self-contained HTML page.

The page references nothing outside itself (the QR code is an inline ``data:`` PNG and
the CSS is inline), so it opens offline and can be forwarded as a single file. It is
rendered from ``templates/notice.html.j2`` with autoescape on: a name such as
``<script>`` or ``{{ 7*7 }}`` is data, shown literally, never markup or template code.
The CSS lives as literal text in the template, outside any ``{{ }}``, so escaping can
never mangle the quoted font-family names.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from villageboard.domain.dates import cn_date
from villageboard.render.document import NoticeDocument
from villageboard.render.privacy import gate_document
from villageboard.render.qr import qr_png
from villageboard.render.templates import render_frozen, render_template

TEMPLATE = "notice.html.j2"


def page_context(doc: NoticeDocument) -> dict[str, Any]:
    """What ``notice.html.j2`` is given: the document and the bits made from it."""
    stamp = doc.stamp.strip()
    head, _sep, tail = stamp.rpartition(" ")
    if not head:
        head, tail = stamp, ""
    return {
        "doc": doc,
        "qr_data_uri": "data:image/png;base64," + base64.b64encode(qr_png(doc.qr_payload, box_size=6)).decode("ascii"),
        "stamp_head": head,
        "stamp_tail": tail,
        "issued_cn": cn_date(doc.issued_date),
    }


def render_html(doc: NoticeDocument, data_dir: Path | str | None = None) -> str:
    """The notice as an HTML page (str). Runs the privacy gate first.

    A posted notice carries the page template it was posted with
    (``doc.page_templates``); it prints with that, whatever the template folders hold
    now. Other documents use the current ``notice.html.j2``."""
    gate_document(doc, f"公示《{doc.title}》的网页版")
    context = page_context(doc)
    if doc.page_templates:
        return render_frozen(TEMPLATE, doc.page_templates, context, html=True)
    return render_template(TEMPLATE, context, data_dir=data_dir, html=True)
