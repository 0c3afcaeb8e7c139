"""xinyu.homevisits's exports for tests/test_exports.py (see EXTENSIONS there). No coverage
export carries a note; the visit list's does, for note readers only (tests/test_homevisits_list.py
checks which column and rows). The class list (names, visit counts) and the school's per-class table reach
the school's staff who see them on the pages; the district's table is counts only, small
cells suppressed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

V = "xinyu.homevisits.views."

# "module.view": (("aggregate" | "individual", "xlsx" | "pdf", (persona names allowed)), ...)
EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {
    V + "class_export": (
        ("individual", "xlsx", ("leader_a", "psych_a", "grade_leader_a4", "class_teacher_a41")),
    ),
    V + "school_export": (("individual", "xlsx", ("leader_a", "psych_a")),),
    V + "district_export": (("aggregate", "xlsx", ("district_admin", "centre_expert")),),
    # the visit list: one row per visit; the note column only for the note readers
    V + "visit_list_export": (
        (
            "individual",
            "xlsx",
            ("leader_a", "psych_a", "psych_b", "grade_leader_a4", "class_teacher_a41"),
        ),
    ),
}
NOT_EXPORTS: dict[str, str] = {
    V + "import_template": "the blank home-visit import template: headers and one made-up row",
    V + "evidence_file": "an attachment of one home visit, served to those who read its note",
}


def setup(w: Any) -> dict[str, Any]:
    from xinyu.homevisits import services

    today = timezone.localdate()
    services.record_visit(
        by=w.class_teacher_a41,
        student=w.student_a41,
        visited_on=today,
        form="visit",
        met="mother",
        note="=1+1",
    )
    services.record_visit(
        by=w.psych_a,
        student=w.student_a42,
        visited_on=today - dt.timedelta(days=1),
        form="phone",
        met="father",
    )
    return {}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    if view == V + "class_export":
        return [f"/homevisits/class/{w.class_a41.uid}/export.xlsx"]
    if view == V + "school_export":
        return [f"/homevisits/school/{w.school_a.uid}/export.xlsx"]
    if view == V + "district_export":
        return ["/homevisits/district/export.xlsx"]
    if view == V + "visit_list_export":
        return [
            "/homevisits/visits/export.xlsx",
            f"/homevisits/visits/export.xlsx?school_class={w.class_a41.uid}",
        ]
    return None
