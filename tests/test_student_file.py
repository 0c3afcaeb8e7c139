"""The student's file (一人一档) on the student page: a timeline assembled from providers,
each filtered by what the viewer may see; "who viewed this file" for the school's psych
teachers; and the file following the student to another school of the district."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from tests.personas import PersonaTestCase
from tests.screening_helpers import complete, consent_and_start, invitation, make_campaign, with_phq
from tests.test_screening_pages import FORBIDDEN, visible_text
from xinyu.audit.models import Action, AuditEntry
from xinyu.care.models import Task, Warning
from xinyu.counselling import services as counselling
from xinyu.mailbox import services as mailbox
from xinyu.mailbox.models import Signature
from xinyu.org import services as org_services
from xinyu.studentfile import timeline as file_timeline

LETTER = "我觉得活着没意思，有时候不想活了"
NOTE = "在家与父母争吵频繁"


def denied_count() -> int:
    return AuditEntry.objects.filter(action=Action.DENIED).count()


class StudentFileTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.campaign = make_campaign(w)
        cls.screening = complete(consent_and_start(invitation(cls.campaign, w.student_a41)), with_phq({9: 2}))
        cls.record = counselling.record_session(
            by=w.psych_a,
            student=w.student_a41,
            held_at=timezone.now() - dt.timedelta(days=1),
            minutes=40,
            category="family",
            notes=counselling.SessionNotes(NOTE, NOTE, NOTE, NOTE, NOTE, NOTE, NOTE),
        )
        letter = mailbox.send_letter(
            school=w.school_a, body=LETTER, signature=Signature.SIGNED, signed_name="张小明"
        ).letter
        cls.letter = mailbox.link_student(by=w.psych_a, letter=letter, student=w.student_a41)
        cls.url = f"/students/{w.student_a41.uid}/"

    def kinds(self, user: object) -> set[str]:
        return {e.kind for e in file_timeline.timeline(user, self.w.student_a41)}  # type: ignore[arg-type]

    def opened_with_reason(self, user: object) -> Client:
        """A client of staff outside the care circle, past the stated-reason form (item 3)."""
        client = self.client_for(user)  # type: ignore[arg-type]
        client.post(f"{self.url}reason/", {"reason": "supervision", "text": "督导检查档案记录"})
        assert client.get(self.url).status_code == 200
        return client

    def assert_denied(self, user: object, url: str) -> None:
        before = denied_count()
        response = self.client_for(user).get(url)  # type: ignore[arg-type]
        assert response.status_code == 404, (url, response.status_code)
        assert denied_count() == before + 1, url

    def test_the_psych_teacher_sees_every_source_with_scores_and_tiers(self) -> None:
        assert Warning.objects.filter(student=self.w.student_a41).exists()
        assert self.kinds(self.w.psych_a) == {"screening", "warning", "task", "counselling", "letter"}
        response = self.client_for(self.w.psych_a).get(self.url)
        html = response.content.decode()
        timeline = html.split('id="timeline"')[1].split("</section>")[0]
        assert "紧急" in timeline and "PHQ9" in timeline  # the tier and the scores
        assert f"/screening/reports/{self.screening.uid}/" in timeline or str(self.screening.uid) in timeline
        assert str(self.letter.uid) in timeline and str(self.record.uid) in timeline
        assert NOTE not in html  # session notes open only on the record's own page
        assert 'id="viewers"' in html
        assert AuditEntry.objects.filter(
            action=Action.VIEW, user=self.w.psych_a, student=self.w.student_a41, object_type="student"
        ).exists()

    def test_entries_are_newest_first(self) -> None:
        entries = file_timeline.timeline(self.w.psych_a, self.w.student_a41)
        assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)

    def test_the_class_teacher_sees_the_neutral_task_and_family_but_no_score_tier_or_note(self) -> None:
        assert Task.objects.filter(student=self.w.student_a41).exists()
        assert self.kinds(self.w.class_teacher_a41) == {"task"}
        html = self.client_for(self.w.class_teacher_a41).get(self.url).content.decode()
        # The file itself (the menu rightly offers the class teacher the counselling room).
        text = visible_text(html.split("<main>", 1)[1])
        for word in [*FORBIDDEN, "PHQ9", NOTE, LETTER, "信箱", "mailbox", "预警", "Warning", "心理辅导"]:
            assert word not in text, word
        assert "请与心理教师联系" in text
        assert "留守" in html.split('data-list="family"')[1]  # family situation
        assert 'id="viewers"' not in html

    def test_the_grade_leader_sees_the_task_only(self) -> None:
        assert self.kinds(self.w.grade_leader_a4) == {"task"}
        client = self.opened_with_reason(self.w.grade_leader_a4)
        text = visible_text(client.get(self.url).content.decode())
        assert "张小明" in text
        for word in [*FORBIDDEN, NOTE, LETTER, "留守"]:
            assert word not in text, word

    def test_leaders_and_the_district_see_basics_without_any_timeline_entry(self) -> None:
        for user in (self.w.leader_a, self.w.district_admin):
            with self.subTest(user=user.username):
                assert self.kinds(user) == set()
                html = self.opened_with_reason(user).get(self.url).content.decode()
                assert "张小明" in html and 'data-kind="' not in html
                text = visible_text(html)
                for word in [*FORBIDDEN, NOTE, LETTER]:
                    assert word not in text, word

    def test_out_of_scope_is_404_and_audited(self) -> None:
        self.assert_denied(self.w.psych_b, self.url)
        self.assert_denied(self.w.centre_expert, self.url)
        self.assert_denied(self.w.class_teacher_a41, f"/students/{self.w.student_a42.uid}/")

    def test_who_viewed_this_file_lists_staff_reads_for_the_psych_teacher(self) -> None:
        self.client_for(self.w.class_teacher_a41).get(self.url)
        html = self.client_for(self.w.psych_a).get(self.url).content.decode()
        viewers = html.split('id="viewers"')[1]
        assert "class_teacher_a41" in viewers and "班主任" in viewers

    def test_a_new_provider_is_one_function(self) -> None:
        @file_timeline.provider("home_visit")
        def visits(user: object, student: object) -> list[file_timeline.Entry]:
            return [file_timeline.Entry(at=timezone.now(), kind="home_visit", title="家访")]

        try:
            html = self.client_for(self.w.class_teacher_a41).get(self.url).content.decode()
            assert 'data-kind="home_visit"' in html and "家访" in html
        finally:
            file_timeline.timeline_providers.discard("home_visit")


class FileFollowsTheStudentTest(PersonaTestCase):
    """A transfer to school B moves the whole file: B's psych teacher gains it, A's loses it."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        campaign = make_campaign(w)
        cls.screening = complete(consent_and_start(invitation(campaign, w.student_a41)), with_phq({9: 2}))
        cls.warning = Warning.objects.get(student=w.student_a41)
        letter = mailbox.send_letter(
            school=w.school_a, body=LETTER, signature=Signature.SIGNED, signed_name="张小明"
        ).letter
        cls.letter = mailbox.link_student(by=w.psych_a, letter=letter, student=w.student_a41)
        cls.anonymous = mailbox.send_letter(
            school=w.school_a, body="匿名信", signature=Signature.ANONYMOUS
        ).letter
        org_services.transfer_student(by=w.district_admin, student=w.student_a41, to_class=w.class_b41)

    def urls(self) -> dict[str, str]:
        return {
            "file": f"/students/{self.w.student_a41.uid}/",
            "report": f"/screening/reports/{self.screening.uid}/",
            "warning": f"/care/warnings/{self.warning.uid}/",
            "letter": f"/letters/{self.letter.uid}/",
        }

    def test_the_new_schools_psych_teacher_gains_every_part_of_the_file(self) -> None:
        client = self.client_for(self.w.psych_b)
        for name, url in self.urls().items():
            with self.subTest(name):
                assert client.get(url).status_code == 200, url
        kinds = {e.kind for e in file_timeline.timeline(self.w.psych_b, self.w.student_a41)}
        assert {"screening", "warning", "letter"} <= kinds
        views = AuditEntry.objects.filter(user=self.w.psych_b, action=Action.VIEW)
        assert views.filter(student=self.w.student_a41).count() >= 4
        assert client.get("/letters/").content.decode().count(str(self.letter.uid)) == 1

    def test_the_old_schools_psych_teacher_loses_it_with_denied_rows(self) -> None:
        client = self.client_for(self.w.psych_a)
        for name, url in self.urls().items():
            with self.subTest(name):
                before = denied_count()
                assert client.get(url).status_code == 404, url
                assert denied_count() == before + 1
        assert str(self.letter.uid) not in client.get("/letters/").content.decode()
        # An anonymous letter belongs to the mailbox it was posted to and stays there.
        assert client.get(f"/letters/{self.anonymous.uid}/").status_code == 200
        assert self.client_for(self.w.psych_b).get(f"/letters/{self.anonymous.uid}/").status_code == 404

    def test_the_transfer_itself_is_audited(self) -> None:
        row = AuditEntry.objects.get(action=Action.UPDATE, student=self.w.student_a41, object_type="student")
        assert row.user_id == self.w.district_admin.pk and "transfer" in row.detail
