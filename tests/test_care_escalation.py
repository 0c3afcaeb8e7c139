"""Three-level warning and escalation (SPEC §4, SJS 3.(三)1) with a frozen clock: the job is
given `now`, so every deadline is tested on both sides without waiting or mocking."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.personas import PersonaTestCase, build_world
from tests.screening_helpers import consent_and_start, invitation, make_campaign
from xinyu.care import services
from xinyu.care.models import EventKind, Level, Source, Step, Warning, WarningEvent
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message
from xinyu.org.models import Role, RoleAssignment, User


def urgent_from_screening(world) -> Warning:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world)
    inv = consent_and_start(invitation(campaign, world.student_a41))
    from xinyu.screening import services as screening

    screening.save_answer(invitation=inv, instrument="PHQ9", item=9, value=2)
    return Warning.objects.get(student=world.student_a41)


class EscalationTest(PersonaTestCase):
    def test_an_urgent_screening_warning_starts_with_the_psych_teacher_and_a_two_hour_deadline(self) -> None:
        before = timezone.now()
        warning = urgent_from_screening(self.w)
        self.assertEqual((warning.step, warning.level), (Step.SCHOOL, Level.URGENT))
        self.assertAlmostEqual((warning.ack_due_at - before).total_seconds(), 2 * 3600, delta=60)
        self.assertEqual(
            list(warning.events.values_list("kind", flat=True)), [EventKind.OPENED, EventKind.SIGNAL]
        )

    def test_escalates_to_the_district_centre_only_after_the_deadline_and_only_once(self) -> None:
        warning = urgent_from_screening(self.w)
        due = warning.ack_due_at
        self.assertEqual(services.escalate_overdue(now=due - dt.timedelta(minutes=1)), 0)
        self.assertEqual(services.escalate_overdue(now=due + dt.timedelta(minutes=1)), 1)
        warning.refresh_from_db()
        self.assertEqual((warning.step, warning.escalations), (Step.DISTRICT, 1))
        self.assertEqual(warning.events.filter(kind=EventKind.ESCALATED).count(), 1)
        self.assertTrue(
            Message.objects.filter(recipient=self.w.centre_expert, kind="urgent_warning").exists()
        )
        # Running again at the same moment changes nothing (idempotent).
        self.assertEqual(services.escalate_overdue(now=due + dt.timedelta(minutes=1)), 0)
        # At the top it stays overdue: nothing further to escalate to.
        self.assertEqual(services.escalate_overdue(now=due + dt.timedelta(days=2)), 0)
        self.assertTrue(warning.overdue(due + dt.timedelta(days=2)))

    def test_the_centre_expert_sees_it_only_once_escalated(self) -> None:
        warning = urgent_from_screening(self.w)
        url = f"/care/warnings/{warning.uid}/"
        self.assertEqual(self.client_for(self.w.centre_expert).get(url).status_code, 404)
        services.escalate_overdue(now=warning.ack_due_at + dt.timedelta(minutes=1))
        self.assertEqual(self.client_for(self.w.centre_expert).get(url).status_code, 200)
        self.assertIn(
            self.w.student_a41.name, self.client_for(self.w.centre_expert).get("/").content.decode()
        )
        self.assertEqual(self.client_for(self.w.district_admin).get(url).status_code, 404)

    def test_class_grade_school_ladder_with_each_levels_hours(self) -> None:
        warning = urgent_from_screening(self.w)
        start = timezone.now()
        Warning.objects.filter(pk=warning.pk).update(step=Step.CLASS, level=Level.HIGH, ack_due_at=start)
        now = start + dt.timedelta(seconds=1)
        self.assertEqual(services.escalate_overdue(now=now), 1)
        warning.refresh_from_db()
        self.assertEqual(warning.step, Step.GRADE)  # A 4(1) → the grade-4 leader
        self.assertEqual(warning.ack_due_at, now + dt.timedelta(hours=24))  # "high": 24 hours
        self.assertTrue(Message.objects.filter(recipient=self.w.grade_leader_a4).exists())
        self.assertEqual(services.escalate_overdue(now=now + dt.timedelta(hours=23)), 0)
        self.assertEqual(services.escalate_overdue(now=now + dt.timedelta(hours=24, seconds=1)), 1)
        warning.refresh_from_db()
        self.assertEqual(warning.step, Step.SCHOOL)

    def test_a_step_with_nobody_is_skipped(self) -> None:
        RoleAssignment.objects.filter(role=Role.GRADE_LEADER).delete()
        warning = urgent_from_screening(self.w)
        Warning.objects.filter(pk=warning.pk).update(step=Step.CLASS, ack_due_at=timezone.now())
        services.escalate_overdue(now=timezone.now() + dt.timedelta(seconds=1))
        warning.refresh_from_db()
        self.assertEqual(warning.step, Step.SCHOOL)

    def test_an_acknowledged_warning_does_not_escalate_and_a_second_acknowledgement_is_refused(self) -> None:
        warning = urgent_from_screening(self.w)
        services.acknowledge_warning(warning=warning, by=self.w.psych_a)
        with self.assertRaises(ServiceError) as ctx:
            services.acknowledge_warning(warning=warning, by=self.w.psych_a)
        self.assertIn("甲心理老师", str(ctx.exception))
        self.assertEqual(warning.events.filter(kind=EventKind.ACKNOWLEDGED).count(), 1)
        self.assertEqual(services.escalate_overdue(now=timezone.now() + dt.timedelta(days=1)), 0)

    def test_a_higher_signal_reopens_with_the_higher_levels_deadline(self) -> None:
        warning = urgent_from_screening(self.w)
        Warning.objects.filter(pk=warning.pk).update(level=Level.WATCH, status="acknowledged")
        services.raise_warning(student=self.w.student_a41, level=Level.HIGH, source=Source.SCREENING_RESULT)
        warning.refresh_from_db()
        self.assertEqual((warning.level, warning.status), (Level.HIGH, "open"))
        self.assertTrue(warning.events.filter(kind=EventKind.RAISED).exists())

    def test_overdue_is_red_on_the_psych_teachers_home(self) -> None:
        warning = urgent_from_screening(self.w)
        home = self.client_for(self.w.psych_a).get("/").content.decode()
        self.assertNotIn('data-overdue="1"', home)
        Warning.objects.filter(pk=warning.pk).update(ack_due_at=timezone.now() - dt.timedelta(minutes=1))
        home = self.client_for(self.w.psych_a).get("/").content.decode()
        self.assertIn('data-overdue="1"', home)
        self.assertIn("已逾期", home)

    def test_acknowledging_through_the_page_twice_shows_who_was_first(self) -> None:
        warning = urgent_from_screening(self.w)
        client = self.client_for(self.w.psych_a)
        client.post(f"/care/warnings/{warning.uid}/acknowledge/")
        page = client.post(f"/care/warnings/{warning.uid}/acknowledge/", follow=True)
        self.assertContains(page, "已由")


def _race(target, n: int = 2) -> list[object]:  # type: ignore[no-untyped-def]
    results: list[object] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        barrier.wait()
        try:
            results.append(target())
        except Exception as exc:  # noqa: BLE001 — the loser's refusal is the result
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
def test_two_concurrent_acknowledgements_one_wins() -> None:
    world = build_world()
    warning = urgent_from_screening(world)
    psych = User.objects.get(pk=world.psych_a.pk)
    results = _race(
        lambda: services.acknowledge_warning(warning=Warning.objects.get(pk=warning.pk), by=psych)
    )
    assert sum(isinstance(r, Warning) for r in results) == 1
    assert sum(isinstance(r, ServiceError) for r in results) == 1
    assert WarningEvent.objects.filter(warning=warning, kind=EventKind.ACKNOWLEDGED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_escalation_jobs_at_once_escalate_once() -> None:
    world = build_world()
    warning = urgent_from_screening(world)
    later = warning.ack_due_at + dt.timedelta(minutes=1)
    results = _race(lambda: services.escalate_overdue(now=later))
    assert sorted(results) == [0, 1]  # type: ignore[type-var]
    assert WarningEvent.objects.filter(warning=warning, kind=EventKind.ESCALATED).count() == 1


def test_a_bad_care_section_is_refused_with_the_field_named() -> None:
    from xinyu.care.rules import CareRulesError, care_rules, parse_care_rules

    with pytest.raises(CareRulesError, match=r"acknowledge_within_hours\.urgent"):
        parse_care_rules({"acknowledge_within_hours": {"urgent": -1}})
    with pytest.raises(CareRulesError, match=r"acknowledge_within_hours\.soon"):
        parse_care_rules({"acknowledge_within_hours": {"soon": 3}})
    with pytest.raises(CareRulesError, match=r"start_step\.concern"):
        parse_care_rules({"start_step": {"concern": "moon"}})
    rules = care_rules("500153")  # the shipped files: urgent 2 h, high 24 h, screening → school
    assert (rules.acknowledge_hours["urgent"], rules.acknowledge_hours["high"]) == (2, 24)
    assert rules.start(Source.SCREENING_CRITICAL) == Step.SCHOOL
