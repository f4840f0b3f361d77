"""Money commands: the program catalogue, applications, imports and exports, bank
sheets and returns, reconciliation and risk flags.

Every handler opens the data dir through ``open_services`` and closes it; all work is
done by the services (the TUI calls the same ones). Bad input raises VBError /
ValidationFailed, which ``main`` prints as one Chinese line per problem (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from villageboard.cli.main import arg_date, data_dir_of, open_services
from villageboard.domain.errors import VBError
from villageboard.domain.models import APP_STATUS, PAYOUT_STATUS, UNITS, Application, Program
from villageboard.domain.money import (
    ROUNDING_RULES,
    format_fen,
    format_quantity,
    format_rate,
    parse_rate,
)
from villageboard.domain.validate import plain_decimal


def register(sub: argparse._SubParsersAction) -> None:
    _register_import(sub)
    _register_export(sub)
    _register_program(sub)
    _register_application(sub)

    p = sub.add_parser("payouts", help="发放：失败的更正账号后重新发放")
    psub = p.add_subparsers(dest="payouts_command", metavar="操作", required=True)
    q = psub.add_parser("reissue", help="把发放失败（已更正账号）的重新发放，生成只含这些户的银行发放表")
    q.add_argument("--program", required=True, help="项目代码，如 GDDL")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--out", help="银行发放表保存为（.xlsx，默认当前文件夹下 银行发放表-批次号.xlsx）")
    q.add_argument("--app", action="append", default=[], help="只重新发放这笔申报（可写多次）")
    q.set_defaults(handler=cmd_reissue)

    p = sub.add_parser("reconcile", help="对账：各村各项目审核通过、提交银行、已发放、失败的笔数和金额")
    p.add_argument("--year", type=int, help="年度（默认今年）")
    p.add_argument("--program", help="只看一个项目（项目代码）")
    p.add_argument("--json", action="store_true", help="输出 JSON（金额单位为分）")
    p.set_defaults(handler=cmd_reconcile)

    p = sub.add_parser("flags", help="列出风险提示（面积大增、一卡多户、身份证重复、已故迁出、数量异常）")
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
        help="提示类型：比上年增加、一卡多户、身份证重复、已故迁出、数量异常、种粮超耕地、扣除无原因（或 growth 等代码）",
    )
    q.add_argument("--note", required=True, help="核实情况（必填，记入修改记录）")
    q.set_defaults(handler=cmd_flag_clear)

    p = sub.add_parser("templates", help="生成空白导入模板（农户导入模板.xlsx、申报导入模板.xlsx）")
    p.add_argument("--out", required=True, help="保存到哪个文件夹")
    p.add_argument(
        "--from-year", type=int, help="用这一年的申报（含确权面积、扣除面积、扣除原因）预先填好下一年的申报导入模板"
    )
    p.add_argument("--program", help="与 --from-year 一起用：补贴项目代码")
    p.set_defaults(handler=cmd_templates)


# --- helpers ------------------------------------------------------------------------


def _say(lines: list[str] | str) -> None:
    for line in [lines] if isinstance(lines, str) else lines:
        print(line)


def _json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def _year(args: argparse.Namespace, svc: Any) -> int:
    return args.year or svc.today().year


def _rate_fen(text: str) -> Decimal:
    try:
        return parse_rate(text)
    except Exception:
        raise VBError(f"“补贴标准”：“{text}”不对，写每单位多少元，最多4位小数，如 103.68 或 103.6825") from None


def _status_code(text: str) -> str:
    t = text.strip()
    for code, label in APP_STATUS.items():
        if t in (code, label):
            return code
    raise VBError(f"状态“{text}”不对，只能是：{'、'.join(APP_STATUS.values())}")


def _village_id(svc: Any, name: str | None) -> int | None:
    return svc.registry.require_village(name).id if name else None


# --- import -----------------------------------------------------------------------


def _register_import(sub: argparse._SubParsersAction) -> None:
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
            report = t.import_payouts(args.file, program=args.program, year=_year(args, svc), **kw)
    _say(report.lines())
    return 0


# --- export -----------------------------------------------------------------------


def _register_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="导出 Excel：银行发放表、报县汇总表、风险提示表（均为内部资料）")
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
    q = esub.add_parser("county", help="报县汇总表：分村分项目合计和全部明细")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--out", required=True, help="保存为（.xlsx）")
    q.set_defaults(handler=cmd_export)
    q = esub.add_parser("flags", help="风险提示表（含核实情况）")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    q.add_argument("--program", help="只导出一个项目")
    q.add_argument("--out", required=True, help="保存为（.xlsx）")
    q.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    kind = args.export_kind
    with open_services(args, fallback_readonly=kind != "bank") as svc:
        year = _year(args, svc)
        out = Path(args.out).expanduser()
        if kind == "bank":
            _say(svc.transfer.export_bank(args.program, year, out, without_notice=args.without_notice).lines())
        elif kind == "county":
            path = svc.transfer.export_county(year, out)
            _say(f"已写出 {path}（内部资料，含完整身份证号和账号，只供报县使用）")
        else:
            path = svc.transfer.export_flags(year, out, args.program.upper() if args.program else None)
            _say(f"已写出 {path}（内部资料）")
    return 0


def cmd_reissue(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        report = svc.transfer.reissue(args.program, _year(args, svc), args.out, args.app)
    _say(report.lines())
    return 0


# --- programs -----------------------------------------------------------------------

_PROGRAM_TEXT = (
    ("name", "项目名称"),
    ("basis", "政策依据（文件名称）"),
    ("basis_no", "政策依据的文号，如 晋财农〔2026〕12号"),
    ("department", "主管部门"),
    ("hotline", "咨询电话"),
    ("eligibility", "补贴对象（谁可以申请）"),
    ("scope", "补贴范围"),
    ("procedure", "办理程序"),
    ("materials", "申报材料"),
    ("office", "受理机构"),
    ("time_limit", "办理时限"),
)


def _program_options(q: argparse.ArgumentParser, adding: bool) -> None:
    for key, text in _PROGRAM_TEXT:
        q.add_argument(f"--{key.replace('_', '-')}", dest=key, required=adding and key == "name", help=text)
    q.add_argument("--unit", choices=UNITS, help="计量单位")
    q.add_argument(
        "--rate", required=adding, help="补贴标准：每单位多少元，最多4位小数，如 103.68；改标准会重算还没有发放的申报"
    )
    q.add_argument(
        "--rounding",
        choices=list(ROUNDING_RULES),
        help="每户金额取整到分的规则："
        + "，".join(f"{k}={v[1]}" for k, v in ROUNDING_RULES.items())
        + "（默认 half_up）",
    )
    q.add_argument("--posting-days", type=int, help="公示天数（默认7天）")
    q.add_argument("--max-quantity", help="单户上限（可不填）")


def _register_program(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("program", help="政策清单：补贴项目的新增、修改、列表")
    psub = p.add_subparsers(dest="program_command", metavar="操作", required=True)
    q = psub.add_parser("list", help="列出补贴项目")
    q.add_argument("--year", type=int, help="只列一个年度")
    q.add_argument("--json", action="store_true", help="输出 JSON")
    q.set_defaults(handler=cmd_program_list)
    q = psub.add_parser("add", help="新增补贴项目")
    q.add_argument("--code", required=True, help="项目代码：2到10位大写字母或数字，如 GDDL")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    _program_options(q, adding=True)
    q.set_defaults(handler=cmd_program_add)
    q = psub.add_parser("edit", help="修改补贴项目；改补贴标准时还没有发放的申报按新标准重算（要写原因）")
    q.add_argument("code", help="项目代码")
    q.add_argument("--year", type=int, help="年度（默认今年）")
    _program_options(q, adding=False)
    q.add_argument("--reason", default="", help="修改原因（已有申报或公示后改补贴标准必须填写，记入修改记录）")
    q.set_defaults(handler=cmd_program_edit)


def _program_fields(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, _t in _PROGRAM_TEXT:
        value = getattr(args, key, None)
        if value is not None:
            out[key] = value.strip()
    if args.unit is not None:
        out["unit"] = args.unit
    if args.rate is not None:
        out["rate_fen"] = _rate_fen(args.rate)
    if args.rounding is not None:
        out["rounding"] = args.rounding
    if args.posting_days is not None:
        out["posting_days"] = args.posting_days
    if args.max_quantity is not None:
        out["max_quantity"] = None
        if args.max_quantity.strip():
            out["max_quantity"], why = plain_decimal(args.max_quantity, "单户上限")
            if why:
                raise VBError(why)
    return out


def _program_line(svc: Any, p: Program) -> str:
    from villageboard.services.programs import rate_text

    missing = svc.programs.missing_guide(p)
    guide = "申报指南完整" if not missing else "申报指南缺：" + "、".join(missing)
    return f"{p.year} {p.code} {p.name} {rate_text(p)} 公示{p.posting_days}天 {p.department} ｜{guide}"


def cmd_program_list(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        programs = svc.programs.list(args.year)
        if args.json:
            _json([{**p.to_dict(), "guide_missing": svc.programs.missing_guide(p)} for p in programs])
        elif not programs:
            _say("还没有补贴项目。用 villageboard program add 新增。")
        else:
            _say([_program_line(svc, p) for p in programs])
    return 0


def cmd_program_add(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        fields = _program_fields(args)
        p = svc.programs.add(Program(code=args.code, year=_year(args, svc), **fields))
        _say(f"已新增：{_program_line(svc, p)}")
    return 0


def cmd_program_edit(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        year = _year(args, svc)
        old = svc.programs.get(year, args.code.upper())
        changes = _program_fields(args)
        if not changes:
            raise VBError("没有要修改的内容（用 --name、--rate 等指定）")
        new, repriced = svc.programs.edit(year, old.code, changes, args.reason)
        _say(f"已修改：{_program_line(svc, new)}")
        if new.rate_fen != old.rate_fen:
            _say(
                f"补贴标准由{format_rate(old.rate_fen)}元改为{format_rate(new.rate_fen)}元/{new.unit}"
                + (f"（原因：{args.reason.strip()}）" if args.reason.strip() else "")
                + "，已记入修改记录。"
            )
        if new.rate_fen != old.rate_fen or new.rounding != old.rounding:
            _say(_repriced_lines(svc, year, old.code, repriced))
    return 0


def _repriced_lines(svc: Any, year: int, code: str, repriced: list[Any]) -> list[str]:
    held = [
        a for a in svc.applications.list(year, code) if a.status != "rejected" and a.payout_status in ("issued", "paid")
    ]
    out = []
    if repriced:
        delta = sum(r.new_fen - r.old_fen for r in repriced)
        out.append(f"还没有发放的{len(repriced)}条申报按新标准重算（原金额 → 新金额）：")
        reg = svc.registry
        for r in repriced:
            a = r.app
            h = reg.household(a.household_id)
            note = f"　该村公示{r.on_notice}上仍是原金额，请做更正公示" if r.on_notice else ""
            out.append(
                f"  {a.id} {reg.place_label(h.village_id, h.group_id)} {h.name} {format_quantity(a.quantity)} × "
                f"{format_rate(a.rate_fen)}元：{format_fen(r.old_fen)}元 → {format_fen(r.new_fen)}元{note}"
            )
        out.append(f"  重算合计{'增加' if delta >= 0 else '减少'}{format_fen(abs(delta))}元。")
    else:
        out.append("没有需要重算的未发放申报。")
    if held:
        out.append(f"已提交银行或已发放的{len(held)}条保持原金额。")
    return out


# --- applications -------------------------------------------------------------------


def _register_application(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("application", help="申报：录入、修改、审核、作废、列表")
    asub = p.add_subparsers(dest="application_command", metavar="操作", required=True)
    q = asub.add_parser("add", help="录入一条申报")
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", dest="id_number", help="户主身份证号")
    who.add_argument("--household", type=int, help="农户编号")
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


def _app_line(svc: Any, a: Application) -> str:
    h = svc.registry.household(a.household_id)
    p = svc.programs.get(a.year, a.program_code)
    place = svc.registry.place_label(a.village_id, a.group_id)
    status = APP_STATUS.get(a.status, a.status)
    if a.status == "rejected" and a.reject_reason:
        status += f"（{a.reject_reason}）"
    pay = PAYOUT_STATUS.get(a.payout_status, a.payout_status)
    void = f" 已作废（{a.void_reason}）" if a.void else ""
    return (
        f"{a.id} {place} {h.name} {p.name} {format_quantity(a.quantity)}{p.unit} "
        f"{format_fen(a.amount_fen)}元 {status} {pay}{void}"
    )


def _show_flags(svc: Any, a: Application) -> None:
    for f in svc.flags.flags_for(a):
        mark = f"已核实：{f.cleared.get('note')}" if f.cleared else "待核实"
        _say(f"  风险提示【{f.label}】{f.message}（{mark}）")


def cmd_application_add(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        if args.id_number:
            h = svc.registry.by_id_number(args.id_number.strip().upper())
            if h is None:
                raise VBError(f"名册中没有身份证号为 {args.id_number} 的农户，请先登记或导入农户名册")
            hid = h.id
        else:
            hid = args.household
        a = svc.applications.add(
            hid, args.program.upper(), _year(args, svc), args.quantity, args.remark, mask_private=args.mask_private
        )
        _say(f"已登记：{_app_line(svc, a)}")
        _show_flags(svc, a)
    return 0


def cmd_application_collect(args: argparse.Namespace) -> int:
    from villageboard.services.household_desk import record_collection

    with open_services(args) as svc:
        a = record_collection(
            svc, args.app, kind=args.kind, collector=args.name, relation=args.relation, date=args.date, note=args.note
        )
        c = a.collections[-1]
        _say(
            f"已登记：申报{a.id} 由{c['name']}（{c['relation']}）{c['kind']}，{c['date']}。"
            "银行发放表仍发到本户自己的一卡通账号。"
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
        _say(f"已修改：{_app_line(svc, a)}")
        _show_flags(svc, a)
    return 0


def cmd_application_status(args: argparse.Namespace) -> int:
    from villageboard.services.applications import NeedsNote

    with open_services(args) as svc:
        try:
            a = svc.applications.set_status(args.app, _status_code(args.status), args.reason, note=args.note)
        except NeedsNote as exc:
            raise VBError(f"{exc}\n没有改动。核实后请加上 --note “核实情况”再改为通过。") from None
        _say(f"已改为“{APP_STATUS[a.status]}”：{_app_line(svc, a)}")
        if args.note.strip() and a.status == "approved":
            noted = any(c.get("on") == "approved" for c in a.cleared_flags)
            _say(
                f"核实情况已记入修改记录：{' '.join(args.note.split())}"
                if noted
                else "这笔申报没有待核实的风险提示，--note 未记录。"
            )
    return 0


def cmd_application_void(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        a = svc.applications.void(args.app, args.reason)
        _say(f"已作废：{_app_line(svc, a)}")
    return 0


def cmd_application_show(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        a = svc.applications.get(args.app)
        if args.json:
            _json({**a.to_dict(), "flags": [f.to_dict() for f in svc.flags.flags_for(a)]})
            return 0
        _say(_app_line(svc, a))
        if a.remark:
            _say(f"  备注：{a.remark}")
        for att in a.attempts:
            res = {"issued": "已提交银行", "paid": "已发放", "failed": "发放失败"}.get(att.get("result", ""), "")
            extra = att.get("paid_date") or att.get("reason") or ""
            if att.get("result") == "failed" and att.get("returned"):
                extra += f" 回盘日期{att['returned']}"
            if att.get("without_notice"):
                extra += f" （未经申报公示发放，原因：{att['without_notice']}）"
            _say(
                f"  发放 批次{att.get('batch')} {att.get('issued')} 账号尾号{str(att.get('account', ''))[-4:]} "
                f"{format_fen(att.get('amount_fen', 0))}元 {res} {extra}".rstrip()
            )
        for c in a.collections:
            _say(
                f"  {c.get('kind', '')} {c.get('date', '')} {c.get('name', '')}（{c.get('relation', '')}）"
                + (f" {c['note']}" if c.get("note") else "")
            )
        _show_flags(svc, a)
    return 0


def cmd_application_list(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        year = _year(args, svc)
        vid = _village_id(svc, args.village)
        status = _status_code(args.status) if args.status else None
        apps = [
            a
            for a in svc.applications.list(year, args.program.upper() if args.program else None, vid)
            if status is None or a.status == status
        ]
        if args.json:
            _json([{**a.to_dict(), "flags": [f.kind for f in svc.flags.flags_for(a)]} for a in apps])
            return 0
        for a in apps:
            flags = svc.flags.flags_for(a)
            open_flags = [f.label for f in flags if not f.is_cleared]
            mark = f"  【风险提示：{'、'.join(open_flags)}】" if open_flags else ""
            _say(_app_line(svc, a) + mark)
        _say(f"共{len(apps)}条，金额合计{format_fen(sum(a.amount_fen for a in apps))}元。")
    return 0


# --- reconciliation and flags ----------------------------------------------------------


def cmd_reconcile(args: argparse.Namespace) -> int:
    from villageboard.services.reconcile import reconcile

    with open_services(args, fallback_readonly=True) as svc:
        rec = reconcile(svc, _year(args, svc), args.program.upper() if args.program else None)
    problems = rec.problems()
    if args.json:
        _json({**rec.to_dict(), "problems": problems})
        return 1 if problems else 0
    if not rec.lines:
        _say(f"{rec.year}年没有审核通过的申报。")
        return 0
    for p in rec.programs:
        _say(f"【{p.program}】{p.text()}")
        for line in rec.lines:
            if line.program_code == p.program_code:
                _say(f"  {line.village}：{line.text()}")
    _say(f"【全乡镇合计】{rec.township.text()}")
    if rec.failures:
        _say("发放失败待处理：")
        for f in rec.failures:
            when = f"，回盘日期{f.returned}" if f.returned else ""
            _say(
                f"  {f.app_id} {f.village} {f.name} {format_fen(f.amount_fen)}元 {f.reason}（账号{f.account_tail}，批次{f.batch}{when}）"
            )
    if problems:
        for message in problems:
            print(message, file=sys.stderr)
        return 1
    _say("核对无误：各村之和等于项目合计，各项目之和等于全乡镇合计；已提交银行 = 已发放 + 失败 + 等待回盘。")
    return 0


def cmd_flags(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        year = _year(args, svc)
        vid = _village_id(svc, args.village)
        flags = svc.flags.flags(year, args.program.upper() if args.program else None, vid, open_only=args.open)
        if args.json:
            _json([f.to_dict() for f in flags])
            return 0
        names = {v.id: v.name for v in svc.registry.villages(include_void=True)}
        hs = svc.registry.by_number()
        for f in flags:
            h = hs.get(f.household_id)
            state = f"已核实：{f.cleared.get('note')}" if f.cleared else "待核实"
            _say(
                f"{f.app_id} {names.get(f.village_id, '?')} {h.name if h else '?'} {f.program_code} 【{f.label}】{f.message}（{state}）"
            )
        open_n = sum(1 for f in flags if not f.is_cleared)
        _say(
            f"共{len(flags)}条风险提示，待核实{open_n}条。风险提示不影响办理，核实后用 villageboard flag clear 记下核实情况。"
        )
    return 0


def cmd_flag_clear(args: argparse.Namespace) -> int:
    from villageboard.services.flags import FLAG_KINDS, kind_code

    with open_services(args) as svc:
        code = kind_code(args.kind)
        a = svc.flags.clear(args.app, code, args.note)
        _say(f"已记下核实情况：申报{a.id}【{FLAG_KINDS[code][0]}】{' '.join(args.note.split())}")
    return 0


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
            _say(svc.transfer.carry_forward(args.from_year, p.code, target).lines())
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
        _say(f"已写出 {path}")
    return 0
