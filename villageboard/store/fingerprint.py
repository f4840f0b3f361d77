"""What identifies one version of a data file without reading it, and when that is not
enough. The start-up check (verify.py) and the derived-value cache (derived.py) both
trust a file whose size, mtime and inode are as they last saw them, except a file
written moments ago: two writes within one clock tick can leave all three unchanged
(git's "racy" rule), so such a file is trusted only by reading it again."""

from __future__ import annotations

import os

#: A file written this recently (ns) is not trusted by its stat alone.
RACY_NS = 3_000_000_000


def fingerprint(s: os.stat_result) -> list[int]:
    """Size, mtime (ns) and inode: a list, as it is kept in the JSON caches."""
    return [s.st_size, s.st_mtime_ns, s.st_ino]


def is_racy(mtime_ns: int, now_ns: int) -> bool:
    """Was a file with this mtime written too recently to be trusted by its stat?"""
    return now_ns - mtime_ns < RACY_NS
