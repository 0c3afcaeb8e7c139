"""An upload read as text rows by column, for the apps' own all-or-nothing imports (training's
enrolment, attendance and assessment lists; psych lessons; home visits).

`read_rows` reads the file with `read_table` (whole-file problems become one `ServiceError`
in Chinese and English on the field "file"), refuses a file missing a required column (naming
the missing and the expected columns) or without data rows, and gives every non-blank row as
`SheetRow` (its spreadsheet row number, header = row 1, and its cells as stripped text). The
app checks each row, collects `RowError`s and raises `ImportRejected` before writing anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xinyu.kernel.errors import ServiceError

from .cells import parse_date
from .errors import ParseError, RosterFileError, RowError
from .table import read_table


class ImportRejected(ServiceError):
    """The file is refused; `errors` lists every bad row (nothing was written)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        zh = f"文件有 {len(self.errors)} 处错误，未导入任何数据" + (
            f"：第 {first.row} 行 [{first.column}] {first.message_zh}" if first else ""
        )
        en = f"The file has {len(self.errors)} errors; nothing was imported" + (
            f": row {first.row} [{first.column}] {first.message_en}" if first else ""
        )
        super().__init__(zh, en, field="file")


@dataclass(frozen=True)
class SheetRow:
    number: int  # the spreadsheet's row number (header = row 1)
    cells: dict[str, str]


def cell_text(value: Any) -> str:
    """A cell as text: whole floats without ".0", dates as ISO dates, stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_rows(
    *, filename: str, data: bytes, columns: Sequence[str], required: Sequence[str]
) -> list[SheetRow]:
    """The rows of an upload as text by column; a missing required column refuses the file."""
    try:
        table = read_table(filename=filename, data=data)
        index = {name: i for i, name in enumerate(table.headers) if name}
        missing = [c for c in required if c not in index]
        if missing:
            raise ServiceError(
                "缺少列：" + "、".join(missing) + "（应有列：" + "、".join(columns) + "）",
                "Missing columns: " + ", ".join(missing) + " (expected: " + ", ".join(columns) + ")",
                field="file",
            )
        rows: list[SheetRow] = []
        for number, values in table.rows:
            cells = {
                c: cell_text(values[index[c]]) if index.get(c, 10**6) < len(values) else "" for c in columns
            }
            if any(cells.values()):
                rows.append(SheetRow(number, cells))
    except RosterFileError as exc:
        raise ServiceError(exc.message_zh, exc.message_en, field="file") from None
    if not rows:
        raise ServiceError("文件没有数据行", "The file has no data rows", field="file")
    return rows


def day(text: str) -> dt.date | None:
    """A date written as 2026-09-15, 2026/9/15, 2026.9.15, 2026年9月15日 or 20260915 (a time
    after it is ignored; `cells.parse_date`); None when it is not one."""
    try:
        return parse_date(text)
    except ParseError:
        return None
