"""Reads of committee members, events and contests, and the rules' inputs (issue 13 items 5–7).

`summaries(schools, today)` evaluates every rule of `xinyu.schoolevents.rules` for many
schools in a fixed number of queries (the district summary, the school summary, the API and
the compliance engine of issue 14 call it). The committee rule is computed from counts only
(which classes have an active boy and girl member): no student's name is read here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import Semester, semester_of
from xinyu.kernel.verdict import CountResult
from xinyu.org.models import District, School, SchoolClass, User

from . import access, rules
from .models import CommitteeMember, Contest, ContestEntry, ContestLevel, EventKind, SchoolEvent

RULE_LABELS = {
    "schoolevents.committee": ("心理委员（每班男女各1名）", "Committee members (a boy and a girl per class)"),
    "schoolevents.awareness_month": ("心理健康教育月活动", "Awareness-month activity"),
    "schoolevents.legal_education": ("法治教育（每学期）", "Legal education (per semester)"),
    "schoolevents.open_class": ("公开课/观摩课（每学期）", "Open or observation classes (per semester)"),
    "schoolevents.contest_participation": ("参加教学竞赛（每年）", "Contest participation (per year)"),
    "schoolevents.leadership_meeting": (
        "领导小组专题会议（每季度）",
        "Leading group's meetings (per quarter)",
    ),
    "schoolevents.county_contests": ("县级教学竞赛（每年）", "County teaching contests (per year)"),
}


def _policy(district: District) -> tuple[dict[str, Any], dict[str, Any]]:
    data = policy_for_code(district.code)
    return dict(data.get("schoolevents", {})), dict(data.get("calendar", {}))


def active_members_q(today: dt.date) -> Q:
    return Q(started_on__lte=today) & (Q(ended_on__isnull=True) | Q(ended_on__gt=today))


def committee_slots(school_ids: Sequence[int], today: dt.date) -> dict[int, list[rules.ClassSlots]]:
    """Per school: each class with whether it has an active boy / girl member (2 queries)."""
    held: dict[int, set[str]] = defaultdict(set)
    for class_id, role in (
        CommitteeMember.objects.filter(active_members_q(today), school_id__in=school_ids)
        .order_by()  # the model's ordering (by class) would join the classes and grades
        .values_list("school_class_id", "role")
    ):
        held[class_id].add(role)
    out: dict[int, list[rules.ClassSlots]] = defaultdict(list)
    rows = (
        SchoolClass.objects.filter(school_id__in=school_ids)
        .order_by("grade__level", "number")
        .values_list("pk", "uid", "school_id", "grade__level", "number")
    )
    for pk, uid, school_id, level, number in rows:
        out[school_id].append(
            rules.ClassSlots(str(uid), f"{level}年级{number}班", level, "boy" in held[pk], "girl" in held[pk])
        )
    return out


@dataclass(frozen=True)
class SchoolSummary:
    school: School
    results: list[CountResult]
    missing_classes: list[rules.ClassSlots]


def summaries(schools: Sequence[School], today: dt.date) -> list[SchoolSummary]:
    """Every rule for each school (3 + the policy reads; schools of one district)."""
    if not schools:
        return []
    sec, calendar = _policy(schools[0].district)
    ids = [s.pk for s in schools]
    sem = semester_of(today, calendar)
    closed_year, closed_q = rules.last_closed_quarter(today)
    now_year, now_q = rules.quarter_of(today)
    # Only the events some rule counts: each kind within its rule's period (the rules count
    # nothing outside it; "other" events count for none).
    may = rules.month_bounds(today.year, int(sec.get("awareness_month", 5)))
    meetings = (rules.quarter_bounds(closed_year, closed_q)[0], rules.quarter_bounds(now_year, now_q)[1])
    counted = (
        Q(kind=EventKind.AWARENESS_MONTH, date__range=may)
        | Q(kind__in=[EventKind.LEGAL_EDUCATION, EventKind.OPEN_CLASS], date__range=(sem.start, sem.end))
        | Q(kind=EventKind.LEADERSHIP_MEETING, date__range=meetings)
    )
    events: dict[tuple[int, str], list[rules.Dated]] = defaultdict(list)
    for school_id, kind, day, uid in (
        SchoolEvent.objects.filter(counted, school_id__in=ids)
        .order_by()
        .values_list("school_id", "kind", "date", "uid")
    ):
        events[(school_id, kind)].append(rules.Dated(str(uid), day))
    entries: dict[int, list[rules.Dated]] = defaultdict(list)
    for school_id, day, uid in ContestEntry.objects.filter(
        school_id__in=ids, contest__year=today.year
    ).values_list("school_id", "contest__starts_on", "uid"):
        entries[school_id].append(rules.Dated(str(uid), day))
    slots = committee_slots(ids, today)
    from_grade = int(sec.get("committee_from_grade", 4))
    out = []
    for s in schools:
        u = str(s.uid)
        results = [
            rules.committee(
                school_uid=u,
                classes=slots[s.pk],
                from_grade=from_grade,
                citation=sec.get("committee_citation", ""),
            ),
            rules.awareness_month(
                school_uid=u,
                events=events[(s.pk, EventKind.AWARENESS_MONTH)],
                year=today.year,
                month=int(sec.get("awareness_month", 5)),
                citation=sec.get("awareness_citation", ""),
                today=today,
            ),
            rules.per_semester(
                rule="schoolevents.legal_education",
                school_uid=u,
                events=events[(s.pk, EventKind.LEGAL_EDUCATION)],
                semester=sem,
                required=int(sec.get("legal_education_per_semester", 1)),
                citation=sec.get("legal_education_citation", ""),
                today=today,
            ),
            rules.per_semester(
                rule="schoolevents.open_class",
                school_uid=u,
                events=events[(s.pk, EventKind.OPEN_CLASS)],
                semester=sem,
                required=int(sec.get("open_classes_per_semester", 1)),
                citation=sec.get("open_class_citation", ""),
                today=today,
            ),
            rules.contest_participation(
                school_uid=u,
                entries=entries[s.pk],
                year=today.year,
                required=int(sec.get("contest_entries_per_year", 1)),
                citation=sec.get("contests_citation", ""),
                today=today,
            ),
        ]
        for year, quarter in ((closed_year, closed_q), (now_year, now_q)):
            results.append(
                rules.leadership_quarter(
                    school_uid=u,
                    meetings=events[(s.pk, EventKind.LEADERSHIP_MEETING)],
                    year=year,
                    quarter=quarter,
                    required=int(sec.get("leadership_meetings_per_quarter", 1)),
                    citation=sec.get("leadership_citation", ""),
                    today=today,
                )
            )
        out.append(SchoolSummary(s, results, rules.missing_committee(slots[s.pk], from_grade)))
    return out


def county_contests(district: District, today: dt.date, *, year: int | None = None) -> CountResult:
    """The district's county contests in `year` (default: today's)."""
    year = year or today.year
    sec, _ = _policy(district)
    rows = Contest.objects.filter(district=district, level=ContestLevel.COUNTY, year=year).values_list(
        "uid", "starts_on"
    )
    return rules.county_contests(
        district_code=district.code,
        contests=[rules.Dated(str(u), d) for u, d in rows],
        year=year,
        required=int(sec.get("contests_per_year", 1)),
        citation=sec.get("contests_citation", ""),
        today=today,
    )


def recent_semesters(district: District, today: dt.date, n: int = 6) -> list[Semester]:
    """The semester of `today` and the `n - 1` before it, newest first (the filters' choices)."""
    _sec, calendar = _policy(district)
    out: list[Semester] = []
    day = today
    for _ in range(n):
        sem = semester_of(day, calendar)
        out.append(sem)
        day = sem.start - dt.timedelta(days=1)
    return out


@dataclass(frozen=True)
class Gap:
    school: School
    meeting_missing: bool
    classes_missing: int


def panel_gaps(schools: QuerySet[School], today: dt.date, *, limit: int = 5) -> list[Gap]:
    """The home panel's reading of two rules (`leadership_quarter` for the last closed
    quarter, `committee` today) for up to `limit` schools, in two grouped queries: the schools
    with their meeting count, then the classes missing a member counted per school and grade
    (the grade threshold is the school's district's policy, applied here)."""
    start, end = rules.quarter_bounds(*rules.last_closed_quarter(today))
    meetings = (
        SchoolEvent.objects.filter(
            school=OuterRef("pk"), kind=EventKind.LEADERSHIP_MEETING, date__gte=start, date__lte=end
        )
        .order_by()
        .values("school")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = list(
        schools.select_related("district")
        .annotate(meetings=Coalesce(Subquery(meetings), 0))
        .order_by("code")[:limit]
    )
    if not rows:
        return []
    active = CommitteeMember.objects.filter(active_members_q(today), school_class=OuterRef("pk"))
    missing: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for school_id, level, n in (
        SchoolClass.objects.filter(school_id__in=[s.pk for s in rows])
        .filter(~Exists(active.filter(role="boy")) | ~Exists(active.filter(role="girl")))
        .order_by()
        .values("school_id", "grade__level")
        .annotate(n=Count("pk"))
        .values_list("school_id", "grade__level", "n")
    ):
        missing[school_id].append((level, n))
    out = []
    for s in rows:
        sec, _calendar = _policy(s.district)
        from_grade = int(sec.get("committee_from_grade", 4))
        required = int(sec.get("leadership_meetings_per_quarter", 1))
        out.append(
            Gap(
                school=s,
                meeting_missing=required > 0 and s.meetings < required,  # type: ignore[attr-defined]
                classes_missing=sum(n for level, n in missing[s.pk] if level >= from_grade),
            )
        )
    return out


def event_list(
    user: User,
    *,
    kind: str = "",
    school: School | None = None,
    semester: Semester | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[SchoolEvent]:
    qs = access.events_for(user).select_related("school")
    if kind:
        qs = qs.filter(kind=kind)
    if school is not None:
        qs = qs.filter(school=school)
    if semester is not None:
        qs = qs.filter(date__gte=semester.start, date__lte=semester.end)
    if since is not None:
        qs = qs.filter(date__gte=since)
    if until is not None:
        qs = qs.filter(date__lte=until)
    return qs.order_by("-date", "-id")


def class_members(klass: SchoolClass, today: dt.date) -> list[CommitteeMember]:
    """The class's members, active first (names: only for callers within the class scope)."""
    return list(
        CommitteeMember.objects.filter(school_class=klass)
        .select_related("student")
        .order_by("ended_on", "role")
    )


def dated_events(
    school_ids: Sequence[int], kind: str, start: dt.date, end: dt.date
) -> dict[int, list[rules.Dated]]:
    """Per school pk: its events of `kind` dated `start`..`end` (one query on the
    (school, kind, date) index), as the rules take them (the compliance evaluators)."""
    out: dict[int, list[rules.Dated]] = defaultdict(list)
    for school_id, day, uid in (
        SchoolEvent.objects.filter(school_id__in=list(school_ids), kind=kind, date__range=(start, end))
        .order_by()
        .values_list("school_id", "date", "uid")
    ):
        out[school_id].append(rules.Dated(str(uid), day))
    return out
