"""The student's answering path as a browser without JavaScript walks it (issue 10 item 10):
each answer is a plain form post to the question page, saved at once, and the next
question is the response; the last answer leads to the hand-in screen. Every check of
the path holds on the new post: consent, window, assent, idempotency, the critical alert
in the answer's transaction, the audit rows; and the shared rendering of the question
page gives each student exactly the page a normal render gives."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.personas import PersonaTestCase
from tests.screening_helpers import CALM, consent_and_start, invitation, make_campaign
from xinyu.audit.models import AuditEntry
from xinyu.care.models import Warning
from xinyu.screening import public_views, services
from xinyu.screening.models import Answer, Campaign, Channel, Consent, Invitation, Progress, Result

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def post_answer(client: Client, code: str, instrument: str, item: int, value: int):  # type: ignore[no-untyped-def]
    return client.post(f"/s/{code}/", {"instrument": instrument, "item": item, "value": value})


class AnswerPathTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_campaign(cls.w)
        cls.inv = invitation(cls.campaign, cls.w.student_a41)

    def started(self) -> Invitation:
        return consent_and_start(Invitation.objects.get(pk=self.inv.pk))

    def test_the_whole_path_with_plain_form_posts(self) -> None:
        services.record_consent(invitation=self.inv, decision=Consent.GIVEN, channel=Channel.LINK)
        client = Client()
        self.assertContains(client.get("/s/"), "csrfmiddlewaretoken")
        entered = client.post("/s/", {"code": self.inv.code.lower()})
        self.assertRedirects(entered, f"/s/{self.inv.code}/", fetch_redirect_response=False)
        page = client.post(f"/s/{self.inv.code}/assent/", {"assent": "yes"}, follow=True)
        self.assertContains(page, "第 1 题，共 16 题")
        self.assertContains(page, f'action="/s/{self.inv.code}/"')  # the form posts to the page itself
        sent = [(i, n, v) for i, items in CALM.items() for n, v in items.items()]
        for position, (instrument, item, value) in enumerate(sent, start=1):
            response = post_answer(client, self.inv.code, instrument, item, value)
            # Saved the moment it is given, before the next page is even read.
            self.assertEqual(
                Answer.objects.get(invitation=self.inv, instrument=instrument, item=item).value, value
            )
            if position < len(sent):
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, f"第 {position + 1} 题，共 16 题")
            else:  # the last answer: to the hand-in screen, a page that can be reloaded
                self.assertRedirects(response, f"/s/{self.inv.code}/", fetch_redirect_response=False)
        self.assertContains(client.get(f"/s/{self.inv.code}/"), "交卷")
        done = client.post(f"/s/{self.inv.code}/submit/", follow=True)
        self.assertContains(done, "12355")
        inv = Invitation.objects.get(pk=self.inv.pk)
        self.assertEqual(inv.progress, Progress.COMPLETED)
        self.assertEqual(Result.objects.filter(invitation=inv).count(), 2)
        details = list(
            AuditEntry.objects.filter(object_type="invitation", object_id=str(inv.uid), role="student")
            .order_by("pk")
            .values_list("detail", flat=True)
        )
        self.assertEqual(details, ["assent", "submitted"])

    def test_the_same_answer_posted_again_changes_nothing(self) -> None:
        inv = self.started()
        client = Client()
        self.assertEqual(post_answer(client, inv.code, "PHQ9", 1, 2).status_code, 200)
        first = Answer.objects.get(invitation=inv)
        for _ in range(2):  # a double tap, a reloaded page
            self.assertEqual(post_answer(client, inv.code, "PHQ9", 1, 2).status_code, 200)
        again = Answer.objects.get(invitation=inv)
        self.assertEqual((again.pk, again.value, again.answered_at), (first.pk, 2, first.answered_at))
        # A different answer replaces the value (and its time).
        post_answer(client, inv.code, "PHQ9", 1, 3)
        changed = Answer.objects.get(invitation=inv)
        self.assertEqual((changed.pk, changed.value), (first.pk, 3))
        self.assertGreaterEqual(changed.answered_at, first.answered_at)

    def test_a_critical_answer_raises_the_warning_with_the_answer(self) -> None:
        inv = self.started()
        for item in range(1, 9):
            services.save_answer(invitation=inv, instrument="PHQ9", item=item, value=0)
        response = post_answer(Client(), inv.code, "PHQ9", 9, 2)
        self.assertEqual(response.status_code, 200)
        warning = Warning.objects.get(student=self.w.student_a41)
        self.assertEqual(warning.level, "urgent")
        self.assertTrue(Invitation.objects.get(pk=inv.pk).critical)
        self.assertEqual(Answer.objects.get(invitation=inv, item=9).value, 2)

    def test_the_answer_is_not_kept_when_its_alert_cannot_be_written(self) -> None:
        inv = self.started()
        with (
            mock.patch.object(services, "raise_warnings", side_effect=RuntimeError("care is down")),
            self.assertRaises(RuntimeError),
        ):
            services.save_answer(invitation=inv, instrument="PHQ9", item=9, value=3)
        self.assertFalse(Answer.objects.filter(invitation=inv).exists())
        self.assertFalse(Warning.objects.exists())
        self.assertFalse(Invitation.objects.get(pk=inv.pk).critical)

    def test_a_post_where_answering_is_not_possible_shows_why_and_stores_nothing(self) -> None:
        client = Client()
        # No consent yet: the page that asks for the guardian's agreement.
        self.assertContains(post_answer(client, self.inv.code, "PHQ9", 1, 0), "家长")
        services.record_consent(invitation=self.inv, decision=Consent.GIVEN, channel=Channel.LINK)
        # Consent but no assent: the assent screen.
        self.assertContains(post_answer(client, self.inv.code, "PHQ9", 1, 0), "我愿意参加")
        inv = services.give_assent(invitation=Invitation.objects.get(pk=self.inv.pk))
        # Stopped: the assent screen again, with the note.
        services.stop_answering(invitation=inv)
        self.assertContains(post_answer(client, inv.code, "PHQ9", 1, 0), "我愿意参加")
        services.give_assent(invitation=Invitation.objects.get(pk=inv.pk))
        # Closed: the closed page.
        Campaign.objects.filter(pk=self.campaign.pk).update(
            closes_at=timezone.now() - dt.timedelta(minutes=1)
        )
        self.assertContains(post_answer(client, inv.code, "PHQ9", 1, 0), "已结束")
        self.assertFalse(Answer.objects.exists())
        # A wrong value: the question again with the message, status 400.
        Campaign.objects.filter(pk=self.campaign.pk).update(closes_at=timezone.now() + dt.timedelta(days=1))
        response = post_answer(client, inv.code, "PHQ9", 1, 9)
        self.assertContains(response, "没有这个选项", status_code=400)
        response = client.post(f"/s/{inv.code}/", {"instrument": "PHQ9", "item": "x"})
        self.assertContains(response, "请选择一个选项", status_code=400)
        self.assertFalse(Answer.objects.exists())
        # An unknown code: the friendly 404.
        self.assertEqual(post_answer(client, "ZZZZZZZZ", "PHQ9", 1, 0).status_code, 404)

    def test_after_hand_in_a_post_changes_nothing(self) -> None:
        inv = self.started()
        for instrument, items in CALM.items():
            for item, value in items.items():
                services.save_answer(invitation=inv, instrument=instrument, item=item, value=value)
        services.submit(invitation=Invitation.objects.get(pk=inv.pk))
        response = post_answer(Client(), inv.code, "PHQ9", 1, 3)
        self.assertRedirects(response, f"/s/{inv.code}/done/", fetch_redirect_response=False)
        self.assertEqual(Answer.objects.get(invitation=inv, instrument="PHQ9", item=1).value, 0)

    def test_an_answer_costs_three_statements(self) -> None:
        inv = self.started()
        client = Client()
        post_answer(client, inv.code, "PHQ9", 1, 0)  # compiles the prepared queries
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(post_answer(client, inv.code, "PHQ9", 2, 1).status_code, 200)
        # The invitation by its code, the answer (one upsert), the answers for the next page.
        self.assertEqual(len(queries), 3, [q["sql"][:80] for q in queries])

    def test_find_by_code_gives_what_the_orm_gives(self) -> None:
        inv = self.started()
        found = services.find_by_code(inv.code.lower())
        assert found is not None
        expected = Invitation.objects.select_related("campaign").get(pk=inv.pk)
        for name in services._PATH_FIELDS:
            if "__" not in name:
                self.assertEqual(getattr(found, name), getattr(expected, name), name)
        self.assertEqual(found.campaign.opens_at, expected.campaign.opens_at)
        self.assertEqual(found.campaign.closes_at, expected.campaign.closes_at)
        with self.assertNumQueries(0):
            self.assertEqual(found.campaign.pk, self.campaign.pk)
        # Columns the path does not read still load when used.
        self.assertEqual(found.guardian_token, expected.guardian_token)
        self.assertEqual(found.student, self.w.student_a41)
        self.assertIsNone(services.find_by_code("ZZZZZZZZ"))


class SharedQuestionPageTest(PersonaTestCase):
    """The question page rendered once and filled in per student equals a normal render."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_campaign(cls.w)
        cls.a = consent_and_start(invitation(cls.campaign, cls.w.student_a41))
        cls.b = consent_and_start(invitation(cls.campaign, cls.w.student_a41_2))

    def pages(self, inv: Invitation, asked: str, language: str) -> tuple[str, str]:
        request = RequestFactory().get(f"/s/{inv.code}/?q={asked}" if asked else f"/s/{inv.code}/")
        context = public_views._question_context(inv, asked)
        with translation.override(language):
            shared = public_views._question_page(request, context).content.decode()
            normal = public_views._page(request, "screening/public/question.html", context).content.decode()
        return CSRF.sub("", shared), CSRF.sub("", normal)

    def test_each_student_gets_the_page_a_normal_render_gives(self) -> None:
        public_views._PAGES.clear()
        services.save_answer(invitation=self.a, instrument="PHQ9", item=1, value=2)
        services.save_answer(invitation=self.b, instrument="PHQ9", item=1, value=2)
        for language in ("zh-hans", "en"):
            for asked in ("", "PHQ9:1", "GAD7:1"):
                for inv in (self.a, self.b):  # the second student is served from the cache
                    with self.subTest(language=language, asked=asked, student=inv.code):
                        shared, normal = self.pages(inv, asked, language)
                        self.assertEqual(shared, normal)
                        other = self.b if inv is self.a else self.a
                        self.assertIn(inv.code, shared)
                        self.assertNotIn(other.code, shared)
        self.assertTrue(public_views._PAGES)

    def test_the_hand_in_screen_too(self) -> None:
        for instrument, items in CALM.items():
            for item, value in items.items():
                services.save_answer(invitation=self.a, instrument=instrument, item=item, value=value)
        shared, normal = self.pages(self.a, "", "zh-hans")
        self.assertIn("/submit/", shared)
        self.assertEqual(shared, normal)
