"""Query counts of the counselling pages: pinned, and the same when the district adds schools
that each have a room (zones, opening hours), sessions, group sessions and appointments
(issue 10 item 9; bench/bench_pages.py measures the same at 150,000 students)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from itertools import count

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.counselling import selectors
from xinyu.counselling.models import (
    Appointment,
    AppointmentStatus,
    BookedVia,
    CounsellingRecord,
    GroupSession,
    OpeningSlot,
    Room,
    Zone,
)
from xinyu.org.models import Grade, School, SchoolCategory, SchoolClass, Student, User

SERIAL = count(1)
UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def queries(client: Client, url: str) -> int:
    client.get(url)  # warm: the first request may touch the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def furnish(school: School, pupils: list[Student], counsellor: User, *, day: int = 0) -> Room:
    """A room with two zones and two opening periods (one staffed, one not), a session per
    pupil this month (the first a walk-in), a group session with every pupil and two others,
    a no-show and an upcoming appointment per pupil."""
    now = timezone.now()
    room, _ = Room.objects.get_or_create(
        school=school,
        name="心理辅导室",
        defaults={"location": "教学楼一楼", "mailbox_location": "大厅", "help_email": "q@example.cn"},
    )
    Zone.objects.bulk_create(
        [
            Zone(room=room, kind="individual", area_m2=Decimal("15"), equipment=[]),
            Zone(room=room, kind="group", area_m2=Decimal("60"), equipment=[]),
        ]
    )
    OpeningSlot.objects.bulk_create(
        [
            OpeningSlot(room=room, weekday=0, starts=dt.time(9), ends=dt.time(11), staff=counsellor),
            OpeningSlot(room=room, weekday=2, starts=dt.time(14), ends=dt.time(16)),
        ]
    )
    CounsellingRecord.objects.bulk_create(
        CounsellingRecord(
            school=school,
            student=s,
            counsellor=counsellor,
            held_at=now - dt.timedelta(minutes=5),
            minutes=40,
            walk_in=i == 0,
            category="family" if i % 2 else "learning",
            current_state="x",
            main_problem="x",
            assessment="x",
            analysis="x",
            measures="x",
            effect="x",
            next_step="x",
            created_at=now,
        )
        for i, s in enumerate(pupils)
    )
    group = GroupSession.objects.create(
        school=school,
        room=room,
        counsellor=counsellor,
        held_at=now - dt.timedelta(minutes=5),
        minutes=45,
        topic="考前减压",
        category="learning",
        other_participants=2,
        outcome="x",
        created_at=now,
    )
    group.participants.set(pupils)
    today = timezone.localdate()
    Appointment.objects.bulk_create(
        Appointment(
            room=room,
            school=school,
            student=s,
            date=today + dt.timedelta(days=day + 1 + i)
            if upcoming
            else today - dt.timedelta(days=day + 1 + i),
            starts=dt.time(9, 0),
            ends=dt.time(9, 30),
            status=AppointmentStatus.BOOKED if upcoming else AppointmentStatus.NO_SHOW,
            via=BookedVia.PSYCH,
            staff=counsellor,
            booked_by=counsellor,
            created_at=now,
            updated_at=now,
        )
        for i, s in enumerate(pupils)
        for upcoming in (True, False)
    )
    return room


class GrowingCounselling(PersonaTestCase):
    def pupils(self, school_class: SchoolClass, n: int) -> list[Student]:
        k = next(SERIAL)
        return Student.objects.bulk_create(
            Student(
                student_no=f"G5001532014{k:03d}{i:03d}",
                name=f"学生{k}-{i}",
                gender="F",
                birth_date=dt.date(2014, 5, 1),
                school=school_class.school,
                school_class=school_class,
            )
            for i in range(n)
        )

    def grow(self, schools: int, students: int = 3) -> None:
        """Add `schools` schools to the personas' district and cluster, each furnished with a
        class of `students` students."""
        for _ in range(schools):
            n = next(SERIAL)
            school = School.objects.create(
                district=self.w.district,
                cluster=self.w.cluster,
                code=f"Q{n:03d}",
                name=f"新建{n}学校",
                category=SchoolCategory.RURAL,
                has_primary=True,
            )
            grade = Grade.objects.create(school=school, level=5)
            klass = SchoolClass.objects.create(school=school, grade=grade, number=1)
            furnish(school, self.pupils(klass, students), self.w.psych_a)

    def crowd(self, students: int) -> Room:
        """Furnish school A (again) with `students` more students of 4(1)."""
        self._day = getattr(self, "_day", 0) + 100
        return furnish(
            self.w.school_a, self.pupils(self.w.class_a41, students), self.w.psych_a, day=self._day
        )


# Pinned: session, user, the user's grants, the menu's checks and the page's own reads (the
# rooms with their schools, districts, slots and zones; the statistics' grouped counts). A
# change here is a change in what the page costs: look before raising it.
INDEX_QUERIES = {"district_admin": 10, "leader_a": 9, "psych_a": 13}
STATS_QUERIES = {"district_admin": 14, "leader_a": 13, "psych_a": 15}


class CounsellingPageQueriesTest(GrowingCounselling):
    def counted(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"index": {}, "stats": {}}
        for name in INDEX_QUERIES:
            client = self.client_for(getattr(self.w, name))
            out["index"][name] = queries(client, "/counselling/")
            out["stats"][name] = queries(client, "/counselling/stats/")
        return out

    def test_the_room_list_and_statistics_query_counts_are_pinned(self) -> None:
        self.crowd(2)
        self.grow(schools=2)
        assert self.counted() == {"index": INDEX_QUERIES, "stats": STATS_QUERIES}

    def test_the_query_counts_do_not_grow_with_schools(self) -> None:
        self.crowd(2)
        self.grow(schools=3)
        before = self.counted()
        self.grow(schools=6)  # 3× the schools, rooms, sessions, groups and appointments
        assert self.counted() == before == {"index": INDEX_QUERIES, "stats": STATS_QUERIES}
        rows = self.client_for(self.w.district_admin).get("/counselling/stats/").context["rows"]
        assert len(rows) == 2 + 9

    def test_the_pages_of_a_school_do_not_grow_with_its_students_and_sessions(self) -> None:
        """Every counselling page the district admin, the leader, the psych teacher and the
        class teacher reach costs the same for a school with three times the students,
        sessions, group participants and appointments."""

        def counted() -> dict[tuple[str, str], int]:
            room = Room.objects.get(school=self.w.school_a)
            rec = CounsellingRecord.objects.filter(school=self.w.school_a).first()
            group = GroupSession.objects.filter(school=self.w.school_a).first()
            appt = Appointment.objects.filter(school=self.w.school_a, status="booked").first()
            assert rec and group and appt
            common = [
                "/counselling/",
                "/counselling/stats/",
                f"/counselling/rooms/{room.uid}/",
                f"/counselling/rooms/{room.uid}/poster/",
            ]
            keys = f"/counselling/keys/{self.w.class_a41.uid}/"
            pages = {
                self.w.district_admin: common,
                self.w.leader_a: common,
                self.w.psych_a: [
                    *common,
                    f"/counselling/rooms/{room.uid}/edit/",
                    f"/counselling/rooms/{room.uid}/zones/new/",
                    "/counselling/appointments/",
                    "/counselling/appointments/new/",
                    f"/counselling/appointments/new/?student={self.w.student_a41.uid}",
                    f"/counselling/appointments/{appt.uid}/",
                    "/counselling/records/",
                    f"/counselling/records/{rec.uid}/",
                    f"/counselling/records/new/?student={self.w.student_a41.uid}",
                    f"/counselling/records/new/?appointment={appt.uid}",
                    "/counselling/groups/new/",
                    f"/counselling/groups/{group.uid}/",
                    keys,
                ],
                self.w.class_teacher_a41: [
                    "/counselling/",
                    "/counselling/appointments/",
                    "/counselling/appointments/new/",
                    keys,
                ],
            }
            return {
                (user.username, UID.sub("<uid>", url)): queries(self.client_for(user), url)
                for user, urls in pages.items()
                for url in urls
            }

        self.crowd(3)
        before = counted()
        self.crowd(9)  # 4× the students, sessions, participants and appointments of A
        assert counted() == before


def per_school(school: School, period: selectors.Period, today: dt.date) -> selectors.SchoolStats:
    """The statistics of one school read the plain way (the per-school queries the grouped
    reading replaced): what `counselling_stats` must agree with."""
    held = {"held_at__date__gte": period.first, "held_at__date__lte": period.last}
    rows = list(
        CounsellingRecord.objects.filter(school=school, **held).values_list(
            "student_id", "category", "walk_in"
        )
    )
    groups = list(GroupSession.objects.filter(school=school, **held))
    return selectors.SchoolStats(
        school=school,
        sessions=len(rows),
        students_served=len({r[0] for r in rows}),
        walk_ins=sum(1 for r in rows if r[2]),
        no_shows=Appointment.objects.filter(
            school=school, status=AppointmentStatus.NO_SHOW, date__gte=period.first, date__lte=period.last
        ).count(),
        group_sessions=len(groups),
        group_participants=sum(g.participants.count() + g.other_participants for g in groups),
        open_hours=selectors.open_hours_delivered(list(Room.objects.filter(school=school)), period, today),
        by_category={
            str(selectors.CATEGORY_LABELS[c]): n for c, n in sorted(Counter(r[1] for r in rows).items())
        },
    )


class GroupedStatisticsTest(GrowingCounselling):
    def test_the_grouped_statistics_equal_the_per_school_reading(self) -> None:
        self.crowd(3)
        self.grow(schools=2, students=4)
        long_ago = timezone.now() - dt.timedelta(days=400)
        b = self.w.school_b
        # School B: a session, a group without listed participants and a no-show long ago;
        # a group this month with others only. A new school gets a second room.
        CounsellingRecord.objects.create(
            school=b,
            student=self.w.student_b41,
            counsellor=self.w.psych_b,
            held_at=long_ago,
            minutes=30,
            category="peers",
            created_at=long_ago,
            **dict.fromkeys(
                (
                    "current_state",
                    "main_problem",
                    "assessment",
                    "analysis",
                    "measures",
                    "effect",
                    "next_step",
                ),
                "x",
            ),
        )
        for when in (long_ago, timezone.now() - dt.timedelta(minutes=1)):
            GroupSession.objects.create(
                school=b,
                counsellor=self.w.psych_b,
                held_at=when,
                minutes=45,
                topic="班会",
                category="peers",
                other_participants=5,
                outcome="x",
                created_at=when,
            )
        second = School.objects.filter(code__startswith="Q").order_by("code").first()
        assert second is not None
        room = Room.objects.create(
            school=second, name="二号室", location="x", mailbox_location="x", help_email="r@example.cn"
        )
        OpeningSlot.objects.create(room=room, weekday=0, starts=dt.time(13), ends=dt.time(13, 40))
        OpeningSlot.objects.create(room=room, weekday=4, starts=dt.time(8), ends=dt.time(9, 10))
        schools = list(School.objects.order_by("code"))
        today = timezone.localdate()
        then = timezone.localdate(long_ago)
        for period in (
            selectors.Period.month(today.year, today.month),
            selectors.Period.month(then.year, then.month),
            selectors.Period.term(today.year - 1, 2),
            selectors.Period.term(today.year, 1),
        ):
            with self.subTest(period=period.label):
                grouped = selectors.counselling_stats(schools, period, today)
                assert grouped == [per_school(s, period, today) for s in schools]
        now = selectors.counselling_stats(schools, selectors.Period.month(today.year, today.month), today)
        a = next(r for r in now if r.school == self.w.school_a)
        assert (a.sessions, a.students_served, a.walk_ins, a.group_sessions, a.group_participants) == (
            3,
            3,
            1,
            1,
            5,
        )
        assert next(r for r in now if r.school == b).group_participants == 5
        assert selectors.counselling_stats([], selectors.Period.month(today.year, today.month), today) == []

    def test_the_room_list_reads_the_same_summaries_as_each_room_alone(self) -> None:
        self.crowd(2)
        self.grow(schools=3)
        listed = [selectors.room_summary(r) for r in selectors.rooms_overview(self.w.district_admin)]
        alone = [selectors.room_summary(Room.objects.get(pk=s.room.pk)) for s in listed]
        assert len(listed) == Room.objects.count() == 4
        assert listed == alone
        assert all(len(s.slots) == 2 and len(s.unstaffed) == 1 and s.total_area == 75 for s in listed)
