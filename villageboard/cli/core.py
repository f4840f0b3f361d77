"""Set-up and safety commands: demo, init, check, backup, restore."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from villageboard.cli.main import data_dir_of, open_services, today_override
from villageboard.domain.errors import DamagedError, LockedError, VBError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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

    p = sub.add_parser("backup", help="备份数据（程序正在使用数据时也可以备份）")
    p.add_argument(
        "--out", help="备份到哪里：一个文件夹（如U盘）或一个文件（.zip）；不写则放在数据文件夹旁的备份文件夹"
    )
    p.add_argument("--passphrase-file", help="从这个文件的第一行读密码，给备份加密（AES）")
    p.add_argument("--encrypt", action="store_true", help="给备份加密码（会提示输入两遍）")
    p.add_argument("--no-verify", action="store_true", help="不检查备份（更快，但不知道备份是否完好）")
    p.add_argument(
        "--full-check", action="store_true", help="逐条核对全部记录与修改记录（同 villageboard check，大乡镇要几十秒）"
    )
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("backups", help="列出备份，以及最近一次备份的时间、位置、是否检查过")
    p.set_defaults(handler=cmd_backups)

    p = sub.add_parser("restore", help="从备份恢复（恢复前自动备份当前数据）")
    p.add_argument("file", help="备份文件（.zip）")
    p.add_argument("--passphrase-file", help="备份有密码时，从这个文件的第一行读密码（不写则提示输入）")
    p.add_argument(
        "--replace-township",
        metavar="乡镇名称",
        help="备份是另一个乡镇的数据时，写出本乡镇的名称，确认用它替换本乡镇的全部数据",
    )
    p.set_defaults(handler=cmd_restore)


def cmd_demo(args: argparse.Namespace) -> int:
    from villageboard.services.demo import build_demo

    data = data_dir_of(args)
    if args.households < 10 or args.villages < 1:
        raise VBError("农户数至少10户，村数至少1个")
    svc = build_demo(
        data,
        households=args.households,
        villages=args.villages,
        seed=args.seed,
        year=args.year,
        today=today_override(),
        progress=lambda m: print(m, file=sys.stderr),
    )
    try:
        print(
            f"演示乡镇已生成：{svc.township.county}{svc.township.name}，{len(svc.registry.villages())}个村，"
            f"{svc.registry.count()}户。数据文件夹：{data}"
        )
    finally:
        svc.close()
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from villageboard.domain.models import Township
    from villageboard.services.township import init_township

    t = Township(
        name=args.township,
        county=args.county,
        code=args.code,
        hotline=args.hotline,
        supervision_hotline=args.supervision_hotline,
        supervision_address=args.supervision_address,
        issuing_units=args.unit,
        portal_url=args.portal,
    )
    data = data_dir_of(args)
    svc = init_township(data, t)
    t = svc.township  # as stored: control characters gone
    svc.close()
    print(
        f"已建立：{t.county}{t.name}。数据文件夹：{data}\n下一步：导入农户名册 villageboard import households 名册.xlsx"
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from villageboard.services.integrity import check_problems
    from villageboard.store.store import is_data_dir

    data = data_dir_of(args)
    if not is_data_dir(data):
        raise VBError(f"{data} 不是本程序的数据文件夹")
    try:
        # opening as the writer finishes a save that a crash interrupted
        open_services(args, fallback_readonly=True).close()
    except (DamagedError, LockedError):
        pass
    problems = check_problems(data)
    if problems:
        from villageboard.cli.households import check_advice

        for problem in problems:
            print(problem.text)
            advice = check_advice(problem)
            if advice:
                print(advice)
        print(f"发现{len(problems)}处问题。", file=sys.stderr)
        return 1
    print("检查通过：全部数据文件完好，修改记录完整，名册与申报前后一致。")
    return 0


def _passphrase(args: argparse.Namespace, confirm: bool) -> str | None:
    """The passphrase from --passphrase-file, or typed at the prompt (None: none)."""
    if getattr(args, "passphrase_file", None):
        try:
            text = Path(args.passphrase_file).expanduser().read_text("utf-8")
        except OSError as exc:
            raise VBError(f"读不了密码文件 {args.passphrase_file}：{exc.strerror or exc}") from None
        word = text.splitlines()[0].strip() if text.strip() else ""
        if not word:
            raise VBError(f"密码文件 {args.passphrase_file} 是空的")
        return word
    if not confirm and not getattr(args, "encrypt", False):
        return None
    if not sys.stdin.isatty():
        raise VBError("需要密码，但没有可以输入的终端。请用 --passphrase-file 指定密码文件。")
    import getpass

    word = getpass.getpass("备份密码：").strip()
    if not word:
        raise VBError("密码不能是空的")
    if confirm and getpass.getpass("再输入一遍：").strip() != word:
        raise VBError("两次输入的密码不一样，没有备份")
    return word


def cmd_backup(args: argparse.Namespace) -> int:
    from villageboard.services.backup import describe_written

    passphrase = _passphrase(args, confirm=bool(getattr(args, "encrypt", False)))
    # open as usual (a damaged data dir is named, an interrupted save finished); while
    # another window holds the data, read-only: the backup is consistent either way
    svc = open_services(args, fallback_readonly=True)
    try:
        out = None
        if args.out:
            out = Path(args.out).expanduser()
            if args.out.endswith(("/", "\\")):
                out.mkdir(parents=True, exist_ok=True)  # a folder, as the slash says
            out = out.resolve()
        verify: bool | str = False if args.no_verify else ("full" if args.full_check else True)
        info = svc.backups.make(out=out, passphrase=passphrase, verify=verify, isolate=False)
    finally:
        svc.close()
    for line in describe_written(info):
        print(line)
    return 0


def cmd_backups(args: argparse.Namespace) -> int:
    svc = open_services(args, readonly=True)
    try:
        last = svc.backups.last()
        found = svc.backups.list()
    finally:
        svc.close()
    print(f"最近一次备份：{last.describe()}" if last else "还没有备份过。")
    for p in found:
        print(p)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from villageboard.services import Services
    from villageboard.services.backup import PassphraseError, restore_into

    data = data_dir_of(args)
    src = Path(args.file).expanduser().resolve()
    passphrase = _passphrase(args, confirm=False)
    try:
        before = restore_into(data, src, passphrase=passphrase, replace_township=args.replace_township)
    except PassphraseError:
        if passphrase is not None or not sys.stdin.isatty():
            raise
        import getpass

        passphrase = getpass.getpass("这个备份有密码，请输入：").strip()
        before = restore_into(data, src, passphrase=passphrase, replace_township=args.replace_township)
    Services.open(data, today=today_override()).close()
    if before:
        print(f"恢复前的数据已自动备份到 {before}")
    print(f"已从 {src} 恢复。")
    return 0
