"""The type check is part of the test run: mypy with the settings in pyproject.toml
([tool.mypy]: the whole package, strictly)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # mypy's cache is the project's (.mypy_cache, ignored by git)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), str(ROOT / "villageboard")])
    assert status == 0, out + err
