"""The district's Excel import of the psych-teacher register (CY attachment 心理健康教师基本情况调查表).

One row per teacher, keyed by 工号 within the district (upsert). Two passes:

1. every row is read into a `RegisterRow` (pydantic: cell formats, 是/否, 专职/兼职/县管片用,
   dates, numbers) and checked against the district (school and campus codes, duplicates);
2. only when no row is wrong, every row goes through the register's own services
   (`create_member` / `update_member`, `set_posts`, `record_certificate`) in ONE transaction;
   a refusal there is a row error too and rolls everything back.

All or nothing: any error and nothing changes. Re-importing the same file changes nothing
(the services write and audit only what differs). A column missing from the file leaves
that field alone; only 工号, 姓名 and 岗位类型 are required columns.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import Campus, District, School, Stage, User
from xinyu.org.roster.cells import parse_date, parse_gender, parse_phone
from xinyu.org.roster.errors import ParseError, RosterError
from xinyu.org.roster.table import read_table

from . import services
from .models import CertificateKind, CertificateSource, Degree, HeldCertificate, PostType, StaffMember
from .services import PostSpec

# header -> model attribute (RegisterRow); the order is the template's.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("工号", "staff_no"),
    ("姓名", "name"),
    ("性别", "gender"),
    ("出生年份", "birth_year"),
    ("学校代码", "school_code"),
    ("任教学校代码", "served_codes"),
    ("校区", "campus"),
    ("学段", "stages"),
    ("岗位类型", "post_type"),
    ("学历", "degree"),
    ("专业", "major"),
    ("专业对口", "major_relevant"),
    ("相关工作年限", "related_experience_years"),
    ("岗前培训", "pre_job_training"),
    ("岗前培训日期", "pre_job_training_on"),
    ("专门培训", "specialised_training"),
    ("最近培训日期", "last_trained_on"),
    ("周课时", "weekly_periods"),
    ("计入班主任年限", "class_teacher_years"),
    ("职称", "title"),
    ("电话", "phone"),
    ("C证编号", "c_number"),
    ("C证日期", "c_issued_on"),
    ("C证发证机构", "c_issuer"),
    ("C证有效期", "c_expires_on"),
    ("B证编号", "b_number"),
    ("B证日期", "b_issued_on"),
    ("B证发证机构", "b_issuer"),
    ("B证有效期", "b_expires_on"),
)
REQUIRED = ("工号", "姓名", "岗位类型")
HEADER_OF = {attr: header for header, attr in COLUMNS}
# register field (services.FIELDS, ServiceError.field) -> header
FIELD_HEADER = {attr: header for header, attr in COLUMNS} | {"school": "学校代码", "posts": "任教学校代码"}
MAX_ROWS = 10000

POST_TYPES: dict[str, str] = {
    "专职": PostType.FULL_TIME,
    "兼职": PostType.PART_TIME,
    "县管片用": PostType.CLUSTER,
}
POST_TYPES |= {"专职县管片用": PostType.CLUSTER, "片用": PostType.CLUSTER} | {v: v for v in PostType.values}
DEGREES = {
    "大专以下": Degree.BELOW,
    "中专": Degree.BELOW,
    "高中": Degree.BELOW,
    "大专": Degree.COLLEGE,
    "专科": Degree.COLLEGE,
    "本科": Degree.BACHELOR,
    "学士": Degree.BACHELOR,
    "硕士": Degree.MASTER,
    "研究生": Degree.MASTER,
    "博士": Degree.DOCTOR,
} | {v: v for v in Degree.values}
STAGES = {"小学": Stage.PRIMARY, "初中": Stage.JUNIOR, "高中": Stage.SENIOR} | {v: v for v in Stage.values}
DEGREE_NAMES: dict[str, str] = {
    Degree.BELOW: "大专以下",
    Degree.COLLEGE: "大专",
    Degree.BACHELOR: "本科",
    Degree.MASTER: "硕士",
    Degree.DOCTOR: "博士",
}
STAGE_NAMES: dict[str, str] = {Stage.PRIMARY: "小学", Stage.JUNIOR: "初中", Stage.SENIOR: "高中"}
POST_TYPE_NAMES: dict[str, str] = {
    PostType.FULL_TIME: "专职",
    PostType.PART_TIME: "兼职",
    PostType.CLUSTER: "县管片用",
}
YES = {"是", "有", "对口", "y", "yes", "1", "true", "√"}
NO = {"否", "无", "不对口", "n", "no", "0", "false", "×"}
SEPARATORS = re.compile(r"[、;；,，/\s]+")


def _cell_error(zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError("cell", "{en}", {"zh": zh, "en": en})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _opt_date(value: Any) -> dt.date | None:
    if value is None or _text(value) == "":
        return None
    try:
        day = parse_date(value)
    except ParseError as exc:
        raise _cell_error(
            f"日期{exc.zh}（例如 2024-09-01）：{_text(value)[:30]}", f"{exc.en} (e.g. 2024-09-01)"
        ) from None
    return day


class RegisterRow(BaseModel):
    """One row of the register file, every cell converted (blank cells → None: "not given")."""

    model_config = ConfigDict(frozen=True)

    staff_no: str
    name: str
    gender: str | None = None
    birth_year: int | None = None
    school_code: str | None = None
    served_codes: tuple[str, ...] | None = None
    campus: str | None = None
    stages: tuple[str, ...] | None = None
    post_type: str
    degree: str | None = None
    major: str | None = None
    major_relevant: bool | None = None
    related_experience_years: Decimal | None = None
    pre_job_training: bool | None = None
    pre_job_training_on: dt.date | None = None
    specialised_training: bool | None = None
    last_trained_on: dt.date | None = None
    weekly_periods: int | None = None
    class_teacher_years: Decimal | None = None
    title: str | None = None
    phone: str | None = None
    c_number: str | None = None
    c_issued_on: dt.date | None = None
    c_issuer: str | None = None
    c_expires_on: dt.date | None = None
    b_number: str | None = None
    b_issued_on: dt.date | None = None
    b_issuer: str | None = None
    b_expires_on: dt.date | None = None

    @field_validator("staff_no", "name", mode="before")
    @classmethod
    def _required_text(cls, v: Any) -> str:
        text = _text(v)
        if not text:
            raise _cell_error("不能为空", "missing value")
        if len(text) > 50:
            raise _cell_error("过长（最多 50 个字）", "too long (at most 50 characters)")
        return text

    @field_validator(
        "school_code",
        "campus",
        "major",
        "title",
        "c_number",
        "c_issuer",
        "b_number",
        "b_issuer",
        mode="before",
    )
    @classmethod
    def _opt_text(cls, v: Any) -> str | None:
        text = _text(v)
        if len(text) > 100:
            raise _cell_error("过长（最多 100 个字）", "too long (at most 100 characters)")
        return text or None

    @field_validator("gender", mode="before")
    @classmethod
    def _gender(cls, v: Any) -> str | None:
        if not _text(v):
            return None
        try:
            return parse_gender(v)
        except ParseError as exc:
            raise _cell_error(exc.zh, exc.en) from None

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> str | None:
        if not _text(v):
            return None
        try:
            return parse_phone(v)
        except ParseError as exc:
            raise _cell_error(
                f"{exc.zh}（手机号或带区号的固定电话）", f"{exc.en} (mobile, or landline with area code)"
            ) from None

    @field_validator("birth_year", mode="before")
    @classmethod
    def _birth_year(cls, v: Any) -> int | None:
        text = _text(v).removesuffix("年")
        if not text:
            return None
        if not text.isdigit() or not 1940 <= int(text) <= dt.date.today().year:
            raise _cell_error("应为四位年份，例如 1988", "must be a four-digit year, e.g. 1988")
        return int(text)

    @field_validator("weekly_periods", mode="before")
    @classmethod
    def _periods(cls, v: Any) -> int | None:
        text = _text(v)
        if not text:
            return None
        if not text.isdigit() or int(text) > 60:
            raise _cell_error("应为 0–60 的整数", "must be a whole number from 0 to 60")
        return int(text)

    @field_validator("related_experience_years", "class_teacher_years", mode="before")
    @classmethod
    def _years(cls, v: Any) -> Decimal | None:
        text = _text(v).removesuffix("年")
        if not text:
            return None
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise _cell_error(
                "应为数字（年），例如 3 或 2.5", "must be a number of years, e.g. 3 or 2.5"
            ) from None
        if d < 0 or d >= 100:
            raise _cell_error("应在 0–99.9 之间", "must be between 0 and 99.9")
        return d.quantize(Decimal("0.1"))

    @field_validator("major_relevant", "pre_job_training", "specialised_training", mode="before")
    @classmethod
    def _yes_no(cls, v: Any) -> bool | None:
        text = _text(v).lower()
        if not text:
            return None
        if text in YES:
            return True
        if text in NO:
            return False
        raise _cell_error("应为“是”或“否”", "must be 是 (yes) or 否 (no)")

    @field_validator(
        "pre_job_training_on",
        "last_trained_on",
        "c_issued_on",
        "c_expires_on",
        "b_issued_on",
        "b_expires_on",
        mode="before",
    )
    @classmethod
    def _date(cls, v: Any) -> dt.date | None:
        return _opt_date(v)

    @field_validator("post_type", mode="before")
    @classmethod
    def _post_type(cls, v: Any) -> str:
        text = _text(v).replace("·", "").replace(" ", "")
        if not text:
            raise _cell_error("不能为空（专职、兼职或县管片用）", "missing value (专职, 兼职 or 县管片用)")
        if text not in POST_TYPES:
            raise _cell_error(
                "应为 专职、兼职 或 县管片用",
                "must be 专职 (full-time), 兼职 (part-time) or 县管片用 (cluster)",
            )
        return str(POST_TYPES[text])

    @field_validator("degree", mode="before")
    @classmethod
    def _degree(cls, v: Any) -> str | None:
        text = _text(v)
        if not text:
            return None
        if text not in DEGREES:
            raise _cell_error(
                "应为 大专以下、大专、本科、硕士 或 博士", "must be 大专以下, 大专, 本科, 硕士 or 博士"
            )
        return str(DEGREES[text])

    @field_validator("served_codes", mode="before")
    @classmethod
    def _codes(cls, v: Any) -> tuple[str, ...] | None:
        parts = [p for p in SEPARATORS.split(_text(v)) if p]
        return tuple(dict.fromkeys(parts)) or None

    @field_validator("stages", mode="before")
    @classmethod
    def _stages(cls, v: Any) -> tuple[str, ...] | None:
        parts = [p for p in SEPARATORS.split(_text(v)) if p]
        bad = [p for p in parts if p not in STAGES]
        if bad:
            raise _cell_error(
                f"无效学段：{bad[0][:10]}（小学、初中、高中）",
                f"unknown stage: {bad[0][:10]} (小学, 初中, 高中)",
            )
        return tuple(dict.fromkeys(str(STAGES[p]) for p in parts)) or None


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"第 {self.row} 行 [{self.column}] {self.zh} / row {self.row} [{self.column}] {self.en}"


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False  # written (not a check-only run, no error)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def _row_errors(number: int, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors():
        attr = str(err["loc"][0]) if err["loc"] else ""
        column = HEADER_OF.get(attr, attr)
        ctx = err.get("ctx") or {}
        if err["type"] == "cell":
            zh, en = str(ctx["zh"]), str(ctx["en"])
        elif err["type"] == "missing":
            zh, en = "不能为空", "missing value"
        else:
            zh, en = "格式错误", "bad value"
        out.append(RowError(number, column, f"{column}{zh}", en))
    return out


@dataclass
class _Parsed:
    number: int
    row: RegisterRow
    given: frozenset[str]  # attributes whose column is in the file


def parse_rows(*, district: District, filename: str, data: bytes) -> tuple[list[_Parsed], list[RowError]]:
    """Pass 1: every row read and checked against the district; nothing written."""
    try:
        table = read_table(filename=filename, data=data)
    except RosterError as exc:
        return [], [RowError(0, "", exc.message_zh, exc.message_en)]
    errors: list[RowError] = []
    index: dict[str, int] = {}
    known = dict(COLUMNS)
    for i, header in enumerate(table.headers):
        if not header:
            continue
        if header not in known:
            errors.append(RowError(1, header, f"未知列名：{header}", f"unknown column: {header}"))
        elif header in index:
            errors.append(RowError(1, header, f"列名重复：{header}", f"duplicate column: {header}"))
        else:
            index[header] = i
    for header in REQUIRED:
        if header not in index:
            errors.append(RowError(1, header, f"缺少必填列：{header}", f"missing required column: {header}"))
    if errors:
        return [], errors
    given = frozenset(known[h] for h in index)
    schools = {s.code: s for s in School.objects.filter(district=district)}
    campuses = {
        (c.school.code, c.name): c
        for c in Campus.objects.filter(school__district=district).select_related("school")
    }
    parsed: list[_Parsed] = []
    seen: dict[str, int] = {}
    for number, values in table.rows:
        if len(parsed) + len(errors) >= MAX_ROWS:
            errors.append(RowError(number, "", f"行数超过上限 {MAX_ROWS}", f"more than {MAX_ROWS} rows"))
            break
        cells = {known[h]: (values[i] if i < len(values) else None) for h, i in index.items()}
        try:
            row = RegisterRow.model_validate(cells)
        except ValidationError as exc:
            errors.extend(_row_errors(number, exc))
            errors.extend(
                _code_errors(number, cells, schools, {str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            )
            continue
        row_errors = _check_row(number, row, schools, campuses)
        if row.staff_no in seen:
            row_errors.append(
                RowError(
                    number,
                    "工号",
                    f"工号 {row.staff_no} 与第 {seen[row.staff_no]} 行重复",
                    f"staff number {row.staff_no} repeats row {seen[row.staff_no]}",
                )
            )
        seen.setdefault(row.staff_no, number)
        if row_errors:
            errors.extend(row_errors)
        else:
            parsed.append(_Parsed(number, row, given))
    return parsed, errors


def _code_errors(
    number: int, cells: dict[str, Any], schools: dict[str, School], failed: set[str]
) -> list[RowError]:
    """The school codes of a row that failed to read (so that every error of the row is shown)."""
    out: list[RowError] = []
    for attr, header in (("school_code", "学校代码"), ("served_codes", "任教学校代码")):
        if attr in failed:
            continue
        for code in (p for p in SEPARATORS.split(_text(cells.get(attr))) if p):
            if code not in schools:
                out.append(
                    RowError(
                        number,
                        header,
                        f"本区没有学校代码 {code}",
                        f"no school with code {code} in this district",
                    )
                )
    return out


def _check_row(
    number: int, row: RegisterRow, schools: dict[str, School], campuses: dict[tuple[str, str], Campus]
) -> list[RowError]:
    errors: list[RowError] = []
    if row.school_code and row.school_code not in schools:
        errors.append(
            RowError(
                number,
                "学校代码",
                f"本区没有学校代码 {row.school_code}",
                f"no school with code {row.school_code} in this district",
            )
        )
    for code in row.served_codes or ():
        if code not in schools:
            errors.append(
                RowError(
                    number,
                    "任教学校代码",
                    f"本区没有学校代码 {code}",
                    f"no school with code {code} in this district",
                )
            )
    served = row.served_codes or ((row.school_code,) if row.school_code else ())
    if len(served) > 1 and row.post_type != PostType.CLUSTER:
        errors.append(
            RowError(
                number,
                "任教学校代码",
                "只有县管片用岗位可以填写多所学校",
                "only a cluster post (县管片用) serves several schools",
            )
        )
    if row.campus:
        for code in served:
            if code in schools and (code, row.campus) not in campuses:
                errors.append(
                    RowError(
                        number,
                        "校区",
                        f"学校 {code} 没有校区“{row.campus}”",
                        f"school {code} has no campus {row.campus}",
                    )
                )
    for kind in ("c", "b"):
        label = kind.upper()
        number_, issued, expires = (
            getattr(row, f"{kind}_{s}") for s in ("number", "issued_on", "expires_on")
        )
        if (issued or expires or getattr(row, f"{kind}_issuer")) and not number_:
            errors.append(
                RowError(
                    number,
                    f"{label}证编号",
                    f"填写{label}证信息时须填写编号",
                    f"the {label} certificate needs its number",
                )
            )
        if issued and expires and expires < issued:
            errors.append(
                RowError(
                    number,
                    f"{label}证有效期",
                    "有效期不能早于发证日期",
                    "the expiry date is before the date of issue",
                )
            )
    return errors


ENTRY_ATTRS = (
    "name", "gender", "birth_year", "title", "post_type", "degree", "major", "major_relevant",
    "related_experience_years", "pre_job_training", "pre_job_training_on", "specialised_training",
    "last_trained_on", "weekly_periods", "class_teacher_years", "phone",
)  # fmt: skip


def _entry_fields(p: _Parsed) -> dict[str, Any]:
    """The fields the row sets: every given column (a blank cell clears it, but a blank 是/否 is 否)."""
    out: dict[str, Any] = {}
    for attr in ENTRY_ATTRS:
        if attr not in p.given:
            continue
        value = getattr(p.row, attr)
        if value is None:
            value = False if attr in ("major_relevant", "pre_job_training", "specialised_training") else ""
        out[attr] = value
    return out


def _posts(
    p: _Parsed, schools: dict[str, School], campuses: dict[tuple[str, str], Campus]
) -> list[PostSpec] | None:
    if "served_codes" not in p.given and "school_code" not in p.given:
        return None
    codes = p.row.served_codes or ((p.row.school_code,) if p.row.school_code else ())
    stages = p.row.stages or ("",)
    out: list[PostSpec] = []
    for code in codes:
        campus = campuses.get((code, p.row.campus)) if p.row.campus else None
        out.extend(PostSpec(schools[code], campus, stage) for stage in stages)
    return out


def _apply_row(
    *,
    by: User,
    district: District,
    p: _Parsed,
    schools: dict[str, School],
    campuses: dict[tuple[str, str], Campus],
) -> bool:
    """One row through the services; whether anything changed."""
    row = p.row
    member = (
        StaffMember.objects.filter(district=district, staff_no=row.staff_no).select_related("school").first()
    )
    fields = _entry_fields(p)
    home = schools.get(row.school_code) if row.school_code else None
    if member is None:
        member = services.create_member(
            by=by, district=district, school=home, staff_no=row.staff_no, fields=fields
        )
        changed = True
    else:
        school_arg: School | None | bool = home if "school_code" in p.given else False
        changed = bool(
            services.update_member(by=by, member=member, fields=fields, school=school_arg, detail="import")
        )
    posts = _posts(p, schools, campuses)
    if posts is not None:
        changed = services.set_posts(by=by, member=member, posts=posts) or changed
    for kind in (CertificateKind.C, CertificateKind.B):
        k = kind.lower()
        number = getattr(row, f"{k}_number")
        if not number:
            continue
        issued, expires, issuer = (getattr(row, f"{k}_{s}") for s in ("issued_on", "expires_on", "issuer"))
        held = HeldCertificate.objects.filter(
            member=member, kind=kind, number=number, revoked_at__isnull=True
        ).first()
        if held and (held.issued_on, held.expires_on, held.issuer) == (issued, expires, issuer or ""):
            continue
        services.record_certificate(
            by=by,
            member=member,
            kind=kind,
            number=number,
            issued_on=issued,
            expires_on=expires,
            issuer=issuer or "",
            source=CertificateSource.IMPORTED,
        )
        changed = True
    return changed


def import_register(
    *, by: User, district: District, filename: str, data: bytes, dry_run: bool = False
) -> ImportResult:
    """Check the file, then (no error, not `dry_run`) write every row in one transaction."""
    parsed, errors = parse_rows(district=district, filename=filename, data=data)
    result = ImportResult(rows=len(parsed) + len({e.row for e in errors if e.row > 1}), errors=errors)
    if errors:
        return result
    schools = {s.code: s for s in School.objects.filter(district=district)}
    campuses = {
        (c.school.code, c.name): c
        for c in Campus.objects.filter(school__district=district).select_related("school")
    }
    existing = set(StaffMember.objects.filter(district=district).values_list("staff_no", flat=True))
    try:
        with transaction.atomic():
            for p in parsed:
                try:
                    with transaction.atomic():
                        changed = _apply_row(
                            by=by, district=district, p=p, schools=schools, campuses=campuses
                        )
                except ServiceError as exc:
                    column = FIELD_HEADER.get(exc.field, exc.field)
                    result.errors.append(RowError(p.number, column, exc.zh, exc.en or exc.zh))
                    continue
                if p.row.staff_no not in existing:
                    result.created += 1
                elif changed:
                    result.updated += 1
                else:
                    result.unchanged += 1
            if result.errors or dry_run:
                raise _Rollback
            record(
                actor=by,
                action=Action.UPDATE,
                object_type="staff_register",
                object_id=district.code,
                detail=f"import {filename[:80]}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged",
            )
    except _Rollback:
        result.applied = False
        return result
    result.applied = True
    return result


# ---- the template -------------------------------------------------------------------------

HELP: dict[str, str] = {
    "工号": "必填，区内唯一；重复导入按工号更新 / required, unique in the district (re-import updates by it)",
    "姓名": "必填 / required",
    "性别": "男 或 女 / M or F",
    "出生年份": "例如 1988 / e.g. 1988",
    "学校代码": "人事关系所在学校代码 / home school code",
    "任教学校代码": "所服务学校代码；县管片用可填多所，用 、 或 ; 分隔；不填则为学校代码 / schools served, several (separated by 、 or ;) for a cluster post",
    "校区": "已登记的校区名称，可不填 / campus name, optional",
    "学段": "小学、初中、高中，可填多个 / stages, several allowed",
    "岗位类型": "必填：专职、兼职 或 县管片用 / required: full-time, part-time or cluster",
    "学历": "大专以下、大专、本科、硕士、博士 / degree",
    "专业": "所学专业 / major",
    "专业对口": "是 或 否（心理学、教育学等相关专业）/ yes or no",
    "相关工作年限": "年，可有一位小数 / years, one decimal",
    "岗前培训": "是 或 否 / yes or no",
    "岗前培训日期": "2024-09-01 或 Excel 日期 / date",
    "专门培训": "是 或 否（兼职教师的专门培训）/ yes or no",
    "最近培训日期": "最近一次心理健康教育培训 / last psych training",
    "周课时": "每周心理课课时 / weekly periods",
    "计入班主任年限": "按 SJS 计入班主任工作量的年限 / years counted as class-teacher years",
    "职称": "例如 中小学一级教师 / professional title",
    "电话": "手机号或带区号的固定电话 / mobile or landline",
    "C证编号": "C 证编号；填写 C 证其他信息时必填 / C certificate number",
    "C证日期": "发证日期 / date of issue",
    "C证发证机构": "发证机构 / issuer",
    "C证有效期": "有效期至 / expiry date",
    "B证编号": "B 证编号 / B certificate number",
    "B证日期": "发证日期 / date of issue",
    "B证发证机构": "发证机构 / issuer",
    "B证有效期": "有效期至 / expiry date",
}
EXAMPLE: dict[str, Any] = {
    "工号": "T2025001",
    "姓名": "李老师",
    "性别": "女",
    "出生年份": 1988,
    "学校代码": "A001",
    "任教学校代码": "A001",
    "校区": "本部",
    "学段": "小学、初中",
    "岗位类型": "专职",
    "学历": "本科",
    "专业": "应用心理学",
    "专业对口": "是",
    "相关工作年限": 6,
    "岗前培训": "是",
    "岗前培训日期": dt.date(2019, 8, 20),
    "专门培训": "是",
    "最近培训日期": dt.date(2025, 7, 10),
    "周课时": 12,
    "计入班主任年限": 2,
    "职称": "中小学一级教师",
    "电话": "13900139000",
    "C证编号": "CQC2023001",
    "C证日期": dt.date(2023, 6, 30),
    "C证发证机构": "重庆市教育委员会",
    "C证有效期": dt.date(2028, 6, 30),
    "B证编号": "",
    "B证日期": None,
    "B证发证机构": "",
    "B证有效期": None,
}


def template_workbook() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "心理健康教师名册"
    headers = [h for h, _ in COLUMNS]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append([EXAMPLE.get(h) for h in headers])
    for cell in ws[2]:
        if isinstance(cell.value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, len(h) * 2 + 4)
    help_ws = wb.create_sheet("说明 Help")
    help_ws.append(["列名 / column", "必填 / required", "说明 / how to fill in"])
    for h in headers:
        help_ws.append([h, "是 / yes" if h in REQUIRED else "", HELP.get(h, "")])
    help_ws.column_dimensions["A"].width = 16
    help_ws.column_dimensions["C"].width = 90
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rows_to_xlsx(rows: Iterable[Sequence[Any]], headers: Sequence[str] | None = None) -> bytes:
    """A register file from rows (tests and the benchmark build their files with it)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(headers or [h for h, _ in COLUMNS]))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
