"""The access matrix's entries and objects for xinyu.outreach (see tests/access_matrix.py).

Side A: a parent-education session of school A (class teachers of school A read it); side B:
one of school B. The district views both and manages neither (school-run); the feedback page
is public: 200 to everyone with the token (the talk is in its window), 404 with a wrong one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from tests.access_matrix import Entry

E = Entry

KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "outreach_talk": lambda mw, s: {"uid": s.extra["talk"].uid},
    "outreach_evidence": lambda mw, s: {"uid": s.extra["talk_file"].uid},
    "outreach_feedback": lambda mw, s: {"uid": s.extra["talk"].uid, "token": s.extra["feedback_token"]},
    "bad_outreach_token": lambda mw, s: {"uid": s.extra["talk"].uid, "token": "0" * 39 + "{n}"},
}

DISTRICT = "district_admin centre_expert"
MANAGE_A = "psych_a leader_a cluster_psych"
VIEW_A = MANAGE_A + " class_teacher_a41 class_teacher_a42 " + DISTRICT
VIEW_B = "psych_b " + DISTRICT
MANAGERS = "psych_a psych_b leader_a cluster_psych " + DISTRICT
VIEWERS = MANAGERS + " class_teacher_a41 class_teacher_a42"
EVERYONE = "@staff code_holder guardian_holder anonymous"


def _302(people: str) -> str:
    return " ".join(f"{p}=302" for p in people.split())


ENTRIES: tuple[Entry, ...] = (
    E("outreach:talks", a=VIEWERS),
    E("outreach:export", a=VIEWERS),
    E("outreach:talk_new", a=MANAGERS),
    E("outreach:progress", a=MANAGERS),
    E("outreach:progress_export", a=MANAGERS),
    E("outreach:talk", "outreach_talk", a=VIEW_A, b=VIEW_B),
    E("outreach:talk_edit", "outreach_talk", a=MANAGE_A, b="psych_b"),
    E("outreach:talk_held", "outreach_talk", a=_302(MANAGE_A), b=_302("psych_b"), post=True),
    E("outreach:talk_cancel", "outreach_talk", a=_302(MANAGE_A), b=_302("psych_b"), post=True),
    E("outreach:evidence_upload", "outreach_talk", a=_302(MANAGE_A), b=_302("psych_b"), post=True),
    E("outreach:evidence_file", "outreach_evidence", a=VIEW_A, b=VIEW_B),
    E(
        "outreach:feedback",
        "outreach_feedback",
        bad_kind="bad_outreach_token",
        public=True,
        a=EVERYONE,
        b=EVERYONE,
    ),
    # the API: the list answers every logged-in persona with what it may see (empty outside);
    # one talk's summary (no comments) like the talk's page
    E("api:op:xinyu_api_outreach_talks", a="@staff"),
    E("api:op:xinyu_api_outreach_summary", "outreach_talk", a=VIEW_A, b=VIEW_B),
)


def build(mw: Any) -> None:
    """Side A's and side B's objects of this app, through the real services, in `side.extra`."""
    from tests.matrix_world import _png
    from xinyu.outreach import services

    w = mw.w
    start = timezone.now() - dt.timedelta(minutes=10)
    for side, psych, school in ((mw.a, w.psych_a, w.school_a), (mw.b, w.psych_b, w.school_b)):
        talk = services.create_talk(
            by=psych,
            district=w.district,
            school=school,
            kind="parent",
            topic="家长课堂",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
        side.extra["talk"] = talk
        side.extra["feedback_token"] = services.feedback_token(talk)
        side.extra["talk_file"] = services.attach_evidence(by=psych, talk=talk, upload=_png())
