"""Reading an xlsx worksheet fast: the sheet XML streamed through expat, merged cells
filled in, and the worksheet whose header matches best chosen."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from villageboard.io.headers import HEADER_SCAN_ROWS, HeaderMatcher, find_header
from villageboard.io.table_source import Source, TableError

__all__ = ["iter_worksheet", "open_xlsx", "parse_sheet_xml"]


def open_xlsx(path: Path, matcher: HeaderMatcher, sheet_name: str | None, fill_merges: bool = True) -> Source:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on damaged files
        raise TableError(
            f"“{path.name}”打不开，可能已损坏或不是 Excel 文件（{type(e).__name__}）。"
            "请用 Excel 或 WPS 打开后另存为 .xlsx 再导入"
        ) from None
    try:
        if sheet_name is not None:
            if sheet_name not in wb.sheetnames:
                raise TableError(f"“{path.name}”里没有名为“{sheet_name}”的工作表")
            candidates = [wb[sheet_name]]
        else:
            sheets = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
            sheets = sheets or list(wb.worksheets)
            active = wb.active if wb.active in sheets else None
            candidates = ([active] if active is not None else []) + [s for s in sheets if s is not active]
        if not candidates:
            raise TableError(f"“{path.name}”里没有工作表")
        best: tuple[int, object, Iterator[tuple[int, list[object]]], list[tuple[int, list[object]]]] | None = None
        for ws in candidates:
            it = iter_worksheet(wb, ws)
            top = list(islice(it, HEADER_SCAN_ROWS))
            header = find_header(top, matcher)
            score = header.score if header else 0
            if best is None or score > best[0]:
                if best is not None:
                    best[2].close()  # type: ignore[attr-defined]
                best = (score, ws, it, top)
            else:
                it.close()  # type: ignore[attr-defined]
        assert best is not None
        _score, ws, it, top = best
        merges = _merged_ranges(wb, ws)
        filled: dict[int, set[int]] = {}
        if fill_merges and any(m[1] > m[0] for m in merges):
            top = list(_fill_merged(iter(top), merges, filled))
            it = _fill_merged(it, merges, filled)
        return Source(
            "xlsx",
            it,
            top,
            sheet_name=ws.title,  # type: ignore[attr-defined]
            closer=wb,
            merges=merges,
            filled=filled,
        )
    except TableError:
        wb.close()
        raise
    except Exception as e:
        wb.close()
        raise TableError(
            f"“{path.name}”内容读不出来，可能已损坏（{type(e).__name__}），请另存为 .xlsx 后再导入"
        ) from None


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _merged_ranges(wb: object, ws: object) -> list[tuple[int, int, int, int]]:
    """Merged ranges as (first row, last row, first col, last col), 1-based.

    Clerks merge the 村 or 组 cell over all its households; Excel shows the value on
    every one of those rows, so the reader must too. openpyxl's read-only mode does not
    report merges, so the ``<mergeCell>`` elements are read from the sheet's XML (a
    quick scan; on any trouble merges are simply not filled).
    """
    try:
        data = wb._archive.read(ws._worksheet_path)  # type: ignore[attr-defined]
    except Exception:
        return []
    out = []
    for m in _MERGE_REF.finditer(data):
        c1, r1, c2, r2 = _column_number(m[1]), int(m[2]), _column_number(m[3]), int(m[4])
        if r2 >= r1 and c2 >= c1:
            out.append((r1, r2, c1, c2))
    return out


def _fill_merged(
    rows: Iterator[tuple[int, list[object]]],
    merges: list[tuple[int, int, int, int]],
    filled: dict[int, set[int]],
) -> Iterator[tuple[int, list[object]]]:
    """Copy each vertically merged cell's value into every cell of its range, noting in
    ``filled`` (row → 0-based columns) which values came from a merge."""
    starts: dict[int, list[tuple[int, int, int, int]]] = {}
    for m in merges:
        if m[1] > m[0]:
            starts.setdefault(m[0], []).append(m)
    active: list[tuple[int, int, int, object]] = []  # (last row, first col, last col, value)
    for number, cells in rows:
        if active:
            active = [a for a in active if a[0] >= number]
        for _r1, r2, c1, c2 in starts.get(number, ()):
            value = cells[c1 - 1] if c1 - 1 < len(cells) else None
            if value is not None:
                active.append((r2, c1, c2, value))
        for _last, c1, c2, value in active:
            if len(cells) < c2:
                cells.extend([None] * (c2 - len(cells)))
            for c in range(c1 - 1, c2):
                if cells[c] is None:
                    cells[c] = value
                    filled.setdefault(number, set()).add(c)
        yield number, cells


def iter_worksheet(wb: object, ws: object) -> Iterator[tuple[int, list[object]]]:
    """Rows of a worksheet as (Excel row number, values), blank rows included.

    The sheet XML is streamed through :func:`parse_sheet_xml` (expat, a few callbacks per
    cell), which reads a 10,000-row sheet several times faster than openpyxl's own
    read-only row parser while giving the same values. The workbook parts it needs
    (shared strings, which styles are dates, the date epoch) still come from openpyxl's
    ``load_workbook(read_only=True, data_only=True)``. Should those internals ever be
    missing, openpyxl's ``iter_rows`` is used instead.
    """
    try:
        shared = ws._shared_strings  # type: ignore[attr-defined]
        date_styles = set(wb._date_formats)  # type: ignore[attr-defined]
        timedelta_styles = set(wb._timedelta_formats)  # type: ignore[attr-defined]
        epoch = wb.epoch  # type: ignore[attr-defined]
        opener = wb._archive.open  # type: ignore[attr-defined]
        part = ws._worksheet_path  # type: ignore[attr-defined]
    except AttributeError:
        ws.reset_dimensions()  # type: ignore[attr-defined]  # some writers record a wrong size
        rows = ws.iter_rows(min_row=1, values_only=True)  # type: ignore[attr-defined]
        for number, values in enumerate(rows, start=1):
            yield number, list(values)
        return
    with opener(part) as stream:
        yield from parse_sheet_xml(stream, shared, date_styles, timedelta_styles, epoch)


class _SheetHandler:
    """expat callbacks for ``<sheetData>``: builds each row's value list the way
    openpyxl's read-only reader with ``data_only=True`` would."""

    def __init__(
        self,
        shared: Sequence[object],
        date_styles: set[int],
        timedelta_styles: set[int],
        epoch: dt.datetime,
    ) -> None:
        self.shared = shared
        self.date_styles = date_styles
        self.timedelta_styles = timedelta_styles
        self.epoch = epoch
        self.done: list[tuple[int, list[object]]] = []
        self.row_number = 0
        self.cells: list[object] = []
        self.col = 0
        self.ctype = "n"
        self.style = 0
        self.text: list[str] | None = None  # collecting <v> or inline <t>
        self.value: str | None = None
        self.inline: list[str] | None = None
        self.in_is = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                n = 0
                for ch in letters.upper():
                    n = n * 26 + ord(ch) - 64
                self.col = n
            else:
                self.col += 1
            self.ctype = attrs.get("t", "n")
            sid = attrs.get("s")
            self.style = int(sid) if sid else 0
            self.value = None
            self.inline = None
        elif tag == "v":
            self.text = []
        elif tag == "row":
            ref = attrs.get("r")
            if ref:
                try:
                    self.row_number = int(ref)
                except ValueError:
                    self.row_number = int(float(ref))
            else:
                self.row_number += 1
            self.cells = []
            self.col = 0
        elif tag == "is":
            self.in_is = True
            self.inline = []
        elif tag == "t" and self.in_is and not self.phonetic:
            self.text = []
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            value = self._cell_value()
            if value is not None:
                cells = self.cells
                if len(cells) < self.col:
                    cells.extend([None] * (self.col - len(cells)))
                cells[self.col - 1] = value
        elif tag == "v":
            self.value = "".join(self.text) if self.text is not None else None
            self.text = None
        elif tag == "row":
            self.done.append((self.row_number, self.cells))
        elif tag == "t" and self.text is not None and self.in_is:
            assert self.inline is not None
            self.inline.append("".join(self.text))
            self.text = None
        elif tag == "is":
            self.in_is = False
        elif tag == "rPh":
            self.phonetic -= 1

    def chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _cell_value(self) -> object:
        if self.ctype == "inlineStr":
            return "".join(self.inline) if self.inline is not None else None
        return _convert(
            self.ctype, self.style, self.value, self.shared, self.date_styles, self.timedelta_styles, self.epoch
        )


def _convert(
    t: str,
    style: int,
    value: str | None,
    shared: Sequence[object],
    date_styles: set[int],
    timedelta_styles: set[int],
    epoch: dt.datetime,
) -> object:
    """A cell's value from its type, style and ``<v>`` text (inline strings apart)."""
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    v = value or None
    if v is None:
        return None
    if t == "n":
        number: int | float = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
        if style in date_styles:
            try:
                return from_excel(number, epoch, timedelta=style in timedelta_styles)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
    if t == "s":
        return shared[int(v)]
    if t == "b":
        return bool(int(v))
    if t == "d":
        return from_ISO8601(v)
    return v  # "str" (a formula's text result), "e" (#N/A …)


def _refuse_dtd(*_args: object) -> None:
    raise ValueError("表格文件里含有 DTD，不是正常的 Excel 文件")


def parse_sheet_xml(
    stream: io.RawIOBase | io.BufferedIOBase | BinaryIO,
    shared: Sequence[object],
    date_styles: set[int],
    timedelta_styles: set[int],
    epoch: dt.datetime,
    chunk_size: int = 1 << 16,
) -> Iterator[tuple[int, list[object]]]:
    """Stream a worksheet part: yield (row number, values) for every row from 1 up to
    the last one, with ``[]`` for rows the file leaves out — exactly the rows and values
    openpyxl's read-only ``iter_rows(values_only=True)`` gives with ``data_only=True``.

    DTDs and entity declarations are refused outright (no "billion laughs").

    Most sheets (Excel's, WPS's, openpyxl's) are plain enough to be read with one
    regular expression over the whole part, several times faster than a callback per
    element: :func:`_plain_rows` does that after expat has checked that the part is
    well-formed, and gives up (then the callbacks are used) on anything else.
    """
    import xml.parsers.expat as expat

    data = stream.read()
    check = expat.ParserCreate()
    check.StartDoctypeDeclHandler = _refuse_dtd
    check.EntityDeclHandler = _refuse_dtd
    try:
        check.Parse(data, True)  # well-formed, no DTD
        plain = _plain_rows(data, shared, date_styles, timedelta_styles, epoch)
    except Exception:
        plain = None  # not plain or not well-formed: the callbacks read it, as before
    if plain is not None:
        yield from _in_order(iter(plain))
        return
    stream = io.BytesIO(data)
    handler = _SheetHandler(shared, date_styles, timedelta_styles, epoch)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.chars
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd

    def parsed() -> Iterator[tuple[int, list[object]]]:
        read = stream.read
        while True:
            chunk = read(chunk_size)
            parser.Parse(chunk, not chunk)
            yield from handler.done
            handler.done.clear()
            if not chunk:
                break

    yield from _in_order(parsed())


def _in_order(rows: Iterator[tuple[int, list[object]]]) -> Iterator[tuple[int, list[object]]]:
    """Every row number from 1 up, ``[]`` for the rows the file leaves out; a row
    out of order is dropped, as openpyxl drops it."""
    expected = 1
    for number, cells in rows:
        if number < expected:
            continue
        while expected < number:
            yield expected, []
            expected += 1
        yield number, cells
        expected += 1


# One token of a plain <sheetData>: a row opening (self-closing or not), a row end, or
# a whole cell with attributes r, s, t in Excel's order, an optional formula, an
# optional value and an optional plain inline string. Anything else (comments, CDATA,
# rich text runs, phonetic runs, prefixes, other attributes, spaces between a cell's
# parts) is left over, and the callback parser reads the sheet instead.
_TOKEN = re.compile(
    r"""\s*(?:
    <row\ r="(\d+)"[^<>/]*(/?)>
    |(</row>)
    |<c\ r="([A-Z]{1,3})\d+"(?:\ s="(\d+)")?(?:\ t="(\w+)")?\s*
      (?:/>
      |>(?:<f(?:\ [^<>]*)?/>|<f(?:\ [^<>]*)?>[^<]*</f>)?
        (?:<v>([^<]*)</v>|<v/>)?
        (<is>(?:<t(?:\ xml:space="preserve")?>([^<]*)</t>|<t(?:\ xml:space="preserve")?/>)?</is>|<is/>)?
        </c>)
    )""",
    re.X,
)
_ENTITY = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(m: re.Match[str]) -> str:
    if m[1]:
        return chr(int(m[1], 16))
    if m[2]:
        return chr(int(m[2]))
    return _NAMED[m[3]]


def _text(raw: str) -> str:
    """Character data as an XML parser reports it: line ends normalised, then
    references replaced (the part is known to be well-formed)."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return _ENTITY.sub(_entity, raw) if "&" in raw else raw


class _NotPlain(Exception):
    pass


#: Characters of sheet XML tokenised at a time (a piece ends after a row's end tag).
PIECE = 1 << 20


def _tokens(body: str) -> Iterator[tuple[str, ...]]:
    """The tokens of ``body``, about ``PIECE`` characters (cut after a row's end tag,
    which no text or attribute can hold) at a time, so a large sheet's tokens are
    never all in memory; _NotPlain when any piece has something they do not cover."""
    piece = PIECE
    pos, n = 0, len(body)
    while pos < n:
        cut = body.find("</row>", pos + piece)
        end = n if cut < 0 else cut + len("</row>")
        part = body[pos:end]
        if _TOKEN.sub("", part).strip():
            raise _NotPlain
        yield from _TOKEN.findall(part)
        pos = end


def _plain_rows(
    data: bytes,
    shared: Sequence[object],
    date_styles: set[int],
    timedelta_styles: set[int],
    epoch: dt.datetime,
) -> list[tuple[int, list[object]]] | None:
    """The rows of a plain, well-formed, UTF-8 worksheet part, as the callbacks would
    give them (before :func:`_in_order`); None when the part is not plain enough."""
    head = data[:200]
    if not head.startswith(b"<") or (b"encoding=" in head and not re.search(rb'encoding=["\']utf-?8["\']', head, re.I)):
        return None
    start, end = data.find(b"<sheetData>"), data.rfind(b"</sheetData>")
    if start < 0 or end < start or data.find(b"<sheetData", start + 1) >= 0 or b"<!" in data[:start]:
        return None  # no plain <sheetData>, two of them (never in a real file), or a DTD
    try:
        body = data[start + len(b"<sheetData>") : end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    rows: list[tuple[int, list[object]]] = []
    cells: list[object] | None = None
    number = 0
    columns: dict[str, int] = {}
    for rnum, self_closing, row_end, letters, style, ctype, v, inline, itext in _tokens(body):
        if rnum:
            if cells is not None:
                return None
            number = int(rnum)
            cells = []
            if self_closing:
                rows.append((number, cells))
                cells = None
            continue
        if row_end:
            if cells is None:
                return None
            rows.append((number, cells))
            cells = None
            continue
        if cells is None:
            return None  # a cell outside a row
        col = columns.get(letters)
        if col is None:
            col = columns[letters] = _column_number(letters.encode())
        t = ctype or "n"
        if t == "inlineStr":
            value: object = (_text(itext) if "&" in itext or "\r" in itext else itext) if inline else None
        elif t == "s" and v:
            value = shared[int(v)]
        elif t == "n" and v and not style and "&" not in v:
            value = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
        else:
            value = _convert(
                t, int(style) if style else 0, _text(v) if v else None, shared, date_styles, timedelta_styles, epoch
            )
        if value is not None:
            if len(cells) < col:
                cells.extend([None] * (col - len(cells)))
            cells[col - 1] = value
    if cells is not None:
        return None
    return rows
