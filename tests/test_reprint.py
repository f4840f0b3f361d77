"""A posted (and an archived) notice reprints word for word as it was posted, whatever
the template folders hold since; notices posted before the wording was kept render
as they always did."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TODAY
from villageboard.domain.errors import VBError
from villageboard.render.html import render_html
from villageboard.services import Services
from villageboard.services.notice_document import build_document
from villageboard.services.posters import render_notice
from villageboard.services.ui_support import notice_document
from villageboard.services.wording import PAGES, page_templates_file
from villageboard.store.check import check_data_dir

from .test_template_limits import MALICIOUS

SHIPPED = Path(__file__).resolve().parents[1] / "templates"
NEW_INTRO = "县里改过的开头：{{ village }}的公示。\n\n第二段，也是新的。"
NEW_PAGE_LINE = "<p>县里新加的一句话</p>"


def change_templates(svc: Services, intro: str = NEW_INTRO, page: str | None = None) -> None:
    folder = svc.root / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "notice_intro.j2").write_text(intro, encoding="utf-8")
    if page is None:
        page = (
            (SHIPPED / "notice.html.j2")
            .read_text("utf-8")
            .replace("扫码核验", "扫一扫核验")
            .replace("<body>", "<body>\n" + NEW_PAGE_LINE)
        )
    (folder / "notice.html.j2").write_text(page, encoding="utf-8")


def forms(svc: Services, code: str, version: int, out: Path, archive_copy: bool | None = None) -> dict[str, bytes]:
    paths = render_notice(svc, code, out, ["pdf", "png", "html"], version=version, archive_copy=archive_copy)
    return {p.suffix if p.suffix != ".png" else p.name[-6:]: p.read_bytes() for p in paths}


def pdf_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def without_dates(pdf: bytes) -> bytes:
    return re.sub(rb"/(CreationDate|ModDate) \(D:[^)]*\)", b"", pdf)


def posted(svc: Services):
    return next(n for n in svc.notices.all(TODAY.year, "posted") if n.kind == "result")


def test_reprint_after_a_template_change_is_identical(svc: Services, tmp_path: Path) -> None:
    n = posted(svc)
    assert "wording" in svc.notices.snapshot(n)
    before = forms(svc, n.code, n.version, tmp_path / "before")
    change_templates(svc)
    after = forms(svc, n.code, n.version, tmp_path / "after")
    assert after[".html"] == before[".html"]
    assert pdf_text(after[".pdf"]) == pdf_text(before[".pdf"])
    assert without_dates(after[".pdf"]) == without_dates(before[".pdf"])
    assert after[".pdf"] == before[".pdf"]  # even the creation date: it is the issue date
    assert after == before  # PNG pages too
    # the preview the app shows is the same document
    assert notice_document(svc, n).paragraphs == build_document(n, svc.notices.snapshot(n)).paragraphs

    # ...while the change is real: the same rows without kept wording follow it
    live = build_document(n, {k: v for k, v in svc.notices.snapshot(n).items() if k != "wording"}, svc.root)
    assert live.paragraphs[0].startswith("县里改过的开头") and "县里改过的开头" not in before[".html"].decode()
    assert NEW_PAGE_LINE in render_html(live, svc.root)


def test_archive_copy_reprints_the_posted_wording(svc: Services, tmp_path: Path) -> None:
    old = next(n for n in svc.notices.all(TODAY.year - 1) if n.state == "archived" and n.kind == "result")
    before = forms(svc, old.code, old.version, tmp_path / "before")
    change_templates(svc)
    after = forms(svc, old.code, old.version, tmp_path / "after")
    assert after == before
    text = pdf_text(after[".pdf"])
    assert "公示期满存档" in "".join(text.split())
    assert "县里改过的开头" not in text


def test_notice_archived_after_a_template_change_keeps_its_words(demo_dir: Path, tmp_path: Path) -> None:
    svc = Services.open(demo_dir, today=TODAY, operator="测试")
    try:
        n = posted(svc)
        posted_html = forms(svc, n.code, n.version, tmp_path / "posted")[".html"].decode()
        kept = build_document(n, svc.notices.snapshot(n))
        change_templates(svc)
    finally:
        svc.close()
    later = Services.open(demo_dir, today=n.end + dt.timedelta(days=1), operator="测试")
    try:
        later.notices.archive_due()
        assert later.notices.get(n.code, n.version).state == "archived"
        copy = forms(later, n.code, n.version, tmp_path / "archived")[".html"].decode()
    finally:
        later.close()
    for line in [*kept.paragraphs, *kept.footer_lines, *kept.totals_lines, kept.title]:
        assert line in copy and line in posted_html
    assert "扫码核验" in copy and NEW_PAGE_LINE not in copy
    assert "公示期满存档" in copy and "公示期满存档" not in posted_html


def test_broken_current_templates_do_not_stop_reprints_but_stop_posting(svc: Services, tmp_path: Path) -> None:
    n = posted(svc)
    before = forms(svc, n.code, n.version, tmp_path / "before")
    change_templates(svc, intro="{{ 'x'|center(200000000) }}", page="{% if %}")
    assert forms(svc, n.code, n.version, tmp_path / "after") == before

    draft = next(d for d in svc.notices.all(TODAY.year) if d.state == "draft")
    seq = svc.store.head["seq"]
    with pytest.raises(VBError, match="notice_intro.j2"):
        svc.notices.post(draft.code)
    assert svc.store.head["seq"] == seq  # nothing written
    assert svc.notices.get(draft.code).state == "draft"
    (svc.root / "templates" / "notice_intro.j2").unlink()
    with pytest.raises(VBError, match=r"notice\.html\.j2.*语法错误"):
        svc.notices.post(draft.code)
    assert svc.store.head["seq"] == seq


def test_page_templates_are_kept_once_per_distinct_set(svc: Services) -> None:
    year = TODAY.year
    kept = svc.store.table(page_templates_file(year), PAGES)
    assert len(kept) == 1  # every demo notice of the year shares the shipped page
    draft = next(d for d in svc.notices.all(year) if d.state == "draft")
    change_templates(svc)
    svc.notices.post(draft.code)
    kept = svc.store.table(page_templates_file(year), PAGES)
    assert len(kept) == 2
    new = svc.notices.get(draft.code)
    doc = notice_document(svc, new)
    assert doc.paragraphs == ["县里改过的开头：西沟村的公示。", "第二段，也是新的。"]
    assert NEW_PAGE_LINE in render_html(doc, svc.root)
    # kept, tagged, verifiable, and the data dir stays sound
    assert svc.notices.verify(new.code, new.tag) is not None
    assert check_data_dir(svc.root) == []


def test_snapshots_without_kept_wording_render_as_before(svc: Services) -> None:
    """Data posted before the wording was kept: no entry, so the current templates."""
    n = posted(svc)
    snap = svc.notices.snapshot(n)
    old_style = {k: v for k, v in snap.items() if k != "wording"}
    with_kept = build_document(n, snap, svc.root)
    assert build_document(n, old_style, svc.root) == with_kept  # same templates: same poster
    change_templates(svc)
    assert build_document(n, old_style, svc.root).paragraphs[0].startswith("县里改过的开头")
    assert build_document(n, snap, svc.root) == with_kept


FIELDS = ["village", "township", "households", "amount_text", "start|cn_date", "hotline", "kind_label"]
INTROS = st.one_of(
    st.text(alphabet="公示村说明 \n{}%#x", max_size=40),  # mostly not even valid templates
    st.lists(
        st.one_of(
            st.sampled_from(["本村", "现予公示。", "\n\n", "如有异议，"]),
            st.builds(lambda f: "{{ " + f + " }}", st.sampled_from(FIELDS)),
        ),
        max_size=8,
    ).map("".join),
    st.sampled_from(sorted(MALICIOUS.values())),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(intro=INTROS, page_extra=st.text(alphabet="<p>新句{}%", max_size=20))
def test_no_template_edit_changes_a_posted_notice(svc: Services, intro, page_extra) -> None:
    n = posted(svc)
    shutil.rmtree(svc.root / "templates", ignore_errors=True)
    original = render_html(notice_document(svc, n), svc.root)
    page = (SHIPPED / "notice.html.j2").read_text("utf-8").replace("<body>", "<body>" + page_extra)
    change_templates(svc, intro=intro, page=page)
    assert render_html(notice_document(svc, n), svc.root) == original


def test_cli_reprint_after_a_template_change_is_identical(demo_dir: Path, tmp_path: Path) -> None:
    """As a clerk would: print, drop a county template into the data dir, print again;
    then a malicious template makes `notice post` fail with a Chinese message."""
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())

    def vb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "villageboard", "--data-dir", str(demo_dir), *args],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )

    svc = Services.open(demo_dir, today=TODAY, operator="测试")
    try:
        code = posted(svc).code
        draft = next(d for d in svc.notices.all(TODAY.year) if d.state == "draft").code
    finally:
        svc.close()
    r = vb("notice", "render", code, "--out", str(tmp_path / "a"), "--format", "pdf,html")
    assert r.returncode == 0, r.stdout + r.stderr
    (demo_dir / "templates").mkdir()
    (demo_dir / "templates" / "notice_intro.j2").write_text(NEW_INTRO, encoding="utf-8")
    r = vb("notice", "render", code, "--out", str(tmp_path / "b"), "--format", "pdf,html")
    assert r.returncode == 0, r.stdout + r.stderr
    for name in sorted(p.name for p in (tmp_path / "a").iterdir()):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    (demo_dir / "templates" / "notice_intro.j2").write_text("{{ 'x'|center(200000000) }}", encoding="utf-8")
    r = vb("notice", "post", draft)
    assert r.returncode != 0
    assert "notice_intro.j2" in r.stdout + r.stderr and "安全限制" in r.stdout + r.stderr
    assert "Traceback" not in r.stderr
