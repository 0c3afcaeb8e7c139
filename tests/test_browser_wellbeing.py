"""Staff wellbeing screening in a real browser (Playwright + Debian's Chromium): a teacher
opens the invitation from the home page on a 375×667 phone, agrees, answers the nine PHQ-9
questions with taps, hands in and reads their own result with its explanation and help
lines; the page never scrolls sideways and no CSP violation occurs (conftest)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from .personas import build_world
from .test_browser import login
from .test_browser_screening import answer, phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_teacher_answers_on_a_phone_and_reads_their_result(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    from xinyu.wellbeing import services
    from xinyu.wellbeing.models import StaffInvitation

    world = build_world()
    today = timezone.localdate()
    services.create_campaign(
        by=world.district_admin,
        district=world.district,
        title="教职工心理健康测评",
        instrument="PHQ9",
        schools=[world.school_a],
        opens_on=today,
        closes_on=today + dt.timedelta(days=7),
    )
    context, teacher = phone(browser)
    login(teacher, live_server, "class_teacher_a41")
    teacher.click("[data-list=wellbeing-pending] a")
    assert teacher.evaluate("document.documentElement.scrollWidth") <= 376
    teacher.check("input[name=contact_ok]")
    teacher.click("#agree")
    for _n in range(9):
        answer(teacher, "好几天")
    teacher.wait_for_selector("#ready")
    teacher.click("#submit")
    teacher.wait_for_selector("#own-result")
    text = teacher.inner_text("#own-result")
    assert "12356" in text
    assert teacher.locator("[data-concern]").count() == 1
    assert teacher.locator("[data-critical]").count() == 1  # item 9 "several days"
    assert teacher.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()
    inv = StaffInvitation.objects.get(user=world.class_teacher_a41)
    assert inv.completed_at is not None and inv.contact_ok and inv.critical
