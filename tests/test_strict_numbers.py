"""Quantities are plain decimals: ``2，5``, ``1,5``, ``1E2`` and ``1_000`` are refused with a
message that names them, never read as 25, 15, 100 or 1000."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_cli_core import vb
from tests.test_cli_money import _first_id, _xlsx
from villageboard.domain.validate import check_quantity, plain_decimal
from villageboard.services import Services

_WIDE = str.maketrans("0123456789.", "０１２３４５６７８９．")
UNITS = ["", "亩", "头", "台", "公顷"]

quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)


@settings(max_examples=200, deadline=None)
@given(quantities, st.sampled_from(UNITS), st.booleans())
def test_every_plain_decimal_reads_as_itself(q: Decimal, unit: str, wide: bool) -> None:
    text = format(q, "f")
    if wide:
        text = text.translate(_WIDE)
    c = check_quantity(text + unit)
    assert c.ok, c.errors
    assert c.value == q


SEPARATORS = [",", "，", "_", "、", "E", "e", "E+", "e-"]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 999), st.sampled_from(SEPARATORS), st.integers(0, 999), st.sampled_from(UNITS), st.booleans())
def test_separators_and_exponents_are_refused_never_reinterpreted(
    a: int, sep: str, b: int, unit: str, wide: bool
) -> None:
    text = f"{a}{sep}{b}"
    if wide:
        text = text.translate(_WIDE)
    c = check_quantity(text + unit)
    assert not c.ok and c.value is None
    assert text in c.errors[0]  # the message shows what was typed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789０１２３４５６７８９.．,，_eE+- 亩头x", max_size=12))
def test_what_is_accepted_is_exactly_a_plain_decimal(text: str) -> None:
    """An independent reading: width folded and the unit dropped, an accepted text is
    digits with at most one point, and its value is that number."""
    c = check_quantity(text)
    folded = text.translate(str.maketrans("０１２３４５６７８９．", "0123456789.")).strip()
    folded = re.sub(r"(亩|头)$", "", folded).strip()
    if c.ok:
        assert re.fullmatch(r"\d+(\.\d+)?", folded), text
        assert c.value == Decimal(folded)
    else:
        assert c.value is None and c.errors


@pytest.mark.parametrize(
    "raw,why",
    [
        ("2，5", "逗号"),
        ("1,5", "逗号"),
        ("1,200.25", "逗号"),
        ("1E2", "科学计数法"),
        ("1e-2", "科学计数法"),
        ("1_000", "下划线"),
        ("3 5", "空格"),
        ("1.2.3", "小数点"),
        ("１Ｅ２", "科学计数法"),
    ],
)
def test_refusals_say_why(raw: str, why: str) -> None:
    c = check_quantity(raw)
    assert not c.ok and why in c.errors[0] and raw in c.errors[0]


def test_maximum_is_a_plain_decimal_too() -> None:
    assert plain_decimal("1,000", "单户上限")[0] is None
    assert plain_decimal("３００", "单户上限") == (Decimal(300), "")


def test_cli_entry_and_import_refuse_commas_and_exponents(demo_dir: Path, tmp_path: Path) -> None:
    d = demo_dir
    id_number = _first_id(d)
    with Services.open(d, readonly=True) as svc:
        name = svc.registry.by_id_number(id_number).name
    r = vb("application", "add", "--id", id_number, "--program", "STGY", "--year", "2026", "--quantity", "1,5", data=d)
    assert r.returncode == 1 and "数量“1,5”含有逗号" in r.stderr and "Traceback" not in r.stderr
    r = vb("program", "edit", "STGY", "--year", "2026", "--max-quantity", "1E3", data=d)
    assert r.returncode == 1 and "单户上限“1E3”是科学计数法" in r.stderr
    sheet = _xlsx(
        tmp_path / "申报.xlsx",
        ["户主姓名", "身份证号码", "补贴项目", "面积"],
        [[name, id_number, "生态公益林补偿", "2，5"], [name, id_number, "种粮农民一次性补贴", "1E2"]],
    )
    r = vb("import", "applications", str(sheet), "--year", "2026", data=d)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert any(x.startswith("第3行 “面积”") and "2，5" in x and "逗号" in x for x in lines), r.stderr
    assert any(x.startswith("第4行 “面积”") and "科学计数法" in x for x in lines), r.stderr
