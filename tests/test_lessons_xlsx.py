"""The lean .xlsx row reader (`xinyu.org.roster.table._sheet_values`, used by every import,
here for the lessons' import speed) gives exactly what openpyxl's `iter_rows(values_only=True)`
gives after `reset_dimensions()`: typed cells, dates under both epochs, gaps, rows and cells
without coordinates, rows out of order, inline and rich-text strings, error codes."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
from django.test import SimpleTestCase
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from xinyu.org.roster.table import _blank, _xlsx_rows


def openpyxl_rows(data: bytes) -> list[tuple[int, tuple[object, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.worksheets[0]
    sheet.reset_dimensions()
    out = [(n, tuple(v)) for n, v in enumerate(sheet.iter_rows(values_only=True), start=1) if not _blank(v)]
    book.close()
    return out


def ours(data: bytes) -> list[tuple[int, tuple[object, ...]]]:
    return [(n, tuple(v)) for n, v in _xlsx_rows(data)]


def saved(book: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def with_sheet(data: bytes, sheet_data: str) -> bytes:
    """The workbook with its first sheet's <sheetData> replaced."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(
                    r"<sheetData\s*/>|<sheetData>.*</sheetData>", sheet_data, body.decode(), flags=re.S
                )
                text = re.sub(r"<dimension [^>]*/>", "", text)
                body = text.encode()
            out.writestr(item, body)
    return buf.getvalue()


class LeanXlsxReaderTests(SimpleTestCase):
    def test_typed_cells_gaps_and_epochs(self) -> None:
        for epoch in (False, True):
            book = openpyxl.Workbook()
            book.epoch = openpyxl.utils.datetime.MAC_EPOCH if epoch else openpyxl.utils.datetime.WINDOWS_EPOCH
            ws = book.active
            ws.append(["班级", "日期", None, "节次"])
            ws.append([1, 2.5, dt.datetime(2026, 3, 1, 8, 30), True])
            ws["F5"] = "右边"
            ws["B7"] = dt.date(2025, 1, 2)
            ws["C7"] = dt.time(10, 30)
            ws["D7"] = dt.timedelta(hours=5)
            ws["A8"] = " 空格 "
            ws["A9"] = 1e20
            ws["B9"] = False
            ws["C9"] = 0
            ws["D9"] = "=1+1"  # no cached value: None
            ws["A10"] = CellRichText(["四年级", TextBlock(InlineFont(b=True), "1班")])
            data = saved(book)
            with self.subTest(mac_epoch=epoch):
                assert ours(data) == openpyxl_rows(data)
                assert ours(data)[1] == (2, (1, 2.5, dt.datetime(2026, 3, 1, 8, 30), True))

    def test_write_only_files_inline_strings(self) -> None:
        book = openpyxl.Workbook(write_only=True)
        ws = book.create_sheet()
        ws.append(["h1", None, "h3"])
        ws.append([None, None])
        ws.append([1, "二", dt.date(2026, 1, 1), False, 3.0])
        data = saved(book)
        assert ours(data) == openpyxl_rows(data) and len(ours(data)) == 2

    def test_handwritten_sheets(self) -> None:
        base = saved(openpyxl.Workbook())
        cases = {
            "no coordinates": '<sheetData><row><c t="inlineStr"><is><t>a</t></is></c><c><v>2</v></c></row>'
            '<row><c t="inlineStr"><is><t>b</t></is></c></row></sheetData>',
            "out of order": '<sheetData><row r="3"><c r="A3"><v>3</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
            '<row r="3"><c r="B3"><v>9</v></c></row><row r="5"><c r="C5" t="e"><v>#N/A</v></c></row></sheetData>',
            "rich inline": '<sheetData><row r="1"><c r="B1" t="inlineStr"><is><r><t>四年级</t></r><r><rPr><b/></rPr>'
            '<t xml:space="preserve">1 班</t></r><rPh sb="0" eb="1"><t>x</t></rPh></is></c><c r="A1" t="inlineStr"><is/></c>'
            '<c r="D1" t="str"><v>公式</v></c><c r="E1" t="b"><v>1</v></c><c r="F1" t="d"><v>2026-09-08T00:00:00</v></c>'
            "</row></sheetData>",
            "float row number": '<sheetData><row r="2.0"><c r="AA2"><v>1.5E3</v></c></row></sheetData>',
        }
        for name, sheet in cases.items():
            data = with_sheet(base, sheet)
            with self.subTest(name):
                assert ours(data) == openpyxl_rows(data)

    def test_a_broken_sheet_is_refused_as_corrupt(self) -> None:
        from xinyu.org.roster.errors import RosterFileError

        data = with_sheet(
            saved(openpyxl.Workbook()), '<sheetData><row r="x1"><c><v>1</v></c></row></sheetData>'
        )
        with self.assertRaises(RosterFileError) as ctx:
            list(_xlsx_rows(data))
        assert "corrupt" in ctx.exception.message_en
