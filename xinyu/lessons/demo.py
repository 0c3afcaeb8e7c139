"""Psych classes in the demo district (order 50): this semester's lessons up to today for every
class from `[lessons] from_grade`, one or two per two-week window, with about one class in
eight short (a window left empty); graduating grades get exam-stress sessions. Bulk inserts."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import District, School, SchoolClass, User

from . import rules, selectors, tallies
from .models import Lesson, LessonForm, LessonKind, LessonSource

TOPICS = (
    "认识情绪",
    "学会倾听",
    "我的朋友",
    "面对挫折",
    "时间管理",
    "青春期的我",
    "考试不焦虑",
    "生命的意义",
    "合作与分享",
)


@transaction.atomic
def build_demo_lessons(district: District, seed: int = 0, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    schools = list(district.schools.select_related("district"))
    if not schools:
        return {}
    rng = random.Random(seed + 50)
    settings = selectors.settings_for(schools[0])
    semester = selectors.semester_for(schools[0], today=today)
    by = User.objects.filter(is_superuser=True).first()
    forms = list(LessonForm.values)
    out: list[Lesson] = []
    short = 0
    classes = SchoolClass.objects.filter(school__district=district, grade__level__gte=settings.from_grade)
    for school_class in classes.select_related("grade"):
        is_short = rng.random() < 0.125
        short += is_short
        grad = school_class.grade.level in settings.graduating_grades
        windows = [
            w for w in rules.windows([], semester, settings, today + dt.timedelta(days=1)) if w.start <= today
        ]
        skip = rng.randrange(len(windows)) if is_short and windows else -1
        for i, w in enumerate(windows):
            if i == skip:
                continue
            for n in range(2 if rng.random() < 0.3 else 1):
                day = w.start + dt.timedelta(days=2 + 7 * n)
                if day > min(w.end, today):
                    continue
                out.append(
                    Lesson(
                        school_id=school_class.school_id,
                        school_class=school_class,
                        date=day,
                        period=1 + (school_class.number % 7),
                        topic=rng.choice(TOPICS),
                        teacher_name="心理老师",
                        form=rng.choice(forms),
                        kind=LessonKind.EXAM_STRESS if grad and rng.random() < 0.5 else LessonKind.LESSON,
                        source=LessonSource.IMPORT,
                        created_by=by,
                    )
                )
    Lesson.objects.bulk_create(out, batch_size=2000, ignore_conflicts=True)
    tallies.rebuild(schools=School.objects.filter(district=district).select_related("district"))
    return {"lessons": len(out), "short": short}


@demo_builder("lessons", order=50)
def demo_lessons(run: DemoRun) -> str | None:
    counts = build_demo_lessons(run.district, run.seed)
    if not counts:
        return None
    return f"Psych classes: {counts['lessons']} lessons this semester, {counts['short']} classes with a missed window."
