"""Warning evaluators of the compliance engine (issue 14; area WARNINGS).

`care.acknowledged_in_time` reads the warnings raised at the units this school year (the one
containing the cut-off, `[calendar]`), in one query. Each warning is:

- in time: acknowledged (or closed) at or before its acknowledgement deadline (`ack_due_at`,
  hours per level from `[care.acknowledge_within_hours]`) and never escalated (an escalation
  means a step let its deadline pass: 班级—年级—学校三级预警, SJS 3.(三)1);
- late: acknowledged or closed after the deadline, escalated, or still unacknowledged with its
  deadline passed at the cut-off;
- not judged yet: unacknowledged and its deadline still ahead.

Only counts and the warnings' ids leave this module: never a student, a level or a reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

from django.utils import timezone
from pydantic import Field

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Params, evaluator
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import school_year_of
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import School

from .models import Warning


class InTimeParams(Params):
    min_share: float = Field(1.0, gt=0, le=1)


def _judge(
    due: dt.datetime | None,
    acknowledged: dt.datetime | None,
    closed: dt.datetime | None,
    escalations: int,
    now: dt.datetime,
) -> bool | None:
    """True in time, False late, None not judged yet (see the module's docstring)."""
    answered = acknowledged or closed
    if escalations:
        return False
    if answered is not None and answered <= now:
        return due is None or answered <= due
    if due is not None and due < now:
        return False
    return None


@evaluator(
    "care.acknowledged_in_time",
    area=Area.WARNINGS,
    params=InTimeParams,
    title=("预警按时确认", "Warnings acknowledged in time"),
)
def acknowledged_in_time(units: Sequence[School], params: InTimeParams, ctx: Context) -> dict[int, Finding]:
    """Share of the warnings raised at the school this school year (deadline passed or
    answered) acknowledged within their deadline, never escalated ≥ `min_share` (SJS three-level
    warning). No warning to judge: not applicable. `counted`: the late warnings when missed,
    else those in time."""
    calendar = ctx.policy.get("calendar") if ctx.policy else None
    if calendar is None:
        calendar = policy_for_code(ctx.district.code).get("calendar", {})
    year = school_year_of(ctx.today, calendar)
    end_of_day = timezone.make_aware(dt.datetime.combine(ctx.today + dt.timedelta(days=1), dt.time.min))
    now = min(timezone.now(), end_of_day)
    start = timezone.make_aware(dt.datetime.combine(year.start, dt.time.min))
    ids = [u.pk for u in units]
    judged: dict[int, tuple[list[str], list[str], list[str]]] = {pk: ([], [], []) for pk in ids}
    for school_id, uid, due, acknowledged, closed, escalations in (
        Warning.objects.filter(school_id__in=ids, opened_at__gte=start, opened_at__lt=now)
        .order_by("school_id", "opened_at", "pk")
        .values_list("school_id", "uid", "ack_due_at", "acknowledged_at", "closed_at", "escalations")
    ):
        verdict = _judge(due, acknowledged, closed, escalations, now)
        judged[school_id][0 if verdict else 1 if verdict is False else 2].append(str(uid))
    out: dict[int, Finding] = {}
    measure = "% 预警 warnings"
    for pk in ids:
        in_time, late, pending = judged[pk]
        n = len(in_time) + len(late)
        waiting_zh = f"（另有{len(pending)}条未到确认时限）" if pending else ""
        waiting_en = f" ({len(pending)} more not yet due)" if pending else ""
        if not n:
            out[pk] = Finding(
                verdict=Verdict.NOT_APPLICABLE,
                measure=measure,
                note_zh=f"{year.label}无到期预警{waiting_zh}",
                note_en=f"no warning due this school year{waiting_en}",
                link="/care/warnings/",
                period=f"{year.start.isoformat()}..{year.end.isoformat()}",
            )
            continue
        met = Fraction(len(in_time)) >= Fraction(params.min_share).limit_denominator(10_000) * n
        out[pk] = Finding(
            verdict=Verdict.MET if met else Verdict.MISSED,
            required=round(100 * params.min_share, 1),
            actual=round(100 * len(in_time) / n, 1),
            measure=measure,
            counted=tuple((late if not met else in_time)[:MAX_COUNTED]),
            note_zh=f"{year.label}到期预警{n}条，{len(in_time)}条按时确认{waiting_zh}",
            note_en=f"{len(in_time)} of {n} warnings due this school year acknowledged in time{waiting_en}",
            link="/care/warnings/",
            period=f"{year.start.isoformat()}..{year.end.isoformat()}",
        )
    return out
