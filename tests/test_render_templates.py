"""User-editable templates: sandboxed, strict, county copy wins, and the intro wording
reads well for every kind of notice."""

from __future__ import annotations

import pytest

from villageboard.domain.errors import VBError
from villageboard.render.templates import intro_paragraphs, render_paragraphs, render_template

BASE = {
    "township": "城关镇",
    "village": "东关村",
    "year": 2026,
    "start": "2026-11-03",
    "end": "2026-11-10",
    "days": 7,
    "hotline": "0357-1234567",
    "supervision_hotline": "0357-7654321",
    "supervision_address": "城关镇人民政府纪检办公室",
    "households": 123,
    "rows": 150,
    "amount_text": "45,678.90元",
}
PROGRAM = {
    "name": "耕地地力保护补贴",
    "basis": "关于做好2026年耕地地力保护补贴工作的通知",
    "rate_text": "每亩 125.00 元",
    "unit": "亩",
}


def write(data_dir, name, text):
    d = data_dir / "templates"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ self._TemplateReference__context }}",
        "{{ ''.__class__ }}",
        "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
        "{{ program.__dict__ }}",
        "{{ '-' * 100000000 }}",
        "{{ 2 ** 100000 }}",
        "{% set x = [] %}{{ x.append(1) }}",
    ],
)
def test_sandbox_escapes_raise_vberror(tmp_path, payload):
    write(tmp_path, "notice_intro.j2", payload)
    with pytest.raises(VBError) as info:
        intro_paragraphs({**BASE, "kind_label": "发放结果公示", "program": PROGRAM}, data_dir=tmp_path)
    assert "notice_intro.j2" in str(info.value)


def test_syntax_error_names_template_and_line(tmp_path):
    write(tmp_path, "notice_intro.j2", "第一行\n{% if %}\n")
    with pytest.raises(VBError, match=r"notice_intro\.j2.*第2行.*语法错误"):
        intro_paragraphs({**BASE, "kind_label": "申报公示"}, data_dir=tmp_path)


def test_misspelt_field_is_a_clear_error(tmp_path):
    write(tmp_path, "x.j2", "{{ villag }}")
    with pytest.raises(VBError, match="不存在的字段"):
        render_template("x.j2", {"village": "东关村"}, data_dir=tmp_path)


def test_missing_template_is_a_clear_error(tmp_path):
    with pytest.raises(VBError, match="找不到模板 nope.j2"):
        render_template("nope.j2", {}, data_dir=tmp_path)


def test_county_copy_wins(tmp_path):
    write(tmp_path, "notice_intro.j2", "{{ village }}自定义措辞。\n\n第二段。")
    assert intro_paragraphs({**BASE, "kind_label": "申报公示"}, data_dir=tmp_path) == ["东关村自定义措辞。", "第二段。"]
    # without a county copy the shipped wording is used
    shipped = intro_paragraphs({**BASE, "kind_label": "申报公示", "program": PROGRAM})
    assert "自定义" not in "".join(shipped)


def test_html_autoescape_only_when_asked(tmp_path):
    write(tmp_path, "h.j2", "<b>{{ name }}</b>")
    assert render_template("h.j2", {"name": "<script>"}, data_dir=tmp_path, html=True) == "<b>&lt;script&gt;</b>"
    assert render_template("h.j2", {"name": "<script>"}, data_dir=tmp_path) == "<b><script></b>"


def test_values_are_never_evaluated(tmp_path):
    write(tmp_path, "t.j2", "{{ name }}")
    assert render_template("t.j2", {"name": "{{ 7*7 }}"}, data_dir=tmp_path) == "{{ 7*7 }}"


def test_paragraph_joining(tmp_path):
    write(tmp_path, "p.j2", "第一句，\n  接着说。\n\n\n另起一段 ABC\nDEF。\n")
    assert render_paragraphs("p.j2", {}, data_dir=tmp_path) == ["第一句，接着说。", "另起一段 ABC DEF。"]


@pytest.mark.parametrize(
    ("label", "program", "must"),
    [
        (
            "申报公示",
            PROGRAM,
            [
                "根据《关于做好2026年耕地地力保护补贴工作的通知》文件精神",
                "申报情况予以公示",
                "本村共123户申报",
                "补贴标准：每亩 125.00 元",
            ],
        ),
        ("发放结果公示", PROGRAM, ["发放到户", "发放结果予以公示", "发放金额合计45,678.90元"]),
        (
            "年度汇总公示",
            None,
            ["以村为单位汇总公示", "耕地地力保护补贴、玉米生产者补贴共2个项目", "合计123户、150户次"],
        ),
        ("更正公示", PROGRAM, ["编号141025-2026-0012", "现予以更正", "共2处"]),
    ],
)
def test_intro_reads_well_for_each_kind(label, program, must):
    ctx = {
        **BASE,
        "kind_label": label,
        "program": program,
        "programs": ["耕地地力保护补贴", "玉米生产者补贴"],
        "original_code": "141025-2026-0012",
        "original_title": "东关村2026年度耕地地力保护补贴发放结果公示",
        "changes_count": 2,
    }
    paras = intro_paragraphs(ctx)
    assert 1 <= len(paras) <= 3
    text = "".join(paras)
    for phrase in must:
        assert phrase in text, (phrase, paras)
    # the closing paragraph: period, objection channel, phones
    assert "公示期为2026年11月3日至2026年11月10日" in text
    assert "如对公示内容有异议，请在公示期内向城关镇人民政府或东关村村民委员会反映" in text
    assert "监督举报电话：0357-7654321" in text
    for p in paras:
        assert p.endswith("。"), p
        assert "None" not in p and "{{" not in p and "  " not in p


def test_intro_tolerates_missing_optional_fields():
    paras = intro_paragraphs({"village": "东关村", "kind": "application"})
    text = "".join(paras)
    assert "东关村" in text and "None" not in text
