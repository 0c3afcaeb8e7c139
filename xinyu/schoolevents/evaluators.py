"""School events' rules for the compliance engine (issue 14), counted by `rules` (the same
functions as the summary pages) on the records `selectors` reads for every school at once.

Periods: the committee is judged on the cut-off day. The counting rules follow the engine's
convention for a period not over (`xinyu.kernel.compliance`): the period holding the cut-off
is met once its count is reached; short while it is not over, the last period over is judged
instead (the semester before, the last closed quarter as the summary page shows it, last
year's awareness month or contests: the app keeps them), the finding's `period` naming which
and its note giving the count so far. A cut-off on a period's last day sees all of it: the
period is judged, met or missed (the summary pages' rules still call that day "in progress").
`schoolevents.contest_hosted` with a profile's fixed year has no year to fall back on: short
while that year is not over, PENDING. Two queries for the committee, one for each other rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

from pydantic import Field

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Level, Params, evaluator
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import CountResult, Verdict

from . import rules, selectors
from .models import Contest, ContestLevel, EventKind


class CommitteeParams(Params):
    from_grade: int = Field(default=4, ge=1, le=12)


class MinParams(Params):
    min: int = Field(default=1, ge=1)


class MonthParams(Params):
    month: int = Field(default=5, ge=1, le=12)


def _in_progress(result: CountResult) -> bool:
    return result.verdict == Verdict.NOT_APPLICABLE and result.note == "in progress"


def _over(result: CountResult, today: dt.date) -> bool:
    """The result's period ends on or before `today` (its `period` is "start..end")."""
    return dt.date.fromisoformat(result.period.split("..")[1]) <= today


def _finding(
    now: CountResult,
    last: CountResult,
    *,
    today: dt.date,
    what: tuple[str, str],
    measure: str,
    link: str,
) -> Finding:
    """`now` (the period holding the cut-off) unless it is short and not over: then `last`
    (the last period over). On the period's last day it is over: short is missed."""
    if _in_progress(now) and _over(now, today):
        now = replace(now, verdict=Verdict.MISSED, note="")
    judged, so_far = (last, now) if _in_progress(now) else (now, None)
    n, need = int(judged.actual), int(judged.required)
    zh = f"{judged.period}：{what[0]} {n} 次，需 {need} 次"
    en = f"{judged.period}: {n} {what[1]}, {need} required"
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


@evaluator(
    "schoolevents.committee",
    area=Area.ACTIVITIES,
    params=CommitteeParams,
    title=("心理委员（每班男女各1名）", "Committee members (a boy and a girl per class)"),
)
def committee(units: Sequence[Any], params: CommitteeParams, ctx: Context) -> dict[int, Finding]:
    """Every class from `from_grade` has an active boy and an active girl member on the
    cut-off day (QX 17); no class from that grade: not applicable; no class at all: no data."""
    slots = selectors.committee_slots([u.pk for u in units], ctx.today)
    out: dict[int, Finding] = {}
    for school in units:
        classes = slots.get(school.pk, [])
        if not classes:
            continue  # no class on the roster: no data
        link = f"/events/committee/{school.uid}/"
        result = rules.committee(
            school_uid=str(school.uid), classes=classes, from_grade=params.from_grade, citation=""
        )
        if result.verdict == Verdict.NOT_APPLICABLE:
            out[school.pk] = Finding(
                verdict=Verdict.NOT_APPLICABLE,
                note_zh=f"无 {params.from_grade} 年级及以上的班级",
                note_en=f"no class of grade {params.from_grade} or above",
                link=link,
            )
            continue
        n, k = int(result.required), int(result.actual)
        missing = f"；缺：{result.note}" if result.note else ""
        out[school.pk] = Finding(
            verdict=result.verdict,
            required=n,
            actual=k,
            measure="个班级 classes",
            counted=tuple(result.counted[:MAX_COUNTED]),
            note_zh=f"{n} 个班级中 {k} 个男、女心理委员齐全{missing}",
            note_en=f"{k} of {n} classes have a boy and a girl member"
            + (f"; missing: {result.note}" if result.note else ""),
            link=link,
            period=ctx.today.isoformat(),
        )
    return out


def _per_semester(
    units: Sequence[Any], min_count: int, ctx: Context, kind: str, rule: str, what: tuple[str, str]
) -> dict[int, Finding]:
    calendar = dict(ctx.policy.get("calendar", {}))
    current = semester_of(ctx.today, calendar)
    last = semester_of(current.start - dt.timedelta(days=1), calendar)
    events = selectors.dated_events([u.pk for u in units], kind, last.start, current.end)
    out: dict[int, Finding] = {}
    for school in units:
        mine = events.get(school.pk, [])

        def judge(semester: Any, school: Any = school, mine: list[rules.Dated] = mine) -> CountResult:
            return rules.per_semester(
                rule=rule,
                school_uid=str(school.uid),
                events=mine,
                semester=semester,
                required=min_count,
                today=ctx.today,
            )

        out[school.pk] = _finding(
            judge(current),
            judge(last),
            today=ctx.today,
            what=what,
            measure="次 events",
            link=f"/events/summary/{school.uid}/",
        )
    return out


@evaluator(
    "schoolevents.legal_education_per_semester",
    area=Area.ACTIVITIES,
    params=MinParams,
    title=("每学期法治宣传教育活动", "Legal education per semester"),
)
def legal_education(units: Sequence[Any], params: MinParams, ctx: Context) -> dict[int, Finding]:
    """≥ `min` legal-education events in the semester (QX 10)."""
    return _per_semester(
        units,
        params.min,
        ctx,
        EventKind.LEGAL_EDUCATION,
        "schoolevents.legal_education",
        ("法治教育", "legal-education events"),
    )


@evaluator(
    "schoolevents.open_class_per_semester",
    area=Area.ACTIVITIES,
    params=MinParams,
    title=("每学期心理健康教育公开课或观摩课", "Open or observation classes per semester"),
)
def open_class(units: Sequence[Any], params: MinParams, ctx: Context) -> dict[int, Finding]:
    """≥ `min` open or observation classes in the semester (QX 7)."""
    return _per_semester(
        units,
        params.min,
        ctx,
        EventKind.OPEN_CLASS,
        "schoolevents.open_class",
        ("公开课/观摩课", "open classes"),
    )


@evaluator(
    "schoolevents.awareness_month",
    area=Area.ACTIVITIES,
    params=MonthParams,
    title=("心理健康教育宣传月活动", "Awareness-month activity"),
)
def awareness_month(units: Sequence[Any], params: MonthParams, ctx: Context) -> dict[int, Finding]:
    """≥ 1 awareness-month activity in month `month` of the cut-off's year (QX 17: May); before
    that month is over and while it has none, last year's."""
    year = ctx.today.year
    start = rules.month_bounds(year - 1, params.month)[0]
    events = selectors.dated_events(
        [u.pk for u in units], EventKind.AWARENESS_MONTH, start, rules.month_bounds(year, params.month)[1]
    )
    out: dict[int, Finding] = {}
    for school in units:
        mine = events.get(school.pk, [])

        def judge(y: int, school: Any = school, mine: list[rules.Dated] = mine) -> CountResult:
            return rules.awareness_month(
                school_uid=str(school.uid), events=mine, year=y, month=params.month, today=ctx.today
            )

        out[school.pk] = _finding(
            judge(year),
            judge(year - 1),
            today=ctx.today,
            what=("宣传月活动", "awareness-month activities"),
            measure="次 events",
            link=f"/events/summary/{school.uid}/",
        )
    return out


@evaluator(
    "schoolevents.leadership_meetings_per_quarter",
    area=Area.ACTIVITIES,
    params=MinParams,
    title=("领导小组每季度专题研究", "Leading group's meetings per quarter"),
)
def leadership_meetings(units: Sequence[Any], params: MinParams, ctx: Context) -> dict[int, Finding]:
    """≥ `min` meetings of the leading group in the quarter holding the cut-off; while it is
    in progress, the last closed quarter (SJS 四.(一))."""
    now_year, now_q = rules.quarter_of(ctx.today)
    closed_year, closed_q = rules.last_closed_quarter(ctx.today)
    start = rules.quarter_bounds(closed_year, closed_q)[0]
    end = rules.quarter_bounds(now_year, now_q)[1]
    events = selectors.dated_events([u.pk for u in units], EventKind.LEADERSHIP_MEETING, start, end)
    out: dict[int, Finding] = {}
    for school in units:
        mine = events.get(school.pk, [])

        def judge(y: int, q: int, school: Any = school, mine: list[rules.Dated] = mine) -> CountResult:
            return rules.leadership_quarter(
                school_uid=str(school.uid),
                meetings=mine,
                year=y,
                quarter=q,
                required=params.min,
                today=ctx.today,
            )

        out[school.pk] = _finding(
            judge(now_year, now_q),
            judge(closed_year, closed_q),
            today=ctx.today,
            what=("领导小组专题会议", "meetings"),
            measure="次 meetings",
            link=f"/events/summary/{school.uid}/",
        )
    return out


@evaluator(
    "schoolevents.county_contest_per_year",
    area=Area.ACTIVITIES,
    level=Level.DISTRICT,
    params=MinParams,
    title=("每年全县心理健康教育赛课", "County teaching contests per year"),
)
def county_contests(units: Sequence[Any], params: MinParams, ctx: Context) -> dict[int, Finding]:
    """≥ `min` county-level contests run by the district in the cut-off's calendar year
    (QX 7); while the year has fewer, last year's."""
    year = ctx.today.year
    out: dict[int, Finding] = {}
    for district in units:
        rows = [
            (y, rules.Dated(str(u), d))
            for u, d, y in Contest.objects.filter(
                district=district, level=ContestLevel.COUNTY, year__in=(year, year - 1)
            ).values_list("uid", "starts_on", "year")
        ]

        def judge(
            y: int, district: Any = district, rows: list[tuple[int, rules.Dated]] = rows
        ) -> CountResult:
            return rules.county_contests(
                district_code=district.code,
                contests=[c for cy, c in rows if cy == y],
                year=y,
                required=params.min,
                today=ctx.today,
            )

        out[district.pk] = _finding(
            judge(year),
            judge(year - 1),
            today=ctx.today,
            what=("县级赛课", "county contests"),
            measure="次 contests",
            link="/events/contests/",
        )
    return out


class HostedParams(Params):
    year: int | None = Field(default=None, ge=2000, le=2100)
    level: Literal["county", "regional"] = "regional"
    title_contains: str = ""


@evaluator(
    "schoolevents.contest_hosted",
    area=Area.ACTIVITIES,
    level=Level.DISTRICT,
    params=HostedParams,
    title=("承办教学大赛", "Hosting a teaching contest"),
)
def contest_hosted(units: Sequence[Any], params: HostedParams, ctx: Context) -> dict[int, Finding]:
    """A contest of `level` (default regional: 片区/市级) whose title holds `title_contains`,
    of the calendar year `year`, hosted by a school of the district (whoever recorded it) and
    begun by the cut-off (RC 一: 承办市级“五育润心”心理健康教育教学大赛片区赛). Without a `year`,
    the cut-off's year, the year before while it has none; with a `year` not over and none
    hosted: PENDING; after it, missed. `counted`: the contests' uids. One query."""
    year = params.year if params.year is not None else ctx.today.year
    years = (year,) if params.year is not None else (year, year - 1)
    out: dict[int, Finding] = {}
    for district in units:
        qs = Contest.objects.filter(
            host_school__district=district, level=params.level, year__in=years, starts_on__lte=ctx.today
        )
        if params.title_contains:
            qs = qs.filter(title__contains=params.title_contains)
        rows = [
            (y, rules.Dated(str(u), d))
            for u, d, y in qs.order_by("starts_on", "pk").values_list("uid", "starts_on", "year")
        ]

        def judge(
            y: int, rows: list[tuple[int, rules.Dated]] = rows, code: str = district.code
        ) -> CountResult:
            hosted = tuple(c.uid for cy, c in rows if cy == y)
            return CountResult(
                rule="schoolevents.contest_hosted",
                unit=code,
                verdict=Verdict.MET if hosted else Verdict.MISSED,
                required=1,
                actual=len(hosted),
                period=f"{y}-01-01..{y}-12-31",
                counted=hosted,
            )

        now = judge(year)
        level_zh = "片区/市级" if params.level == ContestLevel.REGIONAL else "县级"
        what = (f"本区学校承办{level_zh}赛", f"{params.level} contests hosted by the district's schools")
        link = "/events/contests/"
        if now.verdict == Verdict.MET or ctx.today >= dt.date(year, 12, 31):
            out[district.pk] = _finding(
                now, now, today=ctx.today, what=what, measure="次 contests", link=link
            )
        elif params.year is None:  # the year before is over: judged, this year's count so far noted
            last = judge(year - 1)
            finding = _finding(last, last, today=ctx.today, what=what, measure="次 contests", link=link)
            out[district.pk] = replace(
                finding,
                note_zh=f"{finding.note_zh}；{now.period} 尚未结束，已 0 次",
                note_en=f"{finding.note_en}; {now.period} not over, 0 so far",
            )
        else:
            finding = _finding(now, now, today=ctx.today, what=what, measure="次 contests", link=link)
            out[district.pk] = finding.pending_until(dt.date(year, 12, 31), ctx.today)
    return out
