"""The land behind an area subsidy: 确权面积, 扣除面积 with its 扣除原因, and 补贴面积.

A Shanxi 发放清册 does not carry one "数量": 耕地地力保护补贴 is paid on the household's
确权 (contracted) land less what no longer qualifies — land taken for a road, returned to
forest, built on, left fallow. So an application of an area program keeps the three
figures, and the quantity paid on is always 补贴面积 = 确权面积 − 扣除面积:

* a deduction needs its reason (the village must be able to say why);
* a deduction is never above the 确权 land;
* a 补贴面积 written in the sheet must be exactly 确权 − 扣除, or the row is refused —
  a sheet whose own arithmetic is off is never paid on either figure.

All figures are exact Decimals with at most two places, like every quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from villageboard.domain.money import format_quantity
from villageboard.domain.validate import plain_decimal

__all__ = ["LAND_LABELS", "Land", "check_land"]

#: the land fields an application keeps (key -> the label a clerk reads)
LAND_LABELS = {"certified_area": "确权面积", "deducted_area": "扣除面积", "deduction_reason": "扣除原因"}

_TWO_PLACES = Decimal("0.01")
_TOO_BIG = Decimal(10) ** 9


@dataclass(frozen=True)
class Land:
    certified: Decimal  # 确权面积
    deducted: Decimal  # 扣除面积 (0 when nothing is deducted)
    reason: str  # 扣除原因 ("" when nothing is deducted)

    @property
    def subsidy(self) -> Decimal:
        """补贴面积: the quantity paid on."""
        return _tidy(self.certified - self.deducted)


def _tidy(q: Decimal) -> Decimal:
    return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.quantize(_TWO_PLACES).normalize()


def _area(raw: str, label: str, errors: list[tuple[str, str]], key: str, *, positive: bool) -> Decimal | None:
    q, why = plain_decimal(raw, label)
    if q is None:
        errors.append((key, why))
        return None
    if q < 0 or (positive and q == 0):
        errors.append((key, f"{label}必须大于0" if positive else f"{label}不能是负数"))
        return None
    if q >= _TOO_BIG:
        errors.append((key, f"{label}“{raw}”大得不合理"))
        return None
    if q != q.quantize(_TWO_PLACES):
        errors.append((key, f"{label}最多保留两位小数"))
        return None
    return _tidy(q)


def check_land(
    certified: str,
    deducted: str = "",
    reason: str = "",
    subsidy: str = "",
    unit: str = "亩",
    subsidy_label: str = "补贴面积",
) -> tuple[Land | None, list[tuple[str, str]]]:
    """The land of one row from the text of its cells, or the problems as
    (field key, Chinese reason) pairs. ``certified`` must be given; a blank ``deducted``
    means nothing is deducted; a blank ``subsidy`` is worked out, a given one must agree
    (``subsidy_label`` is the name its column has in the clerk's sheet)."""
    errors: list[tuple[str, str]] = []
    reason = " ".join(str(reason or "").split())
    if not str(certified or "").strip():
        errors.append(("certified_area", "填了扣除面积或扣除原因，就要同时填写确权面积"))
        return None, errors
    c = _area(certified, "确权面积", errors, "certified_area", positive=True)
    d = (
        _area(deducted, "扣除面积", errors, "deducted_area", positive=False)
        if str(deducted or "").strip()
        else Decimal(0)
    )
    if c is None or d is None:
        return None, errors
    if d > c:
        errors.append(("deducted_area", f"扣除面积{format_quantity(d)}{unit}超过了确权面积{format_quantity(c)}{unit}"))
        return None, errors
    if d > 0 and not reason:
        errors.append(("deduction_reason", "有扣除面积，必须写明扣除原因（如修路占地、退耕还林、建房、撂荒）"))
    if d == c:
        errors.append(("deducted_area", "确权面积全部扣除，补贴面积为0，这一户不用申报"))
    land = Land(c, d, reason if d > 0 else "")
    if str(subsidy or "").strip():
        s, why = plain_decimal(subsidy, subsidy_label)
        if s is None:
            errors.append(("subsidy_area", why))
        elif s != land.subsidy:
            errors.append(
                (
                    "subsidy_area",
                    f"{subsidy_label}{format_quantity(s)}{unit}与确权面积{format_quantity(c)}{unit}"
                    f"减扣除面积{format_quantity(d)}{unit}（应为{format_quantity(land.subsidy)}{unit}）不符",
                )
            )
    if errors:
        return None, errors
    return land, []
