"""Reads of training programmes: the attendance ledger and the lists behind the pages.

`ledger(programme)` is the certificate helper's input: per participant, hours attended (the
sum of the attended sessions' hours), course days attended (distinct dates of attended
course sessions), the programme's course days and the assessment result, computed in two
grouped queries whatever the number of participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from .models import Participant, Programme, SessionKind, TrainingSession


@dataclass(frozen=True)
class ParticipantLedger:
    participant_id: int
    member_id: int
    name: str
    staff_no: str
    school_id: int | None
    hours: Decimal  # hours of the sessions attended (course and assessment)
    course_days: int  # distinct dates of the course sessions attended
    programme_course_days: int  # distinct dates of the programme's course sessions
    sessions_attended: int
    assessment: str  # AssessmentResult value
    assessment_score: Decimal | None
    withdrawn: bool


def ledger(programme: Programme, *, include_withdrawn: bool = False) -> list[ParticipantLedger]:
    """The attendance ledger of a programme, one row per participant (in enrolment order).

    Two grouped queries: the programme's course days (distinct local dates of its course
    sessions), and the participants with their attended hours, sessions and course days
    (aggregates over their present attendance rows; dates in the active time zone, so a day
    is a day of the school calendar)."""
    programme_days = (
        TrainingSession.objects.filter(programme=programme, kind=SessionKind.COURSE)
        .annotate(day=TruncDate("starts_at"))
        .values("day")
        .distinct()
        .count()
    )
    present = Q(attendance__present=True)
    participants: QuerySet[Participant] = Participant.objects.filter(programme=programme)
    if not include_withdrawn:
        participants = participants.filter(withdrawn_at__isnull=True)
    rows = (
        participants.annotate(
            hours_attended=Sum("attendance__session__hours", filter=present),
            sessions_attended=Count("attendance", filter=present),
            days_attended=Count(
                TruncDate("attendance__session__starts_at"),
                filter=present & Q(attendance__session__kind=SessionKind.COURSE),
                distinct=True,
            ),
        )
        .values(
            "pk",
            "member_id",
            "member__name",
            "member__staff_no",
            "member__school_id",
            "assessment",
            "assessment_score",
            "withdrawn_at",
            "hours_attended",
            "sessions_attended",
            "days_attended",
        )
        .order_by("pk")
    )
    return [
        ParticipantLedger(
            participant_id=r["pk"],
            member_id=r["member_id"],
            name=r["member__name"],
            staff_no=r["member__staff_no"],
            school_id=r["member__school_id"],
            hours=Decimal(r["hours_attended"] or 0).quantize(Decimal("0.1")),
            course_days=r["days_attended"],
            programme_course_days=programme_days,
            sessions_attended=r["sessions_attended"],
            assessment=r["assessment"],
            assessment_score=r["assessment_score"],
            withdrawn=r["withdrawn_at"] is not None,
        )
        for r in rows
    ]
