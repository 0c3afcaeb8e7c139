"""Roster import: students, grades/classes and staff from .xlsx or .csv with Chinese headers.

SPEC §1 (organisation: school → campus → grade → class → student), §2 (who may import and
into which schools), §4 (key populations, 重点对象). The flow is always the same:

1. `read_table` turns the upload into a header and rows (whole-file problems raise
   `RosterFileError` with one clear message in Chinese and English);
2. a planner checks every row against the importer's scope (`policy.import_schools_for`)
   and the database, collecting every `RowError` and what would be created, updated or
   moved — nothing is written;
3. `apply_batch` re-plans from the stored bytes inside one transaction and writes
   everything (with its audit rows) or nothing.

A school outside the importer's scope is reported exactly like an unknown school. The
import never deletes: students, guardians, flags and roles missing from a file are left
as they are. Log lines carry counts and batch ids only, never names or phones.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.audit.models import Action
from xinyu.audit.services import record, record_many_students

from .models import (
    GRADE_NAMES,
    Campus,
    Employment,
    Enrollment,
    Gender,
    Grade,
    Guardian,
    ImportBatch,
    ImportKind,
    ImportStatus,
    KeyPopulation,
    Role,
    RoleAssignment,
    School,
    SchoolClass,
    Student,
    StudentFlag,
    StudentStatus,
    User,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ERRORS_LISTED = 200  # row errors kept in a batch summary; the rest are counted
MAX_SAMPLES = 100  # creates / updates / moves listed in a preview
DB_CHUNK = 900  # values per `IN (...)` query (SQLite's historic variable limit)
SOURCE = "import"  # Enrollment.source for history written here

# ---- messages ----------------------------------------------------------------------------


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


# ---- cell parsers (pure; raise only ParseError) -----------------------------------------

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _norm(value: Any) -> str:
    """Cell value as stripped text, full-width forms folded (NFKC), integral floats as ints."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _small_number(text: str) -> int | None:
    """'12', '十二', '二十三' → int (0–99); anything else → None."""
    if re.fullmatch(r"[0-9]{1,3}", text):
        return int(text)
    m = re.fullmatch(r"([一二两三四五六七八九])?(十)?([一二三四五六七八九])?", text)
    if not m or not text:
        return None
    tens, ten, units = m.groups()
    if tens and not ten and units:  # '二三' is not a number
        return None
    if ten:
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return _CN_DIGITS[tens or units] if (tens or units) else None


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def parse_grade(value: Any) -> int:
    """Grade level 1–12 from '4', 4, '四年级', '4年级', '初一', '七年级', '初中一年级', '高二'…"""
    number = _whole_number(value)
    if number is None:
        text = re.sub(r"\s+", "", _norm(value))
        offset = 0
        for prefix, add in (("小学", 0), ("初中", 6), ("高中", 9), ("初", 6), ("高", 9)):
            if text.startswith(prefix):
                text, offset = text[len(prefix) :], add
                break
        text = text.removesuffix("年级")
        number = _small_number(text)
        if number is not None:
            if offset and not 1 <= number <= 3:
                number = None
            else:
                number += offset
    if number is None or not 1 <= number <= 12:
        raise ParseError("无法识别", "unknown grade")
    return number


def parse_class_number(value: Any) -> int:
    """Class number 1–99 from '1', 1, '1班', '(1)班', '（1）班', '一班'."""
    number = _whole_number(value)
    if number is None:
        text = re.sub(r"\s+", "", _norm(value)).removesuffix("班")
        if text.startswith("(") and text.endswith(")"):
            text = text[1:-1]
        number = _small_number(text)
    if number is None or not 1 <= number <= 99:
        raise ParseError("无法识别", "unknown class")
    return number


_DATE_RES = (
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?", re.ASCII),
    re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII),
)


def parse_date(value: Any) -> dt.date:
    """A date from an Excel date cell, '2015-03-01', '2015/3/1', '2015.3.1', '2015年3月1日'
    or '20150301'."""
    if isinstance(value, dt.date):
        cell = value.date() if isinstance(value, dt.datetime) else value
        if cell.year < 1900:
            raise ParseError("格式错误", "bad date")
        return cell
    text = _norm(value)
    for pattern in _DATE_RES:
        m = pattern.fullmatch(text)
        if m:
            year, month, day = (int(g) for g in m.groups())
            if year < 1900:
                break
            try:
                return dt.date(year, month, day)
            except ValueError:
                break
    raise ParseError("格式错误", "bad date")


def parse_birth_date(value: Any) -> dt.date:
    born = parse_date(value)
    if born > timezone.localdate():
        raise ParseError("晚于今天", "date in the future")
    return born


_GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "M": Gender.MALE, "F": Gender.FEMALE}
_GENDERS |= {"男性": Gender.MALE, "女性": Gender.FEMALE, "MALE": Gender.MALE, "FEMALE": Gender.FEMALE}


def parse_gender(value: Any) -> str:
    gender = _GENDERS.get(_norm(value).upper())
    if gender is None:
        raise ParseError("无效（应为 男/女）", "bad gender (expected 男/女/M/F)")
    return str(gender)


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def parse_phone(value: Any) -> str:
    """A Chinese mobile (1[3-9] + 9 digits) or a landline with area code (0xx-xxxxxxxx)."""
    text = re.sub(r"\s+", "", _norm(value)).removeprefix("+86")
    if _MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text):
        return text
    raise ParseError("格式错误", "bad phone")


_FLAG_LABELS: dict[str, str] = {
    "留守": KeyPopulation.LEFT_BEHIND,
    "留守儿童": KeyPopulation.LEFT_BEHIND,
    "单亲": KeyPopulation.SINGLE_PARENT,
    "单亲家庭": KeyPopulation.SINGLE_PARENT,
    "家庭经济困难": KeyPopulation.POOR_FAMILY,
    "经济困难": KeyPopulation.POOR_FAMILY,
    "困难家庭": KeyPopulation.POOR_FAMILY,
    "问题家庭": KeyPopulation.PROBLEM_FAMILY,
    "残疾或重病": KeyPopulation.DISABILITY_ILLNESS,
    "残疾": KeyPopulation.DISABILITY_ILLNESS,
    "重病": KeyPopulation.DISABILITY_ILLNESS,
    "精神疾病史": KeyPopulation.MENTAL_ILLNESS_HISTORY,
    "学业困难": KeyPopulation.ACADEMIC_DIFFICULTY,
    "心理问题": KeyPopulation.PSYCH_PROBLEM,
} | {str(v): str(v) for v in KeyPopulation.values}


def parse_flags(value: Any) -> set[str]:
    """Key-population labels (SPEC §4) separated by ; ； 、 ， or ','."""
    kinds: set[str] = set()
    for part in re.split(r"[;；、，,/\s]+", _norm(value)):
        if not part:
            continue
        kind = _FLAG_LABELS.get(part)
        if kind is None:
            raise ParseError(f"含未知标签“{part}”", f"unknown label “{part}”")
        kinds.add(kind)
    return kinds


_ROLE_LABELS: dict[str, tuple[str, str]] = {
    # label → (role, employment implied by the label)
    "心理教师": (Role.PSYCH_TEACHER, ""),
    "心理健康教师": (Role.PSYCH_TEACHER, ""),
    "专职心理教师": (Role.PSYCH_TEACHER, Employment.FULL_TIME),
    "兼职心理教师": (Role.PSYCH_TEACHER, Employment.PART_TIME),
    "班主任": (Role.CLASS_TEACHER, ""),
    "年级组长": (Role.GRADE_LEADER, ""),
    "校领导": (Role.SCHOOL_LEADER, ""),
    "校长": (Role.SCHOOL_LEADER, ""),
    "分管副校长": (Role.SCHOOL_LEADER, ""),
    "区级管理员": (Role.DISTRICT_ADMIN, ""),
    "指导中心专家": (Role.CENTRE_EXPERT, ""),
    "辅导站专家": (Role.CENTRE_EXPERT, ""),
}
ROLE_NAMES_ZH: dict[str, str] = {
    Role.PSYCH_TEACHER: "心理教师",
    Role.CLASS_TEACHER: "班主任",
    Role.GRADE_LEADER: "年级组长",
    Role.SCHOOL_LEADER: "校领导",
    Role.DISTRICT_ADMIN: "区级管理员",
    Role.CENTRE_EXPERT: "指导中心专家",
}
DISTRICT_ROLES = {Role.DISTRICT_ADMIN, Role.CENTRE_EXPERT}


def parse_role(value: Any) -> tuple[str, str]:
    found = _ROLE_LABELS.get(re.sub(r"\s+", "", _norm(value)))
    if found is None:
        raise ParseError(
            "无法识别（应为 心理教师/班主任/年级组长/校领导/区级管理员/指导中心专家）", "unknown role"
        )
    return str(found[0]), str(found[1])


def parse_employment(value: Any) -> str:
    text = _norm(value)
    if text in ("专职", "全职"):
        return str(Employment.FULL_TIME)
    if text == "兼职":
        return str(Employment.PART_TIME)
    raise ParseError("无效（应为 专职/兼职）", "bad employment (expected 专职/兼职)")


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


def perm_for(kind: str) -> Perm:
    """Staff import is for district admins only (IMPORT_STAFF); the rest is IMPORT_ROSTER."""
    return policy.import_perm(kind)


# ---- the plan --------------------------------------------------------------------------


@dataclass
class Plan:
    """What an import would do (or did). `ops` holds the write set for `apply_batch`."""

    kind: str
    filename: str = ""
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"create": 0, "update": 0, "move": 0, "unchanged": 0}
    )
    samples: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"create": [], "update": [], "move": []}
    )
    extra: dict[str, int] = field(default_factory=dict)
    ops: Any = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def changes(self) -> int:
        return self.counts["create"] + self.counts["update"] + self.counts["move"]

    def error(self, row: int, column: str, zh: str, en: str) -> None:
        self.errors.append(RowError(row, column, zh, en))

    def note(self, what: str, entry: dict[str, Any] | None = None) -> None:
        self.counts[what] += 1
        if entry is not None and len(self.samples[what]) < MAX_SAMPLES:
            self.samples[what].append(entry)

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: e.row)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary stored on the batch and shown by the preview page."""
        errors = self.sorted_errors()
        return {
            "kind": self.kind,
            "filename": self.filename,
            "rows": self.rows,
            "valid": self.valid,
            "counts": dict(self.counts),
            "extra": dict(self.extra),
            "samples": self.samples,
            "errors": [e.as_dict() for e in errors[:MAX_ERRORS_LISTED]],
            "error_count": len(errors),
            "notices": [{"message_zh": n.message_zh, "message_en": n.message_en} for n in self.notices],
        }


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


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return _norm(value)[:40]


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


def _chunks(items: Sequence[T], size: int = DB_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---- the importer's world ------------------------------------------------------------


@dataclass
class _Scope:
    """Everything the planners look up, loaded once: schools in the importer's scope by
    code, and their campuses, grades and classes."""

    schools: dict[str, School]
    campuses: dict[tuple[int, str], Campus]
    grades: dict[tuple[int, int], Grade]
    classes: dict[tuple[int, int, int], SchoolClass]  # (school id, level, number)
    class_by_id: dict[int, SchoolClass]

    @classmethod
    def load(cls, actor: User, perm: Perm) -> _Scope:
        schools = {s.code.upper(): s for s in policy.import_schools_for(actor, perm)}
        by_id = {s.pk: s for s in schools.values()}
        ids = list(by_id)
        campuses: dict[tuple[int, str], Campus] = {}
        grades: dict[tuple[int, int], Grade] = {}
        classes: dict[tuple[int, int, int], SchoolClass] = {}
        grade_by_id: dict[int, Grade] = {}
        for chunk in _chunks(ids):
            for campus in Campus.objects.filter(school_id__in=chunk):
                campuses[(campus.school_id, campus.name)] = campus
            for grade in Grade.objects.filter(school_id__in=chunk):
                grade.school = by_id[grade.school_id]
                grades[(grade.school_id, grade.level)] = grade
                grade_by_id[grade.pk] = grade
            for klass in SchoolClass.objects.filter(school_id__in=chunk):
                klass.school = by_id[klass.school_id]
                klass.grade = grade_by_id[klass.grade_id]
                classes[(klass.school_id, klass.grade.level, klass.number)] = klass
        return cls(schools, campuses, grades, classes, {c.pk: c for c in classes.values()})

    def school(self, reader: _RowReader, *, required: bool = True) -> School | None:
        code = reader.text("学校代码", required=required, max_length=30)
        if not code:
            return None
        school = self.schools.get(code.upper())
        if school is None:  # out of scope looks exactly like unknown (SPEC §2)
            reader.fail("学校代码", f"学校代码不存在：{code}", f"unknown school code: {code}")
        return school

    def campus(self, reader: _RowReader, school: School | None) -> Campus | None:
        name = reader.text("校区", required=False, max_length=100)
        if not name or school is None:
            return None
        campus = self.campuses.get((school.pk, name))
        if campus is None:
            reader.fail("校区", f"校区不存在：{name}", f"unknown campus: {name}")
        return campus


def class_label(klass: SchoolClass) -> str:
    return f"{klass.school.code} {GRADE_NAMES.get(klass.grade.level, klass.grade.level)}{klass.number}班"


# ---- students --------------------------------------------------------------------------

GuardianTuple = tuple[str, str, str]  # name, relation, phone


@dataclass(slots=True)
class _StudentRow:
    number: int
    student_no: str
    name: str
    gender: str
    birth_date: dt.date
    school_class: SchoolClass
    guardians: list[GuardianTuple] | None  # None: the file says nothing about guardians
    flags: set[str] | None


@dataclass(slots=True)
class _StudentChange:
    student: Student
    row: _StudentRow
    moved: bool
    from_class_id: int
    from_school_id: int
    guardians: list[GuardianTuple] | None
    new_flags: set[str]


@dataclass
class _StudentOps:
    creates: list[_StudentRow] = field(default_factory=list)
    changes: list[_StudentChange] = field(default_factory=list)


def _read_guardians(reader: _RowReader) -> list[GuardianTuple] | None:
    found: list[GuardianTuple] = []
    for prefix in ("监护人", "监护人2"):
        name = reader.text(f"{prefix}姓名", required=False)
        relation = reader.text(f"{prefix}关系", required=False, max_length=20)
        phone = reader.parse(f"{prefix}电话", parse_phone, required=False)
        has_phone_cell = reader.raw(f"{prefix}电话") is not None
        if not (name or relation or has_phone_cell):
            continue
        if not name:
            reader.fail(f"{prefix}姓名", f"{prefix}姓名不能为空", f"missing value: {prefix}姓名")
        if not has_phone_cell:
            reader.fail(f"{prefix}电话", f"{prefix}电话不能为空", f"missing value: {prefix}电话")
        if name and phone:
            found.append((name, relation, phone))
    return found or None


def _read_student_class(reader: _RowReader, scope: _Scope, school: School | None) -> SchoolClass | None:
    level = reader.parse("年级", parse_grade)
    number = reader.parse("班级", parse_class_number)
    if school is None or level is None or number is None:
        return None
    grade_name = GRADE_NAMES[level]
    if (school.pk, level) not in scope.grades:
        reader.fail(
            "年级",
            f"年级不存在：{school.code} {grade_name}（请先导入年级班级）",
            f"unknown grade: {school.code} grade {level} (import classes first)",
        )
        return None
    klass = scope.classes.get((school.pk, level, number))
    if klass is None:
        reader.fail(
            "班级",
            f"班级不存在：{school.code} {grade_name}{number}班（请先导入年级班级）",
            f"unknown class: {school.code} grade {level} class {number} (import classes first)",
        )
    return klass


_STUDENT_NO = re.compile(r"[A-Z0-9]{1,32}")


def _plan_students(plan: Plan, table: Table, scope: _Scope) -> None:
    index, headless, complete = _check_headers(plan, table)
    wants_guardians = any(h in index for h in GUARDIAN_HEADERS)
    wants_flags = "重点关注" in index
    parsed: list[_StudentRow] = []
    first_row: dict[str, int] = {}
    for reader in _rows(plan, table, index, headless):
        if not complete:
            continue
        school = scope.school(reader)
        scope.campus(reader, school)
        klass = _read_student_class(reader, scope, school)
        student_no = reader.text("学籍号", max_length=32).upper()
        if student_no and not _STUDENT_NO.fullmatch(student_no):
            reader.fail("学籍号", f"学籍号格式错误：{student_no}", f"bad 学籍号: {student_no}")
        elif student_no in first_row:
            earlier = first_row[student_no]
            reader.fail(
                "学籍号",
                f"学籍号重复：{student_no}（第 {earlier} 行和第 {reader.number} 行）",
                f"duplicate 学籍号 {student_no} (rows {earlier} and {reader.number})",
            )
        elif student_no:
            first_row[student_no] = reader.number
        name = reader.text("姓名")
        gender = reader.parse("性别", parse_gender)
        born = reader.parse("出生日期", parse_birth_date)
        guardians = _read_guardians(reader) if wants_guardians else None
        flags = reader.parse("重点关注", parse_flags, required=False) if wants_flags else None
        if reader.ok and klass is not None and gender is not None and born is not None:
            parsed.append(
                _StudentRow(reader.number, student_no, name, gender, born, klass, guardians, flags or None)
            )
    if plan.errors:
        return
    plan.ops = _diff_students(plan, scope, parsed)


def _diff_students(plan: Plan, scope: _Scope, parsed: list[_StudentRow]) -> _StudentOps:
    existing: dict[str, Student] = {}
    nos = [r.student_no for r in parsed]
    for no_chunk in _chunks(nos):
        for found in Student.objects.filter(student_no__in=no_chunk).select_related("school"):
            existing[found.student_no] = found
    ids = [s.pk for s in existing.values()]
    guardians: dict[int, list[GuardianTuple]] = {}
    flags: dict[int, set[str]] = {}
    for chunk in _chunks(ids):
        for sid, gname, relation, phone in (
            Guardian.objects.filter(student_id__in=chunk)
            .order_by("id")
            .values_list("student_id", "name", "relation", "phone")
        ):
            guardians.setdefault(sid, []).append((gname, relation, phone))
        for sid, kind in StudentFlag.objects.filter(
            student_id__in=chunk, cleared_at__isnull=True
        ).values_list("student_id", "kind"):
            flags.setdefault(sid, set()).add(kind)

    ops = _StudentOps()
    for row in parsed:
        klass = row.school_class
        student = existing.get(row.student_no)
        if student is None:
            ops.creates.append(row)
            plan.note(
                "create",
                {"row": row.number, "key": row.student_no, "name": row.name, "to": class_label(klass)},
            )
            continue
        if student.school.district_id != klass.school.district_id:
            plan.error(
                row.number,
                "学籍号",
                f"学籍号已在其他区县登记：{row.student_no}",
                f"学籍号 {row.student_no} is registered in another district",
            )
            continue
        fields = [
            label
            for label, old, new in (
                ("姓名", student.name, row.name),
                ("性别", student.gender, row.gender),
                ("出生日期", student.birth_date, row.birth_date),
                ("状态", student.status, StudentStatus.ACTIVE),
            )
            if old != new
        ]
        new_guardians = row.guardians if row.guardians not in (None, guardians.get(student.pk, [])) else None
        if new_guardians is not None:
            fields.append("监护人")
        new_flags = (row.flags or set()) - flags.get(student.pk, set())
        if new_flags:
            fields.append("重点关注")
        moved = student.school_class_id != klass.pk
        if not moved and not fields:
            plan.note("unchanged")
            continue
        ops.changes.append(
            _StudentChange(
                student, row, moved, student.school_class_id, student.school_id, new_guardians, new_flags
            )
        )
        entry: dict[str, Any] = {"row": row.number, "key": row.student_no, "name": row.name, "fields": fields}
        if moved:
            old_class = scope.class_by_id.get(student.school_class_id)
            entry |= {"from": class_label(old_class) if old_class else None, "to": class_label(klass)}
            plan.note("move", entry)
        else:
            plan.note("update", entry)
    return ops


WRITE_CHUNK = 2000  # students written per round, so memory stays flat for any file size


def _apply_students(*, actor: User, ops: _StudentOps, detail: str) -> None:
    """Write the plan in rounds of WRITE_CHUNK students (one transaction: the caller's)."""
    now = timezone.now()
    role = policy.roles_label(actor)
    for creates in _chunks(ops.creates, WRITE_CHUNK):
        _create_students(actor=actor, rows=creates, now=now, role=role, detail=detail)
    for changes in _chunks(ops.changes, WRITE_CHUNK):
        _change_students(actor=actor, changes=changes, now=now, role=role, detail=detail)


def _create_students(
    *, actor: User, rows: Sequence[_StudentRow], now: dt.datetime, role: str, detail: str
) -> None:
    students = [
        Student(
            student_no=r.student_no,
            name=r.name,
            gender=r.gender,
            birth_date=r.birth_date,
            school=r.school_class.school,
            school_class=r.school_class,
            status=StudentStatus.ACTIVE,
        )
        for r in rows
    ]
    Student.objects.bulk_create(students, batch_size=1000)
    if any(s.pk is None for s in students):  # databases that return no ids
        by_no = {s.student_no: s for s in students}
        for pk, no in Student.objects.filter(student_no__in=list(by_no)).values_list("pk", "student_no"):
            by_no[no].pk = pk
    enrollments = [
        Enrollment(
            student_id=s.pk,
            to_class_id=s.school_class_id,
            to_school_id=s.school_id,
            at=now,
            by=actor,
            source=SOURCE,
        )
        for s in students
    ]
    guardians: list[Guardian] = []
    flags: list[StudentFlag] = []
    for student, row in zip(students, rows, strict=True):
        guardians += [
            Guardian(student_id=student.pk, name=n, relation=r, phone=p) for n, r, p in row.guardians or []
        ]
        flags += [
            StudentFlag(student_id=student.pk, kind=k, set_by=actor, set_at=now)
            for k in sorted(row.flags or ())
        ]
    Enrollment.objects.bulk_create(enrollments, batch_size=1000)
    Guardian.objects.bulk_create(guardians, batch_size=1000)
    StudentFlag.objects.bulk_create(flags, batch_size=1000)
    record_many_students(actor=actor, action=Action.CREATE, students=students, role=role, detail=detail)


def _change_students(
    *, actor: User, changes: Sequence[_StudentChange], now: dt.datetime, role: str, detail: str
) -> None:
    enrollments: list[Enrollment] = []
    guardians: list[Guardian] = []
    flags: list[StudentFlag] = []
    replaced: list[int] = []
    for change in changes:
        student, row = change.student, change.row
        student.name, student.gender, student.birth_date = row.name, row.gender, row.birth_date
        student.status = StudentStatus.ACTIVE
        student.school_class = row.school_class
        student.school = row.school_class.school
        student.updated_at = now
        if change.moved:  # as services.transfer_student, in bulk
            enrollments.append(
                Enrollment(
                    student_id=student.pk,
                    from_class_id=change.from_class_id,
                    to_class_id=row.school_class.pk,
                    from_school_id=change.from_school_id,
                    to_school_id=row.school_class.school_id,
                    at=now,
                    by=actor,
                    source=SOURCE,
                )
            )
        if change.guardians is not None:
            replaced.append(student.pk)
            guardians += [
                Guardian(student_id=student.pk, name=n, relation=r, phone=p) for n, r, p in change.guardians
            ]
        flags += [
            StudentFlag(student_id=student.pk, kind=k, set_by=actor, set_at=now)
            for k in sorted(change.new_flags)
        ]
    Student.objects.bulk_update(
        [c.student for c in changes],
        ["name", "gender", "birth_date", "status", "school_class", "school", "updated_at"],
        batch_size=500,
    )
    for ids in _chunks(replaced):
        Guardian.objects.filter(student_id__in=ids).delete()
    Enrollment.objects.bulk_create(enrollments, batch_size=1000)
    Guardian.objects.bulk_create(guardians, batch_size=1000)
    StudentFlag.objects.bulk_create(flags, batch_size=1000)
    updated = [c.student for c in changes if not c.moved]
    moved = [c.student for c in changes if c.moved]
    record_many_students(actor=actor, action=Action.UPDATE, students=updated, role=role, detail=detail)
    record_many_students(
        actor=actor, action=Action.UPDATE, students=moved, role=role, detail=f"{detail}: class move"
    )


# ---- grades and classes -----------------------------------------------------------------


@dataclass
class _ClassOps:
    creates: list[tuple[School, int, int, Campus | None]] = field(default_factory=list)
    campus_changes: list[tuple[SchoolClass, Campus]] = field(default_factory=list)


def _plan_classes(plan: Plan, table: Table, scope: _Scope) -> None:
    index, headless, complete = _check_headers(plan, table)
    ops = _ClassOps()
    first_row: dict[tuple[int, int, int], int] = {}
    new_grades: set[tuple[int, int]] = set()
    for reader in _rows(plan, table, index, headless):
        if not complete:
            continue
        school = scope.school(reader)
        campus = scope.campus(reader, school)
        level = reader.parse("年级", parse_grade)
        number = reader.parse("班级", parse_class_number)
        if school is None or level is None or number is None or not reader.ok:
            continue
        label = f"{school.code} {GRADE_NAMES[level]}{number}班"
        if not school.offers_level(level):
            reader.fail(
                "年级",
                f"学校未开设该学段：{school.code} {GRADE_NAMES[level]}",
                f"school {school.code} has no such stage: grade {level}",
            )
            continue
        key = (school.pk, level, number)
        if key in first_row:
            reader.fail(
                "班级",
                f"班级重复：{label}（第 {first_row[key]} 行和第 {reader.number} 行）",
                f"duplicate class {label} (rows {first_row[key]} and {reader.number})",
            )
            continue
        first_row[key] = reader.number
        klass = scope.classes.get(key)
        if klass is None:
            ops.creates.append((school, level, number, campus))
            if (school.pk, level) not in scope.grades:
                new_grades.add((school.pk, level))
            plan.note("create", {"row": reader.number, "key": label, "name": campus.name if campus else ""})
        elif campus is not None and klass.campus_id != campus.pk:
            ops.campus_changes.append((klass, campus))
            plan.note("update", {"row": reader.number, "key": label, "name": campus.name, "fields": ["校区"]})
        else:
            plan.note("unchanged")
    plan.extra["grades_created"] = len(new_grades)
    if not plan.errors:
        plan.ops = ops


def _apply_classes(*, actor: User, ops: _ClassOps, scope: _Scope, detail: str) -> None:
    role = policy.roles_label(actor)
    for school, level, number, campus in ops.creates:
        grade = scope.grades.get((school.pk, level))
        if grade is None:
            grade = Grade.objects.create(school=school, level=level)
            scope.grades[(school.pk, level)] = grade
            record(actor=actor, action=Action.CREATE, obj=grade, school=school, role=role, detail=detail)
        klass = SchoolClass.objects.create(school=school, grade=grade, number=number, campus=campus)
        record(actor=actor, action=Action.CREATE, obj=klass, school=school, role=role, detail=detail)
    for klass, campus in ops.campus_changes:
        klass.campus = campus
        klass.save(update_fields=["campus"])
        record(actor=actor, action=Action.UPDATE, obj=klass, school=klass.school, role=role, detail=detail)


# ---- staff -----------------------------------------------------------------------------

AssignmentKey = tuple[str, str, int | None, int | None, int | None]  # 工号, role, school, grade, class


@dataclass
class _StaffRow:
    number: int
    username: str
    name: str
    phone: str
    role: str
    employment: str
    district_id: int
    school: School | None
    grade: Grade | None
    school_class: SchoolClass | None

    @property
    def key(self) -> AssignmentKey:
        return (
            self.username,
            self.role,
            self.school.pk if self.school else None,
            self.grade.pk if self.grade else None,
            self.school_class.pk if self.school_class else None,
        )

    @property
    def unit(self) -> str:
        if self.school_class is not None:
            return class_label(self.school_class)
        if self.grade is not None and self.school is not None:
            return f"{self.school.code} {self.grade.name}"
        return self.school.code if self.school is not None else ""


@dataclass
class _StaffOps:
    new_users: dict[str, _StaffRow] = field(default_factory=dict)
    changed_users: list[tuple[User, str, str]] = field(default_factory=list)
    new_assignments: list[_StaffRow] = field(default_factory=list)
    employment_changes: list[tuple[RoleAssignment, str]] = field(default_factory=list)


_USERNAME = re.compile(r"[\w.@+-]{1,150}", re.ASCII)


def _read_staff_unit(
    reader: _RowReader, scope: _Scope, role: str
) -> tuple[School | None, Grade | None, SchoolClass | None]:
    if role in DISTRICT_ROLES:
        if reader.raw("学校代码") is not None:
            reader.fail("学校代码", "区级角色不填学校代码", "a district-level role takes no school code")
        return None, None, None
    school = scope.school(reader)
    if school is None:
        return None, None, None
    if role == Role.GRADE_LEADER or role == Role.CLASS_TEACHER:
        klass = _read_student_class(reader, scope, school) if role == Role.CLASS_TEACHER else None
        level = klass.grade.level if klass else reader.parse("年级", parse_grade)
        grade = scope.grades.get((school.pk, level)) if level else None
        if level and grade is None and role == Role.GRADE_LEADER:
            reader.fail(
                "年级",
                f"年级不存在：{school.code} {GRADE_NAMES[level]}",
                f"unknown grade: {school.code} grade {level}",
            )
        return school, grade, klass
    return school, None, None


def _plan_staff(plan: Plan, table: Table, scope: _Scope, district_ids: set[int]) -> None:
    index, headless, complete = _check_headers(plan, table)
    parsed: list[_StaffRow] = []
    person: dict[str, tuple[int, str, str]] = {}  # 工号 → (first row, name, phone)
    first_row: dict[AssignmentKey, int] = {}
    for reader in _rows(plan, table, index, headless):
        if not complete:
            continue
        username = reader.text("工号", max_length=150)
        if username and not _USERNAME.fullmatch(username):
            reader.fail("工号", f"工号格式错误：{username[:40]}", f"bad 工号: {username[:40]}")
        name = reader.text("姓名")
        phone = reader.parse("手机号", parse_phone, required=False) or ""
        role_employment = reader.parse("角色", parse_role)
        employment = reader.parse("专兼职", parse_employment, required=False) or ""
        if role_employment is None:
            continue
        role, implied = role_employment
        employment = employment or implied
        if role == Role.PSYCH_TEACHER and not employment:
            reader.fail(
                "专兼职",
                "心理教师须填写专兼职（专职/兼职）",
                "missing value: 专兼职 (专职/兼职) for a psych teacher",
            )
        elif role != Role.PSYCH_TEACHER and reader.raw("专兼职") is not None:
            reader.fail("专兼职", "专兼职仅用于心理教师", "专兼职 applies to psych teachers only")
        school, grade, klass = _read_staff_unit(reader, scope, role)
        district_id = (
            school.district_id if school else (next(iter(district_ids)) if len(district_ids) == 1 else 0)
        )
        if not district_id and reader.ok:
            reader.fail("角色", "无法确定所属区县", "cannot tell which district the role belongs to")
        if not reader.ok:
            continue
        if username in person and person[username][1:] != (name, phone):
            earlier = person[username][0]
            reader.fail(
                "姓名",
                f"同一工号 {username} 的姓名或手机号不一致（第 {earlier} 行和第 {reader.number} 行）",
                f"工号 {username} has a different name or phone on rows {earlier} and {reader.number}",
            )
            continue
        person.setdefault(username, (reader.number, name, phone))
        row = _StaffRow(
            reader.number, username, name, phone, role, employment, district_id, school, grade, klass
        )
        if row.key in first_row:
            reader.fail(
                "角色",
                f"角色重复（第 {first_row[row.key]} 行和第 {reader.number} 行）",
                f"duplicate role assignment (rows {first_row[row.key]} and {reader.number})",
            )
            continue
        first_row[row.key] = reader.number
        parsed.append(row)
    if plan.errors:
        return
    plan.ops = _diff_staff(plan, parsed, district_ids)


def _diff_staff(plan: Plan, parsed: list[_StaffRow], district_ids: set[int]) -> _StaffOps:
    usernames = sorted({r.username for r in parsed})
    users: dict[str, User] = {}
    for name_chunk in _chunks(usernames):
        users |= {u.username: u for u in User.objects.filter(username__in=name_chunk)}
    user_ids = [u.pk for u in users.values()]
    assignments: dict[AssignmentKey, RoleAssignment] = {}
    user_districts: dict[int, set[int]] = {}
    name_of = {u.pk: u.username for u in users.values()}
    for chunk in _chunks(user_ids):
        for a in RoleAssignment.objects.filter(user_id__in=chunk):
            user_districts.setdefault(a.user_id, set()).add(a.district_id)
            assignments[(name_of[a.user_id], a.role, a.school_id, a.grade_id, a.school_class_id)] = a
    ops = _StaffOps()
    users_noted: set[str] = set()
    for row in parsed:
        user = users.get(row.username)
        entry = {
            "row": row.number,
            "key": row.username,
            "name": row.name,
            "role": ROLE_NAMES_ZH.get(row.role, row.role),
            "to": row.unit,
        }
        user_changed = False
        if user is None:
            ops.new_users.setdefault(row.username, row)
        else:
            held = user_districts.get(user.pk, set())
            if held and not held & district_ids:
                plan.error(
                    row.number,
                    "工号",
                    f"工号已被其他区县使用：{row.username}",
                    f"工号 {row.username} belongs to another district",
                )
                continue
            if row.username not in users_noted and (user.full_name, user.phone) != (row.name, row.phone):
                ops.changed_users.append((user, row.name, row.phone))
                user_changed = True
        users_noted.add(row.username)
        existing = assignments.get(row.key)
        if existing is None:
            ops.new_assignments.append(row)
            plan.note("create", entry)
        elif existing.employment != row.employment:
            ops.employment_changes.append((existing, row.employment))
            plan.note("update", entry | {"fields": ["专兼职"]})
        elif user_changed:
            plan.note("update", entry | {"fields": ["姓名/手机号"]})
        else:
            plan.note("unchanged")
    plan.extra["users_updated"] = len(ops.changed_users)
    plan.extra["users_created"] = len(ops.new_users)
    return ops


def _apply_staff(*, actor: User, ops: _StaffOps, detail: str) -> None:
    role_label = policy.roles_label(actor)
    created: dict[str, User] = {}
    for username, row in ops.new_users.items():
        user = User(username=username, full_name=row.name, phone=row.phone)
        user.set_unusable_password()
        user.save()
        created[username] = user
        record(actor=actor, action=Action.CREATE, obj=user, role=role_label, detail=detail)
    for user, name, phone in ops.changed_users:
        user.full_name, user.phone = name, phone
        user.save(update_fields=["full_name", "phone"])
        record(actor=actor, action=Action.UPDATE, obj=user, role=role_label, detail=detail)
    users = {
        u.username: u
        for u in User.objects.filter(username__in=sorted({r.username for r in ops.new_assignments}))
    }
    for row in ops.new_assignments:
        user = created.get(row.username) or users[row.username]
        RoleAssignment.objects.create(
            user=user,
            role=row.role,
            district_id=row.district_id,
            school=row.school,
            grade=row.grade,
            school_class=row.school_class,
            employment=row.employment,
        )
        record(
            actor=actor,
            action=Action.UPDATE,
            obj=user,
            school=row.school,
            role=role_label,
            detail=f"{detail}: role {row.role} added",
        )
    for assignment, employment in ops.employment_changes:
        assignment.employment = employment
        assignment.save(update_fields=["employment"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="user",
            object_id=str(assignment.user.uid),
            school=assignment.school,
            role=role_label,
            detail=f"{detail}: employment of role {assignment.role} changed",
        )


# ---- entry points ----------------------------------------------------------------------


def _require(actor: User | AnonymousUser, kind: str) -> User:
    if kind not in ImportKind.values:
        raise RosterError(f"未知的导入类型：{kind}", f"unknown import kind: {kind}")
    if not isinstance(actor, User) or not policy.can(actor, perm_for(kind)):
        raise RosterError("您没有导入此名单的权限", "you may not import this roster")
    return actor


def _plan(*, actor: User, kind: str, filename: str, data: bytes) -> tuple[Plan, _Scope]:
    table = read_table(filename=filename, data=data)
    plan = Plan(kind=kind, filename=filename, notices=list(table.notices))
    perm = perm_for(kind)
    scope = _Scope.load(actor, perm)
    if kind == ImportKind.STUDENTS:
        _plan_students(plan, table, scope)
    elif kind == ImportKind.CLASSES:
        _plan_classes(plan, table, scope)
    else:
        district_ids = {g.district_id for g in policy.grants(actor) if perm in g.policy.perms}
        _plan_staff(plan, table, scope, district_ids)
    return plan, scope


def preview(*, actor: User | AnonymousUser, kind: str, filename: str, data: bytes) -> Plan:
    """What importing `data` would do; writes nothing. Raises `RosterError` for a file
    that cannot be read or a user who may not import `kind` (SPEC §2)."""
    user = _require(actor, kind)
    plan, _scope = _plan(actor=user, kind=kind, filename=filename, data=data)
    return plan


def create_batch(
    *, actor: User | AnonymousUser, kind: str, filename: str, data: bytes
) -> tuple[ImportBatch, Plan]:
    """Preview `data` and keep it as an `ImportBatch` (previewed, or rejected when a row is
    bad) for the uploader to apply. Whole-file problems raise and store nothing."""
    user = _require(actor, kind)
    plan, _scope = _plan(actor=user, kind=kind, filename=filename, data=data)
    batch = ImportBatch.objects.create(
        kind=kind,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=user,
        status=ImportStatus.PREVIEWED if plan.valid else ImportStatus.REJECTED,
        summary=plan.summary(),
    )
    log.info(
        "roster preview batch=%s kind=%s rows=%d errors=%d counts=%s",
        batch.uid,
        kind,
        plan.rows,
        len(plan.errors),
        plan.counts,
    )
    return batch, plan


@dataclass
class ApplyResult:
    plan: Plan | None
    applied: bool  # this call wrote the batch
    already_applied: bool = False


def apply_batch(*, actor: User, batch: ImportBatch) -> ApplyResult:
    """Apply a previewed batch in one transaction: everything or nothing, audit rows
    included. The file is re-checked against the database as it is now; a second apply
    of the same batch does nothing."""
    _require(actor, batch.kind)
    if batch.uploaded_by_id != actor.pk:
        raise RosterError("只有上传者可以导入此文件", "only the uploader may apply this file")
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == ImportStatus.APPLIED:
            return ApplyResult(plan=None, applied=False, already_applied=True)
        if locked.status != ImportStatus.PREVIEWED:
            raise RosterError("此文件有错误，未导入任何数据", "this file has errors; nothing was imported")
        plan, scope = _plan(
            actor=actor, kind=locked.kind, filename=locked.filename, data=bytes(locked.content)
        )
        if not plan.valid:
            locked.status = ImportStatus.REJECTED
            locked.summary = plan.summary()
            locked.save(update_fields=["status", "summary"])
            batch.status, batch.summary = locked.status, locked.summary
            return ApplyResult(plan=plan, applied=False)
        detail = f"roster import {locked.uid}"
        if isinstance(plan.ops, _StudentOps):
            _apply_students(actor=actor, ops=plan.ops, detail=detail)
        elif isinstance(plan.ops, _ClassOps):
            _apply_classes(actor=actor, ops=plan.ops, scope=scope, detail=detail)
        elif isinstance(plan.ops, _StaffOps):
            _apply_staff(actor=actor, ops=plan.ops, detail=detail)
        locked.status = ImportStatus.APPLIED
        locked.applied_at = timezone.now()
        locked.summary = plan.summary() | {"applied": dict(plan.counts)}
        locked.save(update_fields=["status", "applied_at", "summary"])
    batch.status, batch.applied_at, batch.summary = locked.status, locked.applied_at, locked.summary
    log.info("roster applied batch=%s kind=%s counts=%s", locked.uid, locked.kind, plan.counts)
    return ApplyResult(plan=plan, applied=True)


def allowed_kinds(user: User | AnonymousUser) -> list[str]:
    return [k for k in ImportKind.values if policy.can(user, perm_for(k))]


# ---- template files --------------------------------------------------------------------

_EXAMPLES: dict[str, dict[str, Any]] = {
    ImportKind.STUDENTS: {
        "学校代码": "A001",
        "校区": "本部",
        "年级": "四年级",
        "班级": "1班",
        "学籍号": "G500153201501019999",
        "姓名": "张三",
        "性别": "男",
        "出生日期": dt.date(2015, 3, 1),
        "监护人姓名": "张父",
        "监护人电话": "13800138000",
        "监护人关系": "父亲",
        "监护人2姓名": "",
        "监护人2电话": "",
        "监护人2关系": "",
        "重点关注": "留守;单亲",
    },
    ImportKind.CLASSES: {"学校代码": "A001", "校区": "本部", "年级": "初一", "班级": "1班"},
    ImportKind.STAFF: {
        "工号": "T2025001",
        "姓名": "李老师",
        "手机号": "13900139000",
        "学校代码": "A001",
        "角色": "心理教师",
        "专兼职": "专职",
        "年级": "",
        "班级": "",
    },
}

_HELP: dict[str, str] = {
    "学校代码": "区教育局分配的学校代码，例如 A001；区级角色不填 / school code (blank for district roles)",
    "校区": "已登记的校区名称，可不填 / campus name, optional",
    "年级": "1–12、四年级、初一、七年级、高二 等 / grade: 4, 四年级, 初一, 高二 …",
    "班级": "1、1班、(1)班 / class number",
    "学籍号": "全国学籍号，字母和数字 / national student number",
    "姓名": "姓名 / name",
    "性别": "男 或 女 / M or F",
    "出生日期": "2015-03-01、2015/3/1、20150301 或 Excel 日期 / date",
    "监护人姓名": "填写监护人时电话必填 / guardian name (phone required with it)",
    "监护人电话": "手机号或带区号的固定电话 / mobile or landline with area code",
    "监护人关系": "例如 父亲、母亲 / relation",
    "监护人2姓名": "第二位监护人，可不填 / second guardian, optional",
    "监护人2电话": "第二位监护人电话 / second guardian phone",
    "监护人2关系": "第二位监护人关系 / second guardian relation",
    "重点关注": "用 ; 或 、 分隔：留守、单亲、家庭经济困难、问题家庭、残疾或重病、精神疾病史、学业困难、心理问题 / key populations",
    "工号": "登录账号，字母数字 / staff number = login name",
    "手机号": "可不填 / phone, optional",
    "角色": "心理教师、班主任、年级组长、校领导、区级管理员、指导中心专家 / role; one row per role",
    "专兼职": "心理教师必填：专职 或 兼职 / psych teachers: 专职 or 兼职",
}

_TEXT_COLUMNS = {"学校代码", "学籍号", "监护人电话", "监护人2电话", "工号", "手机号"}


def template_workbook(*, kind: str) -> bytes:
    """An .xlsx with the headers, one example row and a sheet of instructions."""
    import openpyxl
    from openpyxl.styles import Font

    required, optional = HEADERS[kind]
    columns = [c for c in _EXAMPLES[kind] if c in required or c in optional]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = {"students": "学生名单", "classes": "年级班级", "staff": "教职工"}[kind]
    sheet.append(columns)
    sheet.append([_EXAMPLES[kind][c] for c in columns])
    for i, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True, color="C00000" if column in required else "000000")
        letter = _column_letter(i - 1)
        sheet.column_dimensions[letter].width = max(12, len(column) * 3)
        if column in _TEXT_COLUMNS:
            for row in (2, *range(3, 1001)):
                sheet.cell(row=row, column=i).number_format = "@"
        if column == "出生日期":
            sheet.cell(row=2, column=i).number_format = "yyyy-mm-dd"
    help_sheet = workbook.create_sheet("填写说明")
    help_sheet.append(["列名 / column", "必填 / required", "说明 / notes"])
    for column in columns:
        help_sheet.append([column, "是 / yes" if column in required else "否 / no", _HELP.get(column, "")])
    help_sheet.append([])
    help_sheet.append(
        ["第一行为表头，请勿修改；示例行导入前请删除。/ Row 1 is the header; delete the example row."]
    )
    help_sheet.column_dimensions["A"].width = 16
    help_sheet.column_dimensions["C"].width = 90
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def format_errors(errors: Iterable[RowError | dict[str, Any]]) -> Iterator[str]:
    """'第 3 行 [出生日期] 出生日期格式错误：… / row 3 [出生日期] bad date: …' lines."""
    for e in errors:
        d = e.as_dict() if isinstance(e, RowError) else e
        yield f"第 {d['row']} 行 [{d['column']}] {d['message_zh']} / row {d['row']} [{d['column']}] {d['message_en']}"
