"""The school calendar (xinyu.kernel.semester): semesters and school years at their
boundaries (the last day of each semester and the first of the next), under the default
[calendar] and a district's own, and the [calendar] check (xinyu.E004)."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyu.kernel.semester import check_calendar, school_year_of, semester_of
from xinyu.staff.policy_sections import check_semesters

D = dt.date


@pytest.mark.parametrize(
    ("day", "key", "start", "end"),
    [
        # The autumn semester (第一学期) 2025: 2025-09-01 .. 2026-01-31.
        (D(2025, 8, 31), "2024-2", D(2025, 2, 1), D(2025, 8, 31)),  # the spring semester's last day
        (D(2025, 9, 1), "2025-1", D(2025, 9, 1), D(2026, 1, 31)),  # the autumn semester's first
        (D(2025, 12, 31), "2025-1", D(2025, 9, 1), D(2026, 1, 31)),  # across the calendar year
        (D(2026, 1, 1), "2025-1", D(2025, 9, 1), D(2026, 1, 31)),
        (D(2026, 1, 31), "2025-1", D(2025, 9, 1), D(2026, 1, 31)),  # the autumn semester's last day
        (D(2026, 2, 1), "2025-2", D(2026, 2, 1), D(2026, 8, 31)),  # the spring semester's first
        (D(2026, 8, 31), "2025-2", D(2026, 2, 1), D(2026, 8, 31)),
        (D(2026, 9, 1), "2026-1", D(2026, 9, 1), D(2027, 1, 31)),
    ],
)
def test_default_semester_boundaries(day: dt.date, key: str, start: dt.date, end: dt.date) -> None:
    s = semester_of(day)
    assert (s.key, s.start, s.end) == (key, start, end)
    assert s.contains(day) and s.contains(start) and s.contains(end)
    assert not s.contains(start - dt.timedelta(days=1)) and not s.contains(end + dt.timedelta(days=1))


def test_consecutive_semesters_tile_the_year() -> None:
    day = D(2024, 8, 1)
    s = semester_of(day)
    for _ in range(6):
        nxt = semester_of(s.end + dt.timedelta(days=1))
        assert nxt.start == s.end + dt.timedelta(days=1)
        assert (nxt.year, nxt.term) == ((s.year, 2) if s.term == 1 else (s.year + 1, 1))
        s = nxt


def test_a_leap_year_spring_start() -> None:
    # The autumn semester ends the day before spring_start, in a leap year too.
    cal = {"autumn_start": "09-01", "spring_start": "03-01"}
    assert semester_of(D(2024, 2, 29), cal).end == D(2024, 2, 29)
    assert semester_of(D(2024, 3, 1), cal).key == "2023-2"
    assert semester_of(D(2025, 2, 28), cal).end == D(2025, 2, 28)


def test_a_districts_own_calendar() -> None:
    cal = {"autumn_start": "08-25", "spring_start": "02-20"}
    assert semester_of(D(2025, 8, 24), cal).key == "2024-2"
    assert semester_of(D(2025, 8, 25), cal).key == "2025-1"
    assert semester_of(D(2026, 2, 19), cal).key == "2025-1"
    assert semester_of(D(2026, 2, 20), cal).key == "2025-2"


def test_labels() -> None:
    assert semester_of(D(2025, 10, 1)).label == "2025–2026 第一学期 (autumn)"
    assert semester_of(D(2026, 3, 1)).label == "2025–2026 第二学期 (spring)"
    assert school_year_of(D(2026, 3, 1)).label == "2025–2026 学年"


@pytest.mark.parametrize(
    ("day", "year", "start", "end"),
    [
        (D(2025, 8, 31), 2024, D(2024, 9, 1), D(2025, 8, 31)),
        (D(2025, 9, 1), 2025, D(2025, 9, 1), D(2026, 8, 31)),
        (D(2026, 1, 31), 2025, D(2025, 9, 1), D(2026, 8, 31)),
        (D(2026, 2, 1), 2025, D(2025, 9, 1), D(2026, 8, 31)),
    ],
)
def test_school_year_boundaries(day: dt.date, year: int, start: dt.date, end: dt.date) -> None:
    y = school_year_of(day)
    assert (y.year, y.start, y.end) == (year, start, end)
    # A school year is its autumn semester and the spring semester after it.
    autumn, spring = semester_of(y.start), semester_of(y.end)
    assert (autumn.key, spring.key) == (f"{year}-1", f"{year}-2")


@pytest.mark.parametrize(
    ("calendar", "problems"),
    [
        ({}, 0),
        ({"autumn_start": "09-01", "spring_start": "02-01"}, 0),
        ({"autumn_start": "9/1"}, 1),
        ({"spring_start": "02-30"}, 1),
        ({"autumn_start": 901}, 1),
        ({"autumn_start": "02-01", "spring_start": "09-01"}, 1),  # spring after autumn
        ({"autumn_start": "03-01", "spring_start": "03-01"}, 1),
    ],
)
def test_the_calendar_check(calendar: dict[str, object], problems: int) -> None:
    assert len(check_calendar(calendar)) == problems
    assert len(list(check_semesters("999", {"calendar": calendar}))) == problems


def test_the_policy_section_is_registered() -> None:
    from xinyu.kernel.registry import policy_sections

    section = next(s for s in policy_sections if s.name == "calendar")
    assert section.check_id == "xinyu.E004"
    assert list(section.check("999", {"calendar": "x"})) == ["[calendar] must be a table"]
