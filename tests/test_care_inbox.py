"""The warning inbox (issue 10, item 11): paged, filtered, overdue first then by deadline; the
home panels' selectors; 待确认 for a warning nobody acknowledged and, on the class teacher's
attention list, where it waits (item 12); the case page's bounded query count."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import override

from tests.care_helpers import open_case, warn
from tests.personas import PersonaTestCase, _student
from xinyu.audit.models import Action, AuditEntry
from xinyu.care import selectors
from xinyu.care.models import CaseEntry, EntryKind, Level, Step, Tier, Warning, WarningStatus
from xinyu.care.selectors import WarningFilter
from xinyu.care.services import cases as svc

INBOX = "/care/warnings/"
PLEASE_ACKNOWLEDGE = "请确认，截止"  # "Please acknowledge by"


def _rows(html: str) -> list[str]:
    """The student names of the inbox table, in order."""
    body = html.split('id="warnings"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'/care/warnings/[0-9a-f-]+/">([^<]+)</a>', body)


class InboxTests(PersonaTestCase):
    def _many(self, n: int, batch: int = 1) -> list[Warning]:
        rows = []
        for i in range(n):
            student = _student(
                f"G50015320150101{batch}9{i:02d}", f"学生{batch}{i:02d}", "F", self.w.class_a42
            )
            rows.append(warn(student, Level.WATCH))
        return rows

    def test_paged_50_a_page_with_the_total_and_a_link_to_the_next_page(self) -> None:
        self._many(55)
        client = self.client_for(self.w.psych_a)
        first = client.get(INBOX)
        self.assertEqual(first.status_code, 200)
        self.assertEqual(len(_rows(first.content.decode())), 50)
        self.assertContains(first, 'id="warning-pager"')
        self.assertContains(first, "page=2")
        self.assertContains(first, "55")
        second = client.get(INBOX, {"page": 2})
        self.assertEqual(len(_rows(second.content.decode())), 5)
        # A page past the end is the last page, never an error.
        self.assertEqual(len(_rows(client.get(INBOX, {"page": 99}).content.decode())), 5)
        # The page links keep the filters.
        filtered = client.get(INBOX, {"level": "watch"})
        self.assertContains(filtered, "level=watch&amp;page=2")

    def test_overdue_first_then_by_deadline(self) -> None:
        later = warn(self.w.student_a41, Level.WATCH)
        sooner = warn(self.w.student_a42, Level.HIGH)
        overdue = warn(self.w.student_a71, Level.WATCH)
        now = timezone.now()
        Warning.objects.filter(pk=later.pk).update(ack_due_at=now + dt.timedelta(days=3))
        Warning.objects.filter(pk=sooner.pk).update(ack_due_at=now + dt.timedelta(hours=5))
        Warning.objects.filter(pk=overdue.pk).update(ack_due_at=now - dt.timedelta(hours=1))
        names = _rows(self.client_for(self.w.psych_a).get(INBOX).content.decode())
        self.assertEqual(names, [self.w.student_a71.name, self.w.student_a42.name, self.w.student_a41.name])
        rows, total = selectors.home_warnings(self.w.psych_a, limit=2)
        self.assertEqual([w.pk for w in rows], [overdue.pk, sooner.pk])
        self.assertEqual(total, 3)
        self.assertTrue(rows[0].is_overdue)
        self.assertFalse(rows[1].is_overdue)

    def test_filters_level_step_state_class_and_dates(self) -> None:
        high = warn(self.w.student_a41, Level.HIGH)
        watch = warn(self.w.student_a42, Level.WATCH)
        acked = warn(self.w.student_a71, Level.WATCH)
        from xinyu.care.services import acknowledge_warning

        acknowledge_warning(warning=acked, by=self.w.psych_a)
        Warning.objects.filter(pk=watch.pk).update(step=Step.GRADE)
        Warning.objects.filter(pk=high.pk).update(opened_at=timezone.now() - dt.timedelta(days=10))
        client = self.client_for(self.w.psych_a)
        w = self.w

        def names(**params: Any) -> set[str]:
            return set(_rows(client.get(INBOX, params).content.decode()))

        self.assertEqual(names(), {w.student_a41.name, w.student_a42.name, w.student_a71.name})
        self.assertEqual(names(level="high"), {w.student_a41.name})
        self.assertEqual(names(step="grade"), {w.student_a42.name})
        self.assertEqual(names(state="awaiting"), {w.student_a41.name, w.student_a42.name})
        self.assertEqual(names(state="acknowledged"), {w.student_a71.name})
        self.assertEqual(names(state="closed"), set())
        self.assertEqual(names(school_class=w.class_a42.pk), {w.student_a42.name})
        today = timezone.localdate()
        self.assertEqual(
            names(opened_from=(today - dt.timedelta(days=1)).isoformat()),
            {w.student_a42.name, w.student_a71.name},
        )
        self.assertEqual(names(opened_to=(today - dt.timedelta(days=5)).isoformat()), {w.student_a41.name})
        # A value that is not offered (another school's class, a made-up level) is dropped.
        self.assertEqual(len(names(school_class=w.class_b41.pk, level="extreme")), 3)
        self.assertEqual(len(names(opened_from="2026-02-30")), 3)
        # The selector takes the same filters.
        self.assertEqual(
            [x.pk for x in selectors.warning_queue(w.psych_a, WarningFilter(level="high"))], [high.pk]
        )

    def test_the_inbox_shows_only_the_school_and_the_centre_sees_escalated_ones(self) -> None:
        warn(self.w.student_a41, Level.HIGH)
        other = warn(self.w.student_b41, Level.HIGH)
        self.assertEqual(
            _rows(self.client_for(self.w.psych_a).get(INBOX).content.decode()), [self.w.student_a41.name]
        )
        self.assertEqual(
            _rows(self.client_for(self.w.psych_b).get(INBOX).content.decode()), [self.w.student_b41.name]
        )
        expert = self.client_for(self.w.centre_expert)
        self.assertEqual(_rows(expert.get(INBOX).content.decode()), [])
        Warning.objects.filter(pk=other.pk).update(step=Step.DISTRICT)
        self.assertEqual(_rows(expert.get(INBOX).content.decode()), [self.w.student_b41.name])

    def test_roles_without_the_inbox_get_404_and_a_denied_row(self) -> None:
        warn(self.w.student_a41, Level.URGENT)
        for user in (
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
            self.w.leader_a,
            self.w.district_admin,
        ):
            with self.subTest(user=user.username):
                self.assertEqual(self.client_for(user).get(INBOX).status_code, 404)
                self.assertEqual(self.client_for(user).get(INBOX, {"level": "urgent"}).status_code, 404)
                self.assertTrue(
                    AuditEntry.objects.filter(user=user, action=Action.DENIED, object_type="warning").exists()
                )

    def test_inbox_query_count_does_not_grow_with_warnings(self) -> None:
        self._many(5)
        client = self.client_for(self.w.psych_a)
        client.get(INBOX)
        with CaptureQueriesContext(connection) as few:
            client.get(INBOX)
        self._many(40, batch=2)
        with CaptureQueriesContext(connection) as many:
            client.get(INBOX)
        self.assertEqual(len(few), len(many))


class HomeSelectorTests(PersonaTestCase):
    def test_team_warnings_cases_due_crises_and_tasks(self) -> None:
        case = open_case(self.w.student_a41, self.w.psych_a, Tier.GENERAL)
        svc.add_entry(
            case=case,
            by=self.w.psych_a,
            kind=EntryKind.CONTACT,
            on=timezone.localdate(),
            note="面谈",
            next_contact_on=timezone.localdate(),
        )
        due, active = selectors.cases_due(self.w.psych_a)
        self.assertEqual(([c.pk for c in due], active), ([case.pk], 1))
        self.assertTrue(due[0].contact_due)
        self.assertEqual(selectors.cases_due(self.w.psych_b), ([], 0))
        self.assertEqual(selectors.cases_due(self.w.class_teacher_a41), ([], 0))
        self.assertEqual(CaseEntry.objects.filter(case=case).count(), 1)
        svc.ask_class_teacher(case=case, by=self.w.psych_a, request="请留意", due_on=None)
        self.assertEqual(len(selectors.open_tasks(self.w.class_teacher_a41)), 1)
        self.assertEqual(selectors.open_tasks(self.w.psych_b), [])
        self.assertEqual(selectors.open_crises(self.w.psych_a), [])
        concern = svc.report_concern(
            by=self.w.psych_a, student=self.w.student_a42, triggers=["emotion"], note="", token="h1"
        )
        team = selectors.team_warnings(self.w.grade_leader_a4)
        self.assertEqual([w.pk for w in team], [concern.warning_id])
        self.assertEqual(selectors.team_warnings(self.w.psych_b), [])


class WordingTests(PersonaTestCase):
    def test_a_warning_nobody_acknowledged_reads_awaiting_acknowledgement(self) -> None:
        warning = warn(self.w.student_a41, Level.HIGH)
        client = self.client_for(self.w.psych_a)
        for url in (INBOX, f"/care/warnings/{warning.uid}/", "/"):
            with self.subTest(url=url):
                page = client.get(url).content.decode()
                self.assertIn("待确认", page)
                self.assertNotIn("进行中</td>", page)
        with override("en"):
            self.assertEqual(
                str(Warning(status=WarningStatus.OPEN).get_status_display()), "Awaiting acknowledgement"
            )
        from xinyu.care.services import acknowledge_warning

        acknowledge_warning(warning=warning, by=self.w.psych_a)
        self.assertContains(client.get(f"/care/warnings/{warning.uid}/"), "已确认")

    def test_the_class_teachers_list_says_where_an_unacknowledged_concern_waits(self) -> None:
        # The class teacher reports: the concern starts at the grade step (the reporter owns
        # the class step); nobody has acknowledged it.
        concern = svc.report_concern(
            by=self.w.class_teacher_a41, student=self.w.student_a41, triggers=["emotion"], note="", token="w1"
        )
        self.assertEqual(concern.warning.step, Step.GRADE)
        page = self.client_for(self.w.class_teacher_a41).get("/care/attention/").content.decode()
        self.assertIn("等待年级组确认", page)
        self.assertIn('data-waits="grade"', page)
        self.assertNotIn("心理教师处理中", page)
        # The grade leader is the one asked to acknowledge it.
        grade = self.client_for(self.w.grade_leader_a4).get("/care/attention/").content.decode()
        self.assertIn(PLEASE_ACKNOWLEDGE, grade)
        self.assertNotIn('data-waits="grade"', grade)
        self.assertNotIn(PLEASE_ACKNOWLEDGE, page)
        # Escalated to the psych teacher's step, still unacknowledged: it says so.
        Warning.objects.filter(pk=concern.warning_id).update(step=Step.SCHOOL)
        page = self.client_for(self.w.class_teacher_a41).get("/care/attention/").content.decode()
        self.assertIn("等待心理教师确认", page)
        self.assertNotIn("心理教师处理中", page)
        # Once acknowledged (without a case yet), the psych teacher has it.
        from xinyu.care.services import acknowledge_warning

        acknowledge_warning(warning=Warning.objects.get(pk=concern.warning_id), by=self.w.psych_a)
        page = self.client_for(self.w.class_teacher_a41).get("/care/attention/").content.decode()
        self.assertIn("心理教师处理中", page)

    def test_the_attention_list_is_404_for_roles_without_it(self) -> None:
        for user in (self.w.psych_a, self.w.district_admin, self.w.centre_expert):
            with self.subTest(user=user.username):
                self.assertEqual(self.client_for(user).get("/care/attention/").status_code, 404)


class CaseDetailQueryCountTests(PersonaTestCase):
    def test_the_case_page_takes_a_fixed_number_of_queries(self) -> None:
        case = open_case(self.w.student_a41, self.w.psych_a, Tier.SERIOUS)
        client = self.client_for(self.w.psych_a)
        url = f"/care/cases/{case.uid}/"
        client.get(url)
        with CaptureQueriesContext(connection) as before:
            self.assertEqual(client.get(url).status_code, 200)
        for i in range(6):
            svc.add_entry(
                case=case, by=self.w.psych_a, kind=EntryKind.CONTACT, on=timezone.localdate(), note=f"面谈{i}"
            )
            svc.ask_class_teacher(case=case, by=self.w.psych_a, request=f"请留意{i}", due_on=None)
        svc.set_team(case=case, by=self.w.psych_a, members=[self.w.centre_expert])
        with CaptureQueriesContext(connection) as after:
            self.assertEqual(client.get(url).status_code, 200)
        self.assertEqual(len(before), len(after))
        expected = CASE_PAGE_QUERIES + (connection.vendor == "postgresql")
        self.assertEqual(len(after), expected, [q["sql"][:80] for q in after.captured_queries])


# The case page: session, user, grants (3); the case with student, class, grade, school and
# owner, and its view audit row with the hash chain's last-hash read (3; on PostgreSQL also the
# chain's advisory lock, issue 11 §3); entries, consent, checklist, team, candidates, guardians,
# guardian contacts, disclosures, tasks, referrals, history, warnings (12); the base layout's
# menu and unread count (5). Before issue 10 the view alone ran 16.
CASE_PAGE_QUERIES = 23


class AuditRoleTests(PersonaTestCase):
    """Services name the audit row's role themselves (policy.audit_role), as views did."""

    def test_each_actor_is_named_by_the_role_through_which_they_see_the_student(self) -> None:
        w = self.w
        concern = svc.report_concern(
            by=w.class_teacher_a41, student=w.student_a41, triggers=["emotion"], note="", token="r1"
        )
        self.assertEqual(
            AuditEntry.objects.get(object_type="concern", object_id=str(concern.uid)).role, "class_teacher"
        )
        case = open_case(w.student_a42, w.psych_a, Tier.GENERAL)
        roles = set(
            AuditEntry.objects.filter(user=w.psych_a, student=w.student_a42)
            .exclude(action=Action.VIEW)
            .values_list("role", flat=True)
        )
        self.assertEqual(roles, {"psych_teacher"})
        svc.end_follow_ups(today=timezone.localdate())  # nothing to end: no row
        self.assertFalse(
            AuditEntry.objects.filter(role="system", object_type="case", object_id=str(case.uid)).exists()
        )
        from xinyu.care.services import referrals

        referrals.create_institution(by=w.district_admin, district=w.district, name="区医院", kind="hospital")
        self.assertEqual(AuditEntry.objects.get(object_type="institution").role, "district_admin")
