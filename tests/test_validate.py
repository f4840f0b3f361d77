import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from villageboard.domain.masking import mask_card, mask_id
from villageboard.domain.validate import (
    check_card,
    check_id_number,
    check_name,
    check_phone,
    check_quantity,
    luhn_valid,
)

TODAY = dt.date(2026, 11, 28)


def make_id(region: str, born: str, seq: str = "123") -> str:
    body = region + born + seq
    return body + ric.calc_check_digit(body + "0")


def test_valid_id() -> None:
    n = make_id("141025", "19740312")
    c = check_id_number(n, TODAY)
    assert c.ok and c.value == n and not c.warnings


def test_lower_case_x_is_stored_upper() -> None:
    # find a body whose check digit is X
    for seq in range(1000):
        n = make_id("141025", "19800101", f"{seq:03d}")
        if n.endswith("X"):
            break
    c = check_id_number(n.lower(), TODAY)
    assert c.ok and c.value == n


def test_guxian_id_born_before_code_existed_is_accepted() -> None:
    # 141025 (古县) is valid in stdnum's table only from 2000; a 1974 birth is real.
    n = make_id("141025", "19740101")
    assert not ric.is_valid(n)  # stdnum's validate() would reject it
    assert check_id_number(n, TODAY).ok


def test_bad_check_digit() -> None:
    n = make_id("141025", "19740312")
    wrong = n[:-1] + ("0" if n[-1] != "0" else "1")
    c = check_id_number(wrong, TODAY)
    assert not c.ok and "校验位" in c.errors[0]


@pytest.mark.parametrize("born,why", [("19990231", "不存在"), ("20300101", "晚于今天"), ("18500101", "过早")])
def test_impossible_or_future_birth_dates(born: str, why: str) -> None:
    c = check_id_number(make_id("141025", born), TODAY)
    assert not c.ok and why in c.errors[0]


def test_unknown_region_is_a_warning() -> None:
    c = check_id_number(make_id("990000", "19800101"), TODAY)
    assert c.ok and c.warnings and "地区码" in c.warnings[0]


@pytest.mark.parametrize(
    "raw,why",
    [
        ("", "不能为空"),
        ("1.41025E+17", "存成了数字"),
        ("141025197403121", "15位"),
        ("14102519740312", "18位"),
        ("14102519740312A12X", "数字"),
    ],
)
def test_id_shapes(raw: str, why: str) -> None:
    c = check_id_number(raw, TODAY)
    assert not c.ok and why in c.errors[0]


def test_fullwidth_id_is_cleaned() -> None:
    n = make_id("141025", "19740312")
    fw = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in n)
    assert check_id_number(" " + fw + " ", TODAY).value == n


@pytest.mark.parametrize("name", ["张伟", "阿依古丽·买买提", "𠮷田", "欧阳娜娜", "买买提•依明"])
def test_good_names(name: str) -> None:
    c = check_name(name)
    assert c.ok, c.errors
    assert "•" not in c.value


@pytest.mark.parametrize(
    "name,why",
    [
        ("张", "2到20"),
        ("张" * 21, "2到20"),
        ("张3", "只能是汉字"),
        ("[bold]x[/]", "只能是汉字"),
        ("·张伟", "位置"),
        ("", "不能为空"),
    ],
)
def test_bad_names(name: str, why: str) -> None:
    c = check_name(name)
    assert not c.ok and why in c.errors[0]


@pytest.mark.parametrize("phone", ["13912345678", "0357-5221234", "03575221234", "010-87654321", "", "139 1234 5678"])
def test_good_phones(phone: str) -> None:
    assert check_phone(phone).ok


@pytest.mark.parametrize("phone", ["12912345678", "1391234567", "5221234", "abc"])
def test_bad_phones(phone: str) -> None:
    assert not check_phone(phone).ok


def test_card_luhn_failure_is_only_a_warning() -> None:
    good = "6217790000000000008"
    assert luhn_valid(good)
    assert check_card(good).ok and not check_card(good).warnings
    bad = good[:-1] + "7"
    c = check_card(bad)
    assert c.ok and c.warnings


def test_card_rejections() -> None:
    assert not check_card("6.21779E+18").ok
    assert not check_card("62177A").ok
    assert not check_card("123").ok


@pytest.mark.parametrize(
    "raw,value",
    [("3.5亩", Decimal("3.5")), ("12", Decimal("12")), ("０.５", Decimal("0.5")), ("３.５亩", Decimal("3.5"))],
)
def test_quantities(raw: str, value: Decimal) -> None:
    c = check_quantity(raw, Decimal("2000"))
    assert c.ok and c.value == value


@pytest.mark.parametrize(
    "raw,why",
    [
        ("0", "大于0"),
        ("-1", "大于0"),
        ("1.234", "两位小数"),
        ("abc", "不是数字"),
        ("301", "上限"),
        ("", "不能为空"),
        ("NaN", "不是数字"),
    ],
)
def test_bad_quantities(raw: str, why: str) -> None:
    c = check_quantity(raw, Decimal("300"), "亩")
    assert not c.ok and why in c.errors[0]


def test_masks() -> None:
    assert mask_id("14102519740312123X") == "141025********123X"
    assert mask_card("6217790000000000008") == "****0008"


@given(st.text(max_size=40))
def test_validators_never_raise(text: str) -> None:
    for fn in (check_name, check_phone, check_card, check_quantity):
        c = fn(text)
        assert isinstance(c.errors, list)
    c = check_id_number(text, TODAY)
    assert c.ok or c.errors


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY), st.integers(0, 999))
def test_generated_ids_round_trip(born: dt.date, seq: int) -> None:
    n = make_id("141025", born.strftime("%Y%m%d"), f"{seq:03d}")
    assert check_id_number(n, TODAY).ok
    assert check_id_number(n.lower(), TODAY).value == n


def test_mask_digit_runs() -> None:
    from villageboard.domain.masking import mask_digit_runs

    assert mask_digit_runs("张伟") == "张伟"
    assert mask_digit_runs("电话139-1234-5678") == "电话*******5678"
    assert mask_digit_runs("卡６２１７７９０００") == "卡*****9000"
    assert mask_digit_runs("2026年11月") == "2026年11月"
