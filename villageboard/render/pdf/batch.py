"""Many notices to PDF at once (every village of a program), on worker processes.

Workers are started with "spawn" everywhere (the same on Windows, and safe when the
caller has threads running); when no worker can be started, or one dies, the notices
are rendered in this process instead. Results come back in order, and the first
failure is raised only after the pool stops, so nothing partial is returned.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from villageboard.render.document import NoticeDocument
from villageboard.render.pdf.paint import pdf_label, render_pdf

_WORKER_FONT: str | None = None


def _worker_init(font: str | None) -> None:
    """Each worker process loads the font once; every notice it renders reuses it."""
    global _WORKER_FONT
    _WORKER_FONT = font
    from villageboard.render.fonts import primary_font

    try:
        primary_font(font)
    except Exception:
        pass  # the real error is raised, with its message, by the first render


def _worker_render(doc: NoticeDocument, paper: str, large: bool | None) -> tuple[Any, ...]:
    """Errors travel back as plain tuples: the project's exceptions carry Chinese
    messages and extra fields that pickling across processes would lose."""
    from villageboard.domain.errors import PrivacyError, VBError

    try:
        return ("ok", render_pdf(doc, paper=paper, font=_WORKER_FONT, large=large))
    except PrivacyError as exc:
        return ("privacy", list(exc.findings), pdf_label(doc))
    except VBError as exc:
        return ("error", str(exc))


def _unwrap(result: tuple[Any, ...]) -> bytes:
    from villageboard.domain.errors import PrivacyError, VBError

    if result[0] == "ok":
        data: bytes = result[1]
        return data
    if result[0] == "privacy":
        raise PrivacyError(result[1], result[2])
    raise VBError(result[1])


def _can_spawn() -> bool:
    """A spawned worker re-imports the caller's main script; that is impossible when
    the main program came from stdin or an interactive prompt with a fake file name."""
    import sys

    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or Path(main_file).exists()


def _start_pool(ctx: Any, workers: int, font_arg: str | None) -> ProcessPoolExecutor:
    """Start the worker pool with the real stderr in place. A full-screen app (the TUI)
    replaces ``sys.stderr`` with an object whose file descriptor multiprocessing's
    helper process cannot inherit, which makes starting the pool fail."""
    saved = sys.stderr
    try:
        if getattr(sys, "__stderr__", None) is not None:
            sys.stderr = sys.__stderr__
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(font_arg,))
        # start the workers now, while stderr is the real one
        pool.submit(int).result()
        return pool
    finally:
        sys.stderr = saved


def render_pdf_batch(
    docs: Sequence[NoticeDocument],
    paper: str = "a4",
    large: bool | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    font: str | os.PathLike[str] | None = None,
) -> list[bytes]:
    """Render many notices (e.g. every village of a program) on ``workers`` processes.

    Results come back in the order of ``docs``. ``progress(done, total)`` is called in
    this process after each notice. Every notice is gated; the first failure (privacy,
    font) is raised after the pool stops, so nothing partial is returned."""
    docs = list(docs)
    total = len(docs)
    results: list[bytes | None] = [None] * total
    font_arg = str(font) if font else None
    if progress:
        progress(0, total)
    if workers <= 1 or total <= 1 or not _can_spawn():
        for i, d in enumerate(docs):
            results[i] = render_pdf(d, paper=paper, font=font_arg, large=large)
            if progress:
                progress(i + 1, total)
        return [r for r in results if r is not None]
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    # "spawn" everywhere: the same on Windows, and safe when the caller (the TUI) has
    # threads running, which "fork" is not.
    ctx = multiprocessing.get_context("spawn")
    done = 0
    try:
        pool_cm = _start_pool(ctx, min(workers, total), font_arg)
    except (OSError, ValueError):
        pool_cm = None  # no way to start worker processes here: render in this one
    if pool_cm is None:
        for i, d in enumerate(docs):
            results[i] = render_pdf(d, paper=paper, font=font_arg, large=large)
            if progress:
                progress(i + 1, total)
        return [r for r in results if r is not None]
    try:
        with pool_cm as pool:
            futures = {pool.submit(_worker_render, d, paper, large): i for i, d in enumerate(docs)}
            try:
                for fut in as_completed(futures):
                    results[futures[fut]] = _unwrap(fut.result())
                    done += 1
                    if progress:
                        progress(done, total)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    except BrokenProcessPool:
        # A worker died (out of memory, killed, or no way to start one): finish here.
        for i, d in enumerate(docs):
            if results[i] is None:
                results[i] = render_pdf(d, paper=paper, font=font_arg, large=large)
                done += 1
                if progress:
                    progress(done, total)
    return [r for r in results if r is not None]
