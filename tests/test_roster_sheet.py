"""`xinyu.org.roster.sheet`: the text rows the apps' own imports (training, lessons, home
visits) read, the dates they accept and the refusal that names the first bad row."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyu.kernel.errors import ServiceError
from xinyu.org.roster.errors import RowError
from xinyu.org.roster.sheet import ImportRejected, cell_text, day, read_rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-15", dt.date(2026, 9, 15)),
        ("2026/9/5", dt.date(2026, 9, 5)),
        ("2026.9.5", dt.date(2026, 9, 5)),
        ("2026年9月5日", dt.date(2026, 9, 5)),
        ("20260905", dt.date(2026, 9, 5)),
        ("2026-09-05 08:30", dt.date(2026, 9, 5)),
        ("2026-02-30", None),
        ("1850-01-01", None),
        ("", None),
        ("下周一", None),
    ],
)
def test_day(text: str, expected: dt.date | None) -> None:
    assert day(text) == expected


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(3.0) == "3" and cell_text(3.5) == "3.5"
    assert cell_text(dt.datetime(2026, 9, 5, 8, 30)) == "2026-09-05"
    assert cell_text("  张三 ") == "张三"


def _xlsx(rows: list[list[object]]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["学号", "姓名", "日期"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_read_rows_skips_blank_rows_and_numbers_them_as_the_spreadsheet() -> None:
    rows = read_rows(
        filename="a.xlsx",
        data=_xlsx([["001", "张三", dt.date(2026, 9, 5)], ["", "", ""], ["002", "李四", ""]]),
        columns=("学号", "姓名", "日期", "备注"),
        required=("学号", "姓名"),
    )
    assert [(r.number, r.cells) for r in rows] == [
        (2, {"学号": "001", "姓名": "张三", "日期": "2026-09-05", "备注": ""}),
        (4, {"学号": "002", "姓名": "李四", "日期": "", "备注": ""}),
    ]


def test_a_missing_required_column_names_it() -> None:
    with pytest.raises(ServiceError) as ctx:
        read_rows(
            filename="a.xlsx", data=_xlsx([["001", "张三", ""]]), columns=("学号", "形式"), required=("形式",)
        )
    assert "缺少列：形式" in ctx.value.message_zh and "Missing columns: 形式" in ctx.value.message_en


def test_no_data_rows_and_a_broken_file_are_refused() -> None:
    with pytest.raises(ServiceError, match="no data rows"):
        read_rows(filename="a.xlsx", data=_xlsx([]), columns=("学号",), required=("学号",))
    with pytest.raises(ServiceError) as ctx:
        read_rows(filename="a.xlsx", data=b"not a zip", columns=("学号",), required=("学号",))
    assert ctx.value.field == "file"


def test_import_rejected_names_the_count_and_the_first_row() -> None:
    exc = ImportRejected([RowError(3, "学号", "学号不能为空", "empty"), RowError(5, "日期", "x", "y")])
    assert exc.message_zh == "文件有 2 处错误，未导入任何数据：第 3 行 [学号] 学号不能为空"
    assert exc.message_en == "The file has 2 errors; nothing was imported: row 3 [学号] empty"
    assert exc.field == "file" and len(exc.errors) == 2
