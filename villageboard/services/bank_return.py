"""Recording the bank's return (回盘): each row 成功, or 失败 with the bank's reason.

Rows are matched by application number, else by ID within the program. A changed
amount or account, an unknown row, or a row not waiting for the bank is an error; one
error and nothing is recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.domain.errors import Problem
from villageboard.domain.models import PAYOUT_STATUS, Application, Program
from villageboard.domain.money import format_fen, parse_yuan
from villageboard.domain.validate import check_date, check_name, squash
from villageboard.services.import_common import (
    NOTHING_IMPORTED,
    ImportReport,
    bulk,
    import_failed,
    tick,
)
from villageboard.services.jobs import Cancel, Cancelled, Progress
from villageboard.services.paths import parse_app_number
from villageboard.services.payouts import issue_date

if TYPE_CHECKING:
    from villageboard.io.headers import FieldSpec
    from villageboard.io.tables import Sheet
    from villageboard.services.context import Services
    from villageboard.store import Store

__all__ = ["BANK_NAME_SYNONYMS", "FAIL_WORDS", "OK_WORDS", "BankReturnImport"]

OK_WORDS = frozenset({"成功", "发放成功", "入账成功", "已入账", "已发放", "正常", "是", "success", "ok", "y"})
FAIL_WORDS = frozenset(
    {"失败", "发放失败", "入账失败", "未入账", "退回", "退票", "不成功", "否", "failed", "fail", "n"}
)


def _result_of(text: str) -> tuple[str | None, str]:
    """(ok | failed | None, reason written inside the result cell)."""
    t = squash(text).lower()
    if t in OK_WORDS:
        return "ok", ""
    if t in FAIL_WORDS:
        return "failed", ""
    head, _sep, rest = _split_once(t)
    if head in FAIL_WORDS and rest:
        return "failed", rest.strip("）)")
    return None, ""


def _split_once(text: str) -> tuple[str, str, str]:
    """'失败：账户冻结' -> ('失败', '：', '账户冻结')."""
    m = re.search(r"[:：,，(（\-—]", text)
    if m is None:
        return text, "", ""
    return text[: m.start()], m.group(), text[m.end() :]


#: What banks call the columns of their return that the generic reader does not know.
BANK_NAME_SYNONYMS = ("户名", "账户名称", "账户名", "收款人", "收款人姓名", "客户名称", "享受人姓名", "享受人")


def _return_fields(base: Sequence[FieldSpec], spec: type[FieldSpec]) -> tuple[FieldSpec, ...]:
    """The bank-return columns: the reader's own, plus our application number (the
    surest way to match a row) and the name headers banks use (户名)."""
    out = []
    for f in base:
        if f.key == "name":
            f = replace(f, synonyms=tuple(dict.fromkeys((*f.synonyms, *BANK_NAME_SYNONYMS))))
        out.append(f)
    out.append(spec("app_no", "申报编号", ("申报编号", "申报号", "申请编号"), required=False))
    return tuple(out)


class BankReturnImport:
    """``import_payouts`` of :class:`TransferService`."""

    svc: Services
    store: Store

    @bulk
    def import_payouts(
        self,
        path: str | Path,
        *,
        program: str,
        year: int,
        dry_run: bool = False,
        errors_out: str | Path | None = None,
        paid_date: dt.date | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> ImportReport:
        """Record the bank's return: each row 成功, or 失败 with the bank's reason.
        Rows are matched by application number, else by ID within the program. A
        changed amount or account, an unknown row, or a row not waiting for the bank
        is an error; one error and nothing is recorded."""
        from villageboard.io.headers import PAYOUT_RETURN_FIELDS, FieldSpec
        from villageboard.io.tables import read_table

        p = self.svc.programs.get(year, program.strip().upper())
        fields = _return_fields(PAYOUT_RETURN_FIELDS, FieldSpec)
        path = Path(path)
        sheet = read_table(path, fields)
        report = ImportReport("payouts", path, dry_run, rows=len(sheet.rows))
        problems = list(sheet.errors)
        report.warnings += sheet.warnings
        bad_rows = {x.row for x in problems}
        label = sheet.label
        reg = self.svc.registry
        reg.by_number()
        apps = {a.id: a for a in self.svc.applications.list(year, p.code)}
        seen: dict[str, int] = {}
        results: list[tuple[Application, bool, str, dt.date]] = []
        default_day = paid_date or self.svc.today()
        total = len(sheet.rows)
        for i, r in enumerate(sheet.rows):
            tick(i, total, "检查", progress, cancel)
            v, row = r.values, r.row_number
            before = len(problems)
            app = self._match_payout(v, row, p, apps, sheet, problems)
            ok, reason_in_result = _result_of(v.get("result", ""))
            if ok is None:
                shown = v.get("result", "")
                problems.append(
                    Problem(
                        f"处理结果“{shown}”看不懂，应为“成功”或“失败”"
                        if shown
                        else "处理结果是空的，应为“成功”或“失败”",
                        label("result"),
                        row,
                    )
                )
            reason = (v.get("reason") or "").strip() or reason_in_result
            if ok == "failed" and not reason:
                problems.append(
                    Problem("发放失败必须写明银行给出的原因（如账户冻结、户名不符、账户已销户）", label("reason"), row)
                )
            try:
                amount = parse_yuan(v.get("amount", ""))
            except Exception:
                amount = None
                problems.append(Problem(f"金额“{v.get('amount', '')}”不是有效的金额", label("amount"), row))
            day = default_day
            if v.get("paid_date"):
                c = check_date(v["paid_date"], "发放日期")
                if c.errors:
                    problems.extend(Problem(e, label("paid_date"), row) for e in c.errors)
                else:
                    day = c.value  # type: ignore[assignment]
                    if day > self.svc.today():
                        problems.append(Problem("发放日期晚于今天", label("paid_date"), row))
            if app is not None:
                if app.id in seen:
                    problems.append(
                        Problem(
                            f"与第{seen[app.id]}行是同一笔（申报{app.id}），重复出现",
                            label("app_no") if "app_no" in sheet.columns else label("id_number"),
                            row,
                        )
                    )
                    continue
                seen[app.id] = row
                h = reg.by_number()[app.household_id]
                last = app.attempts[-1] if app.attempts else {}
                if app.payout_status != "issued":
                    state = PAYOUT_STATUS.get(app.payout_status, app.payout_status)
                    problems.append(
                        Problem(
                            f"申报{app.id}（{h.name}）现在是“{state}”，不在等待银行回盘，不能再登记（是不是重复导入了同一份回盘？）",
                            label("result"),
                            row,
                        )
                    )
                typed = str(check_name(v.get("name", "")).value or "")
                sent_name = (last.get("name") if last else "") or h.name
                if typed and typed != sent_name:
                    problems.append(Problem(f"户名与发放表不符：申报{app.id}是“{sent_name}”", label("name"), row))
                card = squash(v.get("card_account", "")).replace("-", "")
                if card and last and card != last.get("account"):
                    problems.append(
                        Problem(
                            f"账号与发放表不符：申报{app.id}发放到尾号{last.get('account', '')[-4:]}的账号",
                            label("card_account"),
                            row,
                        )
                    )
                issued = issue_date(last) if last else None
                if issued is not None and day < issued:
                    where = label("paid_date") if "paid_date" in sheet.columns else label("result")
                    problems.append(
                        Problem(
                            f"发放日期{day}早于银行发放表的生成日期{issued}（批次{last.get('batch', '')}）", where, row
                        )
                    )
                if amount is not None and last and amount != last.get("amount_fen"):
                    problems.append(
                        Problem(
                            f"金额与发放表不符：发放表为{format_fen(last.get('amount_fen', 0))}元，回盘为{format_fen(amount)}元",
                            label("amount"),
                            row,
                        )
                    )
            if app is None or len(problems) != before or row in bad_rows or ok is None:
                continue
            results.append((app, ok == "ok", reason, day))
            h = reg.by_number()[app.household_id]
            if ok == "ok":
                report.paid += 1
                report.paid_fen += app.amount_fen
            else:
                report.failed += 1
                report.failed_fen += app.amount_fen
                report.failures.append(f"第{row}行 {app.id} {h.name}：{reason}")
        if problems:
            raise import_failed(problems, report, sheet, errors_out)
        matched = {a.id for a, *_ in results}
        report.still_pending = sum(1 for a in apps.values() if a.payout_status == "issued" and a.id not in matched)
        if dry_run:
            return report
        if cancel is not None and cancel():
            raise Cancelled(NOTHING_IMPORTED)
        with self.store.begin(f"发放.{p.name}.银行回盘") as tx:
            for app, ok_, reason, day in results:
                self.svc.payouts.record_result(app, ok_, reason, day, tx)
        report.seq = self.store.journal.last_seq
        return report

    def _match_payout(
        self,
        v: dict[str, str],
        row: int,
        p: Program,
        apps: dict[str, Application],
        sheet: Sheet,
        problems: list[Problem],
    ) -> Application | None:
        label = sheet.label
        prog = squash(v.get("program", ""))
        if prog and prog not in (p.code, p.name):
            problems.append(Problem(f"本行是“{prog}”，不是本次导入的{p.name}", label("program"), row))
            return None
        number = squash(v.get("app_no", ""))
        if number:
            try:
                y, n = parse_app_number(number)
                app = apps.get(f"{y}-{n:06d}")
            except ValueError:
                app = None
            if app is None:
                problems.append(Problem(f"申报编号“{number}”不是{p.year}年{p.name}的申报", label("app_no"), row))
            return app
        idn = squash(v.get("id_number", "")).upper()
        if not idn:
            problems.append(Problem("没有申报编号，也没有身份证号，对不上是哪一笔", label("id_number"), row))
            return None
        if p.per_person:  # a per-person sheet carries the entitled person's own ID number
            found = self.svc.applications.existing_person(p.year, idn, p.code)
        else:
            hid = self.svc.registry.live_number(idn)
            found = self.svc.applications.existing(p.year, hid, p.code) if hid is not None else None
        app = apps.get(f"{p.year}-{found:06d}") if found is not None else None
        if app is None:
            problems.append(
                Problem(f"这个身份证号在{p.year}年{p.name}中没有申报，对不上是哪一笔", label("id_number"), row)
            )
        return app
