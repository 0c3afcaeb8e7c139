"""Consent enforced in the data layer (issue 11 §5): no answer is stored without the
guardian's consent and the student's assent, whatever writes it (service, ORM, raw SQL, the
API); a withdrawal stops processing; consent decisions are immutable."""

from __future__ import annotations

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tests.personas import PersonaTestCase
from tests.screening_helpers import CALM, answer_all, complete, consent_and_start, invitation, make_campaign
from xinyu.audit import chain
from xinyu.kernel.errors import ServiceError
from xinyu.screening import services
from xinyu.screening.models import Answer, Channel, Consent, ConsentDecision, Invitation, Progress, Result


class ConsentInTheDatabaseTest(PersonaTestCase):
    def setUp(self) -> None:
        self.campaign = make_campaign(self.w)
        self.inv = invitation(self.campaign, self.w.student_a41)

    def _refused(self, write) -> None:  # type: ignore[no-untyped-def]
        with self.assertRaises(DatabaseError) as raised, transaction.atomic():
            write()
        self.assertIn("xinyu:", str(raised.exception))

    def test_the_orm_cannot_store_an_answer_without_consent(self) -> None:
        self._refused(
            lambda: Answer.objects.create(
                invitation=self.inv, instrument="PHQ9", item=1, value=0, answered_at=timezone.now()
            )
        )
        self.assertEqual(Answer.objects.count(), 0)

    def test_consent_without_the_students_assent_is_not_enough(self) -> None:
        services.record_consent(invitation=self.inv, decision=Consent.GIVEN, channel=Channel.LINK)
        self._refused(
            lambda: Answer.objects.create(
                invitation=self.inv, instrument="PHQ9", item=1, value=0, answered_at=timezone.now()
            )
        )

    def test_raw_sql_cannot_store_an_answer_without_consent(self) -> None:
        def raw() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO screening_answer (invitation_id, instrument, item, value, answered_at) "
                    "VALUES (%s, 'PHQ9', 1, 3, %s)",
                    [self.inv.pk, connection.ops.adapt_datetimefield_value(timezone.now())],
                )

        self._refused(raw)
        self.assertEqual(Answer.objects.count(), 0)

    def test_a_stale_invitation_in_the_service_is_refused_with_a_message_after_withdrawal(self) -> None:
        started = consent_and_start(self.inv)
        services.save_answer(invitation=started, instrument="PHQ9", item=1, value=1)
        # The guardian withdraws while the student's page still holds the old invitation.
        services.record_consent(invitation=started, decision=Consent.WITHDRAWN, channel=Channel.LINK)
        with self.assertRaises(ServiceError) as raised:
            services.save_answer(invitation=started, instrument="PHQ9", item=2, value=1)
        self.assertIn("同意", raised.exception.zh)
        # ... the answer kept is the one given before, and the database still works.
        self.assertEqual(list(Answer.objects.values_list("item", flat=True)), [1])
        # A change of an existing answer is refused too.
        self._refused(lambda: Answer.objects.filter(invitation=started).update(value=3))

    def test_withdrawal_stops_scoring_in_submit_and_in_bulk(self) -> None:
        started = consent_and_start(self.inv)
        answer_all(started, CALM)
        Invitation.objects.filter(pk=started.pk).update(
            progress=Progress.COMPLETED, completed_at=timezone.now()
        )
        services.record_consent(invitation=started, decision=Consent.WITHDRAWN, channel=Channel.LINK)
        scored = services.bulk_score(
            Invitation.objects.filter(pk=started.pk), district_code=self.w.district.code
        )
        self.assertEqual(scored, 0)
        self.assertEqual(Result.objects.count(), 0)
        self._refused(
            lambda: Result.objects.create(
                invitation=started,
                instrument="PHQ9",
                version="1",
                primary_raw=1,
                data={},
                scored_at=timezone.now(),
            )
        )

    def test_a_consented_assented_protocol_is_stored_and_scored(self) -> None:
        done = complete(consent_and_start(self.inv), CALM)
        self.assertEqual(Invitation.objects.get(pk=done.pk).progress, Progress.COMPLETED)
        self.assertGreater(Result.objects.filter(invitation=done).count(), 0)

    def test_consent_decisions_cannot_be_changed_or_deleted(self) -> None:
        services.record_consent(invitation=self.inv, decision=Consent.GIVEN, channel=Channel.LINK)
        decision = ConsentDecision.objects.get(invitation=self.inv)
        self._refused(
            lambda: ConsentDecision.objects.filter(pk=decision.pk).update(decision=Consent.DECLINED)
        )
        chain.FLUSH_ALLOWED, was = False, chain.FLUSH_ALLOWED  # as outside the test runner
        try:
            self._refused(lambda: ConsentDecision.objects.filter(pk=decision.pk).delete())
        finally:
            chain.FLUSH_ALLOWED = was
        self.assertEqual(ConsentDecision.objects.get(pk=decision.pk).decision, Consent.GIVEN)
        # A change of mind is a new row; the first one stays.
        services.record_consent(invitation=self.inv, decision=Consent.WITHDRAWN, channel=Channel.LINK)
        self.assertEqual(
            list(ConsentDecision.objects.filter(invitation=self.inv).values_list("decision", flat=True)),
            [Consent.GIVEN, Consent.WITHDRAWN],
        )
