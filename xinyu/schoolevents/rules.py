"""The counting rules of issue 13 items 5–6, one pure function each (no database): the
callers (`selectors.py`, the compliance engine of issue 14) pass the records' dates and ids.
Numbers and citations come from `[schoolevents]` in the policy file; semesters from
`xinyu.kernel.semester`. A period not yet over is never judged missed: with fewer records
than required it is "not applicable" (note "in progress").

- `committee`: each class from grade `committee_from_grade` has one boy and one girl member
  active today (QX 17); the classes missing one are named in `note` by the caller's labels.
- `awareness_month`: ≥ 1 awareness-month activity in month `awareness_month` of the year (QX 17).
- `per_semester`: legal education (QX 10) and open classes (QX 7) ≥ N per semester.
- `county_contests`: the district holds ≥ `contests_per_year` county contests a year (QX 7).
- `contest_participation`: a school enters ≥ `contest_entries_per_year` contests a year.
- `leadership_quarter`: the leading group meets ≥ N times per calendar quarter (SJS 四.(一)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from xinyu.kernel.semester import Semester
from xinyu.kernel.verdict import CountResult, Verdict, judge


@dataclass(frozen=True)
class Dated:
    uid: str
    date: dt.date


def _in_progress(result: CountResult, end: dt.date, today: dt.date) -> CountResult:
    if today <= end and result.verdict == Verdict.MISSED:
        return replace(result, verdict=Verdict.NOT_APPLICABLE, note="in progress")
    return result


def _count(
    *,
    rule: str,
    unit: str,
    records: Iterable[Dated],
    start: dt.date,
    end: dt.date,
    required: int,
    citation: str,
    today: dt.date,
) -> CountResult:
    counted = tuple(r.uid for r in records if start <= r.date <= end)
    result = judge(
        rule=rule,
        unit=unit,
        required=required,
        actual=len(counted),
        period=f"{start.isoformat()}..{end.isoformat()}",
        citation=citation,
        counted=counted,
    )
    return _in_progress(result, end, today)


@dataclass(frozen=True)
class ClassSlots:
    uid: str
    label: str
    level: int
    boy: bool  # an active boy member today
    girl: bool


def committee(
    *, school_uid: str, classes: Sequence[ClassSlots], from_grade: int, citation: str
) -> CountResult:
    """Classes from grade `from_grade` with both members, against all such classes; none: n/a."""
    due = [c for c in classes if c.level >= from_grade]
    missing = [c for c in due if not (c.boy and c.girl)]
    full = tuple(c.uid for c in due if c.boy and c.girl)
    result = judge(
        rule="schoolevents.committee",
        unit=school_uid,
        required=len(due),
        actual=len(full),
        citation=citation,
        counted=full,
    )
    return replace(result, note="、".join(c.label for c in missing))


def missing_committee(classes: Sequence[ClassSlots], from_grade: int) -> list[ClassSlots]:
    return [c for c in classes if c.level >= from_grade and not (c.boy and c.girl)]


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """The first and last day of `month` of `year`."""
    start = dt.date(year, month, 1)
    return start, dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def awareness_month(
    *,
    school_uid: str,
    events: Iterable[Dated],
    year: int,
    month: int,
    required: int = 1,
    citation: str = "",
    today: dt.date,
) -> CountResult:
    start, end = month_bounds(year, month)
    return _count(
        rule="schoolevents.awareness_month",
        unit=school_uid,
        records=events,
        start=start,
        end=end,
        required=required,
        citation=citation,
        today=today,
    )


def per_semester(
    *,
    rule: str,
    school_uid: str,
    events: Iterable[Dated],
    semester: Semester,
    required: int,
    citation: str = "",
    today: dt.date,
) -> CountResult:
    return _count(
        rule=rule,
        unit=school_uid,
        records=events,
        start=semester.start,
        end=semester.end,
        required=required,
        citation=citation,
        today=today,
    )


def county_contests(
    *,
    district_code: str,
    contests: Iterable[Dated],
    year: int,
    required: int,
    citation: str = "",
    today: dt.date,
) -> CountResult:
    """`contests`: the district's county-level contests (their start dates)."""
    return _count(
        rule="schoolevents.county_contests",
        unit=district_code,
        records=contests,
        start=dt.date(year, 1, 1),
        end=dt.date(year, 12, 31),
        required=required,
        citation=citation,
        today=today,
    )


def contest_participation(
    *,
    school_uid: str,
    entries: Iterable[Dated],
    year: int,
    required: int,
    citation: str = "",
    today: dt.date,
) -> CountResult:
    """`entries`: the school's contest entries, dated by their contest's start."""
    return _count(
        rule="schoolevents.contest_participation",
        unit=school_uid,
        records=entries,
        start=dt.date(year, 1, 1),
        end=dt.date(year, 12, 31),
        required=required,
        citation=citation,
        today=today,
    )


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def leadership_quarter(
    *,
    school_uid: str,
    meetings: Iterable[Dated],
    year: int,
    quarter: int,
    required: int,
    citation: str = "",
    today: dt.date,
) -> CountResult:
    start, end = quarter_bounds(year, quarter)
    return _count(
        rule="schoolevents.leadership_meeting",
        unit=school_uid,
        records=meetings,
        start=start,
        end=end,
        required=required,
        citation=citation,
        today=today,
    )


def last_closed_quarter(today: dt.date) -> tuple[int, int]:
    year, quarter = quarter_of(today)
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)
