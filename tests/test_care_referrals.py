"""Referral (转介, SPEC §4): the registry, the referral's states, the return-to-school plan,
the daily reminders (with an explicit `today`), and who sees what (SPEC §2)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.care_helpers import open_case
from tests.personas import PersonaTestCase, build_world
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import (
    ActionStatus,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    CheckIn,
    Institution,
    InstitutionKind,
    Outcome,
    Referral,
    ReferralStatus,
    Tier,
)
from xinyu.care.services import cases as case_services
from xinyu.care.services import referrals as services
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message, MessageChannel
from xinyu.org.models import District, User

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
DIAGNOSIS = "抑郁发作（门诊初诊）"


def hospital(
    district: District, name: str = "区精神卫生中心", *, green: bool = False, **kw: object
) -> Institution:
    return Institution.objects.create(
        district=district, name=name, kind=InstitutionKind.HOSPITAL, green_channel=green, **kw
    )


class ReferralBase(PersonaTestCase):
    def setUp(self) -> None:
        self.case = open_case(self.w.student_a41, self.w.psych_a, Tier.SERIOUS)  # shared with the centre
        self.inst = hospital(self.w.district, "区人民医院", department="心理科")
        self.green = hospital(self.w.district, "市精神卫生中心", green=True)

    def refer(
        self, case: Case | None = None, *, on: dt.date = TODAY, inst: Institution | None = None
    ) -> Referral:
        return services.make_referral(
            case=case or self.case,
            by=self.w.psych_a,
            institution=inst or self.inst,
            reason="持续情绪低落，建议专业评估",
            referred_on=on,
            accompanied_by="母亲、心理老师",
            guardian_agreed=True,
        )

    def to_returned(self, referral: Referral, *, on: dt.date = TODAY) -> Referral:
        services.record_feedback(
            referral=referral, by=self.w.psych_a,
            diagnosis_summary=DIAGNOSIS, advice="药物治疗，两周复诊", feedback_on=on,
        )  # fmt: skip
        return services.record_return(
            referral=referral,
            by=self.w.psych_a,
            returned_on=on,
            return_plan="每周谈话一次",
        )

    def events(self, referral: Referral) -> list[str]:
        prefix = services.event_prefix(referral)  # the detail is encrypted: matched in Python
        details = CaseEvent.objects.filter(case=referral.case, kind=CaseEventKind.REFERRAL).values_list(
            "detail", flat=True
        )
        return [d for d in details if d.startswith(prefix)]


# ---- services: the happy path, transition by transition ----------------------------------------


class ReferralFlowTest(ReferralBase):
    def test_make_referral_sets_the_feedback_deadline_and_writes_history_and_audit(self) -> None:
        referral = self.refer(on=TODAY - 2 * DAY)
        self.assertEqual(referral.status, ReferralStatus.SENT)
        self.assertEqual(referral.feedback_due_on, TODAY - 2 * DAY + 14 * DAY)  # [care.referral] 14 days
        self.assertEqual(referral.student, self.w.student_a41)
        self.assertEqual(len(self.events(referral)), 1)
        self.assertTrue(
            AuditEntry.objects.filter(
                action=Action.CREATE,
                object_type="referral",
                object_id=str(referral.uid),
                student=self.w.student_a41,
            ).exists()
        )
        # Neither the reason nor the institution goes into the plain-text history.
        self.assertNotIn("情绪", self.events(referral)[0])

    def test_sent_seen_feedback_returned_closed(self) -> None:
        referral = self.refer(on=TODAY - 20 * DAY)
        services.mark_seen(referral=referral, by=self.w.psych_a, seen_on=TODAY - 19 * DAY)
        referral.refresh_from_db()
        self.assertEqual((referral.status, referral.seen_on), (ReferralStatus.SEEN, TODAY - 19 * DAY))
        services.record_feedback(
            referral=referral, by=self.w.psych_a,
            diagnosis_summary=DIAGNOSIS, advice="药物治疗", feedback_on=TODAY - 15 * DAY,
        )  # fmt: skip
        referral.refresh_from_db()
        self.assertEqual(referral.status, ReferralStatus.FEEDBACK)
        self.assertEqual(referral.diagnosis_summary, DIAGNOSIS)
        services.record_return(
            referral=referral,
            by=self.w.psych_a,
            returned_on=TODAY - 10 * DAY,
            return_plan="计划",
        )
        referral.refresh_from_db()
        self.assertEqual(referral.status, ReferralStatus.RETURNED)
        # One check-in on each of [care.referral] check_in_days = [3, 7, 14, 30] after the return.
        self.assertEqual(
            list(referral.check_ins.values_list("due_on", flat=True)),
            [TODAY - 10 * DAY + d * DAY for d in (3, 7, 14, 30)],
        )
        for check_in in referral.check_ins.all():
            services.record_check_in(check_in=check_in, by=self.w.psych_a, done_on=TODAY, note="情况稳定")
        self.assertFalse(referral.check_ins.filter(done_on__isnull=True).exists())
        services.finish_referral(referral=referral, by=self.w.psych_a)
        referral.refresh_from_db()
        self.assertEqual(referral.status, ReferralStatus.CLOSED)
        kinds = [d.split(": ", 1)[1].split(" ")[0] for d in self.events(referral)]
        self.assertEqual(kinds, ["sent", "seen", "feedback", "returned"] + ["check-in"] * 4 + ["closed"])
        self.assertEqual(
            AuditEntry.objects.filter(object_type="referral", object_id=str(referral.uid)).count(),
            1 + 3 + 4 + 1,
        )

    def test_feedback_may_arrive_without_a_separate_seen(self) -> None:
        referral = self.refer()
        services.record_feedback(
            referral=referral, by=self.w.psych_a, diagnosis_summary="", advice="门诊随访",
            feedback_on=TODAY,
        )  # fmt: skip
        referral.refresh_from_db()
        self.assertEqual((referral.status, referral.seen_on), (ReferralStatus.FEEDBACK, None))

    def test_cancel_from_sent_and_from_seen(self) -> None:
        first = self.refer()
        services.cancel_referral(referral=first, by=self.w.psych_a, reason="家长选择自行就医")
        first.refresh_from_db()
        self.assertEqual(first.status, ReferralStatus.CANCELLED)
        self.assertTrue(self.events(first)[-1].endswith("cancelled: 家长选择自行就医"))
        second = self.refer(inst=self.green)
        services.mark_seen(referral=second, by=self.w.psych_a, seen_on=TODAY)
        services.cancel_referral(referral=second, by=self.w.psych_a, reason="转其他机构")
        second.refresh_from_db()
        self.assertEqual(second.status, ReferralStatus.CANCELLED)

    def test_the_checklist_referral_action_is_left_for_the_psych_teacher(self) -> None:
        severe = open_case(self.w.student_a42, self.w.psych_a, Tier.SEVERE)
        self.refer(severe)
        self.assertEqual(severe.actions.get(code="referral").status, ActionStatus.OPEN)

    def test_a_case_with_an_open_referral_cannot_close(self) -> None:
        self.refer()
        for action in self.case.actions.all():
            case_services.record_action(action=action, by=self.w.psych_a, done=True, note="")
        with self.assertRaises(ServiceError):
            case_services.close_case(case=self.case, by=self.w.psych_a, outcome=Outcome.REFERRED, note="")


# ---- services: refusals change nothing ---------------------------------------------------------


class ReferralRefusalTest(ReferralBase):
    def assert_refused(self, fn, referral: Referral, field: str = "") -> None:  # type: ignore[no-untyped-def]
        before = Referral.objects.filter(pk=referral.pk).values().get()
        events = CaseEvent.objects.count()
        audits = AuditEntry.objects.count()
        check_ins = CheckIn.objects.count()
        with self.assertRaises(ServiceError) as ctx:
            fn()
        if field:
            self.assertEqual(ctx.exception.field, field)
        self.assertEqual(Referral.objects.filter(pk=referral.pk).values().get(), before)
        self.assertEqual(CaseEvent.objects.count(), events)
        self.assertEqual(AuditEntry.objects.count(), audits)
        self.assertEqual(CheckIn.objects.count(), check_ins)

    def test_return_before_feedback(self) -> None:
        referral = self.refer()
        self.assert_refused(
            lambda: services.record_return(
                referral=referral,
                by=self.w.psych_a,
                returned_on=TODAY,
                return_plan="计划",
            ),
            referral,
            "status",
        )

    def test_finish_before_return_and_with_open_check_ins(self) -> None:
        referral = self.refer(on=TODAY - 5 * DAY)
        self.assert_refused(
            lambda: services.finish_referral(referral=referral, by=self.w.psych_a),
            referral,
        )
        self.to_returned(referral, on=TODAY - 4 * DAY)
        first = referral.check_ins.first()
        assert first is not None
        services.record_check_in(check_in=first, by=self.w.psych_a, done_on=TODAY, note="好")
        self.assert_refused(
            lambda: services.finish_referral(referral=referral, by=self.w.psych_a),
            referral,
            "check_ins",
        )

    def test_seen_after_feedback_and_feedback_twice_and_cancel_after_feedback(self) -> None:
        referral = self.refer()
        services.record_feedback(
            referral=referral, by=self.w.psych_a, diagnosis_summary="", advice="随访",
            feedback_on=TODAY,
        )  # fmt: skip
        self.assert_refused(
            lambda: services.mark_seen(referral=referral, by=self.w.psych_a, seen_on=TODAY),
            referral,
            "status",
        )
        self.assert_refused(
            lambda: services.record_feedback(
                referral=referral,
                by=self.w.psych_a,
                diagnosis_summary="x",
                advice="y",
                feedback_on=TODAY,
            ),  # fmt: skip
            referral,
            "status",
        )
        self.assert_refused(
            lambda: services.cancel_referral(referral=referral, by=self.w.psych_a, reason="x"),
            referral,
            "status",
        )

    def test_check_in_twice_and_after_the_plan_is_finished(self) -> None:
        referral = self.to_returned(self.refer(on=TODAY - DAY), on=TODAY)
        check_ins = list(referral.check_ins.all())
        for c in check_ins:
            services.record_check_in(check_in=c, by=self.w.psych_a, done_on=TODAY, note="好")
        self.assert_refused(
            lambda: services.record_check_in(
                check_in=check_ins[0], by=self.w.psych_a, done_on=TODAY, note="again"
            ),
            referral,
            "check_in",
        )
        services.finish_referral(referral=referral, by=self.w.psych_a)
        referral.refresh_from_db()
        CheckIn.objects.filter(pk=check_ins[0].pk).update(done_on=None)
        self.assert_refused(
            lambda: services.record_check_in(
                check_in=check_ins[0], by=self.w.psych_a, done_on=TODAY, note="x"
            ),
            referral,
            "status",
        )

    def test_future_and_out_of_order_dates(self) -> None:
        with self.assertRaises(ServiceError) as ctx:
            self.refer(on=TODAY + DAY)
        self.assertEqual(ctx.exception.field, "referred_on")
        self.assertIn("future", ctx.exception.en)
        referral = self.refer(on=TODAY - 3 * DAY)
        self.assert_refused(
            lambda: services.mark_seen(referral=referral, by=self.w.psych_a, seen_on=TODAY + DAY),
            referral,
            "seen_on",
        )
        self.assert_refused(
            lambda: services.mark_seen(referral=referral, by=self.w.psych_a, seen_on=TODAY - 4 * DAY),
            referral,
            "seen_on",
        )
        self.assert_refused(
            lambda: services.record_feedback(
                referral=referral,
                by=self.w.psych_a,
                diagnosis_summary="",
                advice="a",
                feedback_on=None,
            ),  # fmt: skip
            referral,
            "feedback_on",
        )
        self.assert_refused(
            lambda: services.record_feedback(
                referral=referral,
                by=self.w.psych_a,
                diagnosis_summary=" ",
                advice="",
                feedback_on=TODAY,
            ),  # fmt: skip
            referral,
            "advice",
        )

    def test_referral_on_a_case_that_is_not_active(self) -> None:
        for action in self.case.actions.all():
            case_services.record_action(action=action, by=self.w.psych_a, done=True, note="")
        case_services.close_case(case=self.case, by=self.w.psych_a, outcome=Outcome.IMPROVED, note="")
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, CaseStatus.FOLLOW_UP)
        with self.assertRaises(ServiceError) as ctx:
            self.refer()
        self.assertEqual(ctx.exception.field, "case")
        self.assertFalse(Referral.objects.exists())

    def test_institution_of_another_district_or_inactive(self) -> None:
        other = District.objects.create(code="510000", name="别区")
        for inst in (hospital(other, "别区医院"), hospital(self.w.district, "停用医院", active=False)):
            with self.assertRaises(ServiceError) as ctx:
                self.refer(inst=inst)
            self.assertEqual(ctx.exception.field, "institution")
        self.assertFalse(Referral.objects.exists())
        self.assertFalse(CaseEvent.objects.filter(kind=CaseEventKind.REFERRAL).exists())

    def test_a_second_open_referral_to_the_same_institution(self) -> None:
        self.refer()
        with self.assertRaises(ServiceError):
            self.refer()
        self.assertEqual(Referral.objects.count(), 1)

    def test_reason_is_required(self) -> None:
        with self.assertRaises(ServiceError) as ctx:
            services.make_referral(
                case=self.case, by=self.w.psych_a, institution=self.inst, reason="  ",
                referred_on=TODAY, accompanied_by="", guardian_agreed=False,
            )  # fmt: skip
        self.assertEqual(ctx.exception.field, "reason")


# ---- the registry ---------------------------------------------------------------------------


class RegistryServiceTest(ReferralBase):
    def test_create_and_update_validate_and_audit(self) -> None:
        inst = services.create_institution(
            by=self.w.district_admin, district=self.w.district, name=" 区妇幼保健院 ",
            kind=InstitutionKind.HOSPITAL, department="儿童心理科", green_channel=True,
        )  # fmt: skip
        self.assertEqual((inst.name, inst.green_channel, inst.active), ("区妇幼保健院", True, True))
        self.assertTrue(
            AuditEntry.objects.filter(object_type="institution", object_id=str(inst.uid)).exists()
        )
        with self.assertRaises(ServiceError) as ctx:
            services.create_institution(
                by=self.w.district_admin,
                district=self.w.district,
                name="",
                kind="hospital",
            )
        self.assertEqual(ctx.exception.field, "name")
        with self.assertRaises(ServiceError) as ctx:
            services.create_institution(
                by=self.w.district_admin,
                district=self.w.district,
                name="x",
                kind="clinic",
            )
        self.assertEqual(ctx.exception.field, "kind")
        with self.assertRaises(ServiceError):  # same name and department
            services.create_institution(
                by=self.w.centre_expert, district=self.w.district, name="区妇幼保健院",
                kind=InstitutionKind.HOSPITAL, department="儿童心理科",
            )  # fmt: skip
        services.update_institution(
            institution=inst, by=self.w.centre_expert, name="区妇幼保健院",
            kind=InstitutionKind.DISTRICT_SERVICE, active=False,
        )  # fmt: skip
        inst.refresh_from_db()
        self.assertEqual(
            (inst.kind, inst.green_channel, inst.active), (InstitutionKind.DISTRICT_SERVICE, False, False)
        )

    def test_a_psych_teacher_cannot_manage_the_registry(self) -> None:
        with self.assertRaises(ServiceError):
            services.create_institution(
                by=self.w.psych_a, district=self.w.district, name="x", kind="hospital"
            )
        with self.assertRaises(ServiceError):
            services.set_institution_active(institution=self.inst, by=self.w.psych_a, active=False)
        self.inst.refresh_from_db()
        self.assertTrue(self.inst.active)


# ---- daily reminders ---------------------------------------------------------------------------


class ReminderTest(ReferralBase):
    def feedback_messages(self) -> list[Message]:
        return list(
            Message.objects.filter(kind="referral_feedback_overdue", channel=MessageChannel.IN_APP).order_by(
                "pk"
            )
        )

    def test_overdue_feedback_reminds_the_owner_once_a_day(self) -> None:
        referral = self.refer(on=TODAY - 20 * DAY)
        due = referral.feedback_due_on
        self.assertEqual(services.remind_overdue_feedback(today=due), 0)  # due today: not overdue yet
        self.assertEqual(services.remind_overdue_feedback(today=due + DAY), 1)
        self.assertEqual(services.remind_overdue_feedback(today=due + DAY), 0)  # same day again: nothing
        sent = self.feedback_messages()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0].recipient, self.w.psych_a)
        self.assertNotIn(self.w.student_a41.name, sent[0].subject + sent[0].body)
        referral.refresh_from_db()
        self.assertEqual(referral.feedback_reminded_on, due + DAY)
        self.assertEqual(services.remind_overdue_feedback(today=due + 2 * DAY), 1)  # the next day, again
        self.assertEqual(len(self.feedback_messages()), 2)

    def test_one_message_per_owner_and_only_while_waiting_for_feedback(self) -> None:
        self.refer(on=TODAY - 20 * DAY)
        self.refer(on=TODAY - 20 * DAY, inst=self.green)
        other_case = open_case(self.w.student_a42, self.w.psych_a, Tier.GENERAL)
        answered = self.refer(other_case, on=TODAY - 20 * DAY)
        services.record_feedback(
            referral=answered, by=self.w.psych_a, diagnosis_summary="", advice="随访",
            feedback_on=TODAY,
        )  # fmt: skip
        self.assertEqual(services.remind_overdue_feedback(today=TODAY), 2)
        sent = self.feedback_messages()
        self.assertEqual(len(sent), 1)
        self.assertIn("2", sent[0].body)

    def test_check_ins_due_remind_once_a_day(self) -> None:
        referral = self.to_returned(self.refer(on=TODAY - 12 * DAY), on=TODAY - 10 * DAY)
        first = referral.check_ins.first()
        assert first is not None
        services.record_check_in(check_in=first, by=self.w.psych_a, done_on=TODAY, note="好")
        # Due on returned+3 (done), +7 (overdue), +14 (not yet), +30.
        self.assertEqual(services.remind_due_check_ins(today=TODAY), 1)
        self.assertEqual(services.remind_due_check_ins(today=TODAY), 0)
        self.assertEqual(Message.objects.filter(kind="referral_check_in_due", channel="in_app").count(), 1)
        self.assertEqual(services.remind_due_check_ins(today=TODAY + 4 * DAY), 2)  # +14 now due too
        self.assertEqual(Message.objects.filter(kind="referral_check_in_due", channel="in_app").count(), 2)
        body = Message.objects.filter(kind="referral_check_in_due").first()
        assert body is not None
        self.assertNotIn(self.w.student_a41.name, body.body)


def _race(target, n: int = 2) -> list[object]:  # type: ignore[no-untyped-def]
    results: list[object] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        barrier.wait()
        try:
            results.append(target())
        except Exception as exc:  # noqa: BLE001 — a refusal is a result
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_feedback_reminder_jobs_at_once_send_one_message() -> None:
    world = build_world()
    case = open_case(world.student_a41, world.psych_a, Tier.SERIOUS)
    inst = hospital(world.district)
    services.make_referral(
        case=case, by=world.psych_a, institution=inst, reason="r",
        referred_on=TODAY - 20 * DAY, accompanied_by="", guardian_agreed=True,
    )  # fmt: skip
    results = _race(lambda: services.remind_overdue_feedback(today=TODAY))
    assert sorted(results) == [0, 1]  # type: ignore[type-var]
    assert Message.objects.filter(kind="referral_feedback_overdue", channel="in_app").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_check_in_reminder_jobs_at_once_send_one_message() -> None:
    world = build_world()
    case = open_case(world.student_a41, world.psych_a, Tier.SERIOUS)
    psych = User.objects.get(pk=world.psych_a.pk)
    referral = services.make_referral(
        case=case, by=psych, institution=hospital(world.district), reason="r",
        referred_on=TODAY - 20 * DAY, accompanied_by="", guardian_agreed=True,
    )  # fmt: skip
    services.record_feedback(
        referral=referral,
        by=psych,
        diagnosis_summary="",
        advice="a",
        feedback_on=TODAY - 10 * DAY,
    )
    services.record_return(referral=referral, by=psych, returned_on=TODAY - 10 * DAY, return_plan="p")
    results = _race(lambda: services.remind_due_check_ins(today=TODAY))
    assert sorted(results) == [0, 2]  # type: ignore[type-var]
    assert Message.objects.filter(kind="referral_check_in_due", channel="in_app").count() == 1


# ---- pages and who sees what ---------------------------------------------------------------------


class ReferralPagesTest(ReferralBase):
    def setUp(self) -> None:
        super().setUp()
        # A SERIOUS case is shared with the centre; a GENERAL one is not.
        self.general = open_case(self.w.student_a42, self.w.psych_a, Tier.GENERAL)
        self.assertTrue(self.case.escalated_to_centre)
        self.assertFalse(self.general.escalated_to_centre)
        self.serious_ref = self.refer(on=TODAY - 20 * DAY)  # feedback overdue
        self.general_ref = self.refer(self.general, on=TODAY)
        services.record_feedback(
            referral=self.general_ref, by=self.w.psych_a, diagnosis_summary=DIAGNOSIS,
            advice="药物治疗", feedback_on=TODAY,
        )  # fmt: skip

    def url(self, referral: Referral) -> str:
        return f"/care/referrals/{referral.uid}/"

    def test_new_referral_form_and_post(self) -> None:
        other = open_case(self.w.student_a71, self.w.psych_a, Tier.SEVERE)
        client = self.client_for(self.w.psych_a)
        url = f"/care/cases/{other.uid}/referrals/new/"
        page = client.get(url)
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertLess(html.index("市精神卫生中心"), html.index("区人民医院"))  # green channel first
        self.assertIn('data-green="1"', html)
        response = client.post(
            url,
            {
                "institution": str(self.green.uid),
                "reason": "需要专业评估",
                "referred_on": TODAY.isoformat(),
                "accompanied_by": "父亲",
                "guardian_agreed": "1",
            },
        )
        referral = Referral.objects.get(case=other)
        self.assertRedirects(response, self.url(referral), fetch_redirect_response=False)
        self.assertEqual((referral.institution, referral.guardian_agreed), (self.green, True))
        # A bad date is refused with a message; nothing is created.
        response = client.post(
            url, {"institution": str(self.inst.uid), "reason": "r", "referred_on": "2099-01-01"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "referred on", status_code=200)
        self.assertEqual(Referral.objects.filter(case=other).count(), 1)

    def test_new_referral_is_404_out_of_scope_and_for_another_districts_institution(self) -> None:
        url = f"/care/cases/{self.case.uid}/referrals/new/"
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.leader_a, self.w.district_admin):
            self.assertEqual(self.client_for(user).get(url).status_code, 404, user.username)
            self.assertEqual(
                self.client_for(user)
                .post(url, {"institution": str(self.green.uid), "reason": "r"})
                .status_code,
                404,
            )
        foreign = hospital(District.objects.create(code="510001", name="别区"), "别区医院")
        response = self.client_for(self.w.psych_a).post(
            url, {"institution": str(foreign.uid), "reason": "r", "referred_on": TODAY.isoformat()}
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Referral.objects.filter(institution=foreign).exists())
        self.assertTrue(AuditEntry.objects.filter(action=Action.DENIED, object_type="institution").exists())

    def test_detail_per_role(self) -> None:
        page = self.client_for(self.w.psych_a).get(self.url(self.general_ref))
        self.assertContains(page, DIAGNOSIS)
        self.assertContains(page, "区人民医院")
        for user in (
            self.w.psych_b,
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
            self.w.leader_a,
            self.w.district_admin,
        ):
            for referral in (self.serious_ref, self.general_ref):
                response = self.client_for(user).get(self.url(referral))
                self.assertEqual(response.status_code, 404, user.username)
                self.assertNotContains(response, DIAGNOSIS, status_code=404)
        # The centre's expert: only the case shared with the centre.
        expert = self.client_for(self.w.centre_expert)
        self.assertEqual(expert.get(self.url(self.serious_ref)).status_code, 200)
        response = expert.get(self.url(self.general_ref))
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, DIAGNOSIS, status_code=404)
        self.assertTrue(
            AuditEntry.objects.filter(
                action=Action.DENIED,
                object_type="referral",
                object_id=str(self.general_ref.uid),
                user=self.w.centre_expert,
            ).exists()
        )
        self.assertTrue(
            AuditEntry.objects.filter(
                action=Action.VIEW,
                object_type="referral",
                object_id=str(self.serious_ref.uid),
                user=self.w.centre_expert,
            ).exists()
        )

    def test_list_per_role_with_overdue_feedback_in_red(self) -> None:
        page = self.client_for(self.w.psych_a).get("/care/referrals/")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertIn(self.w.student_a41.name, html)
        self.assertIn(self.w.student_a42.name, html)
        self.assertEqual(html.count('data-overdue="1"'), 1)
        row = html[html.index('data-overdue="1"') - 40 : html.index(self.w.student_a41.name)]
        self.assertIn('class="overdue"', row)
        self.assertNotIn(DIAGNOSIS, html)  # the list never shows feedback
        expert = self.client_for(self.w.centre_expert).get("/care/referrals/").content.decode()
        self.assertIn(self.w.student_a41.name, expert)
        self.assertNotIn(self.w.student_a42.name, expert)
        other = self.client_for(self.w.psych_b).get("/care/referrals/")
        self.assertEqual(other.status_code, 200)
        self.assertNotContains(other, self.w.student_a41.name)
        self.assertNotContains(other, self.w.student_a42.name)
        for user in (
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
            self.w.leader_a,
            self.w.district_admin,
        ):
            response = self.client_for(user).get("/care/referrals/")
            self.assertEqual(response.status_code, 404, user.username)
            self.assertNotContains(response, DIAGNOSIS, status_code=404)

    def test_steps_through_the_page(self) -> None:
        client = self.client_for(self.w.psych_a)
        base = self.url(self.serious_ref)
        client.post(base + "seen/", {"seen_on": (TODAY - 19 * DAY).isoformat()})
        self.serious_ref.refresh_from_db()
        self.assertEqual(self.serious_ref.status, ReferralStatus.SEEN)
        client.post(
            base + "feedback/",
            {"diagnosis_summary": "焦虑", "advice": "心理治疗", "feedback_on": TODAY.isoformat()},
        )
        client.post(base + "return/", {"returned_on": TODAY.isoformat(), "return_plan": "每周谈话"})
        self.serious_ref.refresh_from_db()
        self.assertEqual(self.serious_ref.status, ReferralStatus.RETURNED)
        page = client.get(base)
        self.assertContains(page, "每周谈话")
        check_ins = list(self.serious_ref.check_ins.all())
        self.assertEqual(len(check_ins), 4)
        for c in check_ins:
            client.post(f"{base}check-ins/{c.pk}/", {"done_on": TODAY.isoformat(), "note": "稳定"})
        client.post(base + "finish/")
        self.serious_ref.refresh_from_db()
        self.assertEqual(self.serious_ref.status, ReferralStatus.CLOSED)
        history = client.get(base).content.decode()
        self.assertIn(self.w.psych_a.full_name, history)
        self.assertIn(f"{TODAY - 19 * DAY:%Y-%m-%d}", history)  # the dated history shows the seen date

    def test_a_refused_step_shows_the_message_and_changes_nothing(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.post(
            self.url(self.serious_ref) + "return/",
            {"returned_on": TODAY.isoformat(), "return_plan": "p"},
            follow=True,
        )
        self.assertContains(response, "msg-error")
        self.serious_ref.refresh_from_db()
        self.assertEqual(self.serious_ref.status, ReferralStatus.SENT)
        self.assertEqual(client.post(self.url(self.serious_ref) + "explode/").status_code, 404)

    def test_steps_are_404_out_of_scope(self) -> None:
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.district_admin, self.w.leader_a):
            response = self.client_for(user).post(self.url(self.serious_ref) + "cancel/", {"reason": "x"})
            self.assertEqual(response.status_code, 404)
        response = self.client_for(self.w.centre_expert).post(
            self.url(self.general_ref) + "return/", {"return_plan": "p"}
        )
        self.assertEqual(response.status_code, 404)
        self.serious_ref.refresh_from_db()
        self.general_ref.refresh_from_db()
        self.assertEqual(
            (self.serious_ref.status, self.general_ref.status), (ReferralStatus.SENT, ReferralStatus.FEEDBACK)
        )

    def test_registry_read_by_case_runners_managed_by_district_admin_and_centre_expert(self) -> None:
        page = self.client_for(self.w.psych_a).get("/care/institutions/")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertLess(html.index("市精神卫生中心"), html.index("区人民医院"))
        self.assertNotIn("add-institution", html)
        # Psych teachers read, never manage.
        psych = self.client_for(self.w.psych_a)
        self.assertEqual(
            psych.post("/care/institutions/", {"name": "新机构", "kind": "hospital"}).status_code, 404
        )
        self.assertEqual(psych.get(f"/care/institutions/{self.inst.uid}/").status_code, 404)
        self.assertEqual(
            psych.post(f"/care/institutions/{self.inst.uid}/active/", {"active": "0"}).status_code, 404
        )
        self.assertFalse(Institution.objects.filter(name="新机构").exists())
        self.inst.refresh_from_db()
        self.assertTrue(self.inst.active)
        for user in (self.w.class_teacher_a41, self.w.leader_a, self.w.grade_leader_a4):
            self.assertEqual(self.client_for(user).get("/care/institutions/").status_code, 404)
        # District admin adds; centre expert edits and deactivates.
        admin = self.client_for(self.w.district_admin)
        self.assertContains(admin.get("/care/institutions/"), "add-institution")
        admin.post(
            "/care/institutions/",
            {
                "name": "区青少年心理服务站",
                "kind": "district_service",
                "phone": "023-1234",
                "green_channel": "1",
            },
        )
        added = Institution.objects.get(name="区青少年心理服务站")
        self.assertEqual((added.district, added.green_channel), (self.w.district, True))
        expert = self.client_for(self.w.centre_expert)
        self.assertEqual(expert.get(f"/care/institutions/{added.uid}/").status_code, 200)
        expert.post(
            f"/care/institutions/{added.uid}/",
            {"name": "区青少年心理服务站", "kind": "district_service", "department": "热线", "active": "1"},
        )
        added.refresh_from_db()
        self.assertEqual((added.department, added.green_channel), ("热线", False))
        expert.post(f"/care/institutions/{added.uid}/active/", {"active": "0"})
        added.refresh_from_db()
        self.assertFalse(added.active)
        # Deactivated: off the referral form and the read-only list.
        form = self.client_for(self.w.psych_a).get(f"/care/cases/{self.case.uid}/referrals/new/")
        self.assertNotContains(form, "区青少年心理服务站")
        self.assertNotContains(
            self.client_for(self.w.psych_a).get("/care/institutions/"), "区青少年心理服务站"
        )
        self.assertContains(admin.get("/care/institutions/"), "区青少年心理服务站")
        # Another district's admin cannot edit it.
        other = District.objects.create(code="510002", name="别区")
        other_admin = User.objects.create_user(username="other_admin", password="x-pass-2026")
        from xinyu.org.models import Role, RoleAssignment

        RoleAssignment.objects.create(user=other_admin, role=Role.DISTRICT_ADMIN, district=other)
        self.assertEqual(
            self.client_for(other_admin).get(f"/care/institutions/{added.uid}/").status_code, 404
        )
