"""发放 (F6): reconciliation per village of the chosen program, the failed payouts,
and the money jobs: the bank payment sheet, the bank's return, reissuing failures
(after the account was corrected) and the county working sheet. Every figure comes
from the reconciliation service; sheets come from the transfer service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Label, Select, Static

from villageboard.domain.errors import VBError
from villageboard.domain.models import Program
from villageboard.domain.money import format_fen
from villageboard.services.payees import payee_of
from villageboard.services.reconcile import ReconLine, Tally, reconcile
from villageboard.tui.dialogs import ConfirmDialog, FormDialog, FormField, MessageDialog
from villageboard.tui.dialogs.folder import folder_field, folder_of
from villageboard.tui.screens.base import VBScreen
from villageboard.tui.screens.importing import report_text, start_import
from villageboard.tui.text import cell, num
from villageboard.tui.widgets.prose import Prose

MEASURE_COLUMNS = (
    ("approved", "审核通过"),
    ("issued", "已提交银行"),
    ("paid", "已发放"),
    ("failed", "发放失败"),
    ("pending", "等待回盘"),
    ("not_issued", "未提交银行"),
)


def tally(t: Tally) -> str:
    return f"{t.n}笔 {format_fen(t.fen)}" if t.n else "0"


class PayoutScreen(VBScreen):
    NAV_MODE = "payouts"
    AUTO_FOCUS = "#recon"
    BINDINGS = [
        Binding(
            "ctrl+e",
            "export_bank",
            "银行发放表",
            id="payouts-export",
            tooltip="审核通过、还没有发放的各户生成银行发放表，并登记为已提交银行",
        ),
        Binding("ctrl+g", "import_return", "导入回盘", id="payouts-import", tooltip="导入银行返回的发放结果"),
        Binding("ctrl+f", "reissue", "重新发放", id="payouts-reissue", tooltip="更正账号后，把发放失败的重新发放"),
        Binding(
            "ctrl+k", "export_county", "报县汇总表", id="payouts-county", tooltip="分村分项目的汇总和明细（内部资料）"
        ),
        Binding(
            "ctrl+u",
            "export_papers",
            "签字用表",
            show=False,  # at 80 columns the row of keys is full: the hint line below the figures names it
            id="payouts-papers",
            tooltip="申报确认表（每户一页）、发放清册（每村一份）、报县汇总表：带大写合计和签字栏，PDF 或 Excel",
        ),
    ]

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="payouts"):
            with Horizontal(classes="form-row"):
                yield Label("补贴项目", classes="form-label")
                yield Select(
                    [
                        (f"{p.year}年 {p.name}", p.key)
                        for p in sorted(self.svc.programs.list(), key=lambda p: (-p.year, p.code))
                    ],
                    prompt="还没有补贴项目",
                    id="payout-program",
                    compact=True,
                )
            yield Prose("", id="payout-summary", markup=False)
            yield Prose(
                "签字用表（申报确认表、发放清册、报县汇总表，带大写合计和签字栏）：按 Ctrl+U",
                classes="hint",
                id="payout-papers-hint",
                markup=False,
            )
            yield DataTable(id="recon", cursor_type="row", zebra_stripes=True)
            yield Prose("", id="recon-problems", markup=False)
            yield Prose(
                "发放失败（请农户到银行核实，在“农户”中更正一卡通账号后，按 Ctrl+F 重新发放）", classes="section"
            )
            yield DataTable(id="failures", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        recon = self.query_one("#recon", DataTable)
        recon.add_columns("村", *[label for _k, label in MEASURE_COLUMNS], "重新发放")
        fails = self.query_one("#failures", DataTable)
        fails.add_columns(
            "申报编号", "村", "户主", "金额（元）", "失败原因", "回盘日期", "原账号尾号", "现账号尾号", "批次"
        )
        this = self.svc.today().year
        programs = sorted(self.svc.programs.list(), key=lambda p: (-p.year, p.code))
        sel = self.query_one("#payout-program", Select)
        current = [p for p in programs if p.year == this] or programs
        if current:
            sel.value = current[0].key
        self.refresh_data()

    @property
    def program(self) -> Program | None:
        key = self.query_one("#payout-program", Select).value
        if key is Select.NULL:
            return None
        year, code = str(key).split("-", 1)
        return self.svc.programs.get(int(year), code)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "payout-program":
            self.refresh_data()

    def refresh_data(self) -> None:
        p = self.program
        if p is None:
            return
        r = reconcile(self.svc, p.year, p.code)
        recon = self.query_one("#recon", DataTable)
        recon.clear()

        def add(line: ReconLine, name: str, style: str = "") -> None:
            recon.add_row(
                cell(name, style),
                *[num(tally(getattr(line, k)), style) for k, _l in MEASURE_COLUMNS],
                num(f"{line.reissued}笔" if line.reissued else "", style),
            )

        for line in r.lines:
            add(line, line.village)
        for line in r.programs:
            add(line, "合计", "bold")
        t = r.programs[0] if r.programs else ReconLine(None, "", p.code, p.name)
        self.query_one("#payout-summary", Static).update(
            f"审核通过{t.approved.n}笔 {format_fen(t.approved.fen)}元，已发放{t.paid.n}笔 {format_fen(t.paid.fen)}元，"
            f"发放失败{t.failed.n}笔，等待银行回盘{t.pending.n}笔，还没有提交银行{t.not_issued.n}笔"
        )
        problems = r.problems()
        self.query_one("#recon-problems", Static).update(
            "对账不平：" + "；".join(problems)
            if problems
            else "对账相符：各村之和等于合计，已提交银行 = 已发放 + 失败 + 等待回盘。"
        )
        self.query_one("#recon-problems", Static).set_class(bool(problems), "-error")
        fails = self.query_one("#failures", DataTable)
        fails.clear()
        for f in r.failures:
            app = self.svc.applications.get(f.app_id)
            try:
                now = payee_of(self.svc, app).card_account  # the entitled person's own card
            except VBError:
                now = ""
            fixed = now[-4:] if now else "无"
            same = f.account_tail.endswith(fixed) and not self.svc.payouts.name_corrected(app)
            fails.add_row(
                cell(f.app_id),
                cell(f.village),
                cell(f.name),
                num(format_fen(f.amount_fen)),
                cell(f.reason, "red"),
                cell(f.returned),
                cell(f.account_tail),
                cell(fixed + ("（未更正）" if same else "（已更正）"), "" if not same else "yellow"),
                cell(f.batch),
                key=f.app_id,
            )
        if not r.failures:
            fails.add_row(cell("没有发放失败的记录"), "", "", "", "", "", "", "", "")

    # -- bank sheet -----------------------------------------------------------------------
    def action_export_bank(self) -> None:
        from villageboard.services.work_order import OrderGate

        p = self.program
        if p is None:
            return
        payable = self.svc.payouts.payable(p.year, p.code)
        if not payable:
            self.vb.show_error(f"{p.year}年{p.name}没有审核通过、还没有提交银行的申报。")
            return
        order = OrderGate(self.svc).check(p.year, p.code, payable)
        fields = [
            folder_field(self.vb.output_dir),
            FormField("name", "文件名", f"银行发放表-{p.year}-{p.code}.xlsx", required=True),
        ]
        if order.blocked:
            fields += [
                FormField("held", "", "申报公示还没有走完的村（暂不发放）：\n" + "\n".join(order.lines()), kind="note"),
                FormField("without_notice", "未经公示发放的原因", placeholder="一般不填；如确需一起发放，写明原因"),
            ]

        def chosen(v: dict[str, Any] | None) -> None:
            if not v:
                return
            out = folder_of(v) / v["name"]
            reason = (v.get("without_notice") or "").strip()
            going = payable if reason else order.clear
            total = sum(a.amount_fen for a in going)
            msg = (
                f"将为{len(going)}笔审核通过的申报（合计{format_fen(total)}元）生成银行发放表：\n{out}\n\n"
                "这些申报同时登记为“已提交银行”，不会重复发放。表中有完整身份证号和账号，只交银行，不得张贴。"
            )
            if order.blocked and reason:
                msg += f"\n\n其中{len(order.blocked)}笔的申报公示还没有走完，原因“{reason}”将记入修改记录，并印在发放结果公示上。"
            elif order.blocked:
                msg += f"\n\n另有{len(order.blocked)}笔因申报公示还没有走完，这次不发放。"
            if not going:
                self._export(p, out, reason)  # refused by the service, which says why
                return
            self.app.push_screen(
                ConfirmDialog("生成银行发放表", msg, confirm="生成"),
                lambda ok: self._export(p, out, reason) if ok else None,
            )

        self.app.push_screen(FormDialog("银行发放表（内部资料）", fields, submit="下一步", wide=True), chosen)

    def _export(self, p: Program, out: Any, reason: str = "") -> None:
        report = self.vb.attempt(
            self.svc.transfer.export_bank,
            p.code,
            p.year,
            out,
            without_notice=reason,
            how="在“未经公示发放的原因”一栏写明",
        )
        if report is not None:
            self.vb.output_dir = out.parent
            self.app.push_screen(MessageDialog("银行发放表已生成", report_text(report)))
            self.refresh_data()

    def action_import_return(self) -> None:
        p = self.program
        if p is None:
            return
        start_import(
            self,
            "payouts",
            self.refresh_data,
            program=p.code,
            year=p.year,
            note=f"导入{p.year}年{p.name}的银行回盘：每行“成功”，或“失败”加原因。有一行出错就整张表都不导入。",
        )

    # -- reissue ----------------------------------------------------------------------------
    def action_reissue(self) -> None:
        p = self.program
        if p is None:
            return
        failed = [a for a in self.svc.applications.list(p.year, p.code) if a.payout_status == "failed"]
        if not failed:
            self.vb.show_error(f"{p.year}年{p.name}没有发放失败、等待重新发放的申报。")
            return
        fields = [
            folder_field(self.vb.output_dir),
            FormField("name", "文件名", f"银行发放表-{p.year}-{p.code}-重新发放.xlsx", required=True),
        ]

        def chosen(v: dict[str, Any] | None) -> None:
            if not v:
                return
            out = folder_of(v) / v["name"]
            reg = self.svc.registry
            names = "、".join(reg.household(a.household_id).name for a in failed[:10])
            more = f"等{len(failed)}户" if len(failed) > 10 else ""
            msg = (
                f"把{len(failed)}笔发放失败的申报（{names}{more}）按现在的一卡通账号重新发放，"
                f"生成银行发放表：\n{out}\n\n账号还没有更正的不会发放，会列出来。确定重新发放？"
            )
            self.app.push_screen(
                ConfirmDialog("重新发放", msg, confirm="重新发放"), lambda ok: self._reissue(p, out) if ok else None
            )

        self.app.push_screen(FormDialog("重新发放（生成银行发放表）", fields, submit="下一步", wide=True), chosen)

    def _reissue(self, p: Program, out: Any) -> None:
        report = self.vb.attempt(self.svc.transfer.reissue, p.code, p.year, out)
        if report is not None:
            self.vb.output_dir = out.parent
            self.app.push_screen(MessageDialog("已重新发放", report_text(report)))
            self.refresh_data()

    # -- county sheet -------------------------------------------------------------------------
    def action_export_county(self) -> None:
        p = self.program
        year = p.year if p else self.svc.today().year
        fields = [
            folder_field(self.vb.output_dir),
            FormField("name", "文件名", f"报县汇总表-{year}.xlsx", required=True),
        ]

        def chosen(v: dict[str, Any] | None) -> None:
            if not v:
                return
            out = folder_of(v) / v["name"]
            path = self.vb.attempt(self.svc.transfer.export_county, year, out)
            if path is not None:
                self.vb.output_dir = out.parent
                self.vb.say(f"已写出报县汇总表（内部资料）：{path}")

        self.app.push_screen(FormDialog(f"{year}年报县汇总表（内部资料）", fields, submit="导出", wide=True), chosen)

    # -- the papers to sign -------------------------------------------------------------------
    def action_export_papers(self) -> None:
        from villageboard.services.paper_sheets import PAPERS, write_paper

        p = self.program
        year = p.year if p else self.svc.today().year
        kinds = [
            (f"{PAPERS['forms']}（每户一页，农户签字按手印）", "forms"),
            (f"{PAPERS['roll']}（一村一份，村委会等签字盖章）", "roll"),
            (f"{PAPERS['county']}（分村分项目，乡镇签字盖章）", "county"),
        ]
        villages = [("各村（合在一个文件里）", ""), *[(v.name, v.name) for v in self.svc.registry.villages()]]
        fields = [
            FormField("kind", "表", "roll" if p else "county", kind="select", options=kinds, required=True),
            FormField("village", "村", "", kind="select", options=villages),
            FormField("format", "格式", "pdf", kind="select", options=[("PDF（打印签字）", "pdf"), ("Excel", "xlsx")]),
            folder_field(self.vb.output_dir),
        ]
        what = f"{year}年{p.name}" if p else f"{year}年"

        def chosen(v: dict[str, Any] | None) -> None:
            if not v:
                return
            kind = str(v["kind"])
            if kind != "county" and p is None:
                self.vb.show_error("申报确认表和发放清册要先在上面选好补贴项目。")
                return
            village = str(v.get("village") or "")
            name = f"{PAPERS[kind]}-{year}年" + (
                "" if kind == "county" else f"{p.name if p else ''}-{village or '各村'}"
            )
            out = folder_of(v) / f"{name}.{v['format']}"
            report = self.vb.attempt(
                write_paper, self.svc, kind, year, out, p.code if p and kind != "county" else "", village or None
            )
            if report is not None:
                self.vb.output_dir = out.parent
                self.vb.say("；".join(report.lines()))

        self.app.push_screen(
            FormDialog(f"{what}签字用表（大写合计、签字栏）", fields, submit="生成", wide=True), chosen
        )
