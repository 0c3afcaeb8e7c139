"""Reading the file: an upload (.csv or .xlsx) as a header and lazy rows, the columns each
kind of import expects, and a reader per row that turns bad cells into `RowError`s on the plan.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings

from ..models import ImportKind
from .cells import _norm, _shown
from .errors import GBK_NOTICE, Notice, ParseError, RosterFileError

if TYPE_CHECKING:
    from .result import Plan

T = TypeVar("T")

# ---- reading the file ------------------------------------------------------------------

Row = tuple[int, Sequence[Any]]  # (spreadsheet row number, cell values)


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[Row]
    notices: list[Notice] = field(default_factory=list)


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_table(*, filename: str, data: bytes) -> Table:
    """Header (row 1) and a lazy iterator over the data rows of a .csv or .xlsx upload.

    Raises `RosterFileError` for a file that cannot be read at all."""
    limit: int = settings.XINYU_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise RosterFileError(
            f"文件过大（上限 {limit // (1024 * 1024)} MB）",
            f"file too big (limit {limit // (1024 * 1024)} MB)",
        )
    ext = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if ext == "xls" or (ext == "xlsx" and data.startswith(_OLE_MAGIC)):
        raise RosterFileError(
            "不支持旧版 Excel 97-2003（.xls）文件，请在 Excel 中另存为 .xlsx 后再上传",
            "old Excel 97-2003 (.xls) files are not supported: save the file as .xlsx and upload again",
        )
    if ext not in ("csv", "xlsx"):
        raise RosterFileError(
            f"不支持的文件类型“.{ext}”，请上传 .xlsx 或 .csv 文件" if ext else "请上传 .xlsx 或 .csv 文件",
            f"unsupported file type “.{ext}”: upload an .xlsx or .csv file"
            if ext
            else "upload an .xlsx or .csv file",
        )
    if not data.strip():
        raise RosterFileError("文件为空", "the file is empty")
    rows = _xlsx_rows(data) if ext == "xlsx" else None
    notices: list[Notice] = []
    if rows is None:
        rows, notice = _csv_rows(data)
        if notice:
            notices.append(notice)
    first = next(rows, None)
    if first is None:
        raise RosterFileError("文件为空", "the file is empty")
    number, values = first
    if number != 1:
        raise RosterFileError("第 1 行应为表头，但为空", "row 1 must be the header row but it is empty")
    header = [_header_name(v) for v in values]
    return Table(headers=header, rows=_require_data(rows), notices=notices)


def _require_data(rows: Iterator[Row]) -> Iterator[Row]:
    seen = False
    for row in rows:
        seen = True
        yield row
    if not seen:
        raise RosterFileError("文件只有表头，没有数据行", "the file has a header row but no data rows")


def _header_name(value: Any) -> str:
    return re.sub(r"\s+", "", _norm(value)).strip("*")


def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _csv_rows(data: bytes) -> tuple[Iterator[Row], Notice | None]:
    notice = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise RosterFileError(
                "无法识别文件编码，请另存为“CSV UTF-8”格式", "cannot decode the file: save it as CSV UTF-8"
            ) from None
        notice = GBK_NOTICE
    if "\x00" in text:
        raise RosterFileError(
            "文件内容不是文本，无法按 CSV 读取", "the file is not text and cannot be read as CSV"
        )
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","

    def rows() -> Iterator[Row]:
        try:
            for number, values in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
                if not _blank(values):
                    yield number, values
        except csv.Error as exc:
            raise RosterFileError("CSV 文件格式错误，无法读取", f"malformed CSV file: {exc}") from None

    return rows(), notice


def _xlsx_rows(data: bytes) -> Iterator[Row]:
    import openpyxl

    corrupt = RosterFileError(
        "Excel 文件已损坏或不是有效的 .xlsx 文件", "the Excel file is corrupt or not a valid .xlsx file"
    )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError) as exc:
        raise corrupt from exc
    except Exception as exc:  # openpyxl raises assorted errors for broken parts
        raise corrupt from exc
    if not workbook.worksheets:
        workbook.close()
        raise RosterFileError("文件为空", "the file is empty")

    def rows() -> Iterator[Row]:
        try:
            sheet = workbook.worksheets[0]
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # declared dimensions of untrusted files may lie
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if not _blank(values):
                    yield number, values
        except RosterFileError:
            raise
        except Exception as exc:
            raise corrupt from exc
        finally:
            workbook.close()

    return rows()


# ---- headers ---------------------------------------------------------------------------

STUDENT_HEADERS = ("学校代码", "年级", "班级", "学籍号", "姓名", "性别", "出生日期")
GUARDIAN_HEADERS = ("监护人姓名", "监护人电话", "监护人关系", "监护人2姓名", "监护人2电话", "监护人2关系")
STUDENT_OPTIONAL = ("校区", *GUARDIAN_HEADERS, "重点关注")
CLASS_HEADERS = ("学校代码", "年级", "班级")
CLASS_OPTIONAL = ("校区",)
STAFF_HEADERS = ("工号", "姓名", "学校代码", "角色")
STAFF_OPTIONAL = ("手机号", "专兼职", "年级", "班级")

HEADERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ImportKind.STUDENTS: (STUDENT_HEADERS, STUDENT_OPTIONAL),
    ImportKind.CLASSES: (CLASS_HEADERS, CLASS_OPTIONAL),
    ImportKind.STAFF: (STAFF_HEADERS, STAFF_OPTIONAL),
}


# ---- rows ------------------------------------------------------------------------------


class _RowReader:
    """Reads one row's cells by header name, turning parser failures into RowErrors."""

    __slots__ = ("index", "number", "ok", "plan", "values")

    def __init__(self, plan: Plan, index: dict[str, int], number: int, values: Sequence[Any]) -> None:
        self.plan, self.index, self.number, self.values = plan, index, number, values
        self.ok = True

    def raw(self, column: str) -> Any:
        i = self.index.get(column)
        if i is None or i >= len(self.values):
            return None
        value = self.values[i]
        return None if isinstance(value, str) and not value.strip() else value

    def fail(self, column: str, zh: str, en: str) -> None:
        self.ok = False
        self.plan.error(self.number, column, zh, en)

    def text(self, column: str, *, required: bool = True, max_length: int = 50) -> str:
        value = self.raw(column)
        if value is None:
            if required:
                self.fail(column, f"{column}不能为空", f"missing value: {column}")
            return ""
        text = _norm(value)
        if len(text) > max_length:
            self.fail(
                column,
                f"{column}过长（最多 {max_length} 个字）：{text[:40]}",
                f"too long (at most {max_length} characters): {text[:40]}",
            )
        return text

    def parse(self, column: str, parser: Callable[[Any], T], *, required: bool = True) -> T | None:
        value = self.raw(column)
        if value is None:
            if required:
                self.fail(column, f"{column}不能为空", f"missing value: {column}")
            return None
        try:
            return parser(value)
        except ParseError as exc:
            shown = _shown(value)
            self.fail(column, f"{column}{exc.zh}：{shown}", f"{exc.en}: {shown}")
            return None


def _check_headers(plan: Plan, table: Table) -> tuple[dict[str, int], list[int], bool]:
    """Header name → column index; indexes of columns without a header; whether all
    required headers are there."""
    required, optional = HEADERS[plan.kind]
    known = set(required) | set(optional)
    index: dict[str, int] = {}
    headless: list[int] = []
    for i, name in enumerate(table.headers):
        if not name:
            headless.append(i)
        elif name not in known:
            plan.error(1, name, f"未知列名：{name}", f"unknown column: {name}")
        elif name in index:
            plan.error(1, name, f"列名重复：{name}", f"duplicate column: {name}")
        else:
            index[name] = i
    missing = [name for name in required if name not in index]
    for name in missing:
        plan.error(1, name, f"缺少必填列：{name}", f"missing required column: {name}")
    return index, headless, not missing


def _rows(plan: Plan, table: Table, index: dict[str, int], headless: list[int]) -> Iterator[_RowReader]:
    """A reader per data row; values beyond the header or under an empty header are errors."""
    width = len(table.headers)
    for number, values in table.rows:
        plan.rows += 1
        reader = _RowReader(plan, index, number, values)
        stray = [i for i in headless if i < len(values) and not _blank([values[i]])]
        stray += [i for i in range(width, len(values)) if not _blank([values[i]])]
        if stray:
            letter = _column_letter(stray[0])
            reader.fail(
                f"{letter}",
                f"第 {letter} 列有数据但没有列名",
                f"value in column {letter}, which has no header",
            )
        yield reader


def _column_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
