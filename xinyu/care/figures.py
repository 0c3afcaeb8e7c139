"""The warnings' figure on the compliance dashboard (issue 14 item 6): the district's open
warnings and the overdue ones (not acknowledged, acknowledgement deadline passed) per
escalation step (班级—年级—学校—区中心, `Step`): live counts as of now (not a compliance run's
cut-off), over the dashboard's scope (the district, or the schools of a cluster).

One grouped query; only counts leave this module, never a student, a level or a reason.
Every warning is one student's, so each cell counts students (hidden under the small-cell
threshold by the dashboard)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from xinyu.kernel.compliance import FigureCell, FigureRow, FigureTable, dashboard_figure

from .models import STEP_ORDER, Warning, WarningStatus

STEP_LABELS = {
    "class": ("班级", "Class"),
    "grade": ("年级", "Grade"),
    "school": ("学校", "School"),
    "district": ("区中心", "District centre"),
}


@dashboard_figure(
    "care.warnings_by_step",
    title=("各级预警（未关闭/逾期未确认）", "Warnings by step (open / overdue)"),
    order=50,
)
def warnings_by_step(district: Any, today: dt.date, schools: Sequence[int] | None = None) -> FigureTable:
    """Per step: warnings not closed, and of them those awaiting acknowledgement past their
    deadline (now, or at the end of `today` if earlier), at the schools in `schools` (None:
    the whole district). A total row below."""
    end_of_day = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    now = min(timezone.now(), end_of_day)
    warnings = Warning.objects.filter(school__district=district)
    if schools is not None:
        warnings = warnings.filter(school_id__in=list(schools))
    counts = {
        row["step"]: (row["n_open"], row["n_overdue"])
        for row in warnings.exclude(status=WarningStatus.CLOSED)
        .values("step")
        .annotate(
            n_open=Count("pk"),
            n_overdue=Count("pk", filter=Q(status=WarningStatus.OPEN, ack_due_at__lt=now)),
        )
        .order_by("step")
    }
    at = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    body = [counts.get(str(step), (0, 0)) for step in STEP_ORDER]
    rows = [
        FigureRow(label=STEP_LABELS[str(step)], cells=(FigureCell(o), FigureCell(d)))
        for step, (o, d) in zip(STEP_ORDER, body, strict=True)
    ]
    rows.append(
        FigureRow(
            label=("合计", "Total"),
            cells=(FigureCell(sum(o for o, _ in body)), FigureCell(sum(d for _, d in body))),
            total=True,
        )
    )
    return FigureTable(
        columns=(("未关闭", "open"), ("逾期未确认", "overdue")),
        rows=tuple(rows),
        note=(
            f"实时计数，截至 {at}（不是评估的数据截止日）；逾期：确认时限已过仍未确认",
            f"live counts as of {at} (not a run's data cut-off); overdue: not acknowledged by its deadline",
        ),
    )
