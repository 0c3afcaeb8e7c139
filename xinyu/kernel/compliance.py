"""The compliance engine's contract (issue 14): evaluators that apps register and the engine
(`xinyu.compliance`) runs, so that the engine reads every app through this registry and
imports none of them.

An **evaluator** is one kind of rule (e.g. "psych teachers per 1,000 students", "every class
holds ≥ N psych periods per two weeks"), reused by every profile that has such a rule with its
own parameters. It is registered by the app that owns the data, in `<app>/evaluators.py`
(autodiscovered like `panels.py`):

    @evaluator("staff.ratio", area=Area.STAFFING, level=Level.SCHOOL, params=RatioParams,
               title=("心理教师师生比", "Psych teachers per students"))
    def ratio(units: Sequence[School], params: RatioParams, ctx: Context) -> dict[int, Finding]:
        ...

- `units`: the schools the rule applies to (level SCHOOL; the engine filtered them by the
  rule's `applies`), or the district itself in a one-element sequence (level DISTRICT).
  One call covers every unit: read in a fixed number of queries, never one per school.
- `params`: the rule's parameters, validated by the evaluator's pydantic model (the profile
  file is checked against it when loaded, so a wrong parameter is refused before any run).
- `ctx`: the data cut-off (`today`), the district, its policy file (`policy`).
- Returns a `Finding` per unit pk. A unit without a finding is "no data". "No data" is never
  met: an evaluator returns NO_DATA when the inputs it needs are missing (no roster, no room
  recorded) and MISSED when they are there and fall short (zero is a count, not a gap).

**A period not over** (a semester, a school year, a quarter, a profile's fixed year) is judged
one way by every evaluator:
1. the period holding the cut-off is MET as soon as its count is reached;
2. short, while it is not over: the last period that *is* over is judged instead (met or
   missed, the finding's `period` says which, the note gives the count so far), when the app
   keeps what that period needs;
3. otherwise PENDING (进行中): a profile's fixed year not over, the first period of the data,
   or a period whose roster is not kept (home visits: only today's roster). PENDING is never
   met and never missed; the dashboard counts it apart, with no data;
4. once the period is over (a cut-off on its last day sees all of it) it is MET or MISSED.

A `Finding` carries the evidence: the numbers compared (`required`, `actual`, `unit` of
measure), the record ids counted (`counted`, capped by the evaluator at `MAX_COUNTED`), a
note in Chinese and English, and `link` (a path in the app where the records live, e.g.
"/lessons/school/<uid>/").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from .registry import Registry
from .verdict import Verdict

MAX_COUNTED = 200  # ids kept per finding (the evidence links to the app's page for the rest)


class Area(StrEnum):
    """The scorecard's groups."""

    ROOMS = "rooms"
    STAFFING = "staffing"
    CLASSES = "classes"
    ACTIVITIES = "activities"
    TRAINING = "training"
    SCREENING = "screening"
    WARNINGS = "warnings"


AREA_LABELS = {
    Area.ROOMS: ("心理辅导室", "Counselling rooms"),
    Area.STAFFING: ("师资配备", "Staffing"),
    Area.CLASSES: ("心理健康课", "Psych classes"),
    Area.ACTIVITIES: ("活动", "Activities"),
    Area.TRAINING: ("培训", "Training"),
    Area.SCREENING: ("心理测评", "Screening"),
    Area.WARNINGS: ("预警", "Warnings"),
}


class Level(StrEnum):
    """Where a rule is judged. CAMPUS and CLASS rules judge each campus or class of a school
    (e.g. "every class from grade 4 holds a psych lesson every two weeks"): the evaluator is
    called with the schools like a SCHOOL rule, and each school's finding aggregates its
    campuses or classes (the share meeting the rule) and lists each one's verdict in `parts`,
    so the scorecard and the dashboard can show which classes fall short and how many classes
    of the district meet it."""

    SCHOOL = "school"
    CAMPUS = "campus"
    CLASS = "class"
    DISTRICT = "district"

    @property
    def per_school(self) -> bool:
        return self is not Level.DISTRICT


class Params(BaseModel):
    """Base of every evaluator's parameters: unknown keys are refused (a typo in a profile is
    an error, not a silently ignored setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


@dataclass(frozen=True)
class Context:
    today: dt.date  # the data cut-off
    district: Any  # xinyu.org.models.District
    policy: dict[str, Any] = field(default_factory=dict)  # the district's merged policy file
    rule: str = ""  # the id of the profile's rule being evaluated (set by the engine per rule)


@dataclass(frozen=True)
class Part:
    """One campus's or class's verdict inside a school's finding (CAMPUS and CLASS rules)."""

    uid: str
    label: str  # e.g. "四年级1班", "东校区"
    verdict: Verdict
    actual: float | None = None


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    required: float | None = None
    actual: float | None = None
    measure: str = ""  # what is counted, e.g. "名/千名学生 teachers per 1,000 students", "%"
    counted: tuple[str, ...] = ()
    note_zh: str = ""
    note_en: str = ""
    link: str = ""
    period: str = ""
    parts: tuple[Part, ...] = ()  # CAMPUS / CLASS rules: each unit's verdict (at most MAX_COUNTED)

    @classmethod
    def compare(
        cls,
        *,
        actual: float | None,
        required: float,
        at_most: bool = False,
        **kw: Any,
    ) -> Finding:
        """met when `actual >= required` (or `<=` with `at_most`); `actual=None`: no data."""
        if actual is None:
            return cls(verdict=Verdict.NO_DATA, required=required, **kw)
        ok = actual <= required if at_most else actual >= required
        return cls(verdict=Verdict.MET if ok else Verdict.MISSED, required=required, actual=actual, **kw)

    def pending_until(self, last_day: dt.date, today: dt.date) -> Finding:
        """Step 3 of the convention for a period with none before it to judge (a profile's
        fixed year): missed while `today` is before the period's `last_day` is PENDING, the
        note saying so; otherwise the finding as it is."""
        if self.verdict != Verdict.MISSED or today >= last_day:
            return self
        return dataclasses.replace(
            self,
            verdict=Verdict.PENDING,
            note_zh=self.note_zh + "（年度尚未结束）",
            note_en=self.note_en + " (year not over)",
        )


EvaluateFn = Callable[[Sequence[Any], Any, Context], dict[int, Finding]]


@dataclass(frozen=True)
class Evaluator:
    name: str
    area: Area
    level: Level
    params: type[Params]
    title: tuple[str, str]
    fn: EvaluateFn
    doc: str = ""


evaluators: Registry[Evaluator] = Registry("evaluator")


def evaluator(
    name: str,
    *,
    area: Area,
    level: Level = Level.SCHOOL,
    params: type[Params] = NoParams,
    title: tuple[str, str],
) -> Callable[[EvaluateFn], EvaluateFn]:
    """Register `fn` as the evaluator `name` ("<app>.<what>")."""

    def register(fn: EvaluateFn) -> EvaluateFn:
        evaluators.add(
            name,
            Evaluator(
                name=name, area=area, level=level, params=params, title=title, fn=fn, doc=fn.__doc__ or ""
            ),
        )
        return fn

    return register


# ---- the dashboard's figures (issue 14 item 6) ---------------------------------------------
#
# Small tables an app adds to the district dashboard (e.g. open and overdue warnings by
# step), registered in `<app>/figures.py` (autodiscovered) so that the compliance app reads
# them through this registry and imports no app. Counts only, never a person: each cell says
# whether it counts students, and the dashboard hides those under the district's small-cell
# threshold (`xinyu.kernel.suppression`). A figure counts live data as of now, not a run's
# cut-off (its note says so), over the dashboard's scope: the whole district, or the schools
# of the cluster drilled into.


@dataclass(frozen=True)
class FigureCell:
    value: int
    students: bool = True  # counts students (or records each of one student): small values hidden
    # A share in % of two count cells of the same row, (numerator column, denominator column):
    # worked out by the dashboard from the cells as shown ("—" when either is hidden or the
    # denominator is 0), never from `value` (kept 0), so that it gives no hidden count back.
    share_of: tuple[int, int] | None = None

    @classmethod
    def share(cls, numerator: int, denominator: int) -> FigureCell:
        """The share of column `numerator` in column `denominator` of this row, in %."""
        return cls(0, students=False, share_of=(numerator, denominator))


def share_percent(numerator: int, denominator: int) -> int | None:
    """A share cell's value: the rounded percentage (None when the denominator is 0)."""
    return round(100 * numerator / denominator) if denominator else None


@dataclass(frozen=True)
class FigureRow:
    label: tuple[str, str]  # (zh, en)
    cells: tuple[FigureCell, ...]
    total: bool = False  # this row adds up the rows above it (column by column)
    # The breakdown the row belongs to: each group's rows add up to the total row on their own
    # (e.g. a table by school category, then by cluster, then one total row).
    group: str = ""


@dataclass(frozen=True)
class FigureTable:
    columns: tuple[tuple[str, str], ...]  # the cells' headers (zh, en), after the rows' label
    rows: tuple[FigureRow, ...]
    note: tuple[str, str] = ("", "")  # what is counted, as of when (zh, en)


# (district, today, schools) -> table, in a fixed number of queries. `schools`: the pks of
# the schools in the dashboard's scope (a cluster's), None for the whole district.
FigureFn = Callable[[Any, dt.date, Sequence[int] | None], FigureTable]


@dataclass(frozen=True)
class Figure:
    name: str
    title: tuple[str, str]
    fn: FigureFn
    order: int = 100


dashboard_figures: Registry[Figure] = Registry("dashboard figure")


def dashboard_figure(
    name: str, *, title: tuple[str, str], order: int = 100
) -> Callable[[FigureFn], FigureFn]:
    """Register `fn(district, today, schools) -> FigureTable` as the dashboard's figure
    `name` ("<app>.<what>"), shown in `order`."""

    def register(fn: FigureFn) -> FigureFn:
        dashboard_figures.add(name, Figure(name=name, title=title, fn=fn, order=order), order=order)
        return fn

    return register
