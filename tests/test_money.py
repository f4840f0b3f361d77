from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from villageboard.domain.money import (
    capital_amount,
    entitlement_fen,
    format_fen,
    format_quantity,
    parse_yuan,
)

# Worked by hand from the People's Bank rules for writing amounts on vouchers.
CAPITALS = [
    (1234567, "人民币壹万贰仟叁佰肆拾伍元陆角柒分"),
    (100000, "人民币壹仟元整"),
    (0, "人民币零元整"),
    (5, "人民币伍分"),
    (50, "人民币伍角"),
    (1000, "人民币壹拾元整"),
    (100500, "人民币壹仟零伍元整"),
    (105000, "人民币壹仟零伍拾元整"),
    (32504, "人民币叁佰贰拾伍元零肆分"),
    (168032, "人民币壹仟陆佰捌拾元叁角贰分"),
    (10050000, "人民币壹拾万零伍佰元整"),
    (10000000, "人民币壹拾万元整"),
    (1000000000, "人民币壹仟万元整"),
    (10000000100, "人民币壹亿零壹元整"),
    (10001000000, "人民币壹亿零壹万元整"),
    (10010000000, "人民币壹亿零壹拾万元整"),
    (12500000, "人民币壹拾贰万伍仟元整"),
    (125000, "人民币壹仟贰佰伍拾元整"),
    (10101, "人民币壹佰零壹元零壹分"),
    (2000000010, "人民币贰仟万元壹角"),
]


@pytest.mark.parametrize("fen,words", CAPITALS)
def test_capital_amount(fen: int, words: str) -> None:
    assert capital_amount(fen) == words


def test_capital_rejects_negative() -> None:
    with pytest.raises(ValueError):
        capital_amount(-1)


@pytest.mark.parametrize(
    "qty,rate,rule,expected",
    [
        ("12.5", 10000, "half_up", 125000),
        ("3.33", 1520, "half_up", 5062),  # 5061.6 -> 5062
        ("3.33", 1520, "down", 5061),
        ("0.05", 1010, "half_up", 51),  # 50.5 -> 51
        ("0.05", 1010, "half_even", 50),  # 50.5 -> 50
        ("0.01", 1, "up", 1),
        ("1", 300000, "half_up", 300000),
    ],
)
def test_entitlement(qty: str, rate: int, rule: str, expected: int) -> None:
    assert entitlement_fen(Decimal(qty), rate, rule) == expected


def test_totals_are_sum_of_rounded_rows() -> None:
    rows = [entitlement_fen(Decimal("0.05"), 1010) for _ in range(3)]
    assert sum(rows) == 153  # not round(0.15 * 1010) = 152


@pytest.mark.parametrize("fen,text", [(125000, "1,250.00"), (5, "0.05"), (123456789, "1,234,567.89"), (-150, "-1.50")])
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_parse_yuan() -> None:
    assert parse_yuan("1,250.5") == 125050
    assert parse_yuan("3元") == 300
    assert parse_yuan("1，250，000") == 125000000
    for bad in ("1.234", "1,5", "12,50", "1E2", "1_000", "1,2345", ",100", "1.5.0"):
        with pytest.raises(ValueError):
            parse_yuan(bad)


def test_format_quantity() -> None:
    assert format_quantity(Decimal("12.50")) == "12.5"
    assert format_quantity(Decimal("3.00")) == "3"
    assert format_quantity("0.05") == "0.05"


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_capital_amount_is_well_formed(fen: int) -> None:
    words = capital_amount(fen)
    assert words.startswith("人民币")
    assert "零零" not in words
    assert not words.endswith("零")
    assert words.endswith(("整", "角", "分"))
