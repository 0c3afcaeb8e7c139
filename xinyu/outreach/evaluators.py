"""Outreach's rules for the compliance engine (issue 14), counted by `rules.parent_education`
and `rules.lecture_progress` (held talks only, each in the period of its start).

A talk counts once held by the cut-off (it starts on or before that day). A period not over
follows the engine's convention (`xinyu.kernel.compliance`): the period holding the cut-off
is met once its count is reached; short while it is not over, the last period over is judged
instead (the semester before, last year: the talks are kept), the finding's `period` saying
which and its note giving the count so far. A cut-off on the period's last day sees all of
it: met or missed. With a `year` fixed by the profile there is no period to fall back on:
short before that year is over, PENDING (进行中) with the count so far. One query per
evaluator, whatever the number of schools.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from django.utils import timezone
from pydantic import Field

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Level, Params, evaluator
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import CountResult, Verdict

from . import rules
from .models import Talk, TalkKind, TalkStatus


class ParentParams(Params):
    min: int = Field(default=1, ge=1)


TalkKindName = Literal["lecture", "volunteer", "parent"]


def _lectures() -> list[TalkKindName]:
    return ["lecture"]


class LectureParams(Params):
    target: int = Field(default=50, ge=1)
    year: int | None = Field(default=None, ge=2000, le=2100)
    kinds: list[TalkKindName] = Field(default_factory=_lectures, min_length=1)


def _finding(
    judged: CountResult, so_far: CountResult | None, *, what: tuple[str, str], measure: str, link: str
) -> Finding:
    """The finding of `judged`; `so_far`: the period holding the cut-off, short and not over."""
    n, need = int(judged.actual), int(judged.required)
    zh = f"{judged.period}：{what[0]} {n} 次，需 {need} 次"
    en = f"{judged.period}: {n} {what[1]} held, {need} required"
    if so_far is not None:
        zh += f"；{so_far.period} 尚未结束，已 {int(so_far.actual)} 次"
        en += f"; {so_far.period} not over, {int(so_far.actual)} so far"
    return Finding(
        verdict=judged.verdict,
        required=need,
        actual=n,
        measure=measure,
        counted=tuple(judged.counted[:MAX_COUNTED]),
        note_zh=zh,
        note_en=en,
        link=link,
        period=judged.period,
    )


def _after(today: dt.date) -> dt.datetime:
    """The first moment after the cut-off day: a talk starting later is not held by then."""
    return timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))


def _rows(qs: Any) -> list[rules.TalkRow]:
    return [
        rules.TalkRow(uid=str(u), kind=k, status=s, starts_at=at, school_id=sid)
        for u, k, s, at, sid in qs.values_list("uid", "kind", "status", "starts_at", "school_id")
    ]


@evaluator(
    "outreach.parent_sessions_per_semester",
    area=Area.ACTIVITIES,
    params=ParentParams,
    title=("每学期家庭教育指导", "Parent-education sessions per semester"),
)
def parent_sessions(units: Sequence[Any], params: ParentParams, ctx: Context) -> dict[int, Finding]:
    """The school's held parent-education sessions in the semester holding the cut-off, ≥ `min`
    (QX 15, SJS 三.(二)); while that semester is short, the semester before is judged."""
    calendar = dict(ctx.policy.get("calendar", {}))
    current = semester_of(ctx.today, calendar)
    last = semester_of(current.start - dt.timedelta(days=1), calendar)
    qs = Talk.objects.filter(
        school_id__in=[u.pk for u in units],
        kind=TalkKind.PARENT,
        status=TalkStatus.HELD,
        starts_at__date__gte=last.start,
        starts_at__date__lte=current.end,
        starts_at__lt=_after(ctx.today),
    ).order_by()
    by_school: dict[int, list[rules.TalkRow]] = {}
    for row in _rows(qs):
        by_school.setdefault(row.school_id or 0, []).append(row)
    out: dict[int, Finding] = {}
    for school in units:
        talks = by_school.get(school.pk, [])

        def judge(semester: Any, school: Any = school, talks: list[rules.TalkRow] = talks) -> CountResult:
            return rules.parent_education(
                school_uid=str(school.uid), semester=semester, talks=talks, required=params.min
            )

        now = judge(current)
        over = ctx.today >= current.end  # its last day sees all of it
        judged, so_far = (now, None) if now.verdict == Verdict.MET or over else (judge(last), now)
        key = current.key if so_far is None else last.key
        out[school.pk] = _finding(
            judged,
            so_far,
            what=("家庭教育指导", "parent sessions"),
            measure="次 sessions",
            link=f"/outreach/progress/?semester={key}",
        )
    return out


KIND_WORDS = {
    "lecture": ("讲座", "lectures"),
    "volunteer": ("志愿服务", "volunteer services"),
    "parent": ("家庭教育指导", "parent sessions"),
}


@evaluator(
    "outreach.lectures_per_year",
    area=Area.ACTIVITIES,
    level=Level.DISTRICT,
    params=LectureParams,
    title=("全年心理健康讲座与志愿服务场次", "Lectures and volunteer services in the year"),
)
def lectures_per_year(units: Sequence[Any], params: LectureParams, ctx: Context) -> dict[int, Finding]:
    """The district's held talks of `kinds` (default lectures; RC 一: volunteer services; its
    own and its schools') in the calendar year `year` (default: the cut-off's, the year before
    while it is short) against `target` (RC: 50 lectures, 50 volunteer services in 2025). A
    fixed `year` short and not over: PENDING."""
    kinds = tuple(dict.fromkeys(params.kinds))
    what = (
        "与".join(KIND_WORDS[k][0] for k in kinds),
        " and ".join(KIND_WORDS[k][1] for k in kinds),
    )
    out: dict[int, Finding] = {}
    for district in units:
        years = [params.year] if params.year is not None else [ctx.today.year, ctx.today.year - 1]
        qs = Talk.objects.filter(
            district=district,
            kind__in=list(kinds),
            status=TalkStatus.HELD,
            starts_at__year__in=years,
            starts_at__lt=_after(ctx.today),
        ).order_by()
        talks = _rows(qs)

        def judge(year: int, district: Any = district, talks: list[rules.TalkRow] = talks) -> CountResult:
            return rules.lecture_progress(
                district_uid=district.code, year=year, talks=talks, target=params.target, kinds=kinds
            )

        now = judge(years[0])
        over = ctx.today >= dt.date(years[0], 12, 31)  # its last day sees all of it
        link = f"/outreach/progress/?year={years[0]}"
        if now.verdict == Verdict.MET or over:
            out[district.pk] = _finding(now, None, what=what, measure="场 talks", link=link)
        elif params.year is not None:  # that year's target, not over: no year to fall back on
            finding = _finding(now, None, what=what, measure="场 talks", link=link)
            out[district.pk] = finding.pending_until(dt.date(years[0], 12, 31), ctx.today)
        else:
            out[district.pk] = _finding(
                judge(years[1]),
                now,
                what=what,
                measure="场 talks",
                link=f"/outreach/progress/?year={years[1]}",
            )
    return out
