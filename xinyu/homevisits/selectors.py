"""Home-visit reads: coverage per class, per school, per district (this school year), each
scoped by the caller through `xinyu.homevisits.access` first. A fixed number of queries per
page, whatever the number of students."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from xinyu.kernel import suppression
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import SchoolYear, school_year_of
from xinyu.kernel.verdict import CountResult
from xinyu.org.models import District, School, SchoolClass, Student, StudentStatus, User

from . import rules
from .models import HomeVisit


def section_of(district: District) -> dict[str, Any]:
    return dict(policy_for_code(district.code).get("homevisits", {}))


def year_of(district: District, today: dt.date | None = None) -> SchoolYear:
    calendar = dict(policy_for_code(district.code).get("calendar", {}))
    return school_year_of(today or timezone.localdate(), calendar)


def school_years(district: District, *, back: int = 2, today: dt.date | None = None) -> list[SchoolYear]:
    """This school year and the `back` before it, newest first (the coverage pages' choice)."""
    current = year_of(district, today)
    calendar = dict(policy_for_code(district.code).get("calendar", {}))
    return [current] + [
        school_year_of(current.start.replace(year=current.year - k), calendar) for k in range(1, back + 1)
    ]


def _per(district: District) -> int:
    return int(section_of(district).get("per_school_year", 1))


@dataclass(frozen=True)
class StudentRow:
    student: Student
    visits: int
    last: dt.date | None


@dataclass(frozen=True)
class ClassCoverage:
    school_class: SchoolClass
    year: SchoolYear
    rows: list[StudentRow]
    result: CountResult
    per: int

    @property
    def not_visited(self) -> list[Student]:
        return [r.student for r in self.rows if r.visits < max(self.per, 1)]

    @property
    def visited_count(self) -> int:
        return int(self.result.actual)


def class_coverage(school_class: SchoolClass, *, today: dt.date | None = None) -> ClassCoverage:
    district = school_class.school.district
    year = year_of(district, today)
    section = section_of(district)
    students = list(
        Student.objects.filter(school_class=school_class, status=StudentStatus.ACTIVE).order_by("name", "pk")
    )
    visits = list(
        HomeVisit.objects.filter(
            student__in=[s.pk for s in students], visited_on__gte=year.start, visited_on__lte=year.end
        ).values_list("student_id", "visited_on", "uid")
    )
    counts: dict[int, int] = {}
    last: dict[int, dt.date] = {}
    for sid, day, _uid in visits:
        counts[sid] = counts.get(sid, 0) + 1
        last[sid] = max(last.get(sid, day), day)
    result = rules.every_student_visited(
        unit=str(school_class.uid),
        student_ids=[s.pk for s in students],
        visits=visits,
        year=year,
        section=section,
    )
    rows = [StudentRow(s, counts.get(s.pk, 0), last.get(s.pk)) for s in students]
    return ClassCoverage(school_class, year, rows, result, int(section.get("per_school_year", 1)))


@dataclass(frozen=True)
class UnitCount:
    uid: str
    label: str
    students: int
    visited: int

    @property
    def percent(self) -> int:
        return round(100 * self.visited / self.students) if self.students else 0


def _count_by(field: str, scope: Q, year: SchoolYear, per: int) -> dict[int, tuple[int, int]]:
    """(active students, of them with >= per visits this school year) per `field` value of the
    student ("school_id", "school_class_id"): ONE grouped query over the active students in
    `scope`, each probed for its visits this year through the (student, visited_on, form)
    unique index (an EXISTS, or a counted subquery when more than one visit is required). A
    student counts where they are enrolled now, whichever school recorded the visit; the
    class page counts the same way."""
    rows = (
        Student.objects.filter(scope, status=StudentStatus.ACTIVE)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"), v=Count("pk", filter=Q(_enough(year, per))))
    )
    return {row[field]: (row["n"], row["v"]) for row in rows}


def _enough(year: SchoolYear, per: int) -> Any:
    """Whether the student (the outer row) had >= per visits in the school year: an EXISTS
    on the (student, visited_on, form) index, or a counted subquery for more than one."""
    visits = HomeVisit.objects.filter(
        student_id=OuterRef("pk"), visited_on__gte=year.start, visited_on__lte=year.end
    )
    if per <= 1:
        return Exists(visits)
    counted = visits.order_by().values("student_id").annotate(k=Count("pk")).values("k")
    return GreaterThanOrEqual(Coalesce(Subquery(counted), 0), per)


def coverage_by_school(school_ids: Iterable[int], year: SchoolYear, per: int) -> dict[int, tuple[int, int]]:
    """(active students, of them with >= per visits in `year`) per school pk (one query)."""
    return _count_by("school_id", Q(school_id__in=list(school_ids)), year, per)


def visited_uids(
    school_ids: Iterable[int], year: SchoolYear, per: int, *, limit: int
) -> dict[int, list[str]]:
    """Per school pk: the uids of up to `limit` active students with >= per visits in `year`
    (one query: numbered per school, the first `limit` kept by the database)."""
    rows = (
        Student.objects.filter(school_id__in=list(school_ids), status=StudentStatus.ACTIVE)
        .filter(_enough(year, per))
        .annotate(rank=Window(RowNumber(), partition_by=F("school_id"), order_by=F("pk").asc()))
        .filter(rank__lte=limit)
        .order_by()
        .values_list("school_id", "uid")
    )
    out: dict[int, list[str]] = {}
    for school_id, uid in rows:
        out.setdefault(school_id, []).append(str(uid))
    return out


def school_coverage(school: School, *, today: dt.date | None = None) -> tuple[SchoolYear, list[UnitCount]]:
    year = year_of(school.district, today)
    counts = _count_by("school_class_id", Q(school=school), year, _per(school.district))
    classes = (
        SchoolClass.objects.filter(school=school).select_related("grade").order_by("grade__level", "number")
    )
    return year, [UnitCount(str(c.uid), str(c), *counts.get(c.pk, (0, 0))) for c in classes]


def district_coverage(
    district_ids: set[int], *, today: dt.date | None = None
) -> tuple[SchoolYear | None, list[UnitCount]]:
    """Counts only, per school (no names)."""
    districts = list(District.objects.filter(pk__in=district_ids))
    if not districts:
        return None, []
    year = year_of(districts[0], today)
    schools_q = Q(school_id__in=School.objects.filter(district_id__in=district_ids).values("pk"))
    counts = _count_by("school_id", schools_q, year, _per(districts[0]))
    schools = School.objects.filter(district_id__in=district_ids).order_by("name")
    return year, [UnitCount(str(s.uid), s.name, *counts.get(s.pk, (0, 0))) for s in schools]


def recent_visits(qs: Any, *, limit: int = 50) -> list[HomeVisit]:
    return list(
        qs.select_related("student", "school_class__grade", "by").order_by("-visited_on", "-id")[:limit]
    )


def not_visited_count(school_class: SchoolClass, *, today: dt.date | None = None) -> int:
    """Active students of the class not visited enough this school year (one query)."""
    district = school_class.school.district
    year = year_of(district, today)
    per = max(_per(district), 1)
    return (
        Student.objects.filter(school_class=school_class, status=StudentStatus.ACTIVE)
        .annotate(
            nv=Count(
                "home_visits",
                filter=Q(home_visits__visited_on__gte=year.start, home_visits__visited_on__lte=year.end),
            )
        )
        .filter(nv__lt=per)
        .count()
    )


@dataclass(frozen=True)
class ShownCount:
    uid: str
    label: str
    students: object
    visited: object
    percent: object


def district_cells(rows: list[UnitCount], *, threshold: int) -> list[ShownCount]:
    """The district's table as shown: small counts hidden (`xinyu.kernel.suppression`, the one
    rule of every aggregate read outside the school), with the complementary cells that would
    give them back (visited + not visited = students, and the column totals)."""
    body = [[r.visited, r.students - r.visited] for r in rows]
    if not body:
        return []
    hidden = suppression.suppress_table(body, threshold=threshold)
    out = []
    for i, r in enumerate(rows):
        visited = suppression.shown(r.visited, (i, 0), hidden, threshold=threshold)
        students = suppression.shown(r.students, (i, 2), hidden, threshold=threshold)
        percent = r.percent if (i, 0) not in hidden and (i, 2) not in hidden else "*"
        out.append(ShownCount(r.uid, r.label, students, visited, percent))
    return out


# ---- the visit list ------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFilter:
    school: School | None = None
    school_class: SchoolClass | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    form: str = ""
    by: User | None = None

    def describe(self) -> str:
        """For the export's audit row (no names of students)."""
        parts = []
        if self.school is not None:
            parts.append(f"school={self.school.code}")
        if self.school_class is not None:
            parts.append(f"class={self.school_class.uid}")
        if self.date_from:
            parts.append(f"from={self.date_from.isoformat()}")
        if self.date_to:
            parts.append(f"to={self.date_to.isoformat()}")
        if self.form:
            parts.append(f"form={self.form}")
        if self.by is not None:
            parts.append(f"by={self.by.get_username()}")
        return " ".join(parts)


def filtered_visits(scoped: QuerySet[HomeVisit], f: VisitFilter) -> QuerySet[HomeVisit]:
    """`scoped` (already the caller's scope, `access.listed_visits_for`) narrowed by the
    filter, newest first; a filter outside the scope simply finds nothing."""
    qs = scoped
    if f.school is not None:
        qs = qs.filter(school_id=f.school.pk)
    if f.school_class is not None:
        qs = qs.filter(school_class_id=f.school_class.pk)
    if f.date_from is not None:
        qs = qs.filter(visited_on__gte=f.date_from)
    if f.date_to is not None:
        qs = qs.filter(visited_on__lte=f.date_to)
    if f.form:
        qs = qs.filter(form=f.form)
    if f.by is not None:
        qs = qs.filter(by_id=f.by.pk)
    return qs.select_related("student", "school", "school_class__grade", "by").order_by("-visited_on", "-id")


@dataclass(frozen=True)
class VisitRow:
    visit: HomeVisit
    note: str | None  # None: the viewer may not read it (never rendered, never exported)
    may_edit: bool


def visit_rows(
    visits: Iterable[HomeVisit],
    *,
    may_read: Callable[[HomeVisit], bool],
    may_edit: Callable[[HomeVisit], bool],
) -> list[VisitRow]:
    return [VisitRow(v, v.note if may_read(v) else None, may_edit(v)) for v in visits]


def under(rows: Iterable[Any], percent: int | None) -> list[Any]:
    """The rows whose coverage is under `percent` (None: every row). A row whose percentage is
    hidden ("*", a small cell of the district table) is kept whatever its true value, so the
    filter tells nothing the table hides."""
    if percent is None:
        return list(rows)
    return [r for r in rows if not isinstance(r.percent, int) or r.percent < percent]
