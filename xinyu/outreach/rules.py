"""The counting rules of outreach, one pure function each (no query: the caller passes the
rows), returning `xinyu.kernel.verdict.CountResult` for the compliance engine (issue 14).

- `lecture_progress` (RC 一): the district's held lectures and volunteer services (or the
  `kinds` asked for) in a calendar year against `[outreach] lecture_target`.
- `parent_education` (QX 15, SJS 三.(二)): a school's held parent-education sessions in a
  semester against `[outreach] parent_sessions_per_semester`.
Cancelled and planned talks never count; a talk counts in the period of its start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from xinyu.kernel.semester import Semester
from xinyu.kernel.verdict import CountResult, judge

LECTURE_RULE = "outreach.lectures_per_year"
PARENT_RULE = "outreach.parent_education_per_semester"


@dataclass(frozen=True)
class TalkRow:
    uid: str
    kind: str
    status: str
    starts_at: dt.datetime
    school_id: int | None = None


def _day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date() if timezone.is_aware(at) else at.date()


def lecture_progress(
    *,
    district_uid: str,
    year: int,
    talks: Iterable[TalkRow],
    target: int,
    citation: str = "",
    kinds: Iterable[str] = ("lecture", "volunteer"),
) -> CountResult:
    """`kinds`: the talks counted (the progress page: lectures and volunteer services)."""
    wanted = set(kinds)
    counted = tuple(
        t.uid for t in talks if t.kind in wanted and t.status == "held" and _day(t.starts_at).year == year
    )
    return judge(
        rule=LECTURE_RULE,
        unit=district_uid,
        required=target,
        actual=len(counted),
        period=f"{year}-01-01..{year}-12-31",
        citation=citation,
        counted=counted,
    )


def parent_education(
    *, school_uid: str, semester: Semester, talks: Iterable[TalkRow], required: int, citation: str = ""
) -> CountResult:
    counted = tuple(
        t.uid
        for t in talks
        if t.kind == "parent" and t.status == "held" and semester.contains(_day(t.starts_at))
    )
    return judge(
        rule=PARENT_RULE,
        unit=school_uid,
        required=required,
        actual=len(counted),
        period=f"{semester.start}..{semester.end}",
        citation=citation,
        counted=counted,
    )
