"""Screening pages per role (SPEC §2): happy path and out of scope for every view, and no
score, tier or diagnostic word on any page a non-psych role can open."""

from __future__ import annotations

import re

from django.test import Client

from tests.personas import PersonaTestCase
from tests.screening_helpers import CALM, complete, consent_and_start, invitation, make_campaign, with_phq
from xinyu.audit.models import AuditEntry
from xinyu.org.models import SchoolClass, Student
from xinyu.screening.models import Answer, Campaign, Consent, ConsentDecision, Invitation, Progress

# Words that must never reach a non-psych role on any screening page: diagnoses and the
# instruments' names. School leaders and the district may see tiers in aggregate.
DIAGNOSTIC = [
    "抑郁",
    "焦虑",
    "自杀",
    "自伤",
    "轻生",
    "心理疾病",
    "障碍",
    "PHQ",
    "GAD",
    "ASQ",
    "K6",
    "WHO-5",
    "depress",
    "anxiety",
    "suicid",
    "self-harm",
    "disorder",
]
# Class and grade teachers (and students) see no score and no tier either.
FORBIDDEN = DIAGNOSTIC + ["得分", "分数", "需跟进", "紧急", "未见明显风险", "score", "urgent", "tier-"]


def visible_text(html: str) -> str:
    """The page as a person reads it, plus its visible attributes: without scripts, styles,
    hidden inputs (random CSRF tokens), link targets (random uuids) and the random answer
    codes printed on code sheets (XK6V-PTT8-U7NG), which could contain a short forbidden
    string such as "K6" by chance."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<input[^>]*type=\"hidden\"[^>]*>", " ", html)
    html = re.sub(r"(?<![0-9A-Za-z])[0-9A-Z]{4}(?:-?[0-9A-Z]{4}){1,2}(?![0-9A-Za-z])", " ", html)
    return re.sub(r"(href|action|src)=\"[^\"]*\"", " ", html)


class ScreeningPagesTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.campaign = make_campaign(w)
        cls.urgent = complete(consent_and_start(invitation(cls.campaign, w.student_a41)), with_phq({9: 2}))
        cls.calm = complete(consent_and_start(invitation(cls.campaign, w.student_a41_2)), CALM)
        cls.other_school = complete(
            consent_and_start(invitation(cls.campaign, w.student_b41)), with_phq({9: 1})
        )
        from xinyu.screening import services
        from xinyu.screening.models import Channel

        services.record_consent(
            invitation=invitation(cls.campaign, w.student_a42),
            decision=Consent.DECLINED,
            channel=Channel.LINK,
        )

    def get(self, user: object, url: str) -> object:
        return self.client_for(user).get(url)  # type: ignore[arg-type]

    # ---- campaign and progress -------------------------------------------------------------

    def test_campaign_list_and_progress_for_every_staff_role(self) -> None:
        url = f"/screening/campaigns/{self.campaign.uid}/"
        for user in (
            self.w.district_admin,
            self.w.leader_a,
            self.w.psych_a,
            self.w.grade_leader_a4,
            self.w.class_teacher_a41,
        ):
            with self.subTest(user=user.username):
                self.assertContains(self.client_for(user).get("/screening/"), self.campaign.name)
                response = self.client_for(user).get(url)
                self.assertEqual(response.status_code, 200)

    def test_the_class_teacher_counts_only_their_class(self) -> None:
        response = self.client_for(self.w.class_teacher_a41).get(f"/screening/campaigns/{self.campaign.uid}/")
        table = response.context["table"]
        self.assertEqual(table.grouping, "class")
        self.assertEqual([r.label for r in table.rows], ["四年级1班"])
        self.assertEqual(table.total["invited"], 2)
        self.assertFalse(table.show_flagged)

    def test_the_district_sees_schools_with_small_sensitive_counts_suppressed(self) -> None:
        response = self.client_for(self.w.district_admin).get(f"/screening/campaigns/{self.campaign.uid}/")
        table = response.context["table"]
        self.assertEqual(table.grouping, "school")
        row_a = next(r for r in table.rows if r.key == self.w.school_a)
        self.assertEqual(row_a.counts["invited"], 4)
        self.assertEqual(row_a.cell("not_participating"), "<5")  # one decline at school A
        self.assertContains(response, "&lt;5")

    def test_out_of_scope_campaign_is_404_and_audited(self) -> None:
        import datetime as dt

        from django.utils import timezone

        from xinyu.org.models import District, School, SchoolCategory
        from xinyu.screening import services

        other = District.objects.create(code="999999", name="外区")
        school = School.objects.create(
            district=other, code="Z1", name="外校", category=SchoolCategory.URBAN, has_primary=True
        )
        foreign = services.create_campaign(
            by=self.w.district_admin,
            name="外区测评",
            school_year="2026-2027",
            schools=[school],
            scope_label="外",
            target_grades=[4],
            batteries=[services.BatterySpec(4, 6, ["PHQ9"])],
            opens_at=timezone.now(),
            closes_at=timezone.now() + dt.timedelta(days=1),
            consent_text="x",
            consent_version="1",
        )
        for user in (self.w.district_admin, self.w.psych_a, self.w.class_teacher_a41):
            with self.subTest(user=user.username):
                self.assertEqual(
                    self.client_for(user).get(f"/screening/campaigns/{foreign.uid}/").status_code, 404
                )
        self.assertTrue(
            AuditEntry.objects.filter(
                action="denied", object_type="campaign", object_id=str(foreign.uid)
            ).exists()
        )

    def test_creating_a_campaign_through_the_form(self) -> None:
        client = self.client_for(self.w.district_admin)
        form = client.get("/screening/new/")
        self.assertEqual(form.status_code, 200)
        response = client.post(
            "/screening/new/",
            {
                "name": "春季测评",
                "school_year": "2026-2027",
                "scope": "schools",
                "schools": [self.w.school_b.pk],
                "target_grades": ["4"],
                "opens_at": "2026-11-20T08:00",
                "closes_at": "2026-12-20T18:00",
                "consent_text": "同意书",
                "consent_version": "2.0",
                "battery_4_6": ["PHQ9", "GAD7"],
            },
        )
        self.assertEqual(
            response.status_code, 302, getattr(response, "context", None) and response.context["form"].errors
        )
        created = Invitation.objects.filter(campaign__name="春季测评")
        self.assertEqual(list(created.values_list("student", flat=True)), [self.w.student_b41.pk])

    def test_the_form_renders_dates_as_the_datetime_input_accepts_them(self) -> None:
        html = self.client_for(self.w.district_admin).get("/screening/new/").content.decode()
        for name in ("opens_at", "closes_at"):
            found = re.search(rf'<input type="datetime-local" name="{name}" value="([^"]*)"', html)
            self.assertIsNotNone(found, name)
            self.assertRegex(found.group(1), r"^\d{4}-\d\d-\d\dT\d\d:\d\d$")  # type: ignore[union-attr]

    def campaign_post(self, **change: object) -> dict[str, object]:
        return {
            "name": "复测",
            "school_year": "2026-2027",
            "scope": "schools",
            "schools": [self.w.school_a.pk],
            "opens_at": "2026-11-20T08:00",
            "closes_at": "2026-12-20T18:00",
            "consent_text": "同意书",
            "consent_version": "2.0",
            "battery_4_6": ["PHQ9"],
            "battery_7_9": ["PHQ9"],
            **change,
        }

    def test_the_psych_teachers_only_school_is_chosen_already(self) -> None:
        form = self.client_for(self.w.psych_a).get("/screening/new/").context["form"]
        self.assertEqual(form["schools"].value(), [self.w.school_a.pk])
        self.assertEqual(
            set(form.fields["classes"].queryset), {self.w.class_a41, self.w.class_a42, self.w.class_a71}
        )
        # The district chooses schools (and lists no classes of the whole district).
        district_form = self.client_for(self.w.district_admin).get("/screening/new/").context["form"]
        self.assertIsNone(district_form["schools"].value())
        self.assertNotIn("classes", district_form.fields)

    def test_a_campaign_for_one_class_invites_that_class_only(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.post("/screening/new/", self.campaign_post(classes=[self.w.class_a41.pk]))
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        campaign = Campaign.objects.get(name="复测")
        self.assertEqual(list(campaign.classes.all()), [self.w.class_a41])
        self.assertEqual(campaign.target_grades, [4])
        self.assertEqual(
            set(campaign.invitations.values_list("school_class", flat=True)), {self.w.class_a41.pk}
        )
        self.assertEqual(campaign.scope_label, "四年级1班")
        # The campaign page lists only that class for its sheets.
        page = client.get(f"/screening/campaigns/{campaign.uid}/")
        self.assertEqual([c.pk for c in page.context["code_classes"]], [self.w.class_a41.pk])

    def test_classes_of_another_school_are_refused(self) -> None:
        other = SchoolClass.objects.filter(school=self.w.school_b).first()
        response = self.client_for(self.w.psych_a).post(
            "/screening/new/",
            self.campaign_post(classes=[other.pk]),  # type: ignore[union-attr]
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("classes", response.context["form"].errors)
        self.assertFalse(Campaign.objects.filter(name="复测").exists())

    def test_a_grade_range_replaces_the_ticked_grades(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.post(
            "/screening/new/", self.campaign_post(target_grades=["4"], grade_from="4", grade_to="9")
        )
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        campaign = Campaign.objects.get(name="复测")
        self.assertEqual(campaign.target_grades, [4, 5, 6, 7, 8, 9])
        self.assertEqual(
            set(campaign.invitations.values_list("student", flat=True)),
            set(Student.objects.filter(school=self.w.school_a).values_list("pk", flat=True)),
        )
        # No grade at all, or a range upside down, is a message.
        for change, field in (({}, "target_grades"), ({"grade_from": "9", "grade_to": "4"}, "grade_to")):
            with self.subTest(change=change):
                response = client.post("/screening/new/", self.campaign_post(name="再测", **change))
                self.assertEqual(response.status_code, 200)
                self.assertIn(field, response.context["form"].errors)

    def test_the_form_explains_what_is_wrong(self) -> None:
        response = self.client_for(self.w.district_admin).post(
            "/screening/new/",
            {
                "name": "x",
                "school_year": "2026",
                "scope": "schools",
                "target_grades": ["4"],
                "opens_at": "2026-11-20T08:00",
                "closes_at": "2026-11-10T18:00",
                "consent_text": "x",
                "consent_version": "1",
            },
        )
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors
        self.assertIn("school_year", errors)
        self.assertIn("schools", errors)

    def test_only_district_admins_and_psych_teachers_create_campaigns(self) -> None:
        for user in (self.w.class_teacher_a41, self.w.leader_a, self.w.grade_leader_a4, self.w.centre_expert):
            with self.subTest(user=user.username):
                self.assertEqual(self.client_for(user).get("/screening/new/").status_code, 404)
        response = self.client_for(self.w.psych_a).get("/screening/new/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(list(response.context["form"].fields["schools"].queryset), [self.w.school_a])

    # ---- class participation, sheets and paper consent ------------------------------------

    def test_class_teacher_sees_not_participating_never_why(self) -> None:
        # A declined and a withdrawn student look the same to a teacher.
        from xinyu.screening import services
        from xinyu.screening.models import Channel

        services.record_consent(invitation=self.calm, decision=Consent.WITHDRAWN, channel=Channel.LINK)
        response = self.client_for(self.w.class_teacher_a41).get(
            f"/screening/campaigns/{self.campaign.uid}/classes/{self.w.class_a41.uid}/"
        )
        self.assertEqual(response.status_code, 200)
        text = response.content.decode()
        self.assertIn("不参加", text)
        for word in ("撤回", "不同意", "拒绝", "withdrawn", "declined"):
            self.assertNotIn(word, text)

    def test_class_pages_out_of_scope(self) -> None:
        base = f"/screening/campaigns/{self.campaign.uid}/classes/{self.w.class_a42.uid}/"
        for suffix in ("", "sheet/?kind=consent", "sheet/?kind=codes"):
            with self.subTest(suffix=suffix):
                self.assertEqual(
                    self.client_for(self.w.class_teacher_a41).get(base + suffix).status_code, 404
                )
                self.assertEqual(self.client_for(self.w.psych_b).get(base + suffix).status_code, 404)
                self.assertEqual(self.client_for(self.w.leader_a).get(base + suffix).status_code, 404)
        self.assertEqual(self.client_for(self.w.psych_a).get(base).status_code, 200)

    def test_printable_sheets_carry_one_qr_per_student(self) -> None:
        base = f"/screening/campaigns/{self.campaign.uid}/classes/{self.w.class_a41.uid}/sheet/"
        consent = self.client_for(self.w.class_teacher_a41).get(base + "?kind=consent").content.decode()
        self.assertEqual(consent.count("<svg"), 2)
        self.assertIn(f"/g/{self.urgent.guardian_token}/?via=qr", consent)
        codes = self.client_for(self.w.class_teacher_a41).get(base + "?kind=codes").content.decode()
        self.assertIn(self.urgent.code, codes)
        self.assertTrue(AuditEntry.objects.filter(action="export", object_type="schoolclass").exists())

    def test_paper_consent_is_recorded_with_the_paper_channel(self) -> None:
        from xinyu.screening import services

        fresh = make_campaign(self.w, name="另一次")
        inv = invitation(fresh, self.w.student_a41)
        response = self.client_for(self.w.class_teacher_a41).post(
            f"/screening/campaigns/{fresh.uid}/classes/{self.w.class_a41.uid}/paper/",
            {"invitation": str(inv.uid), "decision": "given"},
        )
        self.assertEqual(response.status_code, 302)
        decision = ConsentDecision.objects.get(invitation=inv)
        self.assertEqual((decision.channel, decision.recorded_by), ("paper", self.w.class_teacher_a41))
        self.assertEqual(services.state_of(Invitation.objects.get(pk=inv.pk)), services.State.READY)
        # Another class's student cannot be recorded through this class.
        other = invitation(fresh, self.w.student_a42)
        self.client_for(self.w.class_teacher_a41).post(
            f"/screening/campaigns/{fresh.uid}/classes/{self.w.class_a41.uid}/paper/",
            {"invitation": str(other.uid), "decision": "given"},
        )
        self.assertEqual(Invitation.objects.get(pk=other.pk).consent, Consent.PENDING)

    # ---- results: psych teachers only ------------------------------------------------------

    def test_psych_teacher_sees_results_and_the_individual_report(self) -> None:
        client = self.client_for(self.w.psych_a)
        listing = client.get(f"/screening/campaigns/{self.campaign.uid}/list/")
        self.assertContains(listing, self.w.student_a41.name)
        self.assertNotContains(listing, self.w.student_b41.name)
        report = client.get(f"/screening/reports/{self.urgent.uid}/")
        self.assertContains(report, "PHQ")
        self.assertContains(report, "紧急")
        self.assertContains(report, "有不如死掉或用某种方式伤害自己的念头")
        self.assertTrue(
            AuditEntry.objects.filter(
                action="view", object_type="invitation", object_id=str(self.urgent.uid), user=self.w.psych_a
            ).exists()
        )

    def test_the_result_list_filters_by_critical_answer_and_tier(self) -> None:
        client = self.client_for(self.w.psych_a)
        url = f"/screening/campaigns/{self.campaign.uid}/list/"
        names = lambda response: {row.student.name for row in response.context["rows"]}  # noqa: E731
        everyone = names(client.get(url))
        self.assertEqual(everyone, {self.w.student_a41.name, self.w.student_a41_2.name})
        self.assertEqual(names(client.get(url + "?critical=1")), {self.w.student_a41.name})
        self.assertEqual(names(client.get(url + "?tier=none")), {self.w.student_a41_2.name})
        self.assertEqual(names(client.get(url + "?critical=&flagged=false")), everyone)

    def test_results_and_reports_are_404_for_everyone_else(self) -> None:
        for user in (
            self.w.psych_b,
            self.w.leader_a,
            self.w.district_admin,
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
            self.w.centre_expert,
        ):
            with self.subTest(user=user.username):
                self.assertEqual(self.get(user, f"/screening/reports/{self.urgent.uid}/").status_code, 404)
        for user in (
            self.w.leader_a,
            self.w.district_admin,
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
        ):
            with self.subTest(user=user.username, page="list"):
                self.assertEqual(
                    self.get(user, f"/screening/campaigns/{self.campaign.uid}/list/").status_code, 404
                )
        self.assertTrue(AuditEntry.objects.filter(action="denied", object_type="invitation").exists())

    def test_second_stage_from_the_list_gives_new_codes(self) -> None:
        response = self.client_for(self.w.psych_a).post(
            f"/screening/campaigns/{self.campaign.uid}/follow-up/",
            {"invitation": [str(self.urgent.uid)], "what": "ASQ"},
        )
        self.assertEqual(response.status_code, 200)
        child = Invitation.objects.get(parent=self.urgent)
        self.assertContains(response, child.code)
        # Another school's student cannot be assigned.
        response = self.client_for(self.w.psych_a).post(
            f"/screening/campaigns/{self.campaign.uid}/follow-up/",
            {"invitation": [str(self.other_school.uid)], "what": "ASQ"},
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Invitation.objects.filter(parent=self.other_school).exists())

    # ---- warnings and tasks ----------------------------------------------------------------

    def test_psych_home_shows_the_urgent_warning_and_the_class_teacher_a_neutral_task(self) -> None:
        home = self.client_for(self.w.psych_a).get("/").content.decode()
        self.assertIn(self.w.student_a41.name, home)
        self.assertIn('data-list="warnings"', home)
        self.assertNotIn(self.w.student_b41.name, home)
        teacher = self.client_for(self.w.class_teacher_a41).get("/").content.decode()
        self.assertIn("请与心理教师联系", teacher)
        self.assertIn(self.w.student_a41.name, teacher)

    def test_warning_pages_for_psych_teachers_of_the_school_only(self) -> None:
        from xinyu.care.models import Warning

        warning = Warning.objects.get(student=self.w.student_a41)
        self.assertEqual(self.get(self.w.psych_a, f"/care/warnings/{warning.uid}/").status_code, 200)
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.leader_a, self.w.district_admin):
            with self.subTest(user=user.username):
                self.assertEqual(self.get(user, f"/care/warnings/{warning.uid}/").status_code, 404)
        response = self.client_for(self.w.psych_a).post(f"/care/warnings/{warning.uid}/acknowledge/")
        self.assertEqual(response.status_code, 302)
        warning.refresh_from_db()
        self.assertEqual(warning.status, "acknowledged")

    def test_tasks_are_done_by_the_class_team_only(self) -> None:
        from xinyu.care.models import Task

        task = Task.objects.get(student=self.w.student_a41)
        self.assertEqual(
            self.client_for(self.w.psych_b).post(f"/care/tasks/{task.uid}/done/").status_code, 404
        )
        self.assertEqual(
            self.client_for(self.w.class_teacher_a41).post(f"/care/tasks/{task.uid}/done/").status_code, 302
        )
        task.refresh_from_db()
        self.assertEqual(task.status, "done")

    # ---- the forbidden-words sweep ---------------------------------------------------------

    def test_no_score_tier_or_diagnostic_word_on_pages_a_non_psych_role_opens(self) -> None:
        campaign = f"/screening/campaigns/{self.campaign.uid}/"
        teachers = (self.w.class_teacher_a41, self.w.grade_leader_a4)
        pages = {
            self.w.class_teacher_a41: [
                "/",
                "/screening/",
                campaign,
                f"{campaign}classes/{self.w.class_a41.uid}/",
                f"{campaign}classes/{self.w.class_a41.uid}/sheet/?kind=codes",
                "/care/tasks/",
            ],
            self.w.grade_leader_a4: [
                "/",
                campaign,
                f"{campaign}classes/{self.w.class_a42.uid}/",
                "/care/tasks/",
            ],
            self.w.leader_a: ["/", "/screening/", campaign],
            self.w.district_admin: ["/", "/screening/", campaign, f"{campaign}?school={self.w.school_a.uid}"],
        }
        for user, urls in pages.items():
            for url in urls:
                with self.subTest(user=user.username, url=url):
                    response = self.client_for(user).get(url)
                    self.assertEqual(response.status_code, 200)
                    text = visible_text(response.content.decode())
                    for word in FORBIDDEN if user in teachers else DIAGNOSTIC:
                        self.assertNotIn(word, text, f"{word!r} on {url} for {user.username}")


class PublicPagesTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_campaign(cls.w)
        cls.inv = invitation(cls.campaign, cls.w.student_a41)

    def test_guardian_link_consents_without_an_account_and_masks_the_name(self) -> None:
        client = Client()
        url = f"/g/{self.inv.guardian_token}/?via=qr"
        page = client.get(url)
        self.assertContains(page, "张*明")
        self.assertNotContains(page, "张小明")
        self.assertContains(page, "测试知情同意书")
        response = client.post(url, {"decision": "given", "relation": "母亲"})
        self.assertEqual(response.status_code, 302)
        decision = ConsentDecision.objects.get(invitation=self.inv)
        self.assertEqual((decision.channel, decision.relation), ("qr", "母亲"))
        self.assertContains(client.get(response["Location"]), "您已同意")

    def test_a_wrong_guardian_token_is_a_friendly_404(self) -> None:
        response = Client().get("/g/not-a-token/")
        self.assertEqual(response.status_code, 404)
        self.assertContains(response, "链接无效", status_code=404)

    def test_student_path_without_javascript(self) -> None:
        from xinyu.screening import services
        from xinyu.screening.models import Channel

        client = Client()
        # Before consent: a friendly explanation, no questions.
        self.assertContains(client.get(f"/s/{self.inv.code}/"), "家长")
        services.record_consent(invitation=self.inv, decision=Consent.GIVEN, channel=Channel.LINK)
        self.assertEqual(client.post("/s/", {"code": self.inv.code.lower()}).status_code, 302)
        self.assertContains(client.get(f"/s/{self.inv.code}/"), "我愿意参加")
        client.post(f"/s/{self.inv.code}/assent/", {"assent": "yes"})
        page = client.get(f"/s/{self.inv.code}/")
        self.assertContains(page, "第 1 题，共 16 题")
        for instrument, items in CALM.items():
            for item, value in items.items():
                r = client.post(
                    f"/s/{self.inv.code}/answer/", {"instrument": instrument, "item": item, "value": value}
                )
                self.assertEqual(r.status_code, 302)
        self.assertContains(client.get(f"/s/{self.inv.code}/"), "交卷")
        done = client.post(f"/s/{self.inv.code}/submit/", follow=True)
        self.assertContains(done, "12355")
        text = done.content.decode()
        for word in FORBIDDEN:
            self.assertNotIn(word, visible_text(text))
        self.assertEqual(Invitation.objects.get(pk=self.inv.pk).progress, Progress.COMPLETED)
        self.assertEqual(Answer.objects.filter(invitation=self.inv).count(), 16)

    def test_bad_answer_gets_a_message_and_changes_nothing(self) -> None:
        from xinyu.screening import services
        from xinyu.screening.models import Channel

        services.record_consent(invitation=self.inv, decision=Consent.GIVEN, channel=Channel.LINK)
        services.give_assent(invitation=Invitation.objects.get(pk=self.inv.pk))
        response = Client().post(
            f"/s/{self.inv.code}/answer/", {"instrument": "PHQ9", "item": "1", "value": "9"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "没有这个选项", status_code=400)
        json_response = Client().post(
            f"/s/{self.inv.code}/answer/", {"instrument": "PHQ9", "item": "x"}, HTTP_ACCEPT="application/json"
        )
        self.assertEqual(json_response.status_code, 400)
        self.assertFalse(Answer.objects.exists())

    def test_wrong_codes_get_a_friendly_message_and_are_rate_limited(self) -> None:
        from django.core.cache import cache

        cache.clear()
        client = Client()
        response = client.post("/s/", {"code": "ZZZZZZZZ"})
        self.assertContains(response, "没有找到这个作答码")
        for _ in range(25):
            response = client.post("/s/", {"code": "ZZZZZZZZ"})
        self.assertContains(response, "尝试次数太多")
        # Even a right code waits out the lock.
        self.assertEqual(client.post("/s/", {"code": self.inv.code}).status_code, 200)
        cache.clear()
        self.assertEqual(Client().get("/s/ZZZZZZZZ/").status_code, 404)


class InboxTest(PersonaTestCase):
    def test_the_inbox_shows_own_messages_only_and_marks_them_read(self) -> None:
        campaign = make_campaign(self.w)
        consent_and_start(invitation(campaign, self.w.student_a41))
        from xinyu.screening import services

        services.save_answer(
            invitation=Invitation.objects.get(campaign=campaign, student=self.w.student_a41),
            instrument="PHQ9",
            item=9,
            value=3,
        )
        home = self.client_for(self.w.psych_a).get("/").content.decode()
        self.assertIn("消息 (1)", home)
        inbox = self.client_for(self.w.psych_a).get("/messages/").content.decode()
        self.assertIn("紧急预警", inbox)
        self.assertNotIn(self.w.student_a41.name, inbox)
        self.assertNotIn("消息 (1)", self.client_for(self.w.psych_a).get("/").content.decode())
        self.assertNotIn("紧急预警", self.client_for(self.w.psych_b).get("/messages/").content.decode())


class ScreeningApiTest(PersonaTestCase):
    def test_campaigns_and_progress_through_the_api_are_scoped(self) -> None:
        campaign = make_campaign(self.w)
        teacher = self.client_for(self.w.class_teacher_a41)
        listed = teacher.get("/api/campaigns").json()
        self.assertEqual([c["name"] for c in listed], [campaign.name])
        progress = teacher.get(f"/api/campaigns/{campaign.uid}/progress").json()
        self.assertEqual(progress["grouping"], "class")
        self.assertEqual(progress["total"]["invited"], 2)
        self.assertNotIn("flagged", progress["total"])
        district = (
            self.client_for(self.w.district_admin).get(f"/api/campaigns/{campaign.uid}/progress").json()
        )
        self.assertEqual(district["grouping"], "school")
        self.assertEqual(district["total"]["invited"], 5)
        self.assertIn(
            "/api/campaigns/{uid}/progress",
            self.client_for(self.w.psych_a).get("/api/openapi.json").json()["paths"],
        )

    def test_out_of_scope_campaign_is_a_json_404(self) -> None:
        campaign = make_campaign(self.w)
        from xinyu.org.models import District, RoleAssignment, User

        other = District.objects.create(code="999998", name="外区")
        outsider = User.objects.create_user(username="outsider", password="x-2026-pass")
        RoleAssignment.objects.create(user=outsider, role="district_admin", district=other)
        response = self.client_for(outsider).get(f"/api/campaigns/{campaign.uid}/progress")
        self.assertEqual(response.status_code, 404)
        self.assertIn("Not found", response.json()["message"])
        self.assertEqual(self.client_for(outsider).get("/api/campaigns").json(), [])
