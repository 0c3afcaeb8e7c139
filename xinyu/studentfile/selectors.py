"""Reads for the student's file beside the timeline (`timeline.py`)."""

from __future__ import annotations

from collections.abc import Iterable

from xinyu.org.models import KeyPopulation, StudentFlag

# Key-population flags that describe the family situation (XY 五.4: "family situation").
FAMILY_SITUATION = frozenset(
    {
        KeyPopulation.LEFT_BEHIND,
        KeyPopulation.SINGLE_PARENT,
        KeyPopulation.POOR_FAMILY,
        KeyPopulation.PROBLEM_FAMILY,
    }
)


def family_flags(flags: Iterable[StudentFlag]) -> list[StudentFlag]:
    """The active flags that describe the family (shown with the guardians)."""
    return [f for f in flags if f.kind in FAMILY_SITUATION]
