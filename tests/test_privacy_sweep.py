"""Privacy sweep: townships whose remarks and names try to smuggle full IDs, card
numbers and phone numbers; every public output of every notice is rendered, and an
independent scanner (written here, not the gate) must find nothing."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import ric

from tests.conftest import TODAY
from villageboard.domain.errors import PrivacyError
from villageboard.services import Services
from villageboard.services.demo import build_demo
from villageboard.services.paths import households_file
from villageboard.services.posters import render_notice

FULL = bool(os.environ.get("CI")) or bool(os.environ.get("VILLAGEBOARD_FULL_TESTS"))
SEEDS = (11, 12, 13) if FULL else (11,)
WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


# ---- the independent scanner ------------------------------------------------------------

def _luhn(d: str) -> bool:
    s = 0
    for i, c in enumerate(reversed(d)):
        n = int(c) * (2 if i % 2 else 1)
        s += n - 9 if n > 9 else n
    return s % 10 == 0


def scan(text: str) -> list[str]:
    """Every forbidden number in ``text``, by the rules of DESIGN.md §5."""
    t = text.translate(WIDTH)
    t = re.sub(r"(?<!\d)\d{6}-\d{4}-\d{4}(?!\d)", "NOTICE-CODE", t)  # our own notice codes
    t = re.sub(r"(?<=\d)[ \-](?=\d)", "", t)  # "6217 7900 …" and "139-1234-5678"
    found = []
    for m in re.finditer(r"\d{17}[\dXx]", t):
        s = m.group().upper()
        if ric.calc_check_digit(s) == s[-1]:
            found.append(f"18位身份证 {s[-4:]}")
    found += ["15位身份证"] * len(re.findall(r"(?<!\d)\d{15}(?!\d)", t))
    for m in re.finditer(r"(?<!\d)\d{16,19}(?!\d)", t):
        if _luhn(m.group()):
            found.append("银行卡")
    found += ["手机"] * len(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", t))
    found += ["12位以上数字"] * len(re.findall(r"\d{12,}", t))
    return found


def test_scanner_finds_what_it_should() -> None:
    body = "14102519800101123"
    idn = body + ric.calc_check_digit(body + "0")
    assert scan(f"号{idn}")
    assert scan("卡 6217 7900 0000 0000 008")
    assert scan("电话139-1234-5678")
    assert scan("１２３４５６７８９０１２")
    assert not scan("141025********123X 编号141025-2026-0012 金额1,234,567.89元 2026年11月28日")


# ---- smuggling --------------------------------------------------------------------------

def _smuggled(rng: random.Random) -> list[str]:
    body = f"141025{rng.randint(1950, 2000)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}{rng.randint(100, 999)}"
    idn = body + ric.calc_check_digit(body + "0")
    card = "621779" + "".join(str(rng.randint(0, 9)) for _ in range(12))
    card += next(str(d) for d in range(10) if _luhn(card + str(d)))
    phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
    fw = "".join(chr(ord(c) + 0xFEE0) for c in phone)
    return [f"身份证{idn}", f"卡号{card}", f"电话{phone}", f"代领人身份证{idn[:6]} {idn[6:14]} {idn[14:]}",
            f"卡{card[:4]}-{card[4:8]}-{card[8:12]}-{card[12:]}", f"手机{fw}", f"旧证{idn[:6]}{idn[8:17]}",
            f"存折{'1234567890123'}"]


@pytest.mark.parametrize("seed", SEEDS)
def test_no_public_output_contains_a_full_number(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "data"
    build_demo(root, households=80, villages=2, seed=seed, today=TODAY).close()
    with Services.open(root, today=TODAY) as svc:
        payloads = _smuggled(rng)
        # remarks on applications (through the service) and names / remarks of households
        # (straight into the store, as a careless import or a hand-edited file might)
        apps = [a for v in svc.registry.villages() for a in svc.applications.list(TODAY.year, "STGY", v.id)
                if not a.frozen_by]
        for a, text in zip(apps, payloads, strict=False):
            svc.applications.edit(a.id, remark=text)
        hs = svc.registry.households()
        with svc.store.begin("sweep: smuggle") as tx:
            for h, text in zip(rng.sample(hs, 4), payloads[:4], strict=True):
                tx.put(households_file(h.village_id), "households", h.id, {**h.to_dict(), "name": "张" + text})
        svc.registry._households = None
        for v in svc.registry.villages():
            n = svc.notices.create("application", TODAY.year, v.id, "STGY")
            svc.notices.post(n.code)
        out = tmp_path / "out"
        rendered = blocked = 0
        for n in svc.notices.all():
            if n.state == "draft":
                continue
            try:
                render_notice(svc, n.code, out, ["pdf", "png", "html"], version=n.version)
                rendered += 1
            except PrivacyError:
                blocked += 1
        assert blocked >= 1 and rendered >= 1
    texts: list[tuple[str, str]] = []
    for f in sorted(out.iterdir()):
        if f.suffix == ".pdf" and shutil.which("pdftotext"):
            texts.append((f.name, subprocess.run(["pdftotext", str(f), "-"], capture_output=True, text=True).stdout))
        elif f.suffix == ".html":
            texts.append((f.name, f.read_text(encoding="utf-8")))
        elif f.suffix == ".png" and shutil.which("zbarimg") and f.name.endswith("-1.png"):
            qr = subprocess.run(["zbarimg", "-q", "--raw", str(f)], capture_output=True, text=True).stdout
            texts.append((f.name + " QR", qr))
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    for args in (["notice", "list", "--json"], ["lookup", "张", "--json", "--limit", "50"], ["lookup", "zhang", "--json"]):
        r = subprocess.run([sys.executable, "-m", "villageboard", "--data-dir", str(root), *args],
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        json.loads(r.stdout)
        texts.append((" ".join(args), r.stdout))
    leaks = [(name, hit) for name, text in texts for hit in scan(text)]
    assert leaks == []
    assert any(name.endswith(".pdf") for name, _ in texts)
