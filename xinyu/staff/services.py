"""Writes to the staff register (师资名册). Each function is atomic and writes its audit row in
the same transaction; refusals raise `ServiceError` in Chinese and English naming the field.

Public entry points used by other apps (training, wellbeing): `ensure_member`,
`record_certificate`, `revoke_certificate`. The register's own views and the Excel import use
`create_member`, `update_member`, `set_posts`, `update_certificate` and the correction flow
(`propose_correction`, `confirm_correction`, `return_correction`).

The services trust their caller for scope (views fetch through `xinyu.staff.access`); they
check what is true of the data itself (a school of another district, a revoked certificate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.validators import Label
from xinyu.org.models import Campus, District, Gender, School, Stage, User

from .models import (
    CertificateKind,
    CertificateSource,
    Correction,
    CorrectionStatus,
    Degree,
    HeldCertificate,
    Post,
    PostType,
    StaffMember,
)

STAFF_NO = Label("staff_no", "工号", "staff number")
NAME = Label("name", "姓名", "name")
PHONE = Label("phone", "电话", "phone")
REASON = Label("reason", "撤销原因", "reason")
NOTE = Label("note", "说明", "note")
CERT_KIND = Label("kind", "证书类别", "certificate kind")
CERT_NUMBER = Label("number", "证书编号", "certificate number")
CERT_NAME = Label("name", "证书名称", "certificate name")
CERT_ISSUED = Label("issued_on", "发证日期", "date of issue")
CERT_EXPIRES = Label("expires_on", "有效期至", "expiry date")
CERT_ISSUER = Label("issuer", "发证机构", "issuer")
CERT_SOURCE = Label("source", "来源", "source")


@dataclass(frozen=True)
class FieldSpec:
    label: Label
    kind: str  # text | choice | bool | date | int | decimal
    limit: int = 100
    choices: tuple[str, ...] = ()


# The fields of an entry that the register's forms, the import and corrections may set.
FIELDS: dict[str, FieldSpec] = {
    "name": FieldSpec(NAME, "text", 50),
    "gender": FieldSpec(Label("gender", "性别", "gender"), "choice", choices=tuple(Gender.values)),
    "birth_year": FieldSpec(Label("birth_year", "出生年份", "birth year"), "int"),
    "phone": FieldSpec(PHONE, "text", 30),
    "title": FieldSpec(Label("title", "职称", "professional title"), "text", 50),
    "post_type": FieldSpec(
        Label("post_type", "岗位类型", "post type"), "choice", choices=tuple(PostType.values)
    ),
    "degree": FieldSpec(Label("degree", "学历", "degree"), "choice", choices=tuple(Degree.values)),
    "major": FieldSpec(Label("major", "专业", "major"), "text", 100),
    "major_relevant": FieldSpec(Label("major_relevant", "专业对口", "relevant major"), "bool"),
    "related_experience_years": FieldSpec(
        Label("related_experience_years", "相关工作年限", "years of related experience"), "decimal"
    ),
    "pre_job_training": FieldSpec(Label("pre_job_training", "岗前培训", "pre-job training"), "bool"),
    "pre_job_training_on": FieldSpec(
        Label("pre_job_training_on", "岗前培训日期", "pre-job training date"), "date"
    ),
    "specialised_training": FieldSpec(
        Label("specialised_training", "专门培训", "specialised training"), "bool"
    ),
    "last_trained_on": FieldSpec(Label("last_trained_on", "最近培训日期", "last training date"), "date"),
    "weekly_periods": FieldSpec(Label("weekly_periods", "周课时", "weekly periods"), "int"),
    "class_teacher_years": FieldSpec(
        Label("class_teacher_years", "计入班主任年限", "years counted as class-teacher years"), "decimal"
    ),
}
# What a teacher may propose to correct in their own entry (not the post type: the school decides).
CORRECTABLE = (
    "name",
    "gender",
    "birth_year",
    "phone",
    "title",
    "degree",
    "major",
    "major_relevant",
    "related_experience_years",
    "pre_job_training",
    "pre_job_training_on",
    "specialised_training",
    "last_trained_on",
    "weekly_periods",
    "class_teacher_years",
)
TRUE_WORDS = {"1", "true", "yes", "y", "on", "是", "有", "对口", "√"}
FALSE_WORDS = {"", "0", "false", "no", "n", "off", "否", "无", "不对口", "×"}


def _bool(value: Any, label: Label) -> bool:
    if isinstance(value, bool):
        return value
    clean = str(value if value is not None else "").strip().lower()
    if clean in TRUE_WORDS:
        return True
    if clean in FALSE_WORDS:
        return False
    raise ServiceError(
        f"{label.zh}须为“是”或“否”", f"The {label.english} must be yes or no", field=label.field
    )


def _decimal(value: Any, label: Label) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(
            f"{label.zh}须为数字", f"The {label.english} must be a number", field=label.field
        ) from None
    if d < 0 or d >= 100 or d != d.quantize(Decimal("0.1")):
        raise ServiceError(
            f"{label.zh}须在 0–99.9 之间（一位小数）",
            f"The {label.english} must be between 0 and 99.9 (one decimal)",
            field=label.field,
        )
    return d


def clean_field(field: str, value: Any) -> Any:
    """One register field, checked and converted (text from a form, the import or a correction)."""
    spec = FIELDS.get(field)
    if spec is None:
        raise ServiceError(f"未知字段：{field}", f"Unknown field: {field}", field=field)
    label = spec.label
    match spec.kind:
        case "text":
            return validators.text(value, label, required=field == "name", limit=spec.limit)
        case "choice":
            return validators.choice(value, label, spec.choices, required=False)
        case "bool":
            return _bool(value, label)
        case "date":
            return validators.date(value, label, required=False, not_after=timezone.localdate())
        case "int":
            if field == "birth_year":
                return validators.number(
                    value, label, required=False, minimum=1940, maximum=timezone.localdate().year
                )
            return validators.number(value, label, required=False, minimum=0, maximum=60)
        case _:
            return _decimal(value, label)


def clean_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    return {field: clean_field(field, value) for field, value in changes.items()}


def _check_school(district: District, school: School | None) -> None:
    if school is not None and school.district_id != district.pk:
        raise ServiceError("学校不属于该区县", "The school is not in this district", field="school")


def _role(by: User) -> str:
    return policy.roles_label(by)


def _changed_names(member: StaffMember, clean: Mapping[str, Any]) -> list[str]:
    return [f for f, v in clean.items() if getattr(member, f) != v]


# ---- entries -----------------------------------------------------------------------------


@transaction.atomic
def ensure_member(
    *,
    by: User,
    district: District,
    school: School | None,
    staff_no: str,
    name: str,
    phone: str = "",
    user: User | None = None,
) -> StaffMember:
    """The register entry with this staff number in the district, or a new one (not a psych
    teacher: no post type) for a trainee not yet on the register. An existing entry keeps its
    data; only a missing user link (and a missing phone) is filled in."""
    staff_no = validators.text(staff_no, STAFF_NO, limit=32)
    name = validators.text(name, NAME, limit=50)
    phone = validators.text(phone, PHONE, required=False, limit=30)
    _check_school(district, school)
    member = StaffMember.objects.select_for_update().filter(district=district, staff_no=staff_no).first()
    if member is not None:
        fill: list[str] = []
        if user is not None and member.user_id is None and not StaffMember.objects.filter(user=user).exists():
            member.user = user
            fill.append("user")
        if phone and not member.phone:
            member.phone = phone
            fill.append("phone")
        if fill:
            member.save(update_fields=[*fill, "updated_at"])
            record(
                actor=by,
                action=Action.UPDATE,
                obj=member,
                school=member.school,
                role=_role(by),
                detail="ensure: " + ",".join(fill),
            )
        return member
    if user is not None and StaffMember.objects.filter(user=user).exists():
        user = None  # the account already has an entry under another number; do not steal it
    member = StaffMember.objects.create(
        district=district, school=school, staff_no=staff_no, name=name, phone=phone, user=user
    )
    record(actor=by, action=Action.CREATE, obj=member, school=school, role=_role(by), detail="ensure")
    return member


@transaction.atomic
def create_member(
    *,
    by: User,
    district: District,
    school: School | None,
    staff_no: str,
    fields: Mapping[str, Any],
    user: User | None = None,
) -> StaffMember:
    """A new register entry (a psych teacher when `fields` has a post type)."""
    staff_no = validators.text(staff_no, STAFF_NO, limit=32)
    _check_school(district, school)
    clean = clean_fields(fields)
    if "name" not in clean:
        validators.text("", NAME)
    if StaffMember.objects.filter(district=district, staff_no=staff_no).exists():
        raise ServiceError(
            f"工号 {staff_no} 已在名册中",
            f"Staff number {staff_no} is already on the register",
            field="staff_no",
        )
    member = StaffMember(district=district, school=school, staff_no=staff_no, user=user, **clean)
    member.save()
    record(actor=by, action=Action.CREATE, obj=member, school=school, role=_role(by), detail="register entry")
    return member


@transaction.atomic
def update_member(
    *,
    by: User,
    member: StaffMember,
    fields: Mapping[str, Any],
    school: School | None | bool = False,
    detail: str = "",
) -> list[str]:
    """Change fields of an entry (and its home school when `school` is given, None: the
    centre). Returns the names of the fields changed; nothing is written when none changed."""
    clean = clean_fields(fields)
    changed = _changed_names(member, clean)
    if school is not False:
        new_school = school if isinstance(school, School) else None
        _check_school(member.district, new_school)
        if member.school_id != (new_school.pk if new_school else None):
            member.school = new_school
            changed.append("school")
    if not changed:
        return []
    for f in changed:
        if f != "school":
            setattr(member, f, clean[f])
    member.save()
    names = ",".join(changed)
    record(
        actor=by,
        action=Action.UPDATE,
        obj=member,
        school=member.school,
        role=_role(by),
        detail=(f"{detail}: {names}" if detail else names)[:200],
    )
    return changed


@transaction.atomic
def set_active(*, by: User, member: StaffMember, active: bool, left_on: dt.date | None = None) -> None:
    """Mark an entry as having left (kept on the register for the record) or back."""
    member.is_active = active
    member.left_on = None if active else (left_on or timezone.localdate())
    member.save(update_fields=["is_active", "left_on", "updated_at"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=member,
        school=member.school,
        role=_role(by),
        detail="active" if active else "left",
    )


# ---- posts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostSpec:
    school: School
    campus: Campus | None = None
    stage: str = ""


def _post_key(p: PostSpec | Post) -> tuple[int, int | None, str]:
    return (p.school.pk, p.campus.pk if p.campus else None, p.stage or "")


@transaction.atomic
def set_posts(*, by: User, member: StaffMember, posts: Sequence[PostSpec]) -> bool:
    """The schools (campus, stage) the member serves, replacing the old ones. A cluster post
    (县管片用) serves several schools; other posts serve one school (several campuses or stages
    of it allowed). Returns whether anything changed."""
    seen: set[tuple[int, int | None, str]] = set()
    unique: list[PostSpec] = []
    for p in posts:
        _check_school(member.district, p.school)
        if p.campus is not None and p.campus.school_id != p.school.pk:
            raise ServiceError(
                f"校区“{p.campus.name}”不属于{p.school.name}",
                f"Campus {p.campus.name} is not a campus of {p.school.name}",
                field="campus",
            )
        if p.stage and p.stage not in Stage.values:
            raise ServiceError("请选择有效的学段", "Please choose a valid stage", field="stage")
        key = _post_key(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    schools = {p.school.pk for p in unique}
    if len(schools) > 1 and member.post_type != PostType.CLUSTER:
        raise ServiceError(
            "只有县管片用岗位可以服务多所学校",
            "Only a cluster post (县管片用) serves several schools",
            field="posts",
        )
    old = list(member.posts.select_related("school", "campus"))
    if {_post_key(p) for p in old} == seen:
        return False
    member.posts.all().delete()
    Post.objects.bulk_create(
        [Post(member=member, school=p.school, campus=p.campus, stage=p.stage or "") for p in unique]
    )
    record(
        actor=by,
        action=Action.UPDATE,
        obj=member,
        school=member.school,
        role=_role(by),
        detail=f"posts: {len(unique)} at {len(schools)} school(s)",
    )
    return True


# ---- certificates ------------------------------------------------------------------------


def _certificate_fields(
    *, kind: str, number: str, issued_on: Any, expires_on: Any, issuer: str, name: str
) -> dict[str, Any]:
    kind = validators.choice(kind, CERT_KIND, CertificateKind.values)
    issued = validators.date(issued_on, CERT_ISSUED, required=False)
    expires = validators.date(expires_on, CERT_EXPIRES, required=False)
    if issued and expires and expires < issued:
        raise ServiceError(
            "有效期不能早于发证日期", "The expiry date cannot be before the date of issue", field="expires_on"
        )
    clean = {
        "kind": kind,
        "number": validators.text(number, CERT_NUMBER, required=False, limit=50),
        "issued_on": issued,
        "expires_on": expires,
        "issuer": validators.text(issuer, CERT_ISSUER, required=False, limit=100),
        "name": validators.text(name, CERT_NAME, required=kind == CertificateKind.OTHER, limit=100),
    }
    return clean


@transaction.atomic
def record_certificate(
    *,
    by: User,
    member: StaffMember,
    kind: str,
    number: str,
    issued_on: dt.date | str | None,
    expires_on: dt.date | str | None,
    issuer: str,
    source: str,
    name: str = "",
) -> HeldCertificate:
    """A certificate the member holds (entered, imported or issued by the training app). The
    same kind and number already held (not revoked) is updated rather than doubled."""
    clean = _certificate_fields(
        kind=kind, number=number, issued_on=issued_on, expires_on=expires_on, issuer=issuer, name=name
    )
    source = validators.choice(source, CERT_SOURCE, CertificateSource.values)
    existing = None
    if clean["number"]:
        existing = (
            HeldCertificate.objects.select_for_update()
            .filter(member=member, kind=clean["kind"], number=clean["number"], revoked_at__isnull=True)
            .first()
        )
    if existing is not None:
        changed = [f for f, v in clean.items() if getattr(existing, f) != v]
        if changed:
            for f in changed:
                setattr(existing, f, clean[f])
            existing.save(update_fields=changed)
            record(
                actor=by,
                action=Action.UPDATE,
                obj=existing,
                school=member.school,
                role=_role(by),
                detail=f"certificate {source}: " + ",".join(changed),
            )
        return existing
    cert = HeldCertificate.objects.create(member=member, source=source, **clean)
    record(
        actor=by,
        action=Action.CREATE,
        obj=cert,
        school=member.school,
        role=_role(by),
        detail=f"certificate {clean['kind']} ({source})",
    )
    return cert


@transaction.atomic
def update_certificate(
    *,
    by: User,
    certificate: HeldCertificate,
    kind: str,
    number: str,
    issued_on: dt.date | str | None,
    expires_on: dt.date | str | None,
    issuer: str,
    name: str = "",
) -> list[str]:
    """Correct a certificate's details (not one issued by the training app: that one is
    revoked and reissued there). Returns the fields changed."""
    if certificate.revoked_at is not None:
        raise ServiceError(
            "该证书已撤销，不能修改", "This certificate has been revoked and cannot be changed"
        )
    if certificate.source == CertificateSource.TRAINING:
        raise ServiceError(
            "培训颁发的证书只能在培训中撤销或补发",
            "A certificate issued from training is revoked or reissued in the training programme",
        )
    clean = _certificate_fields(
        kind=kind, number=number, issued_on=issued_on, expires_on=expires_on, issuer=issuer, name=name
    )
    changed = [f for f, v in clean.items() if getattr(certificate, f) != v]
    if not changed:
        return []
    for f in changed:
        setattr(certificate, f, clean[f])
    certificate.save(update_fields=changed)
    record(
        actor=by,
        action=Action.UPDATE,
        obj=certificate,
        school=certificate.member.school,
        role=_role(by),
        detail="certificate: " + ",".join(changed),
    )
    return changed


@transaction.atomic
def revoke_certificate(*, by: User, certificate: HeldCertificate, reason: str) -> None:
    """Revoke a held certificate with a reason (kept on the register, marked revoked)."""
    reason = validators.text(reason, REASON, limit=200)
    locked = (
        HeldCertificate.objects.select_for_update(of=("self",))
        .select_related("member__school")
        .get(pk=certificate.pk)
    )
    if locked.revoked_at is not None:
        raise ServiceError("该证书已撤销", "This certificate has already been revoked", field="reason")
    locked.revoked_at = timezone.now()
    locked.revoked_reason = reason
    locked.save(update_fields=["revoked_at", "revoked_reason"])
    certificate.revoked_at, certificate.revoked_reason = locked.revoked_at, locked.revoked_reason
    record(
        actor=by,
        action=Action.DELETE,
        obj=locked,
        school=locked.member.school,
        role=_role(by),
        detail=f"revoked: {reason}"[:200],
    )


# ---- corrections by the teacher ----------------------------------------------------------


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@transaction.atomic
def propose_correction(
    *, by: User, member: StaffMember, proposed: Mapping[str, Any], note: str = ""
) -> Correction:
    """The teacher proposes corrections to their own entry; they stay marked (待学校确认) until
    the school confirms them. Only fields that differ from the entry are kept."""
    if member.user_id != by.pk:
        raise ServiceError("只能更正本人的名册信息", "You can only correct your own register entry")
    unknown = [f for f in proposed if f not in CORRECTABLE]
    if unknown:
        raise ServiceError(
            f"该项不能更正：{unknown[0]}", f"This field cannot be corrected: {unknown[0]}", field=unknown[0]
        )
    clean = clean_fields(proposed)
    changes = {f: _as_text(v) for f, v in clean.items() if getattr(member, f) != v}
    if not changes:
        raise ServiceError("没有需要更正的内容", "Nothing differs from your entry")
    note = validators.text(note, NOTE, required=False, limit=200)
    if Correction.objects.filter(member=member, status=CorrectionStatus.PENDING).exists():
        raise ServiceError(
            "已有一项更正待学校确认，请等待确认后再提交",
            "A correction is already awaiting the school's confirmation",
        )
    correction = Correction.objects.create(
        member=member, proposed=changes, note=note, by=by, at=timezone.now()
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=correction,
        school=member.school,
        role=_role(by) or "self",
        detail="correction: " + ",".join(changes),
    )
    return correction


def _pending(correction: Correction) -> Correction:
    locked = Correction.objects.select_for_update(of=("self",)).select_related("member").get(pk=correction.pk)
    if locked.status != CorrectionStatus.PENDING:
        raise ServiceError("该更正已处理", "This correction has already been decided")
    return locked


@transaction.atomic
def confirm_correction(*, by: User, correction: Correction) -> list[str]:
    """The school (or the district) confirms a correction: its values go into the entry."""
    locked = _pending(correction)
    member = StaffMember.objects.select_for_update().get(pk=locked.member_id)
    changed = update_member(by=by, member=member, fields=locked.proposed, detail="correction confirmed")
    locked.status = CorrectionStatus.CONFIRMED
    locked.decided_by, locked.decided_at = by, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    record(
        actor=by, action=Action.UPDATE, obj=locked, school=member.school, role=_role(by), detail="confirmed"
    )
    correction.status = locked.status
    return changed


@transaction.atomic
def return_correction(*, by: User, correction: Correction, note: str) -> None:
    """The school returns a correction with a note; the entry stays as it was."""
    note = validators.text(note, Label("decision_note", "退回说明", "note"), limit=200)
    locked = _pending(correction)
    locked.status = CorrectionStatus.REJECTED
    locked.decided_by, locked.decided_at, locked.decision_note = by, timezone.now(), note
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=locked,
        school=locked.member.school,
        role=_role(by),
        detail="returned",
    )
    correction.status = locked.status
