"""Stated reasons (issue 11 item 3): staff outside a student's care circle (school leader, grade
leader, district admin) state a reason before the student's file opens; the reason is the
audit row of the read, holds for [access] reason_valid_hours, and is shown to the psych
teachers of the student's school only. The class teacher, the school's psych teachers and the
case team open the file directly; out of scope stays 404 with a denied row."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from tests.care_helpers import open_case
from tests.personas import PersonaTestCase
from xinyu.access import policy
from xinyu.audit import chain
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import Case, CaseMember
from xinyu.org.models import Role, RoleAssignment, User

TEXT = "家长来电反映孩子近况，需核对班级信息"


class StatedReasonTest(PersonaTestCase):
    def setUp(self) -> None:
        self.student = self.w.student_a41
        self.url = reverse("org:student", args=[self.student.uid])
        self.reason_url = reverse("studentfile:reason", args=[self.student.uid])

    def _reason_rows(self, user: User) -> list[AuditEntry]:
        return list(
            AuditEntry.objects.filter(user=user, student=self.student, object_type=policy.REASON_OBJECT_TYPE)
        )

    def test_leaders_and_the_district_must_state_a_reason_before_the_file_opens(self) -> None:
        for user in (self.w.grade_leader_a4, self.w.leader_a, self.w.district_admin):
            with self.subTest(user=user.username):
                client = self.client_for(user)
                views = AuditEntry.objects.filter(
                    user=user, student=self.student, object_type="student"
                ).count()
                response = client.get(self.url)
                self.assertRedirects(response, self.reason_url, fetch_redirect_response=False)
                # Nothing of the file was read: no view row, the form names only the student.
                self.assertEqual(
                    AuditEntry.objects.filter(user=user, student=self.student, object_type="student").count(),
                    views,
                )
                form = client.get(self.reason_url)
                html = form.content.decode()
                self.assertEqual(form.status_code, 200)
                self.assertIn('id="stated-reason"', html)
                self.assertIn("8", html)  # hours, from the policy file
                self.assertNotIn(self.student.student_no, html)

                # An empty reason or a too-short text is refused, bilingually, and opens nothing.
                response = client.post(self.reason_url, {"reason": "guardian", "text": "看"})
                self.assertEqual(response.status_code, 200)
                self.assertIn("请简要说明理由", response.content.decode())
                response = client.post(self.reason_url, {"text": TEXT})
                self.assertEqual(response.status_code, 200)
                self.assertEqual(self._reason_rows(user), [])
                self.assertRedirects(client.get(self.url), self.reason_url, fetch_redirect_response=False)

                response = client.post(self.reason_url, {"reason": "guardian", "text": TEXT})
                self.assertRedirects(response, self.url, fetch_redirect_response=False)
                [row] = self._reason_rows(user)
                self.assertEqual(row.action, Action.VIEW)
                self.assertEqual(row.detail, f"guardian: {TEXT}")
                self.assertEqual(row.school_id, self.student.school_id)
                page = client.get(self.url)
                self.assertEqual(page.status_code, 200)
                self.assertContains(page, self.student.name)
                read = AuditEntry.objects.filter(
                    user=user, student=self.student, object_type="student"
                ).latest("id")
                self.assertEqual(read.detail, f"reason #{row.pk}")
        self.assertTrue(chain.verify().ok)

    def test_the_reason_lapses_after_the_policy_hours_and_covers_one_student(self) -> None:
        client = self.client_for(self.w.leader_a)
        client.post(self.reason_url, {"reason": "administration", "text": TEXT})
        self.assertEqual(client.get(self.url).status_code, 200)
        other = reverse("org:student", args=[self.w.student_a42.uid])
        self.assertRedirects(
            client.get(other),
            reverse("studentfile:reason", args=[self.w.student_a42.uid]),
            fetch_redirect_response=False,
        )
        later = timezone.now() + dt.timedelta(hours=policy.reason_valid_hours(self.student), minutes=1)
        self.assertIsNotNone(policy.stated_reason(self.w.leader_a, self.student))
        self.assertIsNone(policy.stated_reason(self.w.leader_a, self.student, now=later))

    def test_the_class_teacher_psych_teacher_and_case_team_need_no_reason(self) -> None:
        for user in (self.w.class_teacher_a41, self.w.psych_a):
            with self.subTest(user=user.username):
                response = self.client_for(user).get(self.url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(self._reason_rows(user), [])
                self.assertNotIn("reason", self.client_for(user).get(self.reason_url).get("Location", "x"))
                read = AuditEntry.objects.filter(
                    user=user, student=self.student, object_type="student"
                ).latest("id")
                self.assertEqual(read.detail, "")
        # Whoever is on the team of the student's open case is in the circle (care registers
        # the relationship); the team is psych staff and centre experts, so the check is shown
        # here on a membership written directly, and it ends with the case.
        w = self.w
        self.assertFalse(policy.in_care_circle(w.grade_leader_a4, self.student))
        case = open_case(self.student, w.psych_a)
        CaseMember.objects.create(case=case, user=w.grade_leader_a4, added_at=timezone.now())
        self.assertTrue(policy.in_care_circle(w.grade_leader_a4, self.student))
        self.assertEqual(self.client_for(w.grade_leader_a4).get(self.url).status_code, 200)
        Case.objects.filter(pk=case.pk).update(status="closed")
        self.assertFalse(policy.in_care_circle(w.grade_leader_a4, self.student))
        # The class teacher of another class of the grade is outside it.
        other_teacher = User.objects.create_user(username="class_teacher_a42", password="x" * 12)
        RoleAssignment.objects.create(
            user=other_teacher,
            role=Role.CLASS_TEACHER,
            district=w.district,
            school=w.school_a,
            grade=w.class_a42.grade,
            school_class=w.class_a42,
        )
        self.assertFalse(policy.in_care_circle(other_teacher, self.student))

    def test_reasons_are_shown_to_the_schools_psych_teachers_only(self) -> None:
        self.client_for(self.w.grade_leader_a4).post(self.reason_url, {"reason": "safety", "text": TEXT})
        reasons = reverse("studentfile:reasons")
        page = self.client_for(self.w.psych_a).get(reasons)
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertIn(self.w.grade_leader_a4.username, html)
        self.assertIn(self.student.name, html)
        self.assertIn(TEXT, html)
        home = self.client_for(self.w.psych_a).get(reverse("home")).content.decode()
        self.assertIn('id="file-reasons"', home)
        self.assertIn(TEXT, home)

        # The other school's psych teacher sees none of it, page or home.
        html = self.client_for(self.w.psych_b).get(reasons).content.decode()
        self.assertNotIn(TEXT, html)
        self.assertNotIn(self.student.name, html)
        self.assertNotIn(
            'id="file-reasons"', self.client_for(self.w.psych_b).get(reverse("home")).content.decode()
        )

        # Those who state reasons do not read the list: 404 and a denied row.
        for user in (
            self.w.grade_leader_a4,
            self.w.leader_a,
            self.w.district_admin,
            self.w.class_teacher_a41,
        ):
            with self.subTest(user=user.username):
                before = AuditEntry.objects.filter(user=user, action=Action.DENIED).count()
                self.assertEqual(self.client_for(user).get(reasons).status_code, 404)
                self.assertEqual(
                    AuditEntry.objects.filter(user=user, action=Action.DENIED).count(), before + 1
                )

    def test_out_of_scope_stays_404_and_denied(self) -> None:
        cases = [
            (self.w.psych_b, self.student),  # another school
            (self.w.grade_leader_a4, self.w.student_a71),  # another grade
            (self.w.class_teacher_a41, self.w.student_a42),  # another class
            (self.w.centre_expert, self.student),  # no roster at all
        ]
        for user, student in cases:
            for url in (
                reverse("org:student", args=[student.uid]),
                reverse("studentfile:reason", args=[student.uid]),
            ):
                with self.subTest(user=user.username, url=url):
                    client = self.client_for(user)
                    before = AuditEntry.objects.filter(user=user, action=Action.DENIED).count()
                    self.assertEqual(client.get(url).status_code, 404)
                    self.assertEqual(client.post(url, {"reason": "other", "text": TEXT}).status_code, 404)
                    self.assertEqual(
                        AuditEntry.objects.filter(user=user, action=Action.DENIED).count(), before + 2
                    )
        self.assertFalse(AuditEntry.objects.filter(object_type=policy.REASON_OBJECT_TYPE).exists())
