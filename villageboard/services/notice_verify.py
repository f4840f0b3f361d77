"""Verifying a notice from its tag or from what a phone scanned off a poster's QR: the
archived summary, and every field of the scanned text that disagrees with the archive."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import NotFound
from villageboard.domain.models import NOTICE_KINDS, NOTICE_STATES, Notice
from villageboard.services.notice_rows import tag_content
from villageboard.services.tags import make_tag, tags_equal

if TYPE_CHECKING:
    from villageboard.services.notices import NoticeService


def _no_year(subject: str) -> str:
    return re.sub(r"^\d{4}年", "", subject)


class NoticeVerifier:
    """Checks a tag or a scanned QR text against the notices of ``notices``."""

    def __init__(self, notices: NoticeService) -> None:
        self.notices = notices
        self.svc = notices.svc
        self.store = notices.store

    def verify(self, code: str, tag: str) -> dict[str, Any] | None:
        """The archived summary when ``tag`` is genuine for some version of ``code``."""
        try:
            versions = self.notices.versions(code.strip())
        except NotFound:
            return None
        for n in versions:
            if n.tag and tags_equal(n.tag, tag):
                return self._summary(n, versions)
        return None

    def _summary(self, n: Notice, versions: list[Notice]) -> dict[str, Any] | None:
        snap = self.notices.snapshot(n)
        if make_tag(self.svc.township.tag_key, tag_content(n, snap)) != n.tag:
            return None  # stored content no longer matches its tag
        t = snap["totals"]
        prog = snap.get("program") or {}
        from villageboard.services.notice_document import qr_words

        place, subject = qr_words(n, snap)
        t_snap = snap["township"]
        return {
            "code": n.code,
            "version": n.version,
            "kind": NOTICE_KINDS.get(n.kind, n.kind),
            "village": snap["village"],
            "program": prog.get("name", "全部项目"),
            "year": n.year,
            "households": t["households"],
            "amount_fen": t["amount_fen"],
            "start": n.start.isoformat() if n.start else "",
            "end": n.end.isoformat() if n.end else "",
            "state": NOTICE_STATES[self.notices.state_of(n)],
            "latest": n.version == versions[-1].version,
            "place": place,
            "subject": subject,
            "phones": {
                p.replace(" ", "")
                for p in (t_snap.get("supervision_hotline"), prog.get("hotline"), t_snap.get("hotline"))
                if p
            },
        }

    def verify_text(self, text: str) -> tuple[dict[str, Any] | None, list[str]]:
        """Verify what a phone scanned from a poster's QR (the sentence, the short
        ``VB1/…`` form or the portal address): the archived summary of the notice whose
        tag it carries, and every field of the text that disagrees with the archive (in
        Chinese, one line each). (None, []) when no notice has that tag. Raises VBError
        when the text is no payload of this system."""
        from villageboard.render.qr import read_payload

        claim = read_payload(text)
        found = self._by_tag(claim.tag, claim.code, claim.year)
        if found is None:
            return None, []
        from villageboard.domain.money import format_fen

        problems = []
        if claim.version is not None and claim.version != found["version"]:
            problems.append(f"版本不符：二维码写的是第{claim.version}版，这个核验码属于第{found['version']}版")
        if claim.year is not None and claim.year != found["year"]:
            problems.append(f"年度不符：二维码写的是{claim.year}年，存档是{found['year']}年")
        if claim.place is not None and claim.place != found["place"]:
            problems.append(f"村名不符：二维码写的是“{claim.place}”，存档是“{found['place']}”")
        if claim.subject is not None and _no_year(claim.subject) != _no_year(found["subject"]):
            problems.append(f"公示名称不符：二维码写的是“{claim.subject}”，存档是“{found['subject']}”")
        if claim.households is not None and claim.households != found["households"]:
            problems.append(f"户数不符：二维码写的是{claim.households}户，存档是{found['households']}户")
        if claim.amount_fen is not None and claim.amount_fen != found["amount_fen"]:
            problems.append(
                f"合计金额不符：二维码写的是{format_fen(claim.amount_fen)}元，存档是{format_fen(found['amount_fen'])}元"
            )
        if claim.phone is not None and claim.phone not in found["phones"]:
            problems.append(
                f"核验电话不符：二维码写的是{claim.phone}，不是本公示印的咨询或监督电话"
                f"（{'、'.join(sorted(found['phones']))}），请不要拨打"
            )
        return found, problems

    def _by_tag(self, tag: str, code: str = "", year: int | None = None) -> dict[str, Any] | None:
        if code:
            return self.verify(code, tag)
        years = self.store.years()
        if year in years:  # the year the text names first; a wrong one is reported, not a miss
            years = [year, *(y for y in years if y != year)]
        for y in years:
            for doc in self.notices.docs(y).values():
                if doc.get("tag") and tags_equal(doc["tag"], tag):
                    return self.verify(doc["code"], tag)
        return None
