"""Build care objects for tests: a warning, and a case opened by triage (through the services)."""

from __future__ import annotations

from xinyu.care.models import Case, Level, Source, Tier, Warning
from xinyu.care.services import raise_warning
from xinyu.org.models import Student, User


def warn(student: Student, level: Level = Level.HIGH, source: Source = Source.SCREENING_RESULT) -> Warning:
    return raise_warning(student=student, level=level, source=source, ref="", code="test")


def open_case(student: Student, by: User, tier: Tier = Tier.SERIOUS, *, assessment: str = "评估记录") -> Case:
    """A warning about the student, triaged by `by` (a psych teacher) into a case of `tier`."""
    from xinyu.care.services.cases import triage_warning

    warning = warn(student)
    case = triage_warning(warning=warning, by=by, tier=tier, assessment=assessment)
    assert case is not None
    return case
