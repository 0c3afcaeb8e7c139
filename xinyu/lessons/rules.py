"""The counting rules of psych classes: pure functions (no database) returning
`xinyu.kernel.verdict.CountResult`, one per rule, read by the pages here and by the compliance
engine (issue 14). Their inputs are `ClassFacts` (the class's grade, whether it is graduating,
its active students) and the dates of the periods counted, with the `[lessons]` section.

Rules (ids are stable):
- `lessons.two_weeks` (QX 9, SJS 一.(三)): every two-week window of the semester's teaching
  weeks (`teaching_weeks` from the semester start of `kernel.semester`) holds
  ≥ `per_two_weeks` periods. `required` = the windows judged, `actual` = the windows met; the
  missed windows are named in `note` and by `windows()`.
- `lessons.semester` (QX 9): ≥ `per_semester` periods in the semester.
- `lessons.month` (CY 三.(二)): every calendar month inside the teaching weeks holds
  ≥ `per_month` periods; `per_month = 0` (not a rule of the district): not applicable.

Choices, written once here:
- Only what is over is judged: a window or month not yet ended is not judged; in a semester
  not yet over, the semester rule is met once the count is reached and otherwise `no_data`
  (note "semester not over"), never missed early.
- A class below `from_grade` (grade 3 and under): every rule not applicable.
- A graduating class (its grade in `graduating_grades` or marked for the semester): its
  exam-stress sessions (考前心理辅导, SJS 一.(三)) count instead of lessons, so both kinds
  count; for any other class only lessons count.
- No data: a class with no active student on the roster (a class that exists in name only),
  and a semester with nothing over yet (no window ended): `no_data`, never met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from xinyu.kernel.semester import Semester
from xinyu.kernel.verdict import CountResult, Verdict, judge

TWO_WEEKS = "lessons.two_weeks"
SEMESTER = "lessons.semester"
MONTH = "lessons.month"
RULES = (TWO_WEEKS, SEMESTER, MONTH)
EXAM_STRESS = "exam_stress"


@dataclass(frozen=True)
class Settings:
    from_grade: int = 4
    graduating_grades: tuple[int, ...] = (9, 12)
    teaching_weeks: int = 18
    per_two_weeks: int = 1
    per_semester: int = 9
    per_month: int = 0
    citation_two_weeks: str = ""
    citation_semester: str = ""
    citation_month: str = ""
    citation_graduating: str = ""

    @classmethod
    def from_policy(cls, section: dict[str, Any]) -> Settings:
        return cls(
            from_grade=int(section.get("from_grade", 4)),
            graduating_grades=tuple(int(g) for g in section.get("graduating_grades", (9, 12))),
            teaching_weeks=int(section.get("teaching_weeks", 18)),
            per_two_weeks=int(section.get("per_two_weeks", 1)),
            per_semester=int(section.get("per_semester", 9)),
            per_month=int(section.get("per_month", 0)),
            citation_two_weeks=str(section.get("citation_two_weeks", "")),
            citation_semester=str(section.get("citation_semester", "")),
            citation_month=str(section.get("citation_month", "")),
            citation_graduating=str(section.get("citation_graduating", "")),
        )


@dataclass(frozen=True)
class ClassFacts:
    unit: str  # the class's uid
    grade: int
    students: int  # active students on the roster
    marked_graduating: bool = False


@dataclass(frozen=True)
class Period:
    """One counted record: a lesson's id, date and kind."""

    id: str
    date: dt.date
    kind: str = "lesson"


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date  # inclusive
    count: int
    judged: bool  # over by `today`
    met: bool

    @property
    def label(self) -> str:
        return f"{self.start:%m-%d}..{self.end:%m-%d}"


def teaching_end(semester: Semester, settings: Settings) -> dt.date:
    return min(
        semester.end, semester.start + dt.timedelta(weeks=settings.teaching_weeks) - dt.timedelta(days=1)
    )


def is_graduating(facts: ClassFacts, settings: Settings) -> bool:
    return facts.marked_graduating or facts.grade in settings.graduating_grades


def counted(
    facts: ClassFacts, periods: Iterable[Period], settings: Settings, semester: Semester
) -> list[Period]:
    """The periods that count for the class in the semester's teaching weeks."""
    grad = is_graduating(facts, settings)
    end = teaching_end(semester, settings)
    return [p for p in periods if semester.start <= p.date <= end and (grad or p.kind != EXAM_STRESS)]


def _gate(facts: ClassFacts, settings: Settings) -> tuple[Verdict, str] | None:
    if facts.grade < settings.from_grade:
        return Verdict.NOT_APPLICABLE, f"grade {facts.grade} < {settings.from_grade}"
    if facts.students <= 0:
        return Verdict.NO_DATA, "no active student on the roster"
    return None


def _period(semester: Semester, settings: Settings) -> str:
    return f"{semester.start}..{teaching_end(semester, settings)}"


def windows(
    periods: Sequence[Period], semester: Semester, settings: Settings, today: dt.date
) -> list[Window]:
    """The two-week windows of the teaching weeks with their counts (the periods already
    filtered by `counted`); the last one shorter when the weeks are odd."""
    end = teaching_end(semester, settings)
    out = []
    start = semester.start
    while start <= end:
        stop = min(start + dt.timedelta(days=13), end)
        n = sum(1 for p in periods if start <= p.date <= stop)
        judged = stop < today
        out.append(Window(start, stop, n, judged, judged and n >= settings.per_two_weeks))
        start = stop + dt.timedelta(days=1)
    return out


def months(periods: Sequence[Period], semester: Semester, settings: Settings, today: dt.date) -> list[Window]:
    """The calendar months wholly inside the teaching weeks, with their counts."""
    end = teaching_end(semester, settings)
    out = []
    first = semester.start.replace(day=1)
    if first < semester.start:
        first = (first + dt.timedelta(days=32)).replace(day=1)
    while True:
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        last = nxt - dt.timedelta(days=1)
        if last > end:
            break
        n = sum(1 for p in periods if first <= p.date <= last)
        judged = last < today
        out.append(Window(first, last, n, judged, judged and n >= settings.per_month))
        first = nxt
    return out


def _ids(periods: Iterable[Period]) -> tuple[str, ...]:
    return tuple(p.id for p in periods)


def rule_two_weeks(
    facts: ClassFacts, periods: Iterable[Period], semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    """QX 9 / SJS 一.(三): every judged two-week window holds ≥ per_two_weeks periods."""
    base: dict[str, Any] = {"rule": TWO_WEEKS, "unit": facts.unit, "period": _period(semester, settings)}
    gate = _gate(facts, settings)
    if settings.per_two_weeks <= 0 or gate is not None:
        verdict, note = gate or (Verdict.NOT_APPLICABLE, "per_two_weeks = 0")
        return CountResult(verdict=verdict, note=note, citation=settings.citation_two_weeks, **base)
    mine = counted(facts, periods, settings, semester)
    judged = [w for w in windows(mine, semester, settings, today) if w.judged]
    if not judged:
        return CountResult(
            verdict=Verdict.NO_DATA, note="no window over yet", citation=settings.citation_two_weeks, **base
        )
    missed = [w.label for w in judged if not w.met]
    return judge(
        required=len(judged),
        actual=len(judged) - len(missed),
        citation=settings.citation_two_weeks,
        counted=_ids(mine),
        note=("missed: " + ", ".join(missed)) if missed else "",
        **base,
    )


def rule_semester(
    facts: ClassFacts, periods: Iterable[Period], semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    """QX 9: ≥ per_semester periods in the semester's teaching weeks."""
    base: dict[str, Any] = {"rule": SEMESTER, "unit": facts.unit, "period": _period(semester, settings)}
    gate = _gate(facts, settings)
    if settings.per_semester <= 0 or gate is not None:
        verdict, note = gate or (Verdict.NOT_APPLICABLE, "per_semester = 0")
        return CountResult(verdict=verdict, note=note, citation=settings.citation_semester, **base)
    mine = counted(facts, periods, settings, semester)
    result = judge(
        required=settings.per_semester,
        actual=len(mine),
        citation=settings.citation_semester,
        counted=_ids(mine),
        **base,
    )
    if result.verdict == Verdict.MISSED and teaching_end(semester, settings) >= today:
        return CountResult(
            verdict=Verdict.NO_DATA,
            required=result.required,
            actual=result.actual,
            counted=result.counted,
            citation=result.citation,
            note="semester not over",
            **base,
        )
    return result


def rule_month(
    facts: ClassFacts, periods: Iterable[Period], semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    """CY 三.(二): every judged month holds ≥ per_month periods (0: not applicable)."""
    base: dict[str, Any] = {"rule": MONTH, "unit": facts.unit, "period": _period(semester, settings)}
    gate = _gate(facts, settings)
    if settings.per_month <= 0 or gate is not None:
        verdict, note = gate or (Verdict.NOT_APPLICABLE, "per_month = 0: not a rule of the district")
        return CountResult(verdict=verdict, note=note, citation=settings.citation_month, **base)
    mine = counted(facts, periods, settings, semester)
    judged = [m for m in months(mine, semester, settings, today) if m.judged]
    if not judged:
        return CountResult(
            verdict=Verdict.NO_DATA, note="no month over yet", citation=settings.citation_month, **base
        )
    missed = [f"{m.start:%Y-%m}" for m in judged if not m.met]
    return judge(
        required=len(judged),
        actual=len(judged) - len(missed),
        citation=settings.citation_month,
        counted=_ids(mine),
        note=("missed: " + ", ".join(missed)) if missed else "",
        **base,
    )


def evaluate(
    facts: ClassFacts, periods: Sequence[Period], semester: Semester, settings: Settings, today: dt.date
) -> dict[str, CountResult]:
    """Every rule for one class."""
    return {
        TWO_WEEKS: rule_two_weeks(facts, periods, semester, settings, today),
        SEMESTER: rule_semester(facts, periods, semester, settings, today),
        MONTH: rule_month(facts, periods, semester, settings, today),
    }
