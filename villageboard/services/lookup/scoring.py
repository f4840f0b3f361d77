"""In-memory lookup index for the phone desk (电话解答).

A clerk on the phone types what the caller *says*: a name heard, not seen (so the
characters may be wrong but the sound right), the tail of an ID or phone number, a
village name.  The right household has to come first, instantly, out of 10,000+.

So everything a query could be compared with is precomputed per household when the
household is saved (``add``), and ``search`` only does dictionary look-ups and scores a
small candidate set:

* the name in 汉字: whole, every prefix, the given name, each character;
* the toneless pinyin of the name in every plausible reading (the surname reading of a
  multi-reading surname first: 单 shan, 曾 zeng, …; then the common reading; the
  standard reading of every given-name character first, then its other readings), as
  whole keys, syllable-boundary prefixes and given-name keys;
* the same keys in a *fuzzy* form that merges sounds commonly confused over the phone
  (z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing, ü/u);
* initials (``zw`` and ``zhw`` for 张伟);
* the last 4, 5 and 6 characters of the ID number and the last 4 digits of the phone;
* village and group.

Add, replace and remove touch only that household's own keys: no rebuild.

pypinyin (0.55) has no surname mode (python-pinyin issues #120/#297 are still open), so
the surname readings are a curated table here.  pypinyin is imported lazily: importing
it costs ~0.25 s, which the app's start-to-ready budget cannot afford.

The module is pure Python: no I/O, no Textual, no database.
"""

from __future__ import annotations

import heapq
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, product
from typing import Any

from villageboard.domain.places import GROUP_NUM, GROUP_SUFFIX, cn_int, group_key, village_names

__all__ = ["Entry", "Hit", "LookupIndex", "name_readings"]


# --- public records ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index knows of one household (户主 and where it lives)."""

    household_id: int
    name: str  # 户主姓名 in 汉字, may contain · and rare chars like 𠮷
    id_number: str  # 18 chars
    phone: str  # may be ""
    village: str  # e.g. "东沟村"
    group: str  # e.g. "一组"


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result; ``matched`` tells the clerk, in Chinese, why it matched."""

    household_id: int
    score: float  # higher is better
    matched: str


# --- scores --------------------------------------------------------------------------
# Bands are chosen so that the ranking promised to the clerk holds whatever the query:
# exact 汉字 name > same pinyin with the same surname character > homophone > partial >
# initials > fuzzy.  Alternative readings (多音字) lose READING_PENALTY per character.

S_EXACT = 1000.0
S_ID_AND_PHONE = 985.0
S_ID = 980.0
S_PHONE = 970.0
S_PINYIN = 940.0  # Latin-only query: whole pinyin equal
S_HOMOPHONE = 900.0  # 汉字 (or mixed) query: whole pinyin equal; + alignment bonus
S_SURNAME = 800.0  # 汉字 query equals the surname
S_HAN_PREFIX = 790.0
S_GIVEN = 780.0
S_CONTAINS = 770.0
S_PY_SURNAME = 750.0  # Latin query equals the surname's pinyin
S_PY_PREFIX = 740.0  # pinyin prefix at a syllable boundary
S_PY_GIVEN = 720.0
S_SUBSEQ = 700.0
S_PY_PARTIAL = 690.0  # prefix ending inside a syllable (typing in progress)
S_INITIALS = 680.0
S_INITIALS_PREFIX = 650.0
S_SOME_CHARS = 640.0
S_FUZZY = 600.0
S_FUZZY_PREFIX = 560.0
S_LISTING = 100.0

BONUS_SURNAME = 30.0
BONUS_GIVEN = 20.0
READING_PENALTY = 15.0

# --- pinyin tables -------------------------------------------------------------------

# Every toneless syllable pypinyin emits (Style.NORMAL spells ü as v).  Derived once from
# pypinyin's own table; hard-coded because deriving it at run time costs 0.5 s.
_SYLLABLES: frozenset[str] = frozenset(
    """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu
ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou
chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang
dao de dei den deng di dia dian diao die din ding diu dong dou du duan dui dun duo e ei en
eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou
gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hm hng hong hou hu
hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue
jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai
lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo long lou lu luan
lun luo lv lve m ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou
mu n na nai nan nang nao ne nei nen neng ng ni nia nian niang niao nie nin ning niu nong
nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping
po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren
reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan
shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song
sou su suan sui sun suo ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu
tuan tui tun tuo wa wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao xie xin xing
xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai
zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu
zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
""".split()
)


def _build_partial() -> dict[str, tuple[str, ...]]:
    """Every prefix of a syllable -> the syllables it can still become (for typing in
    progress: ``zhangw`` may become zhang-wei, zhang-wen, …)."""
    table: dict[str, list[str]] = {}
    for syl in sorted(_SYLLABLES):
        for k in range(1, len(syl) + 1):
            table.setdefault(syl[:k], []).append(syl)
    return {k: tuple(v) for k, v in table.items()}


_PARTIAL = _build_partial()
_MAX_SYL = max(len(s) for s in _SYLLABLES)

# Single surnames whose surname reading differs from (or is one of several) everyday
# readings: surname reading first, then the other readings a clerk may have in mind.
# When a character is listed, this list *replaces* pypinyin's heteronyms, so that rare
# dictionary readings (沈 chen, 石 dan) do not produce false homophones.
_SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "单": ("shan", "dan"),
    "曾": ("zeng", "ceng"),
    "解": ("xie", "jie"),
    "仇": ("qiu", "chou"),
    "区": ("ou", "qu"),
    "朴": ("piao", "pu"),
    "查": ("zha", "cha"),
    "盖": ("ge", "gai"),
    "缪": ("miao", "mou"),
    "覃": ("qin", "tan"),
    "翟": ("zhai", "di"),
    # 尉 alone is wèi as a surname (现代汉语词典); yù is the 尉迟 reading, kept second.
    "尉": ("wei", "yu"),
    "乐": ("yue", "le"),
    "秘": ("bi", "mi"),
    "卜": ("bu",),
    "种": ("chong", "zhong"),
    "重": ("chong", "zhong"),
    "过": ("guo",),
    "华": ("hua",),
    "纪": ("ji",),
    "牟": ("mou", "mu"),
    "繁": ("po", "fan"),
    "任": ("ren",),
    "召": ("shao", "zhao"),
    "折": ("she", "zhe"),
    "舍": ("she",),
    "沈": ("shen",),
    "隗": ("wei", "kui"),
    "莘": ("shen", "xin"),
    "燕": ("yan",),
    "员": ("yun", "yuan"),
    "贠": ("yun",),
    "祭": ("zhai", "ji"),
    "冼": ("xian",),
    "瞿": ("qu",),
    "那": ("na",),
    "佴": ("nai", "er"),
    "粘": ("nian", "zhan"),
    "藏": ("zang", "cang"),
    "都": ("du",),
    "六": ("lu", "liu"),
    "薄": ("bo",),
    "贾": ("jia",),
    "宿": ("su",),
    "车": ("che",),
    "石": ("shi",),
    "柏": ("bai", "bo"),
    "万": ("wan",),
    "阚": ("kan",),
    "叶": ("ye",),
    "长": ("chang", "zhang"),
    "朝": ("chao", "zhao"),
    "曲": ("qu",),
    "盛": ("sheng", "cheng"),
    "殷": ("yin",),
    "句": ("gou", "ju"),
    "能": ("nai", "neng"),
    "王": ("wang",),
    "陆": ("lu",),
    "强": ("qiang",),
    "行": ("xing", "hang"),
    "阿": ("a",),
    "乜": ("nie",),
    "蕃": ("pi", "fan"),
}

# Compound surnames (复姓) and their readings.  Only taken as a compound surname when the
# name has at least three characters.
_COMPOUND_SURNAMES: dict[str, tuple[str, str]] = {
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "单于": ("chan", "yu"),
    "长孙": ("zhang", "sun"),
    "澹台": ("tan", "tai"),
    "令狐": ("ling", "hu"),
    "乐正": ("yue", "zheng"),
    "仉督": ("zhang", "du"),
    "子车": ("zi", "ju"),
    "亓官": ("qi", "guan"),
    "欧阳": ("ou", "yang"),
    "司马": ("si", "ma"),
    "上官": ("shang", "guan"),
    "诸葛": ("zhu", "ge"),
    "东方": ("dong", "fang"),
    "皇甫": ("huang", "fu"),
    "公孙": ("gong", "sun"),
    "慕容": ("mu", "rong"),
    "夏侯": ("xia", "hou"),
    "宇文": ("yu", "wen"),
    "司徒": ("si", "tu"),
    "司空": ("si", "kong"),
    "司寇": ("si", "kou"),
    "轩辕": ("xuan", "yuan"),
    "端木": ("duan", "mu"),
    "西门": ("xi", "men"),
    "南宫": ("nan", "gong"),
    "钟离": ("zhong", "li"),
    "闻人": ("wen", "ren"),
    "赫连": ("he", "lian"),
    "呼延": ("hu", "yan"),
    "独孤": ("du", "gu"),
    "公羊": ("gong", "yang"),
    "公冶": ("gong", "ye"),
    "宗政": ("zong", "zheng"),
    "濮阳": ("pu", "yang"),
    "淳于": ("chun", "yu"),
    "太叔": ("tai", "shu"),
    "申屠": ("shen", "tu"),
    "仲孙": ("zhong", "sun"),
    "鲜于": ("xian", "yu"),
    "闾丘": ("lv", "qiu"),
    "颛孙": ("zhuan", "sun"),
    "巫马": ("wu", "ma"),
    "公西": ("gong", "xi"),
    "漆雕": ("qi", "diao"),
    "壤驷": ("rang", "si"),
    "公良": ("gong", "liang"),
    "拓跋": ("tuo", "ba"),
    "夹谷": ("jia", "gu"),
    "宰父": ("zai", "fu"),
    "谷梁": ("gu", "liang"),
    "段干": ("duan", "gan"),
    "百里": ("bai", "li"),
    "东郭": ("dong", "guo"),
    "南门": ("nan", "men"),
    "羊舌": ("yang", "she"),
    "微生": ("wei", "sheng"),
    "梁丘": ("liang", "qiu"),
    "左丘": ("zuo", "qiu"),
    "东门": ("dong", "men"),
    "第五": ("di", "wu"),
}

# Name characters missing from pypinyin's table (it covers ~15k of the ~43k characters
# of Ext. B+).  𠮷 (U+20BB7), 吉 with a long lower stroke, is a real registry name
# character outside GBK; clerks type 吉.
_SUPPLEMENT: dict[str, tuple[str, ...]] = {"𠮷": ("ji",)}

_MAX_GIVEN_READINGS = 2  # heteronyms kept per given-name character (plus the standard)
_MAX_COMBOS = 24  # reading combinations indexed per name
_MAX_FORMS = 32  # pronunciations tried per query
_MAX_QUERY = 64  # characters of a query considered at all


# --- pypinyin, lazily --------------------------------------------------------------

_pypinyin: Any = None


def _pp() -> Any:
    """Import pypinyin on first use; the import costs ~0.25 s of start-up otherwise."""
    global _pypinyin
    if _pypinyin is None:
        import pypinyin
        import pypinyin.constants
        import pypinyin.pinyin_dict

        _pypinyin = pypinyin
    return _pypinyin


def _has_pinyin(ch: str) -> bool:
    return ord(ch) in _pp().pinyin_dict.pinyin_dict


def _strip_tone(reading: str) -> str:
    return reading.rstrip("012345")


@lru_cache(maxsize=16384)
def _char_readings(ch: str) -> tuple[str, ...]:
    """Toneless readings of one character, most common first.

    Only the first ``_MAX_GIVEN_READINGS`` *toned* readings are kept before tones are
    dropped: pypinyin lists the common ones first, and its tail holds archaic readings
    (王 yù, 冰 níng) that would otherwise turn ordinary names into false homophones.
    """
    if ch in _SUPPLEMENT:
        return _SUPPLEMENT[ch]
    if ch.isascii():
        return (ch.lower(),) if ch.isalnum() else ()
    if not _has_pinyin(ch):
        return ()
    pp = _pp()
    toned = pp.pinyin(ch, style=pp.Style.TONE3, heteronym=True, errors="ignore")
    out: list[str] = []
    for reading in (toned[0] if toned else [])[:_MAX_GIVEN_READINGS]:
        syl = _strip_tone(reading)
        if syl in _SYLLABLES and syl not in out:
            out.append(syl)
    return tuple(out)


@lru_cache(maxsize=65536)
def _standard_readings(text: str) -> tuple[str | None, ...]:
    """The standard (context-aware) reading of each character of a given name.

    pypinyin's phrase table gets 长江 as chang-jiang where the single character would
    say zhang.  Its converter costs ~25 µs a call, so it only runs when some part of the
    name is in that table; otherwise each character's first reading is the answer it
    would give.  Characters nobody can read come back as None.
    """
    pp = _pp()
    if len(text) >= 2 and all(_has_pinyin(ch) for ch in text):
        phrases = pp.constants.PHRASES_DICT
        n = len(text)
        if any(text[i:j] in phrases for i in range(n) for j in range(i + 2, n + 1)):
            out = pp.lazy_pinyin(text, style=pp.Style.NORMAL)
            if len(out) == n:
                return tuple(r if r in _SYLLABLES else None for r in out)
    return tuple((_char_readings(ch) or (None,))[0] for ch in text)


def _merge(first: Iterable[str | None], rest: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for r in (*first, *rest):
        if r and r not in out:
            out.append(r)
    return tuple(out)


def _surname_len(name: str) -> int:
    if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES:
        return 2
    return 1 if name else 0


def _name_readings(chars: tuple[str, ...], surname_len: int) -> list[tuple[str, ...]]:
    """Readings per character of a stored name, the reading to rank first in front."""
    out: list[tuple[str, ...]] = []
    if surname_len == 2:
        compound = _COMPOUND_SURNAMES["".join(chars[:2])]
        for i in range(2):
            out.append(_merge((compound[i],), _char_readings(chars[i])))
    elif surname_len == 1:
        ch = chars[0]
        out.append(_SURNAME_READINGS.get(ch) or _char_readings(ch))
    given = "".join(chars[surname_len:])
    std = _standard_readings(given)
    for ch, s in zip(given, std, strict=True):
        out.append(_merge((s,), _char_readings(ch)))
    return out


def _query_char_readings(ch: str, first: bool) -> tuple[str, ...]:
    """Every reading a typed character may stand for (recall matters on this side)."""
    if first and ch in _SURNAME_READINGS:
        return _merge(_SURNAME_READINGS[ch], _char_readings(ch))
    return _char_readings(ch)


def _combos(readings: list[tuple[str, ...]]) -> list[tuple[int, tuple[str, ...]]]:
    """Reading combinations of a name: (rank, syllables), rank = how many characters use
    an alternative reading.  At most two alternatives at once and ``_MAX_COMBOS`` in all,
    so a long minority name cannot blow up."""
    base = tuple(r[0] for r in readings)
    out = [(0, base)]
    alts = [(i, j) for i, r in enumerate(readings) for j in range(1, len(r))]
    for i, j in alts:
        s = list(base)
        s[i] = readings[i][j]
        out.append((1, tuple(s)))
    for (i1, j1), (i2, j2) in combinations(alts, 2):
        if len(out) >= _MAX_COMBOS:
            break
        if i1 == i2:
            continue
        s = list(base)
        s[i1] = readings[i1][j1]
        s[i2] = readings[i2][j2]
        out.append((2, tuple(s)))
    return out[:_MAX_COMBOS]


def _fuzzy_syllable(syl: str) -> str:
    """Merge sounds often confused over the phone: z/zh c/ch s/sh n/l an/ang en/eng
    in/ing ü/u.  Applied per syllable, never across a syllable boundary."""
    if syl[:2] in ("zh", "ch", "sh"):
        syl = syl[0] + syl[2:]
    elif syl[:1] == "n" and syl not in ("n", "ng"):
        syl = "l" + syl[1:]
    if syl.endswith(("ang", "eng", "ing")):
        syl = syl[:-1]
    return syl.replace("v", "u")


@lru_cache(maxsize=4096)
def _segmentations(text: str) -> tuple[tuple[str, ...], ...]:
    """All ways (at most 16) to split ``text`` into whole pinyin syllables."""
    if not text:
        return ((),)
    if len(text) > 40:
        return ()
    out: list[tuple[str, ...]] = []
    for k in range(min(_MAX_SYL, len(text)), 0, -1):
        head = text[:k]
        if head in _SYLLABLES:
            for rest in _segmentations(text[k:]):
                out.append((head, *rest))
                if len(out) >= 16:
                    return tuple(out)
    return tuple(out)


# --- text normalisation --------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A digit right after a letter (and not followed by another digit) is a tone mark.
_TOKEN_RE = re.compile(
    rf"(?P<num>[0-9]+x?(?![a-z]))|(?P<lat>[a-z](?:[a-z]|[0-5](?![0-9]))*)|(?P<han>[{_HAN}]+)"
)
_GROUP_RE = re.compile(rf"第?({GROUP_NUM})(?:{GROUP_SUFFIX})")  # a group named inside a query


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _name_key(name: str) -> str:
    """The name as compared: NFKC, separators (·, spaces, dots) dropped."""
    return "".join(ch for ch in _nfkc(name) if ch.isalnum()).lower()


def _clean_query(query: str) -> str:
    """NFKC (full-width digits and letters), lower case, tone marks dropped with ü kept
    as v, punctuation turned into spaces."""
    text = _nfkc(query[:_MAX_QUERY]).lower()
    text = unicodedata.normalize("NFD", text).replace("u\u0308", "v").replace("u:", "v")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text)
    return "".join(ch if ch.isalnum() else " " for ch in text)


def _digits(text: str) -> str:
    return "".join(ch for ch in _nfkc(text) if ch.isdigit())


def _id_norm(text: str) -> str:
    return "".join(ch for ch in _nfkc(text) if ch.isalnum()).upper()


# --- per household -------------------------------------------------------------------

_RANKS = 3  # reading ranks 0 (standard), 1 and 2 alternative readings
_FAMILIES = ("py_sur", "py_pre", "py_full", "py_given", "fz_pre", "fz_full", "ini_pre", "ini_full")


@dataclass(slots=True)
class _Record:
    """What a search needs of a household beyond its entry.  The keys it was filed
    under are not kept: remove() derives them again from the entry (the derivation is
    deterministic), which halves the index's memory."""

    entry: Entry
    name_key: str
    surname_len: int
    # pinyin key (any syllable-boundary prefix) -> syllables of the characters it covers;
    # None until first needed when the index was restored from a stored state
    _syls: dict[str, tuple[str, ...]] | None = None

    @property
    def syls(self) -> dict[str, tuple[str, ...]]:
        if self._syls is None:
            self._syls = _name_parts(self.name_key)[5]
        return self._syls


class _MultiMap:
    """key -> household ids.  A lone id is kept as a bare int: most keys (an ID tail, a
    whole pinyin) belong to one household, and a one-member set costs 216 bytes."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: dict[str, int | set[int]] = {}

    def add(self, key: str, hid: int) -> None:
        cur = self._d.get(key)
        if cur is None:
            self._d[key] = hid
        elif isinstance(cur, int):
            if cur != hid:
                self._d[key] = {cur, hid}
        else:
            cur.add(hid)

    def discard(self, key: str, hid: int) -> None:
        cur = self._d.get(key)
        if cur is None:
            return
        if isinstance(cur, int):
            if cur == hid:
                del self._d[key]
            return
        cur.discard(hid)
        if len(cur) == 1:
            self._d[key] = next(iter(cur))
        elif not cur:
            del self._d[key]

    def get(self, key: str) -> set[int] | None:
        """The ids under ``key`` (the caller must not modify the set)."""
        cur = self._d.get(key)
        if cur is None or isinstance(cur, set):
            return cur
        return {cur}

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __len__(self) -> int:
        return len(self._d)

    def items(self) -> Iterator[tuple[str, set[int]]]:
        for key in self._d:
            ids = self.get(key)
            if ids:
                yield key, ids


def _put_min(d: dict[str, int], key: str, rank: int) -> None:
    old = d.get(key)
    if old is None or rank < old:
        d[key] = rank


def _shengmu_letters(syls: tuple[str, ...]) -> str:
    return "".join(s[:2] if s[:2] in ("zh", "ch", "sh") else s[0] for s in syls)


_NameParts = tuple[
    tuple[str, ...],  # chars
    int,  # surname length
    str,  # surname ("" when the name is no longer than it)
    tuple[str, ...],  # han prefixes
    tuple[str, ...],  # given names
    dict[str, tuple[str, ...]],  # syllables per pinyin key
    dict[str, dict[str, int]],  # key families
]


@lru_cache(maxsize=2048)
def _name_parts(name_key: str) -> _NameParts:
    """Everything the index derives from a name.  Cached because a township has many
    namesakes (王芳, 张伟 …); the dicts are shared between records and never mutated."""
    chars = tuple(name_key)
    sl = _surname_len(name_key)
    surname = name_key[:sl] if len(name_key) > sl else ""
    han_prefixes = tuple(name_key[:k] for k in range(1, len(name_key)) if k != sl)
    given_starts = sorted({sl} | ({1} if sl == 2 else set()))
    givens = tuple(name_key[g:] for g in given_starts if name_key[g:])

    syls_of: dict[str, tuple[str, ...]] = {}
    fam: dict[str, dict[str, int]] = {f: {} for f in _FAMILIES}
    if chars:
        readings = _name_readings(chars, sl)
        known = next((i for i, r in enumerate(readings) if not r), len(readings))
        complete = known == len(readings)
        for rank, syls in _combos(readings[:known]) if known else []:
            fsyls = tuple(_fuzzy_syllable(s) for s in syls)
            letters = "".join(s[0] for s in syls)
            for k in range(1, len(syls) + 1):
                key = "".join(syls[:k])
                syls_of.setdefault(key, syls[:k])  # combos come lowest rank first
                _put_min(fam["py_sur" if k == sl and len(chars) > sl else "py_pre"], key, rank)
                _put_min(fam["fz_pre"], "".join(fsyls[:k]), rank)
                if k >= 2:
                    _put_min(fam["ini_pre"], letters[:k], rank)
                    _put_min(fam["ini_pre"], _shengmu_letters(syls[:k]), rank)
            if complete:
                _put_min(fam["py_full"], "".join(syls), rank)
                _put_min(fam["fz_full"], "".join(fsyls), rank)
                _put_min(fam["ini_full"], letters, rank)
                _put_min(fam["ini_full"], _shengmu_letters(syls), rank)
                for g in given_starts:
                    if g < len(syls):
                        _put_min(fam["py_given"], "".join(syls[g:]), rank)
    return chars, sl, surname, han_prefixes, givens, syls_of, fam


def name_readings(name: str) -> list[str]:
    """The toneless readings a name is filed under, spaced, the one ranked first in
    front: 单雄 -> ["shan xiong", "dan xiong"].  For the phone desk to show how a name
    is said, and to check the surname table.  [] when a character has no reading."""
    name_key = _name_key(name)
    if not name_key:
        return []
    readings = _name_readings(tuple(name_key), _surname_len(name_key))
    if not all(readings):
        return []
    return [" ".join(syls) for _, syls in _combos(readings)]


def _make_record(entry: Entry) -> _Record:
    name_key = _name_key(entry.name)
    _, sl, _, _, _, syls_of, _ = _name_parts(name_key)
    return _Record(entry=entry, name_key=name_key, surname_len=sl, _syls=syls_of)


def _entry_keys(entry: Entry) -> tuple[tuple[str, ...], str, str, frozenset[str], str]:
    """ID tails, phone tail, village, village aliases and group of an entry."""
    id_norm = _id_norm(entry.id_number)
    phone = _digits(entry.phone)
    village, aliases = _village_keys(entry.village)
    return (
        tuple(id_norm[-k:] for k in (4, 5, 6) if len(id_norm) >= k),
        phone[-4:] if len(phone) >= 4 else "",
        village,
        aliases,
        group_key(entry.group),
    )


@lru_cache(maxsize=1024)
def _village_keys(village: str) -> tuple[str, frozenset[str]]:
    """The village's full name and every form it may be typed in (东沟村 is also 东沟)."""
    return _name_key(village), village_names(village)


def _copy_ids(d: dict[str, int | set[int]]) -> dict[str, int | set[int]]:
    """A multi-map's contents with its sets copied (a lone id is an int: see _MultiMap)."""
    return {k: (set(v) if isinstance(v, set) else v) for k, v in d.items()}


def _fingerprint(entry: Entry) -> list[Any]:
    """What an entry is filed under besides its name (ID and phone tails, village,
    group), as stored with the index's state to check that it still describes it."""
    id_tails, phone_tail, village, _aliases, group = _entry_keys(entry)
    return [list(id_tails), phone_tail, village, group]


# --- parsed query ------------------------------------------------------------------


@dataclass(slots=True)
class _Form:
    """One pronunciation of the name part of a query."""

    key: str  # toneless pinyin, no spaces
    han_at: tuple[tuple[int, int, str], ...]  # (start, end, 汉字) spans within key
    fuzzy: tuple[str, ...]  # fuzzy keys (one per syllabification)
    top_bonus: float  # the best alignment bonus any name can get from this form
    penalty: float  # typed 汉字 read in a less common reading (丁 as zheng) rank lower


@dataclass(slots=True)
class _Parsed:
    units: list[tuple[str, str]]  # ("han" | "lat", text), consecutive kinds merged
    numbers: list[str]
    villages: list[str]  # alias texts, resolved against the index
    groups: list[str]  # group keys
    ambiguous_village: str | None  # a lone token that is a village *and* a name prefix
    letter: str  # a lone Latin letter: only used to thin a village or group listing


_Ranked = tuple[_MultiMap, ...]  # one map per reading rank


def _ranked() -> _Ranked:
    return tuple(_MultiMap() for _ in range(_RANKS))


class LookupIndex:
    """Households by name (汉字, pinyin, initials, homophones), ID tail, phone tail,
    village and group.

    ``add`` and ``remove`` are incremental and cheap, so the index is kept current on
    every save instead of being rebuilt.  All methods take a lock: the full index may be
    loaded by a background thread while the clerk is already searching.

    Pinyin, fuzzy and initials keys are kept per reading rank, so every bucket holds
    households that would all get the same score from a Latin query; a search then
    keeps only the ``limit`` smallest ids of a big bucket (ties break by id, so no other
    member can reach the result) instead of scoring hundreds of Zhangs one by one.
    """

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._lock = threading.Lock()
        self._records: dict[int, _Record] = {}
        self._by_name = _MultiMap()
        self._by_surname = _MultiMap()
        self._by_han_prefix = _MultiMap()
        self._by_char = _MultiMap()
        self._by_given = _MultiMap()
        self._fam: dict[str, _Ranked] = {f: _ranked() for f in _FAMILIES}
        self._id_tail = _MultiMap()
        self._phone_tail = _MultiMap()
        self._by_village = _MultiMap()
        self._by_group = _MultiMap()
        self._village_alias: dict[str, set[str]] = {}  # alias -> village keys
        self._alias_order: list[str] | None = None  # cache, reset when villages change
        self.add_all(entries)

    # -- maintenance --------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Insert a household, or replace it when its id is already indexed."""
        record = _make_record(entry)  # the slow part (pypinyin), outside the lock
        with self._lock:
            old = self._records.pop(entry.household_id, None)
            if old is not None:
                self._unlink(old)
            self._records[entry.household_id] = record
            self._link(record)

    def add_all(self, entries: Iterable[Entry]) -> None:
        """Bulk load (same as calling ``add`` for each)."""
        for entry in entries:
            self.add(entry)

    # -- a stored state ----------------------------------------------------------
    # Building the index means reading every name in pinyin (~0.6 s for 10,000
    # households). Its maps hold only names, readings, tails of ID and phone numbers
    # and place names, so they can be stored (see PhoneDesk) and restored for the same
    # entries in a fraction of that.

    def _maps(self) -> dict[str, _MultiMap]:
        maps = {
            "name": self._by_name, "surname": self._by_surname, "han_prefix": self._by_han_prefix,
            "char": self._by_char, "given": self._by_given, "id_tail": self._id_tail,
            "phone_tail": self._phone_tail, "village": self._by_village, "group": self._by_group,
        }
        for f, ranked in self._fam.items():
            for rank, m in enumerate(ranked):
                maps[f"{f}.{rank}"] = m
        return maps

    def export_state(self) -> dict[str, Any]:
        """The index as plain data (dicts, sets, lists, tuples, str and int: what
        marshal stores): every map, the village aliases, and each household's name
        key (its entry is not stored: the caller has it)."""
        with self._lock:
            return {
                "maps": {n: _copy_ids(m._d) for n, m in self._maps().items()},
                "aliases": {a: set(v) for a, v in self._village_alias.items()},
                "records": {str(hid): [r.name_key, r.surname_len, *_fingerprint(r.entry)]
                            for hid, r in self._records.items()},
                # each name's pinyin keys -> syllables, once per name (scoring needs them)
                "syls": {r.name_key: dict(r.syls) for r in self._records.values()},
            }

    @classmethod
    def from_state(cls, entries: Iterable[Entry], state: dict[str, Any], owned: bool = False) -> LookupIndex | None:
        """An index equal to ``LookupIndex(entries)``, restored from ``export_state``;
        None when the state does not describe exactly these entries. With ``owned``
        the index takes the state's sets over instead of copying them (the caller
        keeps no other use of it)."""
        ix = cls()
        records = state.get("records", {})
        entries = list(entries)
        if len(entries) != len(records):
            return None
        syls = state.get("syls", {})  # read only, shared by every record of that name
        for e in entries:
            got = records.get(str(e.household_id))
            if got is None or got[0] != _name_key(e.name) or got[2:] != _fingerprint(e):
                return None  # the household changed since: its keys would be stale
            ix._records[e.household_id] = _Record(entry=e, name_key=got[0], surname_len=got[1],
                                                  _syls=syls.get(got[0]))
        maps = ix._maps()
        if set(state.get("maps", {})) != set(maps):
            return None
        for n, d in state["maps"].items():
            maps[n]._d = d if owned else _copy_ids(d)
        aliases = state.get("aliases", {})
        ix._village_alias = aliases if owned else {a: set(v) for a, v in aliases.items()}
        return ix

    def remove(self, household_id: int) -> None:
        """Forget a household; unknown ids are ignored."""
        with self._lock:
            old = self._records.pop(household_id, None)
            if old is not None:
                self._unlink(old)

    def get(self, household_id: int) -> Entry | None:
        """The indexed entry of a household, or None."""
        record = self._records.get(household_id)
        return record.entry if record else None

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, household_id: object) -> bool:
        return household_id in self._records

    def __iter__(self) -> Iterator[Entry]:
        with self._lock:
            entries = [r.entry for r in self._records.values()]
        return iter(entries)

    def _keys(self, r: _Record) -> Iterator[tuple[_MultiMap, str]]:
        """Every (map, key) a household is filed under."""
        chars, _, surname, han_prefixes, givens, _, fam = _name_parts(r.name_key)
        if r.name_key:
            yield self._by_name, r.name_key
        if surname:
            yield self._by_surname, surname
        for key in han_prefixes:
            yield self._by_han_prefix, key
        for ch in set(chars):
            yield self._by_char, ch
        for key in givens:
            yield self._by_given, key
        id_tails, phone_tail, village, _, group = _entry_keys(r.entry)
        for key in id_tails:
            yield self._id_tail, key
        if phone_tail:
            yield self._phone_tail, phone_tail
        if village:
            yield self._by_village, village
        if group:
            yield self._by_group, group
        for f in _FAMILIES:
            ranked = self._fam[f]
            for key, rank in fam[f].items():
                yield ranked[rank], key

    def _link(self, r: _Record) -> None:
        hid = r.entry.household_id
        for m, key in self._keys(r):
            m.add(key, hid)
        _, _, village, aliases, _ = _entry_keys(r.entry)
        if village:
            for alias in aliases:
                if alias not in self._village_alias:
                    self._alias_order = None
                self._village_alias.setdefault(alias, set()).add(village)

    def _unlink(self, r: _Record) -> None:
        hid = r.entry.household_id
        for m, key in self._keys(r):
            m.discard(key, hid)
        _, _, village, aliases, _ = _entry_keys(r.entry)
        if village and village not in self._by_village:
            for alias in aliases:
                villages = self._village_alias.get(alias)
                if villages is not None:
                    villages.discard(village)
                    if not villages:
                        del self._village_alias[alias]
                        self._alias_order = None

    # -- search ---------------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """Best first; equal scores are ordered by household_id.

        Village and group tokens narrow (filter) the result; digits are ID or phone
        tails; the rest is the name, in 汉字, pinyin, initials or a mix.
        """
        if limit <= 0 or not isinstance(query, str):
            return []
        with self._lock:
            return self._search(query, limit)

    def _search(self, query: str, limit: int) -> list[Hit]:
        parsed = self._parse(query)
        if parsed is None:
            return []

        allowed: set[int] | None = None
        if parsed.villages:
            allowed = set()
            for alias in parsed.villages:
                for village in self._village_alias.get(alias, ()):
                    allowed |= self._by_village.get(village) or set()
        if parsed.groups:
            in_groups: set[int] = set()
            for g in parsed.groups:
                in_groups |= self._by_group.get(g) or set()
            allowed = in_groups if allowed is None else allowed & in_groups

        numbers: dict[int, tuple[float, str]] | None = None
        for num in parsed.numbers:
            hits = self._number_hits(num)
            if numbers is None:
                numbers = hits
            else:
                numbers = {
                    h: (max(v[0], hits[h][0]), f"{v[1]}、{hits[h][1]}")
                    for h, v in numbers.items()
                    if h in hits
                }
        if numbers is not None:
            allowed = set(numbers) if allowed is None else allowed & numbers.keys()

        best: dict[int, tuple[float, str]] = {}
        if parsed.units:
            if allowed is None or allowed:
                _Ctx(self, parsed.units, allowed, limit, best).run()
            if numbers is not None:
                for hid, (score, reason) in best.items():
                    best[hid] = (score, f"{reason}，{numbers[hid][1]}")
        elif numbers is not None:
            best = {h: v for h, v in numbers.items() if allowed is None or h in allowed}
        elif allowed is not None:
            label = "所在村组"
            if parsed.letter:
                records, letter = self._records, parsed.letter
                allowed = {h for h in allowed if _starts_with_letter(records[h], letter)}
                label = "所在村组，首字母"
            for hid in heapq.nsmallest(limit, allowed):
                best[hid] = (S_LISTING, label)
            if parsed.ambiguous_village:
                # 王庄 may be a village and a person: list the person first.
                _Ctx(self, [("han", parsed.ambiguous_village)], None, limit, best).run()

        top = heapq.nsmallest(limit, best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [Hit(hid, score, reason) for hid, (score, reason) in top]

    # -- query parsing ----------------------------------------------------------------

    def _parse(self, query: str) -> _Parsed | None:
        text = _clean_query(query)
        groups: list[str] = []

        def take_group(m: re.Match[str]) -> str:
            n = cn_int(m.group(1))
            if n is None:
                return m.group(0)
            groups.append(str(n))
            return " "

        if not self._is_name_start(text.replace(" ", "")):  # 李一社 is a name, not group 1
            text = _GROUP_RE.sub(take_group, text)
        units: list[tuple[str, str]] = []
        numbers: list[str] = []
        villages: list[str] = []
        village_tokens: list[str] = []
        for m in _TOKEN_RE.finditer(text):
            kind = m.lastgroup
            tok = m.group()
            if kind == "num":
                if len(tok) >= 4:  # 123x is an ID tail of 4
                    numbers.append(tok)
                continue
            if kind == "lat":
                units.append(("lat", re.sub(r"[0-5]", "", tok)))
                continue
            # 汉字: a village, a group name, a village glued to a name, or name text
            if tok in self._village_alias or self._village_prefix(tok):
                villages.extend(self._village_alias_of(tok))
                village_tokens.append(tok)
                continue
            group = group_key(tok)
            if group in self._by_group and not group.isdigit() and not self._is_name_start(tok):
                groups.append(group)  # a named group: 河东组 / 河东
                continue
            split = self._split_village(tok)
            if split is not None:
                alias, rest = split
                villages.append(alias)
                units.append(("han", rest))
                continue
            units.append(("han", tok))

        merged: list[tuple[str, str]] = []
        for kind, tok in units:
            if merged and merged[-1][0] == kind:
                merged[-1] = (kind, merged[-1][1] + tok)
            else:
                merged.append((kind, tok))
        # One Latin letter says nothing about a name ("z" is a third of the township),
        # but it can thin out the listing of a village: 东沟 z.
        letter = ""
        if len(merged) == 1 and merged[0][0] == "lat" and len(merged[0][1]) < 2:
            letter = merged[0][1]
            merged = []
        ambiguous = None
        if not merged and not numbers and not groups and len(village_tokens) == 1:
            if self._is_name_start(village_tokens[0]):
                ambiguous = village_tokens[0]
        if not merged and not numbers and not villages and not groups:
            return None
        return _Parsed(merged, numbers, villages, groups, ambiguous, letter)

    def _is_name_start(self, tok: str) -> bool:
        """Some household's name is, or begins with, ``tok``."""
        return tok in self._by_han_prefix or tok in self._by_surname or tok in self._by_name

    def _village_prefix(self, tok: str) -> bool:
        """A typed prefix of a village name (张家 for 张家庄村), unless it is also how
        some household's name begins."""
        if len(tok) < 2 or self._is_name_start(tok):
            return False
        return any(alias.startswith(tok) for alias in self._village_alias)

    def _village_alias_of(self, tok: str) -> list[str]:
        if tok in self._village_alias:
            return [tok]
        return [alias for alias in self._village_alias if alias.startswith(tok)]

    def _aliases_longest_first(self) -> list[str]:
        if self._alias_order is None:
            self._alias_order = sorted(self._village_alias, key=lambda a: (-len(a), a))
        return self._alias_order

    def _split_village(self, tok: str) -> tuple[str, str] | None:
        """东沟张伟 / 张伟东沟村 -> village + name, when the whole is no name prefix."""
        if self._is_name_start(tok):
            return None
        for alias in self._aliases_longest_first():
            if len(alias) < 2 or len(tok) <= len(alias):
                continue
            if tok.startswith(alias):
                return alias, tok[len(alias) :]
            if tok.endswith(alias):
                return alias, tok[: -len(alias)]
        return None

    # -- numbers ------------------------------------------------------------------------

    def _number_hits(self, num: str) -> dict[int, tuple[float, str]]:
        """ID tail (4–18, trailing X allowed) and phone tail (4+ digits)."""
        out: dict[int, tuple[float, str]] = {}
        upper = num.upper()
        n = len(upper)
        if n < 4 or n > 18:
            return out
        tail = upper[-6:] if n >= 6 else upper
        id_label = "身份证号相同" if n == 18 else f"身份证后{n}位"
        for hid in self._id_tail.get(tail) or ():
            if n <= 6 or _id_norm(self._records[hid].entry.id_number).endswith(upper):
                out[hid] = (S_ID, id_label)
        if not upper.endswith("X"):
            for hid in self._phone_tail.get(upper[-4:]) or ():
                phone = _digits(self._records[hid].entry.phone)
                if n > 4 and not phone.endswith(upper):
                    continue
                label = "电话号码相同" if n == len(phone) else f"电话后{n}位"
                if hid in out:
                    out[hid] = (S_ID_AND_PHONE, f"{out[hid][1]}、{label}")
                else:
                    out[hid] = (S_PHONE, label)
        return out


class _Ctx:
    """One name query against one index: the query's pronunciations are worked out
    once, then each tier adds its hits to ``best`` (keeping each household's best)."""

    __slots__ = (
        "ix",
        "units",
        "han_only",
        "lat_only",
        "han_chars",
        "allowed",
        "limit",
        "best",
        "_forms",
    )

    def __init__(
        self,
        ix: LookupIndex,
        units: list[tuple[str, str]],
        allowed: set[int] | None,
        limit: int,
        best: dict[int, tuple[float, str]],
    ) -> None:
        self.ix = ix
        self.units = units
        self.han_only = units[0][1] if len(units) == 1 and units[0][0] == "han" else None
        self.lat_only = units[0][1] if len(units) == 1 and units[0][0] == "lat" else None
        self.han_chars = "".join(t for k, t in units if k == "han")
        self.allowed = allowed
        self.limit = limit
        self.best = best
        self._forms: list[_Form] | None = None

    def run(self) -> None:
        """Run the tiers that apply, in descending order of the best score each can
        give; stop once ``limit`` hits are out of reach of every tier still to run."""
        tiers: list[tuple[float, Callable[[], None]]] = []
        if self.han_only:
            tiers += [
                (S_EXACT, self.exact_name),
                (S_HOMOPHONE + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_full),
                (S_SURNAME, self.han_prefix),
                (S_PY_PREFIX + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_prefix),
                (S_GIVEN, self.han_given),
                (S_CONTAINS, self.han_contains),
                (S_PY_GIVEN, self.pinyin_given),
                (S_SOME_CHARS, self.han_some_chars),
                (S_FUZZY, self.fuzzy),
            ]
        elif self.lat_only:
            tiers += [
                (S_PINYIN, self.pinyin_full),
                (S_PY_SURNAME, self.pinyin_prefix),
                (S_PY_GIVEN, self.pinyin_given),
                (S_PY_PARTIAL, self.pinyin_partial),
                (S_INITIALS, self.initials),
                (S_FUZZY, self.fuzzy),
            ]
        else:  # 汉字 and Latin mixed: 张wei, 张 wd, zhang 伟
            tiers += [
                (S_HOMOPHONE + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_full),
                (S_PY_PREFIX + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_prefix),
                (S_PY_PARTIAL + BONUS_SURNAME + BONUS_GIVEN, self.pinyin_partial),
                (S_INITIALS + BONUS_SURNAME, self.initials),
                (S_FUZZY, self.fuzzy),
            ]
        best, limit = self.best, self.limit
        for i, (_, tier) in enumerate(tiers):
            tier()
            if i + 1 < len(tiers) and len(best) >= limit:
                floor = tiers[i + 1][0]
                if sum(1 for v in best.values() if v[0] > floor) >= limit:
                    return

    # -- helpers ------------------------------------------------------------------

    def _filtered(self, ids: set[int] | None) -> set[int]:
        if not ids:
            return set()
        return ids & self.allowed if self.allowed is not None else ids

    def _offer_top(self, ids: set[int] | None, score: float, reason: str) -> None:
        """Offer a bucket whose members all get the same score: only its ``limit``
        smallest ids can make the result, so a bucket of 800 Wangs costs a sort."""
        ids = self._filtered(ids)
        if not ids:
            return
        chosen: Iterable[int] = sorted(ids)[: self.limit] if len(ids) > self.limit else ids
        best = self.best
        for hid in chosen:
            cur = best.get(hid)
            if cur is None or score > cur[0]:
                best[hid] = (score, reason)

    def _offer(self, hid: int, score: float, reason: str) -> None:
        if self.allowed is not None and hid not in self.allowed:
            return
        cur = self.best.get(hid)
        if cur is None or score > cur[0]:
            self.best[hid] = (score, reason)

    def forms(self) -> list[_Form]:
        """Pronunciations of the name part: 汉字 contribute each of their readings (the
        surname readings for a leading character), Latin text is taken as typed."""
        if self._forms is not None:
            return self._forms
        choices: list[list[tuple[str, str | None, int]]] = []
        first = True
        for kind, text in self.units:
            if kind == "lat":
                choices.append([(text, None, 0)])
                first = False
                continue
            compound = _COMPOUND_SURNAMES.get(text[:2]) if first else None
            for i, ch in enumerate(text):
                readings = _query_char_readings(ch, first and i == 0)
                if compound and i < 2:
                    readings = _merge((compound[i],), readings)
                if not readings:
                    self._forms = []
                    return self._forms
                choices.append([(r, ch, alt) for alt, r in enumerate(readings)])
            first = False
        forms: list[_Form] = []
        for combo in product(*choices):
            if len(forms) >= _MAX_FORMS:
                break
            key_parts: list[str] = []
            han_at: list[tuple[int, int, str]] = []
            offset = 0
            alternatives = 0
            for text, ch, alt in combo:
                if ch is not None:
                    han_at.append((offset, offset + len(text), ch))
                key_parts.append(text)
                offset += len(text)
                alternatives += alt > 0
            top_bonus = 0.0
            if han_at:
                top_bonus = (BONUS_SURNAME if han_at[0][0] == 0 else 0.0) + (
                    BONUS_GIVEN if han_at[-1][0] > 0 else 0.0
                )
            fuzzy = self._fuzzy_keys(tuple((text, ch) for text, ch, _ in combo))
            penalty = READING_PENALTY * alternatives
            forms.append(_Form("".join(key_parts), tuple(han_at), fuzzy, top_bonus, penalty))
        forms.sort(key=lambda f: f.penalty)  # stable: the usual readings first
        self._forms = forms
        return forms

    @staticmethod
    def _fuzzy_keys(combo: tuple[tuple[str, str | None], ...]) -> tuple[str, ...]:
        parts: list[tuple[str, ...]] = []
        for text, ch in combo:
            if ch is not None:
                parts.append((_fuzzy_syllable(text),))
                continue
            segs = _segmentations(text)
            if not segs:
                return ()
            parts.append(tuple("".join(_fuzzy_syllable(s) for s in seg) for seg in segs))
        keys: list[str] = []
        for p in product(*parts):
            key = "".join(p)
            if key not in keys:
                keys.append(key)
            if len(keys) >= 8:
                break
        return tuple(keys)

    def _bonus(
        self, rec: _Record, key: str, han_at: tuple[tuple[int, int, str], ...]
    ) -> tuple[float, bool]:
        """Reward typed 汉字 that sit on the same character of the name: the surname
        most (张wei ranks 张伟 above 章伟), the given name less.

        Returns (bonus, same surname character)."""
        syls = rec.syls.get(key, ())
        name, sl, n = rec.name_key, rec.surname_len, len(syls)
        sur_n = sur_hit = giv_n = giv_hit = 0
        j = offset = 0
        for start, end, ch in han_at:  # spans come in order
            while j < n and offset < start:
                offset += len(syls[j])
                j += 1
            aligned = offset == start and j < n and offset + len(syls[j]) == end
            hit = aligned and name[j] == ch
            if (aligned and j < sl) or (not aligned and start == 0):
                sur_n += 1
                sur_hit += hit
            else:
                giv_n += 1
                giv_hit += hit
        same_surname = sur_n > 0 and sur_hit == sur_n
        bonus = (BONUS_SURNAME if same_surname else 0.0) + (
            BONUS_GIVEN * giv_hit / giv_n if giv_n else 0.0
        )
        return bonus, same_surname

    def _pinyin_ids(
        self,
        key: str,
        ids: set[int] | None,
        rank: int,
        form: _Form,
        base: float,
        plain: str,
        sounds: tuple[str, str],
    ) -> None:
        """Offer one pinyin bucket.  Latin-only: everyone scores the same (``plain``).
        With typed 汉字: those whose name holds one of them get the alignment bonus
        (``sounds[0]`` when the surname character is the typed one), the rest score the
        same (``sounds[1]``)."""
        ids = self._filtered(ids)
        if not ids:
            return
        score = base - READING_PENALTY * rank - form.penalty
        if not form.han_at:
            self._offer_top(ids, score, "多音字读音" if rank else plain)
            return
        near, rest = self._split_near(ids)
        if near:
            self._offer_near({hid: (score, key, form) for hid in near}, sounds)
        self._offer_top(rest, score, sounds[1])

    def _split_near(self, ids: set[int]) -> tuple[set[int], set[int]]:
        """(ids whose name holds a typed 汉字, the others)."""
        near: set[int] = set()
        by_char = self.ix._by_char
        for ch in set(self.han_chars):
            near |= ids & (by_char.get(ch) or set())
        return near, (ids - near if near else ids)

    def _offer_near(
        self, pending: dict[int, tuple[float, str, _Form]], sounds: tuple[str, str]
    ) -> None:
        """Score households holding a typed character (hid -> score before bonus, key,
        form) in id order, and stop once ``limit`` of them reached the best score any
        of them could: nobody after them can rank ahead (ties go to the smaller id)."""
        ceiling = max(score + form.top_bonus for score, _, form in pending.values())
        records, best, limit = self.ix._records, self.best, self.limit
        at_top = 0
        for hid in sorted(pending) if len(pending) > limit else pending:
            score, key, form = pending[hid]
            cur = best.get(hid)
            if cur is not None and cur[0] >= ceiling:
                at_top += 1
            else:
                bonus, same_surname = self._bonus(records[hid], key, form.han_at)
                if cur is None or score + bonus > cur[0]:
                    best[hid] = (score + bonus, sounds[0] if same_surname else sounds[1])
                if score + bonus >= ceiling:
                    at_top += 1
            if at_top >= limit:
                return

    # -- tiers ----------------------------------------------------------------------

    def exact_name(self) -> None:
        if self.han_only:
            self._offer_top(self.ix._by_name.get(self.han_only), S_EXACT, "姓名完全相同")

    def pinyin_full(self) -> None:
        base = S_PINYIN if self.lat_only else S_HOMOPHONE
        ranked = self.ix._fam["py_full"]
        for form in self.forms():
            for rank in range(_RANKS):
                ids = ranked[rank].get(form.key)
                self._pinyin_ids(
                    form.key, ids, rank, form, base, "拼音相同", ("同姓同音", "同音字")
                )

    def han_prefix(self) -> None:
        q = self.han_only
        if q:
            self._offer_top(self.ix._by_surname.get(q), S_SURNAME, "姓氏相同")
            self._offer_top(self.ix._by_han_prefix.get(q), S_HAN_PREFIX, "姓名前缀相同")

    def pinyin_prefix(self) -> None:
        """``zhang`` lists the Zhangs (姓氏拼音), ``zhang wei`` also 张卫东 (前缀)."""
        sur, pre = self.ix._fam["py_sur"], self.ix._fam["py_pre"]
        for form in self.forms():
            for rank in range(_RANKS):
                self._pinyin_ids(
                    form.key,
                    sur[rank].get(form.key),
                    rank,
                    form,
                    S_PY_SURNAME if not form.han_at else S_PY_PREFIX,
                    "姓氏拼音相同",
                    ("同姓，拼音前缀", "同音姓"),
                )
                self._pinyin_ids(
                    form.key,
                    pre[rank].get(form.key),
                    rank,
                    form,
                    S_PY_PREFIX,
                    "拼音前缀",
                    ("同姓，拼音前缀", "同音前缀"),
                )

    def han_given(self) -> None:
        if self.han_only:
            self._offer_top(self.ix._by_given.get(self.han_only), S_GIVEN, "名字相同")

    def han_contains(self) -> None:
        """Every typed character is in the name: as a block (姓名包含) or in order
        with gaps (张东 for 张卫东)."""
        q = self.han_only
        if not q:
            return
        records = self.ix._records
        for hid in self._filtered(_intersect(self.ix._by_char, q)):
            name = records[hid].name_key
            if name == q:
                continue
            if q in name:
                self._offer(hid, S_CONTAINS, "姓名包含")
            elif _is_subsequence(q, name):
                self._offer(hid, S_SUBSEQ, "姓名部分相同")

    def pinyin_given(self) -> None:
        ranked = self.ix._fam["py_given"]
        for form in self.forms():
            reason = "名字同音" if form.han_at else "名字拼音相同"
            for rank in range(_RANKS):
                score = S_PY_GIVEN - READING_PENALTY * rank - form.penalty
                self._offer_top(ranked[rank].get(form.key), score, reason)

    def pinyin_partial(self) -> None:
        """The last syllable is still being typed: ``zhangw``, ``zhang we``, ``张w``.

        Each way the tail can end is looked up; with typed 汉字 the candidates of all
        of them are gathered first so the alignment bonus is worked out once, in id
        order, for as few households as the result needs."""
        if not self.units or self.units[-1][0] != "lat":
            return
        tail_text = self.units[-1][1]
        fam = self.ix._fam
        maps = [
            (rank, ranked[rank]._d)
            for rank in range(_RANKS)
            for ranked in (fam["py_sur"], fam["py_pre"])
        ]
        sounds = ("同姓，拼音前缀", "同音前缀")
        pending: dict[int, tuple[float, str, _Form]] = {}
        rest: dict[float, set[int]] = {}
        for form in self.forms():
            seen: set[str] = set()
            for k in range(1, min(_MAX_SYL, len(tail_text)) + 1):
                t = tail_text[-k:]
                if t not in _PARTIAL or not _segmentations(tail_text[:-k]):
                    continue
                head = form.key[:-k]
                for syl in _PARTIAL[t]:
                    key = head + syl
                    if key == form.key or key in seen:
                        continue
                    seen.add(key)
                    for rank, d in maps:
                        found = d.get(key)
                        if found is None:
                            continue
                        ids = self._filtered({found} if isinstance(found, int) else found)
                        if not ids:
                            continue
                        score = S_PY_PARTIAL - READING_PENALTY * rank - form.penalty
                        if not form.han_at:
                            self._offer_top(ids, score, "多音字读音" if rank else "拼音前缀")
                            continue
                        near, others = self._split_near(ids)
                        for hid in near:
                            if hid not in pending or pending[hid][0] < score:
                                pending[hid] = (score, key, form)
                        if others:
                            rest.setdefault(score, set()).update(others)
        if pending:
            self._offer_near(pending, sounds)
        for score, ids in rest.items():
            self._offer_top(ids, score, sounds[1])

    def initials(self) -> None:
        """``zw`` / ``zhw`` for 张伟; with 汉字 as well: ``张wd`` for 张卫东."""
        keys: list[tuple[str, str | None]] = []
        if self.lat_only:
            keys.append((self.lat_only, None))
        else:
            parts: list[list[tuple[str, str | None]]] = []
            for kind, text in self.units:
                if kind == "lat":
                    if _segmentations(text):
                        return  # whole syllables: the pinyin tiers handle it
                    parts.append([(text, None)])
                    continue
                for i, ch in enumerate(text):
                    first = not parts and i == 0
                    letters = _merge((r[0] for r in _query_char_readings(ch, first)), ())
                    if not letters:
                        return
                    parts.append([(c, ch) for c in letters])
            for combo in product(*parts):
                keys.append(("".join(c for c, _ in combo), "".join(h or "?" for _, h in combo)))
                if len(keys) >= _MAX_FORMS:
                    break
        full, pre = self.ix._fam["ini_full"], self.ix._fam["ini_pre"]
        records = self.ix._records
        for key, pattern in keys:
            for rank in range(_RANKS):
                for ranked, base in ((full, S_INITIALS), (pre, S_INITIALS_PREFIX)):
                    ids = ranked[rank].get(key)
                    score = base - READING_PENALTY * rank
                    if pattern is None:
                        self._offer_top(ids, score, "首字母")
                        continue
                    ids = self._filtered(ids)
                    if not ids:
                        continue
                    near, rest = self._split_near(ids)
                    for hid in near:  # the typed 汉字 in their places earn the bonus
                        chars = records[hid].name_key
                        same = len(chars) >= len(pattern) and all(
                            p in ("?", c) for p, c in zip(pattern, chars, strict=False)
                        )
                        self._offer(hid, score + (BONUS_SURNAME if same else 0.0), "首字母")
                    self._offer_top(rest, score, "首字母")

    def han_some_chars(self) -> None:
        """Two of three characters right (张卫冬 for 张卫东): a misheard character whose
        sound differs too, so neither 汉字 nor pinyin match whole."""
        q = self.han_only
        if not q or len(q) < 3 or len(q) > 6:
            return
        ix = self.ix
        candidates: set[int] = set()
        for i in range(len(q)):
            candidates |= _intersect(ix._by_char, q[:i] + q[i + 1 :])
        for hid in self._filtered(candidates):
            if abs(len(ix._records[hid].name_key) - len(q)) <= 1:
                self._offer(hid, S_SOME_CHARS, "姓名部分相同")

    def fuzzy(self) -> None:
        """Near sounds (z/zh, n/l, an/ang …), below every exact-sound match."""
        full, pre = self.ix._fam["fz_full"], self.ix._fam["fz_pre"]
        for form in self.forms():
            for key in form.fuzzy:
                for rank in range(_RANKS):
                    penalty = READING_PENALTY * rank + form.penalty
                    self._offer_top(full[rank].get(key), S_FUZZY - penalty, "近似音")
                    self._offer_top(pre[rank].get(key), S_FUZZY_PREFIX - penalty, "近似音")


def _starts_with_letter(rec: _Record, letter: str) -> bool:
    """The name's first syllable, in any of its readings, begins with ``letter``."""
    return any(len(syls) == 1 and key[0] == letter for key, syls in rec.syls.items())


def _intersect(index: _MultiMap, chars: str) -> set[int]:
    """Households whose name has every one of ``chars`` (smallest set first)."""
    sets: list[set[int]] = []
    for ch in set(chars):
        ids = index.get(ch)
        if not ids:
            return set()
        sets.append(ids)
    sets.sort(key=len)
    out = set(sets[0]) if sets else set()
    for ids in sets[1:]:
        out &= ids
        if not out:
            break
    return out


def _is_subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)
