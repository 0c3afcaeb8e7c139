"""The access matrix's entries and objects for xinyu.homevisits (see tests/access_matrix.py).

Side A: school A, class A 4(1), student A 4(1); side B: school B, class B 4(1). Notes (the
visit page, its evidence) only for the class teacher of the class, the school's leaders and
psych teachers; coverage by name (and the visit list, without notes) also for the grade
leader; the district counts only. A visit is corrected or deleted by its recorder and the
school's leaders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from tests.access_matrix import Entry

E = Entry

KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "hv_record": lambda mw, s: {"uid": s.klass.uid, "student_uid": s.student.uid},
    "hv_visit": lambda mw, s: {"uid": s.extra["home_visit"].uid},
    "hv_evidence": lambda mw, s: {
        "uid": s.extra["home_visit"].uid,
        "file_uid": s.extra["home_visit_file"].uid,
    },
    "hv_delete_form": lambda mw, s: {"reason": "录入错误"},
}

# who reads notes / records on A's class (A 4(1)) and on B's (B 4(1))
NOTES_A = "psych_a class_teacher_a41 leader_a cluster_psych"
NOTES_B = "psych_b"
COVER_A = NOTES_A + " grade_leader_a4"
SCHOOL_A = "psych_a leader_a cluster_psych"
RECORDERS = "psych_a psych_b class_teacher_a41 class_teacher_a42 leader_a cluster_psych"
DISTRICT = "district_admin centre_expert"
# the visit list: whoever sees coverage by name (no kwargs: one answer per persona)
LISTERS = "psych_a psych_b class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a cluster_psych"
# correcting or deleting the side's visit: its recorder (psych_a / psych_b) and A's leader
EDIT_A = "psych_a leader_a"
EDIT_B = "psych_b"


def _302(people: str) -> str:
    return " ".join(f"{p}=302" for p in people.split())


ENTRIES: tuple[Entry, ...] = (
    E("homevisits:index", a="@staff"),
    E("homevisits:class", "class", a=COVER_A, b=NOTES_B),
    E("homevisits:class_export", "class", a=COVER_A, b=NOTES_B),
    E("homevisits:record", "class", a=NOTES_A, b=NOTES_B),
    E("homevisits:record_visit", "hv_record", a=_302(NOTES_A), b=_302(NOTES_B), post=True),
    E("homevisits:visit", "hv_visit", a=NOTES_A, b=NOTES_B),
    E("homevisits:visits", a=LISTERS),
    E("homevisits:visits_export", a=LISTERS),
    E("homevisits:visit_edit", "hv_visit", a=EDIT_A, b=EDIT_B),
    E(
        "homevisits:visit_delete",
        "hv_visit",
        a=_302(EDIT_A),
        b=_302(EDIT_B),
        post=True,
        query="hv_delete_form",
    ),  # fmt: skip
    E("homevisits:add_evidence", "hv_visit", a=_302(NOTES_A), b=_302(NOTES_B), post=True),
    E("homevisits:evidence_file", "hv_evidence", a=NOTES_A, b=NOTES_B),
    E("homevisits:school", "school", a=SCHOOL_A, b=NOTES_B),
    E("homevisits:school_export", "school", a=SCHOOL_A, b=NOTES_B),
    E("homevisits:district", a=DISTRICT),
    E("homevisits:district_export", a=DISTRICT),
    E("homevisits:import", a=RECORDERS),
    E("homevisits:import_template", a=RECORDERS),
    E("api:op:xinyu_api_homevisits_school_coverage", "school", a=SCHOOL_A, b=NOTES_B),
    E("api:op:xinyu_api_homevisits_class_coverage", "class", a=COVER_A, b=NOTES_B),
)


def build(mw: Any) -> None:
    """Side A's and side B's objects of this app, through the real services, in `side.extra`."""
    from tests.matrix_world import _png
    from xinyu.homevisits import services

    w = mw.w
    for side, psych in ((mw.a, w.psych_a), (mw.b, w.psych_b)):
        visit = services.record_visit(
            by=psych,
            student=side.student,
            visited_on=timezone.localdate(),
            form="visit",
            met="mother",
            note="家访记录",
        )
        side.extra["home_visit"] = visit
        side.extra["home_visit_file"] = services.add_evidence(
            by=psych, visit=visit, upload=_png(), caption=""
        )
