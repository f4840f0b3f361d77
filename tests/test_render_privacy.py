"""The privacy gate: full IDs, card numbers, phones and long digit runs never reach a
public output; masked IDs, notice codes, dates and amounts pass."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from tests.conftest_render import CODE, result_notice
from villageboard.domain.digit_forms import DIGITISH
from villageboard.domain.errors import PrivacyError
from villageboard.render.output import render_all
from villageboard.render.privacy import gate, gate_document, scan_text

FULL_ID = "11010519491231002X"
CARD = "6222021234567890128"  # Luhn-valid 19 digits


def luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def id_complete(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def test_fixture_numbers_are_what_they_claim():
    assert ric.calc_check_digit(FULL_ID) == "X"
    from villageboard.domain.validate import luhn_valid

    assert luhn_valid(CARD)


@pytest.mark.parametrize(
    "text",
    [
        f"备注：身份证{FULL_ID}",
        f"{FULL_ID.lower()}",
        "110105 19491231 002X",
        "110105-19491231-002-X",
        f"卡号{CARD}",
        "卡号 6222 0212 3456 7890 128",
        "电话13812345678",
        "联系 138-1234-5678",
        "手机 138 1234 5678 张",
        "账号123456789012",
        "１３８１２３４５６７８",  # full-width digits
        "旧证141025800101123",
        "编号 8613812345678",
        "٦٢٢٢٠٢١٢٣٤٥٦٧٨٩٠١٢٨",  # Arabic-Indic digits
    ],
)
def test_risky_numbers_are_found(text):
    assert scan_text(text), text


@pytest.mark.parametrize(
    "text",
    [
        "141025********123X",
        "****1234",
        CODE,
        "141025-2026-0012 第2版",
        "公示期：2026-11-03 至 2026-11-10",
        "2026-11-03 2026-11-10",
        "2026-12-24 2027-01-08",  # joined, these 16 digits happen to be Luhn-valid
        "2026-12-24 - 2027-01-08",
        "1,234,567.89",
        "补贴金额 748,726.25 元（大写：人民币柒拾肆万捌仟柒佰贰拾陆元贰角伍分）",
        "咨询电话：0357-1234567",
        "VB1/141025-2026-0012/V1/7K2P9QXM4ZT3A",
        "https://zw.example.gov.cn/verify?c=141025-2026-0012&v=1&t=7K2P9QXM4ZT3A",
        "第12组 12.5 亩",
        "",
    ],
)
def test_safe_text_passes(text):
    assert scan_text(text) == []


def test_message_masks_the_number():
    reasons = scan_text(f"身份证{FULL_ID}")
    assert reasons == ["疑似身份证号（110105********002X）"]
    assert FULL_ID not in "".join(reasons)
    phone = scan_text("13812345678")
    assert phone == ["疑似手机号码（尾号5678）"]
    assert all(CARD not in r for r in scan_text(CARD))


def test_gate_names_every_finding_with_where():
    with pytest.raises(PrivacyError) as info:
        gate(
            [
                ("第12行 张伟 “备注”", f"身份证{FULL_ID}"),
                ("第3行 李娜 “户主姓名”", f"李娜{CARD}"),
                ("第5行 王芳 “备注”", "手机13812345678"),
                ("第6行 赵敏 “备注”", "123456789012"),
                ("第7行 周杰 “身份证号”", "141025********123X"),
            ],
            "测试公示",
        )
    err = info.value
    msg = str(err)
    assert len(err.findings) == 4
    assert "测试公示" in msg and "未写出任何文件" in msg
    for where in ("第12行 张伟 “备注”", "第3行 李娜 “户主姓名”", "第5行 王芳 “备注”", "第6行 赵敏 “备注”"):
        assert where in msg
    assert "第7行" not in msg
    for number in (FULL_ID, CARD, "13812345678", "123456789012"):
        assert number not in msg


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (12, 8, f"身份证号{FULL_ID}"),  # remark
        (3, 2, f"王{CARD}"),  # card number in the name field
        (5, 8, "请打13812345678"),  # phone in a remark
        (7, 8, "账户123456789012"),  # 12-digit run
    ],
)
def test_document_blocked_and_nothing_written(tmp_path, row, column, value):
    doc = result_notice(20, rare=False)
    doc.tables[0].rows[row - 1].cells[column] = value
    out = tmp_path / "out"
    with pytest.raises(PrivacyError) as info:
        render_all(doc, out, "notice")
    msg = str(info.value)
    label = doc.tables[0].columns[column].label
    assert f"第{row}行" in msg and f"“{label}”" in msg
    assert not out.exists() or list(out.iterdir()) == []


def test_masked_ids_and_code_pass_the_whole_document():
    gate_document(result_notice(50, rare=False))


def test_qr_payload_is_gated_too():
    doc = result_notice(5, rare=False, qr_payload="VB1/13812345678/V1/X")
    with pytest.raises(PrivacyError, match="二维码内容"):
        gate_document(doc)


def test_title_and_footer_are_gated():
    doc = result_notice(5, rare=False, footer_lines=["村会计电话 13912345678"])
    with pytest.raises(PrivacyError, match="落款第1行"):
        gate_document(doc)


# --- property: every risky shape, anywhere in random Chinese text, is caught ------------

_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=12)


def _id18(rnd: random.Random) -> str:
    body = (
        f"{rnd.randint(110000, 659999)}{rnd.randint(1930, 2020)}{rnd.randint(1, 12):02d}"
        f"{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    )
    return id_complete(body)


def _id15(rnd: random.Random) -> str:
    return (
        f"{rnd.randint(110000, 659999)}{rnd.randint(30, 99)}{rnd.randint(1, 12):02d}"
        f"{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    )


def _card(rnd: random.Random) -> str:
    n = rnd.randint(16, 19)
    return luhn_complete("".join(str(rnd.randint(0, 9)) for _ in range(n - 1)))


def _mobile(rnd: random.Random) -> str:
    return f"1{rnd.randint(3, 9)}" + "".join(str(rnd.randint(0, 9)) for _ in range(9))


def _long_run(rnd: random.Random) -> str:
    return "".join(str(rnd.randint(0, 9)) for _ in range(rnd.randint(12, 30)))


SHAPES = {"id18": _id18, "id15": _id15, "card": _card, "mobile": _mobile, "run": _long_run}
SEPARATED = ("id18", "id15", "card", "mobile")  # shapes still caught when split up


def _split(number: str, rnd: random.Random) -> str:
    """Insert spaces/hyphens between digits at random places (1–3 separators)."""
    out = []
    for i, ch in enumerate(number):
        if i and rnd.random() < 0.25:
            out.append(rnd.choice([" ", "-", "  ", "\u3000", "－", " - "]))
        out.append(ch)
    return "".join(out)


def _fullwidth(number: str) -> str:
    return number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}).replace("X", "Ｘ")


@settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    before=_cjk,
    after=_cjk,
    shape=st.sampled_from(sorted(SHAPES)),
    seed=st.integers(0, 2**32 - 1),
    split=st.booleans(),
    wide=st.booleans(),
)
def test_risky_shapes_in_random_text_are_always_caught(before, after, shape, seed, split, wide):
    rnd = random.Random(seed)
    number = SHAPES[shape](rnd)
    if split and shape in SEPARATED:
        number = _split(number, rnd)
    if wide:
        number = _fullwidth(number)
    text = before + number + after
    reasons = scan_text(text)
    assert reasons, text
    with pytest.raises(PrivacyError):
        gate([("第1行 测试 “备注”", text)], "测试")


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    before=_cjk,
    after=_cjk,
    county=st.integers(110000, 659999),
    year=st.integers(2020, 2099),
    seq=st.integers(0, 9999),
    version=st.integers(1, 99),
)
def test_codes_and_masked_ids_never_trip_the_gate(before, after, county, year, seq, version):
    # Chinese numerals run on from the masked tail's digits would write a longer number
    # (0000一一一一一一一一 reads as twelve digits, and is refused): ordinary text after a
    # masked number does not start with one
    assume(not DIGITISH.match(after))
    code = f"{county}-{year}-{seq:04d}"
    masked = f"{county}********{seq:04d}"
    assert scan_text(f"{before}编号{code} 第{version}版 {masked}{after}") == []


def test_chinese_numerals_run_on_from_a_masked_tail_are_read_as_one_number() -> None:
    assert scan_text("身份证110000********0000一一一一一一一一") != []
    assert scan_text("身份证110000********0000一组") == []
