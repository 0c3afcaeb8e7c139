"""Care's warning intake: the one door through which other apps raise warnings (SPEC §4).

Screening (critical answers, tiers), counselling (a risk found in a session, a student
asking for help) and the mailbox (a worrying letter) import this module and nothing else
of care. A new source of warnings adds a `Source` and calls `raise_warnings`; the ladder,
deadlines, tasks and messages stay care's.
"""

from __future__ import annotations

from .models import Level, Signal, Source, Warning
from .services.cases import student_asks_for_help
from .services.warnings import NewSignal, psych_teachers_of, raise_warning, raise_warnings

__all__ = [
    "Level",
    "NewSignal",
    "Signal",
    "Source",
    "Warning",
    "psych_teachers_of",
    "raise_warning",
    "raise_warnings",
    "student_asks_for_help",
]
