"""Household commands: show, list, add, edit (a change of village is a move), status,
change-head and void. The same registry service as the 农户 screen does the work and keeps its
rules; this module only reads arguments and prints.

A household is named by its 户编号 (户编号12, or just 12), by the head's name (a
village may lead it: 东沟张三) or by the ID number or its last 4 or more characters.
When that fits several households they are listed and nothing is done.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from villageboard.cli.main import arg_date, open_services
from villageboard.domain.errors import VBError
from villageboard.domain.masking import mask_card, mask_id, tail
from villageboard.domain.models import HOUSEHOLD_STATUS, Household
from villageboard.domain.money import format_fen
from villageboard.services import household_desk as desk
from villageboard.services.registry import HOUSEHOLD_LABELS

if TYPE_CHECKING:
    from villageboard.services.integrity import CheckProblem

WHO = "户编号（如 12 或 户编号12）、户主姓名（重名时可在前面加村名：东沟张三）或身份证号（或其后4位以上）"
STATUS_HELP = "、".join(HOUSEHOLD_STATUS.values())
#: edit/add options -> registry field
_TEXT_OPTIONS = (
    ("name", "name"),
    ("id_number", "id_number"),
    ("phone", "phone"),
    ("card", "card_account"),
    ("bank", "bank"),
    ("remark", "remark"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("household", help="农户名册：查看、列出、新增、修改（含迁村）、已故/迁出、作废")
    hsub = p.add_subparsers(dest="household_command", metavar="操作", required=True)

    q = hsub.add_parser("show", help="查看一户：村组、状态、历年申报（号码按遮挡规则显示）")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("--full", action="store_true", help="显示完整的身份证号、一卡通账号和电话（内部资料，核对用）")
    q.add_argument("--json", action="store_true", help="输出 JSON")
    q.set_defaults(handler=cmd_show)

    q = hsub.add_parser("list", help="列出农户")
    q.add_argument("--village", metavar="村", help="只列一个村")
    q.add_argument("--group", metavar="组", help="只列这个村的一个组（要和 --village 一起用）")
    q.add_argument("--status", metavar="状态", help=f"只列一种状态：{STATUS_HELP}")
    q.add_argument("--all", action="store_true", help="作废的也列出")
    q.add_argument("--json", action="store_true", help="输出 JSON")
    q.set_defaults(handler=cmd_list)

    q = hsub.add_parser("add", help="登记一户新的农户")
    q.add_argument("--village", metavar="村", required=True, help="村名")
    q.add_argument("--group", metavar="组", default="", help="组名（如 一组；可不填）")
    _text_options(q, adding=True)
    q.set_defaults(handler=cmd_add)

    q = hsub.add_parser("edit", help="修改一户；改村或组就是迁移，户编号和申报记录都不变")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("--village", metavar="村", help="迁到哪个村")
    q.add_argument("--group", metavar="组", help="迁到哪个组（只写 --group 是在本村内换组）")
    _text_options(q, adding=False)
    q.set_defaults(handler=cmd_edit)

    q = hsub.add_parser("status", help=f"登记户主状态：{STATUS_HELP}（已故、迁出要写日期）")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("status", metavar="状态", help=STATUS_HELP)
    q.add_argument("--date", metavar="日期", type=arg_date, help="已故或迁出的日期，YYYY-MM-DD")
    q.add_argument("--note", metavar="说明", default="", help="说明（如 死亡证明已核，记入修改记录）")
    q.set_defaults(handler=cmd_status)

    q = hsub.add_parser("change-head", help="变更户主（如户主死亡）：户编号、土地和申报记录不变，原户主记入变更记录")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("--name", metavar="姓名", required=True, help="新户主姓名")
    q.add_argument("--id", dest="id_number", metavar="身份证号", required=True, help="新户主身份证号（18位）")
    q.add_argument("--card", metavar="账号", help="新户主的一卡通账号（不写则清空，登记账号前这户不进银行发放表）")
    q.add_argument("--bank", metavar="银行", help="开户银行（不写则不变）")
    q.add_argument("--phone", metavar="电话", help="联系电话（不写则不变）")
    q.add_argument("--reason", metavar="原因", required=True, help="变更原因（必填，如 户主死亡）")
    q.add_argument("--date", metavar="日期", type=arg_date, required=True, help="变更日期，YYYY-MM-DD")
    q.set_defaults(handler=cmd_change_head)

    q = hsub.add_parser("member", help="添加一位家庭成员（姓名、身份证号、与户主关系，按人发放用的本人一卡通账号）")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("--name", metavar="姓名", required=True, help="成员姓名")
    q.add_argument("--id", dest="id_number", metavar="身份证号", required=True, help="成员身份证号（18位）")
    q.add_argument("--relation", metavar="关系", required=True, help="与户主关系：" + "、".join(desk.RELATIONS))
    q.add_argument(
        "--card", metavar="账号", default="", help="成员本人的一卡通账号（按人发放的项目发到这个账号；可不填）"
    )
    q.add_argument("--bank", metavar="银行", default="", help="成员账号的开户银行")
    q.set_defaults(handler=cmd_member)

    q = hsub.add_parser("member-card", help="登记或更正家庭成员本人的一卡通账号（按人发放用）")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("--id", dest="id_number", metavar="身份证号", required=True, help="成员身份证号")
    q.add_argument("--card", metavar="账号", required=True, help="成员本人的一卡通账号（写空字符串则清空）")
    q.add_argument("--bank", metavar="银行", help="开户银行（不写则不变）")
    q.set_defaults(handler=cmd_member_card)

    q = hsub.add_parser("member-remove", help="把家庭成员移出这户（迁出、死亡、分户…），记录保留")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("--id", dest="id_number", metavar="身份证号", required=True, help="成员身份证号")
    q.add_argument("--reason", metavar="原因", required=True, help="原因（必填，如 迁出、死亡、分户）")
    q.set_defaults(handler=cmd_member_remove)

    q = hsub.add_parser("void", help="作废一户（如重复登记）：记录保留，户编号不再使用")
    q.add_argument("household", metavar="农户", help=WHO)
    q.add_argument("--reason", metavar="原因", required=True, help="作废原因（必填，如 重复登记）")
    q.set_defaults(handler=cmd_void)


def _text_options(q: argparse.ArgumentParser, adding: bool) -> None:
    q.add_argument("--name", metavar="姓名", required=adding, help="户主姓名")
    q.add_argument("--id", dest="id_number", metavar="身份证号", required=adding, help="户主身份证号（18位）")
    q.add_argument("--phone", metavar="电话", help="联系电话（可不填）")
    q.add_argument("--card", metavar="账号", help="惠民惠农一卡通账号（发放用）")
    q.add_argument("--bank", metavar="银行", help="开户银行")
    q.add_argument("--remark", metavar="备注", help="备注")


def _say(*lines: str) -> None:
    for line in lines:
        print(line)


def _json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def _warnings(warnings: list[Any]) -> None:
    for w in warnings:
        _say(str(w))


def _texts(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, opt) for opt, field in _TEXT_OPTIONS if getattr(args, opt, None) is not None}


# --- reading ---------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        h = desk.find(svc, args.household)
        v = desk.view(svc, h)
        if args.json:
            _json(v.to_json(svc, full=args.full))
            return 0
        _say(*_show_lines(svc, v, args.full))
    return 0


def _show_lines(svc: Any, v: desk.HouseholdView, full: bool) -> list[str]:
    h = v.household
    state = HOUSEHOLD_STATUS.get(h.status, h.status)
    if h.status_date and h.status != "active":
        state += f"（{h.status_date.isoformat()}）"
    out = [f"户编号{h.id} {h.name}（{state}）" + ("　内部资料，含完整号码" if full else "")]
    if h.void:
        out.append(f"  已作废：{h.void_reason}（户编号不再使用，记录保留）")
    out.append(f"  村组：{v.village}{v.group}")
    out.append(f"  身份证号：{h.id_number if full else mask_id(h.id_number)}")
    card = (h.card_account if full else mask_card(h.card_account)) or "（未登记）"
    out.append(f"  一卡通账号：{card}" + (f"（{h.bank}）" if h.bank else ""))
    phone = h.phone if full else (f"尾号{tail(h.phone)}" if h.phone else "")
    out.append(f"  联系电话：{phone or '（未登记）'}")
    if h.remark:
        out.append(f"  备注：{h.remark}")
    for m in h.members:
        if not m.get("void"):
            out.append(f"  家庭成员：{desk.member_line(m, full)}")
    for f in reversed(h.former_heads):
        out.append(f"  原户主：{desk.former_head_line(f, full)}")
    apps = v.applications
    if not apps:
        out.append("  申报记录：没有")
        return out
    paid = sum(a.amount_fen for a in apps if a.payout_status == "paid")
    out.append(f"  申报记录：共{len(apps)}条（{len({a.year for a in apps})}个年度），已发放{format_fen(paid)}元")
    programs = desk.program_names(svc)
    out += [f"    {desk.app_line(svc, a, programs)}" for a in apps]
    return out


def cmd_list(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        reg = svc.registry
        vid = gid = None
        if args.group and not args.village:
            raise VBError("“组”：各村都有同名的组，按组列出时请同时写 --village 村名")
        if args.village:
            vid = reg.require_village(args.village).id
            if args.group:
                g = reg.group_by_name(vid, args.group)
                if g is None:
                    raise VBError(f"“组”：{reg.village(vid).name}没有“{args.group.strip()}”")
                gid = g.id
        status = desk.status_code(args.status) if args.status else None
        hs = [
            h
            for h in reg.households(vid, include_void=args.all)
            if (gid is None or h.group_id == gid) and (status is None or h.status == status)
        ]
        if args.json:
            _json([_list_json(svc, h) for h in hs])
            return 0
        _say(*(desk.line(svc, h) for h in hs))
        _say(f"共{len(hs)}户。" if hs else "没有符合条件的农户。")
    return 0


def _list_json(svc: Any, h: Household) -> dict[str, Any]:
    village, group = svc.registry.place_names(h, unknown="?")
    return {
        "id": h.id,
        "name": h.name,
        "village": village,
        "group": group,
        "id_masked": mask_id(h.id_number),
        "status": HOUSEHOLD_STATUS.get(h.status, h.status),
        "status_date": h.status_date.isoformat() if h.status_date else None,
        "void": h.void,
    }


# --- writing ---------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        data = {"village": args.village, "group": args.group, **_texts(args)}
        h, warnings = svc.registry.add_household(data)
        _say(f"已登记：{desk.line(svc, h)}")
        _warnings(warnings)
    return 0


def _place_changes(svc: Any, h: Household, args: argparse.Namespace) -> dict[str, Any]:
    reg = svc.registry
    if args.village is None and args.group is None:
        return {}
    v = reg.require_village(args.village) if args.village is not None else reg.village(h.village_id)
    gid = 0
    if args.group is not None and args.group.strip():
        g = reg.group_by_name(v.id, args.group)
        if g is None:
            names = "、".join(x.name for x in reg.groups(v.id)) or "（这个村没有分组）"
            raise VBError(f"“组”：{v.name}没有“{args.group.strip()}”。{v.name}的组：{names}")
        gid = g.id
    return {"village_id": v.id, "group_id": gid}


def cmd_edit(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        reg = svc.registry
        old = desk.find(svc, args.household)
        changes = {**_texts(args), **_place_changes(svc, old, args)}
        if not changes:
            raise VBError(
                "没有要修改的内容（用 --name、--id、--phone、--card、--bank、--remark、--village、--group 指定）"
            )
        new, warnings = reg.update_household(old.id, changes)
        done = _changed(svc, old, new)
        if not done:
            _say(f"没有改动：填写的内容与名册中的相同。{desk.line(svc, new)}")
        else:
            _say(f"已保存：{desk.line(svc, new)}", *(f"  {d}" for d in done))
            if (new.village_id, new.group_id) != (old.village_id, old.group_id):
                _say(f"  户编号{new.id}不变，历年申报记录仍归这一户。")
        _warnings(warnings)
    return 0


def _changed(svc: Any, old: Household, new: Household) -> list[str]:
    out = []
    shown: dict[str, Callable[[str], str]] = {
        "id_number": mask_id,
        "card_account": mask_card,
        "phone": lambda t: f"尾号{tail(t)}" if t else "",
    }
    for key, label in HOUSEHOLD_LABELS.items():
        if key in ("village", "group"):
            continue
        a, b = getattr(old, key), getattr(new, key)
        if a != b:
            show = shown.get(key, str)
            out.append(f"{label}：{show(a) or '（空）'} → {show(b) or '（空）'}")
    if (old.village_id, old.group_id) != (new.village_id, new.group_id):
        before, after = (svc.registry.place_label(h.village_id, h.group_id) for h in (old, new))
        out.append(f"迁移：{before} → {after}")
    return out


def cmd_status(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        code = desk.status_code(args.status)
        if code != "active" and args.date is None:
            raise VBError(f"“日期”：登记{HOUSEHOLD_STATUS[code]}要写日期（--date YYYY-MM-DD）")
        old = desk.find(svc, args.household)
        date = args.date if code != "active" else None
        h = desk.set_status(svc, old.id, code, date, args.note)
        if (old.status, old.status_date) == (h.status, h.status_date) and not old.void:
            _say(f"没有改动：名册中已经是这个状态。{desk.line(svc, h)}")
            return 0
        _say(f"已保存：{desk.line(svc, h)}")
        if code != "active":
            _say("  之后再为这户申报或发放，会出现风险提示。")
    return 0


def cmd_change_head(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        h = desk.find(svc, args.household)
        done = desk.change_head(
            svc,
            h.id,
            name=args.name,
            id_number=args.id_number,
            card=args.card,
            bank=args.bank,
            phone=args.phone,
            reason=args.reason,
            date=args.date,
        )
        new = done.household
        _say(
            f"已变更户主：{desk.line(svc, new)}",
            f"  原户主：{desk.former_head_line(done.former)}，已记入户主变更记录（原记录保留）",
            f"  户编号{new.id}不变，土地和历年申报记录仍归这一户；查询时按原户主姓名或身份证号也能找到。",
        )
        if new.card_account:
            _say(f"  一卡通账号：{mask_card(new.card_account)}" + (f"（{new.bank}）" if new.bank else ""))
        if done.unpaid:
            where = (
                f"发放到新户主的账号{mask_card(new.card_account)}"
                if new.card_account
                else "登记新户主的一卡通账号后才能发放（villageboard household edit 户编号 --card 账号）"
            )
            _say(
                f"  还没有发放的申报{len(done.unpaid)}条，下次生成银行发放表时{where}：",
                *(f"    {desk.app_line(svc, a, desk.program_names(svc))}" for a in done.unpaid),
            )
        elif not new.card_account:
            _say("  新户主还没有登记一卡通账号，登记后才能发放。")
        _warnings(done.warnings)
    return 0


def cmd_member(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        h = desk.find(svc, args.household)
        h = desk.add_member(
            svc,
            h.id,
            name=args.name,
            id_number=args.id_number,
            relation=args.relation,
            card=args.card,
            bank=args.bank,
        )
        _say(f"已添加家庭成员：{desk.member_line(h.members[-1])}，{desk.line(svc, h)}")
    return 0


def cmd_member_card(args: argparse.Namespace) -> int:
    from villageboard.services.payees import person_in, set_member_card

    with open_services(args) as svc:
        h = desk.find(svc, args.household)
        h, warnings = set_member_card(svc, h.id, args.id_number, card=args.card, bank=args.bank)
        who = person_in(h, args.id_number)
        assert who is not None  # set_member_card found the member
        card = mask_card(who.card_account) or "（已清空）"
        _say(f"已保存：家庭成员{who.name}（{who.relation}）本人的一卡通账号 {card}，{desk.line(svc, h)}")
        _say(*warnings)
    return 0


def cmd_member_remove(args: argparse.Namespace) -> int:
    from villageboard.services.payees import void_member

    with open_services(args) as svc:
        h = desk.find(svc, args.household)
        h = void_member(svc, h.id, args.id_number, args.reason)
        gone = next(
            m for m in reversed(h.members) if m.get("void") and m.get("id_number") == args.id_number.strip().upper()
        )
        _say(f"已移出：{desk.member_line(gone)}，{desk.line(svc, h)}（记录保留）")
    return 0


def cmd_void(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        h = desk.find(svc, args.household)
        try:
            h = desk.void(svc, h.id, args.reason)
        except desk.HasOpenApplications as exc:
            raise VBError(f"{exc}\n（作废申报：villageboard application void 申报编号 --reason 原因）") from None
        _say(f"已作废：户编号{h.id} {h.name}（{h.void_reason}）。户编号不再使用，记录保留。")
        others = desk.live_holders(svc, h.id_number)
        if len(others) == 1:
            _say(f"  身份证号{mask_id(h.id_number)}现在只登记在{desk.line(svc, others[0])}。")
        elif len(others) > 1:
            _say(
                f"  身份证号{mask_id(h.id_number)}仍登记在{len(others)}户名下，还要作废其中重复的：",
                *(f"    {desk.line(svc, o)}" for o in others),
            )
    return 0


def check_advice(problem: CheckProblem) -> str:
    """For `check`: how to put right a problem a clerk can fix from the command line
    ("" for the others). Only the command line prints this; the app never mentions
    command flags."""
    held = problem.households
    if len(held) < 2:
        return ""
    numbers = "、".join(str(n) for n in held)
    return (
        f"  修复：先用 villageboard household show 户编号 查看户编号{numbers}的申报记录，保留正确的一户，"
        f"把重复登记的作废（记录保留）：villageboard household void 户编号 --reason 重复登记"
        f"（如 villageboard household void {held[-1]} --reason 重复登记）"
    )
