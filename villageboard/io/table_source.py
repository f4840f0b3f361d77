"""What every table source (xlsx or csv) hands the reader: the first rows for finding
the header, the rest as a stream, and what is needed to read the same file again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from villageboard.domain.errors import VBError

__all__ = ["Source", "SourceKind", "TableError"]

SourceKind = Literal["xlsx", "csv"]


class TableError(VBError):
    """The file as a whole cannot be read (missing, old .xls, damaged, unknown encoding).

    Row-level trouble is never raised: it is returned in ``Sheet.problems`` so the clerk
    gets every problem at once.
    """


@dataclass
class Source:
    kind: SourceKind
    rows: Iterator[tuple[int, list[object]]]
    top: list[tuple[int, list[object]]]
    encoding: str | None = None
    sheet_name: str | None = None
    delimiter: str | None = None
    closer: object = None
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    filled: dict[int, set[int]] = field(default_factory=dict)

    def close(self) -> None:
        close = getattr(self.closer, "close", None)
        if close is not None:
            close()

    def all_rows(self) -> Iterator[tuple[int, list[object]]]:
        yield from self.top
        yield from self.rows
