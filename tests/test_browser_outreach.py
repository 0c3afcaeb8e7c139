"""A lecture's feedback in a real browser (Playwright + Debian's Chromium): a parent opens the
URL the room's QR code encodes on a 375×667 phone, without an account, rates the session and
comments; a second answer from the same phone is refused; the organiser (school A's psych
teacher) sees the answer and the comment in the talk's summary."""

from __future__ import annotations

import datetime as dt

import pytest

from .personas import PASSWORD, build_world, confirmed_device, otp_code
from .test_browser_screening import phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_parent_gives_feedback_from_a_phone_and_the_organiser_sees_it(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from xinyu.org import twofactor
    from xinyu.outreach import services
    from xinyu.outreach.models import Feedback, TalkKind
    from xinyu.outreach.views import feedback_path

    world = build_world()
    organiser = world.psych_a
    start = timezone.now() - dt.timedelta(minutes=20)
    talk = services.create_talk(
        by=organiser,
        district=world.district,
        school=world.school_a,
        kind=TalkKind.PARENT,
        topic="如何陪伴青春期的孩子",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        audience=["parents"],
        speaker="李老师",
    )
    context, page = phone(browser)
    page.goto(live_server.url + feedback_path(talk))
    page.wait_for_selector("[data-feedback=form]")
    assert "如何陪伴青春期的孩子" in page.inner_text("h1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    page.check("input[name=rating][value='4']")
    page.check("input[name=usefulness][value='5']")
    page.fill("textarea[name=comment]", "讲得很实用，希望多办")
    page.click("[data-action=submit-feedback]")
    page.wait_for_selector("[data-feedback=thanks]")
    assert Feedback.objects.filter(talk=talk).count() == 1
    page.goto(live_server.url + feedback_path(talk))  # the same phone, again
    page.wait_for_selector("[data-feedback=already]")
    assert Feedback.objects.filter(talk=talk).count() == 1
    context.close()

    device = confirmed_device(organiser)  # enrolled before logging in, as psych teachers are
    desk = browser.new_context()
    page = desk.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/outreach/t/{talk.uid}/")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", organiser.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if twofactor.needs_otp(organiser):
        page.wait_for_url("**/account/2fa/**")
        page.fill("#otp-code", otp_code(device))
        page.click("#otp-submit")
    page.wait_for_url(f"**/outreach/t/{talk.uid}/")
    page.wait_for_selector("#summary")
    assert page.get_attribute("[data-feedback-count]", "data-feedback-count") == "1"
    assert "讲得很实用，希望多办" in page.inner_text("[data-list=comments]")
    assert page.inner_text("[data-mean]").strip() == "4.0"
    desk.close()
