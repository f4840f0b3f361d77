"""Printing notices: one notice, or every village at once (both cores)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import VBError
from villageboard.domain.models import NOTICE_KINDS, NOTICE_STATES, Notice
from villageboard.render.document import NoticeDocument
from villageboard.services.jobs import Cancelled
from villageboard.services.publish_check import Unprintable
from villageboard.services.wording import poster_document

if TYPE_CHECKING:
    from villageboard.services.context import Services


@dataclass
class BatchResult:
    paths: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # villages with nothing to print, and why


def stem_for(n: Notice, snap: dict[str, Any], archive_copy: bool) -> str:
    """File names say which notice it is: code, version, village, program and kind.
    A long village or program name is cut (by bytes) so that the code, the kind and the
    archive mark always survive."""
    from villageboard.render.output import STEM_BYTES, cut_bytes

    program = (snap.get("program") or {}).get("name", "")
    head = f"{n.code}-v{n.version}"
    tail = "-" + NOTICE_KINDS.get(n.kind, n.kind) + ("-存档件" if archive_copy else "")
    middle = "-".join(p for p in (snap["village"], program) if p)
    room = STEM_BYTES - len(head.encode("utf-8")) - len(tail.encode("utf-8")) - 1
    middle = cut_bytes(middle, room).rstrip("-")
    return head + (f"-{middle}" if middle else "") + tail


def document_for(
    svc: Services, n: Notice, large: bool = False, archive_copy: bool | None = None
) -> tuple[NoticeDocument, str]:
    """The poster model of one notice version. Archived versions get the archive stamp."""
    if n.state == "draft":
        raise VBError(
            f"公示{n.code}还是草稿：请先定稿登记张贴（villageboard notice post {n.code}），登记时生成核验码，再打印。"
        )
    if archive_copy is None:
        archive_copy = n.state == "archived"
    snap = svc.notices.snapshot(n)
    doc = poster_document(svc, n, snap, archive_copy=archive_copy, large=large)
    return doc, stem_for(n, snap, archive_copy)


def require_archived(svc: Services, n: Notice) -> None:
    """An archive copy is stamped as archived: only an archived version may have one."""
    if svc.notices.state_of(n) != "archived":
        raise VBError(
            f"公示{n.code}第{n.version}版还没有存档（现在是“{NOTICE_STATES[svc.notices.state_of(n)]}”），"
            "不能打印存档件。"
        )


def render_notice(
    svc: Services,
    code: str,
    out_dir: Path,
    formats: Sequence[str] = ("pdf",),
    paper: str = "a4",
    large: bool = False,
    version: int | None = None,
    archive_copy: bool | None = None,
    dpi: float | None = None,
    long: bool = False,
) -> list[Path]:
    """One notice's files. ``dpi`` and ``long`` shape the PNG form (see render_all)."""
    from villageboard.render.output import render_all

    n = svc.notices.get(code, version)
    if archive_copy:
        require_archived(svc, n)
    doc, stem = document_for(svc, n, large, archive_copy)
    font = svc.township.font_path or None
    return render_all(
        doc, out_dir, stem, formats, paper=paper, large=large, font=font, data_dir=svc.root, dpi=dpi, long=long
    )


def batch_posters(
    svc: Services,
    kind: str,
    year: int,
    out_dir: Path,
    program: str = "",
    formats: Sequence[str] = ("pdf",),
    paper: str = "a4",
    large: bool = False,
    create: bool = False,
    start: dt.date | None = None,
    days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    dpi: float | None = None,
    long: bool = False,
) -> BatchResult:
    """Every village's latest posted (or archived) notice of one kind (and program), in
    one process, rendering the PDFs on both cores. With ``create``, villages without
    one get a notice made and posted first."""
    if kind not in NOTICE_KINDS or kind == "correction":
        raise VBError("类别只能是 application（申报公示）、result（发放结果公示）、summary（年度汇总公示）")
    program = program.upper()
    codes = [program] if program else ([""] if kind == "summary" else [p.code for p in svc.programs.list(year)])
    result = BatchResult()
    todo: list[tuple[Notice, str]] = []
    ns = svc.notices
    for v in svc.registry.villages():
        for code in codes:
            mine = [
                n
                for n in ns.all(year)
                if n.village_id == v.id
                and n.program_code == code
                and (n.kind == kind or (n.kind == "correction" and ns.versions(n.code)[0].kind == kind))
            ]
            live = [n for n in mine if ns.state_of(n) in ("posted", "ended", "archived")]
            if not live and create:
                try:
                    draft = next((n for n in mine if n.state == "draft"), None) or ns.create(kind, year, v.id, code)
                    live = [ns.post(draft.code, start=start, days=days)]
                except VBError as exc:
                    if program or kind == "summary" or isinstance(exc, Unprintable):
                        result.skipped.append(f"{v.name}：{exc}")
                    continue
            if not live:
                if program or kind == "summary":
                    result.skipped.append(f"{v.name}：没有已张贴的{NOTICE_KINDS[kind]}")
                continue
            latest = max(live, key=lambda n: n.version)
            todo.append((latest, v.name))
    if not todo:
        return result
    notices = [n for n, _v in todo]
    result.paths = render_notices(svc, notices, out_dir, formats, paper, large, progress, cancelled, dpi, long)
    result.notices = [f"{n.code}/v{n.version}" for n in notices]
    return result


def render_notices(
    svc: Services,
    notices: Sequence[Notice],
    out_dir: Path,
    formats: Sequence[str] = ("pdf",),
    paper: str = "a4",
    large: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    dpi: float | None = None,
    long: bool = False,
) -> list[Path]:
    """Print several notices at once: PDFs on both cores with the font loaded once per
    worker, then every file written all-or-nothing per notice."""
    from villageboard.render.output import write_rendered
    from villageboard.render.pdf.batch import render_pdf_batch

    docs = [document_for(svc, n, large) for n in notices]

    def tick(done: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled("已取消，没有写出未完成的文件。")
        if progress is not None:
            progress(done, total)

    font = svc.township.font_path or None
    pdfs = render_pdf_batch([d for d, _s in docs], paper=paper, large=large, workers=2, progress=tick, font=font)
    paths: list[Path] = []
    for (doc, stem), pdf in zip(docs, pdfs, strict=True):
        paths += write_rendered(doc, out_dir, stem, pdf, formats, data_dir=svc.root, dpi=dpi, long=long)
    return paths
