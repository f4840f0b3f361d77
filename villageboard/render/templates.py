"""User-editable Jinja2 templates, rendered in a sandbox.

A county edits the notice wording (``templates/notice_intro.j2``) by putting its own
copy in ``<data dir>/templates/``; that copy wins over the shipped one
(:func:`villageboard.locations.template_dirs`). Because such files come from outside the
program, they render in Jinja2's ``ImmutableSandboxedEnvironment`` with
``StrictUndefined``: a sandbox escape (``{{ ''.__class__.__mro__ }}``,
``{{ cycler.__init__.__globals__ }}``), a misspelt variable or a syntax error stops with
a Chinese message naming the template, instead of printing a poster with blanks or
running code.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from villageboard.domain.errors import VBError
from villageboard.locations import template_dirs

#: Results longer than this from ``*`` / ``**`` in a template are refused, so a typo such
#: as ``{{ '-' * 10**9 }}`` cannot exhaust the laptop's memory.
_MAX_PRODUCT = 100_000


class _Env(ImmutableSandboxedEnvironment):
    """The sandbox, plus bounds on ``*`` and ``**`` (string repetition, huge powers)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for n, seq in ((left, right), (right, left)):
                if isinstance(n, int) and isinstance(seq, str | list | tuple):
                    if len(seq) * n > _MAX_PRODUCT:
                        raise SecurityError("重复次数过多")
            return operator.mul(left, right)
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("幂运算过大")
            return operator.pow(left, right)
        return super().call_binop(context, operator_name, left, right)


@lru_cache(maxsize=8)
def _environment(dirs: tuple[str, ...], html: bool) -> _Env:
    env = _Env(
        loader=jinja2.FileSystemLoader(list(dirs), encoding="utf-8"),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    env.filters["cn_date"] = cn_date
    return env


def cn_date(value: Any) -> str:
    """2026-11-03 (a date or an ISO string) -> 2026年11月3日; anything else unchanged."""
    import datetime as dt

    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    text = str(value or "")
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", text)
    if m:
        return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    return text


def _dirs(data_dir: Path | str | None) -> tuple[str, ...]:
    dirs = template_dirs(Path(data_dir) if data_dir is not None else None)
    if not dirs:
        raise VBError("找不到模板目录 templates/，安装可能不完整，请重新安装本工具。")
    return tuple(str(d) for d in dirs)


def render_template(
    name: str,
    context: Mapping[str, Any],
    data_dir: Path | str | None = None,
    html: bool = False,
) -> str:
    """Render template ``name`` (looked up in the data dir first, then the shipped
    ``templates/``) with ``context``. ``html=True`` autoescapes every expression.

    Raises VBError (Chinese, naming the template and line) on a missing template, a
    syntax error, an undefined variable or anything the sandbox refuses.
    """
    env = _environment(_dirs(data_dir), html)
    where = f"模板 {name}"
    try:
        template = env.get_template(name)
        where = f"模板 {template.filename or name}"
        return template.render(**dict(context))
    except jinja2.TemplateNotFound:
        raise VBError(f"找不到模板 {name}（查找位置：{'、'.join(_dirs(data_dir))}）。") from None
    except jinja2.TemplateSyntaxError as exc:
        line = f"第{exc.lineno}行" if exc.lineno else ""
        raise VBError(
            f"{where} {line}有语法错误：{exc.message}。请改正模板，或删除数据目录中的这份模板以恢复默认措辞。"
        ) from None
    except SecurityError as exc:
        raise VBError(
            f"{where} 试图访问不允许的内容（{exc}），已阻止。模板只能使用提供的公示字段。"
        ) from None
    except jinja2.UndefinedError as exc:
        msg = str(exc)
        if re.search(r"__\w+__|unsafe", msg):
            raise VBError(
                f"{where} 试图访问不允许的内部属性（{msg}），已阻止。模板只能使用提供的公示字段。"
            ) from None
        raise VBError(f"{where} 用到了不存在的字段：{msg}。请检查模板中的变量名。") from None
    except jinja2.TemplateError as exc:
        raise VBError(f"{where} 无法生成：{exc}") from None
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as exc:
        raise VBError(f"{where} 无法生成：{type(exc).__name__}: {exc}") from None


def render_paragraphs(
    name: str,
    context: Mapping[str, Any],
    data_dir: Path | str | None = None,
) -> list[str]:
    """Render a plain-text template into paragraphs: blank lines separate paragraphs,
    single line breaks inside one are joined (Chinese needs no space there), so a county
    can keep its template file readable without changing the printed layout."""
    text = render_template(name, context, data_dir=data_dir, html=False)
    paragraphs = []
    for block in re.split(r"\n[ \t\u3000]*\n", text.replace("\r\n", "\n")):
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        joined = lines[0]
        for ln in lines[1:]:
            # Keep a space between two Latin words/numbers; none between CJK.
            if joined[-1].isascii() and joined[-1].isalnum() and ln[0].isascii() and ln[0].isalnum():
                joined += " "
            joined += ln
        paragraphs.append(joined)
    return paragraphs


#: Every key notice_intro.j2 may use, with neutral defaults, so a county's template can
#: test any of them with ``{% if … %}`` under StrictUndefined.
INTRO_KEYS: dict[str, Any] = {
    "township": "",
    "village": "",
    "program": None,
    "kind": "",
    "kind_label": "",
    "year": "",
    "start": "",
    "end": "",
    "days": "",
    "hotline": "",
    "supervision_hotline": "",
    "supervision_address": "",
    "households": "",
    "amount_text": "",
    "programs": [],
    "original_code": "",
    "original_title": "",
    "changes_count": "",
    "reason": "",
}

_KIND_FROM_LABEL = {
    "申报公示": "application",
    "发放结果公示": "result",
    "年度汇总公示": "summary",
    "更正公示": "correction",
}


def intro_paragraphs(context: Mapping[str, Any], data_dir: Path | str | None = None) -> list[str]:
    """The intro wording of a notice from ``notice_intro.j2``.

    ``context`` keys (all optional except township/village/kind_label): township,
    village, program (mapping or object with name, basis, rate_text, unit; None for a
    year summary), kind ("application" | "result" | "summary" | "correction", derived
    from kind_label when absent), kind_label, year, start, end, days, hotline,
    supervision_hotline, supervision_address, households, amount_text; for a summary
    ``programs`` (list of names); for a correction original_code, original_title,
    changes_count, reason.
    """
    ctx = dict(INTRO_KEYS)
    ctx.update({k: v for k, v in context.items() if v is not None or k == "program"})
    if not ctx.get("kind"):
        ctx["kind"] = _KIND_FROM_LABEL.get(str(ctx.get("kind_label", "")), "result")
    if not ctx.get("kind_label"):
        ctx["kind_label"] = {v: k for k, v in _KIND_FROM_LABEL.items()}.get(ctx["kind"], "公示")
    program = ctx.get("program")
    if isinstance(program, Mapping):
        prog = {"name": "", "basis": "", "rate_text": "", "unit": ""}
        prog.update(program)
        ctx["program"] = prog
    return render_paragraphs("notice_intro.j2", ctx, data_dir=data_dir)
