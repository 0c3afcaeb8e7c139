"""Outreach (issue 13 items 2–3): one feedback answer per phone, the feedback window's
boundaries, a wrong token, per-role visibility and out-of-scope 404, comments for organisers
only, and the counting rules at their boundaries (0 vs 1 parent session, 49 vs 50 lectures)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import Verdict
from xinyu.outreach import rules, selectors, services
from xinyu.outreach.models import Feedback, Talk, TalkKind, TalkStatus
from xinyu.outreach.views import feedback_path


def _now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


class OutreachWorld(PersonaTestCase):
    """Three talks: a district lecture, school A's parent session, school B's lecture."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        start = _now() - dt.timedelta(minutes=10)
        cls.lecture = services.create_talk(
            by=w.district_admin,
            district=w.district,
            kind=TalkKind.LECTURE,
            topic="青春期心理讲座",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            audience=["students", "parents"],
            speaker="王老师",
        )
        cls.parent_a = services.create_talk(
            by=w.psych_a,
            district=w.district,
            school=w.school_a,
            kind=TalkKind.PARENT,
            topic="家长课堂",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
        cls.lecture_b = services.create_talk(
            by=w.psych_b,
            district=w.district,
            school=w.school_b,
            kind=TalkKind.LECTURE,
            topic="B 校讲座",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )

    def _public(self) -> Client:
        return Client(enforce_csrf_checks=True)

    def _submit(self, client: Client, talk: Talk, **data: object) -> object:
        url = feedback_path(talk)
        page = client.get(url)
        csrf = page.cookies.get("csrftoken") or client.cookies.get("csrftoken")
        body = {"rating": "4", "usefulness": "5", "comment": "很有帮助", **data}
        if csrf is not None:
            body["csrfmiddlewaretoken"] = csrf.value
        return client.post(url, body)


class OutreachTests(OutreachWorld):
    # ---- feedback -------------------------------------------------------------------------

    def test_one_answer_per_phone(self) -> None:
        phone = self._public()
        resp = self._submit(phone, self.lecture)
        self.assertEqual(resp.status_code, 200, resp.content[:500])
        self.assertContains(resp, 'data-feedback="thanks"')
        fb = Feedback.objects.get(talk=self.lecture)
        self.assertEqual(fb.rating, 4)
        self.assertEqual(fb.comment, "很有帮助")
        cookie = phone.cookies["xinyu_fb_device"]
        self.assertTrue(cookie["httponly"])
        self.assertNotIn(fb.device_hash, cookie.value)  # only a hash is stored
        again = self._submit(phone, self.lecture, rating="1")
        self.assertContains(again, 'data-feedback="already"', status_code=409)
        self.assertContains(again, "You have already given feedback", status_code=409)
        self.assertContains(phone.get(feedback_path(self.lecture)), 'data-feedback="already"')
        self.assertEqual(Feedback.objects.filter(talk=self.lecture).count(), 1)
        other = self._public()
        self.assertContains(self._submit(other, self.lecture, rating="2"), 'data-feedback="thanks"')
        self.assertEqual(Feedback.objects.filter(talk=self.lecture).count(), 2)

    def test_service_refuses_second_answer(self) -> None:
        token = services.feedback_token(self.lecture)
        services.give_feedback(talk=self.lecture, token=token, device_id="dev1", rating=5)
        with self.assertRaises(services.FeedbackRefused):
            services.give_feedback(talk=self.lecture, token=token, device_id="dev1", rating=1)
        self.assertEqual(Feedback.objects.filter(talk=self.lecture).count(), 1)

    def test_window_boundaries(self) -> None:
        token = services.feedback_token(self.lecture)
        opens, closes = services.feedback_window(self.lecture)
        self.assertEqual(opens, self.lecture.starts_at - dt.timedelta(minutes=30))
        self.assertEqual(closes, self.lecture.ends_at + dt.timedelta(hours=48))
        one = dt.timedelta(seconds=1)
        for at, dev, ok in (
            (opens - one, "a", False),
            (opens, "b", True),
            (closes, "c", True),
            (closes + one, "d", False),
        ):
            if ok:
                services.give_feedback(talk=self.lecture, token=token, device_id=dev, rating=3, now=at)
            else:
                with self.assertRaises(services.FeedbackRefused):
                    services.give_feedback(talk=self.lecture, token=token, device_id=dev, rating=3, now=at)
        self.assertEqual(Feedback.objects.filter(talk=self.lecture).count(), 2)

    def test_page_outside_window_is_403_and_writes_nothing(self) -> None:
        start = _now() + dt.timedelta(days=3)
        later = services.create_talk(
            by=self.w.district_admin,
            district=self.w.district,
            kind=TalkKind.VOLUNTEER,
            topic="未来",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
        resp = self._submit(self._public(), later)
        self.assertEqual(resp.status_code, 403)
        self.assertContains(resp, "Feedback is not open yet", status_code=403)
        self.assertFalse(Feedback.objects.filter(talk=later).exists())
        services.cancel_talk(by=self.w.district_admin, talk=self.lecture)
        self.assertEqual(self._public().get(feedback_path(self.lecture)).status_code, 403)

    def test_wrong_token_is_404(self) -> None:
        url = reverse("outreach:feedback", args=[self.lecture.uid, "0" * 40])
        before = AuditEntry.objects.filter(action=Action.DENIED).count()
        resp = self._public().get(url)
        self.assertEqual(resp.status_code, 404)
        self.assertEqual(AuditEntry.objects.filter(action=Action.DENIED).count(), before + 1)
        bad_uid = reverse("outreach:feedback", args=["not-a-uid", services.feedback_token(self.lecture)])
        self.assertEqual(self._public().get(bad_uid).status_code, 404)
        self.assertFalse(Feedback.objects.exists())

    def test_phone_page_has_viewport_and_no_inline_style(self) -> None:
        resp = self._public().get(feedback_path(self.lecture))
        self.assertContains(resp, 'name="viewport"')
        self.assertNotContains(resp, "style=")
        self.assertNotContains(resp, "<script>")

    # ---- visibility ----------------------------------------------------------------------

    def test_visibility_per_role(self) -> None:
        w = self.w
        cases = [
            (w.district_admin, [self.lecture, self.parent_a, self.lecture_b], []),
            (w.centre_expert, [self.lecture, self.parent_a, self.lecture_b], []),
            (w.psych_a, [self.parent_a], [self.lecture, self.lecture_b]),
            (w.leader_a, [self.parent_a], [self.lecture_b]),
            (w.psych_b, [self.lecture_b], [self.parent_a]),
            (w.class_teacher_a41, [self.parent_a], [self.lecture, self.lecture_b]),
        ]
        for user, seen, hidden in cases:
            client = self.client_for(user)
            for t in seen:
                self.assertEqual(
                    client.get(reverse("outreach:talk", args=[t.uid])).status_code, 200, (user, t)
                )
            for t in hidden:
                self.assertEqual(
                    client.get(reverse("outreach:talk", args=[t.uid])).status_code, 404, (user, t)
                )
            listing = client.get(reverse("outreach:talks"))
            self.assertEqual(listing.status_code, 200)
            for t in hidden:
                self.assertNotContains(listing, str(t.uid))

    def test_out_of_scope_is_404_and_denied(self) -> None:
        before = AuditEntry.objects.filter(action=Action.DENIED).count()
        client = self.client_for(self.w.psych_b)
        self.assertEqual(client.get(reverse("outreach:talk_edit", args=[self.parent_a.uid])).status_code, 404)
        self.assertEqual(
            client.post(
                reverse("outreach:talk_held", args=[self.parent_a.uid]), {"attendance": 3}
            ).status_code,
            404,
        )
        self.assertGreaterEqual(AuditEntry.objects.filter(action=Action.DENIED).count(), before + 2)
        # the class teacher reads parent sessions but cannot manage them
        ct = self.client_for(self.w.class_teacher_a41)
        self.assertEqual(ct.get(reverse("outreach:talk_edit", args=[self.parent_a.uid])).status_code, 404)
        # a centre expert views school talks but manages district-run ones only
        with self.assertRaises(Http404):
            services.record_held(by=self.w.centre_expert, talk=self.lecture_b, attendance=3)

    def test_comments_only_for_organisers(self) -> None:
        token = services.feedback_token(self.parent_a)
        services.give_feedback(talk=self.parent_a, token=token, device_id="x", rating=5, comment="秘密意见")
        self.assertContains(
            self.client_for(self.w.psych_a).get(reverse("outreach:talk", args=[self.parent_a.uid])),
            "秘密意见",
        )
        ct = self.client_for(self.w.class_teacher_a41).get(reverse("outreach:talk", args=[self.parent_a.uid]))
        self.assertNotContains(ct, "秘密意见")
        self.assertNotContains(ct, "data-qr")
        dist = self.client_for(self.w.district_admin).get(reverse("outreach:talk", args=[self.parent_a.uid]))
        self.assertNotContains(dist, "秘密意见")  # the district views, the school organises

    def test_create_held_and_export(self) -> None:
        client = self.client_for(self.w.psych_a)
        start = timezone.localtime(_now() - dt.timedelta(hours=3))
        resp = client.post(
            reverse("outreach:talk_new"),
            {
                "kind": "parent",
                "topic": "新家长会",
                "school": str(self.w.school_a.uid),
                "audience": ["parents"],
                "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                "status": "planned",
            },
        )
        self.assertEqual(resp.status_code, 302, resp.content[:800])
        talk = Talk.objects.get(topic="新家长会")
        self.assertEqual(talk.school, self.w.school_a)
        client.post(reverse("outreach:talk_held", args=[talk.uid]), {"attendance": 40})
        talk.refresh_from_db()
        self.assertEqual((talk.status, talk.attendance), (TalkStatus.HELD, 40))
        export = client.get(reverse("outreach:export") + "?kind=parent")
        self.assertEqual(export.status_code, 200)
        self.assertTrue(
            AuditEntry.objects.filter(action=Action.EXPORT, object_type="outreach_talks").exists()
        )
        # a school cannot create a talk for another school
        with self.assertRaises(Http404):
            services.create_talk(
                by=self.w.psych_a,
                district=self.w.district,
                school=self.w.school_b,
                kind="parent",
                topic="x",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
            )

    def test_list_query_count(self) -> None:
        client = self.client_for(self.w.district_admin)
        client.get(reverse("outreach:talks"))
        with self.assertNumQueriesLessThan(25) if hasattr(self, "assertNumQueriesLessThan") else self._pin():
            client.get(reverse("outreach:talks"))

    def _pin(self):  # type: ignore[no-untyped-def]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        test = self

        class Pin(CaptureQueriesContext):
            def __exit__(self, *exc: object) -> None:
                super().__exit__(*exc)
                test.assertLess(len(self), 25, [q["sql"] for q in self.captured_queries])

        return Pin(connection)

    def test_progress_page(self) -> None:
        services.record_held(by=self.w.psych_a, talk=self.parent_a, attendance=30)
        resp = self.client_for(self.w.district_admin).get(reverse("outreach:progress"))
        self.assertEqual(resp.status_code, 200)
        self.assertContains(resp, 'data-lectures="0/50"')
        self.assertContains(resp, f'data-school="{self.w.school_b.code}"')
        self.assertNotContains(resp, f'data-school="{self.w.school_a.code}"')


class RuleTests(PersonaTestCase):
    def test_parent_zero_vs_one(self) -> None:
        day = dt.date(2026, 10, 15)
        sem = semester_of(day)
        at = dt.datetime(2026, 10, 15, 10, tzinfo=dt.UTC)
        none = rules.parent_education(school_uid="s", semester=sem, talks=[], required=1)
        self.assertEqual(none.verdict, Verdict.MISSED)
        one = rules.parent_education(
            school_uid="s", semester=sem, talks=[rules.TalkRow("1", "parent", "held", at)], required=1
        )
        self.assertEqual(one.verdict, Verdict.MET)
        self.assertEqual(one.counted, ("1",))
        # planned, cancelled, a lecture, or another semester never count
        others = [
            rules.TalkRow("2", "parent", "planned", at),
            rules.TalkRow("3", "parent", "cancelled", at),
            rules.TalkRow("4", "lecture", "held", at),
            rules.TalkRow("5", "parent", "held", dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)),
        ]
        self.assertEqual(
            rules.parent_education(school_uid="s", semester=sem, talks=others, required=1).verdict,
            Verdict.MISSED,
        )

    def test_lectures_49_vs_50(self) -> None:
        at = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
        rows = [rules.TalkRow(str(i), "lecture" if i % 2 else "volunteer", "held", at) for i in range(49)]
        r49 = rules.lecture_progress(district_uid="d", year=2026, talks=rows, target=50)
        self.assertEqual((r49.verdict, r49.actual), (Verdict.MISSED, 49))
        rows.append(rules.TalkRow("x", "lecture", "held", at))
        rows.append(rules.TalkRow("p", "parent", "held", at))  # parent sessions are not lectures
        rows.append(rules.TalkRow("y", "lecture", "held", dt.datetime(2025, 6, 1, tzinfo=dt.UTC)))
        r50 = rules.lecture_progress(district_uid="d", year=2026, talks=rows, target=50)
        self.assertEqual((r50.verdict, r50.actual), (Verdict.MET, 50))

    def test_selectors_count_held_in_db(self) -> None:
        w = self.w
        start = _now() - dt.timedelta(hours=2)
        t = services.create_talk(
            by=w.psych_a,
            district=w.district,
            school=w.school_a,
            kind="parent",
            topic="p",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
        sem = selectors.current_semester(w.district)
        from xinyu.org.models import School

        cov = {
            c.school.pk: c.result
            for c in selectors.parent_coverage(School.objects.filter(district=w.district), sem)
        }
        self.assertEqual(cov[w.school_a.pk].actual, 0)
        services.record_held(by=w.psych_a, talk=t, attendance=12)
        cov = {
            c.school.pk: c.result
            for c in selectors.parent_coverage(School.objects.filter(district=w.district), sem)
        }
        self.assertEqual(cov[w.school_a.pk].verdict, Verdict.MET)
        self.assertEqual(cov[w.school_b.pk].verdict, Verdict.MISSED)

    def test_bad_input_refused(self) -> None:
        start = _now()
        with self.assertRaises(ServiceError):
            services.create_talk(
                by=self.w.district_admin,
                district=self.w.district,
                kind="lecture",
                topic="x",
                starts_at=start,
                ends_at=start,
            )


class PanelDemoPolicyTests(PersonaTestCase):
    def test_demo_builds_one_school_without(self) -> None:
        from xinyu.org.models import School
        from xinyu.outreach.demo import build_demo_outreach

        counts = build_demo_outreach(self.w.district)
        self.assertGreater(counts["feedback"], 0)
        self.assertEqual(build_demo_outreach(self.w.district), {})  # once
        sem = selectors.current_semester(self.w.district)
        cov = selectors.parent_coverage(School.objects.filter(district=self.w.district), sem)
        self.assertEqual(sum(1 for c in cov if not c.result.met), 1)

    def test_panels(self) -> None:
        from xinyu.outreach.panels import nav_outreach, outreach_progress

        self.assertIn("lectures", outreach_progress(self.w.district_admin) or {})
        school = outreach_progress(self.w.psych_a) or {}
        self.assertEqual(school.get("due"), [self.w.school_a])
        self.assertIsNotNone(nav_outreach(self.w.class_teacher_a41))
        self.assertIsNone(outreach_progress(self.w.class_teacher_a41))

    def test_policy_section(self) -> None:
        from xinyu.kernel.policyfile import policy_for_code
        from xinyu.outreach.policy_sections import outreach_problems

        self.assertEqual(outreach_problems(policy_for_code(self.w.district.code).get("outreach", {})), [])
        self.assertTrue(outreach_problems({"lecture_target": -1}))


class OutreachApiTests(OutreachWorld):
    """GET /api/outreach/talks and /api/outreach/talks/{uid}/summary: the page's scope, no comments."""

    def _api(self, user: object) -> Client:
        client = Client()
        client.force_login(user)  # type: ignore[arg-type]
        from tests.personas import verify_second_factor

        verify_second_factor(client, user)  # type: ignore[arg-type]
        return client

    def test_the_list_is_the_pages_scope(self) -> None:
        w = self.w
        topics = {t["topic"] for t in self._api(w.psych_b).get("/api/outreach/talks").json()}
        self.assertIn("B 校讲座", topics)
        self.assertNotIn("家长课堂", topics)  # school A's parent session
        district = {t["topic"] for t in self._api(w.district_admin).get("/api/outreach/talks").json()}
        self.assertTrue({"青春期心理讲座", "家长课堂", "B 校讲座"} <= district)
        kinds = self._api(w.district_admin).get("/api/outreach/talks", {"kind": TalkKind.PARENT}).json()
        self.assertEqual({t["topic"] for t in kinds}, {"家长课堂"})

    def test_the_summary_counts_answers_and_carries_no_comment(self) -> None:
        self._submit(self._public(), self.parent_a, rating="2", comment="秘密评论")
        body = self._api(self.w.psych_a).get(f"/api/outreach/talks/{self.parent_a.uid}/summary")
        self.assertEqual(body.status_code, 200)
        self.assertEqual(body.json()["answers"], 1)
        self.assertEqual(body.json()["distribution"]["2"], 1)
        self.assertNotIn("秘密评论", body.content.decode())
        other = self._api(self.w.psych_b).get(f"/api/outreach/talks/{self.parent_a.uid}/summary")
        self.assertEqual(other.status_code, 404)
        self.assertTrue(
            AuditEntry.objects.filter(username="psych_b", action=Action.DENIED).exists(), "the 404 is audited"
        )


def _sheet_rows(content: bytes, sheet: int = 0) -> list[list[object]]:
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content)).worksheets[sheet]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=3)]


class ListAndProgressTests(OutreachWorld):
    """Item 7 on outreach's lists: the talks' semester filter, paging that keeps the filters,
    the progress page's past year and semester, its "without one" state, its paging and its
    export with the page's filters and scope (audited); items 2–3: the year's summary per
    school and kind with the feedback answers, the schools without a parent session listed."""

    def _held(self, *, school: object, kind: str, at: dt.datetime, topic: str, attendance: int = 20) -> Talk:
        return Talk.objects.create(
            district=self.w.district,
            school=school,
            kind=kind,
            topic=topic,
            starts_at=at,
            ends_at=at + dt.timedelta(hours=1),
            status=TalkStatus.HELD,
            attendance=attendance,
        )

    def setUp(self) -> None:
        self.sems = selectors.recent_semesters(self.w.district)
        last = self.sems[1]
        self.last_at = timezone.make_aware(dt.datetime.combine(last.start, dt.time(10)))
        self.old_parent_b = self._held(
            school=self.w.school_b, kind=TalkKind.PARENT, at=self.last_at, topic="上学期家长课"
        )
        year_ago = timezone.make_aware(dt.datetime(timezone.localdate().year - 1, 6, 15, 10))
        self.old_lecture = self._held(school=None, kind=TalkKind.LECTURE, at=year_ago, topic="去年讲座")

    def test_semester_filter_and_export(self) -> None:
        client = self.client_for(self.w.district_admin)
        resp = client.get(reverse("outreach:talks"), {"semester": self.sems[1].key})
        self.assertContains(resp, "上学期家长课")
        self.assertNotContains(resp, "家长课堂")
        resp = client.get(reverse("outreach:talks"), {"semester": self.sems[0].key})
        self.assertNotContains(resp, "上学期家长课")
        self.assertContains(resp, "家长课堂")
        resp = client.get(reverse("outreach:export"), {"semester": self.sems[1].key, "kind": "parent"})
        self.assertEqual([r[1] for r in _sheet_rows(resp.content)], ["上学期家长课"])
        entry = AuditEntry.objects.filter(action=Action.EXPORT, object_type="outreach_talks").latest("pk")
        self.assertIn("1 rows", entry.detail)
        # the class teacher's export: their school's parent sessions only, whatever the filter
        resp = self.client_for(self.w.class_teacher_a41).get(reverse("outreach:export"), {"kind": "lecture"})
        self.assertEqual(_sheet_rows(resp.content), [])

    def test_the_list_and_export_count_each_talks_answers(self) -> None:
        t, other = self.old_parent_b, self.lecture_b
        Feedback.objects.bulk_create(
            Feedback(talk=x, rating=4, device_hash=f"{x.pk}-{i}", created_at=x.ends_at)
            for x, n in ((t, 3), (other, 1))
            for i in range(n)
        )
        client = self.client_for(self.w.district_admin)
        resp = client.get(reverse("outreach:talks"))
        counts = {x.pk: x.n_feedback for x in resp.context["page"]}
        self.assertEqual((counts[t.pk], counts[other.pk], counts[self.lecture.pk]), (3, 1, 0))
        self.assertEqual(
            resp.context["page"].paginator.count, Talk.objects.filter(district=self.w.district).count()
        )
        rows = _sheet_rows(client.get(reverse("outreach:export"), {"kind": "parent"}).content)
        self.assertEqual({r[1]: r[8] for r in rows}, {"上学期家长课": 3, "家长课堂": 0})

    def test_paging_keeps_the_filters(self) -> None:
        start = timezone.now() - dt.timedelta(days=1)
        Talk.objects.bulk_create(
            Talk(
                district=self.w.district,
                school=self.w.school_a,
                kind=TalkKind.LECTURE,
                topic=f"讲座{i:02d}",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
            )
            for i in range(52)
        )
        client = self.client_for(self.w.psych_a)
        resp = client.get(reverse("outreach:talks"), {"kind": "lecture"})
        self.assertEqual(len(resp.context["page"]), 50)
        self.assertContains(resp, "kind=lecture&amp;page=2")
        resp = client.get(reverse("outreach:talks"), {"kind": "lecture", "page": "2"})
        self.assertEqual(len(resp.context["page"]), 2)
        self.assertNotContains(resp, "家长课堂")

    def test_progress_past_year_and_semester(self) -> None:
        client = self.client_for(self.w.district_admin)
        this_year = timezone.localdate().year
        resp = client.get(reverse("outreach:progress"))
        self.assertContains(resp, 'data-lectures="0/50"')
        resp = client.get(reverse("outreach:progress"), {"year": str(this_year - 1)})
        self.assertContains(resp, 'data-lectures="1/50"')
        self.assertIn(
            (None, "lecture", 1), [(r["school__name"], r["kind"], r["n"]) for r in resp.context["yearly"]]
        )
        # last semester school B held one: only A is without one; this semester both are
        resp = client.get(reverse("outreach:progress"), {"semester": self.sems[1].key})
        self.assertEqual([c.school.pk for c in resp.context["missing"]], [self.w.school_a.pk])
        resp = client.get(reverse("outreach:progress"))
        self.assertEqual(
            {c.school.pk for c in resp.context["missing"]}, {self.w.school_a.pk, self.w.school_b.pk}
        )
        # "only the schools without one" filters the table, the pager keeps the choice
        resp = client.get(reverse("outreach:progress"), {"semester": self.sems[1].key, "state": "missing"})
        self.assertEqual([c.school.pk for c in resp.context["page"]], [self.w.school_a.pk])
        # a year outside the choices falls back to this year
        resp = client.get(reverse("outreach:progress"), {"year": "1999"})
        self.assertEqual(resp.context["year"], this_year)

    def test_year_summary_counts_answers_and_attendance(self) -> None:
        services.record_held(by=self.w.psych_a, talk=self.parent_a, attendance=30)
        token = services.feedback_token(self.parent_a)
        for device, rating in (("p1", 5), ("p2", 4)):
            services.give_feedback(talk=self.parent_a, token=token, device_id=device, rating=rating)
        rows = selectors.yearly_by_school(self.w.psych_a, timezone.localdate().year)
        self.assertEqual(
            [
                (r["school__name"], r["kind"], r["n"], r["attendance"], r["answers"], r["mean_rating"])
                for r in rows
            ],
            [(self.w.school_a.name, "parent", 1, 30, 2, 4.5)],
        )

    def test_progress_export_scope_and_filters(self) -> None:
        url = reverse("outreach:progress_export")
        resp = self.client_for(self.w.district_admin).get(
            url, {"semester": self.sems[1].key, "state": "missing"}
        )
        self.assertEqual(resp.status_code, 200)
        self.assertEqual([r[0] for r in _sheet_rows(resp.content)], [self.w.school_a.name])
        entry = AuditEntry.objects.filter(action=Action.EXPORT, object_type="outreach_progress").latest("pk")
        self.assertIn("1 rows", entry.detail)
        lectures = _sheet_rows(resp.content, 2)
        self.assertEqual(lectures[0][1:3], [0, 50])
        # school B's psych teacher: their school only, no district lecture count
        resp = self.client_for(self.w.psych_b).get(url, {"semester": self.sems[1].key})
        self.assertEqual([r[0] for r in _sheet_rows(resp.content)], [self.w.school_b.name])
        self.assertEqual(len(load_sheets(resp.content)), 2)
        # the class teacher: 404 and a `denied` row, no export row
        before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.assertEqual(self.client_for(self.w.class_teacher_a41).get(url).status_code, 404)
        self.assertTrue(AuditEntry.objects.filter(pk__gt=before, action=Action.DENIED).exists())
        self.assertFalse(AuditEntry.objects.filter(pk__gt=before, action=Action.EXPORT).exists())


def load_sheets(content: bytes) -> list[str]:
    import io

    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content)).sheetnames
