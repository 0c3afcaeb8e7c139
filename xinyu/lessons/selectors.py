"""Reads of psych classes: a school's classes against the rules (one read each of classes,
lessons, roster counts and graduating marks), and the district's schools with counts of classes
meeting each rule. The callers fetch the school through `access` first."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import Semester, semester_of
from xinyu.kernel.verdict import CountResult, Verdict
from xinyu.org.models import GRADE_NAMES, School, SchoolClass, Student, StudentStatus
from xinyu.staff.models import StaffMember

from . import rules
from .models import GraduatingClass, Lesson, LessonTally


def register_names(school: School) -> list[str]:
    """The names on the school's staff register (the lesson form's suggestions); a name held
    twice is offered once and links nothing (`services.register_teacher`)."""
    return sorted(set(StaffMember.objects.filter(school=school).values_list("name", flat=True)))


def settings_for(school: School) -> rules.Settings:
    return rules.Settings.from_policy(policy_for_code(school.district.code).get("lessons", {}))


def calendar_for(school: School) -> dict:
    return dict(policy_for_code(school.district.code).get("calendar", {}))


def semester_for(school: School, key: str | None = None, today: dt.date | None = None) -> Semester:
    """The semester with key "2026-1" / "2026-2", or the one containing today."""
    cal = calendar_for(school)
    today = today or timezone.localdate()
    if key:
        try:
            year, term = (int(x) for x in key.split("-"))
            probe = semester_of(today, cal)
            first = semester_of(dt.date(year, 12, 31), cal) if term == 1 else None
            if term == 1 and first is not None and first.year == year and first.term == 1:
                return first
            if term == 2:
                spring = semester_of(dt.date(year + 1, 6, 30), cal)
                if spring.year == year and spring.term == 2:
                    return spring
            return probe
        except (ValueError, TypeError):
            pass
    return semester_of(today, cal)


@dataclass
class ClassRow:
    school_class: SchoolClass
    students: int
    graduating: bool
    periods: int
    results: dict[str, CountResult]
    windows: list[rules.Window] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return any(r.verdict == Verdict.MISSED for r in self.results.values())

    @property
    def applicable(self) -> bool:
        return any(r.verdict != Verdict.NOT_APPLICABLE for r in self.results.values())


def school_rows(school: School, semester: Semester, today: dt.date | None = None) -> list[ClassRow]:
    """Every class of the school with its counts and verdicts, short classes first."""
    today = today or timezone.localdate()
    settings = settings_for(school)
    classes = list(
        SchoolClass.objects.filter(school=school)
        .select_related("grade")
        .annotate(active=Count("students", filter=Q(students__status=StudentStatus.ACTIVE)))
        .order_by("grade__level", "number")
    )
    marked = set(
        GraduatingClass.objects.filter(school_class__school=school, semester=semester.key).values_list(
            "school_class_id", flat=True
        )
    )
    by_class: dict[int, list[rules.Period]] = defaultdict(list)
    for pk, class_id, day, kind in Lesson.objects.filter(
        school=school, date__gte=semester.start, date__lte=semester.end
    ).values_list("pk", "school_class_id", "date", "kind"):
        by_class[class_id].append(rules.Period(str(pk), day, kind))
    rows = []
    for c in classes:
        facts = rules.ClassFacts(str(c.uid), c.grade.level, c.active, c.pk in marked)  # type: ignore[attr-defined]
        periods = by_class.get(c.pk, [])
        mine = rules.counted(facts, periods, settings, semester)
        rows.append(
            ClassRow(
                school_class=c,
                students=c.active,  # type: ignore[attr-defined]
                graduating=rules.is_graduating(facts, settings),
                periods=len(mine),
                results=rules.evaluate(facts, periods, semester, settings, today),
                windows=rules.windows(mine, semester, settings, today),
            )
        )
    rows.sort(key=lambda r: (not r.short, r.school_class.grade.level, r.school_class.number))
    return rows


@dataclass(frozen=True)
class SchoolCounts:
    school: School
    classes: int  # classes the rules apply to
    short: int
    met: dict[str, int]  # rule -> classes meeting it


def _bucket(spans: Sequence[tuple[dt.date, dt.date]]) -> Case | Value:
    """The index of the span holding the lesson's date (CASE WHEN date BETWEEN ..: the same SQL
    on SQLite and PostgreSQL), NULL outside them."""
    if not spans:
        return Value(None, output_field=IntegerField())
    return Case(
        *(When(date__range=span, then=Value(i)) for i, span in enumerate(spans)),
        default=Value(None),
        output_field=IntegerField(),
    )


Counts = dict[int, list[tuple[str, int | None, int | None, int]]]


def _tallied(ids: list[int], semester: Semester) -> dict[int, tuple[str, str]] | None:
    """Per class its kept days of lessons and of exam-stress sessions (one row per class), or
    None when a row was counted for other semester days (the calendar changed)."""
    out: dict[int, tuple[str, str]] = {}
    for class_id, start, end, lessons, sessions in LessonTally.objects.filter(
        school_id__in=ids, semester=semester.key
    ).values_list("school_class_id", "start", "end", "lessons", "sessions"):
        if start != semester.start or end != semester.end:
            return None
        out[class_id] = (lessons, sessions)
    return out


def _summed(
    ids: list[int],
    semester: Semester,
    settings: rules.Settings,
    wspans: Sequence[tuple[dt.date, dt.date]],
    mspans: Sequence[tuple[dt.date, dt.date]],
) -> Counts:
    """Per class (kind, window, month, lessons) summed by the database from the lessons."""
    out: Counts = defaultdict(list)
    for class_id, kind, w, m, n in (
        Lesson.objects.filter(
            school_id__in=ids, date__gte=semester.start, date__lte=rules.teaching_end(semester, settings)
        )
        .annotate(w=_bucket(wspans), m=_bucket(mspans))
        .values_list("school_class_id", "kind", "w", "m")
        .annotate(n=Count("id"))
        .values_list("school_class_id", "kind", "w", "m", "n")
        .order_by()
    ):
        out[class_id].append((kind, w, m, n))
    return out


def district_rows(
    schools: list[School], semester: Semester, today: dt.date | None = None
) -> list[SchoolCounts]:
    """Per school: classes judged, short, and meeting each rule. Each class's lessons come as
    its `LessonTally` (one row per class, kept by the writes: the days of its lessons and
    sessions); `rules.tally_from_days` puts them in the windows and months and
    `rules.evaluate_tally` judges them, the same rules as the school page (`school_rows`)
    applies to the lessons. A tally of another calendar: the database sums the lessons per
    window and month instead (`_summed`, `rules.tally_from_counts`)."""
    today = today or timezone.localdate()
    if not schools:
        return []
    judged = class_results(schools, semester, today, settings_for(schools[0]))
    per_school = {pk: [results for _facts, results in rows] for pk, rows in judged.items()}
    out = []
    for s in schools:
        results = [
            r
            for r in per_school.get(s.pk, [])
            if any(v.verdict != Verdict.NOT_APPLICABLE for v in r.values())
        ]
        out.append(
            SchoolCounts(
                school=s,
                classes=len(results),
                short=sum(any(v.verdict == Verdict.MISSED for v in r.values()) for r in results),
                met={rule: sum(r[rule].verdict == Verdict.MET for r in results) for rule in rules.RULES},
            )
        )
    out.sort(key=lambda c: (-c.short, c.school.code))
    return out


ClassResults = list[tuple[rules.ClassFacts, dict[str, CountResult]]]


def class_results(
    schools: Sequence[School], semester: Semester, today: dt.date, settings: rules.Settings
) -> dict[int, ClassResults]:
    """Per school pk: each class's facts and its verdicts under `settings` (every rule), read
    as `district_rows` reads them (classes, active students, graduating marks, the tallies;
    the lessons summed instead when a tally is stale): four queries (five then), whatever the
    number of schools. The compliance engine's evaluators pass their own `settings`."""
    ids = [s.pk for s in schools]
    out: dict[int, ClassResults] = defaultdict(list)
    if not ids:
        return out
    classes = list(
        SchoolClass.objects.filter(school_id__in=ids).values_list("pk", "uid", "school_id", "grade__level")
    )
    active = dict(
        Student.objects.filter(school_class__school_id__in=ids, status=StudentStatus.ACTIVE)
        .values_list("school_class_id")
        .annotate(n=Count("id"))
        .values_list("school_class_id", "n")
        .order_by()
    )
    marked = set(
        GraduatingClass.objects.filter(school_class__school_id__in=ids, semester=semester.key).values_list(
            "school_class_id", flat=True
        )
    )
    kept = _tallied(ids, semester)
    summed: Counts = {}
    if kept is None:  # a tally counted under another calendar: count the lessons
        mspans = rules.month_spans(semester, settings) if settings.per_month > 0 else ()
        summed = _summed(ids, semester, settings, rules.window_spans(semester, settings), mspans)
    none = ("", "")
    for pk, uid, school_id, level in classes:
        facts = rules.ClassFacts(str(uid), level, active.get(pk, 0), pk in marked)
        if kept is not None:
            counts = rules.tally_from_days(facts, *kept.get(pk, none), semester, settings)
        else:
            counts = rules.tally_from_counts(facts, summed.get(pk, ()), settings)
        out[school_id].append((facts, rules.evaluate_tally(facts, counts, semester, settings, today)))
    return out


def class_labels(school_ids: Sequence[int]) -> dict[str, str]:
    """Each class's name ("四年级1班") by uid, for the schools (one query): the labels of a
    CLASS-level compliance finding's parts."""
    return {
        str(uid): f"{GRADE_NAMES.get(level, str(level))}{number}班"
        for uid, level, number in SchoolClass.objects.filter(school_id__in=list(school_ids)).values_list(
            "uid", "grade__level", "number"
        )
    }
