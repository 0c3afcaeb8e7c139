"""The mailbox in a real browser (Playwright + Debian's Chromium): a student writes an
anonymous letter on a 375×667 phone and is shown a retrieval code; the psych teacher finds
it on their home page and replies; the student reads the reply with the code on a phone."""

from __future__ import annotations

import pytest

from .personas import build_world
from .test_browser import login
from .test_browser_screening import phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_anonymous_letter_code_reply_and_reading_it_on_a_phone(browser, page, live_server) -> None:  # type: ignore[no-untyped-def]
    from xinyu.mailbox.models import Letter

    world = build_world()

    # 1. The student writes anonymously from the school's mailbox page, on a phone.
    context, student = phone(browser)
    student.goto(f"{live_server.url}/mailbox/{world.school_a.code}/")
    student.fill("#body", "最近和好朋友闹矛盾了，很难过，不知道怎么和她和好。")
    assert student.is_checked("[data-testid=anonymous]")
    student.click("[data-testid=send]")
    code = student.inner_text("[data-testid=retrieval-code]").strip()
    assert len(code) == 14
    assert "12355" in student.inner_text("[data-testid=help]")
    assert student.evaluate("document.documentElement.scrollWidth") <= 376
    assert student.locator("[data-testid=send]").count() == 0  # a confirmation, not the form again
    context.close()
    letter = Letter.objects.get()
    assert letter.signature == "anonymous" and letter.student is None

    # 2. The psych teacher sees it awaiting reply on the home page and answers.
    login(page, live_server, "psych_a")
    page.click("[data-list=letters-awaiting] a")
    assert "闹矛盾" in page.inner_text("[data-testid=letter-body]")
    page.fill("#reply-body", "谢谢你愿意写信。欢迎周三下午来心理辅导室聊聊。")
    page.click("[data-testid=reply-form] button")
    page.wait_for_selector(".msg-success")
    page.goto(f"{live_server.url}/")
    assert page.locator("[data-list=letters-awaiting] a").count() == 0  # answered: off the list

    # 3. Later, on a phone, the student reads the reply with the code.
    context, student = phone(browser)
    student.goto(f"{live_server.url}/mailbox/read/")
    student.fill("#code", code.lower())
    student.click("[data-testid=read]")
    assert "闹矛盾" in student.inner_text("[data-testid=my-letter]")
    assert "欢迎周三下午来心理辅导室聊聊" in student.inner_text("[data-testid=reply]")
    assert student.evaluate("document.documentElement.scrollWidth") <= 376
    context.close()
    assert letter.replies.get().read_at is not None
