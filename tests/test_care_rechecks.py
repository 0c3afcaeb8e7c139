"""Key populations and key periods (SPEC §4): the term's re-check lists (动态排查) and the
key-period calendar (重点时段) with its re-check tasks. Dates are explicit: the daily job is
given `today`, so both sides of each window are tested without waiting."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.care_helpers import open_case
from tests.personas import PersonaTestCase, build_world
from xinyu.audit.models import AuditEntry
from xinyu.care import access as care_access
from xinyu.care.models import (
    Concern,
    KeyPeriod,
    PeriodKind,
    RecheckEntry,
    RecheckResult,
    RecheckRound,
    Task,
    TaskKind,
    Tier,
    Warning,
)
from xinyu.care.services import rechecks
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message
from xinyu.org.models import StudentFlag

TODAY = timezone.localdate


class RecheckRoundTest(PersonaTestCase):
    def setUp(self) -> None:
        # student_a41 is flagged left-behind; student_a42 is on the watch list (an open case).
        self.case = open_case(self.w.student_a42, self.w.psych_a, Tier.SERIOUS)
        # A cleared flag does not put a student on the list.
        StudentFlag.objects.create(
            student=self.w.student_a71,
            kind="single_parent",
            set_at=timezone.now(),
            cleared_at=timezone.now(),
        )

    def start(self, term: str = "2026-2027 第一学期") -> RecheckRound:
        return rechecks.start_recheck_round(
            school=self.w.school_a,
            by=self.w.psych_a,
            term=term,
            due_on=TODAY() + dt.timedelta(days=14),
        )

    def entry(self, rnd: RecheckRound, student) -> RecheckEntry:  # type: ignore[no-untyped-def]
        return RecheckEntry.objects.get(round=rnd, student=student)

    def class_url(self, rnd: RecheckRound, klass) -> str:  # type: ignore[no-untyped-def]
        return f"/care/rechecks/{rnd.uid}/classes/{klass.uid}/"

    def record_url(self, rnd: RecheckRound, student) -> str:  # type: ignore[no-untyped-def]
        return f"/care/rechecks/{rnd.uid}/students/{student.uid}/"

    # ---- starting a round ----

    def test_the_psych_teacher_starts_a_round_with_flagged_and_watch_list_students_only(self) -> None:
        client = self.client_for(self.w.psych_a)
        self.assertEqual(client.get("/care/rechecks/").status_code, 200)
        response = client.post(
            "/care/rechecks/start/",
            {
                "school": self.w.school_a.uid,
                "term": "2026-2027 第一学期",
                "due_on": (TODAY() + dt.timedelta(days=10)).isoformat(),
            },
        )
        rnd = RecheckRound.objects.get(school=self.w.school_a)
        self.assertRedirects(response, f"/care/rechecks/{rnd.uid}/")
        entries = {e.student_id: e.school_class_id for e in rnd.entries.all()}
        self.assertEqual(
            entries,
            {
                self.w.student_a41.pk: self.w.class_a41.pk,  # flagged
                self.w.student_a42.pk: self.w.class_a42.pk,  # watch list
            },
        )
        self.assertTrue(all(e.result == RecheckResult.PENDING for e in rnd.entries.all()))
        self.assertTrue(
            AuditEntry.objects.filter(object_type="recheckround", object_id=str(rnd.uid)).exists()
        )
        # The class teachers are told, without names or reasons.
        msg = Message.objects.get(recipient=self.w.class_teacher_a41, kind="recheck_round")
        self.assertNotIn(self.w.student_a41.name, msg.body + msg.subject)

    def test_a_second_round_for_the_same_term_and_a_past_due_date_are_refused(self) -> None:
        self.start()
        with self.assertRaises(ServiceError) as err:
            self.start()
        self.assertEqual(err.exception.field, "term")
        with self.assertRaises(ServiceError) as err:
            rechecks.start_recheck_round(
                school=self.w.school_a,
                by=self.w.psych_a,
                term="2026-2027 第二学期",
                due_on=TODAY() - dt.timedelta(days=1),
            )
        self.assertEqual(err.exception.field, "due_on")
        self.assertEqual(RecheckRound.objects.count(), 1)
        # Through the page: an error message, still one round.
        response = self.client_for(self.w.psych_a).post(
            "/care/rechecks/start/",
            {"school": self.w.school_a.uid, "term": "2026-2027 第一学期", "due_on": TODAY().isoformat()},
            follow=True,
        )
        self.assertContains(response, "已经发起过了")
        self.assertEqual(RecheckRound.objects.count(), 1)

    def test_only_the_schools_psych_teacher_can_start_a_round(self) -> None:
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.district_admin):
            response = self.client_for(user).post(
                "/care/rechecks/start/",
                {"school": self.w.school_a.uid, "term": "X", "due_on": TODAY().isoformat()},
            )
            self.assertEqual(response.status_code, 404, user)
        with self.assertRaises(ServiceError):
            rechecks.start_recheck_round(school=self.w.school_a, by=self.w.psych_b, term="X", due_on=TODAY())
        self.assertFalse(RecheckRound.objects.exists())

    # ---- the class teacher's list ----

    def test_the_class_teacher_sees_names_only_and_records_stable(self) -> None:
        rnd = self.start()
        client = self.client_for(self.w.class_teacher_a41)
        index = client.get("/care/rechecks/").content.decode()
        self.assertIn(self.class_url(rnd, self.w.class_a41), index)
        page = client.get(self.class_url(rnd, self.w.class_a41))
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertIn(self.w.student_a41.name, html)
        self.assertNotIn(self.w.student_a41_2.name, html)  # not on the list
        for word in ("留守", "Left-behind", "left_behind", "watch list", "重点关注", "Tier", "serious"):
            self.assertNotIn(word, html)
        # The psych teacher's view of the same list says why.
        psych_html = (
            self.client_for(self.w.psych_a).get(self.class_url(rnd, self.w.class_a41)).content.decode()
        )
        self.assertIn("留守", psych_html)

        response = client.post(self.record_url(rnd, self.w.student_a41), {"result": "stable", "note": ""})
        self.assertRedirects(
            response,
            self.class_url(rnd, self.w.class_a41) + f"#s-{self.w.student_a41.uid}",
            target_status_code=200,
        )
        entry = self.entry(rnd, self.w.student_a41)
        self.assertEqual((entry.result, entry.checked_by), (RecheckResult.STABLE, self.w.class_teacher_a41))
        self.assertTrue(
            AuditEntry.objects.filter(
                object_type="recheckentry", object_id=str(entry.pk), user=self.w.class_teacher_a41
            ).exists()
        )
        self.assertFalse(Concern.objects.exists())

    def test_worried_needs_a_note_and_raises_a_concern_for_the_psych_teacher(self) -> None:
        rnd = self.start()
        client = self.client_for(self.w.class_teacher_a41)
        url = self.record_url(rnd, self.w.student_a41)
        response = client.post(url, {"result": "concern", "note": "  "}, follow=True)
        self.assertContains(response, "情况说明")
        entry = self.entry(rnd, self.w.student_a41)
        self.assertEqual(entry.result, RecheckResult.PENDING)
        self.assertFalse(Concern.objects.exists())
        self.assertFalse(Warning.objects.filter(student=self.w.student_a41).exists())

        client.post(url, {"result": "concern", "note": "最近总是一个人吃饭"})
        entry.refresh_from_db()
        self.assertEqual((entry.result, entry.note), (RecheckResult.CONCERN, "最近总是一个人吃饭"))
        concern = Concern.objects.get(student=self.w.student_a41)
        self.assertEqual((concern.reporter, concern.triggers), (self.w.class_teacher_a41, ["other"]))
        self.assertEqual(concern.token, f"recheck-{entry.pk}")
        warning = Warning.objects.get(student=self.w.student_a41)
        self.assertEqual(concern.warning, warning)
        self.assertIn(warning, care_access.warnings_for(self.w.psych_a))
        self.assertTrue(Message.objects.filter(recipient=self.w.psych_a, kind="concern").exists())
        # Recording again (a double tap) keeps one concern.
        client.post(url, {"result": "concern", "note": "最近总是一个人吃饭"})
        self.assertEqual(Concern.objects.count(), 1)
        # The psych teacher's round page counts it.
        page = self.client_for(self.w.psych_a).get(f"/care/rechecks/{rnd.uid}/").content.decode()
        self.assertIn('id="total-concerns">1<', page)

    def test_re_recording_is_allowed_until_the_due_date_then_refused(self) -> None:
        rnd = self.start()
        entry = self.entry(rnd, self.w.student_a41)
        by = self.w.class_teacher_a41
        rechecks.record_recheck(entry=entry, by=by, result="stable", note="")
        rechecks.record_recheck(entry=entry, by=by, result="stable", note="谈过了")
        entry.refresh_from_db()
        self.assertEqual(entry.note, "谈过了")
        RecheckRound.objects.filter(pk=rnd.pk).update(due_on=TODAY() - dt.timedelta(days=1))
        with self.assertRaises(ServiceError) as err:
            rechecks.record_recheck(entry=entry, by=by, result="concern", note="x")
        self.assertEqual(err.exception.field, "due_on")
        entry.refresh_from_db()
        self.assertEqual(entry.result, RecheckResult.STABLE)
        # The closed list has no buttons.
        html = self.client_for(by).get(self.class_url(rnd, self.w.class_a41)).content.decode()
        self.assertNotIn('value="concern"', html)

    def test_a_class_teacher_cannot_see_or_record_another_class(self) -> None:
        rnd = self.start()
        client = self.client_for(self.w.class_teacher_a41)
        self.assertEqual(client.get(self.class_url(rnd, self.w.class_a42)).status_code, 404)
        response = client.post(self.record_url(rnd, self.w.student_a42), {"result": "stable"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.entry(rnd, self.w.student_a42).result, RecheckResult.PENDING)
        self.assertTrue(AuditEntry.objects.filter(action="denied", user=self.w.class_teacher_a41).exists())
        # The round page shows only their own class.
        html = client.get(f"/care/rechecks/{rnd.uid}/").content.decode()
        self.assertIn(str(self.w.class_a41.uid), html)
        self.assertNotIn(str(self.w.class_a42.uid), html)
        # The psych teacher reads the lists but does not fill them in.
        self.assertEqual(
            self.client_for(self.w.psych_a)
            .post(self.record_url(rnd, self.w.student_a41), {"result": "stable"})
            .status_code,
            404,
        )

    def test_another_schools_psych_teacher_and_the_district_see_nothing(self) -> None:
        rnd = self.start()
        client = self.client_for(self.w.psych_b)
        self.assertEqual(client.get(f"/care/rechecks/{rnd.uid}/").status_code, 404)
        self.assertEqual(client.get(self.class_url(rnd, self.w.class_a41)).status_code, 404)
        self.assertNotIn(str(rnd.uid), client.get("/care/rechecks/").content.decode())
        self.assertEqual(self.client_for(self.w.district_admin).get("/care/rechecks/").status_code, 404)
        self.assertEqual(
            self.client_for(self.w.district_admin).get(f"/care/rechecks/{rnd.uid}/").status_code, 404
        )

    def test_the_grade_leader_sees_counts_for_the_grade_only(self) -> None:
        # A grade-7 student on the watch list too: not the grade-4 leader's.
        open_case(self.w.student_a71, self.w.psych_a, Tier.GENERAL)
        rnd = self.start()
        rechecks.record_recheck(
            entry=self.entry(rnd, self.w.student_a41),
            by=self.w.class_teacher_a41,
            result="stable",
            note="",
        )
        client = self.client_for(self.w.grade_leader_a4)
        page = client.get(f"/care/rechecks/{rnd.uid}/")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertIn('id="total-done">1 / 2<', html)  # a41 + a42; a71 is grade 7
        self.assertNotIn(str(self.w.class_a71.uid), html)
        for student in (self.w.student_a41, self.w.student_a42):
            self.assertNotIn(student.name, html)
        self.assertNotIn("/classes/", html)  # no list links: counts only
        self.assertEqual(client.get(self.class_url(rnd, self.w.class_a41)).status_code, 404)
        # The psych teacher sees all three classes.
        psych = self.client_for(self.w.psych_a).get(f"/care/rechecks/{rnd.uid}/").content.decode()
        self.assertIn('id="total-done">1 / 3<', psych)


class KeyPeriodTest(PersonaTestCase):
    def setUp(self) -> None:
        # On the watch list: a42 (school A, open case) and b41 (school B). a41 is only flagged.
        open_case(self.w.student_a42, self.w.psych_a, Tier.SERIOUS)
        open_case(self.w.student_b41, self.w.psych_b, Tier.GENERAL)
        self.starts = TODAY() + dt.timedelta(days=20)

    def period(self, school=None, lead: int = 7, name: str = "期末考试") -> KeyPeriod:  # type: ignore[no-untyped-def]
        by = (
            self.w.district_admin
            if school is None
            else (self.w.psych_a if school == self.w.school_a else self.w.psych_b)
        )
        return rechecks.create_key_period(
            by=by,
            district=self.w.district,
            school=school,
            name=name,
            kind=PeriodKind.EXAM,
            starts_on=self.starts,
            lead_days=lead,
        )

    def test_tasks_are_created_in_the_window_for_watch_list_students_once(self) -> None:
        period = self.period()
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts - dt.timedelta(days=8)), 0)
        self.assertIsNone(KeyPeriod.objects.get(pk=period.pk).tasks_created_at)
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts - dt.timedelta(days=7)), 2)
        tasks = Task.objects.filter(key_period=period)
        self.assertEqual(
            {t.student_id for t in tasks}, {self.w.student_a42.pk, self.w.student_b41.pk}
        )  # not the flagged-only a41
        task = tasks.get(student=self.w.student_a42)
        self.assertEqual(
            (task.kind, task.due_on, task.school_class), (TaskKind.RECHECK, self.starts, self.w.class_a42)
        )
        self.assertIn("期末考试", task.request)
        # Running again (the same day or later) creates nothing more.
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts - dt.timedelta(days=7)), 0)
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts), 0)
        self.assertEqual(Task.objects.filter(key_period=period).count(), 2)
        self.assertEqual(
            AuditEntry.objects.filter(
                object_type="task", role="system", detail__startswith="recheck"
            ).count(),
            2,
        )

    def test_a_claimed_period_and_a_past_period_create_nothing(self) -> None:
        period = self.period()
        KeyPeriod.objects.filter(pk=period.pk).update(tasks_created_at=timezone.now())
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts), 0)
        other = self.period(name="开学")
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts + dt.timedelta(days=1)), 0)
        self.assertIsNone(KeyPeriod.objects.get(pk=other.pk).tasks_created_at)
        self.assertFalse(Task.objects.exists())

    def test_a_school_period_reaches_only_that_school(self) -> None:
        period = self.period(school=self.w.school_b, lead=3)
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts - dt.timedelta(days=3)), 1)
        self.assertEqual(
            list(Task.objects.filter(key_period=period).values_list("student_id", flat=True)),
            [self.w.student_b41.pk],
        )

    def test_the_task_text_is_neutral(self) -> None:
        open_case(self.w.student_a41_2, self.w.psych_a, Tier.SEVERE)
        self.period()
        self.assertEqual(rechecks.create_key_period_tasks(today=self.starts), 3)
        task = Task.objects.get(student=self.w.student_a41_2)
        text = task.request + str(task.get_kind_display())
        for word in (
            "一般",
            "较严重",
            "严重",
            "危机",
            "心理问题",
            "异常",
            "tier",
            "serious",
            "severe",
            "crisis",
            "case",
            "个案",
            "诊断",
        ):
            self.assertNotIn(word, text.lower() if word.isascii() else text)
        # The class teacher gets a message without the student's name.
        msg = Message.objects.get(kind="recheck_task", recipient=self.w.class_teacher_a41, channel="in_app")
        self.assertNotIn(self.w.student_a41_2.name, msg.subject + msg.body)
        # The class teacher's task list shows it, without any reason.
        html = self.client_for(self.w.class_teacher_a41).get("/care/tasks/").content.decode()
        self.assertIn(self.w.student_a41_2.name, html)
        for word in ("较严重", "严重心理", "危机", "Severe", "crisis"):
            self.assertNotIn(word, html)

    def test_who_may_add_key_periods(self) -> None:
        post = {"name": "中考", "kind": "exam", "starts_on": self.starts.isoformat(), "lead_days": "5"}
        admin = self.client_for(self.w.district_admin)
        admin.post("/care/key-periods/new/", {**post, "scope": f"district:{self.w.district.code}"})
        district_period = KeyPeriod.objects.get(school__isnull=True)
        self.assertEqual((district_period.district, district_period.lead_days), (self.w.district, 5))

        psych = self.client_for(self.w.psych_a)
        psych.post("/care/key-periods/new/", {**post, "scope": f"school:{self.w.school_a.uid}"})
        self.assertTrue(KeyPeriod.objects.filter(school=self.w.school_a).exists())
        # Not the district's calendar, not another school's.
        response = psych.post(
            "/care/key-periods/new/", {**post, "scope": f"district:{self.w.district.code}"}, follow=True
        )
        self.assertContains(response, "区管理员")
        self.assertEqual(
            psych.post(
                "/care/key-periods/new/", {**post, "scope": f"school:{self.w.school_b.uid}"}
            ).status_code,
            404,
        )
        self.assertEqual(
            self.client_for(self.w.class_teacher_a41)
            .post("/care/key-periods/new/", {**post, "scope": f"school:{self.w.school_a.uid}"})
            .status_code,
            404,
        )
        self.assertEqual(KeyPeriod.objects.count(), 2)
        with self.assertRaises(ServiceError):
            rechecks.create_key_period(
                by=self.w.psych_a,
                district=self.w.district,
                school=None,
                name="x",
                kind="exam",
                starts_on=self.starts,
                lead_days=3,
            )

    def test_the_calendar_page_edit_and_delete(self) -> None:
        district_period = self.period()
        school_period = self.period(school=self.w.school_a, name="运动会")
        psych = self.client_for(self.w.psych_a)
        page = psych.get("/care/key-periods/")
        self.assertContains(page, "期末考试")  # the district's, read-only for the psych teacher
        self.assertContains(page, "运动会")
        self.assertNotContains(page, f"/care/key-periods/{district_period.uid}/")
        self.assertEqual(psych.get(f"/care/key-periods/{district_period.uid}/").status_code, 404)
        self.assertEqual(psych.post(f"/care/key-periods/{district_period.uid}/delete/").status_code, 404)
        # Another school's psych teacher neither sees nor edits school A's period.
        psych_b = self.client_for(self.w.psych_b)
        self.assertNotContains(psych_b.get("/care/key-periods/"), "运动会")
        self.assertEqual(psych_b.get(f"/care/key-periods/{school_period.uid}/").status_code, 404)

        self.assertEqual(psych.get(f"/care/key-periods/{school_period.uid}/").status_code, 200)
        psych.post(
            f"/care/key-periods/{school_period.uid}/",
            {"name": "秋季运动会", "kind": "other", "starts_on": self.starts.isoformat(), "lead_days": "2"},
        )
        school_period.refresh_from_db()
        self.assertEqual((school_period.name, school_period.lead_days), ("秋季运动会", 2))
        # Past dates are refused, nothing changed.
        psych.post(
            f"/care/key-periods/{school_period.uid}/",
            {
                "name": "x",
                "kind": "other",
                "starts_on": (TODAY() - dt.timedelta(days=1)).isoformat(),
                "lead_days": "2",
            },
        )
        school_period.refresh_from_db()
        self.assertEqual(school_period.name, "秋季运动会")
        # Once its tasks went out, it can no longer be deleted.
        rechecks.create_key_period_tasks(today=self.starts)
        psych.post(f"/care/key-periods/{school_period.uid}/delete/")
        self.assertTrue(KeyPeriod.objects.filter(pk=school_period.pk).exists())
        fresh = self.period(school=self.w.school_a, name="毕业")
        psych.post(f"/care/key-periods/{fresh.uid}/delete/")
        self.assertFalse(KeyPeriod.objects.filter(pk=fresh.pk).exists())


@pytest.mark.django_db(transaction=True)
def test_two_daily_jobs_at_once_create_the_tasks_once() -> None:
    world = build_world()
    open_case(world.student_a42, world.psych_a, Tier.SERIOUS)
    starts = TODAY() + dt.timedelta(days=5)
    rechecks.create_key_period(
        by=world.district_admin,
        district=world.district,
        school=None,
        name="期中考试",
        kind=PeriodKind.EXAM,
        starts_on=starts,
        lead_days=7,
    )
    results: list[object] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            results.append(rechecks.create_key_period_tasks(today=TODAY()))
        except Exception as exc:  # noqa: BLE001 — a failure is the result
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1]  # type: ignore[type-var]
    assert Task.objects.filter(kind=TaskKind.RECHECK).count() == 1
