"""The phone-desk lookup index: what a clerk types while a villager talks.

A fixed table of households covers the hard cases of the job (homophones, multi-reading
and compound surnames, a minority name with ·, a character outside GBK, the same name in
two villages); the tables below say which household must come first for each way of
typing, and hypothesis checks that no input makes search fail or come back unsorted.
Timings are in bench/bench_lookup_index.py, never here.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from villageboard.services.lookup.index import Hit, LookupIndex
from villageboard.services.lookup.keys import Entry
from villageboard.services.lookup.readings import name_readings

DONG, XI, NAN = "东沟村", "西沟村", "南庄村"

# id, name, village, group
ROWS: list[tuple[int, str, str, str]] = [
    (1, "张伟", DONG, "一组"),
    (2, "章伟", DONG, "二组"),
    (3, "张维", XI, "一组"),
    (4, "张卫东", NAN, "三组"),
    (5, "李娜", DONG, "一组"),
    (6, "黎娜", XI, "二组"),
    (7, "王芳", NAN, "一组"),
    (8, "汪芳", DONG, "三组"),
    (9, "单雄", DONG, "一组"),
    (10, "曾国强", XI, "一组"),
    (11, "解放", NAN, "二组"),
    (12, "仇家明", DONG, "二组"),
    (13, "区志华", XI, "三组"),
    (14, "长孙无忌", NAN, "一组"),
    (15, "阿依古丽·买买提", DONG, "一组"),
    (16, "𠮷田", XI, "二组"),
    (17, "万俟卨", NAN, "二组"),
    (18, "张长乐", DONG, "二组"),
    (19, "吕娟", XI, "一组"),
    (20, "赵敏", DONG, "一组"),
    (21, "欧阳明", NAN, "三组"),
    (22, "朴永吉", XI, "三组"),
    (23, "查文", DONG, "三组"),
    (24, "翟红", NAN, "一组"),
    (25, "覃海", XI, "一组"),
    (26, "缪春", DONG, "二组"),
    (27, "盖立", NAN, "二组"),
    (28, "陈晨", XI, "二组"),
    (29, "刘洋", DONG, "一组"),
    (30, "刘阳", NAN, "一组"),
    (31, "王强", DONG, "二组"),
    (32, "王小强", XI, "三组"),
    (33, "孙丽", NAN, "三组"),
    (34, "周杰", DONG, "三组"),
    (35, "郑成功", XI, "一组"),
    (36, "黄河", NAN, "二组"),
    (37, "何欢", DONG, "一组"),
    (38, "宁静", XI, "二组"),
    (39, "沈兰", NAN, "三组"),
    (40, "张伟", NAN, "二组"),  # the same name in another village
    (41, "尉迟恭", DONG, "三组"),
    (42, "乐毅", XI, "三组"),
]
ID_OVERRIDE = {5: "14102519800101123X", 9: "141025198001015678"}
PHONE_OVERRIDE = {12: "13812345678", 20: "13900008888", 33: ""}
VILLAGE = {hid: v for hid, _, v, _ in ROWS}
GROUP = {hid: g for hid, _, _, g in ROWS}


def _entry(hid: int, name: str, village: str, group: str) -> Entry:
    id_number = ID_OVERRIDE.get(hid, f"1410251960{hid:02d}0201{hid:02d}")
    phone = PHONE_OVERRIDE.get(hid, f"1500000{hid:02d}{hid % 7}{hid % 3}")
    return Entry(hid, name, id_number, phone, village, group)


def _index() -> LookupIndex:
    return LookupIndex(_entry(*row) for row in ROWS)


@pytest.fixture(scope="module")
def ix() -> LookupIndex:
    return _index()


def ids(hits: list[Hit]) -> list[int]:
    return [h.household_id for h in hits]


def first(ix: LookupIndex, query: str) -> int | None:
    hits = ix.search(query)
    return hits[0].household_id if hits else None


# --- which household comes first ---------------------------------------------------

FIRST_HIT = [
    # 汉字, exact and partial
    ("章伟", 2),
    ("曾国强", 10),
    ("阿依古丽·买买提", 15),
    ("阿依古丽买买提", 15),  # the · left out
    ("阿依古丽 · 买买提", 15),
    ("买买提", 15),  # the part after the dot
    ("𠮷田", 16),
    ("王小", 32),  # surname + first given character
    ("小强", 32),  # given name only
    ("卫东", 4),
    ("张东", 4),  # 2 of 3 characters, in order
    ("张卫冬", 4),  # one character misheard (冬 for 东)
    ("成功", 35),
    ("欧阳", 21),  # compound surname only
    ("长孙", 14),
    # homophone fallback: no household is written this way
    ("吉田", 16),  # 𠮷 is typed 吉
    ("善雄", 9),
    ("郑成公", 35),
    # full pinyin, with or without spaces, tone digits or tone marks
    ("zeng guo qiang", 10),
    ("zengguoqiang", 10),
    ("zhāng wěi", 1),
    ("zhang1 wei3", 1),
    ("ZHANG WEI", 1),
    ("ｚｈａｎｇ　ｗｅｉ", 1),  # full-width
    ("  zhang   wei  ", 1),
    ("wang xiao qiang", 32),
    ("chen chen", 28),
    ("zheng cheng gong", 35),
    ("lv juan", 19),
    ("lü juan", 19),
    ("lǚ juàn", 19),
    # multi-reading surnames: the surname reading first, the everyday one still found
    ("shan xiong", 9),
    ("dan xiong", 9),
    ("xie fang", 11),
    ("jie fang", 11),
    ("qiu jia ming", 12),
    ("ou zhi hua", 13),
    ("piao yong ji", 22),
    ("zha wen", 23),
    ("zhai hong", 24),
    ("qin hai", 25),
    ("miao chun", 26),
    ("ge li", 27),
    ("yue yi", 42),
    # multi-reading given-name characters
    ("zhang chang le", 18),
    ("zhang zhang le", 18),
    ("zhang chang yue", 18),
    # compound surnames
    ("zhangsun wuji", 14),
    ("zhang sun wu ji", 14),
    ("moqi xie", 17),
    ("yu chi gong", 41),
    ("ouyang ming", 21),
    # minority name and the character outside GBK
    ("ayiguli maimaiti", 15),
    ("ayiguli", 15),
    ("ji tian", 16),
    # partial pinyin and typing in progress
    ("ouyang", 21),
    ("zhangw", 1),
    ("wang xiao", 32),
    ("xiao qiang", 32),  # given name only
    # initials
    ("zgq", 10),
    ("zwd", 4),
    ("wxq", 32),
    ("zhw", 1),  # zh kept whole
    ("Z W", 1),
    # 汉字 surname + heard given name / initials
    ("张wei", 1),
    ("张 wei", 1),
    ("张wd", 4),
    ("王xiaoqiang", 32),
    ("长孙wuji", 14),
    ("欧阳 ming", 21),
    # fuzzy sounds, below every exact sound
    ("ling jing", 38),  # n/l
    ("sen lan", 39),  # s/sh, an/ang already fine
    ("zen guo qiang", 10),  # z/zh is not the issue here: en/eng
    ("huan he", 36),  # an/ang
    ("lu juan", 19),  # ü/u
    ("zao min", 20),  # z/zh
]


@pytest.mark.parametrize(("query", "expected"), FIRST_HIT)
def test_first_hit(ix: LookupIndex, query: str, expected: int) -> None:
    hits = ix.search(query)
    assert hits, query
    assert hits[0].household_id == expected, [(ix.get(h.household_id), h) for h in hits[:4]]


# (query, households that must all be in the top n, n)
IN_TOP = [
    ("zhang wei", {1, 2, 3, 40}, 4),  # every homophone, ahead of the rest
    ("zhangwei", {1, 2, 3, 40}, 4),
    ("zw", {1, 2, 3, 23, 40}, 5),  # 查文 is zha wen
    ("章维", {1, 2, 3, 40}, 4),  # nobody is written 章维: all four sound right
    ("li na", {5, 6}, 2),
    ("ln", {5, 6}, 2),
    ("wang fang", {7, 8}, 2),
    ("liu yang", {29, 30}, 2),
    ("张伟", {1, 40}, 2),
    ("zhang", {1, 2, 3, 4, 18, 40}, 6),  # the Zhangs (张 and 章) first
    ("张", {1, 3, 4, 18, 40}, 5),  # 张 before 章
    ("wang", {7, 8, 31, 32}, 4),
]


@pytest.mark.parametrize(("query", "expected", "n"), IN_TOP)
def test_all_in_top(ix: LookupIndex, query: str, expected: set[int], n: int) -> None:
    assert set(ids(ix.search(query))[:n]) == expected


def test_heard_given_name_prefers_typed_surname(ix: LookupIndex) -> None:
    """张wei: 张伟 and 张维 above 章伟, and 章伟 still above households that do not
    sound like zhang wei at all."""
    for query in ("张wei", "张 wei", "张 Wei"):
        order = ids(ix.search(query))
        assert set(order[:3]) == {1, 3, 40}, query
        assert order[3] == 2, query


def test_exact_then_same_surname_then_homophone(ix: LookupIndex) -> None:
    hits = {h.household_id: h for h in ix.search("张伟")}
    assert hits[1].matched == "姓名完全相同" and hits[40].matched == "姓名完全相同"
    assert hits[1].score > hits[3].score > hits[2].score  # 张伟 > 张维 > 章伟
    assert hits[3].matched == "同姓同音"
    assert hits[2].matched == "同音字"


def test_typed_characters_win_over_homophones(ix: LookupIndex) -> None:
    assert ids(ix.search("李娜"))[:2] == [5, 6]
    assert ids(ix.search("黎娜"))[:2] == [6, 5]
    assert ids(ix.search("汪芳"))[:2] == [8, 7]


def test_fuzzy_ranks_below_exact_sound(ix: LookupIndex) -> None:
    exact = ix.search("zhang wei")[0]
    fuzzy = ix.search("zan wei")
    assert exact.matched == "拼音相同"
    assert {1, 2, 3, 40} <= set(ids(fuzzy))
    assert all(h.matched == "近似音" and h.score < exact.score for h in fuzzy)


def test_alternative_reading_ranks_below_standard(ix: LookupIndex) -> None:
    standard = ix.search("shan xiong")[0]
    everyday = ix.search("dan xiong")[0]
    assert standard.household_id == everyday.household_id == 9
    assert standard.score > everyday.score
    assert everyday.matched == "多音字读音"


def test_partial_pinyin_lists_the_surname(ix: LookupIndex) -> None:
    hits = ix.search("zhang")
    assert hits[0].matched == "姓氏拼音相同"
    assert 14 in ids(hits)  # 长孙 (zhangsun) begins with zhang too, but ranks lower
    assert ids(hits).index(14) > ids(hits).index(40)


# --- ID and phone tails ----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected", "reason"),
    [
        ("123X", 5, "身份证后4位"),
        ("123x", 5, "身份证后4位"),
        ("１２３ｘ", 5, "身份证后4位"),
        ("01123x", 5, "身份证后6位"),
        ("1123X", 5, "身份证后5位"),
        ("14102519800101123x", 5, "身份证号相同"),
        ("8888", 20, "电话后4位"),
        ("13900008888", 20, "电话号码相同"),
        ("0201 01", None, None),  # a space splits the number into two short ones
    ],
)
def test_number_tails(ix: LookupIndex, query: str, expected: int | None, reason: str | None) -> None:
    hits = ix.search(query)
    if expected is None:
        assert hits == []
        return
    assert hits[0].household_id == expected
    assert hits[0].matched == reason


def test_four_digits_are_id_or_phone(ix: LookupIndex) -> None:
    hits = {h.household_id: h for h in ix.search("5678")}
    assert set(hits) == {9, 12}
    assert hits[9].matched == "身份证后4位"
    assert hits[12].matched == "电话后4位"
    assert hits[9].score > hits[12].score  # an ID tail is the stronger evidence


def test_short_digits_match_nothing(ix: LookupIndex) -> None:
    assert ix.search("123") == []
    assert ix.search("8") == []


def test_name_and_tail_together(ix: LookupIndex) -> None:
    hits = ix.search("单雄 5678")
    assert ids(hits) == [9]
    assert hits[0].matched == "姓名完全相同，身份证后4位"
    assert ix.search("李娜 5678") == []


# --- narrowing by village and group ----------------------------------------------


@pytest.mark.parametrize(
    ("query", "village", "group", "must"),
    [
        ("东沟 zhang", DONG, None, {1, 2, 18}),
        ("zhang 东沟村", DONG, None, {1, 2, 18}),
        ("zhang 东沟", DONG, None, {1, 2, 18}),
        ("东沟 一组 zw", DONG, "一组", {1}),
        ("东沟村 1组 zw", DONG, "一组", {1}),
        ("zw 东沟 第一组", DONG, "一组", {1}),
        ("南庄 张伟", NAN, None, {40}),
        ("东沟张伟", DONG, None, {1}),  # village glued to the name
        ("西沟 zhang wei", XI, None, {3}),
        ("东沟", DONG, None, set()),  # a village alone lists it
        ("一组", None, "一组", set()),
        ("东沟村 5678", DONG, None, {9, 12}),
        ("南庄 wang", NAN, None, {7}),
    ],
)
def test_narrowing_filters(ix: LookupIndex, query: str, village: str | None, group: str | None, must: set[int]) -> None:
    hits = ix.search(query)
    assert hits, query
    assert must <= set(ids(hits))
    for hid in ids(hits):
        assert village is None or VILLAGE[hid] == village, (query, hid)
        assert group is None or GROUP[hid] == group, (query, hid)


def test_village_and_one_letter(ix: LookupIndex) -> None:
    hits = ix.search("东沟 z")
    assert set(ids(hits)) == {1, 2, 18, 20, 23, 34}  # 张 章 张 赵 查(zha) 周
    assert {h.matched for h in hits} == {"所在村组，首字母"}
    assert ix.search("z") == []


def test_narrowing_excludes_the_namesake(ix: LookupIndex) -> None:
    assert first(ix, "南庄 张伟") == 40
    assert 1 not in ids(ix.search("南庄 张伟"))
    assert first(ix, "东沟 张伟") == 1
    assert 40 not in ids(ix.search("东沟 张伟"))


def test_narrowing_to_nothing(ix: LookupIndex) -> None:
    assert ix.search("西沟 5678") == []
    assert ix.search("东沟 九组 zw") == []


def test_village_listing_is_by_id(ix: LookupIndex) -> None:
    hits = ix.search("西沟村", limit=50)
    assert ids(hits) == sorted(h for h, v in VILLAGE.items() if v == XI)
    assert {h.matched for h in hits} == {"所在村组"}


def test_named_groups_and_chinese_numerals() -> None:
    ix = LookupIndex(
        [
            Entry(1, "张伟", "1" * 18, "", "东沟村", "河东组"),
            Entry(2, "张维", "2" * 18, "", "东沟村", "十二组"),
            Entry(3, "章伟", "3" * 18, "", "东沟村", "12组"),
            Entry(4, "张卫", "4" * 18, "", "东沟村", "一组"),
        ]
    )
    assert ids(ix.search("河东组 zhang wei")) == [1]
    assert set(ids(ix.search("12组 zhang wei"))) == {2, 3}
    assert set(ids(ix.search("第十二组 zw"))) == {2, 3}


# --- updates ---------------------------------------------------------------------


def test_replace_changes_what_matches() -> None:
    ix = _index()
    n = len(ix)
    ix.add(Entry(1, "张大伟", "14102519600102019999", "13700001111", XI, "三组"))
    assert len(ix) == n
    exact = [h for h in ix.search("张伟") if h.matched == "姓名完全相同"]
    assert ids(exact) == [40]  # the old name no longer matches
    assert first(ix, "张大伟") == 1
    assert first(ix, "zhang da wei") == 1
    assert 1 not in ids(ix.search("东沟 zhang", limit=50))  # moved to 西沟
    assert 1 in ids(ix.search("西沟 zhang", limit=50))
    assert 1 not in ids(ix.search("0201"))  # the old ID tail (01 → 0201) is gone
    assert ids(ix.search("9999")) == [1]
    assert ids(ix.search("1111")) == [1]


def test_remove_and_add_back() -> None:
    ix = _index()
    n = len(ix)
    ix.remove(40)
    assert len(ix) == n - 1
    assert 40 not in ix and ix.get(40) is None
    assert 40 not in ids(ix.search("张伟", limit=50))
    assert 40 not in ids(ix.search("zhang wei", limit=50))
    ix.remove(40)  # twice: no error
    ix.remove(999)  # unknown: no error
    ix.add(_entry(40, "张伟", NAN, "二组"))
    assert len(ix) == n
    assert first(ix, "南庄 张伟") == 40


def test_removing_a_whole_village_forgets_it() -> None:
    ix = _index()
    for hid, _, village, _ in ROWS:
        if village == NAN:
            ix.remove(hid)
    assert ix.search("南庄") == []
    assert ix.search("南庄村 zw") == []  # narrows to nothing, never widens
    assert len(ix) == sum(1 for r in ROWS if r[2] != NAN)


def test_iteration_and_get(ix: LookupIndex) -> None:
    assert len(ix) == len(ROWS)
    assert {e.household_id for e in ix} == {r[0] for r in ROWS}
    entry = ix.get(15)
    assert entry is not None and entry.name == "阿依古丽·买买提"


def test_remove_all_leaves_no_key_behind() -> None:
    """remove() derives a household's keys again instead of storing them: it must undo
    add() exactly, or the maps would slowly fill with dead keys on every save."""
    ix = _index()
    for hid, name, village, group in ROWS:  # replace each once, then remove all
        ix.add(_entry(hid, name + "子", village, group))
    for hid, *_ in ROWS:
        ix.remove(hid)
    assert len(ix) == 0
    state = ix.export_state()
    assert state["maps"] and all(m == {} for m in state["maps"].values())
    assert state["aliases"] == {} and state["records"] == {} and state["syls"] == {}


# --- readings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "standard", "also"),
    [
        ("单雄", "shan xiong", "dan xiong"),
        ("曾国强", "zeng guo qiang", "ceng guo qiang"),
        ("解放", "xie fang", "jie fang"),
        ("仇家明", "qiu jia ming", "chou jia ming"),
        ("区志华", "ou zhi hua", "qu zhi hua"),
        ("朴永吉", "piao yong ji", "pu yong ji"),
        ("查文", "zha wen", "cha wen"),
        ("盖立", "ge li", "gai li"),
        ("缪春", "miao chun", None),
        ("覃海", "qin hai", "tan hai"),
        ("翟红", "zhai hong", "di hong"),
        ("尉迟恭", "yu chi gong", None),
        ("万俟卨", "mo qi xie", None),
        ("长孙无忌", "zhang sun wu ji", None),
        ("张长乐", "zhang chang le", "zhang chang yue"),
        ("𠮷田", "ji tian", None),
        ("阿依古丽·买买提", "a yi gu li mai mai ti", None),
        ("王芳", "wang fang", None),
    ],
)
def test_name_readings(name: str, standard: str, also: str | None) -> None:
    readings = name_readings(name)
    assert readings[0] == standard
    if also is not None:
        assert also in readings
    assert len(readings) == len(set(readings))


def test_no_archaic_readings_for_common_names() -> None:
    """pypinyin lists 王 yù and 冰 níng; a clerk hearing "yu fang" must not get 王芳."""
    assert name_readings("王芳") == ["wang fang"]
    ix = LookupIndex([Entry(1, "王芳", "1" * 18, "", DONG, "一组")])
    assert ix.search("yu fang") == []


def test_unreadable_name_has_no_readings() -> None:
    assert name_readings("") == []
    assert name_readings("张\U00020004") == []


# --- degenerate input ---------------------------------------------------------------


@pytest.mark.parametrize("query", ["", " ", "　", "z", "Z", "ｚ", "·", "!!", "1", "x", "3组?"])
def test_empty_or_one_letter(ix: LookupIndex, query: str) -> None:
    if query == "3组?":
        assert all(GROUP[h] == "三组" for h in ids(ix.search(query)))
    else:
        assert ix.search(query) == []


def test_limit_and_determinism(ix: LookupIndex) -> None:
    assert len(ix.search("zhang", limit=2)) == 2
    assert ix.search("zhang", limit=0) == []
    assert ix.search("zhang wei") == ix.search("zhang wei")
    assert ix.search("zhang", limit=3) == ix.search("zhang", limit=20)[:3]
    hits = ix.search("zhang wei")
    assert ids(hits)[:4] == [1, 2, 3, 40]  # equal scores: by household id


def test_empty_index() -> None:
    ix = LookupIndex()
    assert len(ix) == 0
    assert ix.search("张伟") == []
    assert ix.search("东沟") == []
    assert ix.search("1234") == []


def test_odd_entries_are_indexed() -> None:
    ix = LookupIndex(
        [
            Entry(1, "", "", "", "", ""),
            Entry(2, "·", "x", "-", "村", "组"),
            Entry(3, "Smith约翰", "123", "12", "东沟村", "一组"),
            Entry(4, "张\U00020004", "141025196001020199", "", "东沟村", "一组"),
        ]
    )
    assert len(ix) == 4
    assert first(ix, "约翰") == 3
    assert 4 in ids(ix.search("张"))  # an unreadable character does not hide the rest
    assert 4 in ids(ix.search("zhang"))


# --- properties ----------------------------------------------------------------------

_FIXTURE_CHARS = "".join(sorted({ch for _, name, _, _ in ROWS for ch in name}))
_QUERY_ALPHABET = _FIXTURE_CHARS + "abcdefghijklmnopqrstuvwxyzāěǐòǔǚü 0123456789xX组村东西沟庄一二第·ｗ１"


def _check_sorted(hits: list[Hit], limit: int) -> None:
    assert len(hits) <= limit
    assert len({h.household_id for h in hits}) == len(hits)
    keys = [(-h.score, h.household_id) for h in hits]
    assert keys == sorted(keys)
    assert all(isinstance(h.matched, str) and h.matched for h in hits)


_SHARED = _index()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=40), limit=st.integers(min_value=-1, max_value=30))
def test_search_never_raises_on_any_text(query: str, limit: int) -> None:
    _check_sorted(_SHARED.search(query, limit), max(limit, 0))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet=_QUERY_ALPHABET, max_size=24))
def test_search_never_raises_on_plausible_text(query: str) -> None:
    _check_sorted(_SHARED.search(query), 20)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(alphabet=_FIXTURE_CHARS + "·𠮷李王", min_size=1, max_size=8),
    hid=st.integers(min_value=1, max_value=60),
)
def test_any_saved_name_is_found_exactly(name: str, hid: int) -> None:
    ix = _index()
    ix.add(Entry(hid, name, "141025196001020199", "", XI, "一组"))
    key = name.replace("·", "")
    if not key:
        return
    hits = ix.search(name, limit=100)
    exact = [h.household_id for h in hits if h.matched == "姓名完全相同"]
    assert hid in exact
    assert hits[0].matched == "姓名完全相同"
