"""Payouts (发放): issuing approved rows to the bank, recording the bank's return,
and reissuing failures after the account is corrected. Every attempt is kept."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from villageboard.domain.errors import VBError
from villageboard.domain.models import Application, PayoutAttempt

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.store import Tx


def issue_date(attempt: dict[str, Any]) -> dt.date | None:
    """The day a bank attempt's sheet was made, if recorded."""
    try:
        return dt.date.fromisoformat(str(attempt.get("issued", ""))[:10])
    except ValueError:
        return None


FAIL_REASONS = ("账户冻结", "户名不符", "账户已销户", "账号不存在", "账户状态异常", "其他")


class PayoutService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def payable(self, year: int, program_code: str) -> list[Application]:
        """Approved rows not yet sent to the bank."""
        return [
            a
            for a in self.svc.applications.list(year, program_code)
            if a.status == "approved" and a.payout_status == ""
        ]

    def new_batch(self, year: int, program_code: str, tx: Tx) -> str:
        """The next batch id for a program, like 2026-GDDL-02. It comes from a persisted
        counter (never reused) and is always above any batch already on record, so a
        batch made before the counter existed (the demo's -01) is not repeated."""
        prefix = f"{year}-{program_code}-"
        seen = 0
        for app in self.svc.applications.iter(year, program_code, include_void=True):
            for att in app.attempts:
                tail = str(att.get("batch", "")).removeprefix(prefix)
                if tail.isdigit():
                    seen = max(seen, int(tail))
        counter = f"batch:{year}-{program_code}"
        n = max(tx.next_number(counter), seen + 1)
        tx.counters[counter] = n
        return f"{prefix}{n:02d}"

    def _attempt(self, app: Application, batch: str, date: dt.date) -> dict[str, Any]:
        """The bank attempt for ``app``: always to the entitled person's own card (the
        head's for a per-household row), whoever collects."""
        from villageboard.services.payees import payee_of

        who = payee_of(self.svc, app)
        if not who.card_account:
            if who.is_head:
                raise VBError(f"{who.name}（申报{app.id}）没有一卡通账号，不能发放")
            raise VBError(f"申报{app.id}：{who.who()}没有登记本人的一卡通账号，不能发放")
        return PayoutAttempt(
            batch=batch,
            issued=date.isoformat(),
            name=who.name,
            account=who.card_account,
            bank=who.bank,
            amount_fen=app.amount_fen,
            result="issued",
        ).to_dict()

    def issue(
        self,
        apps: list[Application],
        batch: str,
        tx: Tx,
        without_notice: dict[str, str] | None = None,
        day: dt.date | None = None,
    ) -> list[Application]:
        """Mark rows as sent to the bank in ``batch`` (inside the caller's transaction),
        on ``day`` (default today). ``without_notice`` maps the rows sent before their
        申报公示 cleared to the written reason, kept on the attempt (so in the journal)."""
        today = day or self.svc.today()
        without_notice = without_notice or {}
        for app in apps:
            if app.status != "approved":
                raise VBError(f"申报{app.id}还没有审核通过，不能发放")
            if app.payout_status in ("issued", "paid"):
                raise VBError(f"申报{app.id}已经提交过银行")
            attempt = self._attempt(app, batch, today)
            if app.id in without_notice:
                attempt["without_notice"] = without_notice[app.id]
            app.attempts = [*app.attempts, attempt]
            app.payout_status = "issued"
            self.svc.applications.save(app, "发放.提交银行", tx)
        return apps

    def record_result(self, app: Application, ok: bool, reason: str, date: dt.date, tx: Tx) -> Application:
        """The bank's answer for the latest attempt."""
        if app.payout_status != "issued" or not app.attempts:
            raise VBError(f"申报{app.id}没有待回盘的发放记录")
        last = dict(app.attempts[-1])
        issued = issue_date(last)
        if issued is not None and date < issued:
            raise VBError(
                f"申报{app.id}的发放日期{date}早于银行发放表的生成日期{issued}（批次{last.get('batch', '')}），请核对回盘日期"
            )
        if ok:
            last.update(result="paid", reason="", paid_date=date.isoformat(), returned=date.isoformat())
            app.payout_status = "paid"
        else:
            if not reason.strip():
                raise VBError(f"申报{app.id}发放失败，必须有银行给出的原因")
            last.update(result="failed", reason=reason.strip(), returned=date.isoformat())
            app.payout_status = "failed"
        app.attempts = [*app.attempts[:-1], last]
        return self.svc.applications.save(app, "发放.银行回盘", tx)

    def reissue(self, app: Application, batch: str, tx: Tx) -> Application:
        """Send a failed row again, to the payee's current account."""
        if app.payout_status != "failed":
            raise VBError(f"申报{app.id}不是发放失败，不需要重新发放")
        attempt = self._attempt(app, batch, self.svc.today())
        why = self.not_corrected(app)
        if why:
            raise VBError(why)
        app.attempts = [*app.attempts, attempt]
        app.payout_status = "issued"
        return self.svc.applications.save(app, "发放.重新发放", tx)

    def name_corrected(self, app: Application) -> bool:
        """Whether the head's name (户名) changed since the last attempt was sent: by
        the name the attempt carried, or, for an attempt made before the name was kept
        on it, by the date the household's name last changed."""
        from villageboard.services.payees import payee_of

        prev = app.attempts[-1] if app.attempts else {}
        h = self.svc.registry.household(app.household_id)
        if prev.get("name"):
            return bool(prev["name"] != payee_of(self.svc, app, h).name)
        return bool(h.name_since) and h.name_since >= str(prev.get("issued", ""))[:10]

    def not_corrected(self, app: Application) -> str:
        """Why a failed row may not be sent again yet ("" when it may). A closed or
        unknown account needs a new card; a wrong name (户名不符) needs the name or the
        card corrected since the failure."""
        prev = app.attempts[-1] if app.attempts else {}
        from villageboard.services.payees import payee_of

        reason = prev.get("reason", "")
        same_card = prev.get("account") == payee_of(self.svc, app).card_account
        if not same_card:
            return ""
        returned = f"（回盘日期{prev['returned']}）" if prev.get("returned") else ""
        if reason in ("账户已销户", "账号不存在"):
            return f"申报{app.id}上次因“{reason}”失败{returned}，一卡通账号还没有更正，请先修改该户的一卡通账号"
        if reason == "户名不符" and not self.name_corrected(app):
            return (
                f"申报{app.id}上次因“户名不符”失败{returned}，户主姓名和一卡通账号还没有更正，"
                "请先按银行登记的户名修改户主姓名，或修改一卡通账号"
            )
        return ""

    @staticmethod
    def last_failure(app: Application) -> str:
        for a in reversed(app.attempts):
            if a.get("result") == "failed":
                reason: str = a.get("reason", "")
                return reason
        return ""

    @staticmethod
    def paid_date(app: Application) -> str:
        for a in reversed(app.attempts):
            if a.get("result") == "paid":
                paid: str = a.get("paid_date", "")
                return paid
        return ""
