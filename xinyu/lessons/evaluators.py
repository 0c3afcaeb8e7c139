"""The psych-class rules for the compliance engine (issue 14): `lessons.two_weeks`,
`lessons.semester`, `lessons.month`, each judging every class of the schools with the app's
own rules (`rules.evaluate_tally` on the tallies `selectors.class_results` reads, as the
district page does), the profile's parameters replacing the `[lessons]` numbers.

Level CLASS: each class is judged, and a school's finding counts its classes for the rule, in the
semester holding the cut-off (`parts`: each class's verdict, a class not over yet pending):
- not applicable: no class of the school is judged by the rule (every class below
  `from_grade`);
- classes with no active student exist in name only and are left out; only such classes: no data;
- `required` = the classes judged × `min_share` (rounded up to a whole class), `actual` = the
  classes meeting the rule; met when `actual >= required`;
- a class not judged yet (no window or month over, or short in a semester whose teaching weeks
  are not over: the app's "never missed early") counts in the classes judged but not as
  meeting. While such classes keep the school short of `required`, the convention for a
  period not over (`xinyu.kernel.compliance`) applies: the semester before is judged instead
  when it lies in the same school year (the same classes; the note gives this semester's count
  so far), else the school is PENDING, never missed early.
Four queries per evaluator whatever the number of schools (five when a tally is stale; four
more for the semester before when a school is pending in a spring semester).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Level, Params, Part, evaluator
from xinyu.kernel.semester import Semester, semester_of
from xinyu.kernel.verdict import Verdict

from . import rules, selectors

MEASURE = "个班级 classes"
PENDING_IF_NOT_OVER = {Verdict.NO_DATA: Verdict.PENDING}  # a class's "not over yet" (the app's NO_DATA)


class TwoWeeksParams(Params):
    per_two_weeks: int = Field(default=1, ge=1)
    from_grade: int = Field(default=4, ge=1, le=12)
    min_share: float = Field(default=1.0, gt=0, le=1)


class SemesterParams(Params):
    per_semester: int = Field(default=9, ge=1)
    from_grade: int = Field(default=4, ge=1, le=12)
    min_share: float = Field(default=1.0, gt=0, le=1)


class MonthParams(Params):
    per_month: int = Field(default=2, ge=1)
    from_grade: int = Field(default=1, ge=1, le=12)
    min_share: float = Field(default=1.0, gt=0, le=1)


def needed(units: int, share: float) -> int:
    """The whole number of units a share of `units` asks for (0.9 of 36 -> 33): rounded up,
    tolerating the float error of e.g. 0.7 × 10."""
    return math.ceil(units * share - 1e-9)


def _judge(
    units: Sequence[Any], ctx: Context, settings: rules.Settings, rule: str, min_share: float
) -> dict[int, Finding]:
    calendar = dict(ctx.policy.get("calendar", {}))
    semester = semester_of(ctx.today, calendar)
    out = _judge_semester(units, semester, ctx.today, settings, rule, min_share)
    pending = [u for u in units if out[u.pk].verdict == Verdict.PENDING]
    before = semester_of(semester.start - dt.timedelta(days=1), calendar)
    if not pending or before.year != semester.year:  # autumn: last semester's classes are last year's
        return out
    earlier = _judge_semester(pending, before, before.end, settings, rule, min_share)
    for school in pending:
        judged, so_far = earlier[school.pk], out[school.pk]
        if judged.verdict in (Verdict.MET, Verdict.MISSED):
            out[school.pk] = dataclasses.replace(
                judged,
                note_zh=f"{judged.note_zh}；本学期尚未结束：{so_far.note_zh}",
                note_en=f"{judged.note_en}; this semester not over: {so_far.note_en}",
            )
    return out


def _judge_semester(
    units: Sequence[Any],
    semester: Semester,
    today: dt.date,
    settings: rules.Settings,
    rule: str,
    min_share: float,
) -> dict[int, Finding]:
    period = f"{semester.start}..{rules.teaching_end(semester, settings)}"
    per_school = selectors.class_results(list(units), semester, today, settings)
    labels = selectors.class_labels([u.pk for u in units])
    out: dict[int, Finding] = {}
    for school in units:
        results = [(facts, r[rule]) for facts, r in per_school.get(school.pk, [])]
        applicable = [(facts, r) for facts, r in results if r.verdict != Verdict.NOT_APPLICABLE]
        link = f"/lessons/school/{school.uid}/"
        base: dict[str, Any] = {"measure": MEASURE, "link": link, "period": period}
        if not applicable:
            out[school.pk] = Finding(
                verdict=Verdict.NOT_APPLICABLE,
                note_zh=f"无 {settings.from_grade} 年级及以上的班级",
                note_en=f"no class of grade {settings.from_grade} or above",
                **base,
            )
            continue
        judged = [(facts, r) for facts, r in applicable if facts.students > 0]
        if not judged:
            out[school.pk] = Finding(
                verdict=Verdict.NO_DATA,
                note_zh=f"{len(applicable)} 个班级均无在籍学生",
                note_en=f"none of the {len(applicable)} classes has an active student",
                **base,
            )
            continue
        met = [facts.unit for facts, r in judged if r.verdict == Verdict.MET]
        pending = sum(r.verdict == Verdict.NO_DATA for _facts, r in judged)  # the app's "not over yet"
        required = needed(len(judged), min_share)
        n, k = len(judged), len(met)
        share = f"（需 {required} 个）" if required != n else ""
        share_en = f" ({required} required)" if required != n else ""
        if k >= required:
            verdict = Verdict.MET
        elif pending:
            verdict = Verdict.PENDING
            share += f"；{pending} 个班级尚未到期"
            share_en += f"; {pending} not over yet"
        else:
            verdict = Verdict.MISSED
        parts = tuple(
            Part(
                facts.unit,
                labels.get(facts.unit, ""),
                PENDING_IF_NOT_OVER.get(r.verdict, r.verdict),
                r.actual,
            )
            for facts, r in judged[:MAX_COUNTED]
        )
        out[school.pk] = Finding(
            verdict=verdict,
            required=required,
            actual=k,
            counted=tuple(met[:MAX_COUNTED]),
            note_zh=f"{n} 个班级中 {k} 个达标{share}",
            note_en=f"{k} of {n} classes met{share_en}",
            parts=parts,
            **base,
        )
    return out


def _settings(ctx: Context, **changes: Any) -> rules.Settings:
    return dataclasses.replace(rules.Settings.from_policy(dict(ctx.policy.get("lessons", {}))), **changes)


@evaluator(
    "lessons.two_weeks",
    area=Area.CLASSES,
    level=Level.CLASS,
    params=TwoWeeksParams,
    title=("每班每两周心理健康课", "Psych lessons in every class every two weeks"),
)
def two_weeks(units: Sequence[Any], params: TwoWeeksParams, ctx: Context) -> dict[int, Finding]:
    """Share of the classes from `from_grade` whose every two-week window over by the cut-off
    held ≥ `per_two_weeks` periods (graduating classes: exam-stress sessions count too)."""
    settings = _settings(ctx, per_two_weeks=params.per_two_weeks, from_grade=params.from_grade, per_month=0)
    return _judge(units, ctx, settings, rules.TWO_WEEKS, params.min_share)


@evaluator(
    "lessons.semester",
    area=Area.CLASSES,
    level=Level.CLASS,
    params=SemesterParams,
    title=("每班每学期心理健康课课时", "Psych lessons per class per semester"),
)
def semester(units: Sequence[Any], params: SemesterParams, ctx: Context) -> dict[int, Finding]:
    """Share of the classes from `from_grade` with ≥ `per_semester` periods in the semester's
    teaching weeks (short classes judged once the teaching weeks are over)."""
    settings = _settings(ctx, per_semester=params.per_semester, from_grade=params.from_grade, per_month=0)
    return _judge(units, ctx, settings, rules.SEMESTER, params.min_share)


@evaluator(
    "lessons.month",
    area=Area.CLASSES,
    level=Level.CLASS,
    params=MonthParams,
    title=("每班每月心理健康课", "Psych lessons in every class every month"),
)
def month(units: Sequence[Any], params: MonthParams, ctx: Context) -> dict[int, Finding]:
    """Share of the classes from `from_grade` whose every calendar month inside the teaching
    weeks and over by the cut-off held ≥ `per_month` periods (CY 三.(二))."""
    settings = _settings(ctx, per_month=params.per_month, from_grade=params.from_grade)
    return _judge(units, ctx, settings, rules.MONTH, params.min_share)
