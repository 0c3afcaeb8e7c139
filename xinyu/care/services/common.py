"""What every care service shares: the refusal error, the transition check, the history row."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone

from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import User

from ..models import Case, CaseEvent

# The one refusal of every service (xinyu.kernel.errors); the old name reads as care's.
CareError = ServiceError


def check_transition(
    allowed: Mapping[str, set[str]], current: str, target: str, *, what: str, labels: Mapping[str, str]
) -> None:
    """Refuse a state change the machine does not allow, naming both states."""
    if target not in allowed.get(current, set()):
        raise CareError(
            f"{what}当前为「{labels.get(current, current)}」，不能变为「{labels.get(target, target)}」",
            f"{what} is {current}; it cannot become {target}",
            field="status",
        )


def case_event(
    case: Case, kind: str, *, by: User | None, role: str, detail: str = "", audit_obj: object = None
) -> None:
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
        role=role,
        detail=f"case {kind}",
    )
