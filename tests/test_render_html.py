"""The HTML notice: one self-contained page, escaped, CSS intact."""

from __future__ import annotations

import base64
import io
import re
import subprocess
from html.parser import HTMLParser

import pytest

from tests.conftest_render import CODE, TAG, need_tool, result_notice, summary_notice
from villageboard.domain.errors import PrivacyError
from villageboard.render.html import render_html


@pytest.fixture(scope="module")
def page() -> tuple[str, object]:
    doc = result_notice(60, rare=False, stamp="公示期满存档 2026-12-01")
    rows = doc.tables[0].rows
    rows[0].cells[2] = "<script>alert(1)</script>"
    rows[1].cells[2] = "{{ 7*7 }}"
    rows[2].cells[8] = "\"引号\" & 'apos' </td></tr>"
    return render_html(doc), doc


def test_self_contained(page):
    text, _doc = page
    refs = re.findall(r"""(?:src|href|action|data)\s*=\s*["']?([^"'\s>]+)""", text, re.I)
    assert refs, "the QR image should be inline"
    assert all(r.startswith("data:") for r in refs), refs
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert "<script" not in text.lower()


class _Cells(HTMLParser):
    """Collects the text of every <td>, as a browser would show it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_names_shown_literally(page):
    text, doc = page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    parser = _Cells()
    parser.feed(text)
    shown = [r for r in parser.rows if r]
    assert shown == [row.cells for row in doc.tables[0].rows]
    assert shown[0][2] == "<script>alert(1)</script>"
    assert shown[1][2] == "{{ 7*7 }}"
    assert shown[2][8] == "\"引号\" & 'apos' </td></tr>"


def test_css_font_family_not_mangled(page):
    text, _doc = page
    assert 'font-family: "Noto Sans CJK SC"' in text
    assert "&#34;" not in text.split("</style>")[0]
    assert "&quot;" not in text.split("</style>")[0]


def test_content_and_qr(page):
    text, doc = page
    assert f"<title>{doc.title}</title>" in text
    for s in ("扫码核验", CODE, TAG, "公示期满存档", "2026-12-01", doc.totals_lines[0][:10]):
        assert s in text
    m = re.search(r'src="data:image/png;base64,([^"]+)"', text)
    from PIL import Image

    img = Image.open(io.BytesIO(base64.b64decode(m.group(1))))
    assert img.size[0] == img.size[1] >= 100
    zbar = need_tool("zbarimg")
    path = __import__("pathlib").Path(__import__("tempfile").mkdtemp()) / "qr.png"
    img.save(path)
    out = subprocess.run([zbar, "-q", "--raw", str(path)], capture_output=True, text=True).stdout
    assert out.strip() == doc.qr_payload


def test_row_kinds_and_alignment():
    text = render_html(summary_notice())
    assert 'class="subtotal"' in text and 'class="total"' in text
    assert 'class="R num"' in text


def test_gate_runs_first():
    doc = result_notice(5, rare=False, remark={2: "13812345678"})
    with pytest.raises(PrivacyError):
        render_html(doc)
