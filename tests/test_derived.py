"""Figures kept between starts (store/derived.py): computed once, used again while
their files are unchanged, made again after any save, never written by a read-only
process, and always equal to what a fresh computation gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import TODAY
from villageboard.locations import derived_cache_dir
from villageboard.services import Services
from villageboard.services.dashboard import year_counts
from villageboard.services.lookup.index import LookupIndex
from villageboard.services.paths import applications_dir
from villageboard.store import fingerprint


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files here are written a moment before they are read; the racy-stat rule (its
    own test below) would keep nothing. Off unless a test turns it on; the same for the
    start-up check's own rule (tested in test_store.py)."""
    monkeypatch.setattr(fingerprint, "RACY_NS", 0)


def _open(root: Path, readonly: bool = False) -> Services:
    return Services.open(root, today=TODAY, operator="测试", readonly=readonly)


def _an_editable_application(svc: Services):
    return next(
        a for a in svc.applications.iter(TODAY.year) if not a.frozen_by and not a.void and a.status != "rejected"
    )


def test_value_is_kept_between_opens_until_a_source_file_changes(demo_dir: Path) -> None:
    calls: list[int] = []

    def compute(svc: Services) -> dict[str, int]:
        calls.append(1)
        return {"n": sum(1 for _ in svc.applications.iter(TODAY.year))}

    sources = [applications_dir(TODAY.year)]
    with _open(demo_dir) as svc:
        first = svc.store.derived.get("probe", sources, lambda: compute(svc))
    with _open(demo_dir) as svc:
        assert svc.store.derived.get("probe", sources, lambda: compute(svc)) == first
        assert len(calls) == 1  # the second open read it back
        a = _an_editable_application(svc)
        svc.applications.edit(a.id, remark="改一下")
        assert svc.store.derived.get("probe", sources, lambda: compute(svc)) == first
        assert len(calls) == 2  # the save changed a source file: computed again
        # voiding one changes the figure itself
        svc.applications.void(a.id, "测试作废")
        assert svc.store.derived.get("probe", sources, lambda: compute(svc)) == {"n": first["n"] - 1}
        assert len(calls) == 3


def test_read_only_process_never_stores_and_damage_is_a_miss(demo_dir: Path) -> None:
    folder = derived_cache_dir(demo_dir)
    with _open(demo_dir, readonly=True) as svc:
        assert svc.store.derived.get("probe", ["registry.json"], lambda: 1) == 1
    assert not (folder / "probe.json").exists()
    with _open(demo_dir) as svc:
        svc.store.derived.get("probe", ["registry.json"], lambda: 1)
    stored = folder / "probe.json"
    raw = bytearray(stored.read_bytes())
    raw[-3] ^= 0x01
    stored.write_bytes(bytes(raw))
    with _open(demo_dir) as svc:
        assert svc.store.derived.get("probe", ["registry.json"], lambda: 2) == 2


def test_another_township_at_the_same_path_does_not_reuse_values(demo_dir: Path, tmp_path: Path) -> None:
    import shutil

    with _open(demo_dir) as svc:
        assert svc.store.derived.get("probe", ["registry.json"], lambda: "old") == "old"
    # a different township (another creation stamp) copied over the same folder
    from villageboard.services.demo import build_demo

    other = tmp_path / "other"
    build_demo(other, households=20, villages=1, seed=3, today=TODAY).close()
    shutil.rmtree(demo_dir)
    shutil.copytree(other, demo_dir)
    with _open(demo_dir) as svc:
        assert svc.store.derived.get("probe", ["registry.json"], lambda: "new") == "new"


def test_each_file_is_computed_again_only_when_it_changed(demo_dir: Path) -> None:
    seen: list[str] = []

    def one(rel: str) -> int:
        seen.append(rel)
        return len(rel)

    with _open(demo_dir) as svc:
        files = svc.applications.files(TODAY.year)
        assert len(files) > 3
        svc.store.derived.each("probe-each", files, one)
        assert sorted(seen) == sorted(files)
    seen.clear()
    with _open(demo_dir) as svc:
        a = _an_editable_application(svc)
        svc.applications.edit(a.id, remark="只改一个文件")
        got = svc.store.derived.each("probe-each", files, one)
        assert got == {rel: len(rel) for rel in files}
        assert len(seen) == 1 and seen[0].endswith(f"/{a.village_id:04d}.json")


def test_marshal_codec_keeps_tuples_int_keys_and_shared_strings(demo_dir: Path) -> None:
    import gc
    import sys

    program = sys.intern("GDDL-测试")
    value = {7: {"a": (program, 1, ("N1", "N2"), True)}, 8: {"b": (program, 2, (), False)}}
    calls: list[int] = []

    def compute():
        calls.append(1)
        return value

    with _open(demo_dir) as svc:
        svc.store.derived.get("probe-m", ["registry.json"], compute, remember=False, codec="marshal")
    with _open(demo_dir) as svc:
        got = svc.store.derived.get("probe-m", ["registry.json"], compute, remember=False, codec="marshal")
        assert calls == [1] and got == value and got is not value
        assert got[7]["a"][0] is program  # the same interned object: held once however often it occurs
        gc.collect()
        assert not gc.is_tracked(got[8]["b"])  # plain tuples: the collector stops walking them
        with pytest.raises(ValueError):
            svc.store.derived.get("probe-x", ["registry.json"], compute, codec="pickle")
    old_form = derived_cache_dir(demo_dir) / "probe-m.json"  # as an earlier version kept it
    old_form.write_bytes(b"left by an earlier version")
    with _open(demo_dir) as svc:
        svc.store.derived.get("probe-m", ["registry.json", "villageboard.json"], compute, codec="marshal")
    assert not old_form.exists()
    calls.pop()
    stored = derived_cache_dir(demo_dir) / "probe-m.bin"
    raw = bytearray(stored.read_bytes())
    raw[-5] ^= 0x01
    stored.write_bytes(bytes(raw))
    with _open(demo_dir) as svc:  # damaged: a miss, computed again
        assert svc.store.derived.get("probe-m", ["registry.json"], compute, codec="marshal") == value
        assert calls == [1, 1]


def _computed(svc: Services, prefix: str) -> list[tuple[str, str]]:
    """What this open computed (not read back from what was kept), of the values whose
    name starts with ``prefix``."""
    return sorted(k for k, n in svc.store.derived.computed.items() for _ in range(n) if k[0].startswith(prefix))


def test_phone_history_reads_one_kept_map_per_year_and_after_a_save_one_file(demo_dir: Path) -> None:
    with _open(demo_dir) as svc:
        svc.phone.load_all()
        first = _history(svc)
        assert _computed(svc, f"phone-history-{TODAY.year}") == [(f"phone-history-{TODAY.year}", "")]
    with _open(demo_dir) as svc:
        svc.phone.load_all()
        assert _computed(svc, "phone-") == []  # nothing changed: each year is one kept map
        assert _history(svc) == first
        a = next(
            x
            for x in svc.applications.iter(TODAY.year)
            if not x.frozen_by
            and not x.void
            and x.status != "rejected"
            and x.payout_status not in ("issued", "paid")
            and str(x.quantity) != "1"
        )
        if a.certified_area is None:
            svc.applications.edit(a.id, quantity="1")
        else:  # an area row is paid on its land
            svc.applications.edit(a.id, land={"certified_area": "1", "deducted_area": "0"})
    with _open(demo_dir) as svc:
        svc.phone.load_all()
        assert _computed(svc, "phone-history-") == [(f"phone-history-{TODAY.year}", "")]
        files = _computed(svc, "phone-year-")
        assert len(files) == 1 and files[0][1].endswith(f"/{a.village_id:04d}.json")
        rec = svc.phone.records(a.household_id)[a.id]
        assert rec.quantity == "1" and rec.void is False


def test_year_counts_and_flag_counts_match_a_fresh_count_after_saves(demo_dir: Path) -> None:
    import shutil

    with _open(demo_dir) as svc:
        counts, flags = year_counts(svc, TODAY.year), svc.flags.counts(TODAY.year)
        flagged = next(
            f
            for f in svc.flags.flags(TODAY.year, open_only=True)
            if not svc.applications.get(f.app_id).frozen_by
            and svc.applications.get(f.app_id).payout_status not in ("issued", "paid")
        )
        svc.applications.void(flagged.app_id, "重复申报")
        assert svc.flags.counts_if_known(TODAY.year) is None
    with _open(demo_dir) as svc:
        kept_counts, kept_flags = year_counts(svc, TODAY.year), svc.flags.counts(TODAY.year)
    assert kept_counts["applications"] == counts["applications"] - 1
    assert sum(kept_flags.values()) < sum(flags.values())
    shutil.rmtree(derived_cache_dir(demo_dir))  # nothing kept: everything made afresh
    with _open(demo_dir) as svc:
        assert year_counts(svc, TODAY.year) == kept_counts
        assert svc.flags.counts(TODAY.year) == kept_flags


def test_flag_counts_unknown_after_a_change_until_counted(demo_dir: Path) -> None:
    with _open(demo_dir) as svc:
        svc.flags.counts(TODAY.year)
        assert svc.flags.counts_if_known(TODAY.year) is not None
        a = _an_editable_application(svc)
        svc.applications.edit(a.id, remark="改")
        assert svc.flags.counts_if_known(TODAY.year) is None
        svc.flags.counts(TODAY.year)
        assert svc.flags.counts_if_known(TODAY.year) is not None


def _history(svc: Services) -> dict[int, dict[str, tuple]]:
    """Every record the phone desk holds, by household and application."""
    out = {}
    for h in svc.registry.households(include_void=True):
        recs = svc.phone.records(h.id)
        if recs:
            out[h.id] = {k: tuple(r) for k, r in recs.items()}
    assert sum(len(v) for v in out.values()) == svc.phone.record_count()  # no record left out
    return out


def _notices(svc: Services) -> dict[str, tuple]:
    return {c: (n.version, n.kind, n.start, n.end, n.state) for c, n in svc.phone.notices().items()}


def test_phone_desk_from_kept_values_equals_a_fresh_load(demo_dir: Path, monkeypatch) -> None:
    with _open(demo_dir) as svc:
        svc.phone.load_all()  # computes and keeps every year and the index
        first = _history(svc)
        notices = _notices(svc)
        a = _an_editable_application(svc)
        svc.applications.edit(a.id, remark="电话测试")
        h = svc.registry.household(a.household_id)
        svc.registry.update_household(h.id, {"phone": "13912345678"})
    with _open(demo_dir) as svc:
        svc.phone.load_all()
        kept = _history(svc)
        assert kept[a.household_id][a.id] == first[a.household_id][a.id]  # remark is not kept
        assert kept == first
        assert _notices(svc) == notices
        # the index came back from its kept state after the registry changed: rebuilt
        assert [x.household_id for x in svc.phone.index.search("5678")] == [
            x.household_id for x in LookupIndex(svc.phone.index).search("5678")
        ]
        assert a.household_id in {x.household_id for x in svc.phone.index.search("5678")}
    add_all = LookupIndex.add_all
    built: list[int] = []

    def counting(self, entries):
        entries = list(entries)
        built.append(len(entries))
        return add_all(self, entries)

    monkeypatch.setattr(LookupIndex, "add_all", counting)
    with _open(demo_dir) as svc:  # nothing changed: index restored from its kept state
        svc.phone.load_all()
        assert max(built) == 0  # no household was indexed afresh
        fresh_index = LookupIndex(svc.phone.index)
        restored = svc.phone.index
        assert restored is not fresh_index
        assert restored.export_state() == fresh_index.export_state()
        fresh = LookupIndex(svc.phone.index)
        names = sorted({e.name for e in fresh})[:40]
        for q in [*names, "zhang", "wang f", "zw", "5678", "一组"]:
            assert svc.phone.index.search(q) == fresh.search(q), q
        assert _history(svc) == kept


def test_index_state_round_trip_and_mismatch() -> None:
    import marshal

    from villageboard.services.lookup.keys import Entry

    entries = [
        Entry(1, "张伟", "141025199001011234", "13800001111", "东沟村", "一组"),
        Entry(2, "单雄", "141025198502023456", "", "西沟村", "二组"),
        Entry(3, "欧阳·𠮷", "14102519700303789X", "13900002222", "东沟村", "三组"),
    ]
    built = LookupIndex(entries)
    state = built.export_state()
    back = LookupIndex.from_state(entries, state)
    assert back is not None
    for q in ["张伟", "zhangwei", "zw", "shan", "dan xiong", "1234", "2222", "东沟 张", "789x", "𠮷"]:
        assert back.search(q) == built.search(q), q
    back.remove(1)
    back.add(Entry(4, "李娜", "141025199104041111", "", "东沟村", "一组"))
    assert [h.household_id for h in back.search("李娜")] == [4]
    assert back.search("张伟") == [] or all(h.household_id != 1 for h in back.search("张伟"))
    again = LookupIndex.from_state(entries, state)  # what back changed was its own copy
    assert again is not None and again.search("张伟") == built.search("张伟")
    stored = marshal.loads(marshal.dumps(state, 4))  # as the phone desk keeps it
    owned = LookupIndex.from_state(entries, stored, owned=True)
    assert owned is not None
    for q in ["张伟", "zw", "dan xiong", "1234", "东沟 张", "789x"]:
        assert owned.search(q) == built.search(q), q
    renamed = [Entry(1, "王芳", "141025199001011234", "13800001111", "东沟村", "一组"), *entries[1:]]
    assert LookupIndex.from_state(renamed, state) is None
    assert LookupIndex.from_state(entries[:2], state) is None
    for change in (
        {"phone": "13800009999"},
        {"id_number": "141025199001015678"},
        {"village": "西沟村"},
        {"group": "九组"},
    ):
        moved = [Entry(**{**{f: getattr(entries[0], f) for f in Entry.__slots__}, **change}), *entries[1:]]
        assert LookupIndex.from_state(moved, state) is None, change


def test_home_extras_leaves_unknown_flag_counts_for_later(demo_dir: Path) -> None:
    from villageboard.services.ui_support import home_extras

    with _open(demo_dir) as svc:
        first = home_extras(svc, TODAY.year, flags=False)
        assert first.flags_pending
        assert "风险提示正在统计…" in [d.text for d in first.due]
        full = home_extras(svc, TODAY.year)
        assert not full.flags_pending and full.open_flags
        again = home_extras(svc, TODAY.year, flags=False)  # now known: no waiting
        assert not again.flags_pending and again.open_flags == full.open_flags
        assert [d.text for d in again.due] == [d.text for d in full.due]


def test_kept_values_hold_no_full_id_card_or_phone_number(demo_dir: Path) -> None:
    """The cache folder sits outside the data dir and outside the backups: it keeps
    tails and figures, never a whole personal number."""
    with _open(demo_dir) as svc:
        svc.phone.load_all()
        home_counts = year_counts(svc, TODAY.year), svc.flags.counts(TODAY.year)
        assert home_counts
        secrets = set()
        for h in svc.registry.households(include_void=True):
            secrets |= {x for x in (h.id_number, h.phone, h.card_account) if x and len(x) >= 11}
    folder = derived_cache_dir(demo_dir)
    kept = b"".join(p.read_bytes() for p in folder.iterdir())
    assert {p.name for p in folder.iterdir()} >= {"phone-index.bin", "phone-history-2026.bin", "flag-rows-2026.json"}
    if os.name == "posix":  # readable by this user only
        assert folder.stat().st_mode & 0o077 == 0
        assert all(p.stat().st_mode & 0o077 == 0 for p in folder.iterdir())
    assert len(kept) > 10_000
    assert len(secrets) > 100
    found = [s for s in secrets if s.encode() in kept]
    assert found == []


def test_same_folder_by_relative_and_absolute_path_shares_what_is_kept(demo_dir: Path, monkeypatch) -> None:
    """`--data-dir data` and `--data-dir /abs/data` are one folder: neither the start-up
    check nor the kept values start over when the spelling changes."""
    from villageboard.store import verify

    with _open(demo_dir.resolve()) as svc:
        svc.store.derived.get("probe", ["registry.json"], lambda: "kept")
    rehashed: list[bool] = []
    save = verify.Verifier.save

    def spy(self) -> None:
        rehashed.append(self.dirty)  # dirty: some file had to be checked again
        save(self)

    monkeypatch.setattr(verify.Verifier, "save", spy)
    monkeypatch.chdir(demo_dir.parent)
    with _open(Path(demo_dir.name)) as svc:
        assert svc.store.derived.get("probe", ["registry.json"], lambda: "made again") == "kept"
    assert rehashed[0] is False


def test_scan_reads_what_table_reads_without_filling_the_file_cache(demo_dir: Path) -> None:
    from villageboard.services.applications import APPLICATIONS

    with _open(demo_dir) as svc:
        store = svc.store
        files = svc.applications.files(TODAY.year - 1)
        assert files
        for rel in files:
            store.forget(rel)
        held = store.cached_files()
        scanned = {rel: store.scan(rel, APPLICATIONS) for rel in files}
        assert store.cached_files() == held  # nothing kept
        assert all(scanned[rel] == store.table(rel, APPLICATIONS) for rel in files)
        assert store.scan("years/1999/applications/X/0001.json", APPLICATIONS) == {}


def test_a_save_while_computing_keeps_nothing(demo_dir: Path) -> None:
    """The value was computed while a save committed: it may mix old and new, so it is
    returned but not kept, and the next call computes again."""
    with _open(demo_dir) as svc:
        a = _an_editable_application(svc)
        calls: list[int] = []

        def compute_with_a_save() -> int:
            calls.append(1)
            if len(calls) == 1:
                svc.applications.edit(a.id, remark="计算当中保存")
            return len(calls)

        sources = [applications_dir(TODAY.year)]
        assert svc.store.derived.get("probe", sources, compute_with_a_save) == 1
        assert svc.store.derived.get("probe", sources, compute_with_a_save) == 2
        assert svc.store.derived.get("probe", sources, compute_with_a_save) == 2  # kept now
        seen: list[str] = []

        def one(rel: str) -> int:
            seen.append(rel)
            if len(seen) == 1:
                svc.applications.edit(a.id, remark="逐个文件时保存")
            return 1

        files = svc.applications.files(TODAY.year)
        svc.store.derived.each("probe-each", files, one)
        seen.clear()
        svc.store.derived.each("probe-each", files, one)
        assert len(seen) == len(files)  # the first pass kept nothing


def test_files_written_moments_ago_are_not_trusted_by_their_stat(demo_dir: Path, monkeypatch) -> None:
    import time

    monkeypatch.setattr(fingerprint, "RACY_NS", 3_000_000_000)
    an_hour_ago = time.time() - 3600
    for f in demo_dir.rglob("*.json"):  # the demo copy was made a moment ago
        os.utime(f, (an_hour_ago, an_hour_ago))
    with _open(demo_dir) as svc:
        a = _an_editable_application(svc)
        svc.applications.edit(a.id, remark="刚刚保存")
        sources = [applications_dir(TODAY.year)]
        calls: list[int] = []
        svc.store.derived.get("probe", sources, lambda: calls.append(1) or 1)
        svc.store.derived.get("probe", sources, lambda: calls.append(1) or 1)
        assert len(calls) == 2  # a file of the year was written < 3 s ago
        seen: list[str] = []
        files = svc.applications.files(TODAY.year)
        svc.store.derived.each("probe-each", files, lambda rel: seen.append(rel) or 1)
        seen.clear()
        svc.store.derived.each("probe-each", files, lambda rel: seen.append(rel) or 1)
        assert len(seen) == 1 and seen[0].endswith(f"/{a.village_id:04d}.json")  # only that one


def test_flag_rows_survive_a_save_landing_mid_pass(demo_dir: Path, monkeypatch) -> None:
    """A commit drops a file's rows from the flag service while its pass is running:
    the pass still completes with what it read."""
    with _open(demo_dir) as svc:
        expected = svc.flags.flags(TODAY.year)  # every file's rows held
        editable = [
            x for x in svc.applications.iter(TODAY.year) if not x.frozen_by and not x.void and x.status != "rejected"
        ]
        a = editable[0]
        b = next(x for x in editable if x.village_id != a.village_id)
        svc.applications.edit(a.id, remark="先改一个文件")  # its rows are read again
        each = svc.store.derived.each
        saved: list[str] = []

        def each_then_commit(name, rels, compute_one, **kw):
            out = each(name, rels, compute_one, **kw)
            if name == f"flag-rows-{TODAY.year}" and not saved:  # a save to a held file lands now
                saved.append(svc.applications.edit(b.id, remark="计算当中保存").id)
            return out

        monkeypatch.setattr(svc.store.derived, "each", each_then_commit)
        assert svc.flags.flags(TODAY.year) == expected
        assert saved == [b.id]


def test_restore_forgets_the_kept_values(demo_dir: Path, tmp_path: Path) -> None:
    from villageboard.store.backup import make_backup, restore

    with _open(demo_dir) as svc:
        backup = make_backup(svc.store, out=tmp_path / "b.zip")
        svc.store.derived.get("probe", ["registry.json"], lambda: 1)
        assert (derived_cache_dir(demo_dir) / "probe.json").exists()
        restore(svc.store, backup)
        assert not derived_cache_dir(demo_dir).exists()


def test_free_text_numbers_are_masked_before_they_are_kept(demo_dir: Path) -> None:
    """A bank's failure reason or a clerk's note may quote a whole card or ID number;
    what the phone desk and the flags keep outside the data dir has it masked."""
    card, idn = "6228480012345678901", "14102519740101123X"
    with _open(demo_dir) as svc:
        flag = next(
            f for f in svc.flags.flags(TODAY.year, open_only=True) if not svc.applications.get(f.app_id).frozen_by
        )
        svc.flags.clear(flag.app_id, flag.kind, f"村组核实：卡号{card}，身份证{idn}，2026-11-20")
        a = svc.applications.get(flag.app_id)
        svc.phone.load_all()
        svc.flags.counts(TODAY.year)
        shown = next(f for f in svc.flags.flags(TODAY.year) if f.app_id == a.id and f.kind == flag.kind)
        assert card not in str(shown.cleared) and "8901" in shown.cleared["note"]
        assert "2026-11-20" in shown.cleared["note"]
    kept = b"".join(p.read_bytes() for p in derived_cache_dir(demo_dir).iterdir())
    assert card.encode() not in kept and idn.encode() not in kept


def test_history_follows_saves_made_after_the_load(demo_dir: Path) -> None:
    with _open(demo_dir) as svc:
        desk = svc.phone
        desk.load_all()
        count = desk.record_count()
        b = next(
            x
            for x in svc.applications.iter(TODAY.year)
            if not x.frozen_by and not x.void and x.status != "rejected" and x.payout_status not in ("issued", "paid")
        )
        assert b.id in {r.app_id for r in desk.household_view(b.household_id).records}
        svc.applications.void(b.id, "重复申报")
        assert b.id not in {r.app_id for r in desk.household_view(b.household_id).records}
        assert desk.record_count() == count  # kept, marked void
        every = sum(1 for y in svc.store.years() for _ in svc.applications.iter(y, include_void=True))
        assert count == every
