"""Write a notice's public files all-or-nothing.

The privacy gate runs before anything else; then every format is rendered in memory,
written to temporary files in the output folder and only then moved into place. A
failure at any step (a personal number, a missing glyph, a full disk) leaves no new
file behind, so a half-written poster can never be printed by mistake.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from villageboard.domain.errors import StorageError, VBError
from villageboard.render.document import NoticeDocument
from villageboard.render.privacy import gate_document

FORMATS = ("pdf", "png", "html")


#: A stem's limit in UTF-8 bytes: with "-999.png" added it stays well inside the 255
#: bytes most file systems allow (a Chinese character takes 3 bytes, not 1).
STEM_BYTES = 200


def cut_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that is at most ``limit`` bytes in UTF-8."""
    return text.encode("utf-8")[: max(limit, 0)].decode("utf-8", "ignore")


def safe_stem(text: str) -> str:
    """A file-name stem safe on Windows and Linux (Chinese kept, separators removed),
    cut to :data:`STEM_BYTES` bytes. Callers put what must survive (the notice code)
    first."""
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "_", text).strip(" .")
    return cut_bytes(stem, STEM_BYTES).rstrip(" .") or "notice"


def render_all(
    doc: NoticeDocument,
    out_dir: Path | str,
    stem: str,
    formats: Sequence[str] = FORMATS,
    paper: str = "a4",
    large: bool | None = None,
    font: str | os.PathLike[str] | None = None,
    data_dir: Path | str | None = None,
    dpi: float | None = None,
    long: bool = False,
) -> list[Path]:
    """Render ``doc`` to ``out_dir/stem.pdf``, ``stem-1.png`` … and ``stem.html``.
    ``dpi`` is the PNG resolution; ``long`` makes one tall PNG instead of one a page.

    Returns the written paths. Raises PrivacyError / VBError with nothing written."""
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise VBError(f"不支持的输出格式：{'、'.join(unknown) or '（空）'}；可选 pdf、png、html。")
    if large is not None and large != doc.large:
        doc = doc.replace(large=large)
    gate_document(doc, f"公示《{doc.title}》")
    stem = safe_stem(stem)
    outputs: list[tuple[str, bytes]] = []
    pdf_bytes: bytes | None = None
    if "pdf" in wanted or "png" in wanted:
        from villageboard.render.pdf.paint import render_pdf

        pdf_bytes = render_pdf(doc, paper=paper, font=font)
    if "pdf" in wanted and pdf_bytes is not None:
        outputs.append((f"{stem}.pdf", pdf_bytes))
    if "png" in wanted and pdf_bytes is not None:
        from villageboard.render.png import DEFAULT_DPI, check_dpi, png_outputs

        outputs += png_outputs(stem, pdf_bytes, check_dpi(dpi or DEFAULT_DPI), long)
    if "html" in wanted:
        from villageboard.render.html import render_html

        outputs.append((f"{stem}.html", render_html(doc, data_dir=data_dir).encode("utf-8")))
    return _write_all(Path(out_dir), outputs)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_all(out_dir: Path, outputs: list[tuple[str, bytes]]) -> list[Path]:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"无法创建输出目录 {out_dir}：{exc.strerror or exc}") from None
    temps: list[tuple[Path, Path]] = []
    try:
        for name, data in outputs:
            fd, tmp = tempfile.mkstemp(prefix=".vb-", suffix=".part", dir=out_dir)
            tmp_path = Path(tmp)
            temps.append((tmp_path, out_dir / name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; posters are for sharing
        for tmp_path, final in temps:
            os.replace(tmp_path, final)
    except OSError as exc:
        for tmp_path, _final in temps:
            try:
                tmp_path.unlink()
            except OSError:
                pass
        raise StorageError(f"写入 {out_dir} 失败：{exc.strerror or exc}（没有留下不完整的文件）") from None
    return [final for _tmp, final in temps]


def write_rendered(
    doc: NoticeDocument,
    out_dir: Path | str,
    stem: str,
    pdf_bytes: bytes,
    formats: Sequence[str] = FORMATS,
    data_dir: Path | str | None = None,
    dpi: float | None = None,
    long: bool = False,
) -> list[Path]:
    """Like :func:`render_all` for a PDF already rendered (by a batch): gate again, make
    the PNG and HTML forms, and write every file all-or-nothing."""
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise VBError(f"不支持的输出格式：{'、'.join(unknown) or '（空）'}；可选 pdf、png、html。")
    gate_document(doc, f"公示《{doc.title}》")
    stem = safe_stem(stem)
    outputs: list[tuple[str, bytes]] = []
    if "pdf" in wanted:
        outputs.append((f"{stem}.pdf", pdf_bytes))
    if "png" in wanted:
        from villageboard.render.png import DEFAULT_DPI, check_dpi, png_outputs

        outputs += png_outputs(stem, pdf_bytes, check_dpi(dpi or DEFAULT_DPI), long)
    if "html" in wanted:
        from villageboard.render.html import render_html

        outputs.append((f"{stem}.html", render_html(doc, data_dir=data_dir).encode("utf-8")))
    return _write_all(Path(out_dir), outputs)


def write_private(path: Path | str, data: bytes) -> Path:
    """Write one internal file (a signed paper's PDF) all-or-nothing, readable by this
    user only (0600, as every internal export): a temp file in the same folder, synced,
    then moved over the old one."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vb-", suffix=".part", dir=path.parent)  # made 0600
    except OSError as exc:
        raise StorageError(f"无法写入 {path}：{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, PermissionError):
            raise StorageError(f"无法写入 {path}：文件可能正在打开，或没有写入权限。请关闭该文件后重试") from None
        raise StorageError(f"写入 {path} 失败：{exc.strerror or exc}（原来的文件没有改动）") from None
    return path
