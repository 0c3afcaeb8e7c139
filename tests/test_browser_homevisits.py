"""Home visits in a real browser (Playwright + Debian's Chromium): on a 375×667 phone the
class teacher of A 4(1) opens the no-visit list of their class, records three visits with the
one-tap form (date defaults to today) and the list shrinks by three; the page never scrolls
sideways."""

from __future__ import annotations

import datetime as dt

import pytest

from .personas import PASSWORD, build_world, confirmed_device, otp_code
from .test_browser_screening import phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_class_teacher_records_three_visits_on_a_phone(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    from xinyu.homevisits.models import HomeVisit
    from xinyu.org import twofactor
    from xinyu.org.models import Student

    world = build_world()
    teacher, klass = world.class_teacher_a41, world.class_a41
    for i in range(3):
        Student.objects.create(
            student_no=f"G50015320150101009{i}", name=f"测试{i}", gender="F", birth_date=dt.date(2015, 5, 1),
            school=klass.school, school_class=klass,
        )  # fmt: skip
    context, page = phone(browser)
    page.goto(f"{live_server.url}/homevisits/class/{klass.uid}/record/")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", teacher.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if twofactor.needs_otp(teacher):
        page.wait_for_url("**/account/2fa/**")
        page.fill("#otp-code", otp_code(confirmed_device(teacher)))
        page.click("#otp-submit")
    page.wait_for_selector("[data-testid=pending]")
    start = int(page.inner_text("[data-testid=pending-count]"))
    assert start == 5
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    for n in range(3):
        item = page.locator(".hv-item").first
        item.locator("summary").click()
        item.locator("select[name=form]").select_option("phone")
        item.locator("textarea[name=note]").fill(f"第{n + 1}次记录")
        item.locator("[data-testid=save]").click()
        page.wait_for_function(
            "n => document.querySelector('[data-testid=pending-count]').textContent.trim() == String(n)",
            arg=start - n - 1,
        )
    assert page.locator(".hv-item").count() == start - 3
    assert HomeVisit.objects.filter(school_class=klass, by=teacher).count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()


def test_class_teacher_deletes_a_mistaken_visit_from_the_list_on_a_phone(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    """The visit list on a phone (filtered to phone calls, no sideways scroll), the visit's edit
    page, a deletion with its reason: the student is back on the no-visit list."""
    from django.utils import timezone

    from xinyu.audit.models import Action, AuditEntry
    from xinyu.homevisits import services
    from xinyu.homevisits.models import HomeVisit
    from xinyu.org import twofactor

    world = build_world()
    teacher, klass, student = world.class_teacher_a41, world.class_a41, world.student_a41
    wrong = services.record_visit(
        by=teacher,
        student=student,
        visited_on=timezone.localdate(),
        form="phone",
        met="mother",
        note="记错了学生",
    )
    services.record_visit(
        by=teacher, student=world.student_a41_2, visited_on=timezone.localdate(), form="visit", met="father"
    )
    context, page = phone(browser)
    page.goto(f"{live_server.url}/homevisits/visits/")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", teacher.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if twofactor.needs_otp(teacher):
        page.wait_for_url("**/account/2fa/**")
        page.fill("#otp-code", otp_code(confirmed_device(teacher)))
        page.click("#otp-submit")
    page.wait_for_selector("[data-list=visits]")
    assert page.locator("[data-visit]").count() == 2
    page.locator("#visit-filters select[name=form]").select_option("phone")
    page.locator("#visit-filters button[type=submit]").click()
    page.wait_for_function("() => document.querySelectorAll('[data-visit]').length == 1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    page.locator(f"[data-visit='{wrong.uid}'] [data-action=edit]").click()
    page.wait_for_selector("#visit-delete")
    page.fill("#visit-delete input[name=reason]", "录错了学生")
    page.locator("[data-testid=delete]").click()
    page.wait_for_url(f"**/homevisits/class/{klass.uid}/")
    assert student.name in page.inner_text("#not-visited")
    assert not HomeVisit.objects.filter(pk=wrong.pk).exists()
    assert AuditEntry.objects.filter(
        action=Action.DELETE, object_id=str(wrong.uid), detail__contains="录错了学生"
    ).exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()
