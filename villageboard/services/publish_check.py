"""Every posted notice prints (DESIGN.md §9 "Privacy, tightened").

``notice post`` builds the poster it is about to freeze, exactly as ``notice render``
will, and refuses to post when that poster would fail: a full personal number anywhere
on it (the privacy gate), or a character no installed font can print. The refusal names
the record and field to correct, and nothing is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import PrivacyError, VBError
from villageboard.domain.models import Notice
from villageboard.domain.private_numbers import mask_numbers, scan_text

if TYPE_CHECKING:
    from villageboard.services.context import Services

ROW_FIELDS = (("name", "户主姓名"), ("group", "组"), ("remark", "备注"), ("status", "状态"))


class Unprintable(VBError):
    """``notice post`` refused: the poster would not print."""


def _refuse(n: Notice, lines: list[str], fix: str) -> VBError:
    return Unprintable(
        "\n".join(
            [
                f"公示{n.code}第{n.version}版不能登记张贴，因为这份公示会印不出来：",
                *(f"  {line}" for line in lines),
                *([fix] if fix else []),
            ]
        )
    )


def row_findings(snap: dict[str, Any]) -> list[str]:
    """Each personal number in the rows of a snapshot, named by application and field."""
    found = []
    for r in snap.get("rows", []):
        for key, label in ROW_FIELDS:
            for reason in scan_text(str(r.get(key) or "")):
                found.append(f"申报{r.get('app', '')}（{mask_numbers(str(r.get('name', '')))}）“{label}”：{reason}")
    return found


def check_printable(svc: Services, n: Notice, snap: dict[str, Any]) -> None:
    """Raise VBError, naming each record and field, unless the poster of ``n`` (about
    to be posted with ``snap``) passes the privacy gate and every character has a font."""
    from villageboard.render.privacy import gate_document
    from villageboard.services.notice_document import build_document

    found = row_findings(snap)
    if found:
        raise _refuse(n, found, "请先改正这些记录（申报备注在申报里修改，户主姓名在农户名册里修改），再登记张贴。")
    doc = build_document(n, snap, svc.root)
    try:
        gate_document(doc, f"公示《{doc.title}》")
    except PrivacyError as exc:
        raise _refuse(
            n, list(exc.findings), "请改正乡镇设置、项目设置或公示说明模板中的这些内容，再登记张贴。"
        ) from None
    _check_fonts(svc, n, doc)


def _check_fonts(svc: Services, n: Notice, doc: Any) -> None:
    """Every character has a glyph in some installed font. With no Chinese font at all
    the check is left to printing, which says how to install one."""
    from villageboard.render.fonts import primary_font, resolve_fonts

    configured = svc.township.font_path or None
    try:
        primary_font(configured)
    except VBError:
        return
    try:
        resolve_fonts(list(doc.texts()), configured=configured)
    except VBError as exc:
        raise _refuse(n, str(exc).splitlines(), "") from None
