"""Errors and notices of the roster import, each carrying its message in Chinese and English.

`RosterError` refuses an import (`RosterFileError`: the whole file cannot be read);
`ParseError` is what a cell parser raises; `RowError` is one bad cell or row of a plan and
`format_errors` prints them; a `Notice` tells the importer what the reader did (read as GBK).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


class RosterError(Exception):
    """A refused import; carries the message in Chinese and English."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


class RosterFileError(RosterError):
    """The whole file cannot be read (type, size, encoding, empty, corrupt)."""


class ParseError(ValueError):
    """A cell value a parser cannot read; `zh`/`en` say what is wrong, without the value."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class RowError:
    """One bad cell or row. `row` is the spreadsheet row (header = 1); `column` the header."""

    row: int
    column: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


@dataclass(frozen=True)
class Notice:
    message_zh: str
    message_en: str


GBK_NOTICE = Notice("已按 GBK 编码读取", "read as GBK")


def format_errors(errors: Iterable[RowError | dict[str, Any]]) -> Iterator[str]:
    """'第 3 行 [出生日期] 出生日期格式错误：… / row 3 [出生日期] bad date: …' lines."""
    for e in errors:
        d = e.as_dict() if isinstance(e, RowError) else e
        yield f"第 {d['row']} 行 [{d['column']}] {d['message_zh']} / row {d['row']} [{d['column']}] {d['message_en']}"
