"""Screening participation on the compliance dashboard (issue 14 item 6), as a share of
students: per school category (and per cluster for the whole district), the students on the
roster in the grades screened and how many of them were screened this school year.

Counted as `evaluators.yearly_from_grade` counts (the rule's figures are kept per school, as
a share; these are the students behind them, live):
- on the roster: an active student of a class of a grade screened, `[screening]
  default_grades` of the district's policy (grade 4 up by default);
- screened: one of them with a completed first-stage invitation of a campaign of this school
  year (`[calendar]`, "2026-2027") of the district, completed by now. Last year's screening,
  a declined or unfinished one, and a student in a grade not screened are not counted.

Two queries whatever the number of schools; only counts leave this module. Both counts are
students (hidden under the small-cell threshold by the dashboard), the share is worked out by
the dashboard from the cells as shown."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from xinyu.kernel.compliance import FigureCell, FigureRow, FigureTable, dashboard_figure
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import school_year_of
from xinyu.org.models import School, SchoolClass, Student, StudentStatus

from .models import Invitation, Progress
from .services import screening_policy

CATEGORY_LABELS = {"urban": ("城区", "Urban"), "town": ("乡镇", "Town"), "rural": ("农村", "Rural")}
NO_CLUSTER = ("未分片区", "No cluster")


def _grades_text(grades: Sequence[int]) -> str:
    """4–12, or 4, 7 when the grades are not a run."""
    if len(grades) > 1 and list(grades) == list(range(grades[0], grades[-1] + 1)):
        return f"{grades[0]}–{grades[-1]}"
    return ", ".join(str(g) for g in grades)


@dashboard_figure(
    "screening.participation",
    title=("心理测评参与率（本学年）", "Screening participation (this school year)"),
    order=40,
)
def participation(district: Any, today: dt.date, schools: Sequence[int] | None = None) -> FigureTable:
    """Per category (then per cluster when `schools` is None, the whole district) and in
    total: students on the roster in the grades screened, screened this school year, share."""
    grades = list(screening_policy(district.code).default_grades)
    year = school_year_of(today, policy_for_code(district.code).get("calendar", {}))
    label = f"{year.year}-{year.year + 1}"
    end_of_day = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    now = min(timezone.now(), end_of_day)

    school_qs = School.objects.filter(district=district)
    if schools is not None:
        school_qs = school_qs.filter(pk__in=list(schools))
    # Subqueries, not joins: the classes of the grades screened at those schools, and the
    # students screened in the district's campaigns of the year (a student who moves to
    # another district is a new student there). ~75 ms at 150,000 students (SQLite).
    classes = SchoolClass.objects.filter(school__in=school_qs.values("pk"), grade__level__in=grades)
    screened = Invitation.objects.filter(
        stage=1,
        progress=Progress.COMPLETED,
        campaign__district=district,
        campaign__school_year=label,
        completed_at__lt=now,
    ).values("student_id")
    per_school = {
        row["school_id"]: (row["n"], row["screened"])
        for row in Student.objects.filter(
            status=StudentStatus.ACTIVE, school_class_id__in=classes.values("pk")
        )
        .order_by()
        .values("school_id")
        .annotate(n=Count("pk"), screened=Count("pk", filter=Q(pk__in=screened)))
    }
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_cluster: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pk, category, cluster in school_qs.order_by("code").values_list("pk", "category", "cluster__name"):
        n, ok = per_school.get(pk, (0, 0))
        for line in (by_category[category], by_cluster[cluster or ""]):
            line[0] += n
            line[1] += ok

    def row(
        label: tuple[str, str], counts: Sequence[int], *, group: str = "", total: bool = False
    ) -> FigureRow:
        return FigureRow(
            label=label,
            cells=(FigureCell(counts[0]), FigureCell(counts[1]), FigureCell.share(1, 0)),
            group=group,
            total=total,
        )

    rows = [
        row(CATEGORY_LABELS[c], by_category[c], group="category") for c in CATEGORY_LABELS if c in by_category
    ]
    if schools is None:
        named = sorted(name for name in by_cluster if name)
        rows += [row((name, name), by_cluster[name], group="cluster") for name in named]
        if "" in by_cluster and named:
            rows.append(row(NO_CLUSTER, by_cluster[""], group="cluster"))
    total = [sum(c[0] for c in by_category.values()), sum(c[1] for c in by_category.values())]
    rows.append(row(("合计", "Total"), total, total=True))
    at = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    grades_text = _grades_text(grades)
    return FigureTable(
        columns=(
            ("受测年级在籍学生", "students on the roster, grades screened"),
            ("本学年已测评", "screened this school year"),
            ("参与率 %", "share %"),
        ),
        rows=tuple(rows),
        note=(
            f"实时计数，截至 {at}（不是评估的数据截止日）；{grades_text} 年级在籍学生；"
            f"已测评：{label} 学年的测评已完成第一阶段",
            f"live counts as of {at} (not a run's data cut-off); active students of grades {grades_text}; "
            f"screened: the first stage of a {label} campaign completed",
        ),
    )
