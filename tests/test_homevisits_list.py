"""The home-visit list and its export (issue 13 items 4 and 7), edits and deletions of a visit,
and the coverage counts of the district and of the school agreeing.

- Scope per role: a class teacher their class, a grade leader their grade, leaders and psych
  teachers their school; district roles none (404 + denied). The note column only for note
  readers, and on each row only where they may read it (a grade leader who also teaches a
  class reads that class's notes only); the export carries the same rows and the same notes.
- Filters (school, class, dates, form, recorder), paging (50 a page, the filter kept).
- Edit and delete by the recorder and the school's leaders, audited (the reason kept; the
  note's text never in an audit row); everyone else 404 + denied and nothing changes; a
  concern raised stays in care; the coverage follows at once.
"""

from __future__ import annotations

import datetime as dt
import io

from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import Warning
from xinyu.homevisits import selectors, services
from xinyu.homevisits.models import HomeVisit, HomeVisitEvidence, Met, VisitForm
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import Role, RoleAssignment, SchoolClass, Student, StudentStatus, User

NOTE_41 = "母亲在外地打工，孩子跟外婆住"
NOTE_42 = "父亲说孩子晚上玩手机到很晚"
NOTE_71 = "家长希望多和孩子沟通"
NOTE_B = "乙校家访：家里刚搬家"
NOTES = (NOTE_41, NOTE_42, NOTE_71, NOTE_B)
NOTE_HEADER = "备注 / Note"


def _png_upload() -> object:
    from tests.matrix_world import _png

    return _png()


class VisitListTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.today = timezone.localdate()
        cls.v41 = services.record_visit(
            by=w.class_teacher_a41, student=w.student_a41, visited_on=cls.today,
            form=VisitForm.VISIT, met=Met.MOTHER, note=NOTE_41,
        )  # fmt: skip
        cls.v42 = services.record_visit(
            by=w.psych_a, student=w.student_a42, visited_on=cls.today - dt.timedelta(days=10),
            form=VisitForm.PHONE, met=Met.FATHER, note=NOTE_42,
        )  # fmt: skip
        cls.v71 = services.record_visit(
            by=w.psych_a, student=w.student_a71, visited_on=cls.today - dt.timedelta(days=20),
            form=VisitForm.VISIT, met=Met.GUARDIAN, note=NOTE_71,
        )  # fmt: skip
        cls.vb = services.record_visit(
            by=w.psych_b, student=w.student_b41, visited_on=cls.today - dt.timedelta(days=3),
            form=VisitForm.VIDEO, met=Met.MOTHER, note=NOTE_B,
        )  # fmt: skip
        # a grade leader of A's grade 4 who also teaches A 4(2): notes of 4(2) only
        cls.mixed = User.objects.create_user(
            username="mixed_a4", password=None, full_name="四年级组长兼四二班主任"
        )
        RoleAssignment.objects.create(
            user=cls.mixed,
            role=Role.GRADE_LEADER,
            district=w.district,
            school=w.school_a,
            grade=w.class_a41.grade,
        )
        RoleAssignment.objects.create(
            user=cls.mixed, role=Role.CLASS_TEACHER, district=w.district, school=w.school_a,
            grade=w.class_a42.grade, school_class=w.class_a42,
        )  # fmt: skip

    def listed(self, user: User, query: str = "") -> tuple[set[str], str]:
        r = self.client_for(user).get(reverse("homevisits:visits") + query)
        self.assertEqual(r.status_code, 200)
        html = r.content.decode()
        uids = {
            str(v.uid) for v in (self.v41, self.v42, self.v71, self.vb) if f'data-visit="{v.uid}"' in html
        }
        return uids, html

    def exported(self, user: User, query: str = "") -> tuple[list[str], list[dict[str, object]]]:
        r = self.client_for(user).get(reverse("homevisits:visits_export") + query)
        self.assertEqual(r.status_code, 200)
        ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
        lines = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
        header = [str(h) for h in lines[0]]
        return header, [dict(zip(header, line, strict=False)) for line in lines[1:]]

    # ---- scope and notes, per role ------------------------------------------------------

    def test_list_scope_and_notes_per_role(self) -> None:
        w = self.w
        a41, a42, a71, b = (str(v.uid) for v in (self.v41, self.v42, self.v71, self.vb))
        cases = (
            (w.class_teacher_a41, {a41}, {NOTE_41}),
            (w.grade_leader_a4, {a41, a42}, set()),
            (self.mixed, {a41, a42}, {NOTE_42}),
            (w.leader_a, {a41, a42, a71}, {NOTE_41, NOTE_42, NOTE_71}),
            (w.psych_a, {a41, a42, a71}, {NOTE_41, NOTE_42, NOTE_71}),
            (w.psych_b, {b}, {NOTE_B}),
        )
        for user, rows, notes in cases:
            with self.subTest(user=user.username):
                uids, html = self.listed(user)
                self.assertEqual(uids, rows)
                self.assertEqual({n for n in NOTES if n[:10] in html}, notes)
                self.assertEqual('data-col="note"' in html, bool(notes), "note column")

    def test_district_roles_have_no_list(self) -> None:
        w = self.w
        for user in (w.district_admin, w.centre_expert):
            for name in ("homevisits:visits", "homevisits:visits_export"):
                with self.subTest(user=user.username, view=name):
                    before = AuditEntry.objects.count()
                    r = self.client_for(user).get(reverse(name))
                    self.assertEqual(r.status_code, 404)
                    self.assertTrue(
                        AuditEntry.objects.filter(pk__gt=before, user=user, action=Action.DENIED).exists()
                    )
                    self.assertFalse(AuditEntry.objects.filter(pk__gt=before, action=Action.EXPORT).exists())

    def test_export_has_the_pages_rows_and_notes_only_for_note_readers(self) -> None:
        w = self.w
        cases = (
            (w.class_teacher_a41, {w.student_a41.name: NOTE_41}),
            (w.grade_leader_a4, {w.student_a41.name: None, w.student_a42.name: None}),
            (self.mixed, {w.student_a41.name: "", w.student_a42.name: NOTE_42}),
            (
                w.leader_a,
                {w.student_a41.name: NOTE_41, w.student_a42.name: NOTE_42, w.student_a71.name: NOTE_71},
            ),
            (w.psych_b, {w.student_b41.name: NOTE_B}),
        )
        for user, expected in cases:
            with self.subTest(user=user.username):
                before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                header, rows = self.exported(user)
                names = {str(r["姓名 / Name"]): r.get(NOTE_HEADER) for r in rows}
                self.assertEqual(set(names), set(expected))
                readers = any(v is not None for v in expected.values())
                self.assertEqual(NOTE_HEADER in header, readers)
                for name, note in expected.items():
                    if note is not None:
                        self.assertEqual(names[name] or "", note, name)
                text = repr(rows)
                for n in NOTES:
                    if n not in expected.values():
                        self.assertNotIn(n[:10], text)
                export = AuditEntry.objects.get(pk__gt=before, action=Action.EXPORT)
                self.assertIn(f"{len(rows)} rows", export.detail)
                self.assertIn("with notes" if readers else "no notes", export.detail)
                # each note that left in the file is a read of that student, audited
                read = set(
                    AuditEntry.objects.filter(
                        pk__gt=before, action=Action.VIEW, detail="home visit notes (export)"
                    ).values_list("student__name", flat=True)
                )
                self.assertEqual(read, {k for k, v in expected.items() if v})

    # ---- filters and paging -------------------------------------------------------------

    def test_filters(self) -> None:
        w = self.w
        a41, a42, a71 = (str(v.uid) for v in (self.v41, self.v42, self.v71))
        leader = w.leader_a
        psych_a_uid = w.psych_a.uid
        since = (self.today - dt.timedelta(days=15)).isoformat()
        until = (self.today - dt.timedelta(days=5)).isoformat()
        cases = (
            (f"?school={w.school_a.uid}", {a41, a42, a71}),
            (f"?school_class={w.class_a42.uid}", {a42}),
            (f"?date_from={since}", {a41, a42}),
            (f"?date_from={since}&date_to={until}", {a42}),
            ("?form=visit", {a41, a71}),
            (f"?by={psych_a_uid}", {a42, a71}),
            (f"?by={psych_a_uid}&form=phone", {a42}),
            # outside the scope: not a choice, never B's row
            (f"?school={w.school_b.uid}", {a41, a42, a71}),
            (f"?school_class={w.class_b41.uid}", {a41, a42, a71}),
        )
        for query, expected in cases:
            with self.subTest(query=query):
                uids, _html = self.listed(leader, query)
                self.assertEqual(uids, expected)
                _header, rows = self.exported(leader, query)
                self.assertEqual(len(rows), len(expected))
        _uids, html = self.listed(leader, f"?date_from={until}&date_to={since}")
        self.assertIn("结束日期早于开始日期。", html)

    def test_paging_keeps_the_filter(self) -> None:
        w = self.w
        for i in range(55):
            services.record_visit(
                by=w.class_teacher_a41, student=w.student_a41_2, visited_on=self.today - dt.timedelta(days=i),
                form=VisitForm.PHONE, met=Met.MOTHER,
            )  # fmt: skip
        c = self.client_for(w.class_teacher_a41)
        query = f"?school_class={w.class_a41.uid}&form=phone"
        r = c.get(reverse("homevisits:visits") + query)
        self.assertEqual(r.content.decode().count("data-visit="), 50)
        self.assertContains(r, 'data-testid="visit-count">55<')
        self.assertContains(r, f"school_class={w.class_a41.uid}&amp;form=phone&amp;page=2")
        r = c.get(reverse("homevisits:visits") + query + "&page=2")
        self.assertEqual(r.content.decode().count("data-visit="), 5)
        self.assertNotContains(r, f'data-visit="{self.v41.uid}"')  # a visit, not a phone call
        self.assertContains(
            r, f"/homevisits/visits/export.xlsx?school_class={w.class_a41.uid}&amp;form=phone"
        )
        _header, rows = self.exported(w.class_teacher_a41, query)
        self.assertEqual(len(rows), 55)  # the export: every page

    def test_list_queries_do_not_grow_with_the_rows(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        w = self.w
        c = self.client_for(w.leader_a)
        url = reverse("homevisits:visits")
        c.get(url)
        with CaptureQueriesContext(connection) as first:
            c.get(url)
        for i in range(30):
            services.record_visit(
                by=w.class_teacher_a41 if i % 2 else w.psych_a, student=w.student_a41_2,
                visited_on=self.today - dt.timedelta(days=i), form=VisitForm.PHONE, met=Met.MOTHER, note=f"第{i}次",
            )  # fmt: skip
        with CaptureQueriesContext(connection) as second:
            c.get(url)
        self.assertEqual(len(first), len(second))
        self.assertLessEqual(len(second), 25)

    def test_list_links(self) -> None:
        w = self.w
        c = self.client_for(w.leader_a)
        for url, link in (
            (reverse("homevisits:index"), reverse("homevisits:visits")),
            (reverse("homevisits:school", args=[w.school_a.uid]), f"?school={w.school_a.uid}"),
            (reverse("homevisits:class", args=[w.class_a41.uid]), f"?school_class={w.class_a41.uid}"),
        ):
            with self.subTest(url=url):
                self.assertContains(c.get(url), link)

    # ---- edit -------------------------------------------------------------------------

    def test_recorder_edits_the_visit_and_coverage_follows(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        url = reverse("homevisits:visit_edit", args=[self.v41.uid])
        r = c.get(url)
        self.assertContains(r, NOTE_41)
        self.assertTrue(AuditEntry.objects.filter(user=w.class_teacher_a41, action=Action.VIEW,
                                                  object_id=str(self.v41.uid)).exists())  # fmt: skip
        year = selectors.year_of(w.district)
        last_year = year.start - dt.timedelta(days=1)
        self.assertNotIn(w.student_a41, selectors.class_coverage(w.class_a41).not_visited)
        r = c.post(
            url, {"visited_on": last_year.isoformat(), "form": "phone", "met": "father", "note": "改过的备注"}
        )
        self.assertRedirects(r, reverse("homevisits:visit", args=[self.v41.uid]))
        v = HomeVisit.objects.get(pk=self.v41.pk)
        self.assertEqual((v.visited_on, v.form, v.met, v.note), (last_year, "phone", "father", "改过的备注"))
        row = AuditEntry.objects.get(
            action=Action.UPDATE, object_id=str(v.uid), detail__startswith="home visit edited"
        )
        self.assertEqual(row.user, w.class_teacher_a41)
        self.assertEqual(row.student, w.student_a41)
        for field in ("visited_on", "form", "met", "note"):
            self.assertIn(field, row.detail)
        self.assertNotIn("改过", row.detail)
        # last school year's visit no longer counts
        self.assertIn(w.student_a41, selectors.class_coverage(w.class_a41).not_visited)

    def test_leader_edits_any_visit_of_the_school(self) -> None:
        w = self.w
        r = self.client_for(w.leader_a).post(
            reverse("homevisits:visit_edit", args=[self.v42.uid]),
            {
                "visited_on": self.v42.visited_on.isoformat(),
                "form": "at_school",
                "met": "father",
                "note": NOTE_42,
            },
        )
        self.assertEqual(r.status_code, 302)
        self.assertEqual(HomeVisit.objects.get(pk=self.v42.pk).form, "at_school")
        row = AuditEntry.objects.get(action=Action.UPDATE, object_id=str(self.v42.uid))
        self.assertEqual(row.detail, "home visit edited: form")

    def test_edit_refusals(self) -> None:
        w = self.w
        # a second visit of the student on the same day in the same form
        services.record_visit(by=w.class_teacher_a41, student=w.student_a41,
                              visited_on=self.today - dt.timedelta(days=1), form="phone", met="mother")  # fmt: skip
        with self.assertRaises(ServiceError) as e:
            services.update_visit(by=w.class_teacher_a41, visit=self.v41,
                                  visited_on=self.today - dt.timedelta(days=1), form="phone", met="mother", note="")  # fmt: skip
        self.assertEqual(e.exception.field, "visited_on")
        with self.assertRaises(ServiceError):
            services.update_visit(by=w.class_teacher_a41, visit=self.v41,
                                  visited_on=self.today + dt.timedelta(days=1), form="visit", met="mother", note="")  # fmt: skip
        r = self.client_for(w.class_teacher_a41).post(
            reverse("homevisits:visit_edit", args=[self.v41.uid]),
            {"visited_on": (self.today - dt.timedelta(days=1)).isoformat(), "form": "phone", "met": "mother"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "already has a visit of this form on that day")
        self.assertEqual(HomeVisit.objects.get(pk=self.v41.pk).form, "visit")

    def test_edit_and_delete_out_of_scope_404_denied(self) -> None:
        w = self.w
        # the psych teacher did not record A 4(1)'s visit; the class teacher not 4(2)'s;
        # the grade leader, B's psych teacher and the district never
        cases = (
            (w.psych_a, self.v41),
            (w.class_teacher_a41, self.v42),
            (w.grade_leader_a4, self.v41),
            (self.mixed, self.v42),
            (w.psych_b, self.v41),
            (w.district_admin, self.v41),
            (w.centre_expert, self.v42),
            (w.leader_a, self.vb),
        )
        for user, visit in cases:
            c = self.client_for(user)
            for method, name, data in (
                ("get", "homevisits:visit_edit", {}),
                ("post", "homevisits:visit_edit", {"visited_on": self.today.isoformat(), "form": "video",
                                                    "met": "other", "note": "x"}),
                ("post", "homevisits:visit_delete", {"reason": "试试"}),
            ):  # fmt: skip
                with self.subTest(user=user.username, visit=visit.student.name, view=name, method=method):
                    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                    r = getattr(c, method)(reverse(name, args=[visit.uid]), data)
                    self.assertEqual(r.status_code, 404)
                    rows = AuditEntry.objects.filter(pk__gt=before)
                    self.assertEqual(
                        list(rows.values_list("action", "object_id")), [(Action.DENIED, str(visit.uid))]
                    )
        for visit in (self.v41, self.v42, self.vb):
            fresh = HomeVisit.objects.get(pk=visit.pk)
            self.assertEqual((fresh.form, fresh.note), (visit.form, visit.note))
        # nor through the service
        with self.assertRaises(Http404):
            services.delete_visit(by=w.psych_a, visit=self.v41, reason="x")
        self.assertTrue(HomeVisit.objects.filter(pk=self.v41.pk).exists())

    def test_the_edit_link_only_for_editors(self) -> None:
        w = self.w
        _uids, html = self.listed(w.class_teacher_a41)
        self.assertIn(reverse("homevisits:visit_edit", args=[self.v41.uid]), html)
        _uids, html = self.listed(w.psych_a)
        self.assertIn(reverse("homevisits:visit_edit", args=[self.v42.uid]), html)
        self.assertNotIn(reverse("homevisits:visit_edit", args=[self.v41.uid]), html)
        r = self.client_for(w.psych_a).get(reverse("homevisits:visit", args=[self.v41.uid]))
        self.assertNotContains(r, reverse("homevisits:visit_edit", args=[self.v41.uid]))
        r = self.client_for(w.leader_a).get(reverse("homevisits:visit", args=[self.v41.uid]))
        self.assertContains(r, reverse("homevisits:visit_edit", args=[self.v41.uid]))

    # ---- delete -----------------------------------------------------------------------

    def test_delete_needs_a_reason_and_keeps_it(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        url = reverse("homevisits:visit_delete", args=[self.v41.uid])
        r = c.post(url, {"reason": "   "})
        self.assertRedirects(r, reverse("homevisits:visit_edit", args=[self.v41.uid]))
        self.assertTrue(HomeVisit.objects.filter(pk=self.v41.pk).exists())
        with self.assertRaises(ServiceError) as e:
            services.delete_visit(by=w.class_teacher_a41, visit=self.v41, reason=" \n ")
        self.assertEqual(e.exception.field, "reason")
        self.assertNotIn(w.student_a41, selectors.class_coverage(w.class_a41).not_visited)
        r = c.post(url, {"reason": "录错了学生"})
        self.assertRedirects(r, reverse("homevisits:class", args=[w.class_a41.uid]))
        self.assertFalse(HomeVisit.objects.filter(pk=self.v41.pk).exists())
        row = AuditEntry.objects.get(action=Action.DELETE, object_id=str(self.v41.uid))
        self.assertEqual(row.user, w.class_teacher_a41)
        self.assertEqual(row.student, w.student_a41)
        self.assertIn("录错了学生", row.detail)
        self.assertNotIn(NOTE_41[:6], row.detail)
        # the coverage follows: the student is back on the class's no-visit list
        self.assertIn(w.student_a41, selectors.class_coverage(w.class_a41).not_visited)
        r = c.get(reverse("homevisits:record", args=[w.class_a41.uid]))
        self.assertContains(r, f'data-student="{w.student_a41.uid}"')

    def test_deleting_a_visit_that_raised_a_concern_keeps_the_concern(self) -> None:
        w = self.w
        visit = services.record_visit(
            by=w.class_teacher_a41, student=w.student_a41_2, visited_on=self.today, form="visit",
            met="grandparent", raise_concern=True, seen="孩子手臂上有伤痕",
        )  # fmt: skip
        warning = visit.warning
        assert warning is not None
        # editing keeps the link to the concern
        services.update_visit(by=w.leader_a, visit=visit, visited_on=self.today, form="visit", met="mother",
                              note=visit.note)  # fmt: skip
        self.assertEqual(HomeVisit.objects.get(pk=visit.pk).warning_id, warning.pk)
        self.assertTrue(HomeVisit.objects.get(pk=visit.pk).concern_raised)
        services.delete_visit(by=w.leader_a, visit=visit, reason="家长要求重新记录")
        self.assertTrue(Warning.objects.filter(pk=warning.pk).exists())
        self.assertTrue(warning.signals.filter(ref=str(visit.uid)).exists())  # still names the visit
        row = AuditEntry.objects.get(action=Action.DELETE, object_id=str(visit.uid))
        self.assertIn("concern stays in care", row.detail)
        self.assertIn("家长要求重新记录", row.detail)

    def test_deleting_removes_the_evidence_files(self) -> None:
        w = self.w
        ev = services.add_evidence(by=w.class_teacher_a41, visit=self.v41, upload=_png_upload())  # type: ignore[arg-type]
        storage, name = ev.file.storage, ev.file.name
        assert name
        self.assertTrue(storage.exists(name))
        with self.captureOnCommitCallbacks(execute=True):
            services.delete_visit(by=w.class_teacher_a41, visit=self.v41, reason="重复")
        self.assertFalse(HomeVisitEvidence.objects.filter(pk=ev.pk).exists())
        self.assertFalse(storage.exists(name))


class CoverageAgreesTest(PersonaTestCase):
    """The district's count per school is the sum of the school's per class, and each class's
    the class page's, on a small world with the awkward cases: two visits, a visit last school
    year, a student who left, one who moved to school B after a visit at A."""

    def test_district_school_and_class_agree(self) -> None:
        w = self.w
        today = timezone.localdate()
        year = selectors.year_of(w.district)
        for student, day, form in (
            (w.student_a41, today, "visit"),
            (w.student_a41, today, "phone"),
            (w.student_a42, year.start - dt.timedelta(days=3), "visit"),  # last school year
            (w.student_a71, today, "visit"),
            (w.student_b41, today, "visit"),
        ):
            services.record_visit(by=w.psych_a if student.school_id == w.school_a.pk else w.psych_b,
                                  student=student, visited_on=day, form=form, met="mother")  # fmt: skip
        gone = Student.objects.create(student_no="G1", name="离校生", gender="F", birth_date=dt.date(2015, 1, 1),
                                      school=w.school_a, school_class=w.class_a41)  # fmt: skip
        services.record_visit(by=w.psych_a, student=gone, visited_on=today, form="visit", met="mother")
        gone.status = StudentStatus.LEFT
        gone.save()
        moved = Student.objects.create(student_no="G2", name="转学生", gender="M", birth_date=dt.date(2015, 1, 1),
                                       school=w.school_a, school_class=w.class_a42)  # fmt: skip
        services.record_visit(by=w.psych_a, student=moved, visited_on=today, form="visit", met="mother")
        moved.school, moved.school_class = w.school_b, w.class_b41
        moved.save()

        _year, district = selectors.district_coverage({w.district.pk})
        by_school = {r.uid: (r.students, r.visited) for r in district}
        for school in (w.school_a, w.school_b):
            _y, classes = selectors.school_coverage(school)
            totals = (sum(r.students for r in classes), sum(r.visited for r in classes))
            self.assertEqual(by_school[str(school.uid)], totals, school.name)
            for r in classes:
                klass = SchoolClass.objects.get(uid=r.uid)
                cov = selectors.class_coverage(klass)
                self.assertEqual((r.students, r.visited), (len(cov.rows), cov.visited_count), str(klass))
        # A: 4 active students (the leaver not counted), visited: A 4(1)'s one, A 7(1)'s one
        self.assertEqual(by_school[str(w.school_a.uid)], (4, 2))
        # B: its student and the newcomer, both visited (the newcomer's visit was made at A)
        self.assertEqual(by_school[str(w.school_b.uid)], (2, 2))
        # more than one visit required: only A 4(1)'s student had two
        for per, a_visited in ((2, 1), (3, 0)):
            school_level = selectors._count_by("school_id", Q(school__district=w.district), year, per)
            class_level = selectors._count_by("school_class_id", Q(school=w.school_a), year, per)
            self.assertEqual(school_level[w.school_a.pk], (4, a_visited))
            self.assertEqual(sum(v for _n, v in class_level.values()), a_visited)
