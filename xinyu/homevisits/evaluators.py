"""The home-visit rule for the compliance engine (issue 14), on the coverage pages' grouped
count (`selectors.coverage_by_school`, the district page's query): the school year holding the
cut-off, every active student of the school now counted where they are enrolled.

Never missed early (the convention for a period not over, `xinyu.kernel.compliance`): the
school year holding the cut-off is met once enough students are visited; short, it is PENDING
while the year is not over (the numbers in the note), and missed only for a cut-off on the
year's last day. The year before cannot be judged instead: its roster is not kept, only
today's. No active student: no data. Two queries, whatever the number of schools.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Params, evaluator
from xinyu.kernel.semester import school_year_of
from xinyu.kernel.verdict import Verdict

from . import selectors


class EveryStudentParams(Params):
    per_school_year: int = Field(default=1, ge=1)
    min_share: float = Field(default=1.0, gt=0, le=1)


@evaluator(
    "homevisits.every_student",
    area=Area.ACTIVITIES,
    params=EveryStudentParams,
    title=("每学年对每名学生家访", "Every student visited at home each school year"),
)
def every_student(units: Sequence[Any], params: EveryStudentParams, ctx: Context) -> dict[int, Finding]:
    """Share of the school's active students visited ≥ `per_school_year` times in the school
    year (QX 15, SJS 三.(一)): required = students × `min_share` rounded up."""
    year = school_year_of(ctx.today, dict(ctx.policy.get("calendar", {})))
    ids = [u.pk for u in units]
    counts = selectors.coverage_by_school(ids, year, params.per_school_year)
    visited = selectors.visited_uids(ids, year, params.per_school_year, limit=MAX_COUNTED)
    period = f"{year.start}..{year.end}"
    out: dict[int, Finding] = {}
    for school in units:
        students, seen = counts.get(school.pk, (0, 0))
        if not students:
            continue  # no active student on the roster: no data
        required = math.ceil(students * params.min_share - 1e-9)
        share = f"（需 {required} 名）" if required != students else ""
        share_en = f" ({required} required)" if required != students else ""
        over = ctx.today >= year.end  # a cut-off on the year's last day sees the whole year
        verdict = Verdict.MET if seen >= required else Verdict.MISSED if over else Verdict.PENDING
        if verdict == Verdict.PENDING:
            share += "；学年尚未结束"
            share_en += "; school year not over"
        out[school.pk] = Finding(
            verdict=verdict,
            required=required,
            actual=seen,
            measure="名学生 students",
            counted=tuple(visited.get(school.pk, [])),
            note_zh=f"{students} 名学生中 {seen} 名已家访{share}",
            note_en=f"{seen} of {students} students visited{share_en}",
            link=f"/homevisits/school/{school.uid}/",
            period=period,
        )
    return out
