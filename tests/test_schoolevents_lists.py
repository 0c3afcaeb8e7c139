"""School events' lists (issue 13 item 7): each list's filters, its paging (the links keep the
filters) and its Excel export with the page's filter and scope (audited); the contest forms'
school fetched through access (another district's school: 404 + `denied`); committee names
never above the school; the home panel's two grouped queries agree with the summaries."""

from __future__ import annotations

import datetime as dt
import io

from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.org.models import District, School, SchoolCategory
from xinyu.schoolevents import access, selectors, services
from xinyu.schoolevents.models import ContestEntry, ContestLevel, EventKind, SchoolEvent
from xinyu.schoolevents.panels import schoolevents_gaps
from xinyu.schoolevents.selectors import recent_semesters


def sheet_rows(content: bytes) -> list[list[object]]:
    """The first sheet's data rows (after the watermark and the header)."""
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=3)]


class ListTestCase(PersonaTestCase):
    def export_rows(self, user: object, url: str, object_type: str) -> list[list[object]]:
        before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        r = self.client_for(user).get(url)  # type: ignore[arg-type]
        self.assertEqual(r.status_code, 200, url)
        rows = sheet_rows(r.content)
        audit = AuditEntry.objects.get(pk__gt=before, action=Action.EXPORT)
        self.assertEqual(audit.object_type, object_type)
        self.assertIn(f"{len(rows)} rows", audit.detail)
        return rows

    def denied_since(self, before: int, object_type: str) -> bool:
        return AuditEntry.objects.filter(
            pk__gt=before, action=Action.DENIED, object_type=object_type
        ).exists()

    def last_pk(self) -> int:
        return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


class EventListTests(ListTestCase):
    def setUp(self) -> None:
        w = self.w
        sems = recent_semesters(w.district, timezone.localdate())
        self.now_sem, self.last_sem = sems[0], sems[1]
        services.create_event(
            by=w.psych_a,
            school=w.school_a,
            kind=EventKind.OPEN_CLASS,
            title="本学期公开课",
            date=self.now_sem.start,
        )
        services.create_event(
            by=w.psych_a,
            school=w.school_a,
            kind=EventKind.OPEN_CLASS,
            title="上学期公开课",
            date=self.last_sem.start,
        )
        services.create_event(
            by=w.psych_b,
            school=w.school_b,
            kind=EventKind.OPEN_CLASS,
            title="乙校公开课",
            date=self.now_sem.start,
        )

    def test_semester_filter_page_and_export(self) -> None:
        w = self.w
        url = reverse("schoolevents:events")
        r = self.client_for(w.district_admin).get(url, {"semester": self.last_sem.key})
        self.assertContains(r, "上学期公开课")
        self.assertNotContains(r, "本学期公开课")
        self.assertNotContains(r, "乙校公开课")
        rows = self.export_rows(
            w.district_admin,
            reverse("schoolevents:events_export") + f"?semester={self.now_sem.key}",
            "schoolevent",
        )
        self.assertEqual(sorted(row[2] for row in rows), ["乙校公开课", "本学期公开课"])

    def test_export_has_the_pages_scope(self) -> None:
        w = self.w
        rows = self.export_rows(w.psych_b, reverse("schoolevents:events_export"), "schoolevent")
        self.assertEqual([row[2] for row in rows], ["乙校公开课"])

    def test_filtering_by_a_school_outside_scope_is_404_and_denied(self) -> None:
        w = self.w
        before = self.last_pk()
        for name in ("schoolevents:events", "schoolevents:events_export"):
            r = self.client_for(w.psych_b).get(reverse(name), {"school": str(w.school_a.uid)})
            self.assertEqual(r.status_code, 404, name)
        self.assertTrue(self.denied_since(before, "school"))
        self.assertFalse(AuditEntry.objects.filter(pk__gt=before, action=Action.EXPORT).exists())

    def test_paging_keeps_the_filters(self) -> None:
        w = self.w
        SchoolEvent.objects.bulk_create(
            SchoolEvent(
                school=w.school_a, kind=EventKind.OTHER, title=f"活动{i:02d}", date=self.now_sem.start
            )
            for i in range(55)
        )
        c = self.client_for(w.psych_a)
        r = c.get(reverse("schoolevents:events"), {"kind": "other"})
        self.assertContains(r, "kind=other&amp;page=2")
        self.assertEqual(len(r.context["page"]), 50)
        r = c.get(reverse("schoolevents:events"), {"kind": "other", "page": "2"})
        self.assertEqual(len(r.context["page"]), 5)
        self.assertNotContains(r, "本学期公开课")
        # the export is every page of the filter
        rows = self.export_rows(
            w.psych_a, reverse("schoolevents:events_export") + "?kind=other", "schoolevent"
        )
        self.assertEqual(len(rows), 55)


class CommitteeListTests(ListTestCase):
    def setUp(self) -> None:
        w = self.w
        services.appoint_member(by=w.psych_a, student=w.student_a41, started_on=dt.date(2026, 9, 1))

    def test_grade_and_missing_filters_page_and_export(self) -> None:
        w = self.w
        url = reverse("schoolevents:committee_school", args=[w.school_a.uid])
        c = self.client_for(w.psych_a)
        r = c.get(url)
        classes = {str(row["klass"].uid) for row in r.context["page"]}
        self.assertEqual(classes, {str(w.class_a41.uid), str(w.class_a42.uid), str(w.class_a71.uid)})
        r = c.get(url, {"grade": "7"})
        self.assertEqual([row["klass"].pk for row in r.context["page"]], [w.class_a71.pk])
        r = c.get(url, {"grade": "4", "missing": "on"})
        self.assertEqual({row["klass"].pk for row in r.context["page"]}, {w.class_a41.pk, w.class_a42.pk})
        self.assertContains(r, "张小明")  # a41 has its boy, still misses the girl
        export = reverse("schoolevents:committee_export", args=[w.school_a.uid])
        rows = self.export_rows(w.psych_a, export + "?grade=7", "committee")
        self.assertEqual(len(rows), 1)
        self.assertTrue(str(rows[0][0]).startswith("7年级"))
        rows = self.export_rows(w.class_teacher_a41, export, "committee")
        self.assertEqual(len(rows), 1)  # the class teacher: their own class only
        self.assertEqual(rows[0][1], "张小明")
        self.assertEqual(len(rows[0]), 4)  # class, boy, girl, missing: nothing else

    def test_district_roles_get_counts_not_names(self) -> None:
        w = self.w
        export = reverse("schoolevents:committee_export", args=[w.school_a.uid])
        for user in (w.district_admin, w.centre_expert):
            before = self.last_pk()
            self.assertEqual(self.client_for(user).get(export).status_code, 404)
            self.assertTrue(self.denied_since(before, "school"))
            r = self.client_for(user).get(reverse("schoolevents:summary_export"))
            self.assertNotIn("张小明".encode(), r.content)
            rows = sheet_rows(r.content)
            committee = [
                row for row in rows if row[0] == w.school_a.name and row[1] == "心理委员（每班男女各1名）"
            ]
            self.assertEqual(committee[0][6], 3)  # the count of classes missing a member


class ContestListTests(ListTestCase):
    def setUp(self) -> None:
        w = self.w
        self.county = services.create_contest(
            by=w.district_admin,
            district=w.district,
            level=ContestLevel.COUNTY,
            title="县级赛课",
            starts_on=dt.date(2026, 5, 10),
        )
        self.regional = services.create_contest(
            by=w.district_admin,
            district=w.district,
            level=ContestLevel.REGIONAL,
            title="五育润心片区赛",
            starts_on=dt.date(2025, 5, 20),
        )
        for school, teacher in ((w.school_a, "甲老师"), (w.school_b, "乙老师")):
            services.add_entry(
                by=w.district_admin,
                contest=self.county,
                school=school,
                teacher_name=teacher,
                lesson_title="情绪",
            )
        other = District.objects.create(code="500199", name="外区")
        self.other_school = School.objects.create(
            district=other, code="Z001", name="外区学校", category=SchoolCategory.URBAN, has_primary=True
        )

    def test_level_and_year_filters_and_export(self) -> None:
        w = self.w
        c = self.client_for(w.psych_a)
        r = c.get(reverse("schoolevents:contests"), {"level": "regional"})
        self.assertContains(r, "五育润心片区赛")
        self.assertNotContains(r, "县级赛课")
        r = c.get(reverse("schoolevents:contests"), {"year": "2026"})
        self.assertContains(r, "县级赛课")
        self.assertNotContains(r, "五育润心片区赛")
        # the district: every school's entry; school A's psych teacher: their own school's
        admin = self.export_rows(
            w.district_admin, reverse("schoolevents:contests_export") + "?year=2026", "contest"
        )
        self.assertEqual({row[6] for row in admin}, {"甲老师", "乙老师"})
        own = self.export_rows(w.psych_a, reverse("schoolevents:contests_export"), "contest")
        self.assertEqual(
            sorted((row[0], row[6]) for row in own), [("五育润心片区赛", None), ("县级赛课", "甲老师")]
        )

    def test_entries_filter_paging_and_export(self) -> None:
        w = self.w
        ContestEntry.objects.bulk_create(
            ContestEntry(contest=self.county, school=w.school_b, teacher_name=f"乙{i}", lesson_title="课")
            for i in range(55)
        )
        url = reverse("schoolevents:contest", args=[self.county.uid])
        admin = self.client_for(w.district_admin)
        r = admin.get(url, {"school": str(w.school_a.uid)})
        self.assertEqual([e.teacher_name for e in r.context["page"]], ["甲老师"])
        r = admin.get(url, {"school": str(w.school_b.uid)})
        self.assertContains(r, f"school={w.school_b.uid}&amp;page=2")
        r = self.client_for(w.psych_a).get(url)
        self.assertEqual([e.teacher_name for e in r.context["page"]], ["甲老师"])
        export = reverse("schoolevents:contest_export", args=[self.county.uid])
        self.assertEqual(len(self.export_rows(w.district_admin, export, "contest")), 57)
        self.assertEqual(
            len(self.export_rows(w.district_admin, export + f"?school={w.school_a.uid}", "contest")), 1
        )
        rows = self.export_rows(w.psych_b, export, "contest")
        self.assertEqual({row[5] for row in rows}, {w.school_b.name})
        # out of scope: a contest of a district the user does not see
        before = self.last_pk()
        self.assertEqual(self.client_for(w.class_teacher_a41).get(export).status_code, 404)
        self.assertTrue(self.denied_since(before, "contest"))

    def test_a_school_of_another_district_is_404_and_denied(self) -> None:
        w = self.w
        before = self.last_pk()
        with self.assertRaises(Http404):
            access.get_contest_school_for(w.district_admin, self.county.district_id, self.other_school.uid)
        self.assertTrue(self.denied_since(before, "school"))
        # a school of the contest's district, by someone who does not run it: 404 too
        before = self.last_pk()
        with self.assertRaises(Http404):
            access.get_contest_school_for(w.psych_a, self.county.district_id, w.school_a.uid)
        self.assertTrue(self.denied_since(before, "school"))
        self.assertEqual(
            access.get_contest_school_for(w.district_admin, self.county.district_id, w.school_b.uid),
            w.school_b,
        )
        # the entry form offers only the contest district's schools: another's is refused
        r = self.client_for(w.district_admin).post(
            reverse("schoolevents:contest", args=[self.county.uid]),
            {"school": str(self.other_school.uid), "teacher_name": "外老师", "lesson_title": "x"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertFalse(ContestEntry.objects.filter(teacher_name="外老师").exists())


class SummaryListTests(ListTestCase):
    def test_school_and_state_filters_and_export(self) -> None:
        w = self.w
        url = reverse("schoolevents:summary")
        c = self.client_for(w.district_admin)
        r = c.get(url)
        self.assertEqual([row["s"].school.pk for row in r.context["rows"]], [w.school_a.pk, w.school_b.pk])
        r = c.get(url, {"school": str(w.school_b.uid)})
        self.assertEqual([row["s"].school.pk for row in r.context["rows"]], [w.school_b.pk])
        rows = self.export_rows(
            w.district_admin,
            reverse("schoolevents:summary_export") + f"?school={w.school_b.uid}",
            "schoolevents_summary",
        )
        self.assertEqual({row[0] for row in rows}, {w.school_b.name})
        # every school has a gap in the persona world (no member in school B's grade-4 class)
        r = c.get(url, {"state": "gaps"})
        self.assertEqual(len(r.context["rows"]), 2)
        # a school outside the user's schools is not a choice: the filter is refused, the
        # page stays the user's own (psych_b: school B only, straight to its page)
        r = self.client_for(w.psych_b).get(
            reverse("schoolevents:summary_export"), {"school": str(w.school_a.uid)}
        )
        self.assertNotIn(w.school_a.name.encode(), r.content)

    def test_gaps_filter_drops_a_school_without_one(self) -> None:
        w = self.w
        today = timezone.localdate()
        row = selectors.summaries([w.school_b], today)[0]
        self.assertTrue(row.missing_classes)
        r = self.client_for(w.district_admin).get(reverse("schoolevents:summary"), {"state": "gaps"})
        schools = [x["s"].school.pk for x in r.context["rows"]]
        self.assertIn(w.school_b.pk, schools)

    def test_paging_evaluates_each_page_as_the_whole_would(self) -> None:
        """The page's rows are evaluated for its own schools only; they are what evaluating
        every school at once gives (and the export, which does that)."""
        w = self.w
        School.objects.bulk_create(
            School(
                district=w.district,
                code=f"Y{i:02d}",
                name=f"追加学校{i:02d}",
                category=SchoolCategory.URBAN,
                has_primary=True,
            )
            for i in range(55)
        )
        schools = list(access.schools_for(w.district_admin).select_related("district").order_by("code"))
        self.assertGreater(len(schools), 50)
        c = self.client_for(w.district_admin)
        url = reverse("schoolevents:summary")
        first = c.get(url)
        second = c.get(url, {"page": "2"})
        self.assertEqual(first.context["page"].paginator.count, len(schools))
        rows = first.context["rows"] + second.context["rows"]
        self.assertEqual(len(first.context["rows"]), 50)
        self.assertEqual([r["s"].school.pk for r in rows], [s.pk for s in schools])
        whole = selectors.summaries(schools, timezone.localdate())
        self.assertEqual(
            [(r["s"].results, r["s"].missing_classes) for r in rows],
            [(x.results, x.missing_classes) for x in whole],
        )
        self.assertEqual(second.context["labels"], first.context["labels"])
        exported = self.export_rows(
            w.district_admin, reverse("schoolevents:summary_export"), "schoolevents_summary"
        )
        self.assertEqual(len(exported), sum(len(x.results) for x in whole))

    def test_each_rule_counts_its_own_period_only(self) -> None:
        """The summaries read each kind of event within its rule's period: the semester's
        legal education and open classes, May's awareness activities, the closed and the
        current quarter's meetings; an "other" event counts for no rule."""
        w = self.w
        today = dt.date(2026, 11, 2)  # autumn semester; Q3 closed, Q4 running

        def event(kind: str, day: str) -> str:
            e = SchoolEvent.objects.create(
                school=w.school_a, kind=kind, title=kind, date=dt.date.fromisoformat(day)
            )
            return str(e.uid)

        legal = event(EventKind.LEGAL_EDUCATION, "2026-09-15")
        event(EventKind.LEGAL_EDUCATION, "2026-06-10")  # last semester
        open_class = event(EventKind.OPEN_CLASS, "2026-10-01")
        may = event(EventKind.AWARENESS_MONTH, "2026-05-20")
        event(EventKind.AWARENESS_MONTH, "2026-06-02")
        q3 = event(EventKind.LEADERSHIP_MEETING, "2026-08-01")
        event(EventKind.LEADERSHIP_MEETING, "2026-04-10")  # Q2
        q4 = event(EventKind.LEADERSHIP_MEETING, "2026-10-20")
        event(EventKind.OTHER, "2026-10-01")
        results = {(r.rule, r.period): r.counted for r in selectors.summaries([w.school_a], today)[0].results}
        self.assertEqual(
            results,
            {
                ("schoolevents.committee", ""): results[("schoolevents.committee", "")],
                ("schoolevents.awareness_month", "2026-05-01..2026-05-31"): (may,),
                ("schoolevents.legal_education", "2026-09-01..2027-01-31"): (legal,),
                ("schoolevents.open_class", "2026-09-01..2027-01-31"): (open_class,),
                ("schoolevents.contest_participation", "2026-01-01..2026-12-31"): (),
                ("schoolevents.leadership_meeting", "2026-07-01..2026-09-30"): (q3,),
                ("schoolevents.leadership_meeting", "2026-10-01..2026-12-31"): (q4,),
            },
        )


class PanelTests(ListTestCase):
    def test_panel_agrees_with_the_summaries_in_two_queries(self) -> None:
        w = self.w
        today = timezone.localdate()
        start, _end = selectors.rules.quarter_bounds(*selectors.rules.last_closed_quarter(today))
        services.appoint_member(by=w.psych_a, student=w.student_a41, started_on=dt.date(2026, 9, 1))
        expected = selectors.summaries([w.school_a], today)[0]
        period = next(
            r
            for r in expected.results
            if r.rule == "schoolevents.leadership_meeting" and r.period.startswith(start.isoformat())
        )
        with CaptureQueriesContext(connection) as q:
            panel = schoolevents_gaps(w.psych_a)
        self.assertEqual(len(q), 2, [x["sql"] for x in q.captured_queries])
        assert panel is not None
        self.assertEqual(panel["rows"][0]["classes_missing"], len(expected.missing_classes))
        self.assertEqual(panel["rows"][0]["meeting_missing"], period.verdict == "missed")
        self.assertTrue(panel["rows"][0]["meeting_missing"])
        # a meeting in the closed quarter and both members in every grade-4+ class: no gap left
        services.create_event(
            by=w.psych_a,
            school=w.school_a,
            kind=EventKind.LEADERSHIP_MEETING,
            title="会",
            date=start,
            attendees="校长",
        )
        after = schoolevents_gaps(w.psych_a)
        assert after is not None
        self.assertFalse(any(r["meeting_missing"] for r in after["rows"]))
        self.assertEqual(after["rows"][0]["classes_missing"], len(expected.missing_classes))
        self.assertIsNone(schoolevents_gaps(w.district_admin))
