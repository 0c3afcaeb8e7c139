"""xinyu.counselling's export of the building-projects list for tests/test_exports.py (see
EXTENSIONS there): one row per project (school, room, kind, date, project, note, who entered
it), in the page's scope (the schools whose rooms the persona sees). The counselling
statistics export is in tests/test_exports.py's own table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

V = "xinyu.counselling.views."

EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {
    V + "projects_export": (
        ("individual", "xlsx", ("psych_a", "psych_b", "leader_a", "district_admin", "cluster_psych")),
    ),
}
NOT_EXPORTS: dict[str, str] = {}


def setup(w: Any) -> dict[str, Any]:
    from xinyu.counselling import services
    from xinyu.counselling.models import Room

    room = Room.objects.get(school=w.school_a)
    project = services.record_room_project(
        by=w.psych_a, room=room, kind="new", completed_on=timezone.localdate() - dt.timedelta(days=3),
        project="=1+1 区级民生实事", note="=HYPERLINK(\"x\")",
    )  # fmt: skip
    return {"project": project}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    if view != V + "projects_export":
        return None
    year = objects["project"].completed_on.year
    return ["/counselling/projects/export.xlsx", f"/counselling/projects/export.xlsx?year={year}&kind=new"]
