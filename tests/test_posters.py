"""Posters on the demo township, checked with real tools: pdftotext, pdffonts, zbarimg."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TODAY
from villageboard.domain.errors import VBError
from villageboard.domain.money import capital_amount, format_fen
from villageboard.services import Services
from villageboard.services.paths import households_file
from villageboard.services.posters import batch_posters, render_notice

needs = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdftoppm", "zbarimg")),
    reason="poppler-utils and zbar-tools are installed by ./install.sh --dev",
)


def result_notice(svc: Services):
    return next(r.notice for r in svc.notices.rows(TODAY.year, "posted") if r.notice.kind == "result")


def pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def qr_codes(pdf: Path, tmp: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp / "page")], check=True)
    found = []
    for png in sorted(tmp.glob("page*.png")):
        r = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        found.append(r.stdout.strip())
    return found


@needs
def test_result_poster_has_every_name_the_totals_an_embedded_font_and_verifiable_qr(
    svc: Services, tmp_path: Path
) -> None:
    n = result_notice(svc)
    snap = svc.notices.snapshot(n)
    paths = render_notice(svc, n.code, tmp_path / "out", ["pdf", "png", "html"])
    pdf = next(p for p in paths if p.suffix == ".pdf")
    text = pdftotext(pdf)
    flat = "".join(text.split())
    assert snap["village"] in flat and snap["program"]["name"] in flat
    for r in snap["rows"]:
        assert r["name"] in flat, r["name"]
        assert r["id_masked"] in flat
    total = snap["totals"]["amount_fen"]
    assert format_fen(total) in flat and capital_amount(total) in flat
    assert f"共{snap['totals']['households']}户" in flat
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("yes" in r[-5:-3] or r[-5] == "yes" for r in rows)  # emb column
    payloads = qr_codes(pdf, tmp_path)
    assert payloads and all(p == payloads[0] for p in payloads)  # one on every page
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    ok = subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(svc.root), "verify", payloads[0]],
        capture_output=True,
        text=True,
        env=env,
    )
    # the data dir is open in this process: verify reads it read-only
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert snap["village"] in ok.stdout
    assert n.tag in payloads[0] and f"{snap['totals']['households']}户" in payloads[0]
    forged = payloads[0].replace(n.tag, n.tag[:-1] + ("0" if n.tag[-1] != "0" else "1"))
    bad = subprocess.run(
        [sys.executable, "-m", "villageboard", "--data-dir", str(svc.root), "verify", forged],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 1
    assert any(p.suffix == ".png" for p in paths) and any(p.suffix == ".html" for p in paths)


@needs
def test_archive_copy_carries_the_stamp(svc: Services, tmp_path: Path) -> None:
    old = next(n for n in svc.notices.all(TODAY.year - 1) if n.state == "archived")
    pdf = next(p for p in render_notice(svc, old.code, tmp_path, ["pdf"]) if p.suffix == ".pdf")
    assert "公示期满存档" in "".join(pdftotext(pdf).split())


@needs
def test_batch_renders_every_village(svc: Services, tmp_path: Path) -> None:
    seen = []
    res = batch_posters(svc, "result", TODAY.year, tmp_path, "GDDL", progress=lambda d, t: seen.append((d, t)))
    villages = svc.registry.villages()
    assert len(res.notices) == len(villages) and not res.skipped
    assert seen[-1] == (len(villages), len(villages))
    for v in villages:
        assert any(v.name in p.name for p in res.paths)


def _id(body17: str) -> str:
    from stdnum.cn import ric

    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.mark.parametrize(
    "field,value,what",
    [
        ("remark", f"身份证{_id('14102519740312123')}请核对", "身份证"),
        ("name", "6217790000000000008", "银行卡"),
        ("remark", "联系电话13912345678", "手机"),
        ("remark", "账号 6217 7900 0000 0000 008", "银行卡"),
    ],
)
def test_privacy_gate_blocks_leaks_at_entry_and_at_post(
    svc: Services, tmp_path: Path, field: str, value: str, what: str
) -> None:
    """A number is refused where it is typed; one that got into the records some other
    way (an old version, a hand-edited file) stops ``notice post``, so no posted notice
    is left that nobody can print."""
    v = next(
        v
        for v in svc.registry.villages()
        if not any(
            n.village_id == v.id
            and n.kind == "application"
            and n.program_code == "ZLYC"
            and svc.notices.state_of(n) in ("draft", "posted")
            for n in svc.notices.all(TODAY.year)
        )
    )
    app = svc.applications.list(TODAY.year, "ZLYC", v.id)[0]
    h = svc.registry.household(app.household_id)
    with pytest.raises(VBError) as entry:
        if field == "remark":
            svc.applications.edit(app.id, remark=value)
        else:
            svc.registry.update_household(h.id, {"name": value})
    assert what in str(entry.value) and value not in str(entry.value)
    # smuggled past the entry gate, straight into the store
    if field == "remark":
        app.remark = value
        svc.applications.save(app, "bypass validation")
    else:
        with svc.store.begin("bypass validation") as tx:
            tx.put(households_file(h.village_id), "households", h.id, {**h.to_dict(), "name": value})
    n = svc.notices.create("application", TODAY.year, v.id, "ZLYC")
    with pytest.raises(VBError) as info:
        svc.notices.post(n.code)
    msg = str(info.value)
    assert what in msg and ("备注" in msg or "户主姓名" in msg) and app.id in msg
    assert value not in msg  # the message never repeats the number
    assert svc.notices.get(n.code).state == "draft"
    out = tmp_path / "out"
    with pytest.raises(VBError):
        render_notice(svc, n.code, out, ["pdf", "png", "html"])
    assert not out.exists() or not any(out.iterdir())


def test_notice_list_filters_archive_by_year_village_and_program(demo_dir: Path) -> None:
    import json

    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    base = [sys.executable, "-m", "villageboard", "--data-dir", str(demo_dir), "notice", "list"]
    r = subprocess.run(
        base
        + ["--year", str(TODAY.year - 1), "--state", "archived", "--village", "东沟", "--program", "GDDL", "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows and all(x["village"] == "东沟村" and x["program"] == "GDDL" and x["state"] == "archived" for x in rows)
    keys = {
        "code",
        "version",
        "kind",
        "village",
        "program",
        "year",
        "state",
        "start",
        "end",
        "tag",
        "households",
        "amount_fen",
    }
    assert keys <= set(rows[0])
