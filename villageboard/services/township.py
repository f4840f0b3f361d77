"""Setting up a township: `villageboard init` and the settings screen."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from villageboard.domain.errors import Problem, ValidationFailed
from villageboard.domain.models import Township
from villageboard.domain.validate import check_phone, plain_decimal, strip_controls
from villageboard.services.context import SETTINGS_TABLE, Services
from villageboard.store.store import REGISTRY, now_iso

#: The risk-flag thresholds a township sets: key -> (label, lowest, highest).
THRESHOLDS: dict[str, tuple[str, Decimal, Decimal]] = {
    "growth_limit": ("比上年增加提示线", Decimal("1.01"), Decimal(10)),
    "outlier_factor": ("数量异常提示线", Decimal("1.01"), Decimal(100)),
    "planted_limit": ("种粮超耕地提示线", Decimal(1), Decimal(10)),
}


def township_of(data: dict[str, Any]) -> tuple[Township, list[Problem]]:
    """A township from stored or typed values; the thresholds may be typed text."""
    data = dict(data)
    problems = []
    for key, (label, _lo, _hi) in THRESHOLDS.items():
        value = data.get(key)
        if value is None or isinstance(value, Decimal | int):
            continue
        number, why = plain_decimal(value, label)
        if number is None:
            problems.append(Problem(why, label))
            data.pop(key)
        else:
            data[key] = number
    return Township.from_dict(data), problems


def validate_township(t: Township) -> list[Problem]:
    problems = []
    for key, (label, lo, hi) in THRESHOLDS.items():
        value = Decimal(getattr(t, key))
        if not lo <= value <= hi or value != value.quantize(Decimal("0.01")):
            problems.append(Problem(f"{label}应在{lo}到{hi}倍之间，最多两位小数", label))
    if len(t.name.strip()) < 2:
        problems.append(Problem("乡镇名称至少2个字", "乡镇名称"))
    if len(t.county.strip()) < 2:
        problems.append(Problem("县名称至少2个字", "县"))
    if not re.fullmatch(r"\d{6}", t.code or ""):
        problems.append(Problem("乡镇代码应为6位数字（如县的行政区划代码141025）", "代码"))
    for label, phone in (("咨询电话", t.hotline), ("监督电话", t.supervision_hotline)):
        if phone:
            c = check_phone(phone)
            problems += [Problem(e, label) for e in c.errors]
    if not t.hotline:
        problems.append(Problem("请填写咨询电话，公示上要印", "咨询电话"))
    if t.portal_url:
        why = portal_problem(t.portal_url)
        if why:
            problems.append(Problem(why, "核验网址"))
    return problems


def portal_problem(url: str) -> str:
    """ "" for an address a phone can open from the QR code: http(s), a host, no spaces."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed [IPv6] bracket and the like
        host = None
    if host is None or parts.scheme.lower() not in ("http", "https"):
        return "核验网址须以 http:// 或 https:// 开头，后接网站地址（如 https://www.guxian.gov.cn/hy）"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "核验网址中不能有空格或控制字符"
    if len(url) > 200:
        return "核验网址太长（最多200个字符），二维码会印不清"
    return ""


def clean_township(t: Township) -> Township:
    """Control characters never enter: these fields are printed on every poster."""
    for key, value in vars(t).items():
        if isinstance(value, str):
            setattr(t, key, strip_controls(value).strip() if key == "portal_url" else strip_controls(value))
        elif key == "issuing_units":
            setattr(t, key, [strip_controls(str(u)) for u in value])
    return t


def init_township(
    data_dir: Path,
    township: Township,
    operator: str | None = None,
) -> Services:
    """Create a new data dir for a real township, with an empty registry."""
    township = clean_township(Township.from_dict(township.to_dict()))
    problems = validate_township(township)
    if problems:
        raise ValidationFailed(problems, "乡镇信息有误，没有建立：")
    svc = Services.create(data_dir, operator=operator)
    t = Township.from_dict(township.to_dict())
    t.tag_key = secrets.token_hex(32)
    t.created = now_iso()
    if not t.issuing_units:
        t.issuing_units = [f"{t.name}人民政府"]
    with svc.store.begin("乡镇.建立") as tx:
        tx.put(REGISTRY, SETTINGS_TABLE, 1, t.to_dict())
    return svc


def update_settings(svc: Services, **fields: object) -> Township:
    """Change township settings (never the tag key)."""
    current = svc.township
    data = current.to_dict()
    for k, v in fields.items():
        if k in ("tag_key", "created"):
            continue
        if k in data:
            data[k] = v
    t, problems = township_of(data)
    t = clean_township(t)
    problems += validate_township(t)
    if problems:
        raise ValidationFailed(problems, "乡镇信息有误，没有保存：")
    with svc.store.begin("乡镇.修改设置") as tx:
        tx.put(REGISTRY, SETTINGS_TABLE, 1, t.to_dict())
    return t
