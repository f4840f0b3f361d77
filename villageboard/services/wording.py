"""The wording a notice was posted with, kept so that it reprints word for word.

Without this, a poster is made afresh from its frozen rows each time it is printed,
and every word that comes from a template (the intro from ``notice_intro.j2``, the
whole web page from ``notice.html.j2``) follows whatever templates the data dir holds
*now*: a county edit, or a ``templates/`` folder brought in by a restore, would
silently change the reprint of a notice already archived.

So, at ``notice post``:

* the posting snapshot (write-once, covered by the notice's tag) gets a ``wording``
  entry: title, subtitle, intro paragraphs, totals lines, footer lines, issuing units
  and issue date, exactly as the poster printed them at posting, and the SHA-256 of
  the page templates used;
* the page templates themselves (``notice.html.j2`` and anything it includes) are kept
  once per distinct set in ``years/<year>/page_templates.json``, read-only.

Every later render of that version (PDF, PNG, HTML, archive copy, preview) uses the
kept wording and page templates, whatever the template folders hold; only the
archive stamp and large print are added at print time.

Older data: a snapshot posted before this existed has no ``wording`` entry and keeps
rendering from the current templates, as it always did. Nothing is migrated and the
store's schema is unchanged: the entry and the file are new and optional, and a
program that does not know them ignores them (the tag check still holds, as the tag
was made over the snapshot with its wording).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson

from villageboard.domain.errors import VBError
from villageboard.render.document import NoticeDocument
from villageboard.services.notice_document import WORDING_FIELDS, build_document

if TYPE_CHECKING:
    from villageboard.domain.models import Notice
    from villageboard.services.context import Services
    from villageboard.store import Tx

PAGE_TEMPLATE = "notice.html.j2"
PAGES = "page_templates"


def page_templates_file(year: int) -> str:
    return f"years/{year}/page_templates.json"


def sources_digest(sources: dict[str, str]) -> str:
    return hashlib.sha256(orjson.dumps(sources, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _kept(svc: Services, year: int, digest: str) -> dict[str, Any] | None:
    for doc in svc.store.table(page_templates_file(year), PAGES).values():
        if doc.get("sha256") == digest:
            return doc
    return None


def capture(svc: Services, n: Notice, snap: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """At posting (``n`` already has its dates, ``snap`` its rows): the wording the
    poster prints now, and the page template sources it prints with.

    Raises VBError (naming the template) when a template cannot render, so a notice
    whose poster could not print is never posted."""
    doc = build_document(n, snap, svc.root)
    sources = _page_sources(svc)
    digest = sources_digest(sources)
    if _kept(svc, n.year, digest) is None:
        # a page template set not seen before: make sure it renders this notice
        from villageboard.render.html import page_context
        from villageboard.render.templates import render_frozen

        render_frozen(PAGE_TEMPLATE, sources, page_context(doc), html=True)
    wording: dict[str, Any] = {f: _plain(getattr(doc, f)) for f in WORDING_FIELDS}
    wording["page"] = digest
    return wording, sources


def _page_sources(svc: Services) -> dict[str, str]:
    from villageboard.render.templates import template_sources

    return template_sources(PAGE_TEMPLATE, svc.root)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def keep(svc: Services, tx: Tx, year: int, sources: dict[str, str]) -> None:
    """Inside the posting transaction: store the page template set unless already kept."""
    digest = sources_digest(sources)
    if _kept(svc, year, digest) is not None:
        return
    tx.insert(
        page_templates_file(year),
        PAGES,
        f"page_templates:{year}",
        {
            "sha256": digest,
            "templates": sources,
            "_readonly": True,
            "_what": f"{year}年公示的网页模板存档",
        },
        key_field=None,
    )


def kept_page_templates(svc: Services, year: int, digest: str) -> dict[str, str]:
    doc = _kept(svc, year, digest)
    if doc is None or sources_digest(doc.get("templates") or {}) != digest:
        raise VBError(f"{year}年公示存档的网页模板不见了或被改动，请运行 villageboard check")
    return dict(doc["templates"])


def poster_document(
    svc: Services,
    n: Notice,
    snap: dict[str, Any],
    archive_copy: bool = False,
    large: bool = False,
) -> NoticeDocument:
    """The poster of one notice version: with the wording and page templates it was
    posted with when it has them (see the module docstring). The archive copy of a
    version replaced by a correction says so, with the date of the correction."""
    stamp = corrected_stamp(svc, n) if archive_copy else ""
    doc = build_document(n, snap, svc.root, archive_copy=archive_copy, large=large, stamp=stamp)
    digest = (snap.get("wording") or {}).get("page")
    if digest:
        doc = doc.replace(page_templates=kept_page_templates(svc, n.year, digest))
    return doc


def corrected_stamp(svc: Services, n: Notice) -> str:
    """ "已更正，以第N版为准 2026年11月28日" for a version a correction replaced (N is the
    correcting version, the date the day it was made and this one archived); "" else."""
    from villageboard.domain.dates import cn_date

    mark = f"{n.code}/v{n.version}"
    for other in svc.notices.versions(n.code):
        if other.supersedes == mark:
            when = (n.archived_at or other.created)[:10]
            return f"已更正，以第{other.version}版为准 {cn_date(when)}"
    return ""
