"""Payouts: the bank sheet, the bank's return, reissue after a corrected account, and
reconciliation that adds up from rows to villages, programs and the township."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.order_support import post_application_notices, review
from villageboard.domain.errors import StorageError, ValidationFailed, VBError
from villageboard.services.reconcile import MEASURES, reconcile
from villageboard.store import storage


def sheet_rows(path: Path) -> tuple[list, list[list]]:
    """(header, data rows) of the bank sheet: the banner is row 1, the header row 2."""
    rows = [list(r) for r in load_workbook(path).active.iter_rows(values_only=True)]
    header = rows[1]
    data = [r for r in rows[2:] if isinstance(r[0], int)]
    return header, data


def fill_return(src: Path, out: Path, fail: dict[str, str] | None = None, edit=None) -> Path:
    """What the bank sends back: the same sheet with 处理结果 / 失败原因 filled in."""
    fail = fail or {}
    wb = load_workbook(src)
    ws = wb.active
    header = [c.value for c in ws[2]]
    col = {name: header.index(name) for name in header if name}
    for row in ws.iter_rows(min_row=3):
        if not isinstance(row[0].value, int):
            continue
        app = row[col["申报编号"]].value
        if app in fail:
            row[col["处理结果"]].value = "失败"
            row[col["失败原因"]].value = fail[app]
        else:
            row[col["处理结果"]].value = "成功"
            row[col["发放日期"]].value = "2026-11-28"  # the day the sheet was made (TODAY)
        if edit is not None:
            edit(app, row, col)
    wb.save(out)
    return out


@pytest.fixture
def issued(svc, tmp_path):
    """STGY 2026 sent to the bank (the demo entered it but had not put it on a notice),
    after its 申报公示 ran in early November and the rows were reviewed."""
    post_application_notices(svc, "STGY")
    review(svc, "STGY")
    before = [a.id for a in svc.payouts.payable(2026, "STGY")]
    report = svc.transfer.export_bank("STGY", 2026, tmp_path / "bank.xlsx")
    return svc, report, before


def test_bank_sheet_lists_every_payable_row_and_marks_them_issued(issued) -> None:
    svc, report, before = issued
    assert report.batch == "2026-STGY-01" and report.rows == len(before) > 10
    header, data = sheet_rows(report.path)
    banner = load_workbook(report.path).active["A1"].value
    assert banner.startswith("内部资料")
    for name in ("申报编号", "户主姓名", "身份证号码", "一卡通账号", "开户银行", "金额", "处理结果", "失败原因"):
        assert name in header
    assert [r[header.index("申报编号")] for r in data] == before
    total = 0
    for r in data:
        a = svc.applications.get(r[header.index("申报编号")])
        h = svc.registry.household(a.household_id)
        assert r[header.index("身份证号码")] == h.id_number  # full numbers: internal sheet
        assert r[header.index("一卡通账号")] == h.card_account
        assert round(r[header.index("金额")] * 100) == a.amount_fen
        assert a.payout_status == "issued" and a.attempts[-1]["batch"] == "2026-STGY-01"
        total += a.amount_fen
    assert total == report.amount_fen
    with pytest.raises(VBError, match="没有可以发放"):
        svc.transfer.export_bank("STGY", 2026, report.path.with_name("again.xlsx"))
    assert not report.path.with_name("again.xlsx").exists()


def test_batch_numbers_continue_after_earlier_batches(svc, tmp_path) -> None:
    h = next(
        h
        for h in svc.registry.households()
        if h.status == "active" and svc.applications.existing(2026, h.id, "GDDL") is None
    )
    a = svc.applications.add(h.id, "GDDL", 2026, "3")
    for step in ("village_ok", "town_ok", "approved"):
        svc.applications.set_status(a.id, step, note="经核实属实")
    # entered after its village's 申报公示: sent with a written reason (the order of
    # work itself is tested in test_work_order.py)
    rep = svc.transfer.export_bank("GDDL", 2026, tmp_path / "b.xlsx", without_notice="县里统一发放，已在县平台公示")
    assert rep.batch == "2026-GDDL-02"  # the demo paid batch -01


def test_rows_without_a_card_are_left_out_and_named(svc, tmp_path) -> None:
    post_application_notices(svc, "STGY")
    review(svc, "STGY")
    a = svc.payouts.payable(2026, "STGY")[0]
    h = svc.registry.household(a.household_id)
    with svc.store.begin("测试.清空账号") as tx:
        svc.registry.update_household(h.id, {"card_account": ""}, tx)
    rep = svc.transfer.export_bank("STGY", 2026, tmp_path / "b.xlsx")
    assert any(h.name in s and "没有一卡通账号" in s for s in rep.skipped)
    assert svc.applications.get(a.id).payout_status == ""


def test_a_failed_commit_leaves_no_bank_sheet(svc, tmp_path, monkeypatch) -> None:
    post_application_notices(svc, "STGY")
    review(svc, "STGY")
    before = svc.store.journal.last_seq

    def boom(path, data):
        raise StorageError("保存失败：磁盘空间已满")

    out = tmp_path / "bank.xlsx"
    with monkeypatch.context() as mp:
        mp.setattr(storage, "write_file", boom)
        with pytest.raises(StorageError):
            svc.transfer.export_bank("STGY", 2026, out)
    assert not out.exists()
    assert svc.store.journal.last_seq == before
    assert all(a.payout_status == "" for a in svc.payouts.payable(2026, "STGY"))


def test_bank_return_with_three_failures(issued, tmp_path) -> None:
    svc, report, before = issued
    fail = {before[0]: "账户冻结", before[1]: "户名不符", before[2]: "账户已销户"}
    ret = fill_return(report.path, tmp_path / "return.xlsx", fail)
    dry = svc.transfer.import_payouts(ret, program="STGY", year=2026, dry_run=True)
    assert dry.paid == len(before) - 3 and dry.failed == 3
    assert all(svc.applications.get(x).payout_status == "issued" for x in before)
    rep = svc.transfer.import_payouts(ret, program="STGY", year=2026)
    assert rep.paid == len(before) - 3 and rep.failed == 3
    for app_id, reason in fail.items():
        a = svc.applications.get(app_id)
        assert a.payout_status == "failed" and a.attempts[-1]["reason"] == reason
    ok = svc.applications.get(before[5])
    assert ok.payout_status == "paid" and ok.attempts[-1]["paid_date"] == "2026-11-28"
    # the same return again is refused, row by row, and changes nothing
    seq = svc.store.journal.last_seq
    with pytest.raises(ValidationFailed, match="不在等待银行回盘"):
        svc.transfer.import_payouts(ret, program="STGY", year=2026)
    assert svc.store.journal.last_seq == seq


def test_bad_return_rows_are_all_reported_and_nothing_is_recorded(issued, tmp_path) -> None:
    svc, report, before = issued

    def edit(app, row, col):
        if app == before[0]:
            row[col["金额"]].value = row[col["金额"]].value + 1  # amount changed
        elif app == before[1]:
            row[col["申报编号"]].value = "2026-999999"  # unknown row
        elif app == before[2]:
            row[col["处理结果"]].value = "失败"  # no reason
            row[col["失败原因"]].value = None
        elif app == before[3]:
            row[col["处理结果"]].value = "待定"  # not a result
        elif app == before[4]:
            row[col["一卡通账号"]].value = "6217791234567890123"  # another account

    ret = fill_return(report.path, tmp_path / "bad.xlsx", edit=edit)
    seq = svc.store.journal.last_seq
    with pytest.raises(ValidationFailed) as e:
        svc.transfer.import_payouts(ret, program="STGY", year=2026, errors_out=tmp_path / "errors.xlsx")
    text = str(e.value)
    lines = text.splitlines()
    for row, what in (
        (3, "金额与发放表不符"),
        (4, "2026-999999"),
        (5, "原因"),
        (6, "处理结果"),
        (7, "账号与发放表不符"),
    ):
        assert any(line.startswith(f"第{row}行") and what in line for line in lines), (row, what, text)
    assert svc.store.journal.last_seq == seq
    assert all(svc.applications.get(x).payout_status == "issued" for x in before)
    # the errors sheet carries a 错误原因 column beside the bad rows
    rows = [list(r) for r in load_workbook(tmp_path / "errors.xlsx").active.iter_rows(values_only=True)]
    reason_col = rows[1].index("错误原因")
    assert "金额" in rows[2][reason_col] and rows[8][reason_col] in (None, "")


def test_return_matched_by_id_when_there_is_no_application_number(issued, tmp_path) -> None:
    svc, report, before = issued
    header, data = sheet_rows(report.path)
    keep = [header.index(n) for n in ("户主姓名", "身份证号码", "一卡通账号", "金额")]
    lines = ["户名,身份证号码,账号,交易金额,状态,原因"]
    for i, r in enumerate(data):
        vals = [str(r[k]) for k in keep]
        vals[3] = f"{r[keep[3]]:.2f}"
        lines.append(",".join(vals + (["失败", "账户冻结"] if i == 0 else ["成功", ""])))
    csv = tmp_path / "return.csv"
    csv.write_bytes("\r\n".join(lines).encode("gbk"))
    rep = svc.transfer.import_payouts(csv, program="STGY", year=2026)
    assert rep.paid == len(data) - 1 and rep.failed == 1
    assert svc.applications.get(before[0]).payout_status == "failed"


def test_reissue_after_the_account_is_corrected_keeps_both_attempts(issued, tmp_path) -> None:
    svc, report, before = issued
    fail = {before[0]: "账户冻结", before[1]: "户名不符", before[2]: "账户已销户"}
    svc.transfer.import_payouts(fill_return(report.path, tmp_path / "r1.xlsx", fail), program="STGY", year=2026)
    # only the frozen account can go again unchanged
    rep = svc.transfer.reissue("STGY", 2026, tmp_path / "re1.xlsx")
    assert rep.rows == 1 and rep.batch == "2026-STGY-02" and len(rep.skipped) == 2
    assert all("账号还没有更正" in s for s in rep.skipped)
    # correct the two accounts, then reissue those
    new_cards = {before[1]: "6228480012345671", before[2]: "6217790000000000014"}
    for app_id, new_card in new_cards.items():
        a = svc.applications.get(app_id)
        svc.registry.update_household(a.household_id, {"card_account": new_card})
    rep2 = svc.transfer.reissue("STGY", 2026, tmp_path / "re2.xlsx")
    assert rep2.rows == 2 and rep2.batch == "2026-STGY-03" and rep2.skipped == []
    header, data = sheet_rows(rep2.path)
    assert sorted(r[header.index("一卡通账号")] for r in data) == sorted(new_cards.values())
    for app_id in new_cards:
        a = svc.applications.get(app_id)
        assert [x["result"] for x in a.attempts] == ["failed", "issued"]
        assert a.attempts[0]["account"] != a.attempts[1]["account"]
    # the bank pays the reissued rows
    svc.transfer.import_payouts(fill_return(rep2.path, tmp_path / "r2.xlsx"), program="STGY", year=2026)
    svc.transfer.import_payouts(fill_return(rep.path, tmp_path / "r3.xlsx"), program="STGY", year=2026)
    rec = reconcile(svc, 2026, "STGY")
    assert rec.programs[0].paid.n == len(before) and rec.programs[0].failed.n == 0
    assert rec.programs[0].reissued == 3
    with pytest.raises(VBError, match="没有发放失败"):
        svc.transfer.reissue("STGY", 2026, tmp_path / "none.xlsx")


def test_reconciliation_adds_up_rows_villages_programs_township(issued, tmp_path) -> None:
    svc, report, before = issued
    svc.transfer.import_payouts(
        fill_return(report.path, tmp_path / "r.xlsx", {before[0]: "账户冻结"}),
        program="STGY",
        year=2026,
    )
    rec = reconcile(svc, 2026)
    assert rec.problems() == []
    # rows -> village x program, computed independently from the records
    expect: dict[tuple[str, int], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for a in svc.applications.list(2026):
        if a.status != "approved":
            continue
        e = expect[(a.program_code, a.village_id)]
        e["approved"].append(a.amount_fen)
        e["issued" if a.payout_status else "not_issued"].append(a.amount_fen)
        if a.payout_status:
            e[{"paid": "paid", "failed": "failed", "issued": "pending"}[a.payout_status]].append(a.amount_fen)
    assert {(x.program_code, x.village_id) for x in rec.lines} == set(expect)
    for line in rec.lines:
        e = expect[(line.program_code, line.village_id)]
        for m in MEASURES:
            assert (getattr(line, m).n, getattr(line, m).fen) == (len(e[m]), sum(e[m])), (line.where, m)
    # village -> program -> township
    for p in rec.programs:
        parts = [x for x in rec.lines if x.program_code == p.program_code]
        for m in MEASURES:
            assert getattr(p, m).fen == sum(getattr(x, m).fen for x in parts)
            assert getattr(p, m).n == sum(getattr(x, m).n for x in parts)
    for m in MEASURES:
        assert getattr(rec.township, m).fen == sum(getattr(p, m).fen for p in rec.programs)
    t = rec.township
    assert t.issued.fen == t.paid.fen + t.failed.fen + t.pending.fen
    assert t.approved.fen == t.issued.fen + t.not_issued.fen
    assert [f.app_id for f in rec.failures if f.program_code == "STGY"] == [before[0]]
    assert rec.failures[0].account_tail.startswith("****")


def test_county_sheet_totals_match_its_rows(issued, tmp_path) -> None:
    svc, report, before = issued
    svc.transfer.import_payouts(
        fill_return(report.path, tmp_path / "r.xlsx", {before[0]: "户名不符"}),
        program="STGY",
        year=2026,
    )
    out = svc.transfer.export_county(2026, tmp_path / "county.xlsx")
    wb = load_workbook(out)
    summary, detail = wb.worksheets
    assert "内部资料" in summary["A1"].value and "内部资料" in detail["A1"].value
    assert summary.freeze_panes == "A3" and detail.freeze_panes == "A3"
    s_rows = [list(r) for r in summary.iter_rows(values_only=True)]
    s_head = s_rows[1]
    d_rows = [list(r) for r in detail.iter_rows(values_only=True)]
    d_head = d_rows[1]
    details = [r for r in d_rows[2:] if r[0] and str(r[0]).startswith("2026-")]
    assert len(details) == len(svc.applications.list(2026))
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in details:
        d = dict(zip(d_head, r, strict=True))
        fen = round(d["金额"] * 100)
        key = (d["村"], d["项目代码"])
        sums[key]["申报户次"] += 1
        if d["审核状态"] == "通过":
            sums[key]["审核通过户次"] += 1
            sums[key]["应发金额"] += fen
        if d["发放状态"] == "已发放":
            sums[key]["已发放金额"] += fen
        if d["发放状态"] == "发放失败":
            sums[key]["发放失败金额"] += fen
    lines = [dict(zip(s_head, r, strict=True)) for r in s_rows[2:] if r[2]]
    assert lines
    for line in lines:
        got = sums[(line["村"], line["项目代码"])]
        assert line["申报户次"] == got["申报户次"]
        assert line["审核通过户次"] == got["审核通过户次"]
        for k in ("应发金额", "已发放金额", "发放失败金额"):
            assert round(line[k] * 100) == got[k], (line["村"], line["项目代码"], k)
    total = next(dict(zip(s_head, r, strict=True)) for r in s_rows if r[0] == "合计")
    assert round(total["应发金额"] * 100) == sum(g["应发金额"] for g in sums.values())
    assert isinstance(total["已发放金额"], float | int)  # real number cells
