"""Training programmes (issue 12 item 3): services, ledger, enrolment, Excel, pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.staff.models import PostType, StaffMember
from xinyu.training.models import (
    Attendance,
    AttendanceMethod,
    Participant,
    Programme,
    ProgrammeKind,
    SessionKind,
    TrainingSession,
)
from xinyu.training.selectors import ledger


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class LedgerTests(PersonaTestCase):
    def test_hours_days_and_assessment_in_two_queries(self) -> None:
        w = self.w
        prog = Programme.objects.create(district=w.district, kind=ProgrammeKind.C_CERTIFICATE, title="C")
        day = dt.date(2026, 3, 2)
        sessions = []
        for i in range(6):
            d = day + dt.timedelta(days=i)
            sessions.append(
                TrainingSession.objects.create(
                    programme=prog, seq=i * 2 + 1, starts_at=at(d, 9), ends_at=at(d, 12), hours=Decimal("3")
                )
            )
            sessions.append(
                TrainingSession.objects.create(
                    programme=prog,
                    seq=i * 2 + 2,
                    starts_at=at(d, 14),
                    ends_at=at(d, 17),
                    hours=Decimal("3.5"),
                )
            )
        exam = TrainingSession.objects.create(
            programme=prog,
            seq=20,
            kind=SessionKind.ASSESSMENT,
            starts_at=at(day + dt.timedelta(days=7), 9),
            ends_at=at(day + dt.timedelta(days=7), 11),
            hours=Decimal("2"),
        )
        members = [
            StaffMember.objects.create(
                district=w.district,
                school=w.school_a,
                staff_no=f"T{i}",
                name=f"老师{i}",
                post_type=PostType.PART_TIME,
            )
            for i in range(3)
        ]
        parts = [
            Participant.objects.create(
                programme=prog, member=m, enrolled_at=timezone.now(), assessment="pending"
            )
            for m in members
        ]
        now = timezone.now()
        # 0: every session; 1: the mornings of five days; 2: nothing (present=False on one).
        for s in [*sessions, exam]:
            Attendance.objects.create(
                session=s, participant=parts[0], method=AttendanceMethod.TRAINER, at=now
            )
        for s in sessions[:10:2]:
            Attendance.objects.create(
                session=s, participant=parts[1], method=AttendanceMethod.TRAINER, at=now
            )
        Attendance.objects.create(
            session=sessions[0], participant=parts[2], present=False, method=AttendanceMethod.TRAINER, at=now
        )
        parts[0].assessment = "passed"
        parts[0].save()
        with self.assertNumQueries(2):
            rows = ledger(prog)
        by = {r.participant_id: r for r in rows}
        self.assertEqual(by[parts[0].pk].hours, Decimal("41.0"))
        self.assertEqual(by[parts[0].pk].course_days, 6)
        self.assertEqual(by[parts[0].pk].programme_course_days, 6)
        self.assertEqual(by[parts[0].pk].assessment, "passed")
        self.assertEqual(by[parts[1].pk].hours, Decimal("15.0"))
        self.assertEqual(by[parts[1].pk].course_days, 5)
        self.assertEqual(by[parts[2].pk].hours, Decimal("0"))
        self.assertEqual(by[parts[2].pk].course_days, 0)
        self.assertEqual(by[parts[2].pk].sessions_attended, 0)
