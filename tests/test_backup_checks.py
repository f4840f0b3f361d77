"""A backup is checked before it is trusted; encrypted backups; file modes; leftovers
of interrupted work removed at the next start; the start-up check's cache after a
restore."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from villageboard.domain.errors import VBError
from villageboard.domain.models import Township
from villageboard.locations import backups_dir
from villageboard.services import Services
from villageboard.services.backup import last_backup_record, restore_into
from villageboard.services.township import init_township
from villageboard.store import storage
from villageboard.store.backup import verify_backup, write_backup
from villageboard.store.check import check_data_dir
from villageboard.store.leftovers import Hold

from .conftest import TODAY

REPO = Path(__file__).resolve().parent.parent


def _tree(root: Path) -> dict[str, str]:
    """Every file under root, dotfiles and work folders included (the lock aside)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath, name)
            rel = p.relative_to(root).as_posix()
            if rel != ".lock":
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _vb(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _refused(demo_dir: Path, backup: Path, match: str, **kw: str) -> None:
    before = _tree(demo_dir)
    with pytest.raises(VBError, match=match):
        restore_into(demo_dir, backup, **kw)
    assert _tree(demo_dir) == before
    assert check_data_dir(demo_dir) == []


@pytest.fixture
def other_township(tmp_path: Path) -> Path:
    t = Township(name="城关镇", county="古县", code="141099", hotline="0357-5555555", issuing_units=["城关镇人民政府"])
    root = tmp_path / "other"
    init_township(root, t).close()
    return write_backup(root, tmp_path / "other.zip").path


def test_another_townships_backup_is_refused_unless_confirmed(demo_dir: Path, other_township: Path) -> None:
    _refused(demo_dir, other_township, "城关镇.*不是本乡镇“岳阳镇”")
    _refused(demo_dir, other_township, "城关镇", replace_township="城关镇")  # must name the replaced one
    restore_into(demo_dir, other_township, replace_township="岳阳镇")
    with Services.open(demo_dir, today=TODAY) as svc:
        assert svc.township.name == "城关镇"


def test_cli_names_the_confirmation(demo_dir: Path, other_township: Path) -> None:
    before = _tree(demo_dir)
    r = _vb("restore", str(other_township), data=demo_dir)
    assert r.returncode == 1 and "--replace-township 岳阳镇" in r.stderr, r.stderr
    assert _tree(demo_dir) == before
    r = _vb("restore", str(other_township), "--replace-township", "岳阳镇", data=demo_dir)
    assert r.returncode == 0, r.stderr


def _with_extra(src: Path, dst: Path, name: str, data: bytes) -> Path:
    shutil.copy(src, dst)
    with zipfile.ZipFile(dst, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return dst


@pytest.mark.parametrize(
    "name",
    [
        "notes.txt",
        "../escape.json",
        "years/2026/x/../../../../etc.json",
        "journal/evil.sh",
        "templates/sub/x.j2",
        ".lock",
    ],
)
def test_files_a_data_dir_does_not_hold_are_refused(demo_dir: Path, tmp_path: Path, name: str) -> None:
    good = write_backup(demo_dir, tmp_path / "good.zip").path
    bad = _with_extra(good, tmp_path / "bad.zip", name, b"{}")
    _refused(demo_dir, bad, "不该有的文件")


@pytest.mark.parametrize(
    "body",
    [
        "{{ 'x'|center(200000000) }}",
        "{% for i in range(10) %}{{ i }}",
        "{{ ('ab'|replace('a', 'aaaaaaaaaa'))|replace('a', 'aaaaaaaaaa') * 100000 }}",
    ],
)
def test_a_backup_whose_templates_are_unsafe_or_broken_is_refused(demo_dir: Path, tmp_path: Path, body: str) -> None:
    good = write_backup(demo_dir, tmp_path / "good.zip").path
    bad = _with_extra(good, tmp_path / "bad.zip", "templates/notice_intro.j2", body.encode())
    _refused(demo_dir, bad, "notice_intro")


def test_a_backup_with_a_sound_template_restores_it(demo_dir: Path, tmp_path: Path) -> None:
    good = write_backup(demo_dir, tmp_path / "good.zip").path
    shipped = (REPO / "templates" / "notice_intro.j2").read_text(encoding="utf-8")
    edited = _with_extra(
        good,
        tmp_path / "edited.zip",
        "templates/notice_intro.j2",
        (shipped + "\n本公示由村务监督委员会监督。\n").encode(),
    )
    restore_into(demo_dir, edited)
    assert "村务监督委员会监督" in (demo_dir / "templates" / "notice_intro.j2").read_text(encoding="utf-8")
    assert check_data_dir(demo_dir) == []


def test_a_zip_bomb_is_refused(demo_dir: Path, tmp_path: Path) -> None:
    good = write_backup(demo_dir, tmp_path / "good.zip").path
    bomb = tmp_path / "bomb.zip"
    shutil.copy(good, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("years/2026/big.json", "w", force_zip64=True) as fh:
            block = b"\0" * (1 << 20)
            for _ in range(256):  # 256 MB packed into ~250 KB
                fh.write(block)
    assert bomb.stat().st_size < good.stat().st_size + 2 * 1024**2
    _refused(demo_dir, bomb, "压缩得不正常")


def test_a_backup_bigger_than_the_free_space_is_refused(demo_dir: Path, tmp_path: Path, monkeypatch) -> None:
    good = write_backup(demo_dir, tmp_path / "good.zip").path
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    _refused(demo_dir, good, "磁盘空间不够")


def test_a_damaged_backup_is_refused(demo_dir: Path, tmp_path: Path) -> None:
    good = write_backup(demo_dir, tmp_path / "good.zip").path
    raw = bytearray(good.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    _refused(demo_dir, bad, "损坏|不是有效|未通过")


def test_encrypted_backup_round_trips_and_a_wrong_passphrase_restores_nothing(demo_dir: Path, tmp_path: Path) -> None:
    import pyzipper

    (tmp_path / "usb").mkdir()
    info = write_backup(demo_dir, tmp_path / "usb", passphrase="正确 horse 7")  # a folder: gets a dated name
    assert info.encrypted and info.verified and info.path.parent == tmp_path / "usb"
    assert info.path.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(info.path) as zf:  # AES zip: names visible, contents not
        assert all(i.compress_type == 99 and i.flag_bits & 1 for i in zf.infolist())
        with pytest.raises(RuntimeError):
            zf.read("registry.json")
    with pyzipper.AESZipFile(info.path) as zf:  # a common AES-zip reader opens it
        zf.setpassword("正确 horse 7".encode())
        assert storage.unseal(Path("registry.json"), zf.read("registry.json"))["settings"]
    state = _tree(demo_dir)
    with Services.open(demo_dir, today=TODAY) as svc:
        with svc.store.begin("test.change") as tx:
            tx.insert("years/2026/objections.json", "objections", "objection", {"text": "x"})
    changed = _tree(demo_dir)
    _refused(demo_dir, info.path, "加了密码")
    _refused(demo_dir, info.path, "密码不对", passphrase="wrong")
    assert _tree(demo_dir) == changed
    assert verify_backup(info.path, "正确 horse 7") == []
    restore_into(demo_dir, info.path, passphrase="正确 horse 7")
    assert {k: v for k, v in _tree(demo_dir).items()} == state


def test_cli_backup_to_a_folder_with_a_passphrase_file(demo_dir: Path, tmp_path: Path) -> None:
    stick = tmp_path / "U盘"
    stick.mkdir()
    pw = tmp_path / "pw.txt"
    pw.write_text("口令123\n", "utf-8")
    r = _vb("backup", "--out", str(stick), "--passphrase-file", str(pw), data=demo_dir)
    assert r.returncode == 0, r.stderr
    made = list(stick.glob("villageboard-*.zip"))
    assert len(made) == 1 and "已检查完好" in r.stdout and "密码" in r.stdout
    r = _vb("restore", str(made[0]), data=demo_dir)  # no terminal to ask on
    assert r.returncode == 1 and "密码" in r.stderr
    r = _vb("restore", str(made[0]), "--passphrase-file", str(pw), data=demo_dir)
    assert r.returncode == 0, r.stderr
    r = _vb("backups", data=demo_dir)
    assert str(made[0]) in r.stdout or "U盘" in r.stdout


def test_plain_backup_is_0600_and_says_it_holds_personal_data(demo_dir: Path, tmp_path: Path) -> None:
    r = _vb("backup", "--out", str(tmp_path / "plain.zip"), data=demo_dir)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "plain.zip").stat().st_mode & 0o777 == 0o600
    assert "身份证号" in r.stdout and "个人信息" in r.stdout
    last = last_backup_record(demo_dir)
    assert last is not None and last.where == tmp_path / "plain.zip" and last.verified and not last.encrypted


def test_leftovers_of_interrupted_work_go_at_the_next_start(demo_dir: Path, tmp_path: Path) -> None:
    folder = backups_dir(demo_dir)
    folder.mkdir(exist_ok=True)
    stale = [
        demo_dir / ".backup-999999-dead",
        demo_dir / ".restore-999999-dead",
        Path(tempfile.gettempdir()) / "vb-verify-999999-dead",
    ]
    for p in stale:
        (p / "data").mkdir(parents=True)
        (p / "data" / "HEAD.json").write_bytes(b"x")
        (p / ".inuse").touch()
    zip_tmp = folder / ".villageboard-1.zip.999999.zip.vbtmp"
    zip_tmp.write_bytes(b"PK")
    live = demo_dir / ".backup-1-live"
    live.mkdir()
    hold = Hold(live)  # a backup another window is taking right now
    try:
        Services.open(demo_dir, today=TODAY).close()
        assert [p for p in stale + [zip_tmp] if p.exists()] == []
        assert live.is_dir()
    finally:
        hold.release()
    Services.open(demo_dir, today=TODAY).close()
    assert not live.exists()


def test_first_open_after_a_restore_hashes_no_more_than_a_normal_open(
    demo_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    backup = write_backup(demo_dir, tmp_path / "b.zip").path
    calls = []
    real = storage.check_sealed
    monkeypatch.setattr(storage, "check_sealed", lambda p, d, **kw: calls.append(p) or real(p, d, **kw))

    def opening_cost() -> int:
        calls.clear()
        Services.open(demo_dir, today=TODAY, run_open_hooks=False).close()
        return len(calls)

    opening_cost()
    normal = opening_cost()
    restore_into(demo_dir, backup)
    monkeypatch.setattr(storage, "check_sealed", lambda p, d, **kw: calls.append(p) or real(p, d, **kw))
    after = opening_cost()
    assert after <= normal, (after, normal)
    # and a file changed behind the program's back is still caught
    (demo_dir / "registry.json").write_bytes((demo_dir / "registry.json").read_bytes().replace(b"1", b"2", 1))
    with pytest.raises(VBError):
        Services.open(demo_dir, today=TODAY)


def test_a_backup_in_a_child_process_and_its_quick_check(demo_dir: Path, tmp_path: Path) -> None:
    Services.open(demo_dir, today=TODAY).close()  # the start-up record the quick check builds on
    info = write_backup(demo_dir, tmp_path / "child.zip", isolate=True, reason="测试")
    assert info.verified and info.path.is_file() and verify_backup(info.path) == []
    # damage the data behind the program's back: the snapshot's check refuses to call it good
    victim = demo_dir / "registry.json"
    raw = bytearray(victim.read_bytes())
    raw[-10] ^= 0x01
    victim.write_bytes(bytes(raw))
    with pytest.raises(VBError, match="registry.json"):
        write_backup(demo_dir, tmp_path / "bad.zip")
    with pytest.raises(VBError, match="registry.json"):
        write_backup(demo_dir, tmp_path / "bad2.zip", isolate=True)
    assert not (tmp_path / "bad.zip").exists() and not (tmp_path / "bad2.zip").exists()


def test_a_file_replaced_while_it_is_linked_is_linked_again(demo_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """link() of a file that a save renames over at that instant fails with ENOENT on
    Linux although the name exists: the snapshot must take the new file, not skip it."""
    real = os.link
    failed: list[str] = []

    def racy(src, dst, *a, **k):  # the first link of every file loses the race once
        if str(src) not in failed:
            failed.append(str(src))
            raise FileNotFoundError(src)
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "link", racy)
    info = write_backup(demo_dir, tmp_path / "raced.zip")
    monkeypatch.setattr(os, "link", real)
    assert info.verified and verify_backup(info.path) == []
    with zipfile.ZipFile(info.path) as zf:
        names = set(zf.namelist())
    assert {"HEAD.json", "registry.json", "counters.json"} <= names and len(failed) > 10
