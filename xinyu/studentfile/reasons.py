"""Stated reasons for reading a student's file outside the care circle (issue 11 item 3).

The relationship (who cares for the student, who must state a reason, how long a reason holds)
is the access core's: `xinyu.access.policy.file_access`, `in_care_circle`, `stated_reason`. This
module holds the reasons one may choose, the service that records one, and the selector of the
reasoned reads shown to the school's psych teachers."""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xinyu.access import policy
from xinyu.audit.models import Action, AuditEntry
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import Student, User

TEXT_MIN, TEXT_MAX = 4, 120


class Reason(models.TextChoices):
    SAFETY = "safety", _("A safety incident or crisis involving the student")
    GUARDIAN = "guardian", _("A guardian's visit, call or complaint")
    ADMINISTRATION = "administration", _("Enrolment, transfer or other administration")
    SUPERVISION = "supervision", _("Supervision or quality review of the work")
    OTHER = "other", _("Other (explain below)")


@transaction.atomic
def state_reason(*, by: User, student: Student, reason: str, text: str) -> AuditEntry:
    """Record why `by` opens the student's file: the audit row of the read (object type
    file_reason, detail "<reason>: <text>"); it opens the file for [access] reason_valid_hours."""
    if reason not in Reason.values:
        raise ServiceError("请选择查看理由", "Choose a reason", field="reason")
    text = " ".join(text.split())
    if len(text) < TEXT_MIN:
        raise ServiceError(
            f"请简要说明理由（至少 {TEXT_MIN} 个字）",
            f"Explain the reason briefly (at least {TEXT_MIN} characters)",
            field="text",
        )
    if len(text) > TEXT_MAX:
        raise ServiceError(
            f"说明不超过 {TEXT_MAX} 个字", f"Keep the explanation under {TEXT_MAX} characters", field="text"
        )
    return record(
        actor=by,
        action=Action.VIEW,
        object_type=policy.REASON_OBJECT_TYPE,
        object_id=str(student.uid),
        student=student,
        role=policy.audit_role(by, student),
        detail=f"{reason}: {text}",
    )


def reason_label(detail: str) -> tuple[str, str]:
    """(the reason's label, the free text) of a file_reason row's detail."""
    code, _sep, text = detail.partition(": ")
    labels = dict(Reason.choices)
    return (str(labels[code]) if code in labels else code), text


def reasoned_reads_for(user: User) -> QuerySet[AuditEntry]:
    """Reasoned reads of the files of students of the schools where the user sees who viewed a
    file (the psych teachers: VIEW_FILE_AUDIT), newest first."""
    schools = policy.schools_with(user, policy.Perm.VIEW_FILE_AUDIT)
    return (
        AuditEntry.objects.filter(object_type=policy.REASON_OBJECT_TYPE, school__in=schools)
        .select_related("student__school_class__grade", "student__school")
        .order_by("-at", "-id")
    )
