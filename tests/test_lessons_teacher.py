"""The lesson form links the teacher to the school's staff register by name (as the import
does): one member of that name at the school links, a name held twice or not on the register
keeps the text only, a changed name re-links; the form suggests the school's register names
to those who record, and the class page marks the linked teacher."""

from __future__ import annotations

from django.urls import reverse

from tests.personas import PersonaTestCase
from xinyu.lessons.models import Lesson
from xinyu.staff.models import StaffMember


class LessonTeacherTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.wang = StaffMember.objects.create(
            district=w.district, school=w.school_a, staff_no="L1", name="王心怡"
        )
        for no in ("L2", "L3"):  # a name held twice at the school
            StaffMember.objects.create(district=w.district, school=w.school_a, staff_no=no, name="李静")
        StaffMember.objects.create(district=w.district, school=w.school_b, staff_no="L4", name="赵乙校")

    def post(self, teacher: str, period: int) -> Lesson:
        url = reverse("lessons:class", kwargs={"uid": self.w.class_a41.uid})
        data = {"date": "2026-09-09", "period": period, "topic": "情绪", "form": "game", "kind": "lesson"}
        r = self.client_for(self.w.psych_a).post(url, {**data, "teacher_name": teacher})
        assert r.status_code == 302
        return Lesson.objects.get(school_class=self.w.class_a41, period=period)

    def test_a_unique_name_on_the_school_register_links(self) -> None:
        assert self.post("王心怡", 1).teacher_id == self.wang.pk

    def test_a_name_held_twice_another_schools_or_unknown_keeps_the_text_only(self) -> None:
        for period, name in ((2, "李静"), (3, "赵乙校"), (4, "外聘老师"), (5, "")):
            with self.subTest(name=name):
                lesson = self.post(name, period)
                assert lesson.teacher_id is None and lesson.teacher_name == name

    def test_editing_the_name_relinks(self) -> None:
        lesson = self.post("王心怡", 6)
        edit = reverse("lessons:lesson_edit", kwargs={"uid": lesson.uid})
        data = {"date": "2026-09-09", "period": 6, "topic": "情绪", "form": "game", "kind": "lesson"}
        r = self.client_for(self.w.psych_a).post(edit, {**data, "teacher_name": "外聘老师"})
        assert r.status_code == 302
        lesson.refresh_from_db()
        assert lesson.teacher_id is None and lesson.teacher_name == "外聘老师"

    def test_suggestions_for_recorders_only_and_the_mark(self) -> None:
        self.post("王心怡", 7)
        url = reverse("lessons:class", kwargs={"uid": self.w.class_a41.uid})
        html = self.client_for(self.w.psych_a).get(url, {"semester": "2026-1"}).content.decode()
        assert '<datalist id="register-teachers">' in html
        assert '<option value="王心怡">' in html and html.count('<option value="李静">') == 1
        assert "赵乙校" not in html  # another school's register
        assert 'data-register="1"' in html
        # the class teacher reads the class page without the register's names
        html = self.client_for(self.w.class_teacher_a41).get(url, {"semester": "2026-1"}).content.decode()
        assert "王心怡" in html and '<option value="王心怡">' not in html
