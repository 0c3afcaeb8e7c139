"""Screening in a real browser (Playwright + Debian's Chromium): a guardian consents on a
phone, the student answers on a 375×667 phone, closes the page half-way, resumes with the
code and hands in with a critical answer; the psych teacher sees the urgent warning and the
report; the class teacher sees only the neutral task; the district sees the aggregate."""

from __future__ import annotations

import pytest
from django.utils import timezone

from .personas import build_world
from .screening_helpers import invitation, make_campaign
from .test_browser import login
from .test_screening_pages import DIAGNOSTIC, FORBIDDEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def answer(page, label: str) -> None:  # type: ignore[no-untyped-def]
    before = page.get_attribute("h1.question", "data-item")
    page.click(f"button.option:has-text('{label}')")
    page.wait_for_function(
        "(before) => { const h = document.querySelector('h1.question'); return !h || h.dataset.item !== before; }",
        arg=before,
    )


def test_consent_answer_resume_and_who_sees_what(browser, page, live_server) -> None:  # type: ignore[no-untyped-def]
    from xinyu.care.models import Task, Warning
    from xinyu.screening.models import Answer, ConsentDecision, Invitation

    world = build_world()
    campaign = make_campaign(world)
    inv = invitation(campaign, world.student_a41)

    # 1. The guardian scans the QR code on the class sheet and agrees, on a phone.
    context, guardian = phone(browser)
    guardian.goto(f"{live_server.url}/g/{inv.guardian_token}/?via=qr")
    assert "张*明" in guardian.inner_text("#consent")
    guardian.fill("input[name=relation]", "母亲")
    guardian.click("button:has-text('同意参加')")
    assert "您已同意孩子参加" in guardian.inner_text("[data-testid=decision]")
    assert guardian.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()
    assert ConsentDecision.objects.get(invitation=inv).channel == "qr"

    # 2. The student enters the code on a phone, agrees, answers five questions, closes the tab.
    context, student = phone(browser)
    student.goto(f"{live_server.url}/s/")
    student.fill("#code", inv.code.lower())
    student.click("button:has-text('继续')")
    student.click("button:has-text('我愿意参加')")
    assert "第 1 题，共 16 题" in student.inner_text("[data-testid=position]")
    box = student.locator("button.option").first.bounding_box()
    assert box is not None and box["height"] >= 44  # large touch targets
    for _ in range(5):
        answer(student, "好几天")
    assert student.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()
    assert Answer.objects.filter(invitation=inv).count() == 5

    # 3. Later, on another phone, the same code resumes at question 6.
    context, student = phone(browser)
    student.goto(f"{live_server.url}/s/{inv.code}/")
    assert "第 6 题，共 16 题" in student.inner_text("[data-testid=position]")
    for _ in range(3):  # PHQ-9 items 6–8
        answer(student, "完全不会")
    assert "不如死掉" in student.inner_text("h1.question")  # item 9
    answer(student, "一半以上的天数")
    for _ in range(7):  # GAD-7
        answer(student, "完全不会")
    student.click("#submit")
    student.wait_for_url(f"{live_server.url}/s/{inv.code}/done/")
    done = student.inner_text("main")
    assert "12355" in done
    for word in FORBIDDEN:
        assert word not in done, word
    # A second hand-in (back button, double tap) stores nothing more.
    student.go_back()
    context.close()
    inv.refresh_from_db()
    assert inv.progress == "completed" and inv.tier == "urgent"
    assert Answer.objects.filter(invitation=inv).count() == 16
    assert Warning.objects.get(student=world.student_a41).level == "urgent"

    # 4. The psych teacher sees the urgent warning on their home page and opens the report.
    login(page, live_server, "psych_a")
    warnings = page.inner_text("[data-list=warnings]")
    assert "张小明" in warnings and "紧急" in warnings
    page.click("[data-list=warnings] a:has-text('张小明')")
    page.click("text=测评报告")
    report = page.inner_text("main")
    assert "PHQ-9" in report or "PHQ9" in report
    assert "紧急" in report
    page.click("summary:has-text('作答')")
    assert "一半以上的天数" in page.inner_text("section.screening")
    page.context.clear_cookies()

    # 5. The class teacher sees only the neutral task.
    login(page, live_server, "class_teacher_a41")
    tasks = page.inner_text("[data-list=tasks]")
    assert "张小明" in tasks and "请与心理教师联系" in tasks
    body = page.inner_text("body")
    for word in FORBIDDEN:
        assert word not in body, word
    assert Task.objects.filter(student=world.student_a41).count() == 1
    page.context.clear_cookies()

    # 6. The district admin sees the campaign's aggregate, with small cells suppressed.
    login(page, live_server, "district_admin")
    page.goto(f"{live_server.url}/screening/campaigns/{campaign.uid}/results/")
    aggregate = page.inner_text("main")
    assert "<5" in aggregate
    assert "张小明" not in aggregate
    for word in DIAGNOSTIC:
        assert word not in aggregate, word
    assert Invitation.objects.filter(campaign=campaign, progress="completed").count() == 1


def test_campaign_form_submits_its_prefilled_dates_and_chooses_grades_quickly(
    browser, page, live_server
) -> None:  # type: ignore[no-untyped-def]
    """The window's datetime-local inputs arrive filled (Chromium rejects "2026/12/01 16:00"
    and would send them empty); the psych teacher's only school is chosen already; grades
    are chosen with "none" and a range instead of unticking box by box."""
    from xinyu.screening.models import Campaign

    world = build_world()
    login(page, live_server, "psych_a")
    page.goto(f"{live_server.url}/screening/new/")
    opens = page.input_value("input[name=opens_at]")
    closes = page.input_value("input[name=closes_at]")
    assert opens and closes, (opens, closes)  # the browser accepted the rendered values
    assert page.evaluate("document.querySelector('select[name=schools]').selectedOptions.length") == 1
    page.fill("input[name=name]", "浏览器测评")
    page.click("[data-grades=none]")
    assert page.locator("input[name=target_grades]:checked").count() == 0
    page.click("[data-grades=all]")
    assert page.locator("input[name=target_grades]:checked").count() == 12
    page.select_option("select[name=grade_from]", "4")
    page.select_option("select[name=grade_to]", "7")
    checked = page.eval_on_selector_all(
        "input[name=target_grades]:checked", "els => els.map(e => parseInt(e.value, 10))"
    )
    assert checked == [4, 5, 6, 7]
    page.click("#campaign-form button.btn-primary")
    page.wait_for_url(f"{live_server.url}/screening/campaigns/**")
    campaign = Campaign.objects.get(name="浏览器测评")
    assert list(campaign.schools.all()) == [world.school_a]
    assert campaign.target_grades == [4, 5, 6, 7]
    assert timezone.localtime(campaign.opens_at).strftime("%Y-%m-%dT%H:%M") == opens
    assert timezone.localtime(campaign.closes_at).strftime("%Y-%m-%dT%H:%M") == closes
    assert campaign.invitations.count() > 0
