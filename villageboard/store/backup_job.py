"""A backup in a process of its own (``write_backup(isolate=True)``): the job comes as
JSON on stdin (so a passphrase never shows in the process list), the result goes to
stdout as one JSON line (after progress lines ``{"progress": [done, total, what]}``
when asked for)."""

from __future__ import annotations

import dataclasses
import os
import sys

import orjson


def main() -> int:
    from villageboard.domain.errors import VBError
    from villageboard.store.backup import PassphraseError, write_backup

    job = orjson.loads(sys.stdin.buffer.read())
    if hasattr(os, "nice"):
        try:
            os.nice(5)  # the clerk's window comes first
        except OSError:
            pass

    def progress(done: int, total: int, what: str) -> None:
        sys.stdout.buffer.write(orjson.dumps({"progress": [done, total, what]}) + b"\n")
        sys.stdout.buffer.flush()

    try:
        info = write_backup(
            job["root"],
            job["out"],
            passphrase=job["passphrase"],
            verify=job["verify"],
            reason=job["reason"],
            progress=progress if job.get("progress") else None,
        )
    except VBError as exc:
        sys.stdout.buffer.write(
            orjson.dumps({"error": str(exc), "passphrase": isinstance(exc, PassphraseError)}) + b"\n"
        )
        return 1
    body = dataclasses.asdict(info)
    body["path"] = str(info.path)
    sys.stdout.buffer.write(orjson.dumps(body) + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
