"""Check a folder of user-editable templates before it is trusted.

A restore (or anyone about to put a ``templates/`` folder into a data dir) calls
:func:`check_templates` on the folder first. Every file is looked at without running
it (a plain UTF-8 file of sane size, ending in ``.j2``, that parses), and every
template the program renders (``notice_intro.j2``, ``notice.html.j2``,
``answer_script.j2``) is test-rendered in the sandbox with sample data for each kind
of notice, under the same size and time limits as real use. An empty list means the
folder is safe to use.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from villageboard.domain.errors import VBError
from villageboard.locations import shipped
from villageboard.render.sandbox import MAX_TEMPLATE_BYTES, LimitedEnvironment, TemplateLimitError

SHIPPED = shipped("templates")
#: More files than this in one template folder is not a county's wording.
MAX_FILES = 200


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with one template file. ``name`` is its path inside the folder
    (POSIX form); ``message`` is Chinese and names the template."""

    name: str
    message: str

    def __str__(self) -> str:
        return self.message


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for d in list(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                dirnames.remove(d)
                yield Path(dirpath, d).relative_to(folder).as_posix(), Path(dirpath, d)
        for f in sorted(filenames):
            p = Path(dirpath, f)
            yield p.relative_to(folder).as_posix(), p


def _look(rel: str, path: Path, env: LimitedEnvironment) -> str:
    """Why the file at ``path`` cannot be a template; "" when it can."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"模板 {rel} 无法读取：{exc.strerror or exc}"
    if stat.S_ISLNK(st.st_mode):
        return f"模板 {rel} 是一个链接（指向别处的文件），不能作为模板"
    if not stat.S_ISREG(st.st_mode):
        return f"模板 {rel} 不是普通文件，不能作为模板"
    if not rel.endswith(".j2"):
        return f"{rel} 不是模板文件（模板文件名以 .j2 结尾）"
    if st.st_size > MAX_TEMPLATE_BYTES:
        return f"模板 {rel} 有{st.st_size // 1024}KB，模板文件最大{MAX_TEMPLATE_BYTES // 1024}KB"
    try:
        source = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return f"模板 {rel} 不是 UTF-8 编码的文本文件，请用 UTF-8 保存"
    except OSError as exc:
        return f"模板 {rel} 无法读取：{exc.strerror or exc}"
    try:
        env.compile(source, rel, rel)
    except (RecursionError, SyntaxError, MemoryError):
        return f"模板 {rel} 嵌套过深或过于复杂，无法使用"
    except jinja2.TemplateSyntaxError as exc:
        from villageboard.render.templates import syntax_reason

        return f"模板 {rel} 第{exc.lineno}行有语法错误：{syntax_reason(exc.message or '')}"
    except TemplateLimitError as exc:
        return f"模板 {rel} 超出了模板的安全限制（{exc.reason}）"
    return ""


# --------------------------------------------------------------------------- sample data


def _intro_samples() -> Iterator[dict[str, Any]]:
    from villageboard.render.templates import INTRO_KEYS

    program = {
        "name": "耕地地力保护补贴",
        "basis": "关于做好2026年耕地地力保护补贴工作的通知",
        "basis_no": "晋财农〔2026〕12号",
        "rate_text": "125.00元/亩",
        "unit": "亩",
    }
    base = {
        **INTRO_KEYS,
        "township": "城关镇",
        "village": "东关村",
        "year": 2026,
        "start": "2026-11-03",
        "end": "2026-11-10",
        "hotline": "0357-1234567",
        "supervision_hotline": "0357-7654321",
        "supervision_address": "城关镇人民政府纪检办公室",
        "households": 123,
        "rows": 150,
        "amount_text": "45,678.90元",
    }
    yield {**base, "kind": "application", "kind_label": "申报公示", "program": program}
    yield {**base, "kind": "result", "kind_label": "发放结果公示", "program": program}
    yield {
        **base,
        "kind": "summary",
        "kind_label": "年度汇总公示",
        "program": None,
        "programs": ["耕地地力保护补贴", "玉米生产者补贴"],
    }
    yield {
        **base,
        "kind": "correction",
        "kind_label": "更正公示",
        "program": program,
        "original_code": "141025-2026-0012",
        "original_title": "城关镇东关村2026年度耕地地力保护补贴发放结果公示",
        "changes_count": 2,
    }
    yield {**INTRO_KEYS, "village": "东关村", "kind": "application", "kind_label": "申报公示", "program": None}


def _page_samples() -> Iterator[dict[str, Any]]:
    from villageboard.render.document import Column, NoticeDocument, Row, Table
    from villageboard.render.html import page_context

    cols = [
        Column("序号", "no", "C"),
        Column("户主姓名", "name"),
        Column("身份证号", "id", "C"),
        Column("金额（元）", "amount", numeric=True),
    ]
    rows = [Row([str(i), f"张{i}", "141025********123X", "437.50"], ref=f"第{i}行 张{i}") for i in range(1, 4)]
    rows.append(Row(["", "合计", "", "1,312.50"], kind="total"))
    doc = NoticeDocument(
        title="城关镇东关村2026年度耕地地力保护补贴发放结果公示",
        subtitle="编号：141025-2026-0012　第1版",
        paragraphs=["现将发放结果予以公示。", "如有异议请反映。"],
        tables=[Table("", cols, rows)],
        totals_lines=["合计：共 3 户"],
        footer_lines=["公示期：2026年11月3日至2026年11月10日"],
        code="141025-2026-0012",
        version=1,
        tag="ABCD-EFGH-JKMN-PQRS",
        qr_payload="141025-2026-0012/1/ABCD",
        issued_date="2026-11-03",
        issuers=["城关镇人民政府"],
    )
    yield page_context(doc)
    yield page_context(doc.replace(stamp="公示期满存档 2026年11月11日", large=True, issuers=[]))


def _script_samples() -> Iterator[dict[str, Any]]:
    base = {
        "name": "张三",
        "year": 2026,
        "card_tail": "5671",
        "hotline": "0357-1234567",
        "township": "城关镇",
        "village": "东关村",
        "office": "城关镇农业综合服务中心",
    }
    items = [
        {
            "program": "耕地地力保护补贴",
            "unit": "亩",
            "quantity": "3.5",
            "amount": "437.50",
            "status": s,
            "paid_date": "11月3日",
            "reason": "账户已销户",
            "reject_reason": "不在确权范围",
            "case": c,
        }
        for s, c in (
            ("已发放", "paid"),
            ("发放失败", "failed"),
            ("发放中", "issued"),
            ("不通过", "rejected"),
            ("审核中", "pending"),
        )
    ]
    yield {**base, "items": items}
    yield {**base, "items": []}


#: The templates the program renders, whether each is HTML, and its sample contexts.
ENTRY_POINTS: dict[str, tuple[bool, Callable[[], Iterator[dict[str, Any]]]]] = {
    "notice_intro.j2": (False, _intro_samples),
    "notice.html.j2": (True, _page_samples),
    "answer_script.j2": (False, _script_samples),
}


def check_templates(folder: Path | str) -> list[TemplateProblem]:
    """Every problem with the templates in ``folder`` (a ``templates/`` folder: a data
    dir's, or one unpacked from a backup); an empty list means they are safe to use.

    Never runs anything outside the sandbox, never reads a file that is too big or not
    a plain file, and every test render runs under the size and time limits."""
    from villageboard.render.templates import render_in

    folder = Path(folder)
    if not folder.exists():
        return []
    if folder.is_symlink() or not folder.is_dir():
        return [TemplateProblem(folder.name, f"模板目录 {folder.name} 不是普通文件夹")]
    probe = LimitedEnvironment()
    problems: list[TemplateProblem] = []
    good: set[str] = set()
    for count, (rel, path) in enumerate(_files(folder), 1):
        if count > MAX_FILES:
            problems.append(TemplateProblem(rel, f"模板目录里的文件超过{MAX_FILES}个，不像是模板，未再检查。"))
            break
        why = _look(rel, path, probe)
        if why:
            problems.append(TemplateProblem(rel, why + "。"))
        else:
            good.add(rel)
    if problems:
        return problems  # nothing is rendered from a folder with a bad file in it
    dirs = [folder, SHIPPED] if SHIPPED.is_dir() else [folder]
    for name, (html, samples) in ENTRY_POINTS.items():
        if name not in good:
            continue
        for context in samples():
            try:
                render_in(dirs, name, context, html=html)
            except VBError as exc:
                problems.append(TemplateProblem(name, f"{exc}（用示例数据试生成时）"))
                break
            except Exception as exc:  # noqa: BLE001 - a template must never crash the check
                problems.append(
                    TemplateProblem(name, f"模板 {name} 无法生成：{type(exc).__name__}（用示例数据试生成时）")
                )
                break
    return problems
