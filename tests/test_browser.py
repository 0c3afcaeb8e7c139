"""Real-browser tests: Playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

import pytest

from .personas import PASSWORD, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize(
    ("username", "must_show", "must_not_show"),
    [
        ("district_admin", ["甲小学", "乙小学", "审计日志"], []),
        ("centre_expert", ["乙小学"], ["审计日志"]),
        ("leader_a", ["甲小学"], ["乙小学", "审计日志"]),
        ("psych_a", ["甲小学", "预警"], ["乙小学"]),
        ("grade_leader_a4", ["四年级1班", "四年级2班"], ["乙小学", "初一"]),
        ("class_teacher_a41", ["四年级1班"], ["四年级2班", "乙小学"]),
    ],
)
def test_each_role_logs_in_and_sees_its_home(page, live_server, username, must_show, must_not_show) -> None:  # type: ignore[no-untyped-def]
    build_world()
    login(page, live_server, username)
    body = page.inner_text("main") + page.inner_text("header")
    for text in must_show:
        assert text in body, (username, text)
    for text in must_not_show:
        assert text not in body, (username, text)


def test_wrong_password_shows_message(page, live_server) -> None:  # type: ignore[no-untyped-def]
    build_world()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "psych_a")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("main")


def test_class_teacher_on_phone_opens_student_and_switches_language(phone_page, live_server) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    page = phone_page
    login(page, live_server, "class_teacher_a41")
    page.click("text=四年级1班")
    page.click("text=张小明")
    assert "13800138000" in page.inner_text("#guardians")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1  # no sideways scrolling
    page.click("button:has-text('English')")
    assert "Guardians" in page.inner_text("main")
    assert world.student_a41.student_no in page.inner_text("h1")
