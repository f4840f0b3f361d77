"""check_templates: a template folder (a data dir's, or one from a backup) is looked
at and test-rendered in the sandbox before it is trusted."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from villageboard.render import check_templates
from villageboard.render.template_check import SHIPPED

from .test_template_limits import MALICIOUS


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def put(folder: Path, name: str, text: str | bytes) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def test_shipped_templates_pass():
    assert check_templates(SHIPPED) == []


def test_missing_folder_has_no_problems(tmp_path):
    assert check_templates(tmp_path / "none") == []


def test_a_county_edit_passes(tmp_path):
    put(
        tmp_path,
        "notice_intro.j2",
        (SHIPPED / "notice_intro.j2").read_text("utf-8").replace("如对公示内容有异议", "群众如对公示内容有异议"),
    )
    put(tmp_path, "parts/sign.j2", "{{ village }}村委会")
    put(tmp_path, "answer_script.j2", "您好，{{ name }}户。{% include 'parts/sign.j2' %}")
    before = digest(tmp_path)
    assert check_templates(tmp_path) == []
    assert digest(tmp_path) == before  # looking changes nothing


@pytest.mark.parametrize(
    "name", ["center", "chained_replace", "nested_for", "doubling_tilde", "macro_bomb", "format_method", "join_filter"]
)
@pytest.mark.parametrize("target", ["notice_intro.j2", "notice.html.j2", "answer_script.j2"])
def test_malicious_template_is_reported(tmp_path, name, target):
    put(tmp_path, target, MALICIOUS[name].replace("notice_intro.j2", target))
    t0 = time.monotonic()
    problems = check_templates(tmp_path)
    assert time.monotonic() - t0 < 30
    assert [p.name for p in problems] == [target]
    assert target in problems[0].message
    assert "安全限制" in problems[0].message or "递归过深" in problems[0].message


def test_syntax_error_is_a_chinese_message_naming_file_and_line(tmp_path):
    put(tmp_path, "notice.html.j2", "<html>\n<body>\n{% if %}\n</body>")
    problems = check_templates(tmp_path)
    assert len(problems) == 1
    msg = str(problems[0])
    assert "notice.html.j2" in msg and "语法错误" in msg and "第3行" in msg


def test_a_misspelt_field_is_found_by_the_test_render(tmp_path):
    put(tmp_path, "notice_intro.j2", "{{ vilage }}")
    (p,) = check_templates(tmp_path)
    assert p.name == "notice_intro.j2" and "不存在的字段" in p.message


def test_sandbox_escape_is_found(tmp_path):
    put(tmp_path, "notice_intro.j2", "{{ cycler.__init__.__globals__.os.popen('id').read() }}")
    (p,) = check_templates(tmp_path)
    assert "不允许" in p.message


def test_an_included_file_is_checked_too(tmp_path):
    put(tmp_path, "notice_intro.j2", "{% include 'part.j2' %}")
    put(tmp_path, "part.j2", "{{ 'x' * 10**9 }}")
    (p,) = check_templates(tmp_path)
    assert p.name == "notice_intro.j2" and "安全限制" in p.message


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("notice_intro.j2", b"\xff\xfe\x00bad", "UTF-8"),
        ("notice_intro.j2", b"x" * (300 * 1024), "KB"),
        ("readme.txt", b"hello", ".j2"),
        ("part.j2", b"{% if %}", "语法错误"),
        ("part.j2", b"{{ " + b"[" * 400 + b"]" * 400 + b" }}", "嵌套过深"),
        ("notice_intro.j2", b"{% for a in [1] %}" * 30 + b"{% endfor %}" * 30, "嵌套过深"),
    ],
)
def test_bad_files_are_refused_before_rendering(tmp_path, name, content, words):
    put(tmp_path, name, content)
    problems = check_templates(tmp_path)
    assert [p.name for p in problems] == [name]
    assert words in problems[0].message


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_links_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("机密", encoding="utf-8")
    folder = tmp_path / "templates"
    folder.mkdir()
    os.symlink(secret, folder / "notice_intro.j2")
    os.symlink(tmp_path, folder / "loop")
    problems = check_templates(folder)
    assert sorted(p.name for p in problems) == ["loop", "notice_intro.j2"]
    assert all("链接" in p.message for p in problems)


def test_a_folder_of_too_many_files_is_refused(tmp_path):
    for i in range(205):
        put(tmp_path, f"p{i:03d}.j2", "好")
    problems = check_templates(tmp_path)
    assert len(problems) == 1 and "超过200个" in problems[0].message
