"""Elements a notice carries beyond its table: the policy basis with its 文号 (a program
field), the village committee as co-issuer with seal spaces, the optional 一卡通尾号
column, and application statuses in villagers' words with the rejected ones listed
apart from the totals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TODAY
from villageboard.domain.models import Notice, Program
from villageboard.services import Services
from villageboard.services.notice_document import build_document
from villageboard.services.posters import document_for

DOC_NO = "晋财农〔2026〕12号"


def vb(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VILLAGEBOARD_TODAY=TODAY.isoformat())
    return subprocess.run([sys.executable, "-m", "villageboard", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, env=env, timeout=300)


def posted(svc: Services, kind: str) -> Notice:
    ns = svc.notices
    cands = [n for n in ns.all() if n.kind == kind and ns.state_of(n) in ("posted", "ended", "archived")]
    return max(cands, key=lambda n: (n.year, n.code, n.version))


def fresh(svc: Services, n: Notice) -> tuple[Notice, dict]:
    """What a new notice like ``n`` would print today (a draft is built from live data)."""
    snap = svc.notices.build_snapshot(n.kind, n.year, n.village_id, n.program_code)
    return Notice(code=n.code, version=n.version, kind=n.kind, year=n.year, village_id=n.village_id,
                  program_code=n.program_code, state="draft", created=n.created), snap


# --- the policy basis and its 文号 ------------------------------------------------------

def test_a_program_record_without_a_document_number_still_reads() -> None:
    old = {"code": "GDDL", "year": 2026, "name": "耕地地力保护补贴", "basis": "《通知》", "rate_fen": 100}
    assert Program.from_dict(old).basis_no == ""


def test_the_document_number_prints_with_the_basis_and_posted_notices_keep_their_words(svc: Services) -> None:
    n = posted(svc, "application")
    before, _stem = document_for(svc, n)
    svc.programs.update(n.year, n.program_code, {"basis_no": DOC_NO})
    assert svc.programs.get(n.year, n.program_code).basis_no == DOC_NO
    after, _stem = document_for(svc, n)
    assert after.paragraphs == before.paragraphs  # a posted notice reprints word for word
    draft, snap = fresh(svc, n)
    intro = "".join(build_document(draft, snap).paragraphs)
    assert f"》（{DOC_NO}）文件精神" in intro
    svc.programs.update(n.year, n.program_code, {"basis_no": ""})
    draft, snap = fresh(svc, n)
    assert "program" in snap and "basis_no" not in snap["program"]  # as before the field existed
    assert "〔" not in "".join(build_document(draft, snap).paragraphs)


def test_cli_sets_the_document_number(demo_dir: Path) -> None:
    listed = json.loads(vb(demo_dir, "program", "list", "--year", str(TODAY.year), "--json").stdout)
    code = listed[0]["code"]
    assert listed[0]["basis_no"] == ""
    r = vb(demo_dir, "program", "edit", code, "--year", str(TODAY.year), "--basis-no", DOC_NO)
    assert r.returncode == 0, r.stderr
    listed = json.loads(vb(demo_dir, "program", "list", "--year", str(TODAY.year), "--json").stdout)
    assert next(p for p in listed if p["code"] == code)["basis_no"] == DOC_NO
    r = vb(demo_dir, "program", "add", "--code", "XTBZ", "--year", str(TODAY.year), "--name", "新增补贴",
           "--rate", "10", "--basis", "关于新增补贴的通知", "--basis-no", "古财农〔2026〕3号")
    assert r.returncode == 0, r.stderr
    listed = json.loads(vb(demo_dir, "program", "list", "--year", str(TODAY.year), "--json").stdout)
    assert next(p for p in listed if p["code"] == "XTBZ")["basis_no"] == "古财农〔2026〕3号"
