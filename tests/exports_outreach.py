"""xinyu.outreach's exports for tests/test_exports.py (see EXTENSIONS there). The talks list
(no feedback comment, no person but the speaker) to everyone who sees the list, scoped the
same way (a class teacher: their school's parent sessions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

V = "xinyu.outreach.views."

# "module.view": (("aggregate" | "individual", "xlsx" | "pdf", (persona names allowed)), ...)
EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {
    V + "talks_export": (
        (
            "aggregate",
            "xlsx",
            ("psych_a", "psych_b", "class_teacher_a41", "leader_a", "district_admin", "centre_expert"),
        ),
    ),
    # The progress page's figures: counts of sessions and feedback answers per school (a
    # school's own "1 held / 1 required" is the rule, not a person), so not held to the
    # small-cell rule; the managers who see the page (class teachers: 404).
    V + "progress_export": (
        ("individual", "xlsx", ("psych_a", "psych_b", "leader_a", "district_admin", "centre_expert")),
    ),
}
NOT_EXPORTS: dict[str, str] = {
    V + "evidence_file": "a material or photo of one talk, served to those who see the talk",
}


def setup(w: Any) -> dict[str, Any]:
    from xinyu.outreach import services

    start = timezone.now() - dt.timedelta(hours=2)
    services.create_talk(
        by=w.psych_a,
        district=w.district,
        school=w.school_a,
        kind="parent",
        topic="=1+1 家长课堂",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    services.create_talk(
        by=w.district_admin,
        district=w.district,
        kind="lecture",
        topic="=HYPERLINK(1) 讲座",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    return {}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    if view == V + "talks_export":
        return ["/outreach/export/", "/outreach/export/?kind=parent"]
    if view == V + "progress_export":
        return ["/outreach/progress/export/", "/outreach/progress/export/?state=missing"]
    return None
