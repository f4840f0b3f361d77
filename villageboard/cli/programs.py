"""Program commands (政策清单): list, add and edit subsidy programs; a changed rate
reprices the applications not yet paid, and the command lists each one."""

from __future__ import annotations

import argparse
from typing import Any

from villageboard.cli.main import open_services
from villageboard.cli.money_common import parse_rate_fen, print_json, say, year_of
from villageboard.domain.errors import VBError
from villageboard.domain.models import PAYEE_MODES, UNITS, Program
from villageboard.domain.money import ROUNDING_RULES, format_fen, format_quantity, format_rate
from villageboard.domain.validate import plain_decimal

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
    q.add_argument(
        "--payee",
        choices=[*PAYEE_MODES, *PAYEE_MODES.values(), "按户", "按人"],
        metavar="{household,person}",
        help="发放方式：household=按户发放（发到户主的一卡通，默认），person=按人发放（每条申报写明享受人，"
        "发到享受人本人的一卡通）；已有申报后不能再改",
    )


def register_program(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        out["rate_fen"] = parse_rate_fen(args.rate)
    if args.rounding is not None:
        out["rounding"] = args.rounding
    if args.posting_days is not None:
        out["posting_days"] = args.posting_days
    if args.payee is not None:
        out["payee"] = "person" if args.payee in ("person", "按人发放", "按人") else "household"
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
    pay = f" {PAYEE_MODES['person']}" if p.per_person else ""
    return f"{p.year} {p.code} {p.name} {rate_text(p)}{pay} 公示{p.posting_days}天 {p.department} ｜{guide}"


def cmd_program_list(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        programs = svc.programs.list(args.year)
        if args.json:
            print_json([{**p.to_dict(), "guide_missing": svc.programs.missing_guide(p)} for p in programs])
        elif not programs:
            say("还没有补贴项目。用 villageboard program add 新增。")
        else:
            say([_program_line(svc, p) for p in programs])
    return 0


def cmd_program_add(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        fields = _program_fields(args)
        p = svc.programs.add(Program(code=args.code, year=year_of(args, svc), **fields))
        say(f"已新增：{_program_line(svc, p)}")
    return 0


def cmd_program_edit(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        year = year_of(args, svc)
        old = svc.programs.get(year, args.code.upper())
        changes = _program_fields(args)
        if not changes:
            raise VBError("没有要修改的内容（用 --name、--rate、--payee 等指定）")
        new, repriced = svc.programs.edit(year, old.code, changes, args.reason)
        say(f"已修改：{_program_line(svc, new)}")
        if new.rate_fen != old.rate_fen:
            say(
                f"补贴标准由{format_rate(old.rate_fen)}元改为{format_rate(new.rate_fen)}元/{new.unit}"
                + (f"（原因：{args.reason.strip()}）" if args.reason.strip() else "")
                + "，已记入修改记录。"
            )
        if new.rate_fen != old.rate_fen or new.rounding != old.rounding:
            say(_repriced_lines(svc, year, old.code, repriced))
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
