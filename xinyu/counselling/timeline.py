"""Counselling's part of the student's file (`xinyu.kernel.registry.timeline_provider`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.kernel.registry import Entry, timeline_provider
from xinyu.org.models import Student, User

from . import access as counselling_access


@timeline_provider("counselling", order=40)
def counselling_sessions(user: User, student: Student) -> list[Entry]:
    """Individual counselling sessions: date, topic category and length, never the notes
    (those open on the record's own audited page)."""
    return [
        Entry(
            at=r.held_at,
            kind="counselling",
            title=_("Counselling session"),
            detail=_("%(category)s · %(minutes)s min")
            % {"category": r.get_category_display(), "minutes": r.minutes},
            url=reverse("counselling:record", args=[r.uid]),
            urgent=r.risk_self_harm or r.risk_harm_others,
        )
        for r in counselling_access.counselling_records_for(user).filter(student=student)
    ]
