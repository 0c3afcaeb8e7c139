"""Home visits (issue 13 item 4; QX 15): who reads the note (per role; the text never reaches
a page of anyone else), out-of-scope 404 + denied, the counting rule at its boundary (a visit
last school year does not count; one visit is enough), recording from the phone page (the
student leaves the list), a concern raised goes to care, the district sees counts only,
exports carry no notes, query-count pins."""

from __future__ import annotations

import datetime as dt
import io

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import Signal, Source, Warning
from xinyu.homevisits import rules, selectors, services
from xinyu.homevisits.models import HomeVisit, Met, VisitForm
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.semester import school_year_of
from xinyu.kernel.verdict import Verdict

SECRET = "父亲长期外出务工，孩子由奶奶照看"


class HomeVisitsTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.today = timezone.localdate()
        cls.visit = services.record_visit(
            by=w.class_teacher_a41, student=w.student_a41, visited_on=cls.today,
            form=VisitForm.VISIT, met=Met.GRANDPARENT, note=SECRET,
        )  # fmt: skip

    # ---- note visibility per role ------------------------------------------------------

    def test_note_readers_see_the_note(self) -> None:
        w = self.w
        for user in (w.class_teacher_a41, w.leader_a, w.psych_a):
            with self.subTest(user=user.username):
                c = self.client_for(user)
                r = c.get(reverse("homevisits:visit", args=[self.visit.uid]))
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, SECRET)
                r = c.get(reverse("homevisits:class", args=[w.class_a41.uid]))
                self.assertContains(r, SECRET[:20])

    def test_others_never_see_the_note(self) -> None:
        w = self.w
        for user in (w.grade_leader_a4, w.psych_b, w.district_admin, w.centre_expert):
            with self.subTest(user=user.username):
                c = self.client_for(user)
                r = c.get(reverse("homevisits:visit", args=[self.visit.uid]))
                self.assertEqual(r.status_code, 404)
                self.assertTrue(
                    AuditEntry.objects.filter(
                        user=user, action=Action.DENIED, object_id=str(self.visit.uid)
                    ).exists()
                )
        # the grade leader sees the class's coverage (names, dates) but not the note
        r = self.client_for(w.grade_leader_a4).get(reverse("homevisits:class", args=[w.class_a41.uid]))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, w.student_a41_2.name)
        self.assertNotContains(r, SECRET[:6])

    def test_district_sees_counts_only(self) -> None:
        w = self.w
        for user in (w.district_admin, w.centre_expert):
            c = self.client_for(user)
            r = c.get(reverse("homevisits:district"))
            self.assertEqual(r.status_code, 200)
            self.assertContains(r, w.school_a.name)
            self.assertNotContains(r, w.student_a41.name)
            self.assertNotContains(r, SECRET[:6])
            for name in ("homevisits:class", "homevisits:record"):
                self.assertEqual(c.get(reverse(name, args=[w.class_a41.uid])).status_code, 404)
            self.assertEqual(c.get(reverse("homevisits:school", args=[w.school_a.uid])).status_code, 404)

    def test_out_of_scope_404(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        for url in (
            reverse("homevisits:class", args=[w.class_a42.uid]),
            reverse("homevisits:record", args=[w.class_a42.uid]),
            reverse("homevisits:school", args=[w.school_a.uid]),
            reverse("homevisits:district"),
            reverse("homevisits:class_export", args=[w.class_b41.uid]),
        ):
            with self.subTest(url=url):
                self.assertEqual(c.get(url).status_code, 404)
        c = self.client_for(w.psych_b)
        self.assertEqual(c.get(reverse("homevisits:school", args=[w.school_a.uid])).status_code, 404)
        self.assertEqual(c.get(reverse("homevisits:school", args=[w.school_b.uid])).status_code, 200)
        # the grade leader records nothing
        c = self.client_for(w.grade_leader_a4)
        self.assertEqual(c.get(reverse("homevisits:record", args=[w.class_a41.uid])).status_code, 404)

    # ---- recording ---------------------------------------------------------------------

    def test_record_from_the_phone_page_removes_the_student(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        url = reverse("homevisits:record", args=[w.class_a41.uid])
        r = c.get(url)
        self.assertContains(r, w.student_a41_2.name)
        self.assertNotContains(r, f'data-student="{w.student_a41.uid}"')
        r = c.post(
            reverse("homevisits:record_visit", args=[w.class_a41.uid, w.student_a41_2.uid]),
            {"visited_on": self.today.isoformat(), "form": "phone", "met": "mother", "note": "好"},
        )
        self.assertRedirects(r, url)
        r = c.get(url)
        self.assertNotContains(r, f'data-student="{w.student_a41_2.uid}"')
        self.assertTrue(HomeVisit.objects.filter(student=w.student_a41_2, form="phone").exists())

    def test_class_teacher_cannot_record_for_another_class(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        r = c.post(
            reverse("homevisits:record_visit", args=[w.class_a42.uid, w.student_a42.uid]),
            {"visited_on": self.today.isoformat(), "form": "phone", "met": "mother"},
        )
        self.assertEqual(r.status_code, 404)
        with self.assertRaises(Http404):
            services.record_visit(
                by=w.class_teacher_a41,
                student=w.student_a42,
                visited_on=self.today,
                form="phone",
                met="mother",
            )
        self.assertFalse(HomeVisit.objects.filter(student=w.student_a42).exists())
        # the psych teacher records for any class of the school
        services.record_visit(
            by=w.psych_a, student=w.student_a42, visited_on=self.today, form="phone", met="father"
        )

    def test_refusals(self) -> None:
        w = self.w
        with self.assertRaises(ServiceError):  # same student, day, form
            services.record_visit(
                by=w.class_teacher_a41,
                student=w.student_a41,
                visited_on=self.today,
                form="visit",
                met="mother",
            )
        with self.assertRaises(ServiceError):  # future
            services.record_visit(
                by=w.class_teacher_a41, student=w.student_a41, visited_on=self.today + dt.timedelta(days=1),
                form="phone", met="mother",
            )  # fmt: skip
        with self.assertRaises(ServiceError) as ctx:  # concern without what was seen
            services.record_visit(
                by=w.class_teacher_a41, student=w.student_a41_2, visited_on=self.today, form="phone",
                met="mother", raise_concern=True,
            )  # fmt: skip
        self.assertEqual(ctx.exception.field, "seen")

    def test_concern_goes_to_care(self) -> None:
        w = self.w
        visit = services.record_visit(
            by=w.class_teacher_a41, student=w.student_a41_2, visited_on=self.today, form="visit",
            met="mother", note="", raise_concern=True, seen="孩子手臂有伤痕",
        )  # fmt: skip
        warning = Warning.objects.get(student=w.student_a41_2)
        self.assertEqual(visit.warning, warning)
        self.assertTrue(
            Signal.objects.filter(warning=warning, source=Source.HOME_VISIT, ref=str(visit.uid)).exists()
        )
        self.assertTrue(visit.concern_raised)

    # ---- the rule ----------------------------------------------------------------------

    def test_rule_boundary(self) -> None:
        year = school_year_of(dt.date(2026, 10, 1))
        section = {"per_school_year": 1, "citation": "QX 15"}
        last_year = (1, year.start - dt.timedelta(days=1), "a")
        r = rules.every_student_visited(
            unit="c", student_ids=[1, 2], visits=[last_year], year=year, section=section
        )
        self.assertEqual((r.verdict, r.actual, r.required), (Verdict.MISSED, 0, 2))
        first_day = (1, year.start, "b")
        r = rules.every_student_visited(
            unit="c", student_ids=[1, 2], visits=[last_year, first_day], year=year, section=section
        )
        self.assertEqual((r.verdict, r.actual), (Verdict.MISSED, 1))
        self.assertEqual(r.counted, ("b",))
        r = rules.every_student_visited(
            unit="c", student_ids=[1, 2], visits=[first_day, (2, year.end, "c")], year=year, section=section
        )
        self.assertEqual(r.verdict, Verdict.MET)
        r = rules.every_student_visited(unit="c", student_ids=[1], visits=[(1, year.end + dt.timedelta(days=1), "d")],
                                        year=year, section=section)  # fmt: skip
        self.assertEqual(r.verdict, Verdict.MISSED)
        r = rules.every_student_visited(unit="c", student_ids=[], visits=[], year=year, section=section)
        self.assertEqual(r.verdict, Verdict.NO_DATA)
        r = rules.every_student_visited(
            unit="c",
            student_ids=[1],
            visits=[(1, year.start, "e")],
            year=year,
            section={"per_school_year": 2},
        )
        self.assertEqual(r.verdict, Verdict.MISSED)

    def test_class_and_school_coverage(self) -> None:
        w = self.w
        cov = selectors.class_coverage(w.class_a41)
        self.assertEqual(cov.result.actual, 1)
        self.assertEqual(cov.result.required, 2)
        self.assertEqual([s.pk for s in cov.not_visited], [w.student_a41_2.pk])
        # a visit last school year does not count
        year = selectors.year_of(w.district)
        HomeVisit.objects.create(
            student=w.student_a41_2, school=w.school_a, school_class=w.class_a41,
            visited_on=year.start - dt.timedelta(days=3), form="phone", met="mother",
        )  # fmt: skip
        self.assertEqual(selectors.class_coverage(w.class_a41).result.actual, 1)
        _, rows = selectors.school_coverage(w.school_a)
        by = {r.uid: r for r in rows}
        self.assertEqual((by[str(w.class_a41.uid)].students, by[str(w.class_a41.uid)].visited), (2, 1))
        self.assertEqual(by[str(w.class_a41.uid)].percent, 50)
        _, rows = selectors.district_coverage({w.district.pk})
        by = {r.uid: r for r in rows}
        self.assertEqual((by[str(w.school_a.uid)].students, by[str(w.school_a.uid)].visited), (4, 1))

    # ---- exports -----------------------------------------------------------------------

    def test_exports_carry_no_notes_and_are_audited(self) -> None:
        w = self.w
        cases = (
            (w.class_teacher_a41, reverse("homevisits:class_export", args=[w.class_a41.uid])),
            (w.leader_a, reverse("homevisits:school_export", args=[w.school_a.uid])),
            (w.district_admin, reverse("homevisits:district_export")),
        )
        for user, url in cases:
            with self.subTest(url=url):
                r = self.client_for(user).get(url)
                self.assertEqual(r.status_code, 200)
                book = load_workbook(io.BytesIO(r.content))
                text = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
                self.assertNotIn(SECRET[:6], text)
                self.assertTrue(AuditEntry.objects.filter(user=user, action=Action.EXPORT).exists())
        r = self.client_for(w.district_admin).get(reverse("homevisits:district_export"))
        book = load_workbook(io.BytesIO(r.content))
        text = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
        self.assertNotIn(w.student_a41.name, text)

    # ---- timeline ----------------------------------------------------------------------

    def test_timeline(self) -> None:
        from xinyu.kernel.registry import student_timeline

        w = self.w
        kinds = [e for e in student_timeline(w.class_teacher_a41, w.student_a41) if e.kind == "homevisit"]
        self.assertEqual(len(kinds), 1)
        self.assertIn(SECRET[:6], kinds[0].detail)
        kinds = [e for e in student_timeline(w.grade_leader_a4, w.student_a41) if e.kind == "homevisit"]
        self.assertTrue(all(SECRET[:6] not in e.detail for e in kinds))

    # ---- query pins --------------------------------------------------------------------

    def test_query_counts(self) -> None:
        w = self.w
        c = self.client_for(w.psych_a)
        for n, (name, args) in enumerate((("homevisits:class", [w.class_a41.uid]), ("homevisits:school", [w.school_a.uid]),
                           ("homevisits:record", [w.class_a41.uid]))):  # fmt: skip
            url = reverse(name, args=args)
            c.get(url)
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as first:
                c.get(url)
            for i in range(5):
                services.record_visit(
                    by=w.psych_a, student=w.student_a42, visited_on=self.today - dt.timedelta(days=i + 1 + 5 * n),
                    form="visit", met="mother",
                )  # fmt: skip
            with CaptureQueriesContext(connection) as second:
                c.get(url)
            self.assertEqual(len(first), len(second), name)
            self.assertLessEqual(len(second), 20, name)
        c = self.client_for(w.district_admin)
        with self.assertNumQueries(11):  # one grouped count (students, visited) over the district
            c.get(reverse("homevisits:district"))
