"""The privacy gate where text enters (DESIGN.md §9 "Privacy, tightened").

Free text that can reach a poster (names, remarks, objection text, corrections) is
scanned as it is imported or typed, with the same rules the posters use. A full ID,
card or phone number is refused with the row and column (or field) it is in; the clerk
can instead choose to keep a masked form (``mask=True``: the CLI's ``--mask-private``,
the TUI's 遮挡后保存). A name is never masked: a name holding a number is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from villageboard.domain.errors import Problem, ValidationFailed
from villageboard.domain.private_numbers import mask_numbers, scan_text

HINT = "请删去号码，或选择遮挡后保存（命令行加 --mask-private）"
NAME_FIELDS = frozenset({"name"})


@dataclass(frozen=True)
class PrivateProblem(Problem):
    """A refusal because the text holds a full personal number (masking would fix it)."""


class PrivateTextRefused(ValidationFailed):
    """Nothing was saved only because some text holds a full personal number; the same
    call with masking on would succeed (as far as the numbers go)."""


def screen(
    values: dict[str, Any], fields: Mapping[str, str], row: int | None = None, mask: bool = False
) -> list[Problem]:
    """Check the free-text ``fields`` (key → label) of one record.

    Refused text gives a :class:`PrivateProblem` each; with ``mask`` the value is
    replaced in ``values`` by its masked form and a warning says so."""
    problems: list[Problem] = []
    for key, label in fields.items():
        text = values.get(key)
        if not isinstance(text, str) or not text:
            continue
        found = scan_text(text)
        if not found:
            continue
        what = "、".join(found)
        if key in NAME_FIELDS:
            problems.append(Problem(f"含有{what}；{label}里不能写号码", label, row))
        elif mask:
            values[key] = mask_numbers(text)
            problems.append(Problem(f"含有{what}，已遮挡后保存", label, row, warning=True))
        else:
            problems.append(PrivateProblem(f"含有{what}，公示中不能出现；{HINT}", label, row))
    return problems


def check_text(text: str, label: str, mask: bool = False, row: int | None = None) -> str:
    """One free-text value: returned as it is, or masked (``mask``), or refused with
    :class:`PrivateTextRefused` naming ``label``."""
    values = {"text": text}
    problems = [p for p in screen(values, {"text": label}, row, mask) if not p.warning]
    if problems:
        raise refusal(problems, "没有保存：")
    return values["text"]


def refusal(problems: list[Problem], summary: str) -> ValidationFailed:
    """The error for ``problems``: :class:`PrivateTextRefused` when every one of them is
    a personal number that masking would fix."""
    errors = [p for p in problems if not p.warning]
    if errors and all(isinstance(p, PrivateProblem) for p in errors):
        return PrivateTextRefused(errors, summary)
    return ValidationFailed(errors, summary)
