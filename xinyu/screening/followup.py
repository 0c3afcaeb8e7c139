"""Screening's entry point for care: a case's re-assessment is a screening second stage
(SPEC §3: consent carries over), and the case and warning pages show the results the viewer
may read. Care imports this module and nothing else of screening."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from xinyu.kernel.errors import ServiceError

from . import access
from .instruments import localized, registry
from .models import Consent, Invitation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from xinyu.org.models import User


def latest_consented(student_id: int) -> Invitation | None:
    """The student's latest first-stage screening they take part in (consent given)."""
    return (
        Invitation.objects.filter(student_id=student_id, stage=1, consent=Consent.GIVEN)
        .select_related("campaign")
        .order_by("-campaign__opens_at", "-pk")
        .first()
    )


def has_consented(student_id: int) -> bool:
    return Invitation.objects.filter(student_id=student_id, stage=1, consent=Consent.GIVEN).exists()


def assign_reassessment(
    *, by: User, parent: Invitation, instrument: str, role: str | None = None
) -> Invitation:
    """A second stage with `instrument` on `parent` (refused with a ServiceError naming why).
    The audit row names the role through which `by` sees the student; `role` is accepted
    from older callers and not used."""
    from .services import assign_follow_up

    del role
    (invitation,) = assign_follow_up(by=by, parents=[parent], instruments=[instrument])
    return invitation


def readable_ids(user: User | AnonymousUser, ids: Iterable[int]) -> set[int]:
    """Of these invitations, those whose results the user may read."""
    return set(access.result_invitations_for(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


def readable_by_uid(user: User | AnonymousUser, uids: Iterable[Any]) -> dict[str, Invitation]:
    """The invitations with these public ids whose results the user may read, by uid."""
    uids = list(uids)
    if not uids:
        return {}
    return {
        str(inv.uid): inv
        for inv in access.result_invitations_for(user).filter(uid__in=uids).select_related("campaign")
    }


def instruments_for_grade(grade: int, lang: str) -> list[tuple[str, str]]:
    """(code, name) of the instruments meant for this grade."""
    return [
        (i.code, localized(i.name, lang)) for i in registry().values() if i.grades[0] <= grade <= i.grades[1]
    ]


__all__ = [
    "ServiceError",
    "assign_reassessment",
    "has_consented",
    "instruments_for_grade",
    "latest_consented",
    "readable_by_uid",
    "readable_ids",
]
