"""Notice commands: notice create/post/list/render/photo, posters, objection, verify."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from villageboard.cli.main import arg_date, open_services
from villageboard.domain.errors import VBError
from villageboard.domain.models import NOTICE_KINDS, NOTICE_STATES
from villageboard.domain.money import format_fen

if TYPE_CHECKING:
    from villageboard.services import Services

STATE_NAMES = {**{k: k for k in NOTICE_STATES}, **{v: k for k, v in NOTICE_STATES.items()}}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("notice", help="公示：新建、张贴、列表、打印")
    nsub = p.add_subparsers(dest="notice_command", metavar="操作", required=True)

    c = nsub.add_parser("create", help="新建公示草稿")
    c.add_argument(
        "--kind",
        required=True,
        choices=["application", "result", "summary"],
        help="application 申报公示 / result 发放结果公示 / summary 年度汇总公示",
    )
    c.add_argument("--program", default="", help="补贴项目代码（申报、发放结果公示必填）")
    c.add_argument("--village", required=True, help="村名")
    c.add_argument("--year", type=int, help="年度（默认今年）")
    c.set_defaults(handler=cmd_create)

    c = nsub.add_parser("post", help="登记张贴：冻结公示内容、生成核验码")
    c.add_argument("code", help="公示编号")
    c.add_argument("--start", type=arg_date, help="张贴日期（默认今天）")
    c.add_argument("--days", type=int, help="公示天数（默认按补贴项目设置，一般7天）")
    c.set_defaults(handler=cmd_post)

    c = nsub.add_parser("list", help="列出公示")
    c.add_argument("--year", type=int, help="年度（默认全部）")
    c.add_argument("--state", help="draft/posted/ended/archived（或 草稿/公示中/公示期满/已存档）")
    c.add_argument("--village", help="只列这个村的")
    c.add_argument("--program", help="只列这个补贴项目的（项目代码）")
    c.add_argument("--json", action="store_true", help="输出 JSON")
    c.set_defaults(handler=cmd_list)

    c = nsub.add_parser("render", help="打印公示：生成 PDF / PNG / HTML")
    c.add_argument("code", help="公示编号")
    c.add_argument("--out", required=True, help="输出文件夹")
    c.add_argument("--format", default="pdf,png,html", help="pdf,png,html 中的一种或几种（逗号分隔）")
    c.add_argument("--paper", default="a4", choices=["a4", "a3"], help="纸张（默认A4）")
    c.add_argument("--large", action="store_true", help="大字版（适老化，正文不小于14磅）")
    c.add_argument("--version", type=int, help="第几版（默认最新一版）")
    c.add_argument("--archive-copy", action="store_true", help="存档副本（加盖“公示期满存档”，只限已存档的公示）")
    c.add_argument("--dpi", type=float, help="图片分辨率（默认110；发群里放大看用200）")
    c.add_argument("--long", action="store_true", help="图片做成一张长图（上下都有二维码），方便发村民群")
    c.set_defaults(handler=cmd_render)

    c = nsub.add_parser("photo", help="添加张贴照片（留存证据）")
    c.add_argument("code", help="公示编号")
    c.add_argument("file", help="照片文件")
    c.set_defaults(handler=cmd_photo)

    o = sub.add_parser("objection", help="异议：登记、处理")
    osub = o.add_subparsers(dest="objection_command", metavar="操作", required=True)
    c = osub.add_parser("add", help="登记异议（只能在公示期内）")
    c.add_argument("code", help="公示编号")
    c.add_argument("--text", required=True, help="异议内容")
    c.add_argument("--household", help="涉及农户的身份证号或户编号")
    c.add_argument(
        "--mask-private", action="store_true", help="内容中的完整身份证号、卡号、手机号遮挡后保存（不加则拒绝保存）"
    )
    c.set_defaults(handler=cmd_objection_add)
    c = osub.add_parser("resolve", help="处理异议；--correct 生成更正公示")
    c.add_argument("id", type=int, help="异议编号")
    c.add_argument("--text", required=True, help="处理结果")
    c.add_argument("--correct", action="store_true", help="生成更正公示（新版本）")
    c.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="申报编号:项目=新值",
        help="更正内容，如 2026-000123:quantity=12.5、2026-000123:certified_area=6（确权面积；"
        "deducted_area 扣除面积、deduction_reason 扣除原因）或 2026-000123:remark=经核实更正（可写多次）",
    )
    c.add_argument(
        "--mask-private", action="store_true", help="内容中的完整身份证号、卡号、手机号遮挡后保存（不加则拒绝保存）"
    )
    c.set_defaults(handler=cmd_objection_resolve)
    c = osub.add_parser("list", help="列出异议")
    c.add_argument("--year", type=int)
    c.add_argument("--open", action="store_true", help="只列未处理的")
    c.set_defaults(handler=cmd_objection_list)

    b = sub.add_parser("posters", help="一次打印所有村的公示")
    b.add_argument("--kind", required=True, choices=["application", "result", "summary"])
    b.add_argument("--program", default="", help="补贴项目代码（不填则为全部项目）")
    b.add_argument("--year", type=int, help="年度（默认今年）")
    b.add_argument("--out", required=True, help="输出文件夹")
    b.add_argument("--format", default="pdf", help="pdf,png,html 中的一种或几种（默认pdf）")
    b.add_argument("--paper", default="a4", choices=["a4", "a3"])
    b.add_argument("--large", action="store_true", help="大字版")
    b.add_argument("--create", action="store_true", help="没有公示的村，先新建并登记张贴")
    b.add_argument("--start", type=arg_date, help="与 --create 一起：张贴日期（默认今天）")
    b.add_argument("--days", type=int, help="与 --create 一起：公示天数")
    b.add_argument("--dpi", type=float, help="图片分辨率（默认110）")
    b.add_argument("--long", action="store_true", help="每个村的图片做成一张长图")
    b.set_defaults(handler=cmd_posters)

    v = sub.add_parser("verify", help="核验公示：编号和核验码是否真实")
    v.add_argument("code", help="公示编号（或扫描到的整段二维码内容）")
    v.add_argument("tag", nargs="*", default=[], help="核验码")
    v.set_defaults(handler=cmd_verify)


def cmd_create(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        n = svc.notices.create(args.kind, args.year or svc.today().year, args.village, args.program)
        snap = svc.notices.snapshot(n)
        t = snap["totals"]
        print(
            f"已新建{NOTICE_KINDS[n.kind]}草稿：{n.code}（{snap['village']}，{t['households']}户，"
            f"{format_fen(t['amount_fen'])}元）\n下一步：张贴后登记 villageboard notice post {n.code}"
        )
    return 0


def cmd_post(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        n = svc.notices.post(args.code, start=args.start, days=args.days)
        print(
            f"公示{n.code}已登记张贴：{n.start}至{n.end}。核验码：{n.tag}\n"
            f"打印：villageboard notice render {n.code} --out 文件夹"
        )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    state = None
    if args.state:
        state = STATE_NAMES.get(args.state)
        if state is None:
            raise VBError(f"状态“{args.state}”不对，可用：draft/posted/ended/archived")
    with open_services(args, fallback_readonly=True) as svc:
        rows = svc.notices.rows(args.year, state)
        if args.village:
            v = svc.registry.require_village(args.village)
            rows = [r for r in rows if r.notice.village_id == v.id]
        if args.program:
            rows = [r for r in rows if r.notice.program_code == args.program.upper()]
        if args.json:
            out = [
                {
                    "code": r.notice.code,
                    "version": r.notice.version,
                    "kind": r.notice.kind,
                    "village": r.village,
                    "program": r.notice.program_code,
                    "year": r.notice.year,
                    "state": r.state,
                    "start": r.notice.start.isoformat() if r.notice.start else None,
                    "end": r.notice.end.isoformat() if r.notice.end else None,
                    "days_left": r.days_left,
                    "tag": r.notice.tag or None,
                    "households": r.households,
                    "amount_fen": r.amount_fen,
                }
                for r in rows
            ]
            print(json.dumps(out, ensure_ascii=False, indent=1))
            return 0
        if not rows:
            print("没有符合条件的公示。")
        for r in rows:
            n = r.notice
            period = f"{n.start}至{n.end}" if n.start else "未张贴"
            left = f"，还剩{r.days_left}天" if r.days_left is not None else ""
            print(
                f"{n.code} 第{n.version}版  {r.kind_label}  {r.village}  {r.program}  {r.state_label}  "
                f"{period}{left}  {r.households}户 {format_fen(r.amount_fen)}元"
            )
    return 0


def cmd_photo(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        n = svc.notices.attach_photo(args.code, Path(args.file))
        print(f"已保存公示{n.code}的张贴照片（SHA-256 {n.photo['sha256']}）")
    return 0


def _household_id(svc: Services, text: str | None) -> int | None:
    if not text:
        return None
    if text.isdigit() and len(text) < 10:
        return svc.registry.household(int(text)).id
    h = svc.registry.by_id_number(text)
    if h is None:
        raise VBError(f"名册中没有身份证号为 {text} 的农户")
    return h.id


def cmd_objection_add(args: argparse.Namespace) -> int:
    with open_services(args) as svc:
        o = svc.notices.add_objection(
            args.code, args.text, _household_id(svc, args.household), mask_private=args.mask_private
        )
        print(f"已登记异议，编号{o.id}（公示{o.notice_code}）")
    return 0


def cmd_objection_resolve(args: argparse.Namespace) -> int:
    edits = []
    for item in args.set:
        try:
            number, rest = item.split(":", 1)
            field, value = rest.split("=", 1)
        except ValueError:
            raise VBError(
                f"更正内容“{item}”格式不对，应为 申报编号:项目=新值（如 2026-000123:quantity=12.5）"
            ) from None
        edits.append((number.strip(), field.strip(), value))
    if edits and not args.correct:
        raise VBError("指定了更正内容（--set）就要同时加 --correct")
    with open_services(args) as svc:
        o, c = svc.notices.resolve_objection(
            args.id, args.text, correct=args.correct, edits=edits, mask_private=args.mask_private
        )
        print(f"异议{o.id}已处理。")
        if c is not None:
            print(
                f"已生成更正公示：{c.code} 第{c.version}版（草稿，{len(c.changes)}处更正），原第{c.version - 1}版已存档。\n"
                f"张贴后登记：villageboard notice post {c.code}"
            )
    return 0


def cmd_objection_list(args: argparse.Namespace) -> int:
    with open_services(args, fallback_readonly=True) as svc:
        obs = svc.notices.objections(year=args.year, state="open" if args.open else None)
        if not obs:
            print("没有异议记录。")
        for o in obs:
            state = "未处理" if o.state == "open" else f"已处理：{o.resolution}"
            print(f"{o.id}  {o.notice_code}  {o.created[:10]}  {o.text}  （{state}）")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    import re

    words = [args.code, *args.tag]
    by_hand = len(words) == 2 and re.fullmatch(r"\s*\d+-\d{4}-\d+\s*", words[0])
    with open_services(args, fallback_readonly=True) as svc:
        if by_hand:
            code, tag = words
            found = svc.notices.verify(code, tag)
            problems: list[str] = []
        else:  # the whole text a phone scanned, quoted or not
            code, tag = "", ""
            found, problems = svc.notices.verify_text(" ".join(words))
    if found is None:
        what = f"编号{code}与核验码{tag}不匹配" if by_hand else "二维码中的核验码不是本乡镇任何一份公示的"
        print(f"核验未通过：{what}。这份公示可能不是本乡镇发布的，或已被改动。")
        return 1
    head = (
        f"{found['village']} {found['program']} {found['kind']}（{found['code']} 第{found['version']}版）\n"
        f"  {found['households']}户，合计{format_fen(found['amount_fen'])}元；公示期{found['start']}至{found['end']}；"
        f"{found['state']}" + ("" if found["latest"] else "（已有更正后的新版本）")
    )
    if problems:
        print(
            "核验未通过：二维码内容与存档不符，这份公示可能被改动过。\n"
            + "\n".join(f"  {p}" for p in problems)
            + f"\n存档中这个核验码是：{head}"
        )
        return 1
    print(f"核验通过：{head}")
    return 0


def _formats(text: str) -> list[str]:
    return [f.strip().lower() for f in text.split(",") if f.strip()]


def cmd_render(args: argparse.Namespace) -> int:
    from villageboard.services.posters import render_notice

    with open_services(args, fallback_readonly=True) as svc:
        paths = render_notice(
            svc,
            args.code,
            Path(args.out),
            _formats(args.format),
            args.paper,
            args.large,
            args.version,
            True if args.archive_copy else None,
            dpi=args.dpi,
            long=args.long,
        )
    for p in paths:
        print(p)
    return 0


def cmd_posters(args: argparse.Namespace) -> int:
    from villageboard.services.posters import batch_posters

    svc = open_services(args, fallback_readonly=not args.create)
    last = [-1]

    def progress(done: int, total: int) -> None:
        pct = done * 100 // max(1, total)
        if pct // 10 != last[0] // 10 or done == total:
            print(f"\r正在生成：{done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)
            last[0] = pct

    try:
        res = batch_posters(
            svc,
            args.kind,
            args.year or svc.today().year,
            Path(args.out),
            args.program,
            _formats(args.format),
            args.paper,
            args.large,
            args.create,
            args.start,
            args.days,
            progress=progress,
            dpi=args.dpi,
            long=args.long,
        )
    finally:
        svc.close()
    for line in res.skipped:
        print(f"未打印：{line}", file=sys.stderr)
    print(f"已生成{len(res.notices)}份公示，{len(res.paths)}个文件，在 {args.out}")
    return 0 if res.notices else 1
