"""Checking commands: reconciliation of what was approved, sent to the bank, paid and
failed, and the risk flags with their clearing."""

from __future__ import annotations

import argparse
import sys

from villageboard.cli.main import open_services
from villageboard.cli.money_common import print_json, say, village_id_of, year_of
from villageboard.domain.money import format_fen


def register_reconcile(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reconcile", help="对账：各村各项目审核通过、提交银行、已发放、失败的笔数和金额")
    p.add_argument("--year", type=int, help="年度（默认今年）")
    p.add_argument("--program", help="只看一个项目（项目代码）")
    p.add_argument("--json", action="store_true", help="输出 JSON（金额单位为分）")
    p.set_defaults(handler=cmd_reconcile)


def register_flags(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("flags", help="列出风险提示（面积大增、一卡多户、共用银行卡、身份证重复、已故迁出、数量异常）")
    p.add_argument("--year", type=int, help="年度（默认今年）")
    p.add_argument("--program", help="只看一个项目（项目代码）")
    p.add_argument("--village", help="只看一个村")
    p.add_argument("--open", action="store_true", help="只列出还没核实的")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(handler=cmd_flags)

    p = sub.add_parser("flag", help="核实风险提示")
    fsub = p.add_subparsers(dest="flag_command", metavar="操作", required=True)
    q = fsub.add_parser("clear", help="记下核实情况，消除一条风险提示")
    q.add_argument("app", help="申报编号，如 2026-000123")
    q.add_argument(
        "--kind",
        required=True,
        help="提示类型：比上年增加、一卡多户、共用银行卡、身份证重复、已故迁出、数量异常、种粮超耕地、扣除无原因（或 growth 等代码）",
    )
    q.add_argument("--note", required=True, help="核实情况（必填，记入修改记录）")
    q.set_defaults(handler=cmd_flag_clear)


def cmd_reconcile(args: argparse.Namespace) -> int:
    from villageboard.services.reconcile import reconcile

    with open_services(args, fallback_readonly=True) as svc:
        rec = reconcile(svc, year_of(args, svc), args.program.upper() if args.program else None)
    problems = rec.problems()
    if args.json:
        print_json({**rec.to_dict(), "problems": problems})
        return 1 if problems else 0
    if not rec.lines:
        say(f"{rec.year}年没有审核通过的申报。")
        return 0
    for p in rec.programs:
        say(f"【{p.program}】{p.text()}")
        for line in rec.lines:
            if line.program_code == p.program_code:
                say(f"  {line.village}：{line.text()}")
    say(f"【全乡镇合计】{rec.township.text()}")
    if rec.failures:
        say("发放失败待处理：")
        for f in rec.failures:
            when = f"，回盘日期{f.returned}" if f.returned else ""
            say(
                f"  {f.app_id} {f.village} {f.name} {format_fen(f.amount_fen)}元 {f.reason}（账号{f.account_tail}，批次{f.batch}{when}）"
            )
    if problems:
        for message in problems:
            print(message, file=sys.stderr)
        return 1
    say("核对无误：各村之和等于项目合计，各项目之和等于全乡镇合计；已提交银行 = 已发放 + 失败 + 等待回盘。")
    return 0


def cmd_flags(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        year = year_of(args, svc)
        vid = village_id_of(svc, args.village)
        flags = svc.flags.flags(year, args.program.upper() if args.program else None, vid, open_only=args.open)
        if args.json:
            print_json([f.to_dict() for f in flags])
            return 0
        names = {v.id: v.name for v in svc.registry.villages(include_void=True)}
        hs = svc.registry.by_number()
        for f in flags:
            h = hs.get(f.household_id)
            state = f"已核实：{f.cleared.get('note')}" if f.cleared else "待核实"
            say(
                f"{f.app_id} {names.get(f.village_id, '?')} {h.name if h else '?'} {f.program_code} 【{f.label}】{f.message}（{state}）"
            )
        open_n = sum(1 for f in flags if not f.is_cleared)
        say(
            f"共{len(flags)}条风险提示，待核实{open_n}条。风险提示不影响办理，核实后用 villageboard flag clear 记下核实情况。"
        )
    return 0


def cmd_flag_clear(args: argparse.Namespace) -> int:
    from villageboard.services.flags import FLAG_KINDS, kind_code

    with open_services(args) as svc:
        code = kind_code(args.kind)
        a = svc.flags.clear(args.app, code, args.note)
        say(f"已记下核实情况：申报{a.id}【{FLAG_KINDS[code][0]}】{' '.join(args.note.split())}")
    return 0
