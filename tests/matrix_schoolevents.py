"""The access matrix's entries and objects for xinyu.schoolevents (see tests/access_matrix.py).

Viewers of events and summaries: school A's leader and psych teachers (psych_a, cluster_psych),
the district admin and centre expert; B's psych teacher for B. Committee names: the school's
leader and psych teachers, the grade leader and the class teacher of the class — never the
district. Contests: every viewer of the district sees them; the district runs them. Side B's
contest is in the other district (created directly: nobody of the matrix runs that district).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.access_matrix import Entry
from xinyu.schoolevents import services
from xinyu.schoolevents.models import Contest, ContestEvidence, ContestLevel, EventKind

E = Entry

KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "se_school": lambda mw, s: {"uid": s.school.uid},
    "se_class": lambda mw, s: {"uid": s.klass.uid},
    "se_event": lambda mw, s: {"uid": s.extra["se_event"].uid},
    "se_event_evidence": lambda mw, s: {"uid": s.extra["se_event_evidence"].uid},
    "se_member": lambda mw, s: {"uid": s.extra["se_member"].uid},
    "se_contest": lambda mw, s: {"uid": s.extra["se_contest"].uid},
    "se_entry": lambda mw, s: {"uid": s.extra["se_entry"].uid},
    "se_contest_evidence": lambda mw, s: {"uid": s.extra["se_contest_evidence"].uid},
}

VIEWERS = "psych_a psych_b leader_a district_admin centre_expert cluster_psych"
A_VIEW = "psych_a leader_a cluster_psych district_admin centre_expert"
B_VIEW = "psych_b district_admin centre_expert"
A_REC = "psych_a leader_a cluster_psych"
COMMITTEE_A = "psych_a leader_a cluster_psych grade_leader_a4 class_teacher_a41 class_teacher_a42"
CLASS_A = "psych_a leader_a cluster_psych grade_leader_a4 class_teacher_a41"
RUNNERS_302 = "district_admin=302 centre_expert=302"

ENTRIES: tuple[Entry, ...] = (
    E("schoolevents:events", a=VIEWERS),
    E("schoolevents:event_new", a="psych_a psych_b leader_a cluster_psych"),
    E("schoolevents:events_export", a=VIEWERS),
    E("schoolevents:event", "se_event", a=A_VIEW, b=B_VIEW),
    E("schoolevents:event_edit", "se_event", a=A_REC, b="psych_b"),
    E("schoolevents:event_evidence", "se_event_evidence", a=A_VIEW, b=B_VIEW),
    E(
        "schoolevents:committee",
        a="psych_a=302 psych_b=302 leader_a=302 grade_leader_a4=302 class_teacher_a41=302 "
        "class_teacher_a42=302 cluster_psych=302",
    ),
    E("schoolevents:committee_school", "se_school", a=COMMITTEE_A, b="psych_b"),
    E("schoolevents:committee_export", "se_school", a=COMMITTEE_A, b="psych_b"),
    E("schoolevents:committee_class", "se_class", a=CLASS_A, b="psych_b"),
    E(
        "schoolevents:committee_end",
        "se_member",
        a="psych_a=302 leader_a=302 cluster_psych=302 class_teacher_a41=302",
        b="psych_b=302",
        post=True,
    ),
    E("schoolevents:contests", a=VIEWERS),
    E("schoolevents:contests_export", a=VIEWERS),
    E("schoolevents:contest", "se_contest", a=VIEWERS),
    E("schoolevents:contest_export", "se_contest", a=VIEWERS),
    E("schoolevents:entry_result", "se_entry", a=RUNNERS_302, b=RUNNERS_302, post=True),
    E("schoolevents:contest_evidence", "se_contest_evidence", a=VIEWERS),
    E(
        "schoolevents:summary",
        a="psych_a=302 psych_b=302 leader_a=302 district_admin centre_expert cluster_psych",
    ),
    E("schoolevents:summary_export", a=VIEWERS),
    E("schoolevents:school_summary", "se_school", a=A_VIEW, b=B_VIEW),
    E("schoolevents:school_summary_export", "se_school", a=A_VIEW, b=B_VIEW),
    E("api:op:xinyu_api_schoolevents_school_summary", "se_school", a=A_VIEW, b=B_VIEW),
)


def _png() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buf, "PNG")
    return SimpleUploadedFile("minutes.png", buf.getvalue(), "image/png")


def build(mw: Any) -> None:
    """Side A's and side B's objects of this app, through the real services, in `side.extra`."""
    w = mw.w
    contest = services.create_contest(
        by=w.district_admin,
        district=w.district,
        level=ContestLevel.COUNTY,
        title="赛课",
        starts_on=dt.date(2026, 5, 10),
    )
    other = Contest.objects.create(
        district=mw.other_district,
        level=ContestLevel.COUNTY,
        title="外区赛课",
        year=2026,
        starts_on=dt.date(2026, 5, 10),
    )
    other_evidence = ContestEvidence(contest=other)
    from xinyu.kernel.evidence import attach

    attach(other_evidence, _png())
    for side, psych in ((mw.a, w.psych_a), (mw.b, w.psych_b)):
        event = services.create_event(
            by=psych,
            school=side.school,
            kind=EventKind.LEADERSHIP_MEETING,
            title="专题会议",
            date=dt.date(2026, 3, 10),
            attendees="校长、心理教师",
            minutes="纪要",
        )
        side.extra["se_event"] = event
        side.extra["se_event_evidence"] = services.add_event_evidence(by=psych, event=event, upload=_png())
        side.extra["se_member"] = services.appoint_member(
            by=psych, student=side.student, started_on=dt.date(2026, 9, 1)
        )
        side.extra["se_entry"] = services.add_entry(
            by=w.district_admin, contest=contest, school=side.school, teacher_name="老师", lesson_title="情绪"
        )
    mw.a.extra["se_contest"] = contest
    mw.b.extra["se_contest"] = other
    mw.a.extra["se_contest_evidence"] = services.add_contest_evidence(
        by=w.district_admin, contest=contest, upload=_png()
    )
    mw.b.extra["se_contest_evidence"] = other_evidence
