"""Reads of training programmes: the attendance ledger and the lists behind the pages.

`ledger(programme)` is the certificate helper's input: per participant, hours attended (the
sum of the attended sessions' hours), course days attended (distinct dates of attended
course sessions), the programme's course days and the assessment result, computed in two
grouped queries whatever the number of participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from xinyu.kernel import suppression
from xinyu.kernel.semester import Semester
from xinyu.org.models import User

from . import access
from .models import Attendance, Feedback, Participant, Programme, SessionKind, TrainingSession

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


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


# ---- pages ---------------------------------------------------------------------------------


def programme_list(
    user: User | AnonymousUser, *, kind: str = "", status: str = "", semester: Semester | None = None
) -> QuerySet[Programme]:
    """Programmes in the user's scope with their enrolled count, filtered by kind, status
    and semester (a programme is in a semester when its dates overlap it)."""
    qs = access.programmes_for(user)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if semester is not None:
        qs = qs.filter(starts_on__lte=semester.end).filter(
            Q(ends_on__gte=semester.start) | Q(ends_on__isnull=True)
        )
    return (
        qs.select_related("school")
        .annotate(enrolled=Count("participants", filter=Q(participants__withdrawn_at__isnull=True)))
        .order_by("-starts_on", "-id")
    )


def sessions_of(programme: Programme) -> list[TrainingSession]:
    return list(
        TrainingSession.objects.filter(programme=programme)
        .annotate(present=Count("attendance", filter=Q(attendance__present=True)))
        .order_by("seq")
    )


@dataclass(frozen=True)
class FeedbackSummary:
    count: int
    average: Decimal | None
    distribution: list[tuple[int, object]]  # (rating, count or "<5")
    comments: list[tuple[int, str]]


def feedback_summary(programme: Programme) -> FeedbackSummary:
    """Ratings of a programme (small counts hidden as everywhere) and the comments, without
    names."""
    rows = list(Feedback.objects.filter(programme=programme).values_list("rating", "comment").order_by("-at"))
    counts = [sum(1 for r, _c in rows if r == rating) for rating in range(1, 6)]
    threshold = suppression.small_cell(programme.district.code)
    hidden = suppression.suppress_table([counts], threshold=threshold)
    shown = [
        (rating, suppression.shown(counts[rating - 1], (0, rating - 1), hidden, threshold=threshold))
        for rating in range(5, 0, -1)
    ]
    average = (
        (Decimal(sum(r for r, _c in rows)) / len(rows)).quantize(Decimal("0.1"))
        if len(rows) >= threshold
        else None
    )
    return FeedbackSummary(
        count=len(rows), average=average, distribution=shown, comments=[(r, c) for r, c in rows if c]
    )


@dataclass(frozen=True)
class MyProgramme:
    participant: Participant
    sessions: list[tuple[TrainingSession, bool]]  # each session, attended?
    hours: Decimal
    course_days: int
    programme_course_days: int
    feedback: Feedback | None


def my_training(user: User | AnonymousUser) -> list[MyProgramme]:
    """The user's own enrolments, each with its sessions (attended or not) and totals."""
    parts = list(
        access.own_participations(user)
        .select_related("programme", "programme__school")
        .order_by("-enrolled_at")
    )
    if not parts:
        return []
    sessions: dict[int, list[TrainingSession]] = {}
    for s in TrainingSession.objects.filter(programme__in=[p.programme_id for p in parts]).order_by("seq"):
        sessions.setdefault(s.programme_id, []).append(s)
    attended = set(
        Attendance.objects.filter(participant__in=parts, present=True).values_list(
            "participant_id", "session_id"
        )
    )
    feedback = {f.participant_id: f for f in Feedback.objects.filter(participant__in=parts)}
    out = []
    for p in parts:
        rows = [(s, (p.pk, s.pk) in attended) for s in sessions.get(p.programme_id, [])]
        course = {
            timezone.localtime(s.starts_at).date()
            for s in sessions.get(p.programme_id, [])
            if s.kind == SessionKind.COURSE
        }
        days = {
            timezone.localtime(s.starts_at).date() for s, ok in rows if ok and s.kind == SessionKind.COURSE
        }
        out.append(
            MyProgramme(
                participant=p,
                sessions=rows,
                hours=sum((s.hours for s, ok in rows if ok), Decimal("0")),
                course_days=len(days),
                programme_course_days=len(course),
                feedback=feedback.get(p.pk),
            )
        )
    return out
