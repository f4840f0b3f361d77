"""Sample notices for the render tests (a helper module, imported by tests/test_render_*.py).

Deterministic: names, IDs and amounts come from a seeded generator, so every run
renders the same notice.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from villageboard.domain.money import format_fen, format_quantity
from villageboard.render.document import Column, NoticeDocument, Row, Table, totals_line
from villageboard.render.qr import qr_payload

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华霞平刚桂兰玉梅红建国志文海燕春荣金凤云飞鹏辉波宁慧晶佳振宇晓东亮新民德胜"
)
RARE_NAME = "𠮷祥"  # U+20BB7: outside GBK and outside WenQuanYi
DOT_NAMES = ("阿依古丽·买买提", "欧阳·司马")
CODE = "141025-2026-0012"
TAG = "7K2P9QXM4ZT3A"
RESULT_COLUMNS = [
    Column("序号", "no", "C"),
    Column("组别", "group", "C"),
    Column("户主姓名", "name"),
    Column("身份证号", "id_masked", "C"),
    Column("面积（亩）", "quantity", numeric=True),
    Column("补贴标准（元/亩）", "rate", numeric=True),
    Column("补贴金额（元）", "amount", numeric=True),
    Column("发放状态", "status", "C"),
    Column("备注", "remark"),
]
REMARKS = ("", "", "", "已核实", "土地流转，由承包方申报", "新增承包地，经村民代表大会讨论通过并报乡镇农经站审核备案")


def sample_names(n: int, seed: int = 7, rare: bool = True) -> list[str]:
    rnd = random.Random(seed)
    names = []
    for _ in range(n):
        names.append(rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2)))))
    names[min(5, n - 1)] = RARE_NAME if rare else "吉祥"
    if n > 40:
        names[17] = DOT_NAMES[0]
        names[33] = DOT_NAMES[1]
    return names


def result_notice(
    n: int = 400, seed: int = 7, rare: bool = True, remark: dict[int, str] | None = None, **changes: object
) -> NoticeDocument:
    """A realistic 发放结果公示 of ``n`` households (masked IDs, areas, amounts)."""
    rnd = random.Random(seed)
    names = sample_names(n, seed, rare)
    rows = []
    total_fen = 0
    total_q = Decimal(0)
    for i, name in enumerate(names, 1):
        q = Decimal(rnd.randint(50, 3000)) / 100
        fen = int((q * 12500).to_integral_value())
        total_fen += fen
        total_q += q
        id_masked = f"1410{rnd.randint(10, 99)}********{rnd.randint(0, 999):03d}{rnd.choice('0123456789X')}"
        note = (remark or {}).get(i, rnd.choice(REMARKS))
        rows.append(
            Row(
                [
                    str(i),
                    f"第{rnd.randint(1, 12)}组",
                    name,
                    id_masked,
                    format_quantity(q),
                    "125.00",
                    format_fen(fen),
                    "已发放",
                    note,
                ],
                ref=f"第{i}行 {name}",
            )
        )
    doc = NoticeDocument(
        title="城关镇东关村2026年度耕地地力保护补贴发放结果公示",
        subtitle=f"公示编号 {CODE}　第1版",
        paragraphs=[
            "根据《关于做好2026年耕地地力保护补贴工作的通知》文件精神，2026年度耕地地力保护补贴资金已通过"
            "惠民惠农财政补贴资金“一卡通”发放到户。现将东关村发放结果予以公示。补贴标准：每亩 125.00 元。",
            "公示期为2026年11月3日至2026年11月10日（共7天）。如对公示内容有异议，请在公示期内向城关镇人民政府"
            "或东关村村民委员会反映。咨询电话：0357-1234567。监督举报电话：0357-7654321。",
        ],
        tables=[Table("发放明细", list(RESULT_COLUMNS), rows, page_sum=[4, 6], page_sum_label=2)],
        totals_lines=[totals_line(n, total_fen, format_quantity(total_q), "亩")],
        footer_lines=[
            "公示期：2026年11月3日至2026年11月10日",
            "咨询电话：0357-1234567　县农业农村局监督电话：0357-7654321",
            "监督地址：城关镇人民政府纪检办公室（镇政府院内二楼）",
        ],
        issuers=["城关镇人民政府", "东关村村民委员会"],
        code=CODE,
        version=1,
        tag=TAG,
        qr_payload=qr_payload(CODE, 1, TAG),
        issued_date="2026-11-03",
    )
    return doc.replace(**changes) if changes else doc


def summary_notice() -> NoticeDocument:
    """A 年度汇总公示: subtotal rows per program and a closing total row."""
    cols = [
        Column("项目", "program"),
        Column("户主姓名", "name"),
        Column("数量", "qty", numeric=True),
        Column("金额（元）", "amount", numeric=True),
    ]
    rows = []
    for prog, people in (("耕地地力保护补贴", ["张伟", "王芳"]), ("玉米生产者补贴", ["李娜"])):
        sub = 0
        for k, name in enumerate(people, 1):
            fen = 12345 * k
            sub += fen
            rows.append(Row([prog, name, f"{k}.5", format_fen(fen)], ref=f"{prog} {name}"))
        rows.append(Row([f"{prog} 小计", "", "", format_fen(sub)], kind="subtotal"))
    rows.append(Row(["全部项目合计", "", "", format_fen(12345 * 4)], kind="total"))
    return NoticeDocument(
        title="城关镇东关村2026年度涉农补贴发放情况汇总公示",
        subtitle="",
        paragraphs=["汇总说明。"],
        tables=[Table("", cols, rows)],
        totals_lines=[totals_line(3, 12345 * 4)],
        footer_lines=[],
        code="141025-2026-0020",
        version=1,
        tag="ABCDEFGHJKMNP",
        qr_payload=qr_payload("141025-2026-0020", 1, "ABCDEFGHJKMNP"),
        issued_date="2026-12-20",
    )


def correction_notice() -> NoticeDocument:
    """A 更正公示: the changes table (row, field, old, new) before the full table."""
    base = result_notice(30, seed=3, rare=False)
    changes = Table(
        "更正内容",
        [Column("行", "row", "C"), Column("项目", "field"), Column("原内容", "old"), Column("更正为", "new")],
        [
            Row(["第3行", "面积（亩）", "12.5", "21.5"], ref="更正第1处"),
            Row(["第7行", "户主姓名", "张伟", "张玮"], ref="更正第2处"),
        ],
    )
    return base.replace(
        title="城关镇东关村2026年度耕地地力保护补贴发放结果更正公示",
        tables=[changes, *base.tables],
        version=2,
        qr_payload=qr_payload(CODE, 2, TAG),
    )


def need_tool(name: str) -> str:
    """Path of an external tool, or skip the test when it is truly absent."""
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} 未安装（poppler-utils / zbar-tools），跳过此项检查")
    return path


def pdftotext(pdf: bytes, tmp: Path, first: int | None = None, last: int | None = None, layout: bool = False) -> str:
    exe = need_tool("pdftotext")
    src = tmp / "in.pdf"
    src.write_bytes(pdf)
    args = [exe, "-enc", "UTF-8"]
    if layout:
        args.append("-layout")
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run([*args, str(src), "-"], capture_output=True, check=True).stdout.decode("utf-8")


def squash(text: str) -> str:
    return "".join(text.split())


def name_in_text(name: str, flat_text: str) -> bool:
    """A name is printed when it appears whole, or (a long minority name wrapped inside
    its cell) as its two halves broken after the dot."""
    if name in flat_text:
        return True
    if "·" in name:
        head, tail = name.split("·", 1)
        return head + "·" in flat_text and tail in flat_text
    return False
