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

The rules judge a `Tally`: the counted periods of one class per two-week window and per month
(and their ids when known). `tally()` makes it from the periods (the school page, the
compliance engine); `tally_from_counts()` from counts per kind, window and month that the
database summed (the district page: `selectors.district_rows`, one grouped read instead of every
lesson row). Either way the rules below decide; the callers only count.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
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


@dataclass(frozen=True, slots=True)
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


@functools.lru_cache(maxsize=64)
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


@functools.lru_cache(maxsize=64)
def _period(semester: Semester, settings: Settings) -> str:
    return f"{semester.start}..{teaching_end(semester, settings)}"


@functools.lru_cache(maxsize=64)
def window_spans(semester: Semester, settings: Settings) -> tuple[tuple[dt.date, dt.date], ...]:
    """The two-week windows of the teaching weeks (first and last day), the last one shorter
    when the weeks are odd."""
    end = teaching_end(semester, settings)
    out = []
    start = semester.start
    while start <= end:
        stop = min(start + dt.timedelta(days=13), end)
        out.append((start, stop))
        start = stop + dt.timedelta(days=1)
    return tuple(out)


@functools.lru_cache(maxsize=64)
def month_spans(semester: Semester, settings: Settings) -> tuple[tuple[dt.date, dt.date], ...]:
    """The calendar months wholly inside the teaching weeks (first and last day)."""
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
        out.append((first, last))
        first = nxt
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Tally:
    """The counted periods of one class: per window (index into `window_spans`), per month
    (index into `month_spans`), in all (the windows cover the teaching weeks, so `total` is
    their sum), and the periods' ids when the caller read them (else empty)."""

    by_window: Mapping[int, int]
    by_month: Mapping[int, int]
    total: int
    ids: tuple[str, ...] = ()


def _index(spans: Sequence[tuple[dt.date, dt.date]], day: dt.date) -> int | None:
    for i, (first, last) in enumerate(spans):
        if first <= day <= last:
            return i
    return None


def day_index(spans: Sequence[tuple[dt.date, dt.date]], start: dt.date) -> dict[int, int]:
    """Days since `start` -> the index of the span holding that day (for counts kept by day)."""
    out = {}
    for i, (first, last) in enumerate(spans):
        for offset in range((first - start).days, (last - start).days + 1):
            out[offset] = i
    return out


DAY0 = 0x30  # a kept day: chr(DAY0 + days since the semester's start), one character per period


def day_chars(offsets: Iterable[int]) -> str:
    """The kept form of periods' days (days since the semester's start): one character each."""
    return "".join(chr(DAY0 + offset) for offset in sorted(offsets))


@functools.lru_cache(maxsize=64)
def _day_tables(
    semester: Semester, settings: Settings
) -> tuple[dict[int, int | None], dict[int, int | None]]:
    """`str.translate` tables from a day's character to its window's and its month's character
    (chr(DAY0 + index)), deleting the days outside them; every day of the semester is a key."""

    def table(spans: Sequence[tuple[dt.date, dt.date]]) -> dict[int, int | None]:
        out: dict[int, int | None] = dict.fromkeys(
            range(DAY0, DAY0 + (semester.end - semester.start).days + 1)
        )
        for offset, i in day_index(spans, semester.start).items():
            out[DAY0 + offset] = DAY0 + i
        return out

    return table(window_spans(semester, settings)), table(month_spans(semester, settings))


def tally_from_days(
    facts: ClassFacts, lessons: str, sessions: str, semester: Semester, settings: Settings
) -> Tally:
    """The tally from a class's kept days (`day_chars`, days of the semester only) of lessons
    and of exam-stress sessions; which kinds count is decided here, as in `counted`. Months are
    counted only when `per_month` makes them a rule."""
    days = lessons + sessions if is_graduating(facts, settings) else lessons
    wtable, mtable = _day_tables(semester, settings)
    in_windows = days.translate(wtable)
    by_window = {
        i: n for i in range(len(window_spans(semester, settings))) if (n := in_windows.count(chr(DAY0 + i)))
    }
    by_month: dict[int, int] = {}
    if settings.per_month > 0:
        in_months = days.translate(mtable)
        by_month = {
            i: n for i in range(len(month_spans(semester, settings))) if (n := in_months.count(chr(DAY0 + i)))
        }
    return Tally(by_window, by_month, len(in_windows))


def tally(facts: ClassFacts, periods: Iterable[Period], semester: Semester, settings: Settings) -> Tally:
    """The tally of the periods that count for the class (`counted`)."""
    mine = counted(facts, periods, settings, semester)
    wspans, mspans = window_spans(semester, settings), month_spans(semester, settings)
    by_window: dict[int, int] = {}
    by_month: dict[int, int] = {}
    for p in mine:
        w = _index(wspans, p.date)
        if w is not None:
            by_window[w] = by_window.get(w, 0) + 1
        m = _index(mspans, p.date)
        if m is not None:
            by_month[m] = by_month.get(m, 0) + 1
    return Tally(by_window, by_month, len(mine), _ids(mine))


def tally_from_counts(
    facts: ClassFacts, counts: Iterable[tuple[str, int | None, int | None, int]], settings: Settings
) -> Tally:
    """The tally from counts the database summed for the class: (kind, window index, month
    index, periods), only periods inside the teaching weeks; a window or month index None when
    the periods fall in none. Which kinds count is decided here, as in `counted`."""
    grad = is_graduating(facts, settings)
    by_window: dict[int, int] = {}
    by_month: dict[int, int] = {}
    total = 0
    for kind, w, m, n in counts:
        if not grad and kind == EXAM_STRESS:
            continue
        if w is not None:
            by_window[w] = by_window.get(w, 0) + n
            total += n
        if m is not None:
            by_month[m] = by_month.get(m, 0) + n
    return Tally(by_window, by_month, total)


def _windows(
    spans: Sequence[tuple[dt.date, dt.date]], counts: Mapping[int, int], need: int, today: dt.date
) -> list[Window]:
    out = []
    for i, (first, last) in enumerate(spans):
        n = counts.get(i, 0)
        judged = last < today
        out.append(Window(first, last, n, judged, judged and n >= need))
    return out


def _judged(
    spans: Sequence[tuple[dt.date, dt.date]], counts: Mapping[int, int], need: int, today: dt.date
) -> list[tuple[dt.date, dt.date, bool]]:
    """(first, last, met) of the spans over by `today`: `_windows` without the objects (the
    district page judges every class)."""
    return [(first, last, counts.get(i, 0) >= need) for i, (first, last) in enumerate(spans) if last < today]


def tally_windows(t: Tally, semester: Semester, settings: Settings, today: dt.date) -> list[Window]:
    return _windows(window_spans(semester, settings), t.by_window, settings.per_two_weeks, today)


def tally_months(t: Tally, semester: Semester, settings: Settings, today: dt.date) -> list[Window]:
    return _windows(month_spans(semester, settings), t.by_month, settings.per_month, today)


def windows(
    periods: Sequence[Period], semester: Semester, settings: Settings, today: dt.date
) -> list[Window]:
    """The two-week windows of the teaching weeks with their counts (the periods already
    filtered by `counted`); the last one shorter when the weeks are odd."""
    spans = window_spans(semester, settings)
    counts: dict[int, int] = {}
    for p in periods:
        i = _index(spans, p.date)
        if i is not None:
            counts[i] = counts.get(i, 0) + 1
    return _windows(spans, counts, settings.per_two_weeks, today)


def months(periods: Sequence[Period], semester: Semester, settings: Settings, today: dt.date) -> list[Window]:
    """The calendar months wholly inside the teaching weeks, with their counts."""
    spans = month_spans(semester, settings)
    counts: dict[int, int] = {}
    for p in periods:
        i = _index(spans, p.date)
        if i is not None:
            counts[i] = counts.get(i, 0) + 1
    return _windows(spans, counts, settings.per_month, today)


def _ids(periods: Iterable[Period]) -> tuple[str, ...]:
    return tuple(p.id for p in periods)


def rule_two_weeks(
    facts: ClassFacts, periods: Iterable[Period], semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    """QX 9 / SJS 一.(三): every judged two-week window holds ≥ per_two_weeks periods."""
    return two_weeks_of(facts, tally(facts, periods, semester, settings), semester, settings, today)


def two_weeks_of(
    facts: ClassFacts, t: Tally, semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    base: dict[str, Any] = {"rule": TWO_WEEKS, "unit": facts.unit, "period": _period(semester, settings)}
    gate = _gate(facts, settings)
    if settings.per_two_weeks <= 0 or gate is not None:
        verdict, note = gate or (Verdict.NOT_APPLICABLE, "per_two_weeks = 0")
        return CountResult(verdict=verdict, note=note, citation=settings.citation_two_weeks, **base)
    judged = _judged(window_spans(semester, settings), t.by_window, settings.per_two_weeks, today)
    if not judged:
        return CountResult(
            verdict=Verdict.NO_DATA, note="no window over yet", citation=settings.citation_two_weeks, **base
        )
    missed = [f"{first:%m-%d}..{last:%m-%d}" for first, last, met in judged if not met]
    return judge(
        required=len(judged),
        actual=len(judged) - len(missed),
        citation=settings.citation_two_weeks,
        counted=t.ids,
        note=("missed: " + ", ".join(missed)) if missed else "",
        **base,
    )


def rule_semester(
    facts: ClassFacts, periods: Iterable[Period], semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    """QX 9: ≥ per_semester periods in the semester's teaching weeks."""
    return semester_of_tally(facts, tally(facts, periods, semester, settings), semester, settings, today)


def semester_of_tally(
    facts: ClassFacts, t: Tally, semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    base: dict[str, Any] = {"rule": SEMESTER, "unit": facts.unit, "period": _period(semester, settings)}
    gate = _gate(facts, settings)
    if settings.per_semester <= 0 or gate is not None:
        verdict, note = gate or (Verdict.NOT_APPLICABLE, "per_semester = 0")
        return CountResult(verdict=verdict, note=note, citation=settings.citation_semester, **base)
    result = judge(
        required=settings.per_semester,
        actual=t.total,
        citation=settings.citation_semester,
        counted=t.ids,
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
    return month_of(facts, tally(facts, periods, semester, settings), semester, settings, today)


def month_of(
    facts: ClassFacts, t: Tally, semester: Semester, settings: Settings, today: dt.date
) -> CountResult:
    base: dict[str, Any] = {"rule": MONTH, "unit": facts.unit, "period": _period(semester, settings)}
    gate = _gate(facts, settings)
    if settings.per_month <= 0 or gate is not None:
        verdict, note = gate or (Verdict.NOT_APPLICABLE, "per_month = 0: not a rule of the district")
        return CountResult(verdict=verdict, note=note, citation=settings.citation_month, **base)
    judged = _judged(month_spans(semester, settings), t.by_month, settings.per_month, today)
    if not judged:
        return CountResult(
            verdict=Verdict.NO_DATA, note="no month over yet", citation=settings.citation_month, **base
        )
    missed = [f"{first:%Y-%m}" for first, _last, met in judged if not met]
    return judge(
        required=len(judged),
        actual=len(judged) - len(missed),
        citation=settings.citation_month,
        counted=t.ids,
        note=("missed: " + ", ".join(missed)) if missed else "",
        **base,
    )


def evaluate(
    facts: ClassFacts, periods: Sequence[Period], semester: Semester, settings: Settings, today: dt.date
) -> dict[str, CountResult]:
    """Every rule for one class."""
    return evaluate_tally(facts, tally(facts, periods, semester, settings), semester, settings, today)


def evaluate_tally(
    facts: ClassFacts, t: Tally, semester: Semester, settings: Settings, today: dt.date
) -> dict[str, CountResult]:
    """Every rule for one class from its tally (the same rules as `evaluate`)."""
    return {
        TWO_WEEKS: two_weeks_of(facts, t, semester, settings, today),
        SEMESTER: semester_of_tally(facts, t, semester, settings, today),
        MONTH: month_of(facts, t, semester, settings, today),
    }
