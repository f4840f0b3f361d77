"""Reading a CSV saved by Excel or WPS: the encoding (UTF-8 with or without BOM, UTF-16,
GBK/GB18030 from Chinese Windows) and the delimiter (comma, tab, semicolon) are found
from the file itself."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from villageboard.io.headers import HEADER_SCAN_ROWS, HeaderMatcher, find_header
from villageboard.io.table_source import Source, TableError

__all__ = ["open_csv"]


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """BOM → that encoding; otherwise strict UTF-8; otherwise GB18030 (a superset of GBK,
    which is what Excel and WPS write on Chinese Windows)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    raise TableError(f"“{name}”的文字编码认不出来。请用 Excel 或 WPS 打开，另存为“CSV UTF-8”或 .xlsx 后再导入")


def _decode_as(data: bytes, encoding: str) -> str:
    if encoding == "utf-8-sig":
        return data.decode("utf-8-sig")
    return data.decode(encoding)


_DELIMITERS = (",", "\t", ";")


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[object]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):  # noqa: B007 - used in except
            yield number, list(record)
    except csv.Error as e:
        raise TableError(f"第{number + 1}行格式不对，读不下去（{e}）。请用 Excel 打开后重新另存为 CSV") from None


def open_csv(path: Path, matcher: HeaderMatcher, encoding: str | None = None, delimiter: str | None = None) -> Source:
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)  # long remarks must not abort the import
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TableError(f"读取文件 {path} 失败：{e.strerror or e}") from None
    if encoding is not None:
        text = _decode_as(data, encoding)
    else:
        text, encoding = _decode(data, path.name)
    head = text.lstrip()[:200].lower()
    if head.startswith(("<html", "<!doctype", "<table", "<?xml")):
        raise TableError(
            f"“{path.name}”其实是网页格式（有的系统导出的“xls”就是这样）。请用 Excel 或 WPS 打开，另存为 .xlsx 后再导入"
        )
    if delimiter is None:
        best: tuple[int, int, str] | None = None
        for d in _DELIMITERS:
            top = list(islice(_csv_records(text, d), HEADER_SCAN_ROWS))
            header = find_header(top, matcher)
            width = max((len(r) for _n, r in top), default=0)
            score = (header.score if header else 0, width)
            if best is None or score > best[:2]:
                best = (score[0], score[1], d)
        delimiter = best[2] if best else ","
    it = _csv_records(text, delimiter)
    top = list(islice(it, HEADER_SCAN_ROWS))
    return Source("csv", it, top, encoding=encoding, delimiter=delimiter)
