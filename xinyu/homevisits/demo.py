"""The demo district's home visits (order 54): most students visited this school year (one
bulk insert), every fifth class with gaps, a few visits of last school year (which do not
count), so the coverage pages show both met and missed classes."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import District, Role, RoleAssignment, SchoolClass, Student, StudentStatus

from . import selectors
from .models import HomeVisit, Met, VisitForm, VisitSource

NOTES = ("家长配合，孩子在家作息规律", "孩子周末帮忙做家务", "祖辈照看，建议多与父母视频", "家庭氛围和睦", "")


def build_demo_homevisits(district: District, *, seed: int = 7, today: dt.date | None = None) -> int:
    if HomeVisit.objects.filter(school__district=district).exists():
        return 0
    rng = random.Random(seed)
    today = today or timezone.localdate()
    year = selectors.year_of(district, today)
    span = max((min(today, year.end) - year.start).days, 0)
    teachers = dict(
        RoleAssignment.objects.filter(district=district, role=Role.CLASS_TEACHER).values_list(
            "school_class_id", "user_id"
        )
    )
    gap_classes = set(
        SchoolClass.objects.filter(school__district=district).order_by("pk").values_list("pk", flat=True)[::5]
    )
    rows: list[HomeVisit] = []
    students = Student.objects.filter(school__district=district, status=StudentStatus.ACTIVE).values_list(
        "pk", "school_id", "school_class_id"
    )
    forms = [VisitForm.VISIT] * 5 + [VisitForm.PHONE] * 3 + [VisitForm.VIDEO, VisitForm.AT_SCHOOL]
    mets = [Met.MOTHER] * 4 + [Met.FATHER] * 3 + [Met.GRANDPARENT] * 2 + [Met.GUARDIAN]
    for sid, school_id, class_id in students:
        if class_id in gap_classes and rng.random() < 0.4:
            if rng.random() < 0.3:  # visited last school year only: does not count
                day = year.start - dt.timedelta(days=rng.randint(30, 200))
            else:
                continue
        else:
            day = year.start + dt.timedelta(days=rng.randint(0, span))
        rows.append(
            HomeVisit(
                student_id=sid,
                school_id=school_id,
                school_class_id=class_id,
                visited_on=day,
                form=rng.choice(forms),
                met=rng.choice(mets),
                note=rng.choice(NOTES),
                by_id=teachers.get(class_id),
                source=VisitSource.MANUAL,
            )
        )
    HomeVisit.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@demo_builder("homevisits", order=54)
def demo_homevisits(run: DemoRun) -> str | None:
    if run.district is None:
        return None
    n = build_demo_homevisits(run.district, seed=run.seed)
    return (
        f"Home visits: {n} visits, most students visited this school year, every fifth class with gaps."
        if n
        else None
    )
