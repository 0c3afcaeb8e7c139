"""Access policy of the psychological mailbox (心理信箱, SPEC §2, §5). Letters reach the
psych teachers of the school they were posted to; once a letter is linked to a student, it
follows the student's current school (a transfer moves it, like the rest of the file)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.org.models import Role, School, User

from .models import Letter

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class MailboxPerm(StrEnum):
    READ_LETTERS = "read_letters"  # the school's psychological mailbox (心理信箱): letters, replies


# Which roles hold them (SPEC §2).
policy.grant(
    Role.PSYCH_TEACHER,
    MailboxPerm.READ_LETTERS,
)


def letter_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools whose mailbox the user answers (psych teachers; cluster: each assigned school)."""
    return policy.schools_with(user, MailboxPerm.READ_LETTERS)


def letters_for(user: User | AnonymousUser) -> QuerySet[Letter]:
    schools = letter_schools_for(user)
    return Letter.objects.filter(Q(student__isnull=True, school__in=schools) | Q(student__school__in=schools))


def get_letter_for(user: User | AnonymousUser, uid: Any, *, audit: bool = True) -> Letter:
    """One letter for its school's psych teachers; else 404 and a `denied` row. The `view`
    row names the student only for a letter already linked to one (never an anonymous one)."""
    qs = letters_for(user).select_related("school", "student__school_class__grade")
    return policy.one_for(
        user, qs, uid, "letter", audit="" if audit else None, student="student", school="school"
    )
