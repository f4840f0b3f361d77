"""The one notice model every backend renders from.

A notice (公示) is built once, from the database, as a :class:`NoticeDocument`; the PDF,
PNG and HTML backends only lay it out. Keeping the model plain (strings only, already
masked and formatted by the caller) means the privacy gate can see exactly what will be
printed, and that the three outputs can never disagree with each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

ROW_KINDS = ("data", "subtotal", "total")
ALIGNS = ("L", "C", "R")


@dataclass
class Column:
    """One table column. ``numeric`` columns are right-aligned and never wrap, so
    amounts and areas stay on one line and line up by their decimal point; ``whole``
    text columns (program names) never wrap either."""

    label: str
    key: str
    align: str = "L"
    numeric: bool = False
    #: never wrapped (a program name stays whole): the page turns or the font shrinks
    whole: bool = False

    def __post_init__(self) -> None:
        if self.numeric and self.align == "L":
            self.align = "R"
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}, not {self.align!r}")


@dataclass
class Row:
    """One table row. ``kind`` is data | subtotal | total (subtotal and total rows are
    shaded). ``ref`` names the record for the privacy gate's error, e.g. "第3行 张伟"."""

    cells: list[str]
    kind: str = "data"
    ref: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ROW_KINDS:
            raise ValueError(f"row kind must be one of {ROW_KINDS}, not {self.kind!r}")
        self.cells = ["" if c is None else str(c) for c in self.cells]


@dataclass
class Table:
    """A titled table. A correction notice adds a table of changes (row, field, old,
    new); a year summary uses subtotal rows per program and a closing total row."""

    title: str
    columns: list[Column]
    rows: list[Row]
    #: Numeric columns summed on every page into a 本页小计 row (its label goes in
    #: column ``page_sum_label``) when the table runs over more than one page.
    page_sum: list[int] = field(default_factory=list)
    page_sum_label: int = 0

    def __post_init__(self) -> None:
        n = len(self.columns)
        for i, row in enumerate(self.rows, 1):
            if len(row.cells) != n:
                raise ValueError(f"table {self.title!r} row {i} has {len(row.cells)} cells for {n} columns")


@dataclass
class NoticeDocument:
    """Everything printed on one notice, as final display strings.

    ``totals_lines`` are printed prominently after the tables (the caller writes the
    amount also in Chinese capitals; see :func:`totals_line`). ``footer_lines`` (posting
    period, hotlines, supervision address) follow them on the last page. ``issuers``
    (issuing units), when given, are printed right-aligned above the issue date like a
    real notice's signature block. ``stamp`` (e.g. "公示期满存档 2026-12-01") puts a red
    archive stamp on every page. ``large`` asks for large print (body text ≥ 14 pt).
    ``page_templates`` (template name -> text) are the page templates a posted notice
    was posted with: the HTML form prints with them, not the current ones (empty: the
    current ones). ``panel`` lines are the key facts printed large in a box on page 1
    (what the notice is, households, total, objection deadline, phones, how to verify).
    ``layout`` is the poster layout it was posted in: 1 (before the key panel: 10.5 pt
    table, no 本页小计) or 2 (the current one). ``seals`` leaves a seal space (a light
    circle marked （盖章）) above each issuer's name: the township set the village
    committee to sign beside it.

    A signed paper (申报确认表, 发放清册, the county sheet) is not a notice: ``qr`` is
    False (no QR code; the page carries its number and ``code`` only) and
    ``signatures`` are the blanks people sign on ("申报人签字（按手印）", "经办人",
    "村委会（盖章）"…), each printed as its label and a line to write on, kept on the
    page of the totals. ``kind_label`` names the paper in the privacy gate's message.
    """

    title: str
    subtitle: str
    paragraphs: list[str]
    tables: list[Table]
    totals_lines: list[str]
    footer_lines: list[str]
    code: str
    version: int
    tag: str
    qr_payload: str
    issued_date: str
    stamp: str = ""
    large: bool = False
    issuers: list[str] = field(default_factory=list)
    page_templates: dict[str, str] = field(default_factory=dict)
    panel: list[str] = field(default_factory=list)
    layout: int = 2
    seals: bool = False
    qr: bool = True
    signatures: list[str] = field(default_factory=list)
    kind_label: str = "公示"

    def replace(self, **changes: object) -> NoticeDocument:
        """A copy with some fields changed (e.g. ``large=True`` or an archive stamp)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def texts(self) -> Iterator[tuple[str, str]]:
        """Every string that any backend prints or encodes, with a Chinese description of
        where it is. The privacy gate and the font coverage check both walk this, so
        nothing can reach a poster without passing them."""
        yield "标题", self.title
        yield "副标题", self.subtitle
        for i, line in enumerate(self.panel, 1):
            yield f"要点栏第{i}行", line
        for i, p in enumerate(self.paragraphs, 1):
            yield f"说明文字第{i}段", p
        many = len(self.tables) > 1
        for t_index, table in enumerate(self.tables, 1):
            prefix = f"{table.title or f'第{t_index}个表格'} " if many else ""
            if table.title:
                yield f"表格标题“{table.title}”", table.title
            for col in table.columns:
                yield f"{prefix}表头“{col.label}”", col.label
            for r_index, row in enumerate(table.rows, 1):
                ref = row.ref or f"第{r_index}行"
                for col, cell in zip(table.columns, row.cells, strict=True):
                    yield f"{prefix}{ref} “{col.label}”", cell
        for i, line in enumerate(self.totals_lines, 1):
            yield f"合计第{i}行", line
        for i, line in enumerate(self.footer_lines, 1):
            yield f"落款第{i}行", line
        for i, line in enumerate(self.issuers, 1):
            yield f"发布单位第{i}行", line
        for i, line in enumerate(self.signatures, 1):
            yield f"签字栏第{i}项", line
        yield "公示编号", self.code
        yield "版本", str(self.version)
        yield "核验码", self.tag
        yield "二维码内容", self.qr_payload
        yield "发布日期", self.issued_date
        if self.stamp:
            yield "存档章", self.stamp


def totals_line(
    households: int,
    amount_fen: int,
    quantity: str = "",
    unit: str = "",
    label: str = "合计",
) -> str:
    """The standard totals sentence, amount in figures and in Chinese capitals:
    ``合计：共 12 户，面积 35.5 亩，补贴金额 1,234.50 元（大写：人民币壹仟贰佰叁拾肆元伍角）``.
    Callers may write their own; this keeps every notice worded the same way."""
    from villageboard.domain.money import capital_amount, format_fen

    parts = [f"共 {households} 户"]
    if quantity:
        what = "面积" if unit in ("亩", "公顷", "平方米") else "数量"
        parts.append(f"{what} {quantity} {unit}".rstrip())
    parts.append(f"补贴金额 {format_fen(amount_fen)} 元（大写：{capital_amount(amount_fen)}）")
    return f"{label}：" + "，".join(parts)
