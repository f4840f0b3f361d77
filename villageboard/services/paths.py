"""Where each kind of record lives inside the data dir (relative paths). Records are
partitioned along the domain's own seams so that a save costs the same however big
the archive grows."""

from __future__ import annotations

# the store keeps this one file open for the whole session, so it names it
from villageboard.store.store import REGISTRY as REGISTRY

HOUSEHOLDS_DIR = "households"


def households_file(village_id: int) -> str:
    return f"{HOUSEHOLDS_DIR}/{village_id:04d}.json"


def applications_file(year: int, program_code: str, village_id: int) -> str:
    return f"years/{year}/applications/{program_code}/{village_id:04d}.json"


def applications_dir(year: int) -> str:
    return f"years/{year}/applications"


def notices_file(year: int) -> str:
    return f"years/{year}/notices.json"


def snapshot_file(year: int, code: str, version: int) -> str:
    return f"years/{year}/snapshots/{code}-v{version}.json"


def objections_file(year: int) -> str:
    return f"years/{year}/objections.json"


def calls_file(year: int) -> str:
    return f"years/{year}/calls.json"


def app_counter(year: int) -> str:
    return f"application:{year}"


def app_number(year: int, n: int) -> str:
    """The number a clerk sees: 2026-000123."""
    return f"{year}-{n:06d}"


def parse_app_number(text: str) -> tuple[int, int]:
    year, _, n = text.strip().partition("-")
    return int(year), int(n)
