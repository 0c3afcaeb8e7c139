"""What every care service shares: the transition check, the audit role, the history row.

Services refuse with `xinyu.kernel.errors.ServiceError` (Chinese and English, the field at
fault), take the actor as `by`, and name the audit row's role themselves (`audit_role`)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import Student, User

from ..models import Case, CaseEvent


def audit_role(by: User | None, student: Student | None = None) -> str:
    """The role an audit row names: the one through which `by` sees `student` most fully (or
    all of their roles); "system" for a scheduled job."""
    if by is None:
        return "system"
    return policy.audit_role(by, student)


def check_transition(
    allowed: Mapping[str, set[str]], current: str, target: str, *, what: str, labels: Mapping[str, str]
) -> None:
    """Refuse a state change the machine does not allow, naming both states."""
    if target not in allowed.get(current, set()):
        raise ServiceError(
            f"{what}当前为「{labels.get(current, current)}」，不能变为「{labels.get(target, target)}」",
            f"{what} is {current}; it cannot become {target}",
            field="status",
        )


def case_event(case: Case, kind: str, *, by: User | None, detail: str = "", audit_obj: object = None) -> None:
    """The case's history row and the audit row, in the caller's transaction. The audit row
    names only the kind of change: the district's audit log must not carry tiers, reasons or
    notes (SPEC §2); the details stay in the case history, read with the case."""
    now = timezone.now()
    CaseEvent.objects.create(case=case, kind=kind, at=now, actor=by, detail=detail[:300])
    record(
        actor=by,
        action=Action.UPDATE if audit_obj is None else Action.CREATE,
        obj=audit_obj if audit_obj is not None else case,  # type: ignore[arg-type]
        student=case.student,
        role=audit_role(by, case.student),
        detail=f"case {kind}",
    )
