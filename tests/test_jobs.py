"""Every slow job stops with the one Cancelled error, whose message says what was left
unwritten, and a cancelled job writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TODAY
from villageboard.services import ui_support
from villageboard.services.jobs import Cancelled


def test_a_cancelled_batch_print_writes_nothing_and_says_so(svc, tmp_path: Path) -> None:
    notices = [r.notice for r in svc.notices.rows(TODAY.year, "posted")][:2]
    assert notices
    out = tmp_path / "张贴"
    with pytest.raises(Cancelled) as caught:
        ui_support.render_many(svc, notices, out, ("pdf",), cancel=lambda: True)
    assert str(caught.value) == "已取消，没有生成公示文件。"
    assert not out.exists() or not any(out.iterdir())
