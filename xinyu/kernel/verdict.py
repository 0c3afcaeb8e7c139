"""The outcome of one counting rule for one unit (a class, a school), shared by the activity
apps (lessons, outreach, homevisits, schoolevents) and read by the compliance engine (issue 14).

`NO_DATA` is never shown as met: it means the inputs the rule needs are missing (no roster, no
calendar), not that the count is zero. `PENDING` (进行中) is a period not over yet whose
count is still short and cannot be judged by an earlier period: never met, never missed
(the compliance engine's convention, `xinyu.kernel.compliance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    MET = "met"
    MISSED = "missed"
    NOT_APPLICABLE = "na"
    NO_DATA = "no_data"
    PENDING = "pending"


VERDICT_LABELS = {
    Verdict.MET: ("达标", "met"),
    Verdict.MISSED: ("未达标", "missed"),
    Verdict.NOT_APPLICABLE: ("不适用", "not applicable"),
    Verdict.NO_DATA: ("无数据", "no data"),
    Verdict.PENDING: ("进行中", "in progress"),
}


@dataclass(frozen=True)
class CountResult:
    """`actual` records counted against `required` for `unit` (a class uid, a school uid) over
    `period` (e.g. "2026-09-01..2027-01-31"); `counted` the ids of the records counted, so the
    evidence can link to them; `citation` the rule's source as the policy file states it."""

    rule: str
    unit: str
    verdict: Verdict
    required: float = 0
    actual: float = 0
    period: str = ""
    citation: str = ""
    counted: tuple[str, ...] = field(default=())
    note: str = ""

    @property
    def met(self) -> bool:
        return self.verdict == Verdict.MET

    @property
    def label(self) -> tuple[str, str]:
        return VERDICT_LABELS[self.verdict]


def judge(*, rule: str, unit: str, required: float, actual: float | None, **kw: object) -> CountResult:
    """met when `actual >= required`; `actual=None` means no data; `required <= 0` not applicable."""
    if required <= 0:
        verdict = Verdict.NOT_APPLICABLE
    elif actual is None:
        verdict = Verdict.NO_DATA
    else:
        verdict = Verdict.MET if actual >= required else Verdict.MISSED
    return CountResult(rule=rule, unit=unit, verdict=verdict, required=required, actual=actual or 0, **kw)  # type: ignore[arg-type]
