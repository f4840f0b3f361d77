"""The privacy gate: no full ID, card or phone number ever reaches a public output.

Boards that printed full ID and bank-card numbers (海口 2019, 杭州钱塘 2023, 蕲春 2025,
桐庐/兰溪 2021) are the failure this module exists to prevent. Every public backend calls
:func:`gate_document` before it returns or writes a byte; it blocks, naming the record
and field, when it finds (DESIGN.md §5):

* an 18-character ID with a valid check digit, or a 15-digit old-style ID;
* a Luhn-valid 16–19 digit number;
* an 11-digit mobile number (1[3-9]…);
* any run of 12 or more digits.

The scanning itself lives in :mod:`villageboard.domain.private_numbers`, so the same
rules also run where text enters (imports, entry, objections) and at ``notice post``:
text is normalised first (width forms, invisible characters, Chinese digits) and digit
groups split by a separator are joined back. Found numbers are never echoed back in
full: messages show them masked.
"""

from __future__ import annotations

from collections.abc import Iterable

from villageboard.domain.errors import PrivacyError
from villageboard.domain.private_numbers import scan_text

__all__ = ["gate", "gate_document", "scan_text"]


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
    label = output_label or f"{doc.kind_label}《{doc.title}》"
    gate(doc.texts(), label)
