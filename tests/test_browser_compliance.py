"""Compliance in a real browser (Playwright + Debian's Chromium): the district admin opens the
dashboard, drills into school A's scorecard, opens a rule it misses (or has no data for) and
grants a waiver; after the next run the school leader sees that rule waived on the scorecard."""

from __future__ import annotations

import datetime as dt

import pytest

from .personas import PASSWORD, build_world, confirmed_device, otp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, base: str, user, path: str) -> None:  # type: ignore[no-untyped-def]
    from xinyu.org import twofactor

    if twofactor.needs_otp(user):
        confirmed_device(user)  # enrolled before (the test is not about enrolment)
    page.goto(f"{base}{path}")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if twofactor.needs_otp(user):
        page.wait_for_url("**/account/2fa/**")
        page.fill("#otp-code", otp_code(confirmed_device(user)))
        page.click("#otp-submit")


def test_admin_waives_a_missed_rule_and_the_leader_sees_it(browser, live_server, settings) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from xinyu.compliance import services
    from xinyu.compliance.models import Result, Waiver

    settings.ROOT_URLCONF = "tests.test_compliance_pages"  # until xinyu/urls.py includes the app
    world = build_world()
    admin, leader, school = world.district_admin, world.leader_a, world.school_a
    run = services.start_run(by=admin, district=world.district)
    target = (
        Result.objects.filter(run=run, school=school, verdict="missed").order_by("rule_id").first()
        or Result.objects.filter(run=run, school=school, verdict="no_data").order_by("rule_id").first()
    )
    assert target is not None
    context = browser.new_context()
    page = context.new_page()
    _login(page, live_server.url, admin, "/compliance/")
    page.wait_for_selector("[data-list=rules]")
    page.locator(f"[data-list=schools] [data-school='{school.uid}'] a").click()
    page.wait_for_selector("[data-testid=missed-count]")
    page.locator(f"tr[data-rule='{target.rule_id}'] [data-testid=rule-link]").click()
    page.wait_for_selector("#grant-form")
    page.fill("#grant-form textarea[name=justification]", "校舍改造期间，暂缓")
    page.fill(
        "#grant-form input[name=expires_on]", (timezone.localdate() + dt.timedelta(days=90)).isoformat()
    )
    page.locator("[data-testid=grant]").click()
    page.wait_for_selector("[data-testid=waiver-in-force]")
    assert Waiver.objects.filter(school=school, rule_id=target.rule_id, revoked_at__isnull=True).count() == 1
    context.close()

    services.start_run(by=admin, district=world.district)
    context = browser.new_context()
    page = context.new_page()
    _login(page, live_server.url, leader, f"/compliance/school/{school.uid}/")
    page.wait_for_selector("[data-testid=missed-count]")
    row = page.locator(f"tr[data-rule='{target.rule_id}']")
    assert row.get_attribute("data-shown") == "waived"
    assert row.locator("[data-testid=waiver]").count() == 1
    context.close()
