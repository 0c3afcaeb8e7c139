"""Roster import: students, grades/classes and staff from .xlsx or .csv with Chinese headers.

SPEC §1 (organisation: school → campus → grade → class → student), §2 (who may import and
into which schools), §4 (key populations, 重点对象). The flow is always the same:

1. `read_table` turns the upload into a header and rows (whole-file problems raise
   `RosterFileError` with one clear message in Chinese and English);
2. a planner checks every row against the importer's scope (`policy.schools_with`)
   and the database, collecting every `RowError` and what would be created, updated or
   moved — nothing is written;
3. `apply_batch` re-plans from the stored bytes inside one transaction and writes
   everything (with its audit rows) or nothing.

A school outside the importer's scope is reported exactly like an unknown school. The
import never deletes: students, guardians, flags and roles missing from a file are left
as they are. Log lines carry counts and batch ids only, never names or phones.

One module a part:

- `errors`: `RosterError`, `RosterFileError`, `ParseError`, `RowError`, `Notice`, `format_errors`.
- `cells`: the cell parsers (`parse_grade`, `parse_date`, `parse_phone` …).
- `table`: `read_table`, the columns of each kind, the row reader.
- `scope`: the schools, campuses, grades and classes the importer may import into.
- `result`: `Plan`, what an import would do (or did).
- `plan`: `preview`, `create_batch`, `apply_batch`, `allowed_kinds`, `perm_for`.
- `students`, `classes`, `staff`: one planner and writer per kind of import.
- `templates`: `template_workbook`, the downloadable .xlsx of each kind.
- `sheet`: `read_rows`, `SheetRow`, `ImportRejected`, `day`: the apps' own imports (training,
  lessons, home visits) read uploads as text rows through it.
"""

from .cells import (
    parse_birth_date,
    parse_class_number,
    parse_date,
    parse_employment,
    parse_flags,
    parse_gender,
    parse_grade,
    parse_phone,
    parse_role,
)
from .errors import GBK_NOTICE, Notice, ParseError, RosterError, RosterFileError, RowError, format_errors
from .plan import (
    ApplyResult,
    allowed_kinds,
    apply_batch,
    create_batch,
    perm_for,
    preview,
)
from .result import MAX_ERRORS_LISTED, MAX_SAMPLES, Plan
from .scope import DB_CHUNK, class_label
from .staff import DISTRICT_ROLES, ROLE_NAMES_ZH, AssignmentKey
from .students import SOURCE, WRITE_CHUNK, GuardianTuple
from .table import (
    CLASS_HEADERS,
    CLASS_OPTIONAL,
    GUARDIAN_HEADERS,
    HEADERS,
    STAFF_HEADERS,
    STAFF_OPTIONAL,
    STUDENT_HEADERS,
    STUDENT_OPTIONAL,
    Row,
    Table,
    read_table,
)
from .templates import template_workbook

__all__ = [
    "CLASS_HEADERS",
    "CLASS_OPTIONAL",
    "DB_CHUNK",
    "DISTRICT_ROLES",
    "GBK_NOTICE",
    "GUARDIAN_HEADERS",
    "HEADERS",
    "MAX_ERRORS_LISTED",
    "MAX_SAMPLES",
    "ROLE_NAMES_ZH",
    "SOURCE",
    "STAFF_HEADERS",
    "STAFF_OPTIONAL",
    "STUDENT_HEADERS",
    "STUDENT_OPTIONAL",
    "WRITE_CHUNK",
    "ApplyResult",
    "AssignmentKey",
    "GuardianTuple",
    "Notice",
    "ParseError",
    "Plan",
    "RosterError",
    "RosterFileError",
    "Row",
    "RowError",
    "Table",
    "allowed_kinds",
    "apply_batch",
    "class_label",
    "create_batch",
    "format_errors",
    "parse_birth_date",
    "parse_class_number",
    "parse_date",
    "parse_employment",
    "parse_flags",
    "parse_gender",
    "parse_grade",
    "parse_phone",
    "parse_role",
    "perm_for",
    "preview",
    "read_table",
    "template_workbook",
]
