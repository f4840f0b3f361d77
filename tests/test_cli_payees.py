"""The payee commands through the real command-line entry: `household change-head`
refused then done, `household show` and `lookup` under either head, and
`program edit --rate` re-pricing the unpaid rows."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from tests.conftest import TODAY
from tests.test_cli_households import add, card, make_id, ok, refused, stored, town  # noqa: F401
from villageboard.cli.main import main
from villageboard.domain.masking import mask_card, mask_id


def test_change_head_refused_then_done_and_found_under_both_heads(town: Path) -> None:  # noqa: F811
    old_id = make_id(1)
    hid = add(town, "张建国", old_id, "东沟村", "一组", "--card", card(1))
    ok(town, "application", "add", "--id", old_id, "--program", "GDDL", "--quantity", "10.5")
    other = make_id(2)
    add(town, "王小红", other)
    new_id = make_id(3, "19750101")
    base = ("household", "change-head", str(hid), "--name", "张秀英", "--id", new_id, "--card", card(3))
    with pytest.raises(SystemExit) as exit_, contextlib.redirect_stderr(io.StringIO()) as err:
        main(["--data-dir", str(town), *base, "--reason", "户主死亡"])
    assert exit_.value.code == 2 and "缺少必填参数：--date" in err.getvalue()
    assert "“变更原因”：不能为空" in refused(town, *base, "--reason", " ", "--date", "2026-11-01")
    assert "“变更日期”：2026-11-29晚于今天" in refused(town, *base, "--reason", "户主死亡", "--date", "2026-11-29")
    assert "已登记在" in refused(town, "household", "change-head", str(hid), "--name", "张秀英", "--id", other,
                                 "--reason", "户主死亡", "--date", "2026-11-01")
    assert stored(town)[hid].name == "张建国"
    out = ok(town, *base, "--reason", "户主死亡", "--date", "2026-11-01")
    assert f"已变更户主：户编号{hid} 东沟村一组 张秀英" in out
    assert f"原户主：张建国 {mask_id(old_id)}（2026-11-01 户主死亡）" in out
    assert "还没有发放的申报1条" in out and mask_card(card(3)) in out
    assert old_id not in out and new_id not in out
    h = stored(town)[hid]
    assert (h.name, h.id_number, h.card_account) == ("张秀英", new_id, card(3))
    assert h.former_heads[0]["id_number"] == old_id
    # show, under the old head's name and ID tail as well as the new one's
    for who in ("张秀英", "张建国", old_id[-4:], new_id[-4:]):
        shown = ok(town, "household", "show", who)
        assert f"户编号{hid} 张秀英" in shown and "原户主：张建国" in shown and "耕地地力保护补贴" in shown, who
    data = json.loads(ok(town, "household", "show", str(hid), "--json"))
    assert data["former_heads"] == [{"name": "张建国", "id_masked": mask_id(old_id), "reason": "户主死亡", "date": "2026-11-01"}]
    assert TODAY.isoformat() == "2026-11-28"
