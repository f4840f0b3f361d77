"""Validators for what clerks type or import. Each returns a :class:`Check` holding the
normalised value, the errors (reject) and the warnings (keep, but tell the clerk)."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from stdnum.cn import ric

_FULLWIDTH = {
    ord(c): ord(c) - 0xFEE0
    for c in "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ．－"
}
_FULLWIDTH[0x3000] = 0x20  # ideographic space
_HAS_FULLWIDTH = re.compile("[" + "".join(sorted(map(chr, _FULLWIDTH))) + "]")
_SPACES = re.compile(r"[\s\u3000\u00a0\u200b]+")
_MIDDLE_DOTS = str.maketrans({"•": "·", "・": "·", "･": "·", "●": "·", "．": "·", "‧": "·"})


@dataclass
class Check:
    value: object = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def halfwidth(text: str) -> str:
    """Full-width digits and Latin letters to ASCII; ideographic space to a space."""
    if text.isascii() or not _HAS_FULLWIDTH.search(text):
        return text  # nothing to fold (translating a Chinese text costs far more)
    return text.translate(_FULLWIDTH)


def squash(text: object) -> str:
    """A cell's text with full-width characters folded and every space removed."""
    if text is None:
        return ""
    return _SPACES.sub("", halfwidth(str(text)))


# --- ID numbers -----------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def region_known(code6: str) -> bool:
    from stdnum import numdb

    info = {k: v for _p, props in numdb.get("cn/loc").info(code6) for k, v in props.items()}
    return "county" in info


_ID_AS_NUMBER = re.compile(r"\d+(\.\d+)?E\+?\d+")
_ID_TRUNCATED = re.compile(r"\d{15,18}\.0+")


def check_id_number(raw: object, today: dt.date | None = None) -> Check:
    """18-character resident ID: check digit and birth date via python-stdnum's pieces.

    stdnum's ``validate()`` is not used: its place check wants the region code to have
    existed in the holder's birth year, which real IDs issued after a county was
    renamed break. An unknown region is only a warning.
    """
    today = today or dt.date.today()
    text = squash(raw).upper()
    c = Check(value=text)
    if not text:
        c.errors.append("身份证号不能为空")
        return c
    if _ID_AS_NUMBER.fullmatch(text) or _ID_TRUNCATED.fullmatch(text):
        c.errors.append("身份证号被表格存成了数字（科学计数法或丢了末几位），请把该列设为“文本”后重新填写")
        return c
    if len(text) == 15 and text.isdigit():
        c.errors.append("这是15位旧身份证号，请填写18位身份证号")
        return c
    if len(text) != 18:
        c.errors.append(f"身份证号应为18位，现在是{len(text)}位")
        return c
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        c.errors.append("身份证号前17位应为数字，最后一位为数字或X")
        return c
    if ric.calc_check_digit(text) != text[17]:
        c.errors.append("身份证号校验位不对，请核对是否抄错")
        return c
    try:
        # ric.get_birth_date without its cleaning: the first 17 are digits already
        born = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except Exception:
        c.errors.append("身份证号中的出生日期不存在")
        return c
    if born > today:
        c.errors.append("身份证号中的出生日期晚于今天")
        return c
    if born.year < 1890:
        c.errors.append("身份证号中的出生日期过早，请核对")
        return c
    if not region_known(text[:6]):
        c.warnings.append(f"身份证号地区码 {text[:6]} 不在行政区划代码表中，请核对")
    return c


def birth_date_of(id_number: str) -> dt.date:
    return ric.get_birth_date(id_number)


# --- names, phones, cards ---------------------------------------------------------

_NAME_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f〇·]")
_NAME_CHARS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f〇·]+")


_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def strip_controls(text: str, keep: str = "") -> str:
    """``text`` without control and format characters (ESC, DEL, C1 codes, bidi
    overrides, zero-width and soft hyphens, line separators), except those in ``keep``.
    They are never data, and echoed to a terminal they can rewrite the screen."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in _CONTROL_CATEGORIES)


def check_name(raw: object, label: str = "姓名") -> Check:
    text = _SPACES.sub("", strip_controls(str(raw or ""))).translate(_MIDDLE_DOTS)
    c = Check(value=text)
    if not text:
        c.errors.append(f"{label}不能为空")
        return c
    n = len(text)
    if n < 2 or n > 20:
        c.errors.append(f"{label}应为2到20个字，现在是{n}个字")
        return c
    bad = [] if _NAME_CHARS.fullmatch(text) else sorted({ch for ch in text if not _NAME_CHAR.fullmatch(ch)})
    if bad:
        c.errors.append(f"{label}只能是汉字，少数民族姓名可用“·”分隔；不能含有：{''.join(bad)}")
        return c
    if text.startswith("·") or text.endswith("·") or "··" in text:
        c.errors.append(f"{label}中的“·”位置不对")
    return c


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?[2-9]\d{6,7}(-\d{1,5})?")


def check_phone(raw: object, required: bool = False) -> Check:
    text = squash(raw).replace("—", "-").replace("－", "-")
    text = text.removeprefix("+86").removeprefix("86-")
    c = Check(value=text)
    if not text:
        if required:
            c.errors.append("电话不能为空")
        return c
    if _MOBILE.fullmatch(text):
        return c
    if _LANDLINE.fullmatch(text):
        return c
    if text.isdigit() and len(text) == 11:
        c.errors.append("手机号码应以13到19开头")
    else:
        c.errors.append("电话应为11位手机号，或带区号的固定电话（如0357-1234567）")
    return c


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body`` + digit pass the Luhn check."""
    return next(d for d in "0123456789" if luhn_valid(body + d))


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit() or not digits:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_card(raw: object, required: bool = False) -> Check:
    text = squash(raw).replace("-", "")
    c = Check(value=text)
    if not text:
        if required:
            c.errors.append("一卡通账号不能为空")
        return c
    if re.fullmatch(r"\d+(\.\d+)?E\+?\d+", text.upper()):
        c.errors.append("账号被表格存成了数字（科学计数法），请把该列设为“文本”后重新填写")
        return c
    if not text.isdigit():
        c.errors.append("一卡通账号只能是数字")
        return c
    if not 12 <= len(text) <= 23:
        c.errors.append(f"一卡通账号位数不对（现在{len(text)}位）")
        return c
    if 16 <= len(text) <= 19 and not luhn_valid(text):
        c.warnings.append("一卡通账号校验未通过，请与存折或银行卡核对")
    return c


# --- quantities -------------------------------------------------------------------

_UNIT_SUFFIX = re.compile(r"(亩|头|只|台|户|套|株|公顷|平方米|立方米|个|口)$")
_PLAIN_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


def plain_decimal(raw: object, label: str = "数量") -> tuple[Decimal | None, str]:
    """(value, "") for a plain decimal such as ``3.5``, ``３.５`` or ``3.5亩``; (None, reason)
    otherwise. Thousands separators, commas, exponents, underscores and spaces between
    digits are refused, never reinterpreted: ``1,5`` is not 15 and ``1E2`` is not 100."""
    shown = str(raw if raw is not None else "").strip()
    text = _UNIT_SUFFIX.sub("", _SPACES.sub(" ", halfwidth(shown)).strip()).rstrip()
    if _SPACES.search(text):
        return None, f"{label}“{shown}”的数字中间有空格，请写成一个数，如3.5"
    if not text:
        return None, f"{label}不能为空"
    if _PLAIN_DECIMAL.fullmatch(text):
        return Decimal(text), ""
    if any(c in text for c in ",，、､﹐"):
        why = "含有逗号；不能用千位分隔符，小数点请用“.”，如1250或3.5"
    elif re.search(r"\d[eE][-+]?\d", text):
        why = "是科学计数法；请直接写出数字，如100"
    elif "_" in text:
        why = "含有下划线；请直接写出数字，如1000"
    elif text.count(".") > 1:
        why = "有不止一个小数点"
    else:
        why = "不是数字；应写成如3.5或3.5亩"
    return None, f"{label}“{shown}”{why}"


def check_quantity_of(
    raw: object, maximum: Decimal | None = None, unit: str = ""
) -> tuple[Decimal | None, tuple[str, ...]]:
    """:func:`check_quantity` as (value, errors), remembered for text cells: a sheet
    repeats the same few quantities thousands of times."""
    if type(raw) is str and (maximum is None or type(maximum) is Decimal) and type(unit) is str:
        return _quantity_memo(raw, maximum, str(maximum), unit)  # 200 and 200.0 read differently
    c = check_quantity(raw, maximum, unit)
    return cast(Decimal | None, c.value), tuple(c.errors)


@functools.lru_cache(maxsize=4096)
def _quantity_memo(raw: str, maximum: Decimal | None, _shown: str, unit: str) -> tuple[Decimal | None, tuple[str, ...]]:
    c = check_quantity(raw, maximum, unit)
    return cast(Decimal | None, c.value), tuple(c.errors)


def check_quantity(raw: object, maximum: Decimal | None = None, unit: str = "") -> Check:
    """A positive exact decimal with at most 2 places ('3.5亩' reads as 3.5)."""
    c = Check(value=None)
    q, why = plain_decimal(raw)
    if q is None:
        c.errors.append(why)
        return c
    if q <= 0:
        c.errors.append("数量必须大于0")
        return c
    if q >= 10**9:
        c.errors.append(f"数量“{raw}”大得不合理")
        return c
    if q != q.quantize(Decimal("0.01")):
        c.errors.append("数量最多保留两位小数")
        return c
    if maximum is not None and q > maximum:
        c.errors.append(f"数量{q}{unit}超过本项目上限{maximum}{unit}")
        return c
    c.value = q.quantize(Decimal("0.01")).normalize() if q != q.to_integral_value() else q.quantize(Decimal(1))
    return c


#: The dates this office works with: birth dates of the oldest residents to the end
#: of any plausible program year. Anything outside is a typing slip.
FIRST_DATE = dt.date(1890, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)


def date_range_problem(d: dt.date, label: str = "日期") -> str:
    """ "" for a date inside the working range, else the Chinese reason."""
    if FIRST_DATE <= d <= LAST_DATE:
        return ""
    return f"{label}“{d.isoformat()}”超出可用范围（{FIRST_DATE.year}年至{LAST_DATE.year}年），请核对"


def check_date(raw: object, label: str = "日期") -> Check:
    text = squash(raw).replace("/", "-").replace(".", "-")
    text = re.sub(r"(\d+)年(\d+)月(\d+)日?", r"\1-\2-\3", text)
    c = Check()
    try:
        y, m, d = (int(x) for x in text.split("-"))
        c.value = dt.date(y, m, d)
    except Exception:
        c.errors.append(f"{label}“{raw}”不是有效日期（如2026-11-03）")
        return c
    why = date_range_problem(c.value, label)
    if why:
        c.value = None
        c.errors.append(why)
    return c
