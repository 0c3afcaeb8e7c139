"""The access matrix's entries and objects for xinyu.lessons (see tests/access_matrix.py).

Viewers of a school's class hours: its psych teachers (the cluster psych teacher for A), its
leader, the district admin and the centre's experts; recorders: its psych teachers and leader;
a class's page also answers its own class teacher (read only)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.access_matrix import Entry

E = Entry

VIEW_A = "psych_a leader_a district_admin centre_expert cluster_psych"
VIEW_B = "psych_b district_admin centre_expert"
RECORD_A = "psych_a leader_a cluster_psych"
RECORD_B = "psych_b"
CLASS_A = f"{VIEW_A} class_teacher_a41"


def _302(who: str) -> str:
    return " ".join(f"{p}=302" for p in who.split())


KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "lessons_lesson": lambda mw, s: {"uid": s.extra["lesson"].uid},
    "lessons_evidence": lambda mw, s: {"uid": s.extra["lesson_evidence"].uid},
}

ENTRIES: tuple[Entry, ...] = (
    E("lessons:district", a=f"{VIEW_A} psych_b"),
    E("lessons:district_export", a=f"{VIEW_A} psych_b"),
    E("lessons:template", a=f"{RECORD_A} psych_b"),
    E("lessons:school", "school", a=VIEW_A, b=VIEW_B),
    E("lessons:school_export", "school", a=VIEW_A, b=VIEW_B),
    E("lessons:school_import", "school", a=RECORD_A, b=RECORD_B),
    E("lessons:class", "class", a=CLASS_A, b=VIEW_B),
    E("lessons:class_export", "class", a=CLASS_A, b=VIEW_B),
    E("lessons:graduating", "class", a=_302(RECORD_A), b=_302(RECORD_B), post=True),
    E("lessons:lesson_edit", "lessons_lesson", a=RECORD_A, b=RECORD_B),
    E("lessons:lesson_delete", "lessons_lesson", a=_302(RECORD_A), b=_302(RECORD_B), post=True),
    E("lessons:evidence_upload", "lessons_lesson", a=_302(RECORD_A), b=_302(RECORD_B), post=True),
    E("lessons:evidence", "lessons_evidence", a=CLASS_A, b=VIEW_B),
    E("api:op:xinyu_api_lessons_school_summary", "school", a=VIEW_A, b=VIEW_B),
)


def png() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buf, "PNG")
    return SimpleUploadedFile("lesson.png", buf.getvalue(), "image/png")


def build(mw: Any) -> None:
    """Side A's and side B's objects of this app, through the real services, in `side.extra`."""
    from xinyu.lessons import services

    for side, psych in ((mw.a, mw.w.psych_a), (mw.b, mw.w.psych_b)):
        lesson = services.create_lesson(
            by=psych,
            school_class=side.klass,
            data={"date": dt.date(2026, 9, 8), "period": 3, "topic": "认识情绪", "form": "group"},
        )
        side.extra["lesson"] = lesson
        side.extra["lesson_evidence"] = services.add_evidence(by=psych, lesson=lesson, upload=png())
