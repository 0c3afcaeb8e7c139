"""The per-class, per-semester tallies of lessons (`LessonTally`): recounted from the lessons
of the classes and semesters a write touched, in the writer's transaction (the services, the
import, the demo); `rebuild` recounts every class of some schools (after a bulk load or a
calendar change). The rules never read them directly: `selectors.district_rows` turns them
into counts per window and month for `rules.tally_from_counts`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import Semester, semester_of
from xinyu.org.models import School

from . import rules
from .models import Lesson, LessonKind, LessonTally


def _calendar(school: School) -> dict:
    return dict(policy_for_code(school.district.code).get("calendar", {}))


def retally(*, school: School, class_ids: Iterable[int], days: Iterable[dt.date]) -> None:
    """Recount the tallies of `class_ids` (classes of `school`) for the semesters holding `days`."""
    ids = sorted(set(class_ids))
    if not ids:
        return
    calendar = _calendar(school)
    for semester in {semester_of(day, calendar) for day in days}:
        _recount(school, semester, Lesson.objects.filter(school=school, school_class_id__in=ids), ids)


def rebuild(*, schools: Iterable[School], semesters: Iterable[str] | None = None) -> int:
    """Recount every class of the schools for every semester holding a lesson (or only the
    semester keys given; without them the schools' tallies are first dropped, so none counted
    under an older calendar stays); the number of tallies written."""
    written = 0
    keys = set(semesters) if semesters is not None else None
    for school in schools:
        calendar = _calendar(school)
        if keys is None:
            LessonTally.objects.filter(school=school).delete()
        lessons = Lesson.objects.filter(school=school)
        days = lessons.values_list("date", flat=True).distinct().order_by()
        found = {semester_of(day, calendar) for day in days}
        for semester in found:
            if keys is None or semester.key in keys:
                written += _recount(school, semester, lessons, None)
    return written


def _recount(
    school: School, semester: Semester, lessons: QuerySet[Lesson], class_ids: list[int] | None
) -> int:
    per_class: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for class_id, day, kind in (
        lessons.filter(date__gte=semester.start, date__lte=semester.end)
        .values_list("school_class_id", "date", "kind")
        .order_by()
    ):
        per_class[class_id][kind].append((day - semester.start).days)
    old = LessonTally.objects.filter(school=school, semester=semester.key)
    if class_ids is not None:
        old = old.filter(school_class_id__in=class_ids)
    old.delete()
    LessonTally.objects.bulk_create(
        (
            LessonTally(
                school=school,
                school_class_id=class_id,
                semester=semester.key,
                start=semester.start,
                end=semester.end,
                lessons=rules.day_chars(kinds[LessonKind.LESSON]),
                sessions=rules.day_chars(kinds[LessonKind.EXAM_STRESS]),
            )
            for class_id, kinds in per_class.items()
        ),
        batch_size=1000,
    )
    return len(per_class)
