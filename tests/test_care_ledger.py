"""The high-risk ledger (高风险台账) and its watermarked, audited Excel export (SPEC §4):
who sees which students, what each row says, the bounded number of queries, and the file."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
from django.db import connection
from django.utils import timezone, translation

from tests.care_helpers import open_case
from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import (
    ActionStatus,
    Case,
    CaseMember,
    CaseStatus,
    Institution,
    Referral,
    ReferralStatus,
    Tier,
)
from xinyu.org.models import Student

SCHOOL, CENTRE = "/care/ledger/", "/care/ledger/centre/"
SCHOOL_XLSX, CENTRE_XLSX = "/care/ledger/export.xlsx", "/care/ledger/centre/export.xlsx"
STAMP = re.compile(
    r"^内部资料 严禁外传 / Confidential — exported by (.+) \((.+)\) at (\d{4}-\d{2}-\d{2} \d{2}:\d{2})$"
)


def _book(response):  # type: ignore[no-untyped-def]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _sheet_rows(book) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [list(r) for r in book.active.iter_rows(min_row=3, values_only=True)]


class LedgerContentTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.serious_a = open_case(w.student_a41, w.psych_a, Tier.SERIOUS)  # escalated to the centre
        cls.general_a = open_case(w.student_a42, w.psych_a, Tier.GENERAL)  # stays at school
        cls.serious_b = open_case(w.student_b41, w.psych_b, Tier.SERIOUS)

    def page(self, user, url: str = SCHOOL) -> str:  # type: ignore[no-untyped-def]
        response = self.client_for(user).get(url)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_the_psych_teacher_sees_their_schools_cases_only(self) -> None:
        a = self.page(self.w.psych_a)
        self.assertIn(self.w.student_a41.name, a)
        self.assertIn(self.w.student_a41.student_no, a)
        self.assertIn(self.w.student_a42.name, a)
        self.assertNotIn(self.w.student_b41.name, a)
        b = self.page(self.w.psych_b)
        self.assertIn(self.w.student_b41.name, b)
        self.assertNotIn(self.w.student_a41.name, b)
        self.assertNotIn(self.w.student_a42.name, b)

    def test_the_centre_expert_sees_only_cases_escalated_to_the_centre(self) -> None:
        self.assertTrue(self.serious_a.escalated_to_centre)
        self.assertFalse(self.general_a.escalated_to_centre)
        centre = self.page(self.w.centre_expert, CENTRE)
        self.assertIn(self.w.student_a41.name, centre)
        self.assertIn(self.w.student_b41.name, centre)
        self.assertNotIn(self.w.student_a42.name, centre)
        self.assertIn(self.w.school_a.name, centre)  # the centre's ledger names each school
        # The school filter narrows to one school.
        only_b = self.page(self.w.centre_expert, f"{CENTRE}?school={self.w.school_b.uid}")
        self.assertIn(self.w.student_b41.name, only_b)
        self.assertNotIn(self.w.student_a41.name, only_b)
        # A closed case leaves the ledger.
        Case.objects.filter(pk=self.serious_b.pk).update(status=CaseStatus.CLOSED)
        self.assertNotIn(self.w.student_b41.name, self.page(self.w.centre_expert, CENTRE))

    def test_roles_without_a_ledger_get_404_and_a_denied_row(self) -> None:
        w = self.w
        cases = [
            (w.district_admin, SCHOOL),
            (w.district_admin, CENTRE),
            (w.class_teacher_a41, SCHOOL),
            (w.class_teacher_a41, CENTRE),
            (w.leader_a, SCHOOL),
            (w.leader_a, CENTRE),
            (w.grade_leader_a4, SCHOOL),
            (w.grade_leader_a4, CENTRE),
            (w.psych_a, CENTRE),  # the centre's ledger is the centre's
            (w.centre_expert, SCHOOL),  # the school's ledger is the school's
        ]
        for user, url in cases:
            with self.subTest(user=user.username, url=url):
                response = self.client_for(user).get(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn(w.student_a41.name, response.content.decode())
                self.assertTrue(
                    AuditEntry.objects.filter(user=user, action=Action.DENIED, object_type="ledger").exists()
                )

    def test_a_row_says_tier_owner_team_contacts_referral_and_open_actions(self) -> None:
        w = self.w
        today = timezone.localdate()
        Case.objects.filter(pk=self.serious_a.pk).update(
            last_contact_on=today - dt.timedelta(days=9), next_contact_on=today - dt.timedelta(days=2)
        )
        CaseMember.objects.create(case=self.serious_a, user=w.psych_b, added_at=timezone.now())
        self.serious_a.actions.filter(code="talk").update(status=ActionStatus.DONE)
        institution = Institution.objects.create(district=w.district, name="区精神卫生中心", kind="hospital")
        for referred_on, status in ((today - dt.timedelta(days=20), "cancelled"), (today, "seen")):
            Referral.objects.create(
                case=self.serious_a,
                student=w.student_a41,
                institution=institution,
                reason="转介原因",
                referred_on=referred_on,
                status=status,
                feedback_due_on=referred_on + dt.timedelta(days=14),
                created_at=timezone.now(),
                updated_at=timezone.now(),
            )
        Case.objects.filter(pk=self.general_a.pk).update(
            status=CaseStatus.FOLLOW_UP, follow_up_until=dt.date(2031, 5, 4), next_contact_on=None
        )
        html = self.page(w.psych_a)
        row = re.search(rf'<tr data-case="{self.serious_a.uid}">(.*?)</tr>', html, re.S)
        assert row is not None
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
        ]
        self.assertEqual(cells[0], w.student_a41.name)
        self.assertEqual(cells[1], w.student_a41.student_no)
        self.assertEqual(cells[2], "四年级1班")
        self.assertIn("多对一（2）", cells)  # owner plus one more: many-to-one
        self.assertIn((today - dt.timedelta(days=9)).isoformat(), cells)
        self.assertIn('data-overdue="1"', row.group(1))  # the next contact is past: red
        self.assertEqual(cells[-1], "4")  # serious: 5 checklist actions, 1 done
        # The latest referral's state (seen), not the older cancelled one.
        with translation.override("zh-hans"):
            self.assertEqual(cells[-3], str(ReferralStatus.SEEN.label))
        following = re.search(rf'<tr data-case="{self.general_a.uid}">(.*?)</tr>', html, re.S)
        assert following is not None
        self.assertIn("2031-05-04", following.group(1))  # follow-up period until that date
        self.assertNotIn('data-overdue="1"', following.group(1))

    def test_tier_filter_and_sorting_by_next_contact(self) -> None:
        today = timezone.localdate()
        Case.objects.filter(pk=self.serious_a.pk).update(next_contact_on=today + dt.timedelta(days=9))
        Case.objects.filter(pk=self.general_a.pk).update(next_contact_on=today + dt.timedelta(days=1))
        a41, a42 = self.w.student_a41.name, self.w.student_a42.name
        soonest = self.page(self.w.psych_a, f"{SCHOOL}?sort=next")
        self.assertLess(soonest.index(a42), soonest.index(a41))
        latest = self.page(self.w.psych_a, f"{SCHOOL}?sort=-next")
        self.assertLess(latest.index(a41), latest.index(a42))
        by_tier = self.page(self.w.psych_a, f"{SCHOOL}?sort=tier")  # most serious first
        self.assertLess(by_tier.index(a41), by_tier.index(a42))
        serious = self.page(self.w.psych_a, f"{SCHOOL}?tier=serious")
        self.assertIn(a41, serious)
        self.assertNotIn(a42, serious)
        # Nonsense filters are ignored, not a server error.
        self.assertIn(a42, self.page(self.w.psych_a, f"{SCHOOL}?tier=moon&school=nope&sort=x"))

    def test_viewing_the_ledger_is_audited(self) -> None:
        self.page(self.w.psych_a)
        entry = AuditEntry.objects.filter(user=self.w.psych_a, action=Action.VIEW, object_type="ledger").get()
        self.assertIn("2 rows", entry.detail)


class LedgerQueryCountTest(PersonaTestCase):
    def test_the_page_with_20_cases_takes_a_fixed_number_of_queries(self) -> None:
        w = self.w
        students = [w.student_a41, w.student_a41_2, w.student_a42, w.student_a71]
        for i in range(16):
            students.append(
                Student.objects.create(
                    student_no=f"G5001532015{i:08d}",
                    name=f"学生{i:02d}",
                    gender="F",
                    birth_date=dt.date(2015, 1, 1),
                    school=w.school_a,
                    school_class=w.class_a42,
                )
            )
        institution = Institution.objects.create(district=w.district, name="区精神卫生中心", kind="hospital")
        for i, student in enumerate(students):
            case = open_case(student, w.psych_a, Tier.SERIOUS if i % 2 else Tier.GENERAL)
            if i % 3 == 0:
                Referral.objects.create(
                    case=case,
                    student=student,
                    institution=institution,
                    reason="转介原因",
                    referred_on=timezone.localdate(),
                    feedback_due_on=timezone.localdate(),
                    created_at=timezone.now(),
                    updated_at=timezone.now(),
                )
        client = self.client_for(w.psych_a)
        client.get(SCHOOL)  # warm the session
        # The ledger's own: session, user, grants, the 20 rows (one query: student, class, grade,
        # school and owner joined; team size, open actions, latest referral as subqueries), the
        # schools for the filter, the audit row. Then the base layout's (menu and unread count): 5.
        # An audit row reads the chain's last hash first (and takes its lock on PostgreSQL).
        chain = 1 + (connection.vendor == "postgresql")
        with self.assertNumQueries(6 + 5 + chain):
            response = client.get(SCHOOL)
        self.assertEqual(response.content.decode().count("<tr data-case="), 20)
        # The export: session, user, grants, the rows, the school's name for the file name, then
        # the file's one audit row with its count (issue 11 item 6: before, a savepoint, 20
        # student rows in one insert, the file's row and a release: 9). No layout.
        with self.assertNumQueries(6 + chain):
            response = client.get(SCHOOL_XLSX)
        self.assertEqual(len(_sheet_rows(_book(response))), 20)


class LedgerExportTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.serious_a = open_case(w.student_a41, w.psych_a, Tier.SERIOUS)
        cls.general_a = open_case(w.student_a42, w.psych_a, Tier.GENERAL)
        cls.serious_b = open_case(w.student_b41, w.psych_b, Tier.SERIOUS)

    def test_the_school_export_is_watermarked_holds_the_rows_and_is_audited(self) -> None:
        w = self.w
        before = timezone.localtime().replace(second=0, microsecond=0)
        response = self.client_for(w.psych_a).get(SCHOOL_XLSX)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        today = timezone.localdate().isoformat()
        self.assertIn(today, response["Content-Disposition"])
        self.assertIn("attachment", response["Content-Disposition"])
        book = _book(response)
        sheet = book.active
        stamp = sheet["A1"].value
        match = STAMP.match(stamp)
        assert match is not None, stamp
        self.assertEqual(match.group(1, 2), ("甲心理老师", "psych_a"))
        stamped = dt.datetime.strptime(match.group(3), "%Y-%m-%d %H:%M")
        self.assertLessEqual(abs((stamped - before.replace(tzinfo=None)).total_seconds()), 120)
        # The same text in the printed header and footer and in the file's properties.
        self.assertEqual(sheet.oddHeader.center.text, stamp)
        self.assertEqual(sheet.oddFooter.center.text, stamp)
        self.assertEqual(book.properties.creator, stamp)
        self.assertEqual(book.properties.description, stamp)
        rows = _sheet_rows(book)
        self.assertEqual(sorted(r[0] for r in rows), sorted([w.student_a41.name, w.student_a42.name]))
        by_name = {r[0]: r for r in rows}
        self.assertEqual(by_name[w.student_a41.name][1], w.student_a41.student_no)
        self.assertEqual(by_name[w.student_a41.name][2], w.school_a.name)
        self.assertEqual(by_name[w.student_a41.name][6], "甲心理老师")
        self.assertEqual(by_name[w.student_a41.name][12], 5)  # open checklist actions (serious)
        self.assertNotIn(w.student_b41.name, [r[0] for r in rows])
        # One export row for the file, with its row count; none per student (issue 11 item 6:
        # this asserted one row per student before, the rule that issue changes).
        exported = AuditEntry.objects.filter(user=w.psych_a, action=Action.EXPORT)
        self.assertFalse(exported.filter(object_type="student").exists())
        self.assertFalse(exported.filter(student__isnull=False).exists())
        file_row = exported.get()
        self.assertEqual(file_row.object_type, "ledger")
        self.assertIn(today, file_row.detail)
        self.assertIn("2 students", file_row.detail)

    def test_the_centre_export_holds_only_escalated_cases(self) -> None:
        w = self.w
        response = self.client_for(w.centre_expert).get(CENTRE_XLSX)
        self.assertEqual(response.status_code, 200)
        book = _book(response)
        self.assertEqual(STAMP.match(book.active["A1"].value).group(1, 2), ("中心专家", "centre_expert"))  # type: ignore[union-attr]
        names = {r[0] for r in _sheet_rows(book)}
        self.assertEqual(names, {w.student_a41.name, w.student_b41.name})
        # One audit row for the file with its count, none per student (issue 11 item 6; this
        # asserted one row per student before).
        exported = AuditEntry.objects.filter(user=w.centre_expert, action=Action.EXPORT)
        self.assertFalse(exported.filter(student__isnull=False).exists())
        file_row = exported.get()
        self.assertEqual(file_row.object_type, "ledger")
        self.assertIn("2 students", file_row.detail)

    def test_roles_without_a_ledger_get_404_and_no_file(self) -> None:
        w = self.w
        for user, url in [
            (w.district_admin, SCHOOL_XLSX),
            (w.district_admin, CENTRE_XLSX),
            (w.class_teacher_a41, SCHOOL_XLSX),
            (w.class_teacher_a41, CENTRE_XLSX),
            (w.leader_a, SCHOOL_XLSX),
            (w.leader_a, CENTRE_XLSX),
            (w.grade_leader_a4, SCHOOL_XLSX),
            (w.psych_a, CENTRE_XLSX),
            (w.centre_expert, SCHOOL_XLSX),
        ]:
            with self.subTest(user=user.username, url=url):
                response = self.client_for(user).get(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("spreadsheetml", response["Content-Type"])
                self.assertFalse(response.content.startswith(b"PK"))  # not an .xlsx (zip)
        self.assertFalse(AuditEntry.objects.filter(action=Action.EXPORT).exists())

    def test_a_name_that_looks_like_a_formula_stays_text(self) -> None:
        Student.objects.filter(pk=self.w.student_a41.pk).update(name="=HYPERLINK(1)")
        book = _book(self.client_for(self.w.psych_a).get(SCHOOL_XLSX))
        cells = [row[0] for row in book.active.iter_rows(min_row=3)]
        formula = next(c for c in cells if c.value == "=HYPERLINK(1)")
        self.assertEqual(formula.data_type, "s")
