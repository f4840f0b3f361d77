"""Saving text that holds a full personal number: the clerk is asked whether to keep it
masked (遮挡后保存) instead of being left with a refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from villageboard.services.private_entry import HINT, PrivateTextRefused
from villageboard.tui.dialogs import ConfirmDialog

T = TypeVar("T")

EXPLAIN = (
    "选“遮挡后保存”：身份证号只保留前6位和后4位，银行卡号只保留后4位，手机号全部遮挡，"
    "其余文字照原样保存。选“回去修改”：什么也不保存，可以自己删去号码。"
)


def save_or_mask(
    app: Any,
    fn: Callable[..., T],
    *args: Any,
    then: Callable[[T], None],
    close: Callable[[], None] | None = None,
    **kwargs: Any,
) -> bool:
    """Call the saving service ``fn`` as ``app.attempt`` does and pass its result to
    ``then``. When it was refused only because some text holds a full ID, card or phone
    number, offer 遮挡后保存 and, if chosen, save again with the numbers masked (then
    ``close`` the form it came from, if one is given).

    Returns True when the save went through at once: a form that submits with this
    closes on True and stays open, with what was typed, on False."""
    refused: list[PrivateTextRefused] = []

    def first(*a: Any, **k: Any) -> T | None:
        try:
            return fn(*a, **k)
        except PrivateTextRefused as exc:
            refused.append(exc)
            return None

    result = app.attempt(first, *args, **kwargs)
    if refused:
        message = str(refused[0]).replace(f"；{HINT}", "") + "\n\n" + EXPLAIN

        def answer(ok: bool | None) -> None:
            if ok:
                again = app.attempt(fn, *args, mask_private=True, **kwargs)
                if again is not None:
                    if close is not None:
                        close()
                    then(again)

        app.push_screen(
            ConfirmDialog("含有完整的证件号、卡号或手机号", message, confirm="遮挡后保存", cancel="回去修改"), answer
        )
        return False
    if result is not None:
        then(result)
        return True
    return False


def submit_or_mask(app: Any, fn: Callable[..., T], *args: Any, then: Callable[[T], None], **kwargs: Any) -> bool:
    """``save_or_mask`` for a form's ``submit_with``: the form on top stays open while
    the clerk is asked, and closes once the masked text is saved."""
    form = app.screen
    return save_or_mask(app, fn, *args, then=then, close=lambda: form.dismiss(None), **kwargs)
