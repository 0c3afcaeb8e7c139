"""The school calendar: which semester (学期) and school year (学年) a day falls in.

Rules counted "per semester" (QX 6 school-based training, SJS 一.(一)2 all-staff training,
QX 15 parent sessions …) and "per school year" (home visits) use these. The boundaries are
policy data (`[calendar] autumn_start`, `spring_start`, "MM-DD"): the autumn semester (第一学期)
runs from autumn_start to the day before spring_start of the next calendar year; the spring
semester (第二学期) from spring_start to the day before autumn_start. The school year 2025–2026
is the autumn semester of 2025 and the spring semester of 2026.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(part) for part in str(text).split("-"))
    dt.date(2024, month, day)  # raises ValueError on a day that does not exist
    return month, day


@dataclass(frozen=True)
class Semester:
    year: int  # the school year's first calendar year: 2025 for 2025–2026
    term: int  # 1 autumn (第一学期), 2 spring (第二学期)
    start: dt.date
    end: dt.date  # inclusive

    @property
    def key(self) -> str:
        return f"{self.year}-{self.term}"

    @property
    def label(self) -> str:
        zh = "第一学期" if self.term == 1 else "第二学期"
        en = "autumn" if self.term == 1 else "spring"
        return f"{self.year}–{self.year + 1} {zh} ({en})"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class SchoolYear:
    year: int
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.year}–{self.year + 1} 学年"


def _bounds(calendar: dict[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    return _month_day(calendar.get("autumn_start", "09-01")), _month_day(
        calendar.get("spring_start", "02-01")
    )


def semester_of(day: dt.date, calendar: dict[str, Any] | None = None) -> Semester:
    """The semester containing `day` under a district's `[calendar]` section."""
    (am, ad), (sm, sd) = _bounds(calendar or {})
    autumn = dt.date(day.year, am, ad)
    spring = dt.date(day.year, sm, sd)
    one = dt.timedelta(days=1)
    if day >= autumn:
        return Semester(day.year, 1, autumn, dt.date(day.year + 1, sm, sd) - one)
    if day >= spring:
        return Semester(day.year - 1, 2, spring, autumn - one)
    return Semester(day.year - 1, 1, dt.date(day.year - 1, am, ad), spring - one)


def school_year_of(day: dt.date, calendar: dict[str, Any] | None = None) -> SchoolYear:
    (am, ad), _ = _bounds(calendar or {})
    autumn = dt.date(day.year, am, ad)
    year = day.year if day >= autumn else day.year - 1
    return SchoolYear(year, dt.date(year, am, ad), dt.date(year + 1, am, ad) - dt.timedelta(days=1))


def check_calendar(calendar: dict[str, Any]) -> list[str]:
    """Errors in a `[calendar]` section (used by the policy check)."""
    errors = []
    for key in ("autumn_start", "spring_start"):
        if key in calendar:
            try:
                _month_day(calendar[key])
            except (ValueError, TypeError):
                errors.append(f'calendar.{key} must be a day of the year as "MM-DD"')
    if not errors:
        a, s = _bounds(calendar)
        if not s < a:
            errors.append("calendar.spring_start must come before calendar.autumn_start in the year")
    return errors
