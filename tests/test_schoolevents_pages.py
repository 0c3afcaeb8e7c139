"""School events' pages (issue 13 items 5–8): happy paths, names never above the school,
minutes only to leader / psych teachers / district admin, out of scope 404, query pins."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.schoolevents import services
from xinyu.schoolevents.models import CommitteeMember, ContestLevel, EventKind, SchoolEvent


class PageTests(PersonaTestCase):
    def setUp(self) -> None:
        w = self.w
        self.meeting = services.create_event(
            by=w.psych_a,
            school=w.school_a,
            kind=EventKind.LEADERSHIP_MEETING,
            title="一季度专题会",
            date=dt.date(2026, 3, 10),
            attendees="校长、心理教师",
            minutes="秘密纪要内容",
        )
        self.member = services.appoint_member(
            by=w.psych_a, student=w.student_a41, started_on=dt.date(2026, 9, 1)
        )

    def test_committee_names_at_school_only(self) -> None:
        w = self.w
        url = reverse("schoolevents:committee_school", args=[w.school_a.uid])
        for user in (w.psych_a, w.leader_a, w.grade_leader_a4, w.class_teacher_a41):
            r = self.client_for(user).get(url)
            self.assertContains(r, "张小明", msg_prefix=user.username)
        for user in (w.district_admin, w.centre_expert, w.psych_b):
            r = self.client_for(user).get(url)
            self.assertEqual(r.status_code, 404, user.username)
        self.assertTrue(AuditEntry.objects.filter(action=Action.DENIED, object_type="school").exists())
        # the district's pages: counts, no names
        for name, args in (
            ("schoolevents:summary", []),
            ("schoolevents:school_summary", [w.school_a.uid]),
            ("schoolevents:summary_export", []),
            ("schoolevents:school_summary_export", [w.school_a.uid]),
        ):
            r = self.client_for(w.district_admin).get(reverse(name, args=args))
            self.assertEqual(r.status_code, 200, name)
            body = r.content if name.endswith("export") else r.content
            self.assertNotIn("张小明".encode(), body, name)
        r = self.client_for(w.district_admin).get(reverse("schoolevents:summary"))
        self.assertContains(r, w.school_a.name)

    def test_class_teacher_sees_own_class_only(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        self.assertEqual(
            c.get(reverse("schoolevents:committee_class", args=[w.class_a41.uid])).status_code, 200
        )
        self.assertEqual(
            c.get(reverse("schoolevents:committee_class", args=[w.class_a42.uid])).status_code, 404
        )

    def test_appoint_and_end_through_the_page(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        url = reverse("schoolevents:committee_class", args=[w.class_a41.uid])
        r = c.post(
            url, {"student": str(w.student_a41_2.uid), "started_on": "2026-09-02", "training": "朋辈培训"}
        )
        self.assertEqual(r.status_code, 302)
        self.assertEqual(
            CommitteeMember.objects.filter(school_class=w.class_a41, ended_on__isnull=True).count(), 2
        )
        r = c.post(reverse("schoolevents:committee_end", args=[self.member.uid]), {"ended_on": "2026-10-01"})
        self.assertEqual(r.status_code, 302)
        self.member.refresh_from_db()
        self.assertEqual(self.member.ended_on, dt.date(2026, 10, 1))
        # grade leader sees but may not appoint
        g = self.client_for(w.grade_leader_a4)
        r = g.post(url, {"student": str(w.student_a41.uid), "started_on": "2026-10-02"})
        self.assertEqual(r.status_code, 404)

    def test_minutes_visibility(self) -> None:
        w = self.w
        url = reverse("schoolevents:event", args=[self.meeting.uid])
        for user in (w.psych_a, w.leader_a, w.district_admin):
            self.assertContains(self.client_for(user).get(url), "秘密纪要内容", msg_prefix=user.username)
        r = self.client_for(w.centre_expert).get(url)
        self.assertContains(r, "一季度专题会")
        self.assertNotContains(r, "秘密纪要内容")
        self.assertEqual(self.client_for(w.psych_b).get(url).status_code, 404)
        self.assertEqual(self.client_for(w.class_teacher_a41).get(url).status_code, 404)
        # not in the list or the export either
        self.assertNotContains(
            self.client_for(w.district_admin).get(reverse("schoolevents:events")), "秘密纪要内容"
        )

    def test_create_edit_and_filter_events(self) -> None:
        w = self.w
        c = self.client_for(w.leader_a)
        r = c.post(
            reverse("schoolevents:event_new"),
            {
                "kind": "legal_education",
                "school": str(w.school_a.uid),
                "title": "法治课",
                "date": "2026-10-09",
            },
        )
        self.assertEqual(r.status_code, 302)
        event = SchoolEvent.objects.get(title="法治课")
        r = c.post(
            reverse("schoolevents:event_edit", args=[event.uid]),
            {
                "kind": "legal_education",
                "school": str(w.school_a.uid),
                "title": "法治讲座",
                "date": "2026-10-09",
            },
        )
        self.assertEqual(r.status_code, 302)
        r = c.get(reverse("schoolevents:events"), {"kind": "legal_education"})
        self.assertContains(r, "法治讲座")
        self.assertNotContains(r, "一季度专题会")
        self.assertEqual(
            self.client_for(w.psych_b).get(reverse("schoolevents:event_edit", args=[event.uid])).status_code,
            404,
        )
        r = c.get(reverse("schoolevents:events_export"))
        self.assertEqual(r.status_code, 200)
        self.assertTrue(AuditEntry.objects.filter(action=Action.EXPORT, object_type="schoolevent").exists())

    def test_contest_pages(self) -> None:
        w = self.w
        admin = self.client_for(w.district_admin)
        r = admin.post(
            reverse("schoolevents:contests"),
            {
                "level": ContestLevel.REGIONAL,
                "title": "五育润心片区赛",
                "starts_on": "2026-05-20",
                "host_school": "",
            },
        )
        self.assertEqual(r.status_code, 302)
        r = admin.post(
            r["Location"],
            {"school": str(w.school_b.uid), "teacher_name": "乙老师", "lesson_title": "情绪", "result": ""},
        )
        self.assertEqual(r.status_code, 302)
        self.assertContains(admin.get(r["Location"]), "乙老师")
        r = self.client_for(w.psych_a).post(
            reverse("schoolevents:contests"), {"level": "county", "title": "x", "starts_on": "2026-05-20"}
        )
        self.assertEqual(r.status_code, 404)

    def test_out_of_scope_school_summary_and_api(self) -> None:
        w = self.w
        self.assertEqual(
            self.client_for(w.psych_b)
            .get(reverse("schoolevents:school_summary", args=[w.school_a.uid]))
            .status_code,
            404,
        )
        r = self.client_for(w.psych_a).get(reverse("schoolevents:school_summary", args=[w.school_a.uid]))
        self.assertContains(r, "schoolevents.leadership_meeting")

    def test_query_count_pins(self) -> None:
        w = self.w
        for i in range(30):
            services.create_event(
                by=w.psych_a,
                school=w.school_a,
                kind=EventKind.OTHER,
                title=f"活动{i}",
                date=dt.date(2026, 4, 1),
            )
        c = self.client_for(w.district_admin)
        c.get(reverse("schoolevents:events"))
        with CaptureQueriesContext(connection) as q:
            r = c.get(reverse("schoolevents:events"))
        self.assertEqual(r.status_code, 200)
        events_queries = len(q)
        with CaptureQueriesContext(connection) as q:
            r = c.get(reverse("schoolevents:summary"))
        self.assertEqual(r.status_code, 200)
        summary_queries = len(q)
        self.assertLessEqual(events_queries, 12, [x["sql"] for x in q.captured_queries])
        self.assertLessEqual(summary_queries, 14)
