"""Where a backup may go: anywhere but inside the data folder it protects (a folder
beside it whose name merely starts the same, such as the backups folder, is fine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from villageboard.domain.errors import VBError
from villageboard.locations import backups_dir
from villageboard.services.backup import out_problem

NAMES = st.lists(
    st.text(alphabet="ab数据-_.1", min_size=1, max_size=6).filter(lambda s: s not in (".", "..")),
    min_size=0,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(inside=NAMES, suffix=st.text(alphabet="-_x备份1", min_size=1, max_size=5), rest=NAMES)
def test_inside_the_data_folder_is_refused_and_beside_it_is_not(
    tmp_path_factory: pytest.TempPathFactory, inside: list[str], suffix: str, rest: list[str]
) -> None:
    root = tmp_path_factory.getbasetemp() / "t" / "data"
    assert "数据文件夹" in out_problem(root, root.joinpath(*inside))
    beside = root.with_name(root.name + suffix).joinpath(*rest)
    assert out_problem(root, beside) == ""
    assert out_problem(root, None) == ""


def test_the_service_refuses_a_backup_into_the_data_folder(svc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(VBError, match="数据文件夹"):
        svc.backups.make(out=svc.root / "attachments", isolate=False)
    assert not list(svc.root.rglob("villageboard-*.zip"))
    stick = Path(backups_dir(svc.root).parent / "stick")
    stick.mkdir()
    info = svc.backups.make(out=stick, isolate=False)
    assert info.path.parent == stick and svc.backups.last().where == info.path


@pytest.mark.parametrize("isolate", [False, True])
def test_a_backup_reports_its_progress_from_the_child_process_too(svc, tmp_path: Path, isolate: bool) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int, str]] = []
    info = svc.backups.make(
        out=tmp_path / "b.zip",
        passphrase="密码 7",
        isolate=isolate,
        progress=lambda done, total, what: seen.append((done, total, what)),
    )
    assert info.verified and info.encrypted and info.path.exists()
    packing = [(d, t) for d, t, what in seen if what == "正在打包"]
    assert packing and packing[0][0] == 0 and all(t == packing[0][1] > 0 for _d, t in packing)
    assert [d for d, _t in packing] == sorted(d for d, _t in packing)
    assert seen[0][2] == "正在做数据快照" and seen[-1][:2] == (packing[0][1], packing[0][1])
