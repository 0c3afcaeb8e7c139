"""Reads of the organisation that take the user: every queryset starts from `xinyu.access`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from xinyu.access import policy
from xinyu.access.policy import Level
from xinyu.audit.models import Action, AuditEntry
from xinyu.audit.services import record
from xinyu.kernel.labels import kind_label
from xinyu.kernel.suppression import small_cell

from .models import (
    Enrollment,
    KeyPopulation,
    School,
    SchoolClass,
    Student,
    StudentFlag,
    StudentStatus,
    User,
)


def _count_per_school(qs: QuerySet[Any]) -> Coalesce:
    """`qs`'s rows of the outer school, counted in a correlated subquery (one index range per
    school), so that counting students and classes side by side never joins one to the other."""
    return Coalesce(
        Subquery(
            qs.filter(school=OuterRef("pk")).order_by().values("school").annotate(n=Count("pk")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def schools_overview(user: User) -> QuerySet[School]:
    """Schools in scope with their active student count and class count: one query, whose
    cost grows with the students and classes of the schools shown, not with their product."""
    return (
        policy.schools_for(user)
        .select_related("cluster", "district")
        .annotate(
            student_count=_count_per_school(Student.objects.filter(status=StudentStatus.ACTIVE)),
            class_count=_count_per_school(SchoolClass.objects.all()),
        )
        .order_by("cluster__name", "code")
    )


def classes_overview(user: User, school: School | None = None) -> QuerySet[SchoolClass]:
    qs = policy.classes_for(user, Level.BASIC)
    if school is not None:
        qs = qs.filter(school=school)
    active = Student.objects.filter(school_class=OuterRef("pk"), status=StudentStatus.ACTIVE).order_by()
    return (
        qs.select_related("grade", "school", "campus")
        .annotate(
            # A correlated count per class: no GROUP BY over the joined class, grade, school
            # and campus columns.
            student_count=Coalesce(
                Subquery(
                    active.values("school_class").annotate(n=Count("pk")).values("n"),
                    output_field=IntegerField(),
                ),
                0,
            )
        )
        .order_by("school__code", "grade__level", "number")
    )


def class_roster(user: User, school_class: SchoolClass, *, via: str = "page") -> list[Student]:
    """The class's active students the user may see; the read is audited (one row)."""
    students = list(
        policy.students_for(user, Level.BASIC)
        .filter(school_class=school_class, status=StudentStatus.ACTIVE)
        .select_related("school", "school_class__grade")
        .order_by("name")
    )
    record(
        actor=user,
        action=Action.VIEW,
        obj=school_class,
        school=school_class.school,
        role=policy.roles_label(user),
        detail=f"class roster ({via}), {len(students)} students",
    )
    return students


def search_students(user: User, query: str, limit: int = 50) -> QuerySet[Student]:
    """Name or 学籍号 search, only among students the user may see."""
    query = query.strip()
    qs = policy.students_for(user, Level.BASIC).select_related("school", "school_class__grade")
    if not query:
        return qs.none()
    return qs.filter(Q(name__contains=query) | Q(student_no__startswith=query)).order_by("name")[:limit]


def transfer_targets(user: User, student: Student) -> QuerySet[SchoolClass]:
    """Classes a student may be moved to: any class of the district, when the user may
    transfer students of the student's current school (the receiving school gains access)."""
    if not policy.can(user, policy.Perm.TRANSFER, school=student.school):
        return SchoolClass.objects.none()
    return (
        SchoolClass.objects.filter(school__district_id=student.school.district_id)
        .exclude(pk=student.school_class_id)
        .select_related("school", "grade")
        .order_by("school__code", "grade__level", "number")
    )


def active_flags(student: Student) -> QuerySet[StudentFlag]:
    return student.flags.filter(cleared_at__isnull=True).select_related("set_by")


# Key-population flags that describe the family situation (XY 五.4: "family situation").
FAMILY_SITUATION = frozenset(
    {
        KeyPopulation.LEFT_BEHIND,
        KeyPopulation.SINGLE_PARENT,
        KeyPopulation.POOR_FAMILY,
        KeyPopulation.PROBLEM_FAMILY,
    }
)


def family_flags(flags: Iterable[StudentFlag]) -> list[StudentFlag]:
    """The active flags that describe the family (shown with the guardians)."""
    return [f for f in flags if f.kind in FAMILY_SITUATION]


def flag_history(student: Student) -> QuerySet[StudentFlag]:
    return student.flags.select_related("set_by", "cleared_by").order_by("-set_at")


def enrollment_history(student: Student) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(student=student).select_related(
        "from_class__grade", "to_class__grade", "from_school", "to_school", "by"
    )


def file_viewers(user: User, student: Student, limit: int = 20) -> QuerySet[AuditEntry]:
    """'Who viewed this file' for the student's psych teachers (from the audit log)."""
    if not policy.can(user, policy.Perm.VIEW_FILE_AUDIT, school=student.school):
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(student_id=student.pk, action=Action.VIEW).order_by("-at")[:limit]


@dataclass(frozen=True)
class Count_:
    kind: str
    label: str
    count: int
    suppressed: bool


def key_population_summary(user: User) -> list[Count_]:
    """Active key-population flags counted over the schools the user may see aggregates of;
    at every level (one school too), cells under the threshold are hidden. The kinds overlap
    (a student may carry several) and no total is shown, so no cell needs a partner."""
    schools = policy.aggregate_schools_for(user)
    counted = list(schools.values_list("pk", "district__code"))
    if not counted:
        return []
    school_ids = [pk for pk, _code in counted]
    rows = dict(
        StudentFlag.objects.filter(
            cleared_at__isnull=True, student__school_id__in=school_ids, student__status=StudentStatus.ACTIVE
        )
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    threshold = small_cell(counted[0][1])  # the district's own (one district per user)
    # Clinical kinds by name only for who reads every counted school in full (psych teachers);
    # everyone else reads the neutral need they imply (xinyu.kernel.labels).
    full = {g.school_id for g in policy.grants(user) if g.policy.student_level >= Level.FULL}
    clinical = set(school_ids) <= full
    return [
        Count_(
            kind,
            kind_label(kind, label, clinical=clinical, aggregate=True),
            rows.get(kind, 0),
            0 < rows.get(kind, 0) < threshold,
        )
        for kind, label in KeyPopulation.choices
    ]


def students_by_cluster(user: User) -> list[tuple[str, int]]:
    """Active students per cluster for users who see district aggregates: counted per school
    on the (school, status) index, then added up per cluster in the clusters' name order."""
    schools = policy.aggregate_schools_for(user)
    per_school = dict(
        Student.objects.filter(school__in=schools, status=StudentStatus.ACTIVE)
        .order_by()
        .values_list("school_id")
        .annotate(n=Count("id"))
    )
    totals: dict[str | None, int] = {}
    for school_id, name in schools.order_by("cluster__name").values_list("pk", "cluster__name"):
        if per_school.get(school_id):
            totals[name] = totals.get(name, 0) + per_school[school_id]
    return [(name or "—", n) for name, n in totals.items()]
