"""Templates from the data dir (or a backup) cannot exhaust memory or time: every
way of making a big value is refused before the value is made, with a Chinese
message naming the template."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from villageboard.domain.errors import VBError
from villageboard.render.sandbox import CPU_SECONDS, MAX_OUTPUT
from villageboard.render.templates import render_template

ROOT = Path(__file__).resolve().parents[1]

MALICIOUS = {
    "center": "{{ 'x'|center(200000000) }}",
    "center_method": "{{ 'x'.center(200000000) }}",
    "ljust_method": "{{ 'x'.ljust(10**9) }}",
    "to_bytes": "{{ (1).to_bytes(2000000000, 'big')|length }}",
    "chained_replace": "{{ ('x'*1000)|replace('x','x'*1000)|replace('x','x'*1000)|replace('x','xx') }}",
    "replace_by_itself": "{% set s = 'xxxxxxxxxx'*100 %}{{ s|replace('x', s)|replace('x', s) }}",
    "repeat": "{{ '-' * 999999999 }}",
    "power": "{{ 9 ** 99999999 }}",
    "percent_width": "{{ '%999999999d' % 1 }}",
    "format_filter": "{{ '%999999999d'|format(1) }}",
    "format_method": "{{ '{:>999999999}'.format(1) }}",
    "range_loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "range_loops_printing": "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
    "nested_for": (
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}x"
        "{% endfor %}{% endfor %}{% endfor %}"
    ),
    "doubling_tilde": (
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}"
    ),
    "doubling_plus": (
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"
    ),
    "growing_list": (
        "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
        "{% set ns.l = ns.l + ['y'|center(100000)] %}{% endfor %}"
    ),
    "doubling_set_block": (
        "{% set ns = namespace(s='x'*1000) %}{% for i in range(40) %}{% set t %}{{ ns.s }}"
        "{{ ns.s }}{% endset %}{% set ns.s = t %}{% endfor %}"
    ),
    "filter_block": (
        "{% filter upper %}{% for i in range(100000) %}{% for j in range(100) %}"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}{% endfilter %}"
    ),
    "join_filter": "{% set l = ['y'|center(900000)] * 100000 %}{{ l|join }}",
    "join_method": "{% set l = ['y'|center(900000)] * 100000 %}{{ ''.join(l) }}",
    "nested_list_printed": "{% set l = [['y'|center(900000)] * 1000] * 1000 %}{{ l }}",
    "macro_bomb": "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "recursive_loop": "{% for x in [1] recursive %}{{ loop([1,1]) }}{% endfor %}",
    "indent": "{{ ('x\n'*400000)|indent(100000) }}",
    "wordwrap": "{{ ('x '*400000)|wordwrap(1, wrapstring='y'*1000) }}",
    "sum_lists": "{% set l = [['y']*100000] * 100000 %}{{ l|sum(start=[])|length }}",
    "batch_fill": "{{ [1]|batch(999999999, 'x')|list }}",
    "map_center": "{{ range(100000)|map('center', 100000)|join }}",
    "self_include": "{% include 'notice_intro.j2' %}{% include 'notice_intro.j2' %}",
    "deep_parentheses": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "deep_blocks": "{% for a in [1] %}" * 30 + "{% endfor %}" * 30,
    "slices_kept": (
        "{% set s = 'x'|center(999000) %}{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
        "{% set ns.l = ns.l + [s[1:]] %}{% endfor %}"
    ),
    "split_copies_kept": (
        "{% set s = 'x'|center(999000) %}{% set ns = namespace(l=[]) %}"
        "{% for i in range(100000) %}{% set ns.l = ns.l + s.split(',') %}{% endfor %}"
    ),
    "lower_copies_kept": (
        "{% set s = 'x'|center(999000) %}{% set ns = namespace(l=[]) %}"
        "{% for i in range(100000) %}{% set ns.l = ns.l + [s|lower] %}{% endfor %}"
    ),
}
# In an HTML template every printed value is escaped into a new string.
MALICIOUS_HTML = {
    "html_escape_copies": "{% set s = '&'*1000 %}{% for i in range(1000) %}{% for j in range(1000) %}{{ s }}"
    "{% endfor %}{% endfor %}",
    "html_big_escape_copies": "{% set s = ('&'*1000)|center(1000000) %}{% for i in range(100000) %}{{ s }}{% endfor %}",
    "html_center": "<p>{{ doc_title|center(200000000) }}</p>",
}

# Runs in a child with its address space capped, so a template that got through would
# fail there (MemoryError) instead of taking the test machine down.
WORKER = r"""
import json, resource, sys, time
from pathlib import Path

def vm_bytes():
    for line in open('/proc/self/status'):
        if line.startswith('VmSize:'):
            return int(line.split()[1]) * 1024

from villageboard.domain.errors import VBError
from villageboard.render.templates import intro_paragraphs, render_template

data_dir = Path(sys.argv[1])
cases = json.loads(sys.stdin.read())
intro_paragraphs({"village": "东关村", "kind": "application"})  # warm up: imports, shipped template
resource.setrlimit(resource.RLIMIT_AS, (vm_bytes() + 768 * 2**20, resource.RLIM_INFINITY))
start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
for name, (source, html) in cases.items():
    target = "notice.html.j2" if html else "notice_intro.j2"
    (data_dir / "templates" / target).write_text(source, encoding="utf-8")
    t0 = time.thread_time()
    try:
        if html:
            render_template(target, {"doc_title": "公示"}, data_dir=data_dir, html=True)
        else:
            intro_paragraphs({"village": "东关村", "kind": "application"}, data_dir=data_dir)
        result = ("ok", "")
    except VBError as exc:
        result = ("refused", str(exc))
    except BaseException as exc:
        result = ("crashed", f"{type(exc).__name__}: {exc}"[:300])
    out[name] = {"result": result[0], "message": result[1], "cpu": time.thread_time() - t0,
                 "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024}
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def malicious_results(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    (data_dir / "templates").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(data_dir)],
        capture_output=True,
        input=json.dumps(
            {**{k: (v, False) for k, v in MALICIOUS.items()}, **{k: (v, True) for k, v in MALICIOUS_HTML.items()}}
        ),
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", sorted(MALICIOUS) + sorted(MALICIOUS_HTML))
def test_malicious_template_is_refused_quickly_in_bounded_memory(malicious_results, name):
    r = malicious_results[name]
    assert r["result"] == "refused", r
    assert ("notice.html.j2" if name in MALICIOUS_HTML else "notice_intro.j2") in r["message"]
    assert "安全限制" in r["message"] or "递归过深" in r["message"], r["message"]
    assert "内存不足" not in r["message"]
    assert r["cpu"] <= CPU_SECONDS + 1.0, r
    # ru_maxrss only grows: the whole run of every case stayed within this
    assert r["rss_growth_mb"] < 200, r


def write(data_dir: Path, name: str, text: str) -> None:
    d = data_dir / "templates"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


def test_syntax_error_in_an_included_template_names_both(tmp_path):
    write(tmp_path, "notice_intro.j2", "开头\n{% include 'part.j2' %}\n")
    write(tmp_path, "part.j2", "一行\n{% for x in %}\n")
    with pytest.raises(VBError) as info:
        render_template("notice_intro.j2", {}, data_dir=tmp_path)
    msg = str(info.value)
    assert "notice_intro.j2" in msg and "part.j2" in msg and "第2行" in msg and "语法错误" in msg


def test_oversized_template_file_is_not_read(tmp_path):
    write(tmp_path, "big.j2", "x" * (300 * 1024))
    with pytest.raises(VBError, match=r"big\.j2.*KB"):
        render_template("big.j2", {}, data_dir=tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_not_a_template(tmp_path):
    (tmp_path / "templates").mkdir()
    os.mkfifo(tmp_path / "templates" / "notice_intro.j2")
    with pytest.raises(VBError, match="不是普通文件"):
        render_template("notice_intro.j2", {}, data_dir=tmp_path)


def test_ordinary_templates_are_unchanged(tmp_path):
    """The limits change nothing for the things a county really writes."""
    source = (
        "{{ village|center(12) }}|{{ '%05.1f'|format(3.14159) }}|{{ '{:>6}'.format(year) }}|"
        "{{ items|join('、') }}|{{ items|map('upper')|list }}|{{ (items * 2)|length }}|{{ 'a' ~ year ~ 'b' }}|"
        "{% for x in items %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}|"
        "{% set t %}{{ village }}{{ village }}{% endset %}{{ t|replace('村', '庄') }}|{{ 2 ** 10 }}|"
        "{{ [1, 2, 3]|sum }}|{{ items|batch(2)|list }}|{{ 'x'.ljust(3, '.') }}|{{ ('a\nb')|indent(2, true) }}|"
        "{{ '{:,}'.format(123456789) }}|{{ '%d' % 123456789 }}|{{ (123456789 / 100)|round(2) }}"
    )
    write(tmp_path, "ok.j2", source)
    ctx = {"village": "东关村", "year": 2026, "items": ["a", "b", "c"]}
    plain = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    assert render_template("ok.j2", ctx, data_dir=tmp_path) == plain.from_string(source).render(**ctx)


# --------------------------------------------------------------------------- random chains


@contextmanager
def address_space_cap(extra: int):
    """Cap this process's address space for the duration (a missed case fails with a
    MemoryError instead of swapping the machine to death)."""
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


NUMBERS = st.one_of(
    st.integers(0, 50), st.integers(0, 10**6), st.sampled_from([10**7, 10**8, 2 * 10**8, 10**9, 10**12])
)
STEPS = st.one_of(
    st.builds(lambda n: f"|center({n})", NUMBERS),
    st.builds(lambda n: f".ljust({n})", NUMBERS),
    st.builds(lambda n: f".rjust({n})", NUMBERS),
    st.builds(lambda n: f".zfill({n})", NUMBERS),
    st.builds(lambda n: f"|indent({n}, true)", NUMBERS),
    st.builds(lambda n: f" * {n}", NUMBERS),
    st.builds(lambda n: f"|replace('x', 'x' * {n})", NUMBERS),
    st.builds(lambda n: f"|replace('', '{'y' * (n % 50)}')", NUMBERS),
    st.builds(lambda n: f"|wordwrap({max(n, 1)}, wrapstring='{'z' * (n % 20)}')", NUMBERS),
    st.builds(lambda n: f"|batch({max(n, 1)}, 'x')|map('join')|join", NUMBERS),
    st.builds(lambda n: f"|format() ~ ('%{n}s' % 'x')", NUMBERS),
    st.builds(lambda n: f"|list|join('{'-' * (n % 30)}')", NUMBERS),
    st.just("|string|e"),
    st.just("|upper"),
)


def check_chain(folder: Path, seed: str, steps: list[str]) -> None:
    expr = "(" + repr(seed) + ")"
    for step in steps:
        expr = f"({expr}{step})"
    write(folder, "chain.j2", "{{ " + expr + " }}")
    with address_space_cap(1024 * 2**20):
        try:
            out = render_template("chain.j2", {}, data_dir=folder)
        except VBError as exc:
            assert "chain.j2" in str(exc)
            assert "内存不足" not in str(exc), expr
            return
    assert len(out) <= MAX_OUTPUT


CHAIN = {"seed": st.text("xy\n ", min_size=0, max_size=20), "steps": st.lists(STEPS, min_size=1, max_size=6)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**CHAIN)
def test_random_filter_chains_stay_bounded(tmp_path, seed, steps):
    check_chain(tmp_path, seed, steps)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**CHAIN)
def test_random_filter_chains_stay_bounded_many(tmp_path, seed, steps):
    check_chain(tmp_path, seed, steps)


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("第一行\n{% if %}\n", 2, "缺少内容"),
        ("{% for x in items %}\n{{ x }}\n", 2, "{% endfor %}"),
        ("{% for x in items %}{% endif %}", 1, "{% endif %}"),
        ("{{ village ; }}", 1, "这里应为"),
        ("{{ (village }}", 1, "括号不配对"),
        ('\n\n{{ "没有结束的引号 }}', 3, "不认识的字符"),
        ("{% frobnicate %}", 1, "{% frobnicate %}"),
        ("{{ village + }}", 1, "多余或位置不对"),
    ],
)
def test_syntax_errors_are_explained_in_chinese(tmp_path, source, line, words):
    write(tmp_path, "notice_intro.j2", source)
    with pytest.raises(VBError) as info:
        render_template("notice_intro.j2", {"village": "东关村", "items": []}, data_dir=tmp_path)
    msg = str(info.value)
    assert f"模板 notice_intro.j2 第{line}行有语法错误：" in msg
    reason = msg.split("有语法错误：", 1)[1]
    assert words in reason
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+", reason), reason  # no English left
