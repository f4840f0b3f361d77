"""The township's one masking policy, used by every public output.

It is fixed on purpose: two different masks over two documents can be combined to
recover a full number, so there is exactly one.
"""

from __future__ import annotations

POLICY_TEXT = (
    "姓名：完整显示（公示的本意）\n"
    "身份证号：只显示前6位和后4位，隐去出生日期（如 141025********123X）\n"
    "一卡通账号：只显示后4位\n"
    "电话号码：从不公开\n"
    "住址：只到村、组"
)
POLICY_REASON = "遮挡规则全乡镇只有一套且不能修改：如果两份公示用不同的遮挡方式，把两份放在一起就能拼出完整号码。"


def mask_id(id_number: str) -> str:
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_card(card: str) -> str:
    if not card:
        return ""
    return "****" + card[-4:]


def tail(text: str, n: int = 4) -> str:
    return text[-n:] if text else ""


_FW_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _mask_runs(text: str, run: str, separators: str, shortest: int, keep: int) -> str:
    """Mask each match of ``run`` (full-width digits read as digits) that holds at
    least ``shortest`` characters once ``separators`` are dropped, down to its last
    ``keep`` characters."""
    import re

    def repl(m: re.Match[str]) -> str:
        chars = re.sub(separators, "", m.group())
        if len(chars) < shortest:
            return m.group()
        return "*" * (len(chars) - keep) + chars[-keep:]

    return re.sub(run, repl, text.translate(_FW_DIGITS))


def mask_digit_runs(text: str, keep: int = 4) -> str:
    """Mask any run of 5 or more digits (full-width, or split by spaces or dashes) down
    to its last ``keep`` digits. For free text shown outside a gated poster (names and
    remarks on the phone desk): a number smuggled into a name must not be read out,
    however it is written (Chinese digits, dots, invisible marks: see private_numbers)."""
    from villageboard.domain.private_numbers import mask_numbers

    return mask_numbers(_mask_runs(text, r"\d(?:[ \-]?\d)+", r"\D", 5, keep))


def mask_long_numbers(text: str, keep: int = 4) -> str:
    """Mask every number long enough to be a phone, ID or card number (11 or more
    digits, possibly split by spaces, an ID's final X included) down to its last
    ``keep`` characters. Dates and short figures in a note stay as written
    (2026-11-20, 3.5亩). For free text kept outside the data dir."""
    from villageboard.domain.private_numbers import mask_numbers

    return mask_numbers(_mask_runs(text, r"\d(?: ?\d)+(?:[Xx](?![A-Za-z]))?", r"\s", 11, keep))
