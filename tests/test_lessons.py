"""Psych classes: the counting rules at their boundaries (pure), the services and the import
(errors, idempotence, check-only), and who may see what (xinyu.lessons)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from django.test import SimpleTestCase

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import Verdict
from xinyu.lessons import access, imports, rules, selectors, services
from xinyu.lessons.models import GraduatingClass, Lesson, LessonKind
from xinyu.lessons.policy_sections import lessons_problems

SEM = semester_of(dt.date(2026, 10, 1))  # 2026-09-01 .. 2027-01-31
AFTER = dt.date(2027, 3, 1)  # the semester is over
QX = rules.Settings(per_two_weeks=1, per_semester=9, per_month=0)
CY = rules.Settings(per_two_weeks=0, per_semester=0, per_month=2)
G4 = rules.ClassFacts("c", grade=4, students=30)


def periods(days: list[dt.date], kind: str = "lesson") -> list[rules.Period]:
    return [rules.Period(str(i), d, kind) for i, d in enumerate(days)]


def every_window(n: int = 9, skip: int | None = None) -> list[dt.date]:
    return [SEM.start + dt.timedelta(days=14 * i + 2) for i in range(n) if i != skip]


class RuleTests(SimpleTestCase):
    def test_nine_windows_of_eighteen_weeks(self) -> None:
        ws = rules.windows([], SEM, QX, AFTER)
        assert len(ws) == 9 and ws[0].start == dt.date(2026, 9, 1) and ws[-1].end == dt.date(2027, 1, 4)

    def test_semester_eight_is_missed_nine_is_met(self) -> None:
        eight = rules.rule_semester(G4, periods(every_window(8)), SEM, QX, AFTER)
        nine = rules.rule_semester(G4, periods(every_window(9)), SEM, QX, AFTER)
        assert eight.verdict == Verdict.MISSED and eight.actual == 8 and eight.required == 9
        assert nine.verdict == Verdict.MET and len(nine.counted) == 9
        assert nine.citation.startswith("") and nine.rule == rules.SEMESTER

    def test_a_semester_not_over_is_never_missed_early(self) -> None:
        r = rules.rule_semester(G4, periods(every_window(3)), SEM, QX, dt.date(2026, 10, 20))
        assert r.verdict == Verdict.NO_DATA and r.note == "semester not over"
        met = rules.rule_semester(G4, periods(every_window(9)), SEM, QX, dt.date(2027, 1, 2))
        assert met.verdict == Verdict.MET

    def test_a_two_week_window_with_zero_is_missed_and_named(self) -> None:
        r = rules.rule_two_weeks(G4, periods(every_window(9, skip=3)), SEM, QX, AFTER)
        assert r.verdict == Verdict.MISSED and r.required == 9 and r.actual == 8
        assert "10-13..10-26" in r.note
        full = rules.rule_two_weeks(G4, periods(every_window(9)), SEM, QX, AFTER)
        assert full.verdict == Verdict.MET

    def test_a_window_not_yet_over_is_not_judged(self) -> None:
        # 2026-09-20: only the first window (09-01..09-14) is over
        r = rules.rule_two_weeks(G4, periods([dt.date(2026, 9, 3)]), SEM, QX, dt.date(2026, 9, 20))
        assert r.verdict == Verdict.MET and r.required == 1
        none = rules.rule_two_weeks(G4, [], SEM, QX, dt.date(2026, 9, 10))
        assert none.verdict == Verdict.NO_DATA

    def test_month_one_is_missed_two_is_met(self) -> None:
        months = [dt.date(2026, m, d) for m in (9, 10, 11, 12) for d in (3, 17)]
        met = rules.rule_month(G4, periods(months), SEM, CY, AFTER)
        assert met.verdict == Verdict.MET and met.required == 4
        one_in_october = [d for d in months if d != dt.date(2026, 10, 17)]
        missed = rules.rule_month(G4, periods(one_in_october), SEM, CY, AFTER)
        assert missed.verdict == Verdict.MISSED and "2026-10" in missed.note

    def test_per_month_zero_is_not_a_rule(self) -> None:
        r = rules.rule_month(G4, [], SEM, QX, AFTER)
        assert r.verdict == Verdict.NOT_APPLICABLE

    def test_grade_three_is_not_applicable(self) -> None:
        g3 = rules.ClassFacts("c3", grade=3, students=30)
        for result in rules.evaluate(g3, [], SEM, QX, AFTER).values():
            assert result.verdict == Verdict.NOT_APPLICABLE

    def test_no_students_is_no_data(self) -> None:
        empty = rules.ClassFacts("e", grade=5, students=0)
        assert rules.rule_semester(empty, [], SEM, QX, AFTER).verdict == Verdict.NO_DATA

    def test_graduating_classes_count_exam_stress_sessions(self) -> None:
        stress = periods(every_window(9), kind=LessonKind.EXAM_STRESS)
        g9 = rules.ClassFacts("g9", grade=9, students=40)
        g8 = rules.ClassFacts("g8", grade=8, students=40)
        marked = rules.ClassFacts("g8m", grade=8, students=40, marked_graduating=True)
        assert rules.rule_semester(g9, stress, SEM, QX, AFTER).verdict == Verdict.MET
        assert rules.rule_semester(marked, stress, SEM, QX, AFTER).verdict == Verdict.MET
        assert rules.rule_semester(g8, stress, SEM, QX, AFTER).actual == 0

    def test_the_policy_section_is_clean_and_checked(self) -> None:
        section = policy_for_code("default")["lessons"]
        assert lessons_problems(section) == []
        assert lessons_problems({**section, "per_semester": -1})
        assert "lessons.from_grade is missing" in lessons_problems({})


def xlsx(rows: list[list[object]], header: tuple[str, ...] = imports.COLUMNS) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class ServiceTests(PersonaTestCase):
    def data(self, **kw: object) -> dict:
        return {"date": dt.date(2026, 9, 8), "period": 3, "topic": "认识情绪", "form": "group", **kw}

    def test_create_update_delete_with_audit_rows(self) -> None:
        w = self.w
        lesson = services.create_lesson(by=w.psych_a, school_class=w.class_a41, data=self.data())
        assert lesson.school_id == w.school_a.pk
        with self.assertRaises(ServiceError):
            services.create_lesson(by=w.psych_a, school_class=w.class_a41, data=self.data())
        services.update_lesson(by=w.leader_a, lesson=lesson, data=self.data(topic="情绪管理"))
        services.delete_lesson(by=w.psych_a, lesson=lesson)
        actions = list(
            AuditEntry.objects.filter(object_type="lesson").order_by("id").values_list("action", flat=True)
        )
        assert actions == [Action.CREATE, Action.UPDATE, Action.DELETE]

    def test_class_teacher_and_other_school_may_not_record(self) -> None:
        from django.http import Http404

        for user in (self.w.class_teacher_a41, self.w.psych_b, self.w.district_admin):
            with self.subTest(user=user.username), self.assertRaises(Http404):
                services.create_lesson(by=user, school_class=self.w.class_a41, data=self.data())

    def test_bad_input_is_refused_with_the_field(self) -> None:
        with self.assertRaises(ServiceError) as ctx:
            services.create_lesson(by=self.w.psych_a, school_class=self.w.class_a41, data=self.data(period=0))
        assert ctx.exception.field == "period"
        with self.assertRaises(ServiceError) as ctx:
            services.create_lesson(by=self.w.psych_a, school_class=self.w.class_a41, data=self.data(form="x"))
        assert ctx.exception.field == "form"

    def test_graduating_mark(self) -> None:
        services.set_graduating(
            by=self.w.psych_a, school_class=self.w.class_a71, semester="2026-1", graduating=True
        )
        assert GraduatingClass.objects.filter(school_class=self.w.class_a71).count() == 1
        services.set_graduating(
            by=self.w.psych_a, school_class=self.w.class_a71, semester="2026-1", graduating=False
        )
        assert not GraduatingClass.objects.exists()


class ImportTests(PersonaTestCase):
    ROWS = [
        ["四年级1班", "2026-09-08", 3, "认识情绪", "张老师", "团体活动", "心理健康课"],
        ["4-2", dt.datetime(2026, 9, 9), "第2节", "我的朋友", "", "角色扮演", ""],
        ["初一(1)班", "2026/9/10", 1, "考试不焦虑", "", "专题讲座", "考前心理辅导"],
    ]

    def run_import(self, rows: list[list[object]], **kw: object) -> imports.LessonsImported:
        return imports.import_lessons(
            by=self.w.psych_a,
            school=self.w.school_a,
            filename="l.xlsx",
            data=xlsx(rows),
            **kw,  # type: ignore[arg-type]
        )

    def test_import_then_again_is_idempotent(self) -> None:
        first = self.run_import(self.ROWS)
        assert (first.created, first.changed, first.unchanged) == (3, 0, 0)
        again = self.run_import(self.ROWS)
        assert (again.created, again.changed, again.unchanged) == (0, 0, 3)
        assert Lesson.objects.count() == 3
        changed = [list(r) for r in self.ROWS]
        changed[0][3] = "认识情绪（二）"
        third = self.run_import(changed)
        assert (third.created, third.changed) == (0, 1)
        assert Lesson.objects.get(period=3).topic == "认识情绪（二）"
        assert Lesson.objects.get(period=1).kind == LessonKind.EXAM_STRESS

    def test_check_only_writes_nothing(self) -> None:
        r = self.run_import(self.ROWS, check_only=True)
        assert r.created == 3 and r.checked_only and not Lesson.objects.exists()

    def test_bad_rows_refuse_the_whole_file_with_row_and_column(self) -> None:
        bad = [
            *self.ROWS,
            ["九年级9班", "2026-02-30", 0, "", "", "跳舞", "别的"],
            ["四年级1班", "2026-09-08", 3, "重复", "", "团体活动", ""],
        ]
        with self.assertRaises(imports.ImportRejected) as ctx:
            self.run_import(bad)
        cells = {(e.row, e.column) for e in ctx.exception.errors}
        assert {
            (5, "班级"),
            (5, "日期"),
            (5, "节次"),
            (5, "课题"),
            (5, "形式"),
            (5, "类型"),
            (6, "节次"),
        } <= cells
        assert all(e.message_zh and e.message_en for e in ctx.exception.errors)
        assert not Lesson.objects.exists()

    def test_missing_columns_and_other_schools(self) -> None:
        from django.http import Http404

        with self.assertRaises(ServiceError):
            imports.import_lessons(
                by=self.w.psych_a,
                school=self.w.school_a,
                filename="l.xlsx",
                data=xlsx([["x"]], header=("班级",)),
            )
        with self.assertRaises(Http404):
            imports.import_lessons(
                by=self.w.psych_b, school=self.w.school_a, filename="l.xlsx", data=xlsx(self.ROWS)
            )

    def test_template_reads_back(self) -> None:
        r = imports.import_lessons(
            by=self.w.psych_a,
            school=self.w.school_a,
            filename="t.xlsx",
            data=imports.template(),
            check_only=True,
        )
        assert r.rows == 1 and r.created == 1


class ScopeTests(PersonaTestCase):
    def setUp(self) -> None:
        d = {"date": dt.date(2026, 9, 8), "period": 3, "topic": "t", "form": "group"}
        self.a41 = services.create_lesson(by=self.w.psych_a, school_class=self.w.class_a41, data=d)
        self.a42 = services.create_lesson(by=self.w.psych_a, school_class=self.w.class_a42, data=d)
        self.b41 = services.create_lesson(by=self.w.psych_b, school_class=self.w.class_b41, data=d)

    def visible(self, user) -> set[int]:  # type: ignore[no-untyped-def]
        return set(access.lessons_for(user).values_list("pk", flat=True))

    def test_who_sees_which_lessons(self) -> None:
        w = self.w
        everyone = {self.a41.pk, self.a42.pk, self.b41.pk}
        assert self.visible(w.district_admin) == everyone
        assert self.visible(w.centre_expert) == everyone
        assert self.visible(w.leader_a) == {self.a41.pk, self.a42.pk}
        assert self.visible(w.psych_a) == {self.a41.pk, self.a42.pk}
        assert self.visible(w.psych_b) == {self.b41.pk}
        assert self.visible(w.class_teacher_a41) == {self.a41.pk}
        assert self.visible(w.grade_leader_a4) == set()

    def test_cluster_psych_teacher_sees_each_school(self) -> None:
        from xinyu.org.models import Role, RoleAssignment

        RoleAssignment.objects.create(
            user=self.w.psych_b, role=Role.PSYCH_TEACHER, district=self.w.district, school=self.w.school_a
        )
        fresh = type(self.w.psych_b).objects.get(pk=self.w.psych_b.pk)  # grants are cached per user object
        assert self.visible(fresh) == {self.a41.pk, self.a42.pk, self.b41.pk}

    def test_out_of_scope_fetch_is_404_and_denied(self) -> None:
        from django.http import Http404

        with self.assertRaises(Http404):
            access.get_lesson_for(self.w.psych_b, self.a41.uid)
        assert AuditEntry.objects.filter(action=Action.DENIED, object_type="lesson").exists()

    def test_school_rows_short_first(self) -> None:
        sem = semester_of(dt.date(2026, 9, 8))
        rows = selectors.school_rows(self.w.school_a, sem, today=dt.date(2027, 3, 1))
        assert [r.school_class.pk for r in rows][:1] and all(r.short for r in rows)
        assert {r.periods for r in rows} == {1, 0}  # grade 7's class has no lesson
        counts = selectors.district_rows([self.w.school_a, self.w.school_b], sem, today=dt.date(2027, 3, 1))
        assert [c.short for c in counts] == [3, 1]


class DemoTests(PersonaTestCase):
    def test_demo_lessons_for_grade_four_up_with_some_short(self) -> None:
        from xinyu.lessons.demo import build_demo_lessons

        counts = build_demo_lessons(self.w.district, seed=1, today=dt.date(2026, 12, 2))
        assert counts["lessons"] > 0 and Lesson.objects.filter(school_class=self.w.class_a41).exists()
        again = Lesson.objects.count()
        build_demo_lessons(self.w.district, seed=1, today=dt.date(2026, 12, 2))
        assert Lesson.objects.count() == again  # ignore_conflicts: the demo runs twice safely
