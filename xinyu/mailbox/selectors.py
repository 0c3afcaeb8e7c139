"""Reads of the mailbox that take the user; every queryset starts from `xinyu.access`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from xinyu.access import policy
from xinyu.access.policy import Level
from xinyu.mailbox import access as mailbox_access
from xinyu.org.models import School, Student, User

from . import words
from .models import Letter, LetterStatus
from .services import is_overdue

LIST_LIMIT = 300


@dataclass(frozen=True)
class Row:
    letter: Letter
    overdue: bool


def inbox(user: User, status: str = LetterStatus.NEW) -> list[Row]:
    """Letters in scope with `status`: flagged first, then by reply deadline."""
    qs = (
        mailbox_access.letters_for(user)
        .filter(status=status)
        .select_related("school", "student__school_class__grade")
        .order_by("-flagged", "reply_due", "id")
    )
    now = timezone.now()
    return [Row(letter, is_overdue(letter, now)) for letter in qs[:LIST_LIMIT]]


def awaiting_reply(user: User) -> list[Row]:
    return inbox(user, LetterStatus.NEW)


def student_letters(user: User, student: Student) -> QuerySet[Letter]:
    """Letters linked to the student (signed or by student key), for the psych teachers."""
    return mailbox_access.letters_for(user).filter(student=student).order_by("-received_at")


def link_candidates(user: User, letter: Letter) -> list[Student]:
    """Students of the letter's school whose name is the signed name (psych teachers only)."""
    if letter.is_anonymous or not letter.signed_name:
        return []
    return list(
        policy.students_for(user, Level.FULL)
        .filter(school=letter.school, name=letter.signed_name.strip())
        .select_related("school_class__grade")[:20]
    )


def matched_words(letter: Letter) -> list[words.Match]:
    return words.matches(letter.body)


def mailbox_school(code: str) -> School | None:
    """The school whose public mailbox page this is (the code is on the school's posters)."""
    return School.objects.select_related("district").filter(code=code).first()
