"""QR check-in of training sessions (issue 12 item 3): the window from the policy file
(`[training] checkin_open_minutes_before` / `checkin_close_minutes_after`), its boundaries,
not enrolled, a wrong token, a second scan, and the phone pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.audit.models import AuditEntry
from xinyu.kernel.policyfile import policy_for_code
from xinyu.staff.models import PostType, StaffMember
from xinyu.training import services
from xinyu.training.models import Attendance, AttendanceMethod, Participant, ProgrammeKind, ProgrammeStatus


class CheckInTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.programme = services.create_programme(
            by=w.district_admin,
            district=w.district,
            kind=ProgrammeKind.C_CERTIFICATE,
            title="C证培训",
            status=ProgrammeStatus.RUNNING,
        )
        start = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=5)
        cls.session = services.add_session(
            by=w.district_admin,
            programme=cls.programme,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            hours=Decimal("3"),
            topic="心理辅导",
        )
        cls.member = StaffMember.objects.create(
            district=w.district,
            school=w.school_a,
            staff_no="T001",
            name="甲心理老师",
            post_type=PostType.FULL_TIME,
            user=w.psych_a,
        )
        StaffMember.objects.create(
            district=w.district, school=w.school_b, staff_no="T002", name="乙心理老师", user=w.psych_b
        )
        services.enrol(by=w.district_admin, programme=cls.programme, members=[cls.member])
        cls.participant = Participant.objects.get(member=cls.member)
        rules = policy_for_code(w.district.code)["training"]
        cls.before = int(rules["checkin_open_minutes_before"])
        cls.after = int(rules["checkin_close_minutes_after"])

    def scan(self, now: dt.datetime) -> services.CheckedIn:
        token = services.checkin_token(self.session)
        return services.check_in(by=self.w.psych_a, session=self.session, token=token, now=now)

    def count(self) -> int:
        return Attendance.objects.filter(session=self.session).count()

    def test_window_boundaries(self) -> None:
        opens = self.session.starts_at - dt.timedelta(minutes=self.before)
        closes = self.session.ends_at + dt.timedelta(minutes=self.after)
        self.assertEqual(services.checkin_window(self.session), (opens, closes))
        with self.assertRaises(services.CheckInRefused) as ctx:
            self.scan(opens - dt.timedelta(minutes=1))
        self.assertIn("签到尚未开始", ctx.exception.zh)
        self.assertIn("not opened yet", ctx.exception.en)
        self.assertEqual(self.count(), 0)
        with self.assertRaises(services.CheckInRefused) as ctx:
            self.scan(closes + dt.timedelta(minutes=1))
        self.assertIn("签到已结束", ctx.exception.zh)
        self.assertEqual(self.count(), 0)
        done = self.scan(opens)
        self.assertTrue(done.new)
        row = Attendance.objects.get(session=self.session, participant=self.participant)
        self.assertEqual(row.method, AttendanceMethod.QR)
        self.assertTrue(row.present)
        self.assertFalse(self.scan(closes).new)  # at closing: accepted, already present
        self.assertEqual(self.count(), 1)

    def test_at_closing_first_scan(self) -> None:
        closes = self.session.ends_at + dt.timedelta(minutes=self.after)
        self.assertTrue(self.scan(closes).new)

    def test_second_scan_changes_nothing(self) -> None:
        first = self.scan(self.session.starts_at)
        row = Attendance.objects.get(session=self.session)
        audits = AuditEntry.objects.count()
        second = self.scan(self.session.starts_at + dt.timedelta(minutes=10))
        self.assertTrue(first.new)
        self.assertFalse(second.new)
        again = Attendance.objects.get(session=self.session)
        self.assertEqual((again.at, again.method), (row.at, row.method))
        self.assertEqual(AuditEntry.objects.count(), audits)

    def test_not_enrolled_writes_nothing(self) -> None:
        token = services.checkin_token(self.session)
        with self.assertRaises(services.CheckInRefused) as ctx:
            services.check_in(
                by=self.w.psych_b, session=self.session, token=token, now=self.session.starts_at
            )
        self.assertIn("未报名", ctx.exception.zh)
        self.assertIn("not enrolled", ctx.exception.en)
        self.assertEqual(self.count(), 0)

    def test_withdrawn_cannot_check_in(self) -> None:
        services.withdraw(by=self.w.district_admin, participant=self.participant)
        with self.assertRaises(services.CheckInRefused):
            self.scan(self.session.starts_at)
        self.assertEqual(self.count(), 0)

    def test_token_is_secret_and_per_session(self) -> None:
        token = services.checkin_token(self.session)
        self.assertEqual(len(token), 40)
        self.assertNotIn(str(self.session.uid).replace("-", ""), token)
        other = services.add_session(
            by=self.w.district_admin,
            programme=self.programme,
            starts_at=self.session.starts_at + dt.timedelta(days=1),
            ends_at=self.session.ends_at + dt.timedelta(days=1),
            hours=Decimal("3"),
        )
        self.assertNotEqual(services.checkin_token(other), token)
        with self.assertRaises(services.CheckInRefused):
            services.check_in(by=self.w.psych_a, session=other, token=token, now=other.starts_at)
        self.assertFalse(services.token_valid(self.session, token[:-1] + ("0" if token[-1] != "0" else "1")))

    # ---- the pages ----------------------------------------------------------------------

    def url(self, token: str | None = None) -> str:
        return reverse(
            "training:checkin", args=[self.session.uid, token or services.checkin_token(self.session)]
        )

    def test_scan_page_marks_present_then_already(self) -> None:
        client = self.client_for(self.w.psych_a)
        first = client.get(self.url())
        self.assertEqual(first.status_code, 200)
        self.assertContains(first, 'data-checkin="marked"')
        self.assertContains(first, "签到成功")
        second = client.get(self.url())
        self.assertContains(second, 'data-checkin="already"')
        self.assertEqual(self.count(), 1)
        self.assertContains(first, 'name="viewport"')

    def test_scan_page_not_enrolled(self) -> None:
        response = self.client_for(self.w.psych_b).get(self.url())
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, 'data-checkin="refused"', status_code=403)
        self.assertContains(response, "not enrolled", status_code=403)
        self.assertEqual(self.count(), 0)

    def test_scan_page_outside_window(self) -> None:
        self.session.starts_at = timezone.now() + dt.timedelta(minutes=self.before + 5)
        self.session.ends_at = self.session.starts_at + dt.timedelta(hours=1)
        self.session.save()
        response = self.client_for(self.w.psych_a).get(self.url())
        self.assertContains(response, "签到尚未开始", status_code=403)
        self.assertEqual(self.count(), 0)

    def test_wrong_token_is_404_and_denied(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.get(self.url("0" * 40))
        self.assertEqual(response.status_code, 404)
        self.assertTrue(AuditEntry.objects.filter(action="denied", object_type="trainingsession").exists())
        self.assertEqual(client.get(reverse("training:checkin", args=["not-a-uuid", "x"])).status_code, 404)
        self.assertEqual(self.count(), 0)

    def test_login_first_then_back(self) -> None:
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 302)
        self.assertIn("/login/", response["Location"])
        self.assertIn("next=", response["Location"])

    def test_qr_page_for_runners_only(self) -> None:
        url = reverse("training:session_qr", args=[self.session.uid])
        response = self.client_for(self.w.district_admin).get(url)
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn("<svg", body)
        self.assertIsNone(re.search(r"<script(?![^>]*src=)", body))
        self.assertNotIn('style="', body.split("<svg", 1)[0])
        for user in (self.w.psych_a, self.w.leader_a, self.w.psych_b):
            self.assertEqual(self.client_for(user).get(url).status_code, 404)

    def test_qr_encodes_the_checkin_url(self) -> None:
        import segno

        url = "http://testserver" + self.url()
        self.assertIn(
            segno.make(url, error="m").svg_inline(scale=6, border=2, omitsize=True)[:200],
            self.client_for(self.w.district_admin)
            .get(reverse("training:session_qr", args=[self.session.uid]))
            .content.decode(),
        )


# ---- the phone pages in a real browser (375 px: no horizontal scroll, no CSP violation) ------

import pytest  # noqa: E402


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_trainer_taps_on_a_phone(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    from tests.personas import build_world
    from tests.test_browser import login

    world = build_world()
    leader = world.leader_a
    programme = services.create_programme(
        by=leader,
        district=world.district,
        school=world.school_a,
        kind=ProgrammeKind.SCHOOL_BASED,
        title="甲小学校本培训：学生心理危机的识别与干预（第一期）",
    )
    start = timezone.now().replace(second=0, microsecond=0)
    session = services.add_session(
        by=leader,
        programme=programme,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        hours="2",
        place="甲小学三楼多功能报告厅",
    )
    members = [
        StaffMember.objects.create(
            district=world.district, school=world.school_a, staff_no=f"P{i}", name=f"欧阳老师{i}号"
        )
        for i in range(12)
    ]
    services.enrol(by=leader, programme=programme, members=members)
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, live_server, leader.username)
    page.goto(f"{live_server.url}{reverse('training:session', args=[session.uid])}")
    first = Participant.objects.filter(programme=programme).order_by("member__name", "pk").first()
    assert first is not None
    page.evaluate("window.__sameDocument = true")
    page.click(f"#p-{first.uid} button")
    page.wait_for_selector(f"#p-{first.uid}.is-present")
    assert page.evaluate("window.__sameDocument === true")  # marked without a reload (attendance.js)
    assert page.inner_text("[data-present-count]") == "1"
    assert Attendance.objects.filter(session=session, participant=first, present=True).count() == 1
    page.click(f"#p-{first.uid} button")  # a second tap: absent again
    page.wait_for_selector(f"#p-{first.uid}:not(.is-present)")
    page.wait_for_function("document.querySelector('[data-present-count]').textContent === '0'")
    assert not Attendance.objects.get(session=session, participant=first).present
    page.click(f"#p-{first.uid} button")
    page.wait_for_selector(f"#p-{first.uid}.is-present")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    for url in (
        reverse("training:session_qr", args=[session.uid]),
        reverse("training:programme", args=[programme.uid]),
        reverse("training:programmes"),
        reverse("training:mine"),
        reverse("training:enrol", args=[programme.uid]),
    ):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 376, url
    assert page.locator("[data-qr] svg").count() == 0  # the last page is the enrol page
    page.goto(f"{live_server.url}{reverse('training:session_qr', args=[session.uid])}")
    assert page.locator("[data-qr] svg").count() == 1
    context.close()
