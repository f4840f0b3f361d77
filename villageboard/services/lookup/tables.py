"""The fixed tables of the phone-desk lookup: score bands, every toneless pinyin
syllable, the surname readings pypinyin lacks, and the limits that keep a query cheap.

pypinyin (0.55) has no surname mode (python-pinyin issues #120/#297 are still open), so
the surname readings are a curated table here.  Data only: no imports.
"""

from __future__ import annotations

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
SYLLABLES: frozenset[str] = frozenset(
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
    for syl in sorted(SYLLABLES):
        for k in range(1, len(syl) + 1):
            table.setdefault(syl[:k], []).append(syl)
    return {k: tuple(v) for k, v in table.items()}


PARTIAL = _build_partial()
MAX_SYL = max(len(s) for s in SYLLABLES)

# Single surnames whose surname reading differs from (or is one of several) everyday
# readings: surname reading first, then the other readings a clerk may have in mind.
# When a character is listed, this list *replaces* pypinyin's heteronyms, so that rare
# dictionary readings (沈 chen, 石 dan) do not produce false homophones.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
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
COMPOUND_SURNAMES: dict[str, tuple[str, str]] = {
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
SUPPLEMENT: dict[str, tuple[str, ...]] = {"𠮷": ("ji",)}

MAX_GIVEN_READINGS = 2  # heteronyms kept per given-name character (plus the standard)
MAX_COMBOS = 24  # reading combinations indexed per name
MAX_FORMS = 32  # pronunciations tried per query
MAX_QUERY = 64  # characters of a query considered at all
