"""The district page's counts (`selectors.district_rows`, read from the per-class tallies the
writes keep) agree with the school page's (`selectors.school_rows`, judged from every lesson)
on a world with short classes, a graduating class (grade 9 and a class marked graduating), a
class with no students and grade 3; the tallies follow every kind of write."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from tests.personas import PersonaTestCase
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import Verdict
from xinyu.lessons import imports, rules, selectors, services, tallies
from xinyu.lessons.models import LessonKind, LessonTally
from xinyu.org.models import Grade, SchoolClass, Student

SEM = semester_of(dt.date(2026, 10, 1))  # 2026-09-01 .. 2027-01-31
DAYS = (dt.date(2026, 10, 20), dt.date(2026, 12, 2), dt.date(2027, 1, 10), dt.date(2027, 3, 1))


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(imports.COLUMNS))
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def expected(school, today):  # type: ignore[no-untyped-def]
    rows = [r for r in selectors.school_rows(school, SEM, today=today) if r.applicable]
    met = {rule: sum(r.results[rule].verdict == Verdict.MET for r in rows) for rule in rules.RULES}
    return len(rows), sum(r.short for r in rows), met


class DistrictAgreesTests(PersonaTestCase):
    def setUp(self) -> None:
        w = self.w
        a = w.school_a
        self.g3 = SchoolClass.objects.create(
            school=a, grade=Grade.objects.create(school=a, level=3), number=1
        )
        self.g9 = SchoolClass.objects.create(
            school=a, grade=Grade.objects.create(school=a, level=9), number=1
        )
        self.empty = SchoolClass.objects.create(school=a, grade=w.class_a41.grade, number=9)  # no students
        for n, klass in enumerate((self.g3, self.g9)):
            Student.objects.create(
                student_no=f"T{n}", name="学生", gender="F", birth_date=dt.date(2012, 1, 1),
                school=a, school_class=klass,
            )  # fmt: skip
        services.set_graduating(by=w.psych_a, school_class=w.class_a71, semester=SEM.key, graduating=True)
        windows = [SEM.start + dt.timedelta(days=14 * i + 3) for i in range(9)]
        self.made = []
        plan = [
            (w.class_a41, windows, LessonKind.LESSON),  # every window
            (w.class_a42, windows[::2], LessonKind.LESSON),  # short: every other window
            (w.class_a71, windows, LessonKind.EXAM_STRESS),  # marked graduating: sessions count
            (self.g9, windows[1:], LessonKind.EXAM_STRESS),  # grade 9: graduating, short one window
            (self.g3, windows[:2], LessonKind.LESSON),  # grade 3: not applicable
            (self.empty, windows, LessonKind.LESSON),  # no students: no data
            (
                w.class_b41,
                windows[:5] + [windows[5] + dt.timedelta(days=1)],
                LessonKind.EXAM_STRESS,
            ),  # not counted
            (w.class_b41, windows[6:], LessonKind.LESSON),
        ]
        for klass, days, kind in plan:
            user = w.psych_a if klass.school_id == a.pk else w.psych_b
            for day in days:
                self.made.append(
                    services.create_lesson(
                        by=user,
                        school_class=klass,
                        data={"date": day, "period": 2, "topic": "t", "form": "group", "kind": kind},
                    )  # fmt: skip
                )

    def check(self) -> None:
        schools = [self.w.school_a, self.w.school_b]
        for today in DAYS:
            got = {
                c.school.pk: (c.classes, c.short, c.met) for c in selectors.district_rows(schools, SEM, today)
            }
            for school in schools:
                with self.subTest(school=school.code, today=today):
                    assert got[school.pk] == expected(school, today)

    def kept(self) -> dict[tuple[int, str], tuple[object, ...]]:
        return {
            (t.school_class_id, t.semester): (t.start, t.end, t.lessons, t.sessions)
            for t in LessonTally.objects.all()
        }

    def test_district_counts_agree_with_the_school_pages(self) -> None:
        self.check()
        after = {
            c.school.pk: c for c in selectors.district_rows([self.w.school_a, self.w.school_b], SEM, DAYS[-1])
        }
        a = after[self.w.school_a.pk]
        # a41, a42, a71, g9 and the empty class are judged (grade 3 is not); a42 and g9 are short
        assert (a.classes, a.short) == (5, 2) and a.met[rules.SEMESTER] == 2
        b = after[self.w.school_b.pk]
        assert (b.classes, b.short) == (1, 1)  # b41's exam-stress sessions do not count (grade 4)

    def test_the_tallies_follow_edits_deletes_and_imports(self) -> None:
        w = self.w
        first = self.made[0]
        services.update_lesson(
            by=w.psych_a, lesson=first,
            data={"date": SEM.start + dt.timedelta(days=40), "period": 2, "topic": "t", "form": "group"},
        )  # fmt: skip
        services.delete_lesson(by=w.psych_a, lesson=self.made[1])
        self.check()
        imports.import_lessons(
            by=w.psych_a, school=w.school_a, filename="l.xlsx",
            data=xlsx([
                ["四年级2班", "2026-09-16", 2, "t", "", "团体活动", "心理健康课"],  # a42 fills window 2
                ["初一(1)班", "2026-09-04", 2, "t", "", "团体活动", "心理健康课"],  # a kind changed
            ]),
        )  # fmt: skip
        self.check()
        kept = self.kept()
        LessonTally.objects.all().delete()
        tallies.rebuild(schools=[w.school_a, w.school_b])
        assert self.kept() == kept  # kept by the writes == recounted from the lessons

    def test_recount_lessons_command_rebuilds_the_tallies(self) -> None:
        from django.core.management import call_command

        kept = self.kept()
        LessonTally.objects.all().delete()
        out = io.StringIO()
        call_command("recount_lessons", "--district", self.w.district.code, stdout=out)
        assert self.kept() == kept
        assert "OK: 7 class tallies" in out.getvalue()  # the seven classes with lessons
        self.check()

    def test_a_tally_of_another_calendar_is_not_read(self) -> None:
        LessonTally.objects.filter(school_class=self.w.class_a41).update(start=dt.date(2026, 9, 2))
        self.check()  # counted from the lessons instead
