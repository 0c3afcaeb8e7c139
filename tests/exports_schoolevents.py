"""xinyu.schoolevents's exports for tests/test_exports.py (see EXTENSIONS there).

The events list and the summaries list records per school (events counted, not people); the
committee export names members (name and class only) and only within the class scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

ALL_VIEWERS = ("district_admin", "centre_expert", "leader_a", "psych_a", "psych_b")
A_VIEWERS = ("district_admin", "centre_expert", "leader_a", "psych_a")
COMMITTEE_A = ("leader_a", "psych_a", "grade_leader_a4", "class_teacher_a41")

# "module.view": (("aggregate" | "individual", "xlsx" | "pdf", (persona names allowed)), ...)
EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "xinyu.schoolevents.views.events_export": (("individual", "xlsx", ALL_VIEWERS),),
    "xinyu.schoolevents.views.summary_export": (("individual", "xlsx", ALL_VIEWERS),),
    "xinyu.schoolevents.views.school_summary_export": (("individual", "xlsx", A_VIEWERS),),
    "xinyu.schoolevents.views.committee_export": (("individual", "xlsx", COMMITTEE_A),),
    # contests and their entries (teachers' names and lessons): every viewer of the district's
    # events; a school's staff get their own school's entries only (tests/test_schoolevents_lists.py)
    "xinyu.schoolevents.views.contests_export": (("individual", "xlsx", ALL_VIEWERS),),
    "xinyu.schoolevents.views.contest_export": (("individual", "xlsx", ALL_VIEWERS),),
}
NOT_EXPORTS: dict[str, str] = {
    "xinyu.schoolevents.views.event_evidence": "an evidence file attached to an event, served through access",
    "xinyu.schoolevents.views.contest_evidence": "an evidence file attached to a contest, served through access",
}


def setup(w: Any) -> dict[str, Any]:
    from xinyu.schoolevents import services
    from xinyu.schoolevents.models import EventKind

    services.create_event(
        by=w.psych_a, school=w.school_a, kind=EventKind.OTHER, title="=1+1 活动", date=dt.date(2026, 4, 1)
    )
    services.appoint_member(by=w.psych_a, student=w.student_a41, started_on=dt.date(2026, 9, 1))
    contest = services.create_contest(
        by=w.district_admin,
        district=w.district,
        level="county",
        title="=1+1 赛课",
        starts_on=dt.date(2026, 5, 10),
    )
    for school in (w.school_a, w.school_b):
        services.add_entry(
            by=w.district_admin, contest=contest, school=school, teacher_name="@老师", lesson_title="-情绪"
        )
    return {"contest": contest}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    if not view.startswith("xinyu.schoolevents."):
        return None
    name = view.rsplit(".", 1)[1]
    return {
        "events_export": ["/events/export.xlsx", "/events/export.xlsx?kind=other"],
        "summary_export": ["/events/summary/export.xlsx", "/events/summary/export.xlsx?state=gaps"],
        "school_summary_export": [f"/events/summary/{w.school_a.uid}/export.xlsx"],
        "committee_export": [f"/events/committee/{w.school_a.uid}/export.xlsx"],
        "contests_export": ["/events/contests/export.xlsx", "/events/contests/export.xlsx?level=county"],
        "contest_export": [f"/events/contests/{objects['contest'].uid}/export.xlsx"],
    }[name]
