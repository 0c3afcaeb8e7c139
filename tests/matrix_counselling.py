"""The access matrix's entries and objects for xinyu.counselling's building projects (issue 14;
see tests/access_matrix.py, which holds the app's older routes).

Side A: a project recorded on school A's room; side B: one on school B's. Those who manage the
school's rooms (its psych teacher; the cluster's psych teacher for A) and the district admin
record and remove projects; everyone else: 404 and a `denied` row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from tests.access_matrix import Entry

E = Entry

KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "room_project": lambda mw, s: {"project_uid": s.extra["room_project"].uid},
}

RECORD_A = "psych_a cluster_psych district_admin"
RECORD_B = "psych_b district_admin"
READ = "psych_a psych_b leader_a district_admin cluster_psych"

ENTRIES: tuple[Entry, ...] = (
    E("counselling:project_add", "room", a=RECORD_A, b=RECORD_B, post=True),
    E("counselling:project_delete", "room_project", a=RECORD_A, b=RECORD_B, post=True),
    # the list and its export: whoever sees a room (each their own schools' projects)
    E("counselling:projects", a=READ),
    E("counselling:projects_export", a=READ),
)


def build(mw: Any) -> None:
    """Side A's and side B's projects, through the real service, in `side.extra`."""
    from xinyu.counselling import services

    w = mw.w
    for side, psych in ((mw.a, w.psych_a), (mw.b, w.psych_b)):
        side.extra["room_project"] = services.record_room_project(
            by=psych,
            room=side.room,
            kind="new",
            completed_on=timezone.localdate() - dt.timedelta(days=1),
            project="区级民生实事",
        )
