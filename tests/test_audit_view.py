"""Issue 11 item 6: the audit log names no one it should not.

A row about care material (a case, a referral, a counselling record, a screening result, a
letter, a ledger export: `xinyu.audit.sensitivity`) shows its student, object and detail only
to a viewer who may see that student's object of that kind; the district admin reads the
action, time, user, role and a pseudonymous reference instead, on the page and in the API, and
a search by 学籍号 does not tell which care rows are that student's. Exports write one row per
file with its count."""

from __future__ import annotations

from django.test import Client

from tests.care_helpers import open_case
from tests.personas import PersonaTestCase
from xinyu.access.policy import Level
from xinyu.audit.models import Action, AuditEntry
from xinyu.audit.selectors import AuditFilter, audit_entries_for, present
from xinyu.audit.sensitivity import SENSITIVE_OBJECT_TYPES, level_needed, pseudonym
from xinyu.org import services


def denied_count() -> int:
    return AuditEntry.objects.filter(action=Action.DENIED).count()


class AuditLogNamesNoOneTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.case = open_case(w.student_a41, w.psych_a)
        cls.other_case = open_case(w.student_a42, w.psych_a)

    def setUp(self) -> None:
        super().setUp()
        w = self.w
        psych = self.client_for(w.psych_a)
        for _ in range(2):
            assert psych.get(f"/care/cases/{self.case.uid}/").status_code == 200
        assert psych.get(f"/care/cases/{self.other_case.uid}/").status_code == 200

    def open_the_file(self) -> None:
        """A view of the student's file: no care material, named as before."""
        assert self.client_for(self.w.psych_a).get(f"/students/{self.w.student_a41.uid}/").status_code == 200

    def case_views(self) -> list[AuditEntry]:
        rows = list(
            AuditEntry.objects.filter(action=Action.VIEW, object_type="case", student=self.w.student_a41)
        )
        assert len(rows) == 2, rows
        return rows

    def secrets(self) -> list[str]:
        s = self.w.student_a41
        return [s.name, s.student_no, str(s.uid), str(self.case.uid)]

    def bearer(self, user) -> Client:  # type: ignore[no-untyped-def]
        _token, key = services.create_api_token(by=user, name="test")
        return Client(headers={"Authorization": f"Bearer {key}"})

    def test_the_sensitive_kinds_are_one_table(self) -> None:
        for kind in ("case", "referral", "counsellingrecord", "invitation", "warning", "letter", "ledger"):
            assert SENSITIVE_OBJECT_TYPES[kind] == Level.FULL
        assert SENSITIVE_OBJECT_TYPES["guardiancontact"] >= Level.CARE
        assert level_needed("student", "view", "") is None
        assert level_needed("student", "export", "ledger.xlsx") == Level.FULL
        assert level_needed("student", "view", "crisis 123") == Level.FULL

    def test_district_admin_page_shows_case_views_without_the_student(self) -> None:
        w = self.w
        self.case_views()
        page = self.client_for(w.district_admin).get("/audit/").content.decode()
        for secret in self.secrets():
            assert secret not in page, secret
        ref = pseudonym(w.student_a41.pk)
        # Two case views of the same student: the same reference, another student another one.
        views = [
            r
            for r in present(
                w.district_admin, audit_entries_for(w.district_admin, AuditFilter(action="view"))
            )
            if r.masked
        ]
        assert [r.reference for r in views].count(ref) == 2 and len(views) == 3
        assert ref in page
        assert pseudonym(w.student_a42.pk) in page and pseudonym(w.student_a42.pk) != ref
        assert "psych_a" in page and 'class="action-view masked"' in page

    def test_district_admin_page_rows_are_masked(self) -> None:
        w = self.w
        self.open_the_file()
        rows = present(w.district_admin, audit_entries_for(w.district_admin, AuditFilter()))
        case_rows = [r for r in rows if r.masked]
        assert len([r for r in case_rows if r.action == "view" and r.username == "psych_a"]) == 3
        for r in case_rows:
            assert r.student_no == r.object_id == r.detail == r.object_type == r.request_id == ""
            assert r.reference.startswith("P-") and r.role
        named = [r for r in rows if not r.masked and r.object_type == "student" and r.action == "view"]
        assert named and named[0].student_no == w.student_a41.student_no

    def test_school_psych_teacher_sees_them_named(self) -> None:
        w = self.w
        rows = present(w.psych_a, self.case_views())
        assert {r.student_no for r in rows} == {w.student_a41.student_no}
        assert {r.object_id for r in rows} == {str(self.case.uid)}
        assert not any(r.masked for r in rows)
        # Another school's psych teacher does not see this student in full: masked.
        assert all(r.masked for r in present(w.psych_b, self.case_views()))
        # The student file's 'who viewed this file' (psych teachers of the school) lists them.
        self.open_the_file()
        page = self.client_for(w.psych_a).get(f"/students/{w.student_a41.uid}/").content.decode()
        assert 'id="viewers"' in page and "psych_a" in page

    def test_search_by_student_number_hides_the_care_rows(self) -> None:
        w = self.w
        self.open_the_file()
        page = (
            self.client_for(w.district_admin)
            .get("/audit/", {"student": w.student_a41.student_no})
            .content.decode()
        )
        assert pseudonym(w.student_a41.pk) not in page
        assert w.student_a41.student_no in page  # the file view row, no care material
        found = audit_entries_for(w.district_admin, AuditFilter(student_no=w.student_a41.student_no))
        assert found.exists()
        assert not found.filter(object_type="case").exists()
        # Nor through the API.
        rows = self.bearer(w.district_admin).get("/api/audit", {"student": w.student_a41.student_no}).json()
        assert rows and not any(r["object_type"] == "case" or r["reference"] for r in rows)

    def test_api_masks_the_same_rows(self) -> None:
        w = self.w
        response = self.bearer(w.district_admin).get("/api/audit", {"action": "view"})
        assert response.status_code == 200
        body = response.content.decode()
        for secret in self.secrets():
            assert secret not in body, secret
        rows = response.json()
        masked = [r for r in rows if r["reference"] == pseudonym(w.student_a41.pk)]
        assert len(masked) == 2
        for r in masked:
            assert r["object_id"] == r["detail"] == r["object_type"] == "" and r["username"] == "psych_a"

    def test_out_of_scope_stays_404(self) -> None:
        w = self.w
        for persona in (w.psych_a, w.leader_a, w.class_teacher_a41, w.centre_expert, w.grade_leader_a4):
            before = denied_count()
            assert (
                self.client_for(persona).get("/audit/", {"student": w.student_a41.student_no}).status_code
                == 404
            )
            assert denied_count() == before + 1
            assert self.bearer(persona).get("/api/audit").status_code == 404


class ExportAuditTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        open_case(w.student_a41, w.psych_a)
        open_case(w.student_a42, w.psych_a)

    def test_ledger_export_is_one_row_with_the_count_visible_to_the_district(self) -> None:
        w = self.w
        before = AuditEntry.objects.count()
        assert self.client_for(w.psych_a).get("/care/ledger/export.xlsx").status_code == 200
        written = AuditEntry.objects.filter(action=Action.EXPORT)
        assert AuditEntry.objects.count() == before + 1 and written.count() == 1
        row = written.get()
        assert row.student_id is None and row.object_type == "ledger" and "2 students" in row.detail
        page = self.client_for(w.district_admin).get("/audit/", {"action": "export"}).content.decode()
        assert "2 students" in page
        for s in (w.student_a41, w.student_a42):
            assert s.student_no not in page and s.name not in page

    def test_old_per_student_export_rows_are_masked(self) -> None:
        w = self.w
        from xinyu.audit.services import record_many_students

        record_many_students(
            actor=w.psych_a,
            action=Action.EXPORT,
            students=[w.student_a41],
            role="psych_teacher",
            detail="台账.xlsx",
        )
        rows = present(w.district_admin, audit_entries_for(w.district_admin, AuditFilter(action="export")))
        assert len(rows) == 1 and rows[0].masked and rows[0].detail == "" and rows[0].student_no == ""
        # And a 学籍号 search does not find it.
        assert not audit_entries_for(
            w.district_admin, AuditFilter(student_no=w.student_a41.student_no, action="export")
        ).exists()
        assert not present(w.psych_a, AuditEntry.objects.filter(action=Action.EXPORT))[0].masked
