"""The mailbox's part of the student's file (`xinyu.kernel.registry.timeline_provider`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.kernel.registry import Entry, timeline_provider
from xinyu.org.models import Student, User

from . import access as mailbox_access


@timeline_provider("letter", order=50)
def letters(user: User, student: Student) -> list[Entry]:
    """Signed or student-key letters linked to the student: the school's psych teachers."""
    return [
        Entry(
            at=letter.received_at,
            kind="letter",
            title=_("Letter to the psychological mailbox"),
            detail=str(letter.get_status_display()) + (" · " + _("Flagged") if letter.flagged else ""),
            url=reverse("mailbox:letter", args=[letter.uid]),
            urgent=letter.flagged,
        )
        for letter in mailbox_access.letters_for(user).filter(student=student)
    ]
