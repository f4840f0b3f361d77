"""Font discovery: a configured path wins, errors are clear, .ttc faces are chosen by
their name table, and the fast subsetter keeps glyphs exact."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection, TTFont

from villageboard.domain.errors import VBError
from villageboard.locations import ENV_FONT
from villageboard.render import fonts
from villageboard.render.ttsubset import SfntFace

CJK_SAMPLE = "公示村镇补贴发放户元姓名张伟王芳李娜东关城第页共扫码核验0123456789"


@pytest.fixture(autouse=True)
def _fresh_cache():
    fonts.clear_cache()
    yield
    fonts.clear_cache()


@pytest.fixture
def system_font() -> fonts.LoadedFont:
    try:
        return fonts.primary_font()
    except VBError:
        pytest.skip("本机没有中文字体")


def make_font(src: fonts.LoadedFont, chars: str, path: Path) -> Path:
    """A small real CJK font file cut from an installed one."""
    if not src.face.is_truetype:
        pytest.skip("需要 TrueType 字体来制作测试字体")
    path.write_bytes(src.face.subset({ord(c) for c in chars}))
    return path


def test_configured_path_wins_over_env_and_system(system_font, tmp_path, monkeypatch):
    mine = make_font(system_font, CJK_SAMPLE, tmp_path / "mine.ttf")
    other = make_font(system_font, CJK_SAMPLE + "其", tmp_path / "other.ttf")
    monkeypatch.setenv(ENV_FONT, str(other))
    assert fonts.primary_font(mine).spec.path == mine
    assert fonts.primary_font().spec.path == other  # env beats the system fonts
    monkeypatch.delenv(ENV_FONT)
    assert fonts.primary_font().spec.path != other


def test_missing_configured_path_is_clear(tmp_path, monkeypatch):
    missing = tmp_path / "不存在" / "msyh.ttc"
    with pytest.raises(VBError, match="找不到设置指定的字体文件") as info:
        fonts.primary_font(missing)
    assert str(missing) in str(info.value)
    monkeypatch.setenv(ENV_FONT, str(missing))
    with pytest.raises(VBError, match=f"环境变量 {ENV_FONT}"):
        fonts.primary_font()


def test_non_font_and_non_cjk_are_refused(system_font, tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_text("x")
    with pytest.raises(VBError, match="不是字体文件"):
        fonts.primary_font(txt)
    latin = make_font(system_font, "ABCabc0123", tmp_path / "latin.ttf")
    with pytest.raises(VBError, match="不含中文字形"):
        fonts.primary_font(latin)


def test_no_cjk_font_anywhere_says_how_to_install(monkeypatch):
    monkeypatch.delenv(ENV_FONT, raising=False)
    monkeypatch.setattr(fonts, "system_fonts", lambda: [])
    with pytest.raises(VBError) as info:
        fonts.primary_font()
    msg = str(info.value)
    assert "没有找到中文字体" in msg
    assert "sudo apt-get install fonts-wqy-microhei" in msg
    assert ENV_FONT in msg


def test_ttc_face_chosen_by_name_not_index(system_font, tmp_path):
    """A collection whose first face is the monospaced one: the proportional,
    Simplified-Chinese face must still be picked."""
    regular = io.BytesIO(system_font.face.subset({ord(c) for c in CJK_SAMPLE}))
    mono_font = TTFont(io.BytesIO(regular.getvalue()))
    reg_font = TTFont(io.BytesIO(regular.getvalue()))
    for rec in mono_font["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = "Test Sans Mono CJK TC"
    for rec in reg_font["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = "Test Sans CJK SC"
    coll = TTCollection()
    coll.fonts = [mono_font, reg_font]
    path = tmp_path / "test.ttc"
    coll.save(str(path))
    index, name = fonts.choose_face(path)
    assert index == 1 and name == "Test Sans CJK SC"
    loaded = fonts.load(path)
    assert loaded.spec.index == 1


def test_wqy_collection_picks_micro_hei_not_mono():
    path = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    if not path.exists():
        pytest.skip("fonts-wqy-microhei 未安装")
    # face 1 of this collection is 文泉驿等宽微米黑 (monospaced): the proportional face 0
    # is chosen, under its Simplified-Chinese name
    assert fonts.choose_face(path) == (0, "文泉驿微米黑")
    assert fonts.load(path).spec.index == 0


def test_noto_collection_picks_sc():
    path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if not path.exists():
        pytest.skip("fonts-noto-cjk 未安装")
    index, name = fonts.choose_face(path)
    assert "SC" in name and "Mono" not in name


def test_missing_characters_reported(system_font, tmp_path, monkeypatch):
    small = make_font(system_font, CJK_SAMPLE, tmp_path / "small.ttf")
    monkeypatch.setattr(fonts, "system_fonts", lambda: [small])
    with pytest.raises(VBError) as info:
        fonts.resolve_fonts([("第3行 张伟 “备注”", "张伟已故"), ("标题", "东关村公示")], configured=small)
    msg = str(info.value)
    assert "“已”（U+5DF2）" in msg and "“故”（U+6545）" in msg
    assert "第3行 张伟 “备注”" in msg
    assert "标题" not in msg


def test_fallback_font_fills_gaps(system_font, tmp_path, monkeypatch):
    main = make_font(system_font, CJK_SAMPLE, tmp_path / "main.ttf")
    extra = make_font(system_font, CJK_SAMPLE + "已故", tmp_path / "extra.ttf")
    monkeypatch.setattr(fonts, "system_fonts", lambda: [main, extra])
    fs = fonts.resolve_fonts([("备注", "张伟已故")], configured=main)
    assert fs.primary.spec.path == main
    assert [f.spec.path for f in fs.fallbacks] == [extra]
    assert fs.font_for("已") == 1 and fs.font_for("张") == 0


def test_font_is_cached(system_font):
    again = fonts.load(system_font.spec.path)
    assert again is fonts.load(system_font.spec.path)


def test_subset_renders_identically(system_font):
    if not system_font.face.is_truetype:
        pytest.skip("需要 TrueType 字体")
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    text = "城关镇东关村阿依古丽·买买提（已核实）1,234.56元"
    sub = system_font.face.subset({ord(c) for c in text})
    data = system_font.spec.path.read_bytes()

    def draw(font_bytes: bytes, index: int) -> Image.Image:
        f = ImageFont.truetype(io.BytesIO(font_bytes), 28, index=index)
        img = Image.new("L", (900, 50), 255)
        ImageDraw.Draw(img).text((4, 4), text, font=f, fill=0)
        return img

    assert ImageChops.difference(draw(data, system_font.spec.index), draw(sub, 0)).getbbox() is None
    face = SfntFace(sub)
    assert all(face.gid(ord(c)) for c in text)
    assert face.num_glyphs < 200


def test_widths_match_fpdf(system_font):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("x", fname=str(system_font.spec.path), collection_font_number=system_font.spec.index)
    pdf.set_font("x", size=12)
    for s in ("张伟", "141025********123X", "1,234.56", "阿依古丽·买买提"):
        ours = system_font.text_width(s, 12) * 25.4 / 72
        assert ours == pytest.approx(pdf.get_string_width(s), abs=1e-6)


@pytest.mark.parametrize(
    "data", [b"\x00\x01\x00\x00" + b"\xff" * 40, b"ttcf\x00\x01\x00\x00\x00\x00\x00\x05" + b"\x00" * 10, b""]
)
def test_damaged_font_file_is_a_clear_error(tmp_path, data):
    bad = tmp_path / "坏字体.ttf"
    bad.write_bytes(data)
    with pytest.raises(VBError, match="坏字体.ttf"):
        fonts.primary_font(bad)
