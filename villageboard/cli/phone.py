"""Phone desk and call log commands: lookup, call log/list/objection/figures."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from villageboard.cli.main import arg_date, open_services
from villageboard.domain.errors import VBError
from villageboard.domain.models import QUESTION_TYPES
from villageboard.domain.money import format_fen
from villageboard.services.calls import check_lines
from villageboard.services.identity import LOCKED, SEVERAL


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("lookup", help="电话查询：姓名（汉字或拼音）、身份证后4到6位、电话后4位，可加村名")
    p.add_argument("query", nargs="+", help="如：zhang wei、张伟、zw、1234、东沟 zhang")
    p.add_argument(
        "--birth",
        type=arg_date,
        help="来电人说出的出生日期（只核实选定的一户；每户每天最多错3次；核实后才显示卡号尾号等）",
    )
    p.add_argument("--household", type=int, metavar="户编号", help="从查询结果里选定一户（查到多户时用）")
    p.add_argument(
        "--override-note",
        metavar="理由",
        help="主管放行：这户今天出生日期错满3次后，写明理由再核实一次（记入修改记录）",
    )
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.add_argument("--script", action="store_true", help="身份核实后，打印答复话术")
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(handler=cmd_lookup)

    c = sub.add_parser("call", help="来电记录")
    csub = c.add_subparsers(dest="call_command", metavar="操作", required=True)
    x = csub.add_parser("log", help="记录一次来电")
    x.add_argument("--caller", required=True, help="来电人自报姓名")
    x.add_argument("--type", required=True, choices=QUESTION_TYPES, help="问题类型")
    x.add_argument("--answer", required=True, help="答复内容")
    x.add_argument("--question", default="", help="来电人的问题")
    x.add_argument("--household", type=int, help="查到的农户编号")
    x.set_defaults(handler=cmd_call_log)
    x = csub.add_parser("list", help="列出来电记录")
    x.add_argument("--year", type=int)
    x.set_defaults(handler=cmd_call_list)
    x = csub.add_parser("objection", help="把来电反映的问题登记为公示异议")
    x.add_argument("id", type=int, help="来电记录编号")
    x.add_argument("--notice", required=True, help="公示编号（须在公示期内）")
    x.add_argument("--text", default="", help="异议内容（默认用来电的问题）")
    x.add_argument(
        "--mask-private", action="store_true", help="内容中的完整身份证号、卡号、手机号遮挡后保存（不加则拒绝保存）"
    )
    x.set_defaults(handler=cmd_call_objection)
    x = csub.add_parser("figures", help="年度来电统计（年报用）")
    x.add_argument("--year", type=int)
    x.add_argument("--out", help="导出为 xlsx")
    x.add_argument("--json", action="store_true")
    x.set_defaults(handler=cmd_call_figures)


def cmd_lookup(args: argparse.Namespace) -> int:
    if args.override_note is not None and args.birth is None:
        raise VBError("--override-note（主管放行）要和 --birth 一起用：放行的是这一次出生日期核对。")
    with open_services(args, fallback_readonly=True) as svc:
        desk = svc.phone
        desk.load_all()  # a one-shot command answers from the whole archive
        ans = desk.lookup(
            " ".join(args.query),
            birth=args.birth,
            limit=args.limit,
            household=args.household,
            override_note=args.override_note,
        )
        check = ans.check
        if args.json:
            print(json.dumps([h.to_json() for h in ans.hits], ensure_ascii=False, indent=1))
            if check is not None and not check.confirmed:
                print(check.message, file=sys.stderr)
                if check.outcome == SEVERAL:
                    print("命令行里选定一户：加 --household 户编号。", file=sys.stderr)
            return 0
        if not ans.hits:
            print("没有找到符合的农户。可以换成拼音、只输姓，或输入身份证后4位再试。")
            return 0
        for h in ans.hits:
            extra = f"（{h.status}）" if h.status else ""
            print(f"{h.name}{extra}  {h.village}{h.group}  {h.id_masked}  [{h.matched}]  户编号{h.household_id}")
            if h.confirmed:
                print(f"  ✔ 身份已核实：一卡通尾号{h.card_tail or '无'}，电话尾号{h.phone_tail or '无'}")
            for r in h.records:
                money = f"{r.quantity}{r.unit} {format_fen(r.amount_fen)}元" if r.amount_fen is not None else ""
                why = f"（{r.reason}）" if r.reason else ""
                notice = f"  公示：{r.notice} {r.notice_dates}" if r.notice else ""
                print(f"  {r.year} {r.program_name} {money} {r.status}{why}{notice}")
        if check is not None and (not check.confirmed or check.identity and check.identity.override):
            print(check.message)
            if check.outcome == SEVERAL:
                print("命令行里选定一户：加 --household 户编号。")
            elif check.outcome == LOCKED:
                print("主管放行：加 --override-note 理由（记入修改记录）。")
        if args.script:
            if check is None or check.identity is None:
                raise VBError("要打印答复话术，须先用 --birth 核实身份（只能核实选定的一户）")
            print()
            print(desk.answer_script(check.identity.household_id, check.identity))
    return 0


def cmd_call_log(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        c = svc.calls.log(args.caller, args.type, args.answer, args.household, args.question)
        print(f"已记录来电，编号{c.id}")
    return 0


def cmd_call_list(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        for c in svc.calls.list(args.year or svc.today().year):
            print(f"{c.id}  {c.time[:16]}  {c.caller_name}  {c.question_type}  {c.answer}  （{c.operator}）")
    return 0


def cmd_call_objection(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        o = svc.calls.to_objection(args.id, args.notice, args.text, mask_private=args.mask_private)
        print(f"已登记为公示{o.notice_code}的异议，编号{o.id}")
    return 0


def cmd_call_figures(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        year = args.year or svc.today().year
        f = svc.calls.figures(year)
        if args.out:
            out = svc.calls.export_figures(year, Path(args.out))
            print(f"已导出 {out}")
        if args.json:
            print(
                json.dumps(
                    {
                        "year": f.year,
                        "total": f.total,
                        "by_type": f.by_type,
                        "by_village": f.by_village,
                        "objections": f.objections,
                        "identity_checks": asdict(f.checks),
                    },
                    ensure_ascii=False,
                    indent=1,
                )
            )
        elif not args.out:
            print(f"{year}年来电共{f.total}次，其中转为异议{f.objections}次")
            for k, v in f.by_type.items():
                print(f"  {k}：{v}")
            for k, v in f.by_village.items():
                print(f"  {k}：{v}")
            for k, v in check_lines(f.checks):
                print(f"  {k}：{v}")
    return 0
