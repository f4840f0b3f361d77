"""render_all: gate first, all formats or nothing, safe names."""

from __future__ import annotations

import os

import pytest

from tests.conftest_render import result_notice
from villageboard.domain.errors import PrivacyError, StorageError, VBError
from villageboard.render import output
from villageboard.render.output import render_all, safe_stem


def test_writes_every_format(tmp_path):
    doc = result_notice(60, rare=False)
    paths = render_all(doc, tmp_path / "out", "东关村-结果公示")
    names = sorted(p.name for p in paths)
    assert "东关村-结果公示.pdf" in names and "东关村-结果公示.html" in names
    pngs = [n for n in names if n.endswith(".png")]
    assert pngs and pngs[0] == "东关村-结果公示-1.png"
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".vb-")]
    assert paths[0].read_bytes().startswith(b"%PDF")


def test_formats_subset_and_large(tmp_path):
    paths = render_all(result_notice(10, rare=False), tmp_path, "n", formats=("html",), large=True)
    assert [p.name for p in paths] == ["n.html"]
    assert "18px" in paths[0].read_text(encoding="utf-8")


def test_unknown_format(tmp_path):
    with pytest.raises(VBError, match="不支持的输出格式"):
        render_all(result_notice(3, rare=False), tmp_path, "n", formats=("docx",))


def test_gate_failure_writes_nothing(tmp_path):
    doc = result_notice(10, rare=False, remark={3: "卡号6222021234567890128"})
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep")
    with pytest.raises(PrivacyError, match="第3行"):
        render_all(doc, out, "n")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]


def test_write_failure_leaves_no_partial_files(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = os.replace

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", flaky)
    with pytest.raises(StorageError, match="没有留下不完整的文件"):
        render_all(result_notice(10, rare=False), tmp_path, "n")
    assert list(tmp_path.iterdir()) == []


def test_safe_stem():
    assert safe_stem('东关村/2026:公示?"') == "东关村_2026_公示_"
    assert safe_stem("..") == "notice"
