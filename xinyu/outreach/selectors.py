"""Reads of outreach: the scoped list, one talk's feedback summary, the district's lecture
progress and the schools' parent-education coverage per semester (counting in `rules`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import Semester, semester_of
from xinyu.kernel.verdict import CountResult
from xinyu.org.models import District, School

from . import access, rules
from .access import OutreachPerm
from .models import Feedback, Talk, TalkKind, TalkStatus


def section(district: District) -> dict[str, Any]:
    return dict(policy_for_code(district.code).get("outreach", {}))


def talk_list(
    user: Any,
    *,
    kind: str = "",
    status: str = "",
    school: School | None = None,
    district_only: bool = False,
    semester: Semester | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Talk]:
    qs = access.talks_for(user).select_related("school", "district")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if school is not None:
        qs = qs.filter(school=school)
    if district_only:
        qs = qs.filter(school__isnull=True)
    if semester is not None:
        qs = qs.filter(starts_at__date__gte=semester.start, starts_at__date__lte=semester.end)
    if date_from:
        qs = qs.filter(starts_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(starts_at__date__lte=date_to)
    # the answers counted per listed talk (a correlated count on the talk's unique index, not
    # a join grouped over every talk in scope: the page reads 50 talks, the count none)
    answers = Feedback.objects.filter(talk=OuterRef("pk")).order_by().values("talk").annotate(n=Count("pk"))
    return qs.annotate(n_feedback=Coalesce(Subquery(answers.values("n")), 0)).order_by("-starts_at", "-id")


@dataclass
class FeedbackSummary:
    count: int
    mean_rating: float | None
    mean_usefulness: float | None
    distribution: list[tuple[int, int]]  # (stars, answers) for 5..1
    comments: list[Feedback] = field(default_factory=list)  # organisers only


def feedback_summary(talk: Talk, *, with_comments: bool) -> FeedbackSummary:
    qs = Feedback.objects.filter(talk=talk)
    agg = qs.aggregate(n=Count("id"), r=Avg("rating"), u=Avg("usefulness"))
    dist = dict(qs.values_list("rating").annotate(c=Count("id")).values_list("rating", "c"))
    # the comment is encrypted: no lookup on it, filtered after decryption
    comments = [f for f in qs.order_by("-created_at") if f.comment] if with_comments else []
    return FeedbackSummary(
        count=agg["n"] or 0,
        mean_rating=round(agg["r"], 2) if agg["r"] is not None else None,
        mean_usefulness=round(agg["u"], 2) if agg["u"] is not None else None,
        distribution=[(s, dist.get(s, 0)) for s in range(5, 0, -1)],
        comments=comments,
    )


def _rows(qs: QuerySet[Talk]) -> list[rules.TalkRow]:
    return [
        rules.TalkRow(uid=str(u), kind=k, status=s, starts_at=at, school_id=sid)
        for u, k, s, at, sid in qs.values_list("uid", "kind", "status", "starts_at", "school_id")
    ]


def lecture_progress(district: District, year: int | None = None) -> CountResult:
    """RC 一: held lectures and volunteer services of the district (district-run and the
    schools') in the calendar year."""
    year = year or timezone.localdate().year
    cfg = section(district)
    qs = Talk.objects.filter(
        district=district,
        kind__in=[TalkKind.LECTURE, TalkKind.VOLUNTEER],
        status=TalkStatus.HELD,
        starts_at__year=year,
    )
    return rules.lecture_progress(
        district_uid=district.code,
        year=year,
        talks=_rows(qs),
        target=int(cfg.get("lecture_target", 50)),
        citation=str(cfg.get("lecture_target_citation", "")),
    )


def current_semester(district: District, day: dt.date | None = None) -> Semester:
    cal = dict(policy_for_code(district.code).get("calendar", {}))
    return semester_of(day or timezone.localdate(), cal)


def recent_semesters(district: District, today: dt.date | None = None, n: int = 6) -> list[Semester]:
    """Today's semester and the `n - 1` before it, newest first (the filters' choices)."""
    out = [current_semester(district, today)]
    while len(out) < n:
        out.append(current_semester(district, out[-1].start - dt.timedelta(days=1)))
    return out


YEARS_SHOWN = 5


def recent_years(today: dt.date | None = None) -> list[int]:
    """The calendar years the progress page offers (RC counts lectures per calendar year)."""
    year = (today or timezone.localdate()).year
    return list(range(year, year - YEARS_SHOWN, -1))


@dataclass(frozen=True)
class SchoolParent:
    school: School
    result: CountResult


def parent_coverage(schools: QuerySet[School], semester: Semester) -> list[SchoolParent]:
    """QX 15 / SJS 三.(二): each school's held parent sessions in the semester (one query)."""
    school_list = list(schools.select_related("district").order_by("code"))
    if not school_list:
        return []
    cfg = section(school_list[0].district)
    qs = Talk.objects.filter(
        school__in=[s.pk for s in school_list],
        kind=TalkKind.PARENT,
        status=TalkStatus.HELD,
        starts_at__date__gte=semester.start,
        starts_at__date__lte=semester.end,
    )
    by_school: dict[int, list[rules.TalkRow]] = {}
    for row in _rows(qs):
        by_school.setdefault(row.school_id or 0, []).append(row)
    return [
        SchoolParent(
            s,
            rules.parent_education(
                school_uid=str(s.uid),
                semester=semester,
                talks=by_school.get(s.pk, []),
                required=int(cfg.get("parent_sessions_per_semester", 1)),
                citation=str(cfg.get("parent_citation", "")),
            ),
        )
        for s in school_list
    ]


def schools_in_scope(user: Any) -> QuerySet[School]:
    """Schools whose talks the user views at school level (district grants: all the district's)."""
    from xinyu.access import policy
    from xinyu.access.policy import Unit

    ids = access.district_ids(user)
    sids = [
        g.school_id
        for g in policy.grants(user)
        if OutreachPerm.VIEW in g.policy.perms and g.policy.unit == Unit.SCHOOL and g.school_id
    ]
    qs = School.objects.none()
    if ids:
        qs = School.objects.filter(district_id__in=ids)
    if sids:
        qs = qs | School.objects.filter(pk__in=sids)
    return qs


def yearly_by_school(user: Any, year: int) -> list[dict[str, Any]]:
    """The year's summary in scope: per school (blank: district-run) and kind, the talks held,
    their attendance, the feedback answers and their mean rating (two grouped queries)."""
    talks = access.talks_for(user).filter(status=TalkStatus.HELD, starts_at__year=year)
    rows = {
        (r["school__name"], r["kind"]): dict(r, answers=0, mean_rating=None)
        for r in talks.values("school__name", "kind")
        .annotate(n=Count("id"), attendance=Sum("attendance"))
        .order_by("school__name", "kind")
    }
    for r in (
        Feedback.objects.filter(talk__in=talks.values("pk"))
        .values("talk__school__name", "talk__kind")
        .annotate(answers=Count("id"), mean=Avg("rating"))
        .order_by()
    ):
        row = rows.get((r["talk__school__name"], r["talk__kind"]))
        if row is not None:
            row["answers"] = r["answers"]
            row["mean_rating"] = round(r["mean"], 2) if r["mean"] is not None else None
    labels: dict[str, str] = {k: str(v) for k, v in TalkKind.choices}
    out = []
    for key in sorted(rows, key=lambda k: (k[0] or "", k[1])):
        row = rows[key]
        row["kind_label"] = labels.get(str(row["kind"]), str(row["kind"]))
        out.append(row)
    return out
