"""Spreadsheet commands: importing the household list, applications and bank returns;
exporting the bank sheet, the county summary and the risk flags; reissuing failed payouts;
blank import templates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from villageboard.cli.main import data_dir_of, open_services
from villageboard.cli.money_common import say, year_of
from villageboard.domain.errors import VBError


def register_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import", help="从 Excel/CSV 导入：农户名册、申报、银行回盘（有一行错就全部不导入）")
    isub = p.add_subparsers(dest="import_kind", metavar="内容", required=True)
    helps = {
        "households": "导入农户名册（已有的身份证号更新该户，不会重复登记）",
        "applications": "导入申报（名册中没有的人同时登记）",
        "payouts": "导入银行回盘（每行“成功”或“失败”加原因）",
    }
    for kind, text in helps.items():
        q = isub.add_parser(kind, help=text)
        q.add_argument("file", help="表格文件（.xlsx 或 .csv）")
        q.add_argument("--program", required=kind == "payouts", help="补贴项目代码，如 GDDL")
        q.add_argument("--year", type=int, help="年度（默认今年，或以表中“年度”列为准）")
        q.add_argument("--dry-run", action="store_true", help="试导入：只检查并列出将要做的改动，不保存")
        q.add_argument("--errors-out", help="有错时把原表另存一份，在“错误原因”列标明每行的问题（.xlsx）")
        if kind != "payouts":
            q.add_argument(
                "--mask-private",
                action="store_true",
                help="备注中的完整身份证号、卡号、手机号遮挡后保存（不加则拒绝保存）",
            )
        q.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        t = svc.transfer
        kw = dict(dry_run=args.dry_run, errors_out=args.errors_out)
        if args.import_kind == "households":
            report = t.import_households(args.file, mask_private=args.mask_private, **kw)
        elif args.import_kind == "applications":
            report = t.import_applications(
                args.file, program=args.program, year=args.year, mask_private=args.mask_private, **kw
            )
        else:
            report = t.import_payouts(args.file, program=args.program, year=year_of(args, svc), **kw)
    say(report.lines())
    return 0


def register_export(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export", help="导出：银行发放表、报县汇总表、风险提示表（均为内部资料），申报确认表、发放清册（PDF 或 Excel）"
    )
    esub = p.add_subparsers(dest="export_kind", metavar="内容", required=True)
    q = esub.add_parser("bank", help="银行发放表：审核通过且未发放的各户，导出后登记为已提交银行")
    q.add_argument("--program", required=True, help="项目代码，如 GDDL")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--out", required=True, help="保存为（.xlsx）")
    q.add_argument(
        "--without-notice",
        default="",
        metavar="原因",
        help="申报公示还没有走完的村也一起发放，必须写明原因（记入修改记录，印在发放结果公示上），"
        "如 “县里统一发放，申报公示已在县平台公示”",
    )
    q.set_defaults(handler=cmd_export)
    q = esub.add_parser("county", help="报县汇总表：分村分项目合计和全部明细（.pdf 为签字盖章用的汇总页）")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--out", required=True, help="保存为（.xlsx，或 .pdf）")
    q.add_argument("--paper", choices=("a4", "a3"), default="a4", help="PDF 纸张（默认 a4）")
    q.set_defaults(handler=cmd_export)
    papers = {
        "forms": "申报确认表：每户一页，列面积、标准、金额（大写），供农户签字按手印、村委会盖章",
        "roll": "发放清册：一村一份，审核通过的各户，户数和户次分开合计，大写合计，村委会、村务监督委员会等签字盖章",
    }
    for kind, text in papers.items():
        q = esub.add_parser(kind, help=text)
        q.add_argument("--program", required=True, help="项目代码，如 GDDL")
        q.add_argument("--year", type=int, help="年度（默认今年）")
        q.add_argument("--village", help="只要这个村（默认各村都做，合在一个文件里）")
        q.add_argument("--out", required=True, help="保存为（.pdf 或 .xlsx）")
        q.add_argument("--paper", choices=("a4", "a3"), default="a4", help="PDF 纸张（默认 a4）")
        q.set_defaults(handler=cmd_export)
    q = esub.add_parser("flags", help="风险提示表（含核实情况）")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--program", help="只导出一个项目")
    q.add_argument("--out", required=True, help="保存为（.xlsx）")
    q.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    kind = args.export_kind
    with open_services(args, fallback_readonly=kind != "bank") as svc:
        year = year_of(args, svc)
        out = Path(args.out).expanduser()
        if kind == "bank":
            say(svc.transfer.export_bank(args.program, year, out, without_notice=args.without_notice).lines())
        elif kind == "county" and out.suffix.lower() != ".pdf":
            path = svc.transfer.export_county(year, out)
            say(f"已写出 {path}（内部资料，含完整身份证号和账号，只供报县使用）")
        elif kind in ("county", "forms", "roll"):
            from villageboard.services.paper_sheets import write_paper

            program = getattr(args, "program", "") or ""
            report = write_paper(svc, kind, year, out, program, getattr(args, "village", None), args.paper)
            say(report.lines())
        else:
            path = svc.transfer.export_flags(year, out, args.program.upper() if args.program else None)
            say(f"已写出 {path}（内部资料）")
    return 0


def cmd_reissue(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        report = svc.transfer.reissue(args.program, year_of(args, svc), args.out, args.app)
    say(report.lines())
    return 0


def register_payouts(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("payouts", help="发放：失败的更正账号后重新发放")
    psub = p.add_subparsers(dest="payouts_command", metavar="操作", required=True)
    q = psub.add_parser("reissue", help="把发放失败（已更正账号）的重新发放，生成只含这些户的银行发放表")
    q.add_argument("--program", required=True, help="项目代码，如 GDDL")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--out", help="银行发放表保存为（.xlsx，默认当前文件夹下 银行发放表-批次号.xlsx）")
    q.add_argument("--app", action="append", default=[], help="只重新发放这笔申报（可写多次）")
    q.set_defaults(handler=cmd_reissue)


def register_templates(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("templates", help="生成空白导入模板（农户导入模板.xlsx、申报导入模板.xlsx）")
    p.add_argument("--out", required=True, help="保存到哪个文件夹")
    p.add_argument(
        "--from-year", type=int, help="用这一年的申报（含确权面积、扣除面积、扣除原因）预先填好下一年的申报导入模板"
    )
    p.add_argument("--program", help="与 --from-year 一起用：补贴项目代码")
    p.set_defaults(handler=cmd_templates)


def cmd_templates(args: argparse.Namespace) -> int:
    from villageboard.io.templates import write_blank_templates
    from villageboard.store.store import is_data_dir

    out = Path(args.out).expanduser()
    if args.from_year is not None or args.program:
        if args.from_year is None or not args.program:
            raise VBError("预填下一年的模板要同时写明 --from-year 年度 和 --program 项目")
        with open_services(args, readonly=True) as svc:
            p = svc.programs.get(args.from_year, args.program.strip().upper())
            target = out / f"申报导入模板-{args.from_year + 1}年{p.name}.xlsx"
            say(svc.transfer.carry_forward(args.from_year, p.code, target).lines())
        return 0
    kw: dict[str, Any] = {}
    if is_data_dir(data_dir_of(args)):
        svc = open_services(args, readonly=True)
        try:
            reg = svc.registry
            kw["villages"] = [v.name for v in reg.villages()]
            kw["groups"] = sorted({g.name for g in reg.groups()})
            kw["programs"] = sorted({p.name for p in svc.programs.list()})
        finally:
            svc.close()
    for path in write_blank_templates(out, **kw):
        say(f"已写出 {path}")
    return 0
