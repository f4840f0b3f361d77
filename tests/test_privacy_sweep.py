"""Smuggling corpus: full IDs, card numbers and mobiles written every way a clerk (or
someone careless) might — split by each separator, threaded with invisible characters,
in Chinese digits — put into remarks, names, place names and objection text.

Where text enters, each one is refused with its row and column, or kept masked when the
clerk chooses. What got into the records some other way stops ``notice post``. Then every
public output of every posted notice (PDF text, the PNG's QR code, HTML, the phone desk's
``lookup``) is read back, and an independent scanner written here, not the gate, must
find nothing."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from stdnum.cn import ric

from tests.conftest import TODAY
from villageboard.domain.errors import VBError
from villageboard.services import Services
from villageboard.services.paths import households_file
from villageboard.services.posters import render_notice
from villageboard.services.private_entry import PrivateTextRefused

# ---- the independent scanner ------------------------------------------------------------

_CN = str.maketrans(
    {
        **{c: str(i) for i, c in enumerate("〇一二三四五六七八九")},
        **{c: str(i) for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")},
        "幺": "1",
        "两": "2",
        "○": "0",
    }
)
_JOIN = re.compile(r"(?<=\d)[.,/\-_()·:\s](?=\d)")
# what our own posters legitimately print: protected before joining
_OURS = [
    re.compile(r"(?<![\d-])\d{6}-20\d\d-\d{4}(?![\d-])"),  # notice codes
    re.compile(r"(?<!\d)\d{6}\*+\d{3}[\dX]"),  # masked IDs
    re.compile(r"(?<![\d./-])\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}(?![\d./-])日?"),  # dates
    re.compile(r"(?<![\d.-])0\d{2,3}-\d{7,8}(?![\d.-])"),  # landline hotlines
    re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})*\.\d{1,2}(?![\d.,])"),  # amounts, areas, rates
]


def reader_text(text: str) -> str:
    """What a reader sees: compatibility forms folded, invisible marks gone, Chinese
    digits as digits."""
    t = unicodedata.normalize("NFKC", text)
    t = "".join(c for c in t if unicodedata.category(c) not in ("Cf", "Mn", "Me") or c in "\n\t")
    return t.translate(_CN)


def _luhn(d: str) -> bool:
    s = 0
    for i, c in enumerate(reversed(d)):
        n = int(c) * (2 if i % 2 else 1)
        s += n - 9 if n > 9 else n
    return s % 10 == 0


def scan(text: str) -> list[str]:
    """Every forbidden number in ``text`` by DESIGN.md §5, line by line, after joining
    digit groups split by one separator."""
    found = []
    for line in reader_text(text).splitlines():
        for pattern in _OURS:
            line = pattern.sub("#", line)
        line = _JOIN.sub("", line)
        for m in re.finditer(r"\d{17}[\dXx]", line):
            s = m.group().upper()
            if ric.calc_check_digit(s) == s[-1]:
                found.append(f"18位身份证 {s[-4:]}")
        found += ["15位身份证"] * len(re.findall(r"(?<!\d)\d{15}(?!\d)", line))
        found += ["银行卡"] * sum(_luhn(m.group()) for m in re.finditer(r"(?<!\d)\d{16,19}(?!\d)", line))
        found += ["手机"] * len(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", line))
        found += ["12位以上数字"] * len(re.findall(r"\d{12,}", line))
    return found


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", reader_text(text))


def test_scanner_finds_what_it_should() -> None:
    assert scan("电话138.0013.8000") and scan("1\u00ad38\u00ad0013\u00ad8000") and scan("卡6222,0212,3456,7890,128")
    assert scan("一三八〇〇一三八〇〇〇") and scan("(138)0013-8000") and scan("１２３４５６７８９０１２")
    assert not scan("141025********123X 编号141025-2026-0012 金额1,234,567.89元 2026年11月28日 0357-5221234")


# ---- the corpus ---------------------------------------------------------------------------

SEPARATORS = [".", "/", ",", "-", "_", "(", ")", "·", ":", " "]
INVISIBLES = {"零宽空格": "\u200b", "软连字符": "\u00ad", "变体选择符": "\ufe0f", "词连接符": "\u2060", "BOM": "\ufeff"}
CN_FORMS = {
    "小写": dict(zip("0123456789", "〇一二三四五六七八九", strict=True)),
    "大写": dict(zip("0123456789", "零壹贰叁肆伍陆柒捌玖", strict=True)),
    "幺两": {**dict(zip("0123456789", "零幺两三四五六七八九", strict=True))},
}


def numbers(rng: random.Random) -> dict[str, str]:
    body = f"141025{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    idn = body + ric.calc_check_digit(body + "0")
    card = "621779" + "".join(str(rng.randint(0, 9)) for _ in range(12))
    card += next(str(d) for d in range(10) if _luhn(card + str(d)))
    mobile = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
    return {"身份证": idn, "银行卡": card, "手机": mobile}


def forms(number: str) -> dict[str, str]:
    """Every way of writing ``number`` the corpus covers, by name."""
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    out = {f"分隔符{sep!r}": sep.join(groups) for sep in SEPARATORS}
    out.update({name: mark.join(number) for name, mark in INVISIBLES.items()})
    out.update({f"中文数字{name}": "".join(m.get(c, c) for c in number) for name, m in CN_FORMS.items()})
    out["全角"] = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "Ｘ" for c in number)
    return out


def corpus(rng: random.Random) -> list[tuple[str, str, str]]:
    """(label, number, text) for every kind × form."""
    out = []
    for kind, number in numbers(rng).items():
        for form, text in forms(number).items():
            out.append((f"{kind}/{form}", number, text))
    return out


def fragments(number: str) -> list[str]:
    """Parts of ``number`` that no masked form shows (so they must never be printed)."""
    if len(number) == 18:
        return [number, number[6:14]]
    if len(number) == 11:
        return [number, number[3:]]
    return [number, number[:-4]]


# ---- entry -------------------------------------------------------------------------------


def test_every_form_is_refused_where_it_enters(svc: Services, tmp_path: Path) -> None:
    rng = random.Random(5)
    cases = corpus(rng)
    h = next(h for h in svc.registry.households() if svc.applications.existing(TODAY.year, h.id, "ZLYC") is None)
    posted = next(n for n in svc.notices.all(TODAY.year) if svc.notices.state_of(n) == "posted")
    for label, number, text in cases:
        remark = f"备注{text}请核对"
        with pytest.raises(PrivateTextRefused) as info:
            svc.applications.add(h.id, "ZLYC", TODAY.year, "3", remark)
        assert "备注" in str(info.value) and number not in str(info.value), label
        with pytest.raises(VBError) as info:
            svc.registry.update_household(h.id, {"name": "张" + text})
        assert "户主姓名" in str(info.value), label
        with pytest.raises(PrivateTextRefused) as info:
            svc.notices.add_objection(posted.code, f"我的电话{text}")
        assert "异议内容" in str(info.value), label
    assert svc.applications.existing(TODAY.year, h.id, "ZLYC") is None
    assert svc.notices.objections(code=posted.code, state="open") == [] or all(
        not scan(o.text) for o in svc.notices.objections(code=posted.code)
    )

    # an import: every bad cell is named by its row and column, and nothing is saved
    village = svc.registry.villages()[0].name
    sheet = tmp_path / "名册.csv"
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["村", "组", "户主姓名", "身份证号", "备注"])
        for i, (_label, _number, text) in enumerate(cases):
            body = f"14102519{60 + i % 40:02d}0101{i:03d}"
            w.writerow([village, "一组", "王五", body + ric.calc_check_digit(body + "0"), f"住址{text}"])
        w.writerow([f"{text}村", "一组", "赵六", "141025198001019995", ""])
    before = svc.registry.count()
    with pytest.raises(VBError) as info:
        svc.transfer.import_households(sheet)
    msg = str(info.value)
    named = {(p.row, p.field) for p in info.value.problems}  # type: ignore[attr-defined]
    for row in range(2, len(cases) + 2):
        assert (row, "备注") in named, row
        assert f"第{row}行 “备注”" in msg
    assert (len(cases) + 2, "村") in named
    assert all(number not in msg for _l, number, _t in cases)
    assert svc.registry.count() == before
    # the clerk chooses to keep the remarks masked (the bad village name still stops it)
    with pytest.raises(VBError):
        svc.transfer.import_households(sheet, mask_private=True)
    lines = sheet.read_text(encoding="utf-8-sig").splitlines()
    sheet.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8-sig")
    report = svc.transfer.import_households(sheet, mask_private=True)
    assert report.new_households == len(cases)
    assert any("已遮挡" in str(w) for w in report.warnings)
    for hh in svc.registry.households():
        assert not scan(hh.remark) and not scan(hh.name)


# ---- outputs -----------------------------------------------------------------------------


def _public_texts(root: Path, out: Path) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for f in sorted(out.iterdir()):
        if f.suffix == ".pdf":
            if shutil.which("pdftotext"):
                texts.append(
                    (f.name, subprocess.run(["pdftotext", str(f), "-"], capture_output=True, text=True).stdout)
                )
            import pypdfium2

            pdf = pypdfium2.PdfDocument(str(f))
            texts.append((f.name + " pdfium", "\n".join(page.get_textpage().get_text_range() for page in pdf)))
            pdf.close()
        elif f.suffix == ".html":
            html = f.read_text(encoding="utf-8")
            texts.append((f.name, re.sub(r"<[^>]+>", "\n", html)))
        elif f.suffix == ".png" and shutil.which("zbarimg") and (f.name.endswith("-1.png") or "-" not in f.stem[-3:]):
            qr = subprocess.run(["zbarimg", "-q", "--raw", str(f)], capture_output=True, text=True).stdout
            texts.append((f.name + " QR", qr))
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    for args in (
        ["notice", "list", "--json"],
        ["lookup", "张", "--json", "--limit", "50"],
        ["lookup", "王", "--json", "--limit", "50"],
        ["objection", "list"],
    ):
        r = subprocess.run(
            [sys.executable, "-m", "villageboard", "--data-dir", str(root), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        texts.append((" ".join(args), r.stdout))
    return texts


@pytest.mark.parametrize("seed", [11, pytest.param(12, marks=pytest.mark.slow)])
def test_no_public_output_shows_a_smuggled_number(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    cases = corpus(rng)
    planted = [number for _l, number, _t in cases]
    out = tmp_path / "out"
    with Services.open(demo_dir, today=TODAY) as svc:
        villages = svc.registry.villages()
        # 1. kept masked, by the clerk's choice: remarks, household remarks, objections
        free = [a for v in villages[:2] for a in svc.applications.list(TODAY.year, "STGY", v.id) if not a.frozen_by]
        for a, (_l, _n, text) in zip(free, cases, strict=False):
            svc.applications.edit(a.id, remark=f"备注{text}", mask_private=True)
        for h, (_l, _n, text) in zip(svc.registry.households(villages[0].id), cases, strict=False):
            svc.registry.update_household(h.id, {"remark": f"地址{text}"}, mask_private=True)
        # 2. slipped in past the entry gate (an older version, a hand-edited file)
        sneaky = svc.registry.households(villages[2].id)[:3]
        with svc.store.begin("sweep: smuggle") as tx:
            for h, (_l, _n, text) in zip(sneaky, cases[::7], strict=False):
                tx.put(households_file(h.village_id), "households", h.id, {**h.to_dict(), "name": "张" + text})
        posted = []
        for v in villages[:3]:
            n = svc.notices.create("application", TODAY.year, v.id, "STGY")
            if v.id == villages[2].id and any(svc.applications.existing(TODAY.year, h.id, "STGY") for h in sneaky):
                with pytest.raises(VBError, match="不能登记张贴"):
                    svc.notices.post(n.code)
                assert svc.notices.get(n.code).state == "draft"
                continue
            posted.append(svc.notices.post(n.code))
        # 3. objections on a posted notice, kept masked; a correction of a remark that an
        #    older version let onto a posted notice prints its 原内容 masked
        first = posted[0]
        row = svc.notices.snapshot(first)["rows"][0]
        for _l, _n, text in cases[:5]:
            svc.notices.add_objection(first.code, f"请联系{text}", mask_private=True)
        v4 = villages[3]
        app = svc.applications.list(TODAY.year, "STGY", v4.id)[0]
        raw = cases[0][2]
        app.remark = f"电话{raw}"
        svc.applications.save(app, "as an older version stored it")
        old = svc.notices.create("application", TODAY.year, v4.id, "STGY")
        with monkeypatch.context() as m:  # posted by a version without the post check
            m.setattr("villageboard.services.notices.check_printable", lambda *a: None)
            old = svc.notices.post(old.code)
        o = svc.notices.add_objection(old.code, "备注里有完整号码")
        _o, correction = svc.notices.resolve_objection(
            o.id, "删去号码", correct=True, edits=[(app.id, "remark", "已核实")]
        )
        assert correction is not None
        assert cases[0][1] not in json.dumps(correction.changes, ensure_ascii=False)
        posted.append(svc.notices.post(correction.code))
        for n in posted:
            render_notice(svc, n.code, out, ["pdf", "png", "html"], version=n.version)
        assert row["app"]
    texts = _public_texts(demo_dir, out)
    assert any(name.endswith(".pdf") for name, _ in texts) and any(name.endswith(".html") for name, _ in texts)
    if shutil.which("zbarimg"):
        assert any(name.endswith(" QR") and text.strip() for name, text in texts)
    assert any("原内容" in text for _name, text in texts)
    leaks = [(name, hit) for name, text in texts for hit in scan(text)]
    assert leaks == []
    for name, text in texts:
        d = digits_of(text)
        for number in planted:
            assert not any(frag in d for frag in fragments(number)), (name, number)
