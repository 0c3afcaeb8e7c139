"""The screening path through the services: campaign → consent → assent → answers → submit,
with warnings, tasks, withdrawal and the second stage."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.personas import PersonaTestCase
from tests.screening_helpers import (
    CALM,
    answer_all,
    complete,
    consent_and_start,
    invitation,
    make_campaign,
    with_phq,
)
from xinyu.audit.models import AuditEntry
from xinyu.care.models import Signal, Task, Warning
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message, MessageChannel
from xinyu.screening import access as screening_access
from xinyu.screening import services
from xinyu.screening.models import (
    Answer,
    Channel,
    Consent,
    ConsentDecision,
    InstrumentVersion,
    Invitation,
    Progress,
    Result,
)


class CampaignCreationTest(PersonaTestCase):
    def test_invites_every_enrolled_student_of_the_target_grades_with_unique_codes(self) -> None:
        campaign = make_campaign(self.w)
        invited = Invitation.objects.filter(campaign=campaign)
        self.assertEqual(invited.count(), 5)  # a41 ×2, a42, a71, b41
        self.assertEqual(len(set(invited.values_list("code", flat=True))), 5)
        self.assertTrue(all(i.consent == Consent.PENDING for i in invited))
        self.assertEqual(InstrumentVersion.objects.count(), 2)
        self.assertTrue(AuditEntry.objects.filter(object_type="campaign", action="create").exists())

    def test_only_target_grades_are_invited(self) -> None:
        now = timezone.now()
        campaign = services.create_campaign(
            by=self.w.district_admin,
            name="七年级",
            school_year="2026-2027",
            schools=[self.w.school_a],
            scope_label="甲",
            target_grades=[7],
            batteries=[services.BatterySpec(7, 9, ["PHQ9"])],
            opens_at=now,
            closes_at=now + dt.timedelta(days=1),
            consent_text="x",
            consent_version="1",
        )
        self.assertEqual(
            list(campaign.invitations.values_list("student", flat=True)), [self.w.student_a71.pk]
        )

    def test_bad_input_is_refused_with_a_message_naming_the_field_and_writes_nothing(self) -> None:
        now = timezone.now()
        base = dict(
            by=self.w.district_admin,
            name="x",
            school_year="2026-2027",
            schools=[self.w.school_a],
            scope_label="甲",
            target_grades=[4],
            batteries=[services.BatterySpec(4, 6, ["PHQ9"])],
            opens_at=now,
            closes_at=now + dt.timedelta(days=1),
            consent_text="x",
            consent_version="1",
        )
        cases = [
            ({"closes_at": now - dt.timedelta(days=1)}, "closes_at"),
            ({"target_grades": [4, 7]}, "batteries"),  # grade 7 has no battery
            ({"batteries": [services.BatterySpec(4, 6, ["NOPE"])]}, "batteries"),
            ({"batteries": [services.BatterySpec(1, 6, ["PHQ9"])]}, "batteries"),  # PHQ-9 not for grade 1
            ({"name": " "}, "name"),
            ({"consent_text": ""}, "consent_text"),
        ]
        for change, field in cases:
            with self.subTest(field=field, change=change):
                with self.assertRaises(ServiceError) as ctx:
                    services.create_campaign(**{**base, **change})
                self.assertEqual(ctx.exception.field, field)
                self.assertTrue(ctx.exception.zh and ctx.exception.en)
        self.assertEqual(Invitation.objects.count(), 0)


class ConsentTest(PersonaTestCase):
    def setUp(self) -> None:
        self.campaign = make_campaign(self.w)
        self.inv = invitation(self.campaign, self.w.student_a41)

    def test_no_consent_no_start(self) -> None:
        self.assertEqual(services.state_of(self.inv), services.State.NO_CONSENT)
        with self.assertRaises(ServiceError):
            services.give_assent(invitation=self.inv)
        services.record_consent(invitation=self.inv, decision=Consent.DECLINED, channel=Channel.QR)
        with self.assertRaises(ServiceError):
            services.give_assent(invitation=self.inv)

    def test_each_decision_records_time_channel_and_text_version(self) -> None:
        services.record_consent(
            invitation=self.inv, decision=Consent.GIVEN, channel=Channel.SMS, relation="母亲"
        )
        decision = ConsentDecision.objects.get(invitation=self.inv)
        self.assertEqual(
            (decision.decision, decision.channel, decision.text_version), ("given", "sms", "1.0")
        )
        self.assertEqual(decision.relation, "母亲")
        self.assertIsNotNone(decision.at)

    def test_withdrawal_after_completion_hides_results_and_ends_follow_ups(self) -> None:
        inv = consent_and_start(self.inv)
        complete(inv, CALM)
        [child] = services.assign_follow_up(
            by=self.w.psych_a,
            parents=[Invitation.objects.get(pk=inv.pk)],
            instruments=None,
        )

        self.assertTrue(screening_access.result_invitations_for(self.w.psych_a).filter(pk=inv.pk).exists())
        services.record_consent(invitation=inv, decision=Consent.WITHDRAWN, channel=Channel.LINK)
        self.assertFalse(screening_access.result_invitations_for(self.w.psych_a).filter(pk=inv.pk).exists())
        child.refresh_from_db()
        self.assertEqual(child.consent, Consent.WITHDRAWN)
        self.assertEqual(services.state_of(child), services.State.NO_CONSENT)
        # Results stay in the database (the audit trail), only hidden.
        self.assertEqual(Result.objects.filter(invitation=inv).count(), 2)

    def test_declining_after_the_start_is_a_withdrawal(self) -> None:
        inv = consent_and_start(self.inv)
        services.record_consent(invitation=inv, decision=Consent.DECLINED, channel=Channel.LINK)
        inv.refresh_from_db()
        self.assertEqual(inv.consent, Consent.WITHDRAWN)

    def test_no_decision_after_the_window_closes(self) -> None:
        campaign = make_campaign(
            self.w,
            name="旧",
            opens=timezone.now() - dt.timedelta(days=9),
            closes=timezone.now() - dt.timedelta(days=2),
        )
        with self.assertRaises(ServiceError):
            services.record_consent(
                invitation=invitation(campaign, self.w.student_a41),
                decision=Consent.GIVEN,
                channel=Channel.LINK,
            )

    def test_consent_sms_goes_to_pending_guardians_only_and_is_logged(self) -> None:
        services.record_consent(
            invitation=invitation(self.campaign, self.w.student_a41_2),
            decision=Consent.GIVEN,
            channel=Channel.LINK,
        )
        with self.captureOnCommitCallbacks(execute=True):
            sent = services.send_consent_links(
                by=self.w.class_teacher_a41,
                campaign=self.campaign,
                school_class=self.w.class_a41,
            )
        self.assertEqual(sent, 1)
        message = Message.objects.get(kind="consent_request")
        self.assertEqual(message.channel, MessageChannel.SMS)
        self.assertIn(self.inv.guardian_token, message.link)
        self.assertEqual(message.status, "sent")


class AnsweringTest(PersonaTestCase):
    def setUp(self) -> None:
        self.campaign = make_campaign(self.w)
        self.inv = consent_and_start(invitation(self.campaign, self.w.student_a41))

    def test_answers_are_saved_one_by_one_and_resume_where_the_student_stopped(self) -> None:
        services.save_answer(invitation=self.inv, instrument="PHQ9", item=1, value=2)
        services.save_answer(invitation=self.inv, instrument="PHQ9", item=2, value=1)
        instrument, item = services.next_question(self.inv)  # type: ignore[misc]
        self.assertEqual((instrument.code, item), ("PHQ9", 3))

    def test_the_same_answer_twice_stores_one_row_and_a_change_replaces_it(self) -> None:
        for value in (1, 1, 3):
            services.save_answer(invitation=self.inv, instrument="PHQ9", item=1, value=value)
        self.assertEqual(
            list(Answer.objects.filter(invitation=self.inv).values_list("value", flat=True)), [3]
        )

    def test_invalid_answers_are_refused(self) -> None:
        for instrument, item, value, field in (
            ("PHQ9", 1, 7, "value"),
            ("PHQ9", 99, 0, "item"),
            ("ASQ", 1, 1, "instrument"),
        ):
            with self.subTest(field=field), self.assertRaises(ServiceError) as ctx:
                services.save_answer(invitation=self.inv, instrument=instrument, item=item, value=value)
            self.assertEqual(ctx.exception.field, field)
        self.assertFalse(Answer.objects.exists())

    def test_submit_refuses_an_incomplete_protocol(self) -> None:
        services.save_answer(invitation=self.inv, instrument="PHQ9", item=1, value=0)
        with self.assertRaises(ServiceError):
            services.submit(invitation=self.inv)
        self.assertFalse(Result.objects.exists())

    def test_submitting_twice_stores_one_response(self) -> None:
        complete(self.inv, CALM)
        services.submit(invitation=Invitation.objects.get(pk=self.inv.pk))
        self.assertEqual(Result.objects.filter(invitation=self.inv).count(), 2)
        inv = Invitation.objects.get(pk=self.inv.pk)
        self.assertEqual(inv.progress, Progress.COMPLETED)
        self.assertEqual(services.state_of(inv), services.State.COMPLETED)

    def test_calm_answers_get_the_first_tier_and_no_warning(self) -> None:
        inv = complete(self.inv, CALM)
        self.assertEqual(inv.tier, "none")
        self.assertFalse(inv.needs_retest)
        self.assertFalse(Warning.objects.exists())
        self.assertFalse(Task.objects.exists())

    def test_answering_too_fast_is_flagged_for_retest_never_no_concern(self) -> None:
        inv = complete(self.inv, CALM, seconds=0.2)
        self.assertTrue(inv.needs_retest)
        self.assertIn("too_fast", Result.objects.filter(invitation=inv).first().data["battery_flags"])  # type: ignore[union-attr]

    def test_a_critical_answer_raises_an_urgent_warning_the_moment_it_is_saved(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            services.save_answer(invitation=self.inv, instrument="PHQ9", item=9, value=1)
        warning = Warning.objects.get(student=self.w.student_a41)
        self.assertEqual((warning.level, warning.status), ("urgent", "open"))
        self.assertEqual(Signal.objects.get(warning=warning).code, "PHQ9.critical:phq9_item9")
        # The school's psych teacher is told in the app (and by SMS when they have a phone).
        self.assertTrue(Message.objects.filter(recipient=self.w.psych_a, kind="urgent_warning").exists())
        self.assertFalse(Message.objects.filter(recipient=self.w.psych_b).exists())
        # No name or answer leaves in the message text.
        message = Message.objects.get(recipient=self.w.psych_a, channel="in_app")
        self.assertNotIn(self.w.student_a41.name, message.body + message.subject)

    def test_a_critical_answer_gives_the_class_teacher_the_task_with_the_warning(self) -> None:
        # The student stops right after the critical item: the class teacher is not left out.
        services.save_answer(invitation=self.inv, instrument="PHQ9", item=9, value=1)
        services.stop_answering(invitation=self.inv)
        warning = Warning.objects.get(student=self.w.student_a41)
        task = Task.objects.get(student=self.w.student_a41)
        self.assertEqual(
            (task.school_class, task.warning_id, task.status), (self.w.class_a41, warning.pk, "open")
        )
        # Saving it again (a double tap) adds nothing.
        inv = Invitation.objects.get(pk=self.inv.pk)
        Invitation.objects.filter(pk=inv.pk).update(progress=Progress.STARTED)
        services.save_answer(invitation=Invitation.objects.get(pk=inv.pk), instrument="PHQ9", item=9, value=2)
        self.assertEqual(Task.objects.filter(student=self.w.student_a41).count(), 1)

    def test_a_critical_answer_then_hand_in_gives_one_task(self) -> None:
        services.save_answer(invitation=self.inv, instrument="PHQ9", item=9, value=1)
        self.assertEqual(Task.objects.filter(student=self.w.student_a41).count(), 1)
        inv = complete(self.inv, with_phq({9: 1}))
        self.assertEqual(inv.tier, "urgent")
        self.assertEqual(Task.objects.filter(student=self.w.student_a41).count(), 1)
        self.assertEqual(Warning.objects.filter(student=self.w.student_a41).count(), 1)

    def test_submit_with_a_critical_answer_keeps_one_warning_and_gives_the_class_teacher_a_task(self) -> None:
        inv = complete(self.inv, with_phq({9: 2}))
        self.assertEqual(inv.tier, "urgent")
        self.assertTrue(inv.critical)
        self.assertEqual(Warning.objects.filter(student=self.w.student_a41).count(), 1)
        self.assertEqual(Signal.objects.filter(code="PHQ9.critical:phq9_item9").count(), 1)
        task = Task.objects.get(student=self.w.student_a41)
        self.assertEqual(task.school_class, self.w.class_a41)

    def test_a_high_total_without_critical_answer_is_follow_up_with_a_high_warning(self) -> None:
        inv = complete(self.inv, with_phq({1: 3, 2: 3, 3: 3, 4: 3, 5: 3}))  # PHQ-9 = 15
        self.assertEqual(inv.tier, "follow_up")
        self.assertEqual(Warning.objects.get(student=self.w.student_a41).level, "high")
        self.assertTrue(Task.objects.filter(student=self.w.student_a41).exists())

    def test_a_closed_campaign_refuses_answers_with_a_friendly_state(self) -> None:
        Invitation.objects.filter(pk=self.inv.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
        inv = Invitation.objects.get(pk=self.inv.pk)
        self.assertEqual(services.state_of(inv), services.State.CLOSED)
        with self.assertRaises(ServiceError):
            services.save_answer(invitation=inv, instrument="PHQ9", item=1, value=0)

    def test_codes_are_found_whatever_the_case_and_spacing(self) -> None:
        code = self.inv.code
        self.assertEqual(services.find_by_code(f" {code[:4].lower()} {code[4:]} ").pk, self.inv.pk)  # type: ignore[union-attr]
        self.assertIsNone(services.find_by_code("AAAA"))
        self.assertIsNone(services.find_by_code("0O0O0O0O"))

    def test_stopping_keeps_answers_unscored(self) -> None:
        services.save_answer(invitation=self.inv, instrument="PHQ9", item=1, value=2)
        inv = services.stop_answering(invitation=self.inv)
        self.assertEqual(inv.progress, Progress.STOPPED)
        self.assertFalse(Result.objects.exists())
        with self.assertRaises(ServiceError):
            services.save_answer(invitation=inv, instrument="PHQ9", item=2, value=2)


class SecondStageTest(PersonaTestCase):
    def test_asq_after_item_nine_and_both_results_read_together(self) -> None:
        campaign = make_campaign(self.w)
        inv = complete(consent_and_start(invitation(campaign, self.w.student_a71)), with_phq({9: 1}))
        [child] = services.assign_follow_up(by=self.w.psych_a, parents=[inv], instruments=["ASQ"])
        self.assertEqual((child.stage, child.parent_id, child.consent), (2, inv.pk, Consent.GIVEN))
        self.assertNotEqual(child.code, inv.code)
        # Assigning again while the first is open gives the same one back.
        [again] = services.assign_follow_up(by=self.w.psych_a, parents=[inv], instruments=["ASQ"])
        self.assertEqual(again.pk, child.pk)
        child = services.give_assent(invitation=child)
        complete(child, {"ASQ": {1: 0, 2: 0, 3: 0, 4: 0}})
        from xinyu.screening.selectors import student_screenings

        both = student_screenings(self.w.psych_a, self.w.student_a71)
        self.assertEqual([i.stage for i in both], [1, 2])
        self.assertEqual(Result.objects.get(invitation=child).instrument, "ASQ")

    def test_care_reassessment_names_the_role_it_derives_itself(self) -> None:
        from xinyu.screening import followup

        campaign = make_campaign(self.w)
        inv = complete(consent_and_start(invitation(campaign, self.w.student_a71)), CALM)
        # Care still passes a role; the service derives it from who asks (and ignores the old one).
        child = followup.assign_reassessment(by=self.w.psych_a, role="x", parent=inv, instrument="ASQ")
        row = AuditEntry.objects.get(object_type="invitation", object_id=str(child.uid), action="create")
        self.assertEqual((row.role, row.student_id), ("psych_teacher", self.w.student_a71.pk))
        again = followup.assign_reassessment(by=self.w.psych_a, parent=inv, instrument="ASQ")
        self.assertEqual(again.pk, child.pk)

    def test_no_second_stage_for_a_student_who_does_not_take_part(self) -> None:
        campaign = make_campaign(self.w)
        inv = invitation(campaign, self.w.student_a41)
        services.record_consent(invitation=inv, decision=Consent.DECLINED, channel=Channel.LINK)
        with self.assertRaises(ServiceError):
            services.assign_follow_up(
                by=self.w.psych_a,
                parents=[Invitation.objects.get(pk=inv.pk)],
                instruments=None,
            )


class BulkScoreTest(PersonaTestCase):
    def test_bulk_scoring_matches_submit(self) -> None:
        campaign = make_campaign(self.w)
        inv = consent_and_start(invitation(campaign, self.w.student_a41))
        answer_all(inv, with_phq({9: 1}))
        Invitation.objects.filter(pk=inv.pk).update(progress=Progress.COMPLETED, completed_at=timezone.now())
        scored = services.bulk_score(Invitation.objects.filter(campaign=campaign), district_code="500153")
        self.assertEqual(scored, 1)
        inv.refresh_from_db()
        self.assertEqual(inv.tier, "urgent")
        self.assertEqual(Result.objects.filter(invitation=inv).count(), 2)
        result = Result.objects.get(invitation=inv, instrument="PHQ9")
        self.assertEqual((result.primary_raw, result.primary_band, result.critical), (1.0, "minimal", True))
        self.assertEqual(result.data["critical"][0]["code"], "phq9_item9")
        # The critical answer and the tier arrive together: one warning, and the class
        # teacher's task all the same.
        self.assertEqual(Warning.objects.get(student=self.w.student_a41).level, "urgent")
        self.assertEqual(Task.objects.filter(student=self.w.student_a41).count(), 1)
        self.assertEqual(
            services.bulk_score(Invitation.objects.filter(campaign=campaign), district_code="500153"), 0
        )
