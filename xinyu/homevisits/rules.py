"""The home-visit counting rule (QX 15), a pure function for the compliance engine (issue 14)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from xinyu.kernel.semester import SchoolYear
from xinyu.kernel.verdict import CountResult, Verdict, judge

RULE_EVERY_STUDENT = "homevisits.every_student_per_school_year"


def every_student_visited(
    *,
    unit: str,
    student_ids: Iterable[int],
    visits: Iterable[tuple[int, dt.date, Any]],
    year: SchoolYear,
    section: Mapping[str, Any],
) -> CountResult:
    """QX 15: every student of the unit (a class, a school) visited at least
    `[homevisits] per_school_year` times in the school year `year`.

    `visits` are (student id, visit date, visit uid); only those inside `year` count (a visit
    last school year does not). `required` = the number of students, `actual` = students with
    enough visits; no students = no data (never met)."""
    per = int(section.get("per_school_year", 1))
    students = set(student_ids)
    counts: dict[int, int] = {}
    counted: list[str] = []
    for sid, day, uid in visits:
        if sid in students and year.start <= day <= year.end:
            counts[sid] = counts.get(sid, 0) + 1
            counted.append(str(uid))
    if per <= 0:
        return judge(rule=RULE_EVERY_STUDENT, unit=unit, required=0, actual=0)
    period = f"{year.start.isoformat()}..{year.end.isoformat()}"
    if not students:
        return CountResult(rule=RULE_EVERY_STUDENT, unit=unit, verdict=Verdict.NO_DATA, period=period)
    visited = sum(1 for sid in students if counts.get(sid, 0) >= per)
    return judge(
        rule=RULE_EVERY_STUDENT,
        unit=unit,
        required=len(students),
        actual=visited,
        period=period,
        citation=str(section.get("citation", "")),
        counted=tuple(counted),
    )
