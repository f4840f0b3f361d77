"""`villageboard settings`: show the township's settings, or change the risk-flag
thresholds, the verification address, and what notices print (the village committee
as co-issuer, the 一卡通尾号 column)."""

from __future__ import annotations

import argparse
import json

from villageboard.cli.main import open_services


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("settings", help="查看乡镇设置；修改风险提示的提示线、核验网址、公示落款和一卡通尾号列")
    p.add_argument(
        "--growth-limit", help="比上年增加提示线：数量超过前三年审核通过数量中最少一年的多少倍就提示（默认1.2）"
    )
    p.add_argument("--outlier-factor", help="数量异常提示线：超过本村该项目中位数的多少倍就提示（默认3）")
    p.add_argument("--planted-limit", help="种粮超耕地提示线：种粮面积超过本户耕地补贴面积的多少倍就提示（默认1）")
    p.add_argument("--portal", help="县政府网站核验地址（http:// 或 https:// 开头；写空字符串清除）")
    p.add_argument(
        "--village-cosign",
        choices=("on", "off"),
        help="on：公示由乡镇和本村村民委员会共同落款，各留盖章位置；off：只由乡镇落款（默认）",
    )
    p.add_argument(
        "--card-tail",
        choices=("on", "off"),
        help="on：申报和发放结果公示加“一卡通尾号”一列（只印后4位）；off：不加（默认）",
    )
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(handler=cmd_settings)


def cmd_settings(args: argparse.Namespace) -> int:
    from villageboard.services.township import update_settings

    changes = {
        key: value
        for key, value in (
            ("growth_limit", args.growth_limit),
            ("outlier_factor", args.outlier_factor),
            ("planted_limit", args.planted_limit),
            ("portal_url", args.portal),
        )
        if value is not None
    }
    for key, value in (("village_cosign", args.village_cosign), ("card_tail_column", args.card_tail)):
        if value is not None:
            changes[key] = value == "on"
    with open_services(args, readonly=not changes) as svc:
        t = update_settings(svc, **changes) if changes else svc.township
        if args.json:
            print(
                json.dumps(
                    {
                        "township": t.name,
                        "county": t.county,
                        "code": t.code,
                        "hotline": t.hotline,
                        "supervision_hotline": t.supervision_hotline,
                        "portal_url": t.portal_url,
                        "growth_limit": str(t.growth_limit),
                        "outlier_factor": str(t.outlier_factor),
                        "planted_limit": str(t.planted_limit),
                        "village_cosign": t.village_cosign,
                        "card_tail_column": t.card_tail_column,
                    },
                    ensure_ascii=False,
                    indent=1,
                )
            )
            return 0
        if changes:
            print(
                "已保存。之后计算的风险提示按新的提示线。"
                if {"growth_limit", "outlier_factor", "planted_limit"} & set(changes)
                else "已保存。"
            )
        print(f"乡镇：{t.county}{t.name}（代码{t.code}）")
        print(f"咨询电话：{t.hotline}　监督举报电话：{t.supervision_hotline or '未填'}")
        print(f"核验网址：{t.portal_url or '未填'}")
        print("公示落款：" + ("乡镇和本村村民委员会共同落款，各留盖章位置" if t.village_cosign else "乡镇落款"))
        print("一卡通尾号列：" + ("公示上印（只印后4位）" if t.card_tail_column else "不印"))
        print(
            f"比上年增加提示线：前三年最少一年的{t.growth_limit}倍　数量异常提示线：本村中位数的{t.outlier_factor}倍　"
            f"种粮超耕地提示线：耕地补贴面积的{t.planted_limit}倍"
        )
    return 0
