"""Counselling room operations (SPEC §5): rooms and standards, hours and duty roster, the
public page with students' booking codes, appointments, records, statistics; per-role
visibility (happy path, out of scope → 404 + `denied`), and no notes or diagnostic words
reaching class teachers or leaders."""

from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, TransactionTestCase
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from tests.personas import PersonaTestCase, build_world
from tests.test_screening_pages import FORBIDDEN, visible_text
from xinyu.audit.models import AuditEntry
from xinyu.care.models import Signal, Source, Warning
from xinyu.counselling import selectors, services
from xinyu.counselling.models import (
    Appointment,
    AppointmentStatus,
    BookedVia,
    CounsellingRecord,
    OpeningSlot,
    Room,
)
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message
from xinyu.org.models import Student, StudentKey

NOTE = "父母离异后情绪低落，夜里哭泣"


def make_room(w, *, with_slots: bool = True) -> Room:  # type: ignore[no-untyped-def]
    room = services.save_room(
        by=w.psych_a,
        school=w.school_a,
        name="心理辅导中心",
        location="行政楼三楼",
        mailbox_location="行政楼一楼大厅东侧",
        help_email="xinli@a.example.cn",
        booking_note="扫码或请班主任代约",
    )
    if with_slots:
        for weekday in range(7):
            services.save_slot(
                by=w.psych_a,
                room=room,
                weekday=weekday,
                starts=dt.time(9, 0),
                ends=dt.time(11, 0),
                staff=None if weekday == 6 else w.psych_a,
            )
    return room


def notes(text: str = NOTE) -> services.SessionNotes:
    return services.SessionNotes(
        text, text, "一般心理问题", "家庭变故", "倾听与支持", "有所缓解", "一周后再谈"
    )


def key_for(student: Student, by) -> StudentKey:  # type: ignore[no-untyped-def]
    return next(
        k for k in services.issue_keys(by=by, school_class=student.school_class) if k.student == student
    )


class RoomTest(PersonaTestCase):
    def test_hours_and_unstaffed_periods_are_computed(self) -> None:
        room = make_room(self.w)
        summary = selectors.room_summary(room)
        self.assertEqual(summary.weekly_hours, 14.0)
        self.assertTrue(summary.meets_hours)
        self.assertEqual([s.weekday for s in summary.unstaffed], [6])
        OpeningSlot.objects.filter(room=room, weekday__gte=2).delete()
        summary = selectors.room_summary(room)
        self.assertEqual(summary.weekly_hours, 4.0)
        self.assertFalse(summary.meets_hours)  # RC: at least 10 hours a week
        page = self.client_for(self.w.psych_a).get(f"/counselling/rooms/{room.uid}/")
        self.assertContains(page, 'id="hours-below"')

    def test_zone_area_and_equipment_are_compared_with_the_standard(self) -> None:
        room = make_room(self.w, with_slots=False)
        zone = services.save_zone(
            by=self.w.psych_a,
            room=room,
            kind="individual",
            area_m2=Decimal("8"),
            equipment=["茶几", "面巾纸"],
        )
        view = selectors.room_summary(room).zones[0]
        self.assertIn("个别辅导室面积低于标准", view.area_note)
        self.assertIn("挂钟", view.missing)
        self.assertNotIn("茶几", view.missing)
        services.save_zone(by=self.w.psych_a, room=room, zone=zone, kind="individual", area_m2=Decimal("12"))
        self.assertEqual(selectors.room_summary(room).zones[0].area_note, "")

    def test_bad_input_is_refused_with_a_bilingual_message_naming_the_field(self) -> None:
        room = make_room(self.w, with_slots=False)
        client = self.client_for(self.w.psych_a)
        page = client.post(f"/counselling/rooms/{room.uid}/zones/new/", {"kind": "office", "area_m2": "-3"})
        self.assertContains(page, "面积（m²）：须大于 0。 / Area (m²): must be above 0.")
        self.assertEqual(room.zones.count(), 0)
        page = client.post(
            f"/counselling/rooms/new/?school={self.w.school_a.uid}",
            {"name": "二号室", "location": "x", "help_email": "a@b.cn", "mailbox_location": ""},
        )
        self.assertContains(page, "心理信箱位置：必填。 / Mailbox location: required.")
        with self.assertRaisesMessage(ServiceError, "设备：不在清单中：沙发床"):
            services.save_zone(
                by=self.w.psych_a, room=room, kind="office", area_m2=Decimal(20), equipment=["沙发床"]
            )
        with self.assertRaisesMessage(ServiceError, "开放时间：与已有时段重叠"):
            services.save_slot(
                by=self.w.psych_a, room=room, weekday=0, starts=dt.time(9), ends=dt.time(10), staff=None
            )
            services.save_slot(
                by=self.w.psych_a,
                room=room,
                weekday=0,
                starts=dt.time(9, 30),
                ends=dt.time(11),
                staff=None,
            )
        with self.assertRaisesMessage(ServiceError, "值班人员"):
            services.save_slot(
                by=self.w.psych_a,
                room=room,
                weekday=1,
                starts=dt.time(9),
                ends=dt.time(10),
                staff=self.w.psych_b,
            )

    def test_photos_are_checked_and_served_only_in_scope(self) -> None:
        room = make_room(self.w, with_slots=False)
        buf = io.BytesIO()
        Image.new("RGB", (20, 10), "white").save(buf, "PNG")
        client = self.client_for(self.w.psych_a)
        client.post(
            f"/counselling/rooms/{room.uid}/photos/",
            {"photo": SimpleUploadedFile("room.png", buf.getvalue(), "image/png"), "caption": "个别辅导室"},
        )
        fake = SimpleUploadedFile("x.png", b"not an image at all", "image/png")
        response = client.post(f"/counselling/rooms/{room.uid}/photos/", {"photo": fake}, follow=True)
        self.assertContains(response, "照片：文件不是有效的图片。")
        self.assertEqual(room.photos.count(), 1)
        photo = room.photos.get()
        self.assertEqual(
            b"".join(client.get(f"/counselling/photos/{photo.uid}/").streaming_content)[:4], b"\x89PNG"
        )
        self.assertEqual(
            self.client_for(self.w.leader_a).get(f"/counselling/photos/{photo.uid}/").status_code, 200
        )
        self.assertEqual(
            self.client_for(self.w.psych_b).get(f"/counselling/photos/{photo.uid}/").status_code, 404
        )

    def test_room_pages_per_role(self) -> None:
        room = make_room(self.w)
        url = f"/counselling/rooms/{room.uid}/"
        for user in (self.w.psych_a, self.w.leader_a, self.w.district_admin):
            with self.subTest(user=user.username):
                self.assertContains(self.client_for(user).get(url), "行政楼一楼大厅东侧")
        self.assertNotContains(self.client_for(self.w.leader_a).get(url), "slot-form")  # read only
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.centre_expert):
            with self.subTest(user=user.username):
                before = AuditEntry.objects.filter(action="denied", object_type="room").count()
                self.assertEqual(self.client_for(user).get(url).status_code, 404)
                self.assertEqual(
                    AuditEntry.objects.filter(action="denied", object_type="room").count(), before + 1
                )
        self.assertEqual(self.client_for(self.w.leader_a).get(f"{url}edit/").status_code, 404)

    def test_poster_has_hours_hotlines_email_and_a_qr_code(self) -> None:
        room = make_room(self.w)
        page = self.client_for(self.w.psych_a).get(f"/counselling/rooms/{room.uid}/poster/")
        html = page.content.decode()
        for text in (
            "12355",
            "12320",
            "xinli@a.example.cn",
            "09:00–11:00",
            "data:image/svg+xml",
            "/room/A001/",
        ):
            self.assertIn(text, html)


class PublicBookingTest(PersonaTestCase):
    def setUp(self) -> None:
        cache.clear()
        self.room = make_room(self.w)
        self.key = key_for(self.w.student_a41, self.w.class_teacher_a41)

    def _enter(self, client: Client, code: str) -> object:
        return client.post("/room/A001/", {"code": code})

    def test_public_notice_needs_no_login(self) -> None:
        page = Client().get("/room/A001/")
        self.assertContains(page, "12355")
        self.assertContains(page, "行政楼一楼大厅东侧")
        self.assertContains(page, "09:00–11:00")
        self.assertEqual(Client().get("/room/NOPE/").status_code, 404)

    def test_student_books_sees_and_cancels_their_own_appointment(self) -> None:
        client = Client()
        response = self._enter(client, self.key.code.lower())  # case and spacing do not matter
        self.assertRedirects(response, "/room/A001/me/")
        unit = services.free_units(self.room)[0]
        value = f"{unit.date:%Y-%m-%d}|{unit.starts:%H:%M}"
        response = client.post("/room/A001/me/", {"room": str(self.room.uid), "unit": value}, follow=True)
        self.assertContains(response, 'id="booked"')
        appointment = Appointment.objects.get(student=self.w.student_a41)
        self.assertEqual((appointment.via, appointment.staff), (BookedVia.STUDENT, self.w.psych_a))
        self.assertContains(response, "张*明")
        self.assertNotContains(response, "张小明")
        # the staff on duty is told (no name in the message: an SMS leaves the system)
        msg = Message.objects.get(recipient=self.w.psych_a, kind="counselling_appointment", channel="in_app")
        self.assertNotIn("张", msg.body + msg.subject)
        # another student's session sees nothing of it
        other = Client()
        self._enter(other, key_for(self.w.student_a41_2, self.w.class_teacher_a41).code)
        self.assertNotContains(other.get("/room/A001/me/"), f"{appointment.uid}")
        self.assertEqual(other.post(f"/room/A001/me/cancel/{appointment.uid}/").status_code, 404)
        client.post(f"/room/A001/me/cancel/{appointment.uid}/")
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.CANCELLED)

    def test_wrong_codes_are_rate_limited_and_revoked_codes_stop_working(self) -> None:
        client = Client()
        for _ in range(20):
            self.assertContains(self._enter(client, "WRONG234"), "没有找到这个预约码")
        self.assertContains(self._enter(client, self.key.code), "尝试次数太多")
        cache.clear()
        new = services.reissue_key(by=self.w.class_teacher_a41, student=self.w.student_a41)
        self.assertContains(self._enter(Client(), self.key.code), "没有找到这个预约码")
        self.assertRedirects(self._enter(Client(), new.code), "/room/A001/me/")
        # a code works only on its own school's page
        self.assertContains(Client().post("/room/B001/", {"code": new.code}), "12355")

    def test_a_student_holds_at_most_two_upcoming_appointments(self) -> None:
        units = services.free_units(self.room)
        for unit in units[:2]:
            services.book_appointment(
                student=self.w.student_a41, room=self.room, date=unit.date, starts=unit.starts, key=self.key
            )
        with self.assertRaisesMessage(ServiceError, "你已有 2 个预约"):
            services.book_appointment(
                student=self.w.student_a41,
                room=self.room,
                date=units[2].date,
                starts=units[2].starts,
                key=self.key,
            )

    def test_key_slips_per_role(self) -> None:
        url = f"/counselling/keys/{self.w.class_a41.uid}/"
        for user in (self.w.class_teacher_a41, self.w.grade_leader_a4, self.w.psych_a):
            with self.subTest(user=user.username):
                self.assertContains(self.client_for(user).get(url), self.key.printed)
        for user in (self.w.psych_b, self.w.leader_a, self.w.district_admin):
            with self.subTest(user=user.username):
                self.assertEqual(self.client_for(user).get(url).status_code, 404)
        other_class = f"/counselling/keys/{self.w.class_a42.uid}/"
        self.assertEqual(self.client_for(self.w.class_teacher_a41).get(other_class).status_code, 404)
        self.assertTrue(
            AuditEntry.objects.filter(action="denied", object_id=str(self.w.class_a42.uid)).exists()
        )


class AppointmentTest(PersonaTestCase):
    def setUp(self) -> None:
        self.room = make_room(self.w)
        self.units = services.free_units(self.room)

    def book(self, by, student=None, n: int = 0) -> Appointment:  # type: ignore[no-untyped-def]
        unit = self.units[n]
        return services.book_appointment(
            student=student or self.w.student_a41, room=self.room, date=unit.date, starts=unit.starts, by=by
        )

    def test_teacher_books_for_own_class_only_and_sees_only_what_they_booked(self) -> None:
        mine = self.book(self.w.class_teacher_a41)
        self.assertEqual(mine.via, BookedVia.TEACHER)
        with self.assertRaisesMessage(ServiceError, "您没有此操作的权限"):
            self.book(self.w.class_teacher_a41, self.w.student_a42, 1)
        scheduled = self.book(self.w.psych_a, self.w.student_a41_2, 2)
        self.assertEqual(scheduled.via, BookedVia.PSYCH)
        teacher = self.client_for(self.w.class_teacher_a41)
        page = teacher.get("/counselling/appointments/")
        self.assertContains(page, str(mine.uid))
        self.assertNotContains(page, str(scheduled.uid))
        self.assertEqual(teacher.get(f"/counselling/appointments/{scheduled.uid}/").status_code, 404)
        self.assertTrue(AuditEntry.objects.filter(action="denied", object_id=str(scheduled.uid)).exists())
        psych = self.client_for(self.w.psych_a).get("/counselling/appointments/")
        self.assertContains(psych, str(mine.uid))
        self.assertContains(psych, str(scheduled.uid))
        self.assertEqual(
            self.client_for(self.w.psych_b).get(f"/counselling/appointments/{mine.uid}/").status_code, 404
        )

    def test_a_taken_time_gives_a_clear_message(self) -> None:
        self.book(self.w.psych_a)
        with self.assertRaisesMessage(ServiceError, "该时段刚刚被预约"):
            self.book(self.w.class_teacher_a41, self.w.student_a41_2)
        self.assertNotIn(
            (self.units[0].date, self.units[0].starts),
            {(u.date, u.starts) for u in services.free_units(self.room)},
        )

    def test_times_outside_the_hours_or_in_the_past_are_refused(self) -> None:
        date = self.units[0].date
        with self.assertRaisesMessage(ServiceError, "不在开放时间内"):
            services.book_appointment(
                student=self.w.student_a41,
                room=self.room,
                date=date,
                starts=dt.time(9, 10),
                by=self.w.psych_a,
            )
        past = timezone.localdate() - dt.timedelta(days=1)
        with self.assertRaisesMessage(ServiceError, "该时段已过"):
            services.book_appointment(
                student=self.w.student_a41, room=self.room, date=past, starts=dt.time(9), by=self.w.psych_a
            )
        with self.assertRaisesMessage(ServiceError, "学生：不属于"):
            services.book_appointment(
                student=self.w.student_b41, room=self.room, date=date, starts=dt.time(9), by=self.w.psych_b
            )

    def test_cancel_frees_the_time_and_reschedule_moves_it(self) -> None:
        first = self.book(self.w.class_teacher_a41)
        moved = services.reschedule_appointment(
            appointment=first,
            date=self.units[3].date,
            starts=self.units[3].starts,
            by=self.w.class_teacher_a41,
        )
        first.refresh_from_db()
        self.assertEqual((first.status, first.moved_to), (AppointmentStatus.RESCHEDULED, moved))
        self.book(self.w.psych_a, self.w.student_a41_2)  # the first time is free again
        services.cancel_appointment(appointment=moved, by=self.w.psych_a)
        moved.refresh_from_db()
        self.assertEqual(moved.status, AppointmentStatus.CANCELLED)
        with self.assertRaisesMessage(ServiceError, "已不能取消"):
            services.cancel_appointment(appointment=moved, by=self.w.psych_a)

    def test_no_show_only_after_the_start_and_only_by_the_psych_teacher(self) -> None:
        future = self.book(self.w.psych_a)
        with self.assertRaisesMessage(ServiceError, "预约时间未到"):
            services.mark_no_show(by=self.w.psych_a, appointment=future)
        now = timezone.localtime()
        past = Appointment.objects.create(
            room=self.room,
            school=self.w.school_a,
            student=self.w.student_a41,
            date=now.date() - dt.timedelta(days=1),
            starts=dt.time(9),
            ends=dt.time(9, 40),
            via=BookedVia.PSYCH,
            created_at=now,
            updated_at=now,
        )
        with self.assertRaisesMessage(ServiceError, "您没有此操作的权限"):
            services.mark_no_show(by=self.w.class_teacher_a41, appointment=past)
        services.mark_no_show(by=self.w.psych_a, appointment=past)
        past.refresh_from_db()
        self.assertEqual(past.status, AppointmentStatus.NO_SHOW)

    def test_reminders_go_once_to_the_staff_on_duty_and_the_teacher_who_booked(self) -> None:
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        unit = next(u for u in self.units if u.date == tomorrow)
        appointment = services.book_appointment(
            student=self.w.student_a41,
            room=self.room,
            date=unit.date,
            starts=unit.starts,
            by=self.w.class_teacher_a41,
        )
        self.assertEqual(services.send_reminders(), 1)
        self.assertEqual(services.send_reminders(), 0)
        reminded = set(
            Message.objects.filter(kind="counselling_reminder", channel="in_app").values_list(
                "recipient__username", flat=True
            )
        )
        self.assertEqual(reminded, {"psych_a", "class_teacher_a41"})
        appointment.refresh_from_db()
        self.assertIsNotNone(appointment.reminded_at)


class ConcurrentBookingTest(TransactionTestCase):
    """Two requests for the last free time at once: the database decides, exactly one wins."""

    def test_two_concurrent_bookings_of_the_last_slot(self) -> None:
        w = build_world()
        room = make_room(w, with_slots=False)
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        services.save_slot(
            by=w.psych_a,
            room=room,
            weekday=tomorrow.weekday(),
            starts=dt.time(9),
            ends=dt.time(9, 40),
            staff=w.psych_a,
        )
        last = [u for u in services.free_units(room) if u.date == tomorrow]
        self.assertEqual(len(last), 1)
        barrier = threading.Barrier(2)
        results: list[str] = []

        def attempt(student: Student, by) -> None:  # type: ignore[no-untyped-def]
            try:
                barrier.wait()
                services.book_appointment(student=student, room=room, date=tomorrow, starts=dt.time(9), by=by)
                results.append("ok")
            except ServiceError as exc:
                results.append(str(exc))
            finally:
                connection.close()

        threads = [
            threading.Thread(target=attempt, args=(w.student_a41, w.class_teacher_a41)),
            threading.Thread(target=attempt, args=(w.student_a41_2, w.psych_a)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(r[:2] for r in results), ["ok", "该时"])
        self.assertEqual(Appointment.objects.filter(room=room, date=tomorrow, status="booked").count(), 1)


class RecordTest(PersonaTestCase):
    def setUp(self) -> None:
        self.room = make_room(self.w)
        unit = services.free_units(self.room)[0]
        self.appointment = services.book_appointment(
            student=self.w.student_a41, room=self.room, date=unit.date, starts=unit.starts, by=self.w.psych_a
        )

    def write(self, **kwargs: object) -> CounsellingRecord:
        args: dict[str, object] = {
            "by": self.w.psych_a,
            "student": self.w.student_a41,
            "held_at": timezone.now() - dt.timedelta(minutes=50),
            "minutes": 40,
            "category": "family",
            "notes": notes(),
        }
        return services.record_session(**{**args, **kwargs})  # type: ignore[arg-type]

    def test_psych_teacher_records_an_appointment_through_the_page(self) -> None:
        client = self.client_for(self.w.psych_a)
        url = f"/counselling/records/new/?appointment={self.appointment.uid}"
        data = {
            "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "minutes": "40",
            "category": "family",
            **{f: NOTE for f in services.SessionNotes.LABELS},
        }
        missing = client.post(url, {**data, "next_step": ""})
        self.assertContains(missing, "下一步：必填。 / Next step: required.")
        response = client.post(url, data)
        rec = CounsellingRecord.objects.get()
        self.assertRedirects(response, f"/counselling/records/{rec.uid}/")
        self.appointment.refresh_from_db()
        self.assertEqual(self.appointment.status, AppointmentStatus.DONE)
        self.assertFalse(rec.walk_in)
        self.assertContains(client.get(f"/counselling/records/{rec.uid}/"), NOTE)
        self.assertTrue(
            AuditEntry.objects.filter(
                action="view", object_id=str(rec.uid), student=self.w.student_a41
            ).exists()
        )

    def test_only_the_schools_psych_teachers_see_records(self) -> None:
        rec = self.write()
        url = f"/counselling/records/{rec.uid}/"
        for user in (
            self.w.psych_b,
            self.w.leader_a,
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
            self.w.district_admin,
            self.w.centre_expert,
        ):
            with self.subTest(user=user.username):
                self.assertEqual(self.client_for(user).get(url).status_code, 404)
                self.assertTrue(
                    AuditEntry.objects.filter(
                        action="denied", object_id=str(rec.uid), username=user.username
                    ).exists()
                )
                listing = self.client_for(user).get("/counselling/records/")
                if user == self.w.psych_b:  # their own school's (empty) list
                    self.assertNotContains(listing, str(rec.uid))
                else:
                    self.assertEqual(listing.status_code, 404)
        with self.assertRaisesMessage(ServiceError, "您没有此操作的权限"):
            self.write(by=self.w.psych_b)
        with self.assertRaisesMessage(ServiceError, "您没有此操作的权限"):
            self.write(by=self.w.class_teacher_a41)

    def test_walk_in_with_risk_raises_an_urgent_warning_in_one_click(self) -> None:
        rec = self.write(risk_self_harm=True)
        self.assertTrue(rec.walk_in)
        client = self.client_for(self.w.psych_a)
        self.assertContains(client.get(f"/counselling/records/{rec.uid}/"), 'id="raise-warning"')
        client.post(f"/counselling/records/{rec.uid}/warn/")
        warning = Warning.objects.get(student=self.w.student_a41)
        self.assertEqual(warning.level, "urgent")
        signal = Signal.objects.get(warning=warning)
        self.assertEqual(
            (signal.source, signal.ref, signal.code), (Source.COUNSELLING_RISK, str(rec.uid), "self_harm")
        )
        rec.refresh_from_db()
        self.assertEqual(rec.warning, warning)
        self.assertContains(client.get(f"/counselling/records/{rec.uid}/"), f"/care/warnings/{warning.uid}/")
        # The class teacher is told through the neutral task, never the notes.
        from xinyu.care.models import Task

        self.assertEqual(Task.objects.get(student=self.w.student_a41).school_class, self.w.class_a41)
        tasks_page = self.client_for(self.w.class_teacher_a41).get("/care/tasks/").content.decode()
        self.assertIn("请与心理教师联系", tasks_page)
        self.assertNotIn("自伤", tasks_page)
        no_risk = self.write()
        with self.assertRaisesMessage(ServiceError, "未勾选风险"):
            services.raise_risk_warning(by=self.w.psych_a, rec=no_risk)

    def test_group_session_with_participants_and_outcome(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.post(
            "/counselling/groups/new/",
            {
                "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "minutes": "45",
                "topic": "考前减压",
                "category": "learning",
                "participants": f"{self.w.student_a41.student_no}\n{self.w.student_a42.student_no}",
                "other_participants": "3",
                "outcome": "学生学会了腹式呼吸",
            },
        )
        self.assertEqual(response.status_code, 302)
        page = client.get(response["Location"])
        self.assertContains(page, "王小刚")
        self.assertContains(page, "腹式呼吸")
        bad = client.post(
            "/counselling/groups/new/",
            {
                "held_at": "2026-01-01T10:00",
                "minutes": "45",
                "topic": "x",
                "category": "learning",
                "participants": self.w.student_b41.student_no,
                "other_participants": "0",
                "outcome": "y",
            },
        )
        self.assertContains(bad, "本校没有这些学籍号")
        self.assertEqual(self.client_for(self.w.psych_b).get(response["Location"]).status_code, 404)


class StatsAndSweepTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.room = make_room(w)
        for student, category in (
            (w.student_a41, "family"),
            (w.student_a41, "family"),
            (w.student_a42, "learning"),
        ):
            services.record_session(
                by=w.psych_a,
                student=student,
                held_at=timezone.now() - dt.timedelta(minutes=5),
                minutes=40,
                category=category,
                notes=notes("我不想活了，自伤的念头"),
                risk_self_harm=True,
            )
        unit = services.free_units(cls.room)[0]
        services.book_appointment(
            student=w.student_a41, room=cls.room, date=unit.date, starts=unit.starts, by=w.class_teacher_a41
        )

    def test_statistics_per_role(self) -> None:
        month = timezone.localdate().strftime("%Y-%m")
        for user in (self.w.psych_a, self.w.leader_a, self.w.district_admin):
            with self.subTest(user=user.username):
                page = self.client_for(user).get(f"/counselling/stats/?period={month}")
                row = next(r for r in page.context["counted"] if r.school == self.w.school_a)
                self.assertEqual((row.sessions, row.students_served), (3, 2))
                self.assertEqual(row.by_category, {"家庭": 2, "学习与考试": 1})
                # Shown at every level with small cells hidden (issue 11 item 7).
                shown = next(r for r in page.context["rows"] if r.school == self.w.school_a)
                self.assertEqual(
                    (shown.measures["sessions"], shown.measures["students_served"]), ("<5", "<5")
                )
                self.assertEqual(shown.categories, ["<5", "<5"])
                text = visible_text(page.content.decode())
                self.assertNotIn("张小明", text)
                self.assertNotIn("自伤", text)
        district = self.client_for(self.w.district_admin).get(f"/counselling/stats/?period={month}")
        self.assertEqual({r.school.code for r in district.context["rows"]}, {"A001", "B001"})
        leader = self.client_for(self.w.leader_a).get(f"/counselling/stats/?period={month}")
        self.assertEqual([r.school.code for r in leader.context["rows"]], ["A001"])
        for user in (self.w.class_teacher_a41, self.w.grade_leader_a4, self.w.centre_expert):
            with self.subTest(user=user.username):
                self.assertEqual(self.client_for(user).get("/counselling/stats/").status_code, 404)
                self.assertTrue(
                    AuditEntry.objects.filter(
                        action="denied", username=user.username, object_type="counselling statistics"
                    ).exists()
                )

    def test_term_periods_and_open_hours_delivered(self) -> None:
        term = selectors.Period.parse("2025-T2", timezone.localdate())
        self.assertEqual((term.first, term.last), (dt.date(2026, 2, 1), dt.date(2026, 7, 31)))
        march = selectors.Period.parse("2026-03", timezone.localdate())
        hours = selectors.open_hours_delivered([self.room], march, dt.date(2026, 12, 31))
        self.assertEqual(hours, 31 * 2.0)  # two hours every day of March

    def test_excel_and_pdf_exports_are_aggregates_and_audited(self) -> None:
        month = timezone.localdate().strftime("%Y-%m")
        client = self.client_for(self.w.leader_a)
        xlsx = client.get(f"/counselling/stats/?period={month}&format=xlsx")
        ws = load_workbook(io.BytesIO(xlsx.content)).active
        rows = list(ws.iter_rows(values_only=True))
        self.assertEqual(rows[1][:3], ("学校", "个别辅导人次", "服务学生人数"))
        self.assertEqual(rows[2][:3], ("甲小学", "<5", "<5"))  # 3 sessions, 2 students: small cells
        flat = " ".join(str(c) for r in rows for c in r)
        self.assertNotIn("张小明", flat)
        pdf = client.get(f"/counselling/stats/?period={month}&format=pdf")
        self.assertEqual(pdf.content[:4], b"%PDF")
        self.assertEqual(
            AuditEntry.objects.filter(
                action="export", username="leader_a", object_type="counselling_stats"
            ).count(),
            2,
        )

    def test_no_notes_or_diagnostic_words_reach_teachers_or_leaders(self) -> None:
        pages = {
            self.w.class_teacher_a41: [
                "/counselling/",
                "/counselling/appointments/",
                f"/counselling/keys/{self.w.class_a41.uid}/",
            ],
            self.w.grade_leader_a4: ["/counselling/", "/counselling/appointments/"],
            self.w.leader_a: ["/counselling/", f"/counselling/rooms/{self.room.uid}/", "/counselling/stats/"],
        }
        appointment = Appointment.objects.get(booked_by=self.w.class_teacher_a41)
        pages[self.w.class_teacher_a41].append(f"/counselling/appointments/{appointment.uid}/")
        for user, urls in pages.items():
            for url in urls:
                with self.subTest(user=user.username, url=url):
                    response = self.client_for(user).get(url)
                    self.assertEqual(response.status_code, 200)
                    text = visible_text(response.content.decode())
                    for word in FORBIDDEN + ["不想活", "Record the session", "记录"]:
                        self.assertNotIn(word, text)


class StudentAsksForHelpTest(PersonaTestCase):
    """A student's own request (self-referral) reaches the psych teacher as a warning through
    the one door; asking twice the same day adds nothing; nobody else's data is shown."""

    def setUp(self) -> None:
        cache.clear()
        self.room = make_room(self.w)
        self.key = key_for(self.w.student_a41, self.w.class_teacher_a41)

    def test_ask_for_help_raises_one_warning_and_tells_the_psych_teacher(self) -> None:
        client = Client()
        client.post("/room/A001/", {"code": self.key.code})
        page = client.get("/room/A001/me/")
        self.assertContains(page, 'data-testid="ask-help"')
        response = client.post("/room/A001/me/help/")
        self.assertRedirects(response, "/room/A001/me/?asked=1", fetch_redirect_response=False)
        client.post("/room/A001/me/help/")  # twice: still one signal
        warning = Warning.objects.get(student=self.w.student_a41)
        self.assertEqual(list(warning.signals.values_list("source", flat=True)), [Source.SELF_REFERRAL])
        told = Message.objects.filter(kind="self_referral")
        self.assertEqual({m.recipient_id for m in told}, {self.w.psych_a.pk})
        self.assertNotIn(self.w.student_a41.name, " ".join(m.body for m in told))

    def test_without_a_code_nothing_happens(self) -> None:
        response = Client().post("/room/A001/me/help/")
        self.assertRedirects(response, "/room/A001/", fetch_redirect_response=False)
        self.assertFalse(Warning.objects.exists())


VALUE_RE = r'name="held_at" value="([^"]*)"'


class DateTimeLocalTest(PersonaTestCase):
    """Issue 10, item 12: a datetime-local input accepts only 2026-12-01T16:00; any other
    rendering (2026/12/01 16:00) arrives empty in Chromium, so the form would need retyping."""

    def setUp(self) -> None:
        self.room = make_room(self.w)

    def _value(self, html: str) -> str:
        import re

        match = re.search(VALUE_RE, html)
        self.assertIsNotNone(match, html[:400])
        assert match is not None
        value = match.group(1)
        self.assertRegex(value, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
        return value

    def test_every_datetime_local_input_renders_a_value_that_parses_and_round_trips(self) -> None:
        from xinyu.counselling.forms import GroupForm, RecordForm
        from xinyu.kernel.forms import DATETIME_LOCAL, local_input

        at = timezone.make_aware(dt.datetime(2026, 12, 1, 16, 0))
        for form_class in (RecordForm, GroupForm):
            with self.subTest(form=form_class.__name__):
                for initial in (at, local_input(at)):  # a moment or the view's text
                    rendered = str(form_class(initial={"held_at": initial})["held_at"])
                    self.assertIn('type="datetime-local"', rendered)
                    value = self._value(rendered)
                    self.assertEqual(value, "2026-12-01T16:00")
                    self.assertEqual(
                        dt.datetime.strptime(value, DATETIME_LOCAL), dt.datetime(2026, 12, 1, 16)
                    )
                    bound = form_class({"held_at": value})
                    bound.is_valid()
                    self.assertNotIn("held_at", bound.errors)
                    self.assertEqual(bound.cleaned_data["held_at"], at)
                    # A form shown again after an error keeps the value as typed.
                    self.assertEqual(self._value(str(bound["held_at"])), value)

    def test_the_record_page_submits_its_own_time_unchanged(self) -> None:
        client = self.client_for(self.w.psych_a)
        unit = services.free_units(self.room)[0]
        appointment = services.book_appointment(
            student=self.w.student_a41, room=self.room, date=unit.date, starts=unit.starts, by=self.w.psych_a
        )
        for url in (
            f"/counselling/records/new/?student={self.w.student_a42.uid}",
            f"/counselling/records/new/?appointment={appointment.uid}",
        ):
            with self.subTest(url=url):
                value = self._value(client.get(url).content.decode())
                data = {"held_at": value, "minutes": "40", "category": "family"}
                response = client.post(url, {**data, **{f: NOTE for f in services.SessionNotes.LABELS}})
                self.assertEqual(response.status_code, 302, response.content.decode()[-600:])
                rec = CounsellingRecord.objects.get(uid=response["Location"].rstrip("/").split("/")[-1])
                self.assertEqual(timezone.localtime(rec.held_at).strftime("%Y-%m-%dT%H:%M"), value)

    def test_the_group_page_submits_its_own_time_unchanged(self) -> None:
        from xinyu.counselling.models import GroupSession

        client = self.client_for(self.w.psych_a)
        value = self._value(client.get("/counselling/groups/new/").content.decode())
        response = client.post(
            "/counselling/groups/new/",
            {
                "held_at": value,
                "minutes": "45",
                "topic": "考前减压",
                "category": "learning",
                "participants": self.w.student_a41.student_no,
                "other_participants": "0",
                "outcome": "学会了放松",
            },
        )
        self.assertEqual(response.status_code, 302)
        session = GroupSession.objects.get()
        self.assertEqual(timezone.localtime(session.held_at).strftime("%Y-%m-%dT%H:%M"), value)


class ServiceContractTest(PersonaTestCase):
    """One error type with both languages and the field; `by` as the actor; the audit role
    derived by the service."""

    def setUp(self) -> None:
        self.room = make_room(self.w)

    def test_refusals_carry_chinese_english_and_the_field(self) -> None:
        cases = [
            (lambda: self.record(minutes=3), "minutes"),
            (lambda: self.record(category="diagnosis"), "category"),
            (lambda: self.record(held_at=timezone.now() + dt.timedelta(days=1)), "held_at"),
            (
                lambda: services.save_slot(
                    by=self.w.psych_a,
                    room=self.room,
                    weekday=9,
                    starts=dt.time(9),
                    ends=dt.time(10),
                    staff=None,
                ),
                "weekday",
            ),
            (
                lambda: services.book_appointment(
                    student=self.w.student_a41,
                    room=self.room,
                    date=timezone.localdate() + dt.timedelta(days=1),
                    starts=dt.time(20),
                    by=self.w.psych_a,
                ),
                "unit",
            ),
            (
                lambda: services.save_room(
                    by=self.w.psych_a,
                    school=self.w.school_a,
                    name=" ",
                    location="x",
                    mailbox_location="x",
                    help_email="a@b.cn",
                ),
                "name",
            ),
        ]
        for call, field in cases:
            with self.subTest(field=field):
                with self.assertRaises(ServiceError) as caught:
                    call()
                error = caught.exception
                self.assertEqual(error.field, field)
                self.assertTrue(error.zh and error.en and error.zh != error.en, (error.zh, error.en))
                self.assertEqual(str(error), f"{error.zh} / {error.en}")
        self.assertFalse(hasattr(services, "CounsellingError"))

    def record(self, **kwargs: object) -> CounsellingRecord:
        args: dict[str, object] = {
            "by": self.w.psych_a,
            "student": self.w.student_a41,
            "held_at": timezone.now() - dt.timedelta(minutes=50),
            "minutes": 40,
            "category": "family",
            "notes": notes(),
        }
        return services.record_session(**{**args, **kwargs})  # type: ignore[arg-type]

    def test_the_audit_row_names_the_role_the_service_derives(self) -> None:
        rec = self.record()
        row = AuditEntry.objects.get(action="create", object_id=str(rec.uid))
        self.assertEqual((row.username, row.role), ("psych_a", "psych_teacher"))
        key_for(self.w.student_a41, self.w.class_teacher_a41)
        slips = AuditEntry.objects.get(object_id=str(self.w.class_a41.uid), username="class_teacher_a41")
        self.assertEqual(slips.role, "class_teacher")

    def test_the_stats_workbook_neutralises_formulas_and_names_the_exporter(self) -> None:
        from xinyu.counselling import reports
        from xinyu.org.models import School

        period = selectors.Period.parse("2026-03", timezone.localdate())
        counted = [selectors.SchoolStats(school=School(name='=HYPERLINK("http://x")'), sessions=10)]
        rows = selectors.shown_stats(counted, [], threshold=5)
        for by in (self.w.leader_a, None):
            with self.subTest(by=by):
                ws = load_workbook(io.BytesIO(reports.stats_xlsx(rows, [], period, by=by))).active
                assert ws is not None
                self.assertIn("心理辅导统计 2026-03", str(ws["A1"].value))
                self.assertEqual(("leader_a" in str(ws["A1"].value)), by is not None)
                self.assertEqual(ws["A2"].value, "学校")
                self.assertEqual(ws["A3"].value, '=HYPERLINK("http://x")')
                self.assertEqual(ws["A3"].data_type, "s")  # text, never a formula
                self.assertEqual(ws["B3"].value, 10)


class StudentKeyLookupTest(PersonaTestCase):
    """The one student-key lookup (xinyu.org.keys), which counselling and the mailbox share;
    the model moved to org by state only (its table and constraint are the same)."""

    def test_lookup_normalises_and_refuses_revoked_foreign_and_left_students(self) -> None:
        from xinyu.org.keys import find_key, student_for_key

        key = key_for(self.w.student_a41, self.w.class_teacher_a41)
        spaced = f" {key.code[:4].lower()}-{key.code[4:]} "
        self.assertEqual(find_key(school=self.w.school_a, raw=spaced), key)
        self.assertEqual(student_for_key(school=self.w.school_a, raw=key.code), self.w.student_a41)
        self.assertIsNone(find_key(school=self.w.school_b, raw=key.code))
        self.assertIsNone(find_key(school=self.w.school_a, raw="ZZZ"))
        Student.objects.filter(pk=self.w.student_a41.pk).update(status="left")
        self.assertIsNone(find_key(school=self.w.school_a, raw=key.code))
        Student.objects.filter(pk=self.w.student_a41.pk).update(status="active")
        services.reissue_key(by=self.w.class_teacher_a41, student=self.w.student_a41)
        self.assertIsNone(find_key(school=self.w.school_a, raw=key.code))

    def test_the_move_changes_no_table(self) -> None:
        from importlib import import_module

        from django.db import migrations

        self.assertEqual(StudentKey._meta.db_table, "counselling_studentkey")
        self.assertEqual(StudentKey._meta.app_label, "org")
        for module in (
            "xinyu.counselling.migrations.0002_studentkey_moves_to_org",
            "xinyu.org.migrations.0003_studentkey",
        ):
            with self.subTest(migration=module):
                operations = import_module(module).Migration.operations
                self.assertTrue(operations)
                for operation in operations:  # state only: no SQL on SQLite or PostgreSQL
                    self.assertIsInstance(operation, migrations.SeparateDatabaseAndState)
                    self.assertEqual(operation.database_operations, [])


class DemoBuilderTest(PersonaTestCase):
    def test_counselling_and_the_mailbox_register_their_demo_parts_in_order(self) -> None:
        from xinyu.counselling import demo as counselling_demo
        from xinyu.kernel.registry import DemoRun, demo_builders
        from xinyu.mailbox import demo as mailbox_demo

        keys = demo_builders.keys()
        self.assertLess(keys.index("counselling"), keys.index("mailbox"))
        self.assertIs(demo_builders.get("counselling"), counselling_demo.demo_counselling)
        self.assertIs(demo_builders.get("mailbox"), mailbox_demo.demo_mailbox)
        run = DemoRun(students=0, seed=7, district=self.w.school_a.district)
        line = demo_builders.get("counselling")(run)
        self.assertRegex(line or "", r"^Counselling: \d+ rooms")
        self.assertIsNone(demo_builders.get("mailbox")(run))  # no demo school in the personas' district
