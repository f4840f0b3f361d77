"""User-editable Jinja2 templates, rendered in a sandbox.

A county edits the notice wording (``templates/notice_intro.j2``) by putting its own
copy in ``<data dir>/templates/``; that copy wins over the shipped one
(:func:`villageboard.locations.template_dirs`). Because such files come from outside the
program, they render in Jinja2's ``ImmutableSandboxedEnvironment`` with
``StrictUndefined``: a sandbox escape (``{{ ''.__class__.__mro__ }}``,
``{{ cycler.__init__.__globals__ }}``), a misspelt variable or a syntax error stops with
a Chinese message naming the template, instead of printing a poster with blanks or
running code. The sandbox also bounds size and time (:mod:`villageboard.render.sandbox`):
``{{ 'x'|center(200000000) }}`` or a runaway loop is refused, never run out of memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import StrictUndefined, meta
from jinja2.sandbox import SecurityError

from villageboard.domain.dates import cn_date
from villageboard.domain.errors import VBError
from villageboard.locations import template_dirs
from villageboard.render.sandbox import LimitedEnvironment, LimitedLoader, TemplateLimitError


def _new_env(loader: jinja2.BaseLoader, html: bool) -> LimitedEnvironment:
    env = LimitedEnvironment(
        loader=loader,
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    env.add_filter("cn_date", cn_date)
    return env


@lru_cache(maxsize=8)
def _environment(dirs: tuple[str, ...], html: bool) -> LimitedEnvironment:
    return _new_env(LimitedLoader(list(dirs), encoding="utf-8"), html)


@lru_cache(maxsize=16)
def _frozen_environment(sources: tuple[tuple[str, str], ...], html: bool) -> LimitedEnvironment:
    return _new_env(jinja2.DictLoader(dict(sources)), html)


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
    return _render(_environment(_dirs(data_dir), html), name, context, lambda: _dirs(data_dir))


def render_frozen(
    name: str,
    sources: Mapping[str, str],
    context: Mapping[str, Any],
    html: bool = False,
) -> str:
    """Render ``name`` from template sources kept with a posted notice (``sources``
    maps every template name it may load to its text), not from any folder, with
    the same sandbox and limits as :func:`render_template`."""
    env = _frozen_environment(tuple(sorted(sources.items())), html)
    return _render(env, name, context, lambda: ("公示存档",))


def render_in(
    dirs: Sequence[Path | str],
    name: str,
    context: Mapping[str, Any],
    html: bool = False,
) -> str:
    """Render ``name`` looked up in ``dirs`` (first wins), with the sandbox and limits.
    For checking a template folder that is not (yet) a data dir's, e.g. a backup's."""
    folders = tuple(str(d) for d in dirs)
    return _render(_environment(folders, html), name, context, lambda: folders)


def template_sources(name: str, data_dir: Path | str | None = None) -> dict[str, str]:
    """The text of template ``name`` as it would be used now, and of every template it
    includes, imports or extends (by name -> text), so that a posted notice can keep
    them and print the same way later (:func:`render_frozen`)."""
    env = _environment(_dirs(data_dir), False)
    out: dict[str, str] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in out:
            continue
        try:
            source = env.loader.get_source(env, current)[0]  # type: ignore[union-attr]
            tree = env.parse(source, current)
        except jinja2.TemplateNotFound:
            raise VBError(f"找不到模板 {current}（查找位置：{'、'.join(_dirs(data_dir))}）。") from None
        except jinja2.TemplateSyntaxError as exc:
            raise VBError(f"模板 {current} 第{exc.lineno}行有语法错误：{syntax_reason(exc.message or '')}。") from None
        except TemplateLimitError as exc:
            raise VBError(f"模板 {current} 超出了模板的安全限制（{exc.reason}）。") from None
        except (RecursionError, MemoryError):
            raise VBError(f"模板 {current} 嵌套过深或过于复杂，无法使用。") from None
        out[current] = source
        for ref in meta.find_referenced_templates(tree):
            if ref is None:
                raise VBError(f"模板 {current} 引用的模板名不是固定的文字，无法随公示存档。请写明模板文件名。")
            todo.append(ref)
    return out


_TOKENS = {
    "end of statement block": "%}",
    "end of print statement": "}}",
    "begin of statement block": "{%",
    "begin of print statement": "{{",
    "end of template": "模板末尾",
    "end of comment": "#}",
}


def _tok(text: str) -> str:
    return _TOKENS.get(text, text)


def _tags(text: str) -> str:
    return "或".join(f"{{% {t} %}}" for t in re.findall(r"'([^']+)'", text)) or text


#: Jinja's syntax messages, in the words of the clerk who edits the template.
_SYNTAX: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(
            r"Unexpected end of template\.(?: Jinja was looking for the following tags: (.+?)\.)?"
            r"(?: The innermost block that needs to be closed is '(\w+)'\.)?$",
            re.S,
        ),
        lambda m: (
            "模板没写完就结束了"
            + (f"，缺少 {_tags(m.group(1))}" if m.group(1) else "")
            + (f"（需要先结束 {{% {m.group(2)} %}} 这一段）" if m.group(2) else "")
        ),
    ),
    (
        re.compile(r"Encountered unknown tag '([^']+)'\.(.*)$", re.S),
        lambda m: (
            f"不认识或用错位置的标记 {{% {m.group(1)} %}}"
            + ("，可能是前后顺序写错了" if "nesting mistake" in m.group(2) else "")
            + (
                f"（需要先结束 {{% {mm.group(1)} %}} 这一段）"
                if (mm := re.search(r"closed is '(\w+)'", m.group(2)))
                else ""
            )
        ),
    ),
    (re.compile(r"Expected an expression, got '(.+)'$", re.S), lambda m: f"这里缺少内容（遇到了“{_tok(m.group(1))}”）"),
    (
        re.compile(r"unexpected end of template, expected '(.+)'\.$", re.S),
        lambda m: f"模板没写完就结束了，缺少“{_tok(m.group(1))}”",
    ),
    (
        re.compile(r"expected token '(.+)', got '(.+)'$", re.S),
        lambda m: f"这里应为“{_tok(m.group(1))}”，写成了“{_tok(m.group(2))}”",
    ),
    (re.compile(r"unexpected char '(.+)' at \d+$", re.S), lambda m: f"有不认识的字符“{m.group(1)}”"),
    (
        re.compile(r"unexpected '(.+)', expected '(.+)'$", re.S),
        lambda m: f"括号不配对：遇到“{m.group(1)}”，应为“{m.group(2)}”",
    ),
    (re.compile(r"unexpected '(.+)'$", re.S), lambda m: f"多余或位置不对的“{_tok(m.group(1))}”"),
]


def syntax_reason(message: str) -> str:
    """A Jinja syntax error message in plain Chinese (the original kept when unknown)."""
    text = (message or "").strip()
    for pattern, words in _SYNTAX:
        m = pattern.match(text)
        if m:
            said: str = words(m)
            return said
    return f"写法有误（{text}）"


def _render(env: LimitedEnvironment, name: str, context: Mapping[str, Any], dirs: Any) -> str:
    where = f"模板 {name}"
    try:
        template = env.get_template(name)
        where = f"模板 {template.filename or name}"
        return env.render(template, context)
    except jinja2.TemplateNotFound as exc:
        missing = exc.name if exc.name and exc.name != name else name
        raise VBError(f"找不到模板 {missing}（查找位置：{'、'.join(dirs())}）。") from None
    except jinja2.TemplateSyntaxError as exc:
        line = f"第{exc.lineno}行" if exc.lineno else ""
        inner = f"（其中引用的 {exc.name}）" if exc.name and exc.name != name else ""
        raise VBError(
            f"{where}{inner} {line}有语法错误：{syntax_reason(exc.message or '')}。请改正模板，或删除数据目录中的这份模板以恢复默认措辞。"
        ) from None
    except TemplateLimitError as exc:
        raise VBError(
            f"{where} 超出了模板的安全限制（{exc.reason}），已停止生成。"
            "请检查模板中的循环以及 center、replace、“*”等写法，或删除数据目录中的这份模板以恢复默认措辞。"
        ) from None
    except SecurityError as exc:
        raise VBError(f"{where} 试图访问不允许的内容（{exc}），已阻止。模板只能使用提供的公示字段。") from None
    except jinja2.UndefinedError as exc:
        msg = str(exc)
        if re.search(r"__\w+__|unsafe", msg):
            raise VBError(f"{where} 试图访问不允许的内部属性（{msg}），已阻止。模板只能使用提供的公示字段。") from None
        raise VBError(f"{where} 用到了不存在的字段：{msg}。请检查模板中的变量名。") from None
    except jinja2.TemplateError as exc:
        raise VBError(f"{where} 无法生成：{exc}") from None
    except (RecursionError, SyntaxError):
        # SyntaxError: Python refuses the compiled template (e.g. too deeply nested blocks)
        raise VBError(f"{where} 嵌套或递归过深，已停止生成。") from None
    except MemoryError:
        raise VBError(f"{where} 生成时内存不足，已停止。") from None
    except UnicodeDecodeError:
        raise VBError(f"{where} 不是 UTF-8 编码的文本文件，请用 UTF-8 保存。") from None
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError) as exc:
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
    "households": "",  # 户: distinct households
    "rows": "",  # 户次: rows (one household in two programs counts twice)
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
    village, program (mapping or object with name, basis, basis_no (its 文号), rate_text, unit; None for a
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
        prog = {"name": "", "basis": "", "basis_no": "", "rate_text": "", "unit": ""}
        prog.update(program)
        ctx["program"] = prog
    return render_paragraphs("notice_intro.j2", ctx, data_dir=data_dir)
