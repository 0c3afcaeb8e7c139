"""The one Excel writer of every export.

Every sheet gets the same header style, an optional watermark (the sheet's first row, the
printed header and footer of every page and the file's properties), dates as dates, and
formula neutralisation: a text cell starting with = + - @, a tab or a carriage return is
stored as text, never as a formula (CSV/Excel injection), whoever typed it.

    book = Book(mark=watermark(user, now))
    sheet = book.sheet("台账", header=[...], widths=[10, 22])
    sheet.row([...]) / sheet.rows(...)
    return excel_response(book.save(), "ledger.xlsx")
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from django.utils import timezone

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WATERMARK = "内部资料 严禁外传 — 导出人 {name}（{username}）{at} / Internal, do not distribute — exported by {name} ({username}) at {at}"


def watermark(name: str, username: str, at: dt.datetime | None = None) -> str:
    """The line that names who exported the file and when."""
    when = timezone.localtime(at or timezone.now()).strftime("%Y-%m-%d %H:%M")
    return WATERMARK.format(name=name or username, username=username, at=when)


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def sheet_title(title: str, taken: Sequence[str] = ()) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the book."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:28] or "sheet"
    name, n = clean, 2
    while name in taken:
        name, n = f"{clean}{n}", n + 1
    return name


class Sheet:
    def __init__(self, ws: Worksheet, *, width: int) -> None:
        self.ws = ws
        self.width = width

    def row(self, values: Iterable[Any], *, bold: bool = False) -> None:
        from openpyxl.styles import Font

        self.ws.append(list(values))
        for cell in self.ws[self.ws.max_row]:
            value = cell.value
            if isinstance(value, str):
                if value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"  # text, never a formula
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            if bold:
                cell.font = Font(bold=True)

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.row(values)


class Book:
    """An .xlsx being written. `mark` (the watermark) goes on every sheet."""

    def __init__(self, *, mark: str = "", title: str = "") -> None:
        import openpyxl

        self._book = openpyxl.Workbook()
        self._fresh = True
        self.mark = mark
        self.title = title

    def sheet(
        self,
        title: str,
        *,
        header: Sequence[str] = (),
        widths: Sequence[int] = (),
        freeze: bool = True,
    ) -> Sheet:
        """A new sheet: the watermark row (if any), then the header in bold."""
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        if self._fresh:
            ws = self._book.active
            assert ws is not None
            ws.title = sheet_title(title)
            self._fresh = False
        else:
            ws = self._book.create_sheet(sheet_title(title, self._book.sheetnames))
        width = max(len(header), 1)
        sheet = Sheet(ws, width=width)
        if self.mark:
            ws.append([self.mark])
            if width > 1:
                ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
            ws["A1"].font = Font(bold=True, color="B91C1C")
            printed = self.mark.replace("&", "&&")  # "&" starts a code in Excel headers and footers
            for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter):
                part.center.text = printed
        if header:
            sheet.row(header, bold=True)
            if freeze:
                ws.freeze_panes = f"A{ws.max_row + 1}"  # a coordinate: ws.cell() would add an empty row
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        return sheet

    def filter(self, sheet: Sheet, *, header_row: int | None = None) -> None:
        """An auto-filter over the header and the rows written so far."""
        from openpyxl.utils import get_column_letter

        row = header_row or (2 if self.mark else 1)
        if sheet.ws.max_row > row:
            sheet.ws.auto_filter.ref = f"A{row}:{get_column_letter(sheet.width)}{sheet.ws.max_row}"

    def save(self) -> bytes:
        if self._fresh:
            self.sheet(self.title or "sheet")
        if self.mark:
            props = self._book.properties
            props.creator = self.mark
            props.lastModifiedBy = self.mark
            props.description = self.mark
        if self.title:
            self._book.properties.title = self.title
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()


def excel_response(content: bytes, filename: str) -> HttpResponse:
    """The file as a download (the name may be Chinese)."""
    from django.utils.http import content_disposition_header

    return HttpResponse(
        content,
        content_type=XLSX,
        headers={"Content-Disposition": content_disposition_header(as_attachment=True, filename=filename)},
    )
