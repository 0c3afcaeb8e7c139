"""Crisis events and the emergency plan (突发事件 / 应急预案, SPEC §4; QX 12, XY 6): starting
tells the school and the district at once (neutral words), who sees how much, and the plan
cannot close before it was verified, handled and every affected student supported."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import CrisisAction, CrisisEvent, CrisisRole, CrisisStatus, CrisisStep, CrisisStudent
from xinyu.care.services import crisis as services
from xinyu.care.views.crisis import open_crisis_events
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message, MessageChannel
from xinyu.org.models import User

SUMMARY = "课间在操场发生意外，已送医"
VERIFY_TEXT = "核实经过：监控与目击同学"
HANDLE_TEXT = "联系家长并陪同就医"
SUPPORT_TEXT = "团体辅导一次，个别谈话"


class CrisisTestCase(PersonaTestCase):
    def start(self, by: User | None = None, title: str = "操场意外事件") -> CrisisEvent:
        return services.start_crisis(
            school=self.w.school_a,
            by=by or self.w.psych_a,
            title=title,
            occurred_at=timezone.now() - dt.timedelta(minutes=30),
            summary=SUMMARY,
        )

    def full_plan(self, event: CrisisEvent) -> None:
        psych = self.w.psych_a
        services.add_crisis_action(event=event, by=psych, step=CrisisStep.VERIFY, text=VERIFY_TEXT)
        services.add_crisis_action(event=event, by=psych, step=CrisisStep.HANDLE, text=HANDLE_TEXT)
        services.add_crisis_action(
            event=event, by=psych, step=CrisisStep.INFORM, text="电话告知", informed="家长、区中心"
        )

    def url(self, event: CrisisEvent, suffix: str = "") -> str:
        return f"/care/crisis/{event.uid}/{suffix}"


class StartTest(CrisisTestCase):
    def test_start_creates_the_event_with_a_start_action_and_an_audit_row(self) -> None:
        event = self.start()
        self.assertEqual(event.status, CrisisStatus.OPEN)
        self.assertEqual(list(event.actions.values_list("step", flat=True)), [CrisisStep.START])
        self.assertTrue(
            AuditEntry.objects.filter(
                action=Action.CREATE, object_type="crisisevent", object_id=str(event.uid)
            ).exists()
        )

    def test_start_notifies_the_school_and_the_district_once_each_with_neutral_words(self) -> None:
        self.w.leader_a.phone = "13900000001"
        self.w.leader_a.save(update_fields=["phone"])
        self.start()
        in_app = Message.objects.filter(kind="crisis_started", channel=MessageChannel.IN_APP)
        recipients = sorted(in_app.values_list("recipient__username", flat=True))
        # The starter (psych_a) already knows; psych_b (other school) and the class and grade
        # teams are not told.
        self.assertEqual(recipients, ["centre_expert", "district_admin", "leader_a"])
        sms = Message.objects.filter(kind="crisis_started", channel=MessageChannel.SMS)
        self.assertEqual(list(sms.values_list("recipient__username", flat=True)), ["leader_a"])
        names = [s.name for s in (self.w.student_a41, self.w.student_a41_2, self.w.student_a42)]
        for m in Message.objects.filter(kind="crisis_started"):
            self.assertIn(self.w.school_a.name, m.body)
            self.assertIn("操场意外事件", m.body)
            self.assertNotIn(SUMMARY, m.subject + m.body)
            for name in names:
                self.assertNotIn(name, m.subject + m.body)
            self.assertTrue(m.link.startswith("/care/crisis/"))

    def test_a_title_naming_a_student_is_refused_and_nothing_is_sent(self) -> None:
        with self.assertRaises(ServiceError) as err:
            self.start(title=f"{self.w.student_a41.name}受伤")
        self.assertEqual(err.exception.field, "title")
        self.assertFalse(CrisisEvent.objects.exists())
        self.assertFalse(Message.objects.filter(kind="crisis_started").exists())

    def test_start_form_for_the_school_leader_and_404_for_others(self) -> None:
        client = self.client_for(self.w.leader_a)
        self.assertEqual(client.get("/care/crisis/new/").status_code, 200)
        response = client.post(
            "/care/crisis/new/",
            {
                "school": self.w.school_a.pk,
                "title": "校内突发事件",
                "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "summary": SUMMARY,
            },
        )
        event = CrisisEvent.objects.get()
        self.assertRedirects(response, self.url(event))
        self.assertEqual((event.school, event.started_by), (self.w.school_a, self.w.leader_a))
        self.assertEqual(Message.objects.filter(kind="crisis_started", recipient=self.w.psych_a).count(), 1)
        for user in (self.w.district_admin, self.w.centre_expert, self.w.class_teacher_a41):
            self.assertEqual(self.client_for(user).get("/care/crisis/new/").status_code, 404)

    def test_a_psych_teacher_cannot_start_a_plan_for_another_school(self) -> None:
        response = self.client_for(self.w.psych_b).post(
            "/care/crisis/new/",
            {
                "school": self.w.school_a.pk,
                "title": "校内突发事件",
                "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "summary": SUMMARY,
            },
        )
        self.assertEqual(response.status_code, 200)  # the form again, with the error
        self.assertFalse(CrisisEvent.objects.exists())


class VisibilityTest(CrisisTestCase):
    def setUp(self) -> None:
        self.event = self.start()
        self.full_plan(self.event)
        self.person = services.add_crisis_student(
            event=self.event,
            by=self.w.psych_a,
            student=self.w.student_a42,
            role_kind=CrisisRole.AFFECTED,
        )
        services.record_support(person=self.person, by=self.w.psych_a, support=SUPPORT_TEXT)

    def test_psych_teacher_and_leader_see_everything(self) -> None:
        for user in (self.w.psych_a, self.w.leader_a):
            html = self.client_for(user).get(self.url(self.event)).content.decode()
            for text in (
                SUMMARY,
                VERIFY_TEXT,
                HANDLE_TEXT,
                "家长、区中心",
                self.w.student_a42.name,
                SUPPORT_TEXT,
            ):
                self.assertIn(text, html)
            self.assertIn('id="action-form"', html)  # they run the plan
        self.assertTrue(
            AuditEntry.objects.filter(
                user=self.w.leader_a, action=Action.VIEW, student=self.w.student_a42
            ).exists()
        )

    def test_centre_expert_sees_it_in_full_but_cannot_run_it(self) -> None:
        client = self.client_for(self.w.centre_expert)
        html = client.get(self.url(self.event)).content.decode()
        for text in (SUMMARY, VERIFY_TEXT, self.w.student_a42.name, SUPPORT_TEXT):
            self.assertIn(text, html)
        self.assertNotIn('id="action-form"', html)
        response = client.post(self.url(self.event, "actions/"), {"step": "handle", "text": "x"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.event.actions.count(), 4)

    def test_district_admin_sees_the_event_and_its_steps_but_no_text_and_no_names(self) -> None:
        client = self.client_for(self.w.district_admin)
        listing = client.get("/care/crisis/").content.decode()
        self.assertIn("操场意外事件", listing)
        self.assertIn(self.w.school_a.name, listing)
        html = client.get(self.url(self.event)).content.decode()
        self.assertIn("操场意外事件", html)
        for step in (CrisisStep.START, CrisisStep.VERIFY, CrisisStep.HANDLE, CrisisStep.INFORM):
            self.assertIn(str(CrisisStep(step).label), html)
        for secret in (
            SUMMARY,
            VERIFY_TEXT,
            HANDLE_TEXT,
            "家长、区中心",
            SUPPORT_TEXT,
            self.w.student_a42.name,
            self.w.student_a42.student_no,
        ):
            self.assertNotIn(secret, html)
        self.assertNotIn('id="action-form"', html)
        # Nor can they write.
        response = client.post(self.url(self.event, "close/"), {"note": "x"})
        self.assertEqual(response.status_code, 404)

    def test_other_school_and_class_teacher_get_404_and_do_not_see_it_listed(self) -> None:
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.grade_leader_a4):
            client = self.client_for(user)
            self.assertEqual(client.get(self.url(self.event)).status_code, 404)
            listing = client.get("/care/crisis/")
            self.assertNotIn("操场意外事件", listing.content.decode())
            self.assertEqual(open_crisis_events(user), [])
        self.assertEqual(self.client_for(self.w.psych_b).get("/care/crisis/").status_code, 200)
        self.assertEqual(self.client_for(self.w.class_teacher_a41).get("/care/crisis/").status_code, 404)
        self.assertTrue(
            AuditEntry.objects.filter(
                user=self.w.psych_b, action=Action.DENIED, object_id=str(self.event.uid)
            ).exists()
        )

    def test_district_list_shows_every_schools_open_events_first_with_the_last_step(self) -> None:
        other = services.start_crisis(
            school=self.w.school_b,
            by=self.w.psych_b,
            title="乙校突发事件",
            occurred_at=timezone.now(),
            summary="经过",
        )
        services.add_crisis_action(event=other, by=self.w.psych_b, step=CrisisStep.VERIFY, text="t")
        services.add_crisis_action(event=other, by=self.w.psych_b, step=CrisisStep.HANDLE, text="t")
        services.close_crisis(event=other, by=self.w.psych_b, note="结案")
        response = self.client_for(self.w.district_admin).get("/care/crisis/")
        self.assertEqual([e.title for e in response.context["open_events"]], ["操场意外事件"])
        self.assertEqual([e.title for e in response.context["closed_events"]], ["乙校突发事件"])
        self.assertEqual(response.context["open_events"][0].last_step, CrisisStep.INFORM)
        self.assertEqual([e.title for e in open_crisis_events(self.w.centre_expert)], ["操场意外事件"])
        self.assertEqual([e.title for e in open_crisis_events(self.w.leader_a)], ["操场意外事件"])
        self.assertEqual(open_crisis_events(self.w.psych_b), [])


class PlanTest(CrisisTestCase):
    def test_closing_needs_verify_handle_and_support_for_every_affected_student(self) -> None:
        event = self.start()
        psych = self.w.psych_a
        with self.assertRaises(ServiceError) as err:
            services.close_crisis(event=event, by=psych, note="结案")
        self.assertIn("核实", err.exception.zh)
        self.assertIn("处置", err.exception.zh)
        self.full_plan(event)
        person = services.add_crisis_student(
            event=event, by=psych, student=self.w.student_a41, role_kind=CrisisRole.AFFECTED
        )
        services.add_crisis_student(
            event=event, by=psych, student=self.w.student_a42, role_kind=CrisisRole.INVOLVED
        )
        with self.assertRaises(ServiceError) as err:
            services.close_crisis(event=event, by=psych, note="结案")
        self.assertIn(self.w.student_a41.name, err.exception.zh)
        self.assertNotIn(self.w.student_a42.name, err.exception.zh)  # involved: no support required
        event.refresh_from_db()
        self.assertEqual((event.status, event.closed_at, event.closing_note), (CrisisStatus.OPEN, None, ""))
        self.assertFalse(event.actions.filter(step=CrisisStep.CLOSE).exists())

        services.record_support(person=person, by=psych, support=SUPPORT_TEXT)
        services.close_crisis(event=event, by=psych, note="结案")
        event.refresh_from_db()
        self.assertEqual(event.status, CrisisStatus.CLOSED)
        self.assertIsNotNone(event.closed_at)
        self.assertEqual(event.actions.order_by("at", "id").last().step, CrisisStep.CLOSE)  # type: ignore[union-attr]
        with self.assertRaises(ServiceError):
            services.close_crisis(event=event, by=psych, note="again")

    def test_close_refused_through_the_page_shows_the_reason_and_changes_nothing(self) -> None:
        event = self.start()
        client = self.client_for(self.w.leader_a)
        response = client.post(self.url(event, "close/"), {"note": "结案"}, follow=True)
        self.assertContains(response, "不能关闭")
        event.refresh_from_db()
        self.assertEqual(event.status, CrisisStatus.OPEN)
        self.full_plan(event)
        client.post(self.url(event, "close/"), {"note": "结案"})
        event.refresh_from_db()
        self.assertEqual(event.status, CrisisStatus.CLOSED)

    def test_nothing_can_be_recorded_on_a_closed_event(self) -> None:
        event = self.start()
        self.full_plan(event)
        person = services.add_crisis_student(
            event=event,
            by=self.w.psych_a,
            student=self.w.student_a41,
            role_kind=CrisisRole.INVOLVED,
        )
        services.close_crisis(event=event, by=self.w.psych_a, note="结案")
        count = CrisisAction.objects.filter(event=event).count()
        with self.assertRaises(ServiceError):
            services.add_crisis_action(event=event, by=self.w.psych_a, step=CrisisStep.PREVENT, text="t")
        with self.assertRaises(ServiceError):
            services.add_crisis_student(
                event=event,
                by=self.w.psych_a,
                student=self.w.student_a42,
                role_kind=CrisisRole.AFFECTED,
            )
        with self.assertRaises(ServiceError):
            services.record_support(person=person, by=self.w.psych_a, support="t")
        response = self.client_for(self.w.psych_a).post(
            self.url(event, "actions/"), {"step": "prevent", "text": "t"}, follow=True
        )
        self.assertContains(response, "已关闭")
        self.assertEqual(CrisisAction.objects.filter(event=event).count(), count)
        self.assertEqual(CrisisStudent.objects.filter(event=event).count(), 1)
        self.assertNotIn('id="action-form"', response.content.decode())

    def test_inform_needs_the_people_informed_and_start_close_cannot_be_recorded_by_hand(self) -> None:
        event = self.start()
        with self.assertRaises(ServiceError) as err:
            services.add_crisis_action(event=event, by=self.w.psych_a, step=CrisisStep.INFORM, text="t")
        self.assertEqual(err.exception.field, "informed")
        for step in (CrisisStep.START, CrisisStep.CLOSE, "other"):
            with self.assertRaises(ServiceError):
                services.add_crisis_action(event=event, by=self.w.psych_a, step=step, text="t")
        self.assertEqual(event.actions.count(), 1)

    def test_a_student_of_another_school_cannot_be_added(self) -> None:
        event = self.start()
        with self.assertRaises(ServiceError) as err:
            services.add_crisis_student(
                event=event,
                by=self.w.psych_a,
                student=self.w.student_b41,
                role_kind=CrisisRole.AFFECTED,
            )
        self.assertEqual(err.exception.field, "student")
        self.assertFalse(event.people.exists())
        # Through the page, by number: not found in the school, nothing added.
        response = self.client_for(self.w.psych_a).post(
            self.url(event, "students/"),
            {"student": self.w.student_b41.student_no, "role_kind": "affected"},
            follow=True,
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(event.people.exists())

    def test_the_page_adds_students_by_name_and_records_support(self) -> None:
        event = self.start()
        client = self.client_for(self.w.leader_a)
        client.post(
            self.url(event, "students/"), {"student": self.w.student_a71.name, "role_kind": "affected"}
        )
        person = event.people.get()
        self.assertEqual((person.student, person.role), (self.w.student_a71, CrisisRole.AFFECTED))
        client.post(self.url(event, f"students/{self.w.student_a71.uid}/support/"), {"support": SUPPORT_TEXT})
        person.refresh_from_db()
        self.assertEqual(person.support, SUPPORT_TEXT)
        self.assertIsNotNone(person.supported_at)
        # Another school's psych teacher cannot reach it.
        response = self.client_for(self.w.psych_b).post(
            self.url(event, f"students/{self.w.student_a71.uid}/support/"), {"support": "x"}
        )
        self.assertEqual(response.status_code, 404)
        person.refresh_from_db()
        self.assertEqual(person.support, SUPPORT_TEXT)
