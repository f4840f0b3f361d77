"""The rendering layer: one NoticeDocument -> PDF / PNG / HTML, plus QR codes, fonts,
user-editable templates and the privacy gate.

No Textual and no database here: callers build a :class:`NoticeDocument` and hand it
over. Heavy modules (fpdf2, pypdfium2, fontTools) load on first use, so importing this
package costs nothing at app start.

Public API::

    from villageboard.render import (
        Column, Row, Table, NoticeDocument, totals_line,       # the model
        render_pdf, render_pdf_batch, print_settings,           # PDF
        pdf_to_pngs, render_html, render_all,                   # other forms
        qr_payload, parse_qr_payload, qr_png,                   # QR
        render_template, intro_paragraphs,                      # templates
        check_templates, TemplateProblem,                       # checking a template folder
        scan_text, gate, gate_document,                         # privacy gate
        primary_font, resolve_fonts,                            # fonts
    )
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from villageboard.render.document import Column, NoticeDocument, Row, Table, totals_line

_LAZY = {
    "render_pdf": "pdf.paint",
    "render_pdf_batch": "pdf.batch",
    "print_settings": "pdf.layout",
    "PrintSettings": "pdf.layout",
    "pdf_to_pngs": "png",
    "render_pngs": "png",
    "render_html": "html",
    "render_all": "output",
    "qr_payload": "qr",
    "parse_qr_payload": "qr",
    "qr_png": "qr",
    "qr_matrix": "qr",
    "render_template": "templates",
    "render_paragraphs": "templates",
    "intro_paragraphs": "templates",
    "check_templates": "template_check",
    "TemplateProblem": "template_check",
    "scan_text": "privacy",
    "gate": "privacy",
    "gate_document": "privacy",
    "primary_font": "fonts",
    "resolve_fonts": "fonts",
}

__all__ = [
    "Column",
    "NoticeDocument",
    "Row",
    "Table",
    "totals_line",
    "render_pdf",
    "render_pdf_batch",
    "print_settings",
    "PrintSettings",
    "pdf_to_pngs",
    "render_pngs",
    "render_html",
    "render_all",
    "qr_payload",
    "parse_qr_payload",
    "qr_png",
    "qr_matrix",
    "render_template",
    "render_paragraphs",
    "intro_paragraphs",
    "check_templates",
    "TemplateProblem",
    "scan_text",
    "gate",
    "gate_document",
    "primary_font",
    "resolve_fonts",
]

if TYPE_CHECKING:  # pragma: no cover
    from villageboard.render.fonts import primary_font, resolve_fonts
    from villageboard.render.html import render_html
    from villageboard.render.output import render_all
    from villageboard.render.pdf.batch import render_pdf_batch
    from villageboard.render.pdf.layout import PrintSettings, print_settings
    from villageboard.render.pdf.paint import render_pdf
    from villageboard.render.png import pdf_to_pngs, render_pngs
    from villageboard.render.privacy import gate, gate_document, scan_text
    from villageboard.render.qr import parse_qr_payload, qr_matrix, qr_payload, qr_png
    from villageboard.render.template_check import TemplateProblem, check_templates
    from villageboard.render.templates import intro_paragraphs, render_paragraphs, render_template


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'villageboard.render' has no attribute {name!r}")
    value = getattr(import_module(f"villageboard.render.{module}"), name)
    globals()[name] = value
    return value
