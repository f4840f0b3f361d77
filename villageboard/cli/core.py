"""Set-up and safety commands: demo, init, check, backup, restore."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from villageboard.cli.main import data_dir_of, open_services, today_override
from villageboard.domain.errors import DamagedError, LockedError, VBError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="生成演示乡镇（数据文件夹必须是空的）")
    p.add_argument("--households", type=int, default=3000, help="农户数（默认3000）")
    p.add_argument("--villages", type=int, default=12, help="村数（默认12）")
    p.add_argument("--seed", type=int, default=20261128, help="随机种子（相同种子生成相同数据）")
    p.add_argument("--year", type=int, help="当前年度（默认今年）")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("init", help="建立正式使用的乡镇（空名册）")
    p.add_argument("--township", required=True, help="乡镇名称，如 岳阳镇")
    p.add_argument("--county", required=True, help="县名称，如 古县")
    p.add_argument("--code", required=True, help="6位行政区划代码，如 141025")
    p.add_argument("--hotline", required=True, help="乡镇咨询电话")
    p.add_argument("--supervision-hotline", default="", help="县级监督举报电话")
    p.add_argument("--supervision-address", default="", help="监督举报地址")
    p.add_argument("--unit", action="append", default=[], help="公示落款单位（可写多次）")
    p.add_argument("--portal", default="", help="县政府网站核验地址（可不填）")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("check", help="检查全部数据文件和修改记录是否完好")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("backup", help="备份数据")
    p.add_argument("--out", required=True, help="备份文件路径（.zip）")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="从备份恢复（恢复前自动备份当前数据）")
    p.add_argument("file", help="备份文件（.zip）")
    p.set_defaults(handler=cmd_restore)


def cmd_demo(args: argparse.Namespace) -> int:
    from villageboard.services.demo import build_demo

    data = data_dir_of(args)
    if args.households < 10 or args.villages < 1:
        raise VBError("农户数至少10户，村数至少1个")
    svc = build_demo(
        data, households=args.households, villages=args.villages, seed=args.seed,
        year=args.year, today=today_override(), progress=lambda m: print(m, file=sys.stderr),
    )
    try:
        print(f"演示乡镇已生成：{svc.township.county}{svc.township.name}，{len(svc.registry.villages())}个村，"
              f"{svc.registry.count()}户。数据文件夹：{data}")
    finally:
        svc.close()
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from villageboard.domain.models import Township
    from villageboard.services.township import init_township

    t = Township(
        name=args.township, county=args.county, code=args.code, hotline=args.hotline,
        supervision_hotline=args.supervision_hotline, supervision_address=args.supervision_address,
        issuing_units=args.unit, portal_url=args.portal,
    )
    data = data_dir_of(args)
    svc = init_township(data, t)
    t = svc.township  # as stored: control characters gone
    svc.close()
    print(f"已建立：{t.county}{t.name}。数据文件夹：{data}\n下一步：导入农户名册 villageboard import households 名册.xlsx")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from villageboard.services.integrity import check_all
    from villageboard.store.store import is_data_dir

    data = data_dir_of(args)
    if not is_data_dir(data):
        raise VBError(f"{data} 不是本程序的数据文件夹")
    try:
        # opening as the writer finishes a save that a crash interrupted
        open_services(args, fallback_readonly=True).close()
    except (DamagedError, LockedError):
        pass
    problems = check_all(data)
    if problems:
        from villageboard.cli.households import check_advice

        for line in problems:
            print(line)
            if check_advice(line):
                print(check_advice(line))
        print(f"发现{len(problems)}处问题。", file=sys.stderr)
        return 1
    print("检查通过：全部数据文件完好，修改记录完整，名册与申报前后一致。")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from villageboard.store.backup import make_backup

    svc = open_services(args, fallback_readonly=True)
    try:
        out = make_backup(svc.store, out=Path(args.out).expanduser().resolve())
    finally:
        svc.close()
    print(f"已备份到 {out}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from villageboard.services import Services
    from villageboard.store.backup import restore_into

    data = data_dir_of(args)
    src = Path(args.file).expanduser().resolve()
    before = restore_into(data, src)
    Services.open(data, today=today_override()).close()
    if before:
        print(f"恢复前的数据已自动备份到 {before}")
    print(f"已从 {src} 恢复。")
    return 0
