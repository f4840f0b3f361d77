"""The sandbox that user-editable templates render in, with size and time limits.

Jinja2's ``ImmutableSandboxedEnvironment`` stops a template from reaching Python
internals, but not from asking for memory: ``{{ 'x'|center(200000000) }}``, a chain of
``replace``, ``'-' * 10**9`` or a loop that doubles a string each turn can each take
gigabytes before anything is printed. A template in the data dir (or one restored from
a backup) is outside the program's control, so every way a template can make a large
value is bounded *before* the value is made:

* every single value a template makes (a string, a list) stays within
  :data:`MAX_VALUE` characters or items: the width and count arguments of ``center``,
  ``ljust``, ``indent``, ``batch`` …, the size of ``*``, ``+``, ``~`` and ``%``, the
  result of ``replace`` and ``join`` are all worked out from their inputs first, and
  what a call, filter or slice returns is measured with the strings it holds;
* everything one render makes, added up, stays within :data:`MAX_WORK` (a loop that
  keeps building new strings runs out of this budget long before it runs out of
  memory);
* one template's output (and any ``{% set %}`` block) stays within :data:`MAX_OUTPUT`;
* one render may use at most :data:`CPU_SECONDS` of processor time: every loop turn,
  call, filter and operator checks the clock, so nested loops that print nothing stop
  as well;
* a template file larger than :data:`MAX_TEMPLATE_BYTES`, or one that is not a plain
  file (a pipe, a device), is not read at all.

A broken limit raises :class:`TemplateLimitError` (Chinese reason), which
:mod:`villageboard.render.templates` turns into a message naming the template.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.filters import make_attrgetter
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

#: Characters (or items) of any one value a template makes.
MAX_VALUE = 1_000_000
#: Characters of one template's output, or of one ``{% set %}`` / ``{% filter %}`` block.
MAX_OUTPUT = 10_000_000
#: Characters and items of everything one render makes, added up (its output aside).
MAX_WORK = 24_000_000
#: Processor seconds one render may use.
CPU_SECONDS = 2.0
#: Bits of the largest whole number a template may make.
MAX_INT_BITS = 10_000
#: Width of a ``tojson`` indent; rows of ``batch`` / columns of ``slice``.
MAX_INDENT = 16
MAX_COUNT = 10_000
#: The filter every ``{% for %}`` loop's items pass through (see ``_parse``).
LOOP_GUARD = "vb_loop_guard"
#: Size of one template file.
MAX_TEMPLATE_BYTES = 256 * 1024


class TemplateLimitError(Exception):
    """A template asked for more than the limits allow. ``reason`` is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- sizes


def text_size(value: Any, limit: int = MAX_VALUE) -> int:
    """About how many characters ``str(value)`` would have, counted without building
    it. Stops counting as soon as the count passes ``limit``."""
    total = 0
    seen: dict[int, int] = {}
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str | bytes):
            total += len(v) + 2
        elif isinstance(v, bool) or v is None:
            total += 5
        elif isinstance(v, int):
            total += v.bit_length() // 3 + 2
        elif isinstance(v, float):
            total += 24
        elif isinstance(v, list | tuple | set | frozenset):
            total += 2 + 2 * len(v)
            if total <= limit:
                stack.extend(v)
        elif isinstance(v, dict):
            total += 2 + 4 * len(v)
            if total <= limit:
                stack.extend(v.keys())
                stack.extend(v.values())
        else:
            key = id(v)
            if key not in seen:
                seen[key] = len(str(v))
            total += seen[key]
        if total > limit:
            return total
    return total


def _shallow(value: Any) -> int:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return 0


def made_size(value: Any, limit: int = MAX_VALUE + 1) -> int:
    """Characters and items a new value holds: strings inside lists count by their
    length (``s.split(',')`` copies ``s``), other objects as one item. Stops counting
    past ``limit``."""
    if isinstance(value, str | bytes):
        return len(value)
    if not isinstance(value, list | tuple | dict | set | frozenset):
        return 0
    total = 0
    stack = [value]
    while stack and total <= limit:
        v = stack.pop()
        if isinstance(v, str | bytes):
            total += len(v)
        elif isinstance(v, list | tuple | set | frozenset):
            total += len(v)
            stack.extend(v)
        elif isinstance(v, dict):
            total += len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
    return total


def _int_arg(value: Any, what: str, top: int) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > top:
        raise TemplateLimitError(f"{what}为{value:g}，超过上限{top}")


# Conversions in a %-format and in a {}-format, to find their widths before formatting.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([a-zA-Z%])")
_DIGITS = re.compile(r"\d+")


def _check_percent(fmt: str, args: Any) -> int:
    """The most characters ``fmt % args`` can make; refuses ``*`` widths."""
    widths = 0
    fields = 0
    for m in _PERCENT.finditer(fmt):
        if "*" in (m.group(1) or "", m.group(2) or ""):
            raise TemplateLimitError("格式化里不能用“*”指定宽度")
        for g in (m.group(1), m.group(2)):
            if g:
                widths += int(g) if len(g) < 12 else MAX_VALUE + 1
        if m.group(3) != "%":
            fields += 1
    values = args.values() if isinstance(args, Mapping) else (args if isinstance(args, tuple) else (args,))
    biggest = max((text_size(v, MAX_VALUE + 1) for v in values), default=0)
    return len(fmt) + widths + fields * biggest


def _check_braces(fmt: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """The most characters ``fmt.format(*args, **kwargs)`` can make."""
    widths = 0
    fields = 0
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return len(fmt)  # str.format will raise the same error itself
    for _literal, field, spec, _conv in parsed:
        if field is None:
            continue
        fields += 1
        if spec and "{" in spec:
            raise TemplateLimitError("格式化的宽度不能再用{}嵌套指定")
        for d in _DIGITS.findall(spec or ""):
            widths += int(d) if len(d) < 12 else MAX_VALUE + 1
    values = [*args, *kwargs.values()]
    biggest = max((text_size(v, MAX_VALUE + 1) for v in values), default=0)
    return len(fmt) + widths + fields * biggest


def _estimate_replace(s: Any, old: Any, new: Any) -> int:
    s, old, new = str(s), str(old), str(new)
    hits = s.count(old) if old else len(s) + 1
    return len(s) + hits * max(len(new) - len(old), 0)


# --------------------------------------------------------------------------- filters

# Filters that turn their value into one string first.
_STRINGIFY = frozenset(
    {
        "replace",
        "upper",
        "lower",
        "capitalize",
        "title",
        "center",
        "indent",
        "truncate",
        "wordwrap",
        "wordcount",
        "format",
        "trim",
        "striptags",
        "urlize",
        "string",
        "e",
        "escape",
        "forceescape",
        "safe",
        "reverse",
        "pprint",
        "tojson",
        "urlencode",
        "xmlattr",
        "int",
        "float",
        "cn_date",
    }
)


def _pre_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], env: LimitedEnvironment) -> tuple[Any, ...]:
    """Refuse a filter call whose result would be too big; returns the (possibly
    materialised) arguments to call it with."""
    if not args:
        return args
    value, rest = args[0], args[1:]

    def arg(i: int, name_: str, default: Any = None) -> Any:
        return rest[i] if len(rest) > i else kwargs.get(name_, default)

    if name in _STRINGIFY:
        env.count(text_size(value, MAX_VALUE + 1), f"过滤器 {name} 的内容")
    if name == "center":
        _int_arg(arg(0, "width", 80), "center 的宽度", MAX_VALUE)
    elif name == "indent":
        width = arg(0, "width", 4)
        per_line = len(width) if isinstance(width, str) else width
        _int_arg(per_line, "indent 的缩进", MAX_VALUE)
        lines = str(value).count("\n") + 1
        env.count(text_size(value) + lines * max(int(per_line), 0), "indent 的结果")
    elif name == "wordwrap":
        wrap = str(arg(2, "wrapstring", "") or "\n")
        width = arg(0, "width", 79)
        _int_arg(width, "wordwrap 的宽度", MAX_VALUE)
        env.count(len(str(value)) * (1 + len(wrap)), "wordwrap 的结果")
    elif name == "replace":
        env.count(_estimate_replace(value, arg(0, "old", ""), arg(1, "new", "")), "replace 的结果")
    elif name == "format":
        env.count(_check_percent(str(value), kwargs or tuple(rest)), "format 的结果")
    elif name == "truncate":
        env.count(len(str(arg(2, "end", "..."))), "truncate 的结尾")
    elif name in ("batch", "slice"):
        _int_arg(arg(0, "linecount" if name == "batch" else "slices", 0), f"{name} 的份数", MAX_COUNT)
    elif name == "tojson":
        _int_arg(arg(0, "indent", 0) or 0, "tojson 的缩进", MAX_INDENT)
    elif name in (
        "join",
        "sum",
        "list",
        "unique",
        "sort",
        "dictsort",
        "groupby",
        "reverse",
        "map",
        "select",
        "reject",
        "selectattr",
        "rejectattr",
    ):
        if not isinstance(value, str | Mapping):
            value = _take(value, name)
        if name == "join":
            sep = str(arg(0, "d", ""))
            attribute = arg(1, "attribute")
            items = value if attribute is None else list(map(make_attrgetter(env, attribute), value))
            total = sum(text_size(v, MAX_VALUE + 1) for v in items) + len(sep) * max(len(items) - 1, 0)
            env.count(total, "join 的结果")
        elif name == "sum":
            attribute = arg(0, "attribute")
            start = arg(1, "start", 0)
            items = value if attribute is None else list(map(make_attrgetter(env, attribute), value))
            env.count(_shallow(start) + sum(_shallow(v) for v in items), "sum 的结果")
    return (value, *rest)


def _take(value: Any, what: str) -> list[Any]:
    """Materialise an iterable for a filter, at most MAX_VALUE items."""
    out: list[Any] = []
    for item in value:
        out.append(item)
        if len(out) > MAX_VALUE:
            raise TemplateLimitError(f"过滤器 {what} 处理的项数超过上限{MAX_VALUE}")
    return out


def guard_filter(env: LimitedEnvironment, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` wrapped with the limits; keeps Jinja's pass_context & co. markers."""
    passes = _PassArg.from_obj(func) is not None

    @functools.wraps(func)
    def limited(*args: Any, **kwargs: Any) -> Any:
        env.tick()
        if passes:
            head, args = args[:1], args[1:]
        else:
            head = ()
        args = _pre_filter(name, args, kwargs, env)
        result = func(*head, *args, **kwargs)
        env.made(result, f"过滤器 {name} 的结果")
        return result

    return limited


# Methods of str/bytes whose result size is set by an argument.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_REFUSED_METHODS = frozenset({"translate", "maketrans", "expandtabs"})
_BUILTIN_OWNERS = (int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset, range)


# --------------------------------------------------------------------------- the environment


class _Buffer(list[str]):
    """What a ``{% set %}``, ``{% filter %}``, macro or call block collects its output
    in: refuses to hold more than :data:`MAX_OUTPUT` characters."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def append(self, part: Any) -> None:
        self.size += len(part) + 1
        if self.size > MAX_OUTPUT:
            raise TemplateLimitError(f"一段输出超过{MAX_OUTPUT:,}个字符")
        super().append(part)

    def extend(self, parts: Iterable[Any]) -> None:
        for part in parts:
            self.append(part)


class _Codegen(CodeGenerator):
    """Routes ``a ~ b`` through the environment, so its size is checked first, and
    gives every block buffer a size limit."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    @optimizeconst
    def visit_Concat(self, node: jinja2.nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.checked_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class _Render:
    __slots__ = ("deadline", "work", "ticks")

    def __init__(self, seconds: float) -> None:
        self.deadline = time.thread_time() + seconds
        self.work = 0
        self.ticks = 0


class LimitedLoader(jinja2.FileSystemLoader):
    """A file loader that refuses oversized files, pipes and devices before reading."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for folder in self.searchpath:
            path = os.path.join(folder, *pieces)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                raise TemplateLimitError(f"{path} 不是普通文件，不能作为模板")
            if st.st_size > MAX_TEMPLATE_BYTES:
                raise TemplateLimitError(f"{path} 有{st.st_size // 1024}KB，模板文件最大{MAX_TEMPLATE_BYTES // 1024}KB")
            break
        return super().get_source(environment, template)


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """``ImmutableSandboxedEnvironment`` with the limits of this module.

    Render through :meth:`render` (not ``Template.render``) so that the time limit
    and the per-render budget apply."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _Codegen

    def __init__(self, **options: Any) -> None:
        options.setdefault("finalize", self._finalize)
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # makes text of any length; no template needs it
        self.filters = {name: guard_filter(self, name, f) for name, f in self.filters.items()}
        self.filters[LOOP_GUARD] = self.loop_guard
        self.concat = self._concat  # type: ignore[method-assign]  # every buffer a template joins, and its whole output
        self._state = threading.local()

    @staticmethod
    def new_buffer() -> _Buffer:
        return _Buffer()

    def add_filter(self, name: str, func: Callable[..., Any]) -> None:
        self.filters[name] = guard_filter(self, name, func)

    # ---------------------------------------------------------------- bookkeeping
    def _current(self) -> _Render | None:
        return getattr(self._state, "render", None)

    def tick(self) -> None:
        """Check the clock (every 16th call: reading it costs more than most steps)."""
        r = self._current()
        if r is None:
            return
        r.ticks += 1
        if not r.ticks & 15 and time.thread_time() > r.deadline:
            raise TemplateLimitError(f"运行超过{CPU_SECONDS:g}秒")

    def count(self, size: int, what: str) -> None:
        """Note that a value of ``size`` is about to be made."""
        if size > MAX_VALUE:
            raise TemplateLimitError(f"{what}会有约{size:,}个字符（或项），超过上限{MAX_VALUE:,}")
        r = self._current()
        if r is not None:
            r.work += size
            if r.work > MAX_WORK:
                raise TemplateLimitError(f"生成的内容累计超过{MAX_WORK:,}个字符")

    def made(self, value: Any, what: str) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise TemplateLimitError(f"{what}是一个过大的数")
        self.count(made_size(value), what)

    # ---------------------------------------------------------------- hooks
    def getitem(self, obj: Any, argument: Any) -> Any:
        result = super().getitem(obj, argument)
        if isinstance(argument, slice):  # a slice is a new copy
            self.tick()
            self.made(result, "切片的结果")
        return result

    def _finalize(self, value: Any) -> Any:
        # No clock here: a value is printed once per loop turn or call, and those tick.
        # A string is printed as it is, or escaped into a new one (HTML): short ones are
        # free, long ones count against the budget, as an escaped copy may be made.
        if isinstance(value, str):
            if len(value) > 1024:
                self.count(len(value), "输出的一项内容")
        else:
            self.count(text_size(value, MAX_VALUE + 1), "输出的一项内容")
        return value

    def checked_parts(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        self.tick()
        self.count(sum(text_size(p, MAX_VALUE + 1) for p in parts), "“~”连接的结果")
        return parts

    def _concat(self, parts: Iterable[str]) -> str:
        # A thousand pieces at a time: their sizes are added up before they are joined,
        # and a million tiny pieces never wait as a million Python objects.
        done: list[str] = []
        total = 0
        it = iter(parts)
        while True:
            batch = list(islice(it, 1024))
            if not batch:
                break
            total += sum(map(len, batch)) + len(batch)
            if total > MAX_OUTPUT:
                raise TemplateLimitError(f"输出超过{MAX_OUTPUT:,}个字符")
            done.append("".join(batch))
        self.tick()
        r = self._current()
        if r is not None and isinstance(parts, _Buffer):  # a block's text, kept as a value
            r.work += total
            if r.work > MAX_WORK:
                raise TemplateLimitError(f"生成的内容累计超过{MAX_WORK:,}个字符")
        return done[0] if len(done) == 1 else "".join(done)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.tick()
        if operator == "*":
            for n, seq in ((left, right), (right, left)):
                if isinstance(n, int) and isinstance(seq, str | bytes | list | tuple):
                    self.count(len(seq) * max(n, 0), "“*”重复的结果")
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise TemplateLimitError("乘法结果过大")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                if max(left.bit_length(), 1) * right > MAX_INT_BITS:
                    raise TemplateLimitError("幂运算结果过大")
            elif isinstance(right, int | float) and abs(right) > MAX_INT_BITS:
                raise TemplateLimitError("幂运算结果过大")
        elif operator == "+":
            if isinstance(left, str | bytes | list | tuple) and isinstance(right, str | bytes | list | tuple):
                self.count(len(left) + len(right), "“+”连接的结果")
        elif operator == "%" and isinstance(left, str | bytes):
            self.count(_check_percent(str(left), right), "“%”格式化的结果")
        result = super().call_binop(context, operator, left, right)
        self.made(result, f"“{operator}”运算的结果")
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.tick()
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, _BUILTIN_OWNERS) and name not in ("format", "format_map"):
            # a method of a built-in value given a huge number (``(1).to_bytes(10**9)``)
            for value in (*args, *kwargs.values()):
                _int_arg(value, f"{name} 的参数", MAX_VALUE)
        if isinstance(owner, str | bytes):
            if name in _REFUSED_METHODS:
                raise TemplateLimitError(f"模板里不能用 {name}")
            if name in _WIDTH_METHODS:
                width = args[0] if args else kwargs.get("width", 0)
                _int_arg(width, f"{name} 的宽度", MAX_VALUE)
                __self.count(max(len(owner), int(width)), f"{name} 的结果")
            elif name == "replace":
                __self.count(_estimate_replace(owner, *(list(args[:2]) + ["", ""])[:2]), "replace 的结果")
            elif name == "join" and args:
                items = _take(args[0], "join")
                args = (items, *args[1:])
                total = sum(text_size(v, MAX_VALUE + 1) for v in items) + len(owner) * max(len(items) - 1, 0)
                __self.count(total, "join 的结果")
            elif name in ("format", "format_map"):
                values = args[0] if name == "format_map" and args else kwargs
                positional = () if name == "format_map" else args
                __self.count(_check_braces(str(owner), positional, values), f"{name} 的结果")
        result = super().call(__context, __obj, *args, **kwargs)
        __self.made(result, f"调用 {name or '函数'} 的结果")
        return result

    # ---------------------------------------------------------------- rendering
    def _parse(self, source: str, name: str | None, filename: str | None) -> jinja2.nodes.Template:
        """Parse as usual, then route every ``{% for %}`` through :meth:`loop_guard`, so
        that a loop checks the clock even when its body prints nothing."""
        tree = super()._parse(source, name, filename)
        for node in tree.find_all(jinja2.nodes.For):
            node.iter = jinja2.nodes.Filter(node.iter, LOOP_GUARD, [], [], None, None, lineno=node.lineno)
        return tree

    def loop_guard(self, iterable: Iterable[Any]) -> Iterator[Any]:
        tick = self.tick
        for n, item in enumerate(iterable):
            if not n & 255:
                tick()
            yield item

    # ---------------------------------------------------------------- rendering
    def render(self, template: jinja2.Template, context: Mapping[str, Any]) -> str:
        """Render ``template`` with every limit of this module in force."""
        outer = self._current()
        self._state.render = _Render(CPU_SECONDS)
        try:
            return template.render(**dict(context))
        finally:
            self._state.render = outer
