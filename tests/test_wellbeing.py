"""Staff wellbeing screening (issue 12 item 6): who sees a staff member's result (the member
and the district's centre experts, nobody else: a school leader gets 404 and a `denied` row),
voluntary consent before any answer (a decline stores nothing), a critical answer reaching the
centre's experts and no school user, answers sealed at rest, the district's suppressed table,
and every view's happy path and out-of-scope 404."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message
from xinyu.org.models import District, Role, RoleAssignment, School, User
from xinyu.wellbeing import selectors, services
from xinyu.wellbeing.models import ConsentState, FollowUp, FollowUpState, StaffCampaign, StaffInvitation

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
FORBIDDEN = (
    "需跟进",
    "未见明显风险",
    "抑郁",
    "焦虑",
    "关键题",
    "跟进中",
    "Critical answer",
    "Follow-up open",
)


def make_campaign(w, *, schools=None, instrument="PHQ9", opens=None, closes=None) -> StaffCampaign:
    return services.create_campaign(
        by=w.district_admin,
        district=w.district,
        title="2026 教职工心理健康测评",
        instrument=instrument,
        schools=schools or [w.school_a, w.school_b],
        opens_on=opens or TODAY - DAY,
        closes_on=closes or TODAY + 7 * DAY,
    )


def inv_of(campaign: StaffCampaign, user: User) -> StaffInvitation:
    return StaffInvitation.objects.select_related("campaign__district").get(campaign=campaign, user=user)


def answer_all(inv: StaffInvitation, values: dict[int, int]) -> StaffInvitation:
    for item, value in values.items():
        inv = services.save_answer(invitation=inv, by=inv.user, item=item, value=value)
    return inv


def complete(inv: StaffInvitation, values: dict[int, int], *, contact_ok=False) -> StaffInvitation:
    inv = services.record_consent(invitation=inv, by=inv.user, agree=True, contact_ok=contact_ok)
    inv = answer_all(inv, values)
    return services.submit(invitation=inv, by=inv.user)


def phq(total_per_item: int, item9: int = 0) -> dict[int, int]:
    return {**dict.fromkeys(range(1, 9), total_per_item), 9: item9}


class WellbeingBase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.campaign = make_campaign(w)
        # The teacher of A 4(1) answers into a moderately severe result (8 × 2 = 16).
        cls.inv = complete(inv_of(cls.campaign, w.class_teacher_a41), phq(2), contact_ok=True)
        cls.url = reverse("wellbeing:result", args=[cls.inv.uid])

    def denied_rows(self, user: User) -> int:
        return AuditEntry.objects.filter(user=user, action=Action.DENIED).count()


class InvitationTest(WellbeingBase):
    def test_staff_of_invited_schools_are_invited_once(self) -> None:
        w = self.w
        invited = set(
            StaffInvitation.objects.filter(campaign=self.campaign).values_list("user_id", flat=True)
        )
        staff = {w.leader_a, w.psych_a, w.psych_b, w.grade_leader_a4, w.class_teacher_a41}
        self.assertEqual(invited, {u.pk for u in staff})
        self.assertNotIn(w.district_admin.pk, invited)
        self.assertNotIn(w.centre_expert.pk, invited)

    def test_only_a_district_admin_creates_and_only_district_schools(self) -> None:
        with self.assertRaises(ServiceError):
            services.create_campaign(
                by=self.w.psych_a,
                district=self.w.district,
                title="x",
                instrument="PHQ9",
                schools=[self.w.school_a],
                opens_on=TODAY,
                closes_on=TODAY,
            )
        other = District.objects.create(code="500154", name="大足区")
        foreign = School.objects.create(district=other, code="Z001", name="外区小学")
        with self.assertRaises(ServiceError):
            make_campaign(self.w, schools=[foreign])

    def test_youth_instrument_is_not_offered(self) -> None:
        codes = [c for c, _n in services.instrument_choices("500153")]
        self.assertIn("PHQ9", codes)
        self.assertNotIn("ASQ", codes)
        with self.assertRaises(ServiceError):
            make_campaign(self.w, instrument="ASQ")


class VisibilityTest(WellbeingBase):
    def test_own_result_200_with_plain_explanation_and_help_lines(self) -> None:
        response = self.client_for(self.w.class_teacher_a41).get(self.url)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('data-concern="3"', html)
        self.assertIn("12356", html)
        self.assertIn("16", html)

    def test_centre_expert_200(self) -> None:
        response = self.client_for(self.w.centre_expert).get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.w.class_teacher_a41.full_name, response.content.decode())
        self.assertTrue(
            AuditEntry.objects.filter(
                user=self.w.centre_expert, action=Action.VIEW, detail="staff result"
            ).exists()
        )

    def test_school_leader_of_the_same_school_404_and_denied(self) -> None:
        before = self.denied_rows(self.w.leader_a)
        response = self.client_for(self.w.leader_a).get(self.url)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.denied_rows(self.w.leader_a), before + 1)

    def test_colleagues_and_district_admin_404(self) -> None:
        for user in (self.w.psych_a, self.w.grade_leader_a4, self.w.psych_b, self.w.district_admin):
            before = self.denied_rows(user)
            self.assertEqual(self.client_for(user).get(self.url).status_code, 404, user.username)
            self.assertEqual(self.denied_rows(user), before + 1, user.username)
            inv_url = reverse("wellbeing:invitation", args=[self.inv.uid])
            self.assertEqual(self.client_for(user).get(inv_url).status_code, 404, user.username)

    def test_other_districts_expert_404(self) -> None:
        other = District.objects.create(code="500154", name="大足区")
        expert = User.objects.create_user(username="expert2", password="x-pass-2026")
        RoleAssignment.objects.create(user=expert, role=Role.CENTRE_EXPERT, district=other)
        self.assertEqual(self.client_for(expert).get(self.url).status_code, 404)

    def test_follow_up_only_by_centre_expert(self) -> None:
        url = reverse("wellbeing:follow_up", args=[self.inv.uid])
        for user in (self.w.leader_a, self.w.district_admin, self.w.class_teacher_a41):
            response = self.client_for(user).post(url, {"note": "x"})
            self.assertEqual(response.status_code, 404, user.username)
        self.assertFalse(FollowUp.objects.exists())
        response = self.client_for(self.w.centre_expert).post(
            url, {"note": "电话联系，约谈下周二", "contacted": "on", "close": "on"}
        )
        self.assertEqual(response.status_code, 302)
        note = FollowUp.objects.get()
        self.assertEqual(note.note, "电话联系，约谈下周二")
        self.assertTrue(note.contacted)
        self.assertEqual(StaffInvitation.objects.get(pk=self.inv.pk).follow_up, FollowUpState.DONE)

    def test_lists_and_pages_do_not_reveal_participation(self) -> None:
        w = self.w
        # The school leader and the district admin: no name of a participant, no tier word.
        for user in (w.leader_a, w.district_admin, w.psych_a):
            for url in ("/", reverse("wellbeing:mine"), reverse("wellbeing:campaigns")):
                response = self.client_for(user).get(url)
                if response.status_code != 200:
                    continue
                text = re.sub(r"<[^>]+>", " ", response.content.decode())
                for word in FORBIDDEN:
                    self.assertNotIn(word, text, f"{word} shown to {user.username} on {url}")
        campaign_page = self.client_for(w.district_admin).get(
            reverse("wellbeing:campaign", args=[self.campaign.uid])
        )
        text = campaign_page.content.decode()
        self.assertNotIn(w.class_teacher_a41.full_name, text)
        for word in FORBIDDEN:
            self.assertNotIn(word, text)

    def test_own_pages_are_not_for_others(self) -> None:
        mine = self.client_for(self.w.leader_a).get(reverse("wellbeing:mine")).content.decode()
        self.assertNotIn(str(self.inv.uid), mine)
        # The leader sees their own invitation (they are staff of A too), never the teacher's.
        self.assertIn(str(inv_of(self.campaign, self.w.leader_a).uid), mine)


class ConsentTest(WellbeingBase):
    def test_answers_need_consent(self) -> None:
        inv = inv_of(self.campaign, self.w.psych_a)
        with self.assertRaises(ServiceError):
            services.save_answer(invitation=inv, by=self.w.psych_a, item=1, value=1)
        self.assertEqual(StaffInvitation.objects.get(pk=inv.pk).answers, {})

    def test_decline_stores_no_answer_and_cannot_change(self) -> None:
        inv = inv_of(self.campaign, self.w.psych_a)
        client = self.client_for(self.w.psych_a)
        response = client.post(reverse("wellbeing:consent", args=[inv.uid]), {"decision": "decline"})
        self.assertEqual(response.status_code, 302)
        inv.refresh_from_db()
        self.assertEqual(inv.consent, ConsentState.DECLINED)
        self.assertIsNotNone(inv.consent_at)
        client.post(reverse("wellbeing:answer", args=[inv.uid]), {"item": 1, "value": 2})
        client.post(reverse("wellbeing:consent", args=[inv.uid]), {"decision": "agree"})
        inv.refresh_from_db()
        self.assertEqual(inv.consent, ConsentState.DECLINED)
        self.assertEqual(inv.answers, {})
        self.assertIsNone(inv.answered_at)
        with self.assertRaises(ServiceError):
            services.record_consent(invitation=inv, by=self.w.psych_a, agree=True)
        page = client.get(reverse("wellbeing:invitation", args=[inv.uid]))
        self.assertContains(page, 'id="declined"')

    def test_the_database_refuses_to_change_a_decision(self) -> None:
        from django.db import DatabaseError, transaction

        inv = services.record_consent(
            invitation=inv_of(self.campaign, self.w.psych_a), by=self.w.psych_a, agree=False
        )
        with self.assertRaises(DatabaseError), transaction.atomic():
            StaffInvitation.objects.filter(pk=inv.pk).update(consent=ConsentState.GIVEN)
        with self.assertRaises(DatabaseError), transaction.atomic():
            StaffInvitation.objects.filter(pk=inv.pk).update(consent_at=timezone.now())
        self.assertEqual(StaffInvitation.objects.get(pk=inv.pk).consent, ConsentState.DECLINED)
        # Other columns of a decided invitation still change (answers, results, follow-up).
        StaffInvitation.objects.filter(pk=inv.pk).update(follow_up=FollowUpState.NONE)

    def test_consent_audit_row_names_no_one_and_no_decision(self) -> None:
        inv = inv_of(self.campaign, self.w.psych_a)
        services.record_consent(invitation=inv, by=self.w.psych_a, agree=False)
        row = AuditEntry.objects.filter(object_id=str(inv.uid)).latest("id")
        self.assertIsNone(row.user)
        self.assertEqual(row.username, "")
        self.assertIsNone(row.school)
        self.assertNotIn("declin", row.detail)

    def test_closed_campaign_refuses(self) -> None:
        late = make_campaign(self.w, opens=TODAY - 9 * DAY, closes=TODAY - 2 * DAY)
        with self.assertRaises(ServiceError):
            services.record_consent(invitation=inv_of(late, self.w.psych_a), by=self.w.psych_a, agree=True)

    def test_someone_else_cannot_answer(self) -> None:
        inv = services.record_consent(
            invitation=inv_of(self.campaign, self.w.psych_a), by=self.w.psych_a, agree=True
        )
        with self.assertRaises(ServiceError):
            services.save_answer(invitation=inv, by=self.w.leader_a, item=1, value=1)


class CriticalTest(WellbeingBase):
    def test_critical_answer_notifies_centre_experts_and_no_school_user(self) -> None:
        w = self.w
        inv = services.record_consent(invitation=inv_of(self.campaign, w.psych_b), by=w.psych_b, agree=True)
        before = Message.objects.count()
        services.save_answer(invitation=inv, by=w.psych_b, item=9, value=1)
        new = Message.objects.filter(pk__gt=0).order_by("pk")[before:]
        recipients = {m.recipient_id for m in new}
        self.assertEqual(recipients, {w.centre_expert.pk})
        link = reverse("wellbeing:result", args=[inv.uid])
        for m in new:
            self.assertEqual(m.link, link)
            self.assertIn("needs follow-up", m.subject)
            self.assertNotIn(w.psych_b.full_name, m.subject + m.body)
            self.assertIsNone(re.search(r"\d", m.subject + m.body))
        school_users = User.objects.filter(assignments__school__isnull=False)
        self.assertFalse(
            Message.objects.filter(recipient__in=school_users, kind=services.NOTIFY_KIND).exists()
        )
        inv.refresh_from_db()
        self.assertTrue(inv.critical)
        self.assertEqual(inv.follow_up, FollowUpState.OPEN)
        # Answering it again, and handing in, tells nobody twice.
        services.save_answer(invitation=inv, by=w.psych_b, item=9, value=2)
        inv = answer_all(inv, dict.fromkeys(range(1, 9), 0))
        services.submit(invitation=inv, by=w.psych_b)
        self.assertEqual(Message.objects.filter(kind=services.NOTIFY_KIND, channel="in_app").count(), 1)
        # On the experts' follow-up list and home panel, critical first.
        self.assertEqual(list(selectors.results(w.centre_expert))[0].pk, inv.pk)
        home = self.client_for(w.centre_expert).get("/").content.decode()
        self.assertIn(link, home)
        for user in (w.leader_a, w.psych_b, w.district_admin):
            self.assertNotIn(link, self.client_for(user).get("/").content.decode())
        result = self.client_for(w.psych_b).get(link)
        self.assertContains(result, 'data-critical="1"')

    def test_result_tier_and_follow_up_from_tier(self) -> None:
        inv = StaffInvitation.objects.get(pk=self.inv.pk)
        self.assertEqual(inv.tier, "follow_up")
        self.assertEqual(inv.follow_up, FollowUpState.OPEN)
        self.assertEqual(inv.result["scales"]["total"]["raw"], 16.0)
        low = complete(inv_of(self.campaign, self.w.grade_leader_a4), phq(0))
        self.assertEqual(low.tier, "none")
        self.assertEqual(low.follow_up, FollowUpState.NONE)


class AtRestTest(WellbeingBase):
    def test_answers_result_and_decisions_are_sealed(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT answers, result, tier, consent, critical, contact_ok FROM wellbeing_staffinvitation WHERE id = %s",
                [self.inv.pk],
            )
            answers, result, tier, consent, critical, contact_ok = cursor.fetchone()
        self.assertTrue(answers.startswith("gAAAA"))
        self.assertTrue(result.startswith("gAAAA"))
        self.assertNotIn('"1"', answers)
        self.assertNotIn("follow_up", tier)
        self.assertNotIn("given", consent)
        for token in (tier, consent, critical, contact_ok):
            self.assertTrue(token.startswith("~"), token)
        services.record_follow_up(invitation=self.inv, by=self.w.centre_expert, note="保密记录ZX81")
        with connection.cursor() as cursor:
            cursor.execute("SELECT note FROM wellbeing_followup")
            (note,) = cursor.fetchone()
        self.assertNotIn("ZX81", note)
        # Filtering on the tokens still works.
        self.assertEqual(StaffInvitation.objects.filter(tier="follow_up", consent="given").count(), 1)


class AggregatesTest(WellbeingBase):
    def test_small_cells_are_suppressed(self) -> None:
        table = selectors.campaign_table(self.campaign)
        district = table.rows[-1][1]
        # 5 invited in the district (shown: 5 is not under 5); 1 completed (hidden).
        self.assertEqual(district[0], 5)
        self.assertIn("<5", [str(v) for v in district])
        for _name, cells in table.rows:
            for value in cells:
                self.assertFalse(isinstance(value, int) and 0 < value < 5, cells)

    def test_large_enough_cells_are_shown(self) -> None:
        w = self.w
        for n in range(11):
            user = User.objects.create_user(username=f"t{n}", password="x-pass-2026", full_name=f"教师{n}")
            RoleAssignment.objects.create(
                user=user,
                role=Role.CLASS_TEACHER,
                district=w.district,
                school=w.school_a,
                school_class=w.class_a42,
            )
        campaign = make_campaign(w, schools=[w.school_a])
        for n in range(6):
            complete(inv_of(campaign, User.objects.get(username=f"t{n}")), phq(0))
        table = selectors.campaign_table(campaign)
        cells = table.rows[-1][1]
        # Invited 4 school-A staff + 11; 9 not taking part; none in progress; 6 completed, all
        # in the first group. No cell from 1 to 4, so nothing needs hiding.
        self.assertEqual(cells, [15, 9, 0, 6, 6, 0, 0, 0])
        self.assertFalse(table.hidden_any)

    def test_one_small_cell_hides_a_second_one_in_its_line(self) -> None:
        w = self.w
        for n in range(6):
            user = User.objects.create_user(username=f"t{n}", password="x-pass-2026", full_name=f"教师{n}")
            RoleAssignment.objects.create(
                user=user,
                role=Role.CLASS_TEACHER,
                district=w.district,
                school=w.school_a,
                school_class=w.class_a42,
            )
        campaign = make_campaign(w, schools=[w.school_a])
        for n in range(6):
            complete(inv_of(campaign, User.objects.get(username=f"t{n}")), phq(0))
        cells = selectors.campaign_table(campaign).rows[-1][1]
        # 10 invited = 4 not taking part (hidden) + 0 + 6 completed: 6 is hidden too, or
        # 10 - 0 - 6 would give the 4 back.
        self.assertEqual(cells[:4], [10, "<5", 0, "*"])


class PagesTest(WellbeingBase):
    def test_member_answers_on_the_phone_path(self) -> None:
        w = self.w
        inv = inv_of(self.campaign, w.grade_leader_a4)
        client = self.client_for(w.grade_leader_a4)
        page = client.get(reverse("wellbeing:invitation", args=[inv.uid]))
        self.assertContains(page, 'id="consent"')
        client.post(reverse("wellbeing:consent", args=[inv.uid]), {"decision": "agree", "contact_ok": "1"})
        for n in range(1, 10):
            page = client.get(reverse("wellbeing:invitation", args=[inv.uid]))
            self.assertContains(page, f'data-item="{n}"')
            client.post(reverse("wellbeing:answer", args=[inv.uid]), {"item": n, "value": 1})
        page = client.get(reverse("wellbeing:invitation", args=[inv.uid]))
        self.assertContains(page, 'id="ready"')
        done = client.post(reverse("wellbeing:submit", args=[inv.uid]))
        self.assertRedirects(done, reverse("wellbeing:result", args=[inv.uid]))
        inv.refresh_from_db()
        self.assertTrue(inv.contact_ok)
        self.assertTrue(inv.critical)  # item 9 "several days"
        self.assertEqual(client.get(reverse("wellbeing:mine")).status_code, 200)
        self.assertContains(client.get("/"), "wellbeing-pending", count=0)

    def test_pending_invitation_on_the_members_home(self) -> None:
        home = self.client_for(self.w.psych_a).get("/").content.decode()
        inv = inv_of(self.campaign, self.w.psych_a)
        self.assertIn(reverse("wellbeing:invitation", args=[inv.uid]), home)

    def test_district_pages(self) -> None:
        client = self.client_for(self.w.district_admin)
        self.assertEqual(client.get(reverse("wellbeing:campaigns")).status_code, 200)
        self.assertEqual(client.get(reverse("wellbeing:campaign_new")).status_code, 200)
        self.assertEqual(client.get(reverse("wellbeing:campaign", args=[self.campaign.uid])).status_code, 200)
        response = client.post(
            reverse("wellbeing:campaign_new"),
            {
                "title": "春季教职工测评",
                "instrument": "GAD7",
                "schools": [self.w.school_b.pk],
                "opens_on": TODAY.isoformat(),
                "closes_on": (TODAY + 7 * DAY).isoformat(),
            },
        )
        self.assertEqual(response.status_code, 302)
        made = StaffCampaign.objects.get(title="春季教职工测评")
        self.assertEqual(made.invitations.count(), 1)
        self.assertEqual(made.instrument, "GAD7")

    def test_district_pages_out_of_scope(self) -> None:
        for user in (self.w.leader_a, self.w.psych_a, self.w.class_teacher_a41):
            client = self.client_for(user)
            self.assertEqual(client.get(reverse("wellbeing:campaigns")).status_code, 404)
            self.assertEqual(client.get(reverse("wellbeing:campaign_new")).status_code, 404)
            self.assertEqual(
                client.get(reverse("wellbeing:campaign", args=[self.campaign.uid])).status_code, 404
            )
        self.assertEqual(
            self.client_for(self.w.centre_expert).get(reverse("wellbeing:campaign_new")).status_code, 404
        )
        other = District.objects.create(code="500154", name="大足区")
        admin2 = User.objects.create_user(username="admin2", password="x-pass-2026")
        RoleAssignment.objects.create(user=admin2, role=Role.DISTRICT_ADMIN, district=other)
        url = reverse("wellbeing:campaign", args=[self.campaign.uid])
        self.assertEqual(self.client_for(admin2).get(url).status_code, 404)

    def test_expert_pages(self) -> None:
        client = self.client_for(self.w.centre_expert)
        listing = client.get(reverse("wellbeing:results"))
        self.assertContains(listing, self.url)
        self.assertContains(client.get(reverse("wellbeing:results") + "?show=all"), self.url)
        self.assertEqual(client.get(reverse("wellbeing:campaign", args=[self.campaign.uid])).status_code, 200)
        detail = client.get(self.url)
        self.assertContains(detail, 'id="follow-ups"')
        for user in (self.w.leader_a, self.w.district_admin, self.w.psych_a):
            self.assertEqual(self.client_for(user).get(reverse("wellbeing:results")).status_code, 404)

    def test_member_pages_out_of_scope(self) -> None:
        other = inv_of(self.campaign, self.w.psych_a)
        client = self.client_for(self.w.class_teacher_a41)
        for name in ("invitation",):
            self.assertEqual(client.get(reverse(f"wellbeing:{name}", args=[other.uid])).status_code, 404)
        for name in ("consent", "answer", "submit"):
            self.assertEqual(client.post(reverse(f"wellbeing:{name}", args=[other.uid])).status_code, 404)
        self.assertEqual(client.get(reverse("wellbeing:result", args=[other.uid])).status_code, 404)
        other.refresh_from_db()
        self.assertEqual(other.consent, ConsentState.PENDING)


class DemoTest(PersonaTestCase):
    def test_demo_part_goes_through_the_services(self) -> None:
        from xinyu.wellbeing.demo import build_demo_wellbeing

        w = self.w
        for n in range(12):
            user = User.objects.create_user(username=f"b{n}", password="x-pass-2026", full_name=f"乙教师{n}")
            RoleAssignment.objects.create(
                user=user,
                role=Role.CLASS_TEACHER,
                district=w.district,
                school=w.school_b,
                school_class=w.class_b41,
            )
        campaign = build_demo_wellbeing(w.district, seed=7)
        self.assertIsNotNone(campaign)
        invitations = StaffInvitation.objects.filter(campaign=campaign)
        self.assertEqual(invitations.count(), 13)
        consents = {inv.consent for inv in invitations}
        self.assertIn(ConsentState.GIVEN, consents)
        self.assertTrue(invitations.filter(completed_at__isnull=False).exists())
        critical = invitations.filter(critical=True)
        self.assertEqual(critical.count(), 1)
        self.assertEqual(critical.get().follow_up, FollowUpState.OPEN)
        self.assertTrue(Message.objects.filter(recipient=w.centre_expert, kind=services.NOTIFY_KIND).exists())
        self.assertIsNone(build_demo_wellbeing(w.district, seed=7))  # once


class RotateKeysTest(WellbeingBase):
    def test_rotation_reseals_a_decided_invitation_past_the_trigger(self) -> None:
        import os
        from io import StringIO

        from cryptography.fernet import Fernet
        from django.core.management import call_command

        from xinyu import crypto

        saved = os.environ.get(crypto.ENV_VAR)
        old = crypto.configured_keys()[0]
        new = Fernet.generate_key().decode()

        def consent_token() -> str:
            with connection.cursor() as cursor:
                cursor.execute("SELECT consent FROM wellbeing_staffinvitation WHERE id = %s", [self.inv.pk])
                return cursor.fetchone()[0]

        before = consent_token()
        try:
            os.environ[crypto.ENV_VAR] = f"{new},{old}"
            crypto.forget_cached()
            out = StringIO()
            call_command("rotate_keys", stdout=out)
            self.assertIn("wellbeing_staffinvitation", out.getvalue())
            os.environ[crypto.ENV_VAR] = new
            crypto.forget_cached()
            self.assertNotEqual(consent_token(), before)
            again = StaffInvitation.objects.get(pk=self.inv.pk)
            self.assertEqual((again.consent, again.tier), (ConsentState.GIVEN, "follow_up"))
            self.assertEqual(again.result["scales"]["total"]["raw"], 16.0)
        finally:
            if saved is None:
                os.environ.pop(crypto.ENV_VAR, None)
            else:
                os.environ[crypto.ENV_VAR] = saved
            crypto.forget_cached()
