"""What the money commands share: printing lines and JSON, the year a command means,
and reading a rate, an application status or a village the way a clerk writes them."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import Any

from villageboard.domain.errors import VBError
from villageboard.domain.models import APP_STATUS
from villageboard.domain.money import parse_rate


def say(lines: list[str] | str) -> None:
    for line in [lines] if isinstance(lines, str) else lines:
        print(line)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def year_of(args: argparse.Namespace, svc: Any) -> int:
    year: int = args.year or svc.today().year
    return year


def parse_rate_fen(text: str) -> Decimal:
    try:
        return parse_rate(text)
    except Exception:
        raise VBError(f"“补贴标准”：“{text}”不对，写每单位多少元，最多4位小数，如 103.68 或 103.6825") from None


def parse_status(text: str) -> str:
    t = text.strip()
    for code, label in APP_STATUS.items():
        if t in (code, label):
            return code
    raise VBError(f"状态“{text}”不对，只能是：{'、'.join(APP_STATUS.values())}")


def village_id_of(svc: Any, name: str | None) -> int | None:
    return svc.registry.require_village(name).id if name else None
