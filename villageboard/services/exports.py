"""Sheets that leave the office: the bank payment sheet (and its reissue), the county
working sheet and the risk-flag list.

**Money leaves only through here.** The bank sheet carries full IDs and accounts, so it
is marked 内部资料, and the rows it lists are marked as sent to the bank in the same step
(never sent twice; the batch number is never reused). The sheet is written before the
commit and removed if the commit fails, so a file on disk always means its rows are on
record as sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.domain.errors import VBError
from villageboard.domain.models import APP_STATUS, PAYOUT_STATUS, Application, Household, Program, plain_rate
from villageboard.domain.money import capital_amount, format_fen, format_rate
from villageboard.services.paper_county import COUNTY_SIGNATURES
from villageboard.services.paths import parse_app_number

if TYPE_CHECKING:
    from villageboard.services.context import Services
    from villageboard.store import Store, Tx

__all__ = ["INTERNAL", "ExportReport", "Exports"]

INTERNAL = "内部资料 注意保密"


@dataclass
class ExportReport:
    path: Path
    batch: str = ""
    rows: int = 0
    amount_fen: int = 0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"已写出 {self.path}（{self.rows}行"
            + (f"，金额合计{format_fen(self.amount_fen)}元" if self.amount_fen else "")
            + "）"
        ]
        if self.batch:
            out.append(
                f"发放批次：{self.batch}。表中各笔已登记为“已提交银行”，请把银行回盘用 villageboard import payouts 导入。"
            )
        for s in self.skipped:
            out.append(f"未列入：{s}")
        return out + self.notes


def sign_lines(labels: Sequence[str], per_line: int = 3) -> list[str]:
    """Signature blanks as lines of a sheet: ``经办人：__________　审核人：__________``."""
    blanks = [f"{label}：{'_' * 12}" for label in labels]
    return ["　　".join(blanks[i : i + per_line]) for i in range(0, len(blanks), per_line)]


def _payee_card(a: Application, h: Household | None) -> str:
    """The card a row not yet sent would be paid to: its entitled person's own."""
    from villageboard.services.payees import person_in

    if h is None:
        return ""
    if not a.person_id_number:
        return h.card_account
    who = person_in(h, a.person_id_number)
    return who.card_account if who is not None else ""


def capital_line(fen: int) -> str:
    """A sheet's approved total in figures and Chinese capitals (大写)."""
    return f"应发金额合计（审核通过）：{format_fen(fen)}元（大写：{capital_amount(fen)}）"


class Exports:
    """``export_bank``, ``reissue``, ``export_county`` and ``export_flags`` of
    :class:`TransferService`."""

    svc: Services
    store: Store

    # ================================================================ bank sheets
    def export_bank(
        self, program: str, year: int, out: str | Path, without_notice: str = "", how: str = "--without-notice “原因”"
    ) -> ExportReport:
        """The bank payment sheet of approved rows not yet sent, marked 内部资料; the
        rows are marked sent in the same transaction. Rows without a card account, and
        rows whose village's 申报公示 has not run its course (services/work_order.py),
        are left out and listed; when no row is left the sheet is refused. With a
        written ``without_notice`` reason the held rows go too, the reason kept on
        each of them."""
        from villageboard.services.work_order import OrderGate, check_reason, refusal

        p = self.svc.programs.get(year, program.strip().upper())
        payable = self.svc.payouts.payable(year, p.code)
        reason = check_reason(without_notice) if without_notice.strip() else ""
        order = OrderGate(self.svc).check(year, p.code, payable)
        exempt: dict[str, str] = {}
        if order.blocked and reason:
            exempt = {a.id: reason for a in order.blocked}
        elif order.blocked:
            if not order.clear:
                raise VBError(refusal(p.name, year, order, how))
            payable = order.clear
        reg = self.svc.registry
        ready, skipped = [], []
        if order.blocked and not reason:
            skipped += [f"{line}（申报公示未走完，暂不发放）" for line in order.lines()]
        for a in payable:
            h = reg.household(a.household_id)
            why = self._no_card(a, h)
            if not why:
                ready.append(a)
            else:
                skipped.append(why)
        if not ready:
            why = "；".join(skipped) if skipped else "审核通过、还没有提交银行的申报一笔也没有"
            raise VBError(f"{year}年{p.name}没有可以发放的申报：{why}")
        exempt = {k: v for k, v in exempt.items() if k in {a.id for a in ready}}
        action = f"发放.{p.name}.提交银行" + (f"（{len(exempt)}笔未经申报公示，原因：{reason}）" if exempt else "")
        tx = self.store.begin(action)
        batch = self.svc.payouts.new_batch(year, p.code, tx)
        self.svc.payouts.issue(ready, batch, tx, without_notice=exempt)
        report = self._write_bank_and_commit(p, batch, ready, out, tx, skipped)
        if exempt:
            names = "、".join(v.village for v in order.villages if set(v.apps) & exempt.keys())
            report.notes.append(
                f"{names}的{len(exempt)}笔未经申报公示期满即发放，原因：{reason}。已记入修改记录，并将印在发放结果公示上。"
            )
        elif reason:
            report.notes.append("各村申报公示均已走完，填写的例外原因没有用上，未记录。")
        return report

    def _no_card(self, a: Application, h: Household) -> str:
        """Why row ``a`` cannot go on a bank sheet for want of its payee's own card ("" when it can)."""
        from villageboard.services.payees import NotAPerson, payee_of

        place = self.svc.registry.place_label(h.village_id, h.group_id)
        try:
            who = payee_of(self.svc, a, h)
        except NotAPerson as exc:
            return f"{exc}（{place}）"
        if who.card_account:
            return ""
        if who.is_head and not a.person_id_number:
            return f"{a.id} {h.name}（{place}）没有一卡通账号"
        return f"{a.id} {place} {who.who()}没有登记本人的一卡通账号（按人发放只发到享受人本人的账号）"

    def reissue(self, program: str, year: int, out: str | Path | None = None, only: Sequence[str] = ()) -> ExportReport:
        """Send failed rows again (after the account was corrected) in a new batch, with
        a bank sheet of just those rows. Rows not ready yet are listed, not sent."""
        p = self.svc.programs.get(year, program.strip().upper())
        failed = [a for a in self.svc.applications.list(year, p.code) if a.payout_status == "failed"]
        if only:
            wanted = {f"{y}-{n:06d}" for y, n in (parse_app_number(x) for x in only)}
            missing = wanted - {a.id for a in failed}
            if missing:
                raise VBError(f"这些申报不是{p.name}的发放失败记录：{'、'.join(sorted(missing))}")
            failed = [a for a in failed if a.id in wanted]
        if not failed:
            raise VBError(f"{year}年{p.name}没有发放失败、等待重新发放的申报")
        tx = self.store.begin(f"发放.{p.name}.重新发放")
        batch = self.svc.payouts.new_batch(year, p.code, tx)
        sent, skipped = [], []
        for a in failed:
            try:
                sent.append(self.svc.payouts.reissue(a, batch, tx))
            except VBError as exc:
                skipped.append(str(exc))
        if not sent:
            raise VBError("没有可以重新发放的申报：\n" + "\n".join(skipped))
        target = Path(out) if out else Path.cwd() / f"银行发放表-{batch}.xlsx"
        return self._write_bank_and_commit(p, batch, sent, target, tx, skipped)

    def _write_bank_and_commit(
        self, p: Program, batch: str, apps: list[Application], out: str | Path, tx: Tx, skipped: list[str]
    ) -> ExportReport:
        """Write the sheet first, then commit; if the commit fails the sheet is removed,
        so a file on disk always means its rows are on record as sent."""
        from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book

        reg = self.svc.registry
        rows = []
        for i, a in enumerate(apps, 1):
            h = reg.household(a.household_id)
            att = a.attempts[-1]
            rows.append(
                {
                    "seq": i,
                    "app": a.id,
                    "village": reg.village(h.village_id).name,
                    "group": reg.group(h.group_id).name if h.group_id else "",
                    "name": att.get("name") or h.name,
                    "id_number": a.person_id_number or h.id_number,
                    "account": att["account"],
                    "bank": att.get("bank", ""),
                    "amount": att["amount_fen"],
                    "program": p.name,
                    "batch": batch,
                }
            )
        total = sum(r["amount"] for r in rows)
        sheet = SheetOut(
            title="银行发放表",
            banner=f"{INTERNAL}｜{self.svc.township.name}{p.year}年{p.name} 银行发放表 批次{batch}",
            columns=[
                ColumnOut("序号", "seq", "int"),
                ColumnOut("申报编号", "app"),
                ColumnOut("村", "village"),
                ColumnOut("组", "group"),
                ColumnOut("享受人姓名" if p.per_person else "户主姓名", "name"),
                ColumnOut("身份证号码", "id_number"),
                ColumnOut("一卡通账号", "account"),
                ColumnOut("开户银行", "bank"),
                ColumnOut("金额", "amount", "money_fen"),
                ColumnOut("补贴项目", "program"),
                ColumnOut("批次", "batch"),
                ColumnOut("处理结果", "result"),
                ColumnOut("失败原因", "reason"),
                ColumnOut("发放日期", "paid_date"),
            ],
            rows=rows,
            totals={"amount": total},
            notes=[
                "本表含完整身份证号和账号，只供银行发放使用，不得张贴、转发。",
                "银行请在“处理结果”填“成功”或“失败”，失败的在“失败原因”写明（如账户冻结、户名不符、账户已销户），原表返回。",
            ],
        )
        path = write_sheet_book(Path(out), [sheet])
        try:
            tx.commit()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return ExportReport(path, batch, len(rows), total, skipped)

    # ================================================================ next year
    def carry_forward(self, year: int, program: str, out: str | Path) -> ExportReport:
        """Next year's application template for one program, filled with this year's
        rows so the villages check and correct instead of typing again: 确权面积,
        扣除面积 and 扣除原因 carry over (数量 only on rows without land, since it follows
        from the land). Rejected and voided rows, and households no longer active, are
        left out and listed."""
        from villageboard.io.templates import write_application_template
        from villageboard.services.payees import head_payee, person_in

        p = self.svc.programs.get(year, program.strip().upper())
        reg = self.svc.registry
        rows: list[dict[str, object]] = []
        skipped: list[str] = []
        for a in self.svc.applications.list(year, p.code):
            if a.status == "rejected":
                continue
            h = reg.household(a.household_id)
            if h.void or h.status != "active":
                skipped.append(f"{a.id} {h.name}（{reg.place_label(h.village_id, h.group_id)}）农户已不在册")
                continue
            land = a.certified_area is not None
            who = person_in(h, a.person_id_number) if a.person_id_number else head_payee(h)
            if who is None:  # a per-person row's person has left the household
                skipped.append(f"{a.id} {a.person_name}（{reg.place_label(h.village_id, h.group_id)}）已不是该户的成员")
                continue
            rows.append(
                {
                    "village": reg.village(h.village_id).name,
                    "group": reg.group(h.group_id).name if h.group_id else "",
                    "name": who.name,  # a per-person program's sheet names the person in these columns
                    "id_number": who.id_number,
                    "program": p.name,
                    "year": year + 1,
                    "quantity": None if land else a.quantity,
                    "certified_area": a.certified_area,
                    "deducted_area": a.deducted_area if land and a.deducted_area else None,
                    "deduction_reason": a.deduction_reason,
                    "card_account": who.card_account,
                }
            )
        if not rows:
            raise VBError(f"{year}年{p.name}没有可以带到下一年的申报")
        programs = sorted({q.name for q in self.svc.programs.list()})
        path = write_application_template(
            out,
            rows,
            villages=[v.name for v in reg.villages()],
            groups=sorted({g.name for g in reg.groups()}),
            programs=programs,
        )
        report = ExportReport(path, rows=len(rows), skipped=skipped)
        report.notes.append(
            f"表中是{year}年{p.name}的申报，年度已改为{year + 1}年；请各村核对面积、扣除和账号，改好后用 villageboard import applications 导入。"
        )
        return report

    # ================================================================ county sheet, flag list
    def export_county(self, year: int, out: str | Path) -> Path:
        """The county working sheet: per village × program totals and every row, real
        number cells, marked 内部资料.

        Money totals count approved (通过) rows only: a rejected or not yet reviewed row
        is listed in the detail, never added in. 户数 counts households (one household
        in two programs is one 户), 户次 counts rows; each sheet ends with its approved
        total in figures and in Chinese capitals (大写)."""
        from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book
        from villageboard.services.paper_county import county_summary

        reg = self.svc.registry
        hs = reg.by_number()
        villages = {v.id: v.name for v in reg.villages(include_void=True)}
        groups = {g.id: g.name for g in reg.groups()}
        programs = {p.code: p for p in self.svc.programs.list(year, include_void=True)}
        detail = []
        approved_fen = 0
        for a in self.svc.applications.list(year):
            if a.status == "approved":
                approved_fen += a.amount_fen
            h = hs.get(a.household_id)
            p = programs.get(a.program_code)
            detail.append(
                {
                    "app": a.id,
                    "village": villages.get(a.village_id, "?"),
                    "group": groups.get(a.group_id, ""),
                    "name": h.name if h else "?",
                    "id_number": h.id_number if h else "",
                    "account": (a.attempts[-1].get("account", "") if a.attempts else _payee_card(a, h)),
                    "program": p.name if p else a.program_code,
                    "code": a.program_code,
                    "quantity": a.quantity,
                    "unit": p.unit if p else "",
                    "rate": plain_rate(a.rate_fen),
                    "amount": a.amount_fen,
                    "status": APP_STATUS.get(a.status, a.status),
                    "payout": PAYOUT_STATUS.get(a.payout_status, ""),
                    "reason": self.svc.payouts.last_failure(a) if a.payout_status == "failed" else "",
                    "paid_date": self.svc.payouts.paid_date(a),
                    "batch": a.attempts[-1].get("batch", "") if a.attempts else "",
                    "attempts": len(a.attempts),
                }
            )
        # whole-fen rates stay numbers; a rate with more than 2 decimals is written exactly, as text
        exact_rates = any(isinstance(r["rate"], str) for r in detail)
        if exact_rates:
            for r in detail:
                r["rate"] = format_rate(r["rate"], thousands=False)
        summary = county_summary(self.svc, year)
        banner = (
            f"{INTERNAL}｜{self.svc.township.county}{self.svc.township.name}{year}年涉农补贴申报发放情况（报县汇总用）"
        )
        s1 = SheetOut(
            title="分村分项目汇总",
            banner=banner,
            columns=[
                ColumnOut("村", "village"),
                ColumnOut("补贴项目", "program"),
                ColumnOut("项目代码", "code"),
                ColumnOut("单位", "unit"),
                ColumnOut("申报户次", "applied", "int"),
                ColumnOut("审核通过户数", "households", "int"),
                ColumnOut("审核通过户次", "approved_n", "int"),
                ColumnOut("数量", "quantity", "quantity"),
                ColumnOut("应发金额", "amount", "money_fen"),
                ColumnOut("已发放户次", "paid_n", "int"),
                ColumnOut("已发放金额", "paid", "money_fen"),
                ColumnOut("发放失败户次", "failed_n", "int"),
                ColumnOut("发放失败金额", "failed", "money_fen"),
                ColumnOut("未发放金额", "pending", "money_fen"),
            ],
            rows=summary.rows,
            totals=summary.totals,
            notes=[
                capital_line(summary.approved_fen),
                "金额只合计审核通过的申报；不通过和尚未审核完的不计入。户数按户计（一户申报几个项目算一户），户次按申报笔数计。",
                "数量因各项目单位不同不作合计；金额单位为元。“未发放金额”含尚未提交银行和已提交等待回盘的。",
                *sign_lines(COUNTY_SIGNATURES),
            ],
        )
        s2 = SheetOut(
            title="申报发放明细",
            banner=banner,
            columns=[
                ColumnOut("申报编号", "app"),
                ColumnOut("村", "village"),
                ColumnOut("组", "group"),
                ColumnOut("户主姓名", "name"),
                ColumnOut("身份证号码", "id_number"),
                ColumnOut("一卡通账号", "account"),
                ColumnOut("补贴项目", "program"),
                ColumnOut("项目代码", "code"),
                ColumnOut("数量", "quantity", "quantity"),
                ColumnOut("单位", "unit"),
                ColumnOut("补贴标准（元）", "rate", "text" if exact_rates else "money_fen"),
                ColumnOut("金额", "amount", "money_fen"),
                ColumnOut("审核状态", "status"),
                ColumnOut("发放状态", "payout"),
                ColumnOut("失败原因", "reason"),
                ColumnOut("发放日期", "paid_date", "date"),
                ColumnOut("批次", "batch"),
                ColumnOut("发放次数", "attempts", "int"),
            ],
            rows=detail,
            totals={"amount": approved_fen},
            totals_label="合计（审核通过）",
            notes=[capital_line(approved_fen), "合计只计审核状态为“通过”的申报；不通过和尚未审核完的列出但不计入。"],
        )
        return write_sheet_book(Path(out), [s1, s2])

    def export_flags(self, year: int, out: str | Path, program: str | None = None) -> Path:
        """Every risk flag of a year with its clearing note, for the office's checks.
        Full names and IDs, so 内部资料."""
        from villageboard.io.xlsx_out import ColumnOut, SheetOut, write_sheet_book

        reg = self.svc.registry
        hs = reg.by_number()
        villages = {v.id: v.name for v in reg.villages(include_void=True)}
        programs = {p.code: p.name for p in self.svc.programs.list(year, include_void=True)}
        rows = []
        for f in self.svc.flags.flags(year, program):
            h = hs.get(f.household_id)
            c = f.cleared or {}
            rows.append(
                {
                    "label": f.label,
                    "app": f.app_id,
                    "village": villages.get(f.village_id, "?"),
                    "name": h.name if h else "?",
                    "id_number": h.id_number if h else "",
                    "program": programs.get(f.program_code, f.program_code),
                    "message": f.message,
                    "state": "已核实" if f.is_cleared else "待核实",
                    "note": c.get("note", ""),
                    "operator": c.get("operator", ""),
                    "date": c.get("date", ""),
                }
            )
        sheet = SheetOut(
            title="风险提示",
            banner=f"{INTERNAL}｜{self.svc.township.name}{year}年申报发放风险提示（供核实，不公开）",
            columns=[
                ColumnOut("提示类型", "label"),
                ColumnOut("申报编号", "app"),
                ColumnOut("村", "village"),
                ColumnOut("户主姓名", "name"),
                ColumnOut("身份证号码", "id_number"),
                ColumnOut("补贴项目", "program"),
                ColumnOut("情况", "message", width=60),
                ColumnOut("核实状态", "state"),
                ColumnOut("核实情况", "note", width=40),
                ColumnOut("核实人", "operator"),
                ColumnOut("核实日期", "date", "date"),
            ],
            rows=rows,
            notes=["风险提示不影响办理，只提醒核实；核实后请用 villageboard flag clear 记下核实情况。"],
        )
        return write_sheet_book(Path(out), [sheet])
