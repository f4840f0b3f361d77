"""Application commands (申报): add, edit, review, void, record who collects, show and
list applications."""

from __future__ import annotations

import argparse
from typing import Any

from villageboard.cli.main import arg_date, open_services
from villageboard.cli.money_common import parse_status, print_json, say, village_id_of, year_of
from villageboard.domain.errors import VBError
from villageboard.domain.masking import mask_card, mask_id
from villageboard.domain.models import APP_STATUS, PAYOUT_STATUS, Application
from villageboard.domain.money import format_fen, format_quantity


def register_application(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("application", help="申报：录入、修改、审核、作废、列表")
    asub = p.add_subparsers(dest="application_command", metavar="操作", required=True)
    q = asub.add_parser("add", help="录入一条申报")
    who = q.add_mutually_exclusive_group()
    who.add_argument("--id", dest="id_number", help="户主身份证号（按人发放的项目也可以直接写享受人的身份证号）")
    who.add_argument("--household", type=int, help="农户编号")
    q.add_argument(
        "--person",
        metavar="身份证号",
        help="按人发放的项目：享受人（户主或已登记的家庭成员）的身份证号，发放到享受人本人的一卡通账号",
    )
    q.add_argument("--program", required=True, help="项目代码，如 GDDL")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--quantity", required=True, help="数量（亩/头/台），如 12.5")
    q.add_argument("--remark", default="", help="备注")
    q.add_argument(
        "--mask-private", action="store_true", help="备注中的完整身份证号、卡号、手机号遮挡后保存（不加则拒绝保存）"
    )
    q.set_defaults(handler=cmd_application_add)
    q = asub.add_parser("edit", help="修改数量或备注（已在公示中的不能直接改）")
    q.add_argument("app", help="申报编号，如 2026-000123")
    q.add_argument("--quantity", help="新的数量")
    q.add_argument("--certified-area", help="新的确权面积（按面积补贴的项目；数量随之按确权面积减扣除面积计算）")
    q.add_argument("--deducted-area", help="新的扣除面积（没有扣除写0）")
    q.add_argument("--deduction-reason", help="扣除原因，如 修路占地、退耕还林、建房、撂荒")
    q.add_argument("--remark", help="新的备注")
    q.add_argument(
        "--mask-private", action="store_true", help="备注中的完整身份证号、卡号、手机号遮挡后保存（不加则拒绝保存）"
    )
    q.set_defaults(handler=cmd_application_edit)
    q = asub.add_parser("status", help="审核：申报 → 村审核 → 乡镇审核 → 通过；或不通过（写原因）")
    q.add_argument("app", help="申报编号")
    q.add_argument("status", help="新状态：" + "、".join(APP_STATUS.values()))
    q.add_argument("--reason", default="", help="不通过的原因")
    q.add_argument("--note", default="", help="有风险提示的申报改为“通过”时必填：核实情况（记入修改记录）")
    q.set_defaults(handler=cmd_application_status)
    q = asub.add_parser(
        "review", help="批量审核：把一个项目（或一个村）的申报逐级推进到指定状态（有风险提示的不通过，逐笔处理）"
    )
    q.add_argument("--program", required=True, help="项目代码，如 GDDL")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--village", help="村名（不写则全乡镇）")
    q.add_argument("--to", dest="target", required=True, help="推进到：村审核、乡镇审核 或 通过")
    q.set_defaults(handler=cmd_application_review)
    q = asub.add_parser("void", help="作废一条申报（写原因，记录保留）")
    q.add_argument("app", help="申报编号")
    q.add_argument("--reason", required=True, help="作废原因")
    q.set_defaults(handler=cmd_application_void)
    q = asub.add_parser("collect", help="登记代领或委托领取（只作记录，银行发放表仍发到本户自己的账号）")
    q.add_argument("app", metavar="申报编号", help="申报编号，如 2026-000123")
    q.add_argument("--kind", metavar="方式", default="代领", help="代领 或 委托（默认代领）")
    q.add_argument("--name", metavar="姓名", required=True, help="代领人姓名")
    q.add_argument("--relation", metavar="关系", required=True, help="代领人与户主关系，如 子、配偶、其他")
    q.add_argument("--date", metavar="日期", type=arg_date, help="日期，YYYY-MM-DD（默认今天）")
    q.add_argument("--note", metavar="说明", default="", help="说明（如 委托书已存档）")
    q.set_defaults(handler=cmd_application_collect)
    q = asub.add_parser("show", help="查看一条申报及其风险提示、发放记录")
    q.add_argument("app", help="申报编号")
    q.add_argument("--json", action="store_true", help="输出 JSON")
    q.set_defaults(handler=cmd_application_show)
    q = asub.add_parser("list", help="列出申报")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--program", help="项目代码")
    q.add_argument("--village", help="村名")
    q.add_argument("--status", help="审核状态：" + "、".join(APP_STATUS.values()))
    q.add_argument("--json", action="store_true", help="输出 JSON")
    q.set_defaults(handler=cmd_application_list)


def _app_json(a: Application) -> dict[str, Any]:
    """An application as JSON, masked as everywhere else: the entitled person's ID
    number, and the card each payout attempt was sent to (last 4 digits shown)."""
    out = a.to_dict()
    idn = out.pop("person_id_number", "")
    if idn:
        out["person_id_masked"] = mask_id(idn)
    attempts = []
    for attempt in out.get("attempts", []):
        shown = dict(attempt)
        shown["account_masked"] = mask_card(shown.pop("account", ""))
        attempts.append(shown)
    out["attempts"] = attempts
    return out


def _app_line(svc: Any, a: Application) -> str:
    h = svc.registry.household(a.household_id)
    p = svc.programs.get(a.year, a.program_code)
    place = svc.registry.place_label(a.village_id, a.group_id)
    status = APP_STATUS.get(a.status, a.status)
    if a.status == "rejected" and a.reject_reason:
        status += f"（{a.reject_reason}）"
    pay = PAYOUT_STATUS.get(a.payout_status, a.payout_status)
    void = f" 已作废（{a.void_reason}）" if a.void else ""
    who = f"（享受人{a.person_name}）" if a.person_id_number and a.person_id_number != h.id_number else ""
    return (
        f"{a.id} {place} {h.name}{who} {p.name} {format_quantity(a.quantity)}{p.unit} "
        f"{format_fen(a.amount_fen)}元 {status} {pay}{void}"
    )


def _show_flags(svc: Any, a: Application) -> None:
    for f in svc.flags.flags_for(a):
        mark = f"已核实：{f.cleared.get('note')}" if f.cleared else "待核实"
        say(f"  风险提示【{f.label}】{f.message}（{mark}）")


def cmd_application_add(args: argparse.Namespace) -> int:
    from villageboard.services.payees import find_person

    with open_services(args) as svc:
        year = year_of(args, svc)
        program = svc.programs.get(year, args.program.upper())
        person = (args.person or "").strip().upper()
        if program.per_person and not person and args.id_number:
            person = args.id_number.strip().upper()  # the entitled person's own ID number
        if args.id_number and not (program.per_person and person == args.id_number.strip().upper()):
            h = svc.registry.by_id_number(args.id_number.strip().upper())
            if h is None:
                raise VBError(f"名册中没有身份证号为 {args.id_number} 的农户，请先登记或导入农户名册")
            hid = h.id
        elif args.household is not None:
            hid = args.household
        elif person:
            found = find_person(svc, person)
            if found is None:
                raise VBError(
                    f"“享受人”：名册中没有身份证号为 {mask_id(person)} 的户主或家庭成员，请先登记"
                    "（villageboard household member 户编号 --name 姓名 --id 身份证号 --relation 关系）"
                )
            hid = found.household.id
        else:
            raise VBError("请用 --id 户主身份证号 或 --household 农户编号 指定农户")
        a = svc.applications.add(
            hid, program.code, year, args.quantity, args.remark, mask_private=args.mask_private, person=person
        )
        say(f"已登记：{_app_line(svc, a)}")
        _show_flags(svc, a)
    return 0


def cmd_application_collect(args: argparse.Namespace) -> int:
    from villageboard.services.household_desk import record_collection

    with open_services(args) as svc:
        a = record_collection(
            svc, args.app, kind=args.kind, collector=args.name, relation=args.relation, date=args.date, note=args.note
        )
        c = a.collections[-1]
        say(
            f"已登记：申报{a.id} 由{c['name']}（{c['relation']}）{c['kind']}，{c['date']}。"
            "银行发放表仍发到享受人本人的一卡通账号。"
        )
    return 0


def cmd_application_edit(args: argparse.Namespace) -> int:
    land = {
        key: value
        for key, value in (
            ("certified_area", args.certified_area),
            ("deducted_area", args.deducted_area),
            ("deduction_reason", args.deduction_reason),
        )
        if value is not None
    }
    if args.quantity is None and args.remark is None and not land:
        raise VBError("没有要修改的内容（用 --quantity、--certified-area 或 --remark 等指定）")
    with open_services(args) as svc:
        a = svc.applications.edit(args.app, args.quantity, args.remark, mask_private=args.mask_private, land=land)
        say(f"已修改：{_app_line(svc, a)}")
        _show_flags(svc, a)
    return 0


def cmd_application_status(args: argparse.Namespace) -> int:
    from villageboard.services.applications import NeedsNote

    with open_services(args) as svc:
        try:
            a = svc.applications.set_status(args.app, parse_status(args.status), args.reason, note=args.note)
        except NeedsNote as exc:
            raise VBError(f"{exc}\n没有改动。核实后请加上 --note “核实情况”再改为通过。") from None
        say(f"已改为“{APP_STATUS[a.status]}”：{_app_line(svc, a)}")
        if args.note.strip() and a.status == "approved":
            noted = any(c.get("on") == "approved" for c in a.cleared_flags)
            say(
                f"核实情况已记入修改记录：{' '.join(args.note.split())}"
                if noted
                else "这笔申报没有待核实的风险提示，--note 未记录。"
            )
    return 0


def cmd_application_review(args: argparse.Namespace) -> int:
    from villageboard.services.review import FLAGGED, review_to

    with open_services(args) as svc:
        year = year_of(args, svc)
        result = review_to(svc, year, args.program.upper(), village_id_of(svc, args.village), parse_status(args.target))
        for line in result.lines():
            say(line)
        if any(why == FLAGGED for _, why in result.skipped):
            say("有风险提示的申报，核实后逐笔通过：villageboard application status 申报编号 通过 --note “核实情况”")
    return 0


def cmd_application_void(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        a = svc.applications.void(args.app, args.reason)
        say(f"已作废：{_app_line(svc, a)}")
    return 0


def cmd_application_show(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        a = svc.applications.get(args.app)
        if args.json:
            print_json({**_app_json(a), "flags": [f.to_dict() for f in svc.flags.flags_for(a)]})
            return 0
        say(_app_line(svc, a))
        if a.person_id_number:
            say(f"  享受人：{a.person_name} {mask_id(a.person_id_number)}（发放到享受人本人的一卡通账号）")
        if a.remark:
            say(f"  备注：{a.remark}")
        for att in a.attempts:
            res = {"issued": "已提交银行", "paid": "已发放", "failed": "发放失败"}.get(att.get("result", ""), "")
            extra = att.get("paid_date") or att.get("reason") or ""
            if att.get("result") == "failed" and att.get("returned"):
                extra += f" 回盘日期{att['returned']}"
            if att.get("without_notice"):
                extra += f" （未经申报公示发放，原因：{att['without_notice']}）"
            say(
                f"  发放 批次{att.get('batch')} {att.get('issued')} 账号尾号{str(att.get('account', ''))[-4:]} "
                f"{format_fen(att.get('amount_fen', 0))}元 {res} {extra}".rstrip()
            )
        for c in a.collections:
            say(
                f"  {c.get('kind', '')} {c.get('date', '')} {c.get('name', '')}（{c.get('relation', '')}）"
                + (f" {c['note']}" if c.get("note") else "")
            )
        _show_flags(svc, a)
    return 0


def cmd_application_list(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        year = year_of(args, svc)
        vid = village_id_of(svc, args.village)
        status = parse_status(args.status) if args.status else None
        apps = [
            a
            for a in svc.applications.list(year, args.program.upper() if args.program else None, vid)
            if status is None or a.status == status
        ]
        if args.json:
            print_json([{**_app_json(a), "flags": [f.kind for f in svc.flags.flags_for(a)]} for a in apps])
            return 0
        for a in apps:
            flags = svc.flags.flags_for(a)
            open_flags = [f.label for f in flags if not f.is_cleared]
            mark = f"  【风险提示：{'、'.join(open_flags)}】" if open_flags else ""
            say(_app_line(svc, a) + mark)
        say(f"共{len(apps)}条，金额合计{format_fen(sum(a.amount_fen for a in apps))}元。")
    return 0
