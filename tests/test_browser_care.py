"""Early warning in a real browser (Playwright + Debian's Chromium): a class teacher raises a
concern on a phone; the psych teacher triages it to severe, works through the checklist and
makes a referral; the class teacher sees only the neutral status."""

from __future__ import annotations

import pytest

from .personas import build_world
from .test_browser import login
from .test_browser_screening import phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "这周上课一直低头不说话，手腕上有划痕"


def test_concern_triage_checklist_referral_and_neutral_status(browser, page, live_server) -> None:  # type: ignore[no-untyped-def]
    from xinyu.care.models import ActionStatus, Case, Institution, InstitutionKind, Referral, Tier

    world = build_world()
    Institution.objects.create(
        district=world.district,
        name="荣昌区人民医院",
        department="心理科",
        kind=InstitutionKind.HOSPITAL,
        phone="023-46732000",
        green_channel=True,
    )

    # 1. The class teacher reports on a phone, in well under a minute.
    context, teacher = phone(browser)
    login(teacher, live_server, "class_teacher_a41")
    teacher.click("#report-concern")
    teacher.click(f"#student-pick a:has-text('{world.student_a41.name}')")
    teacher.check("input[name=triggers][value=self_harm]")
    teacher.check("input[name=triggers][value=emotion]")
    teacher.fill("textarea[name=note]", NOTE)
    teacher.click("#concern-form button")
    teacher.wait_for_selector(".msg-success")
    assert teacher.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()

    # 2. The psych teacher sees the urgent warning on the home page and triages it to severe.
    login(page, live_server, "psych_a")
    page.click(f"[data-list=warnings] a:has-text('{world.student_a41.name}')")
    assert NOTE in page.inner_text("#concerns")
    page.check("#triage-form input[name=tier][value=severe]")
    page.fill("#triage-form textarea[name=assessment]", "有自伤行为，需要立即干预")
    page.click("#triage-form button")
    page.wait_for_selector("#checklist")
    case = Case.objects.get()
    assert case.tier == Tier.SEVERE and case.escalated_to_centre

    # 3. The checklist: every action done, one skipped with a reason.
    codes = [a.code for a in case.actions.all()]
    for code in codes:
        item = page.locator(f"#checklist li[data-code={code}]")
        if code == "leader":
            item.locator("input[name=note]").fill("校长外出，已报告分管副校长")
            item.locator("button[name=done][value='0']").click()
        else:
            item.locator("button[name=done][value='1']").click()
        page.wait_for_selector(f"#checklist li[data-code={code}]:not([data-status=open])")
    assert not case.actions.filter(status=ActionStatus.OPEN).exists()
    assert case.actions.get(code="leader").status == ActionStatus.SKIPPED

    # 4. The referral, to the green-channel hospital.
    page.click("#make-referral")
    page.check("#institution-choices input[name=institution]")
    page.fill("textarea[name=reason]", "自伤行为，建议专科评估")
    page.fill("input[name=accompanied_by]", "班主任与母亲")
    page.check("input[name=guardian_agreed]")
    page.click("form button.btn-primary")
    page.wait_for_url("**/care/referrals/**")
    referral = Referral.objects.get()
    assert referral.case_id == case.pk and referral.guardian_agreed and referral.status == "sent"

    # 5. The class teacher sees a neutral status: no tier, no note, no referral, no diagnosis.
    context, teacher = phone(browser)
    login(teacher, live_server, "class_teacher_a41")
    teacher.goto(f"{live_server.url}/students/{world.student_a41.uid}/")
    text = teacher.inner_text("main")
    assert teacher.locator("[data-kind=care_status]").count() == 1
    for word in ("严重", "危机", "Severe", "自伤行为", "荣昌区人民医院", "转介", "个案", "需要立即干预"):
        assert word not in text, word
    teacher.goto(f"{live_server.url}/care/attention/")
    assert "心理教师正在跟进" in teacher.inner_text("#attention") or "following up" in teacher.inner_text(
        "#attention"
    )
    context.close()
