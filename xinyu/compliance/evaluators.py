"""The compliance app's own evaluator: rules the data cannot show (room decoration, privacy,
signage, the mailbox outside the room, a 24-hour hotline, activity plans and archives) are
judged from the school's self-evaluation (CY 四.(三)) once the district has accepted it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count

from xinyu.kernel.compliance import Area, Context, Finding, NoParams, evaluator
from xinyu.kernel.semester import school_year_of
from xinyu.kernel.verdict import Verdict

from .models import Declared, SelfEvaluationItem, SelfEvaluationStatus


@evaluator(
    "compliance.self_declared",
    area=Area.ROOMS,
    params=NoParams,
    title=("学校自评（数据无法反映的事项）", "The school's self-evaluation (what the data cannot show)"),
)
def self_declared(units: Sequence[Any], params: NoParams, ctx: Context) -> dict[int, Finding]:
    """Met when the school's accepted self-evaluation of the school year declares the rule
    met with at least one evidence file; not met when it declares it not met (or met without
    evidence); not applicable when it says so; no data before the district has accepted one."""
    year = school_year_of(ctx.today, dict(ctx.policy.get("calendar", {}))).year
    items = (
        SelfEvaluationItem.objects.filter(
            rule_id=ctx.rule,
            self_evaluation__school__in=[u.pk for u in units],
            self_evaluation__year=year,
            self_evaluation__status=SelfEvaluationStatus.ACCEPTED,
        )
        .annotate(files=Count("evidence"))
        .values_list("self_evaluation__school_id", "self_evaluation__school__uid", "declared", "files")
    )
    out: dict[int, Finding] = {}
    for school_id, school_uid, declared, files in items:
        link = f"/compliance/school/{school_uid}/self/"
        if declared == Declared.NOT_APPLICABLE:
            out[school_id] = Finding(
                verdict=Verdict.NOT_APPLICABLE,
                note_zh="学校自评：不适用",
                note_en="self-evaluation: not applicable",
                link=link,
            )
        elif declared == Declared.MET and files:
            out[school_id] = Finding(
                verdict=Verdict.MET, required=1, actual=files, measure="份证明 evidence files",
                note_zh=f"学校自评达标，附证明材料 {files} 份", note_en=f"declared met with {files} evidence files", link=link,
            )  # fmt: skip
        elif declared == Declared.MET:
            out[school_id] = Finding(
                verdict=Verdict.MISSED, required=1, actual=0, measure="份证明 evidence files",
                note_zh="学校自评达标，但未附证明材料", note_en="declared met without evidence", link=link,
            )  # fmt: skip
        elif declared == Declared.MISSED:
            out[school_id] = Finding(
                verdict=Verdict.MISSED,
                note_zh="学校自评：未达标",
                note_en="self-evaluation: not met",
                link=link,
            )
    return out
