"""Training and certificates in a real browser (Playwright + Debian's Chromium), issue 12's
browser test: on a 375×667 phone a class teacher with a register entry, enrolled in a C
programme, opens the last course day's check-in URL (the URL the session QR encodes), logs
in and is marked present; after a passed assessment (recorded through the services) and
issuing, they open "my training" and see the certificate with its verification QR (an SVG),
and the verification URL shows the (masked) name, the kind and the validity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from .personas import PASSWORD, build_world, confirmed_device, otp_code
from .test_browser_screening import phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_check_in_on_a_phone_then_the_certificate_and_its_verification(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from xinyu.org import twofactor
    from xinyu.staff.models import StaffMember
    from xinyu.training import certificates, services
    from xinyu.training.models import Attendance, Participant, SessionKind
    from xinyu.training.views import checkin_path

    world = build_world()
    admin, teacher = world.district_admin, world.class_teacher_a41
    StaffMember.objects.create(
        district=world.district, school=world.school_a, staff_no="T4101", name="张明华", user=teacher
    )
    member = StaffMember.objects.get(user=teacher)
    programme = services.create_programme(
        by=admin, district=world.district, kind="c_cert", title="2026 C证培训", status="running"
    )
    assert programme.certificate_rule == "C"
    now = timezone.now().replace(second=0, microsecond=0)
    sessions = []
    for day in range(6):  # five course days before today, the sixth is now
        start = now - dt.timedelta(days=5 - day, minutes=30)
        sessions.append(
            services.add_session(
                by=admin,
                programme=programme,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=6),
                hours="6",
            )
        )
    assessment = services.add_session(
        by=admin,
        programme=programme,
        starts_at=now + dt.timedelta(hours=7),
        ends_at=now + dt.timedelta(hours=8),
        hours=Decimal("1"),
        kind=SessionKind.ASSESSMENT,
    )
    services.enrol(by=admin, programme=programme, members=[member])
    participant = Participant.objects.get(programme=programme, member=member)
    for session in sessions[:5]:
        services.mark_attendance(by=admin, session=session, participant=participant)

    # 1. On a phone, the teacher scans the last course day's QR code, logs in, is marked present.
    context, page = phone(browser)
    page.goto(f"{live_server.url}{checkin_path(sessions[5])}")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", teacher.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if twofactor.needs_otp(teacher):
        page.wait_for_url("**/account/2fa/**")
        page.fill("#otp-code", otp_code(confirmed_device(teacher)))
        page.click("#otp-submit")
    page.wait_for_selector("[data-checkin=marked]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    assert Attendance.objects.filter(session=sessions[5], participant=participant, present=True).exists()

    # 2. The assessment is passed (recorded by the trainer) and the district issues.
    services.record_assessment(by=admin, participant=participant, result="passed")
    issued = certificates.issue_due(by=admin, programme=programme)
    assert [c.participant_id for c in issued] == [participant.pk]
    cert = issued[0]
    assert assessment.pk  # the assessment session exists; the rule reads the result

    # 3. "My training": the certificate with its verification QR code.
    page.goto(f"{live_server.url}/training/mine/")
    card = page.locator("[data-testid=my-certificates] [data-testid=certificate]")
    assert card.count() == 1
    assert cert.number in card.inner_text()
    assert card.locator("[data-testid=verify-qr] svg").count() == 1
    verify = card.locator("[data-testid=verify-url]").get_attribute("href") or ""
    assert verify.endswith(f"/verify/{cert.verify_code}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()

    # 4. Anyone with the QR code (no account) checks it: name (masked), kind, validity.
    context, checker = phone(browser)
    checker.goto(f"{live_server.url}/verify/{cert.verify_code}/")
    assert checker.inner_text("[data-testid=name]") == "张*华"
    assert "C证" in checker.inner_text("[data-testid=kind]")
    assert "有效" in checker.inner_text("[data-testid=state]")
    assert checker.inner_text("[data-testid=valid-until]") == cert.valid_until.strftime("%Y-%m-%d")  # type: ignore[union-attr]
    body = checker.inner_text("body")
    for hidden in ("张明华", "T4101", world.school_a.name, cert.number, "2026 C证培训"):
        assert hidden not in body
    context.close()
