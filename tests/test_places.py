"""The one place-name normaliser: every way a clerk writes a village or a group
gives the same key, and the import, the registry and the phone index agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from villageboard.domain.places import (
    cn_int,
    cn_number,
    group_key,
    group_label,
    village_key,
    village_names,
)


@pytest.mark.parametrize(
    "text", ["3组", "三组", "第三组", "03", "3", "三村民小组", "3队", "第03组", "３组", " 3 组 ", "三社", "第三小组"]
)
def test_group_three_in_every_form(text: str) -> None:
    assert group_key(text) == "3"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("十二组", "12"),
        ("第十二组", "12"),
        ("12组", "12"),
        ("二十组", "20"),
        ("二十三组", "23"),
        ("两组", "2"),
        ("一百零三组", "103"),
        ("〇组", "0"),
        ("河东组", "河东"),
        ("河东", "河东"),
        ("河东村民小组", "河东"),
        ("组", "组"),
    ],
)
def test_group_keys(text: str, key: str) -> None:
    assert group_key(text) == key


def test_different_groups_stay_different() -> None:
    assert group_key("3组") != group_key("13组") != group_key("30组")
    assert group_key("河东组") != group_key("河西组")


@given(st.integers(min_value=0, max_value=99))
def test_arabic_and_chinese_numerals_meet(n: int) -> None:
    chinese = cn_number(n)
    assert cn_int(chinese) == n
    forms = {f"{n}组", f"{n:02d}组", f"{chinese}组", f"第{chinese}组", f"第{n}组", str(n), f"{chinese}村民小组"}
    assert {group_key(f) for f in forms} == {str(n)}
    assert group_key(group_label(str(n))) == str(n)


@pytest.mark.parametrize("text", ["十十", "三四五六", "百", "abc", ""])
def test_not_numbers(text: str) -> None:
    assert cn_int(text) is None


def test_new_group_names() -> None:
    assert group_label("3") == "三组"
    assert group_label("12") == "十二组"
    assert group_label("河东") == "河东组"


@pytest.mark.parametrize(
    "text", ["东沟村", "东沟", " 东 沟 村 ", "东沟村委会", "东沟村民委员会", "东沟社区", "东沟　村"]
)
def test_village_forms(text: str) -> None:
    assert village_key(text) == "东沟"


def test_short_village_keeps_its_suffix() -> None:
    assert village_key("李村") == "李村"  # 李 alone would be a surname, not a village
    assert village_key("李") != village_key("李村")
    assert village_names("东沟村") == {"东沟村", "东沟"}


def test_the_import_the_registry_and_the_phone_index_agree(empty_svc, tmp_path) -> None:
    """A group created by an import as "3组" is found by the registry as 三组 and 第三组,
    a second import writing 三组 joins it, and the phone desk finds it as 第3组."""
    from stdnum.cn import ric

    svc = empty_svc
    rows = []
    for i, group in enumerate(("3组", "三组", "第三组", "03")):
        body = f"14102519700101{i:03d}"
        rows.append(f"东沟村,{group},张三{'一二三四'[i]},{body + ric.calc_check_digit(body + '0')}")
    sheet = tmp_path / "h.csv"
    sheet.write_text("村,组,户主姓名,身份证号码\n" + "\n".join(rows) + "\n", encoding="utf-8")
    svc.transfer.import_households(sheet)
    groups = svc.registry.groups()
    assert [g.name for g in groups] == ["三组"]
    v = svc.registry.village_by_name("东沟")
    assert v is not None and svc.registry.village_by_name("东沟村委会") == v
    for form in ("3组", "三组", "第三组", "3"):
        assert svc.registry.group_by_name(v.id, form) == groups[0]
    with pytest.raises(Exception, match="已经有"):
        svc.registry.add_group(v.id, "第3组")
    hits = svc.phone.lookup("东沟 第3组 张三", limit=10).hits
    assert len(hits) == 4 and {h.group for h in hits} == {"三组"}
