"""xinyu.lessons's exports for tests/test_exports.py (see EXTENSIONS there). The lists name
classes and lessons, never a student, so they are "individual" lists of records, not people."""

from __future__ import annotations

import datetime as dt
from typing import Any

VIEWERS = ("district_admin", "centre_expert", "leader_a", "psych_a")

# "module.view": (("aggregate" | "individual", "xlsx" | "pdf", (persona names allowed)), ...)
EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "xinyu.lessons.views.district_export": (("individual", "xlsx", (*VIEWERS, "psych_b")),),
    "xinyu.lessons.views.school_export": (("individual", "xlsx", VIEWERS),),
    "xinyu.lessons.views.class_export": (("individual", "xlsx", (*VIEWERS, "class_teacher_a41")),),
}
NOT_EXPORTS: dict[str, str] = {
    "xinyu.lessons.views.import_template": "the blank lesson import template: headers and one made-up row",
    "xinyu.lessons.views.evidence": "a lesson's photo or file, served through the lesson's access policy",
}


def setup(w: Any) -> dict[str, Any]:
    from xinyu.lessons import services

    lesson = services.create_lesson(
        by=w.psych_a,
        school_class=w.class_a41,
        data={"date": dt.date(2026, 9, 8), "period": 3, "topic": "=1+1 认识情绪", "form": "group"},
    )
    return {"lesson": lesson}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    if not view.startswith("xinyu.lessons."):
        return None
    if view.endswith("district_export"):
        return ["/lessons/export/?semester=2026-1"]
    if view.endswith("school_export"):
        return [f"/lessons/school/{w.school_a.uid}/export/?semester=2026-1"]
    return [f"/lessons/class/{w.class_a41.uid}/export/?semester=2026-1"]
