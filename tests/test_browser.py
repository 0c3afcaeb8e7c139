"""Real-browser tests: Playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

import pytest

from .personas import PASSWORD, build_world, confirmed_device, otp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    """The login form, then (for the roles that need one) the second factor with the code of
    the user's TOTP device (made as if enrolled), computed like an authenticator app."""
    from xinyu.org import twofactor
    from xinyu.org.models import User

    user = User.objects.get(username=username)
    device = confirmed_device(user) if twofactor.needs_otp(user) else None
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if device is not None:
        page.wait_for_url(f"{live_server.url}/account/2fa/**")
        page.fill("#otp-code", otp_code(device))
        page.click("#otp-submit")
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


def test_the_district_home_draws_the_cluster_chart_from_its_panel(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """The students-per-cluster panel brings its own script (the home page knows no panel)."""
    build_world()
    login(page, live_server, "district_admin")
    page.wait_for_selector("#cluster-chart canvas")
    assert page.locator("#by-cluster").count() == 1 and page.locator("#act-first").count() == 1


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
    # the class's link (the home-visit panel names the class too, and links to its record page)
    page.locator("a:has-text('四年级1班'):not([href*='/homevisits/'])").first.click()
    page.click("text=张小明")
    assert "13800138000" in page.inner_text("#guardians")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1  # no sideways scrolling
    page.click("button:has-text('English')")
    assert "Guardians" in page.inner_text("main")
    assert world.student_a41.student_no in page.inner_text("h1")


ROSTER_HEADER = "学校代码,年级,班级,学籍号,姓名,性别,出生日期,监护人姓名,监护人电话\n"


def test_import_with_one_bad_row_lists_it_and_writes_nothing(page, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from xinyu.audit.models import AuditEntry
    from xinyu.org.models import Student

    build_world()
    students_before = Student.objects.count()
    audit_before = AuditEntry.objects.exclude(action="denied").count()
    bad = tmp_path / "名单.csv"
    bad.write_text(
        ROSTER_HEADER
        + "A001,四年级,1班,G500153201503050013,陈一,男,2015-03-05,陈父,13900001111\n"
        + "A001,四年级,1班,G500153201503060014,陈二,女,2015-13-06,陈母,13900002222\n",
        encoding="utf-8",
    )
    login(page, live_server, "psych_a")
    page.goto(f"{live_server.url}/roster/")
    page.select_option("select[name=kind]", "students")
    page.set_input_files("input[name=file]", str(bad))
    page.click("button.btn-primary")
    errors = page.inner_text("table.error-list")
    assert "3" in errors and "出生日期" in errors  # row 3 (header is row 1), the date column
    assert "2015-13-06" in errors
    assert "写入" in page.inner_text("main") or "Nothing has been written" in page.inner_text("main")
    assert page.locator("text=确认导入").count() + page.locator("text=Confirm import").count() == 0
    assert Student.objects.count() == students_before
    assert (
        AuditEntry.objects.exclude(action="denied").filter(action__in=["create", "update"]).count()
        <= audit_before
    )

    good = tmp_path / "名单2.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace("2015-13-06", "2015-12-06"), encoding="utf-8")
    page.goto(f"{live_server.url}/roster/")
    page.select_option("select[name=kind]", "students")
    page.set_input_files("input[name=file]", str(good))
    page.click("button.btn-primary")
    assert page.inner_text(".count-create").strip() == "2"
    page.click("form[action$='/apply/'] button")
    page.wait_for_load_state()
    assert Student.objects.count() == students_before + 2
    assert Student.objects.get(student_no="G500153201503060014").school_class.number == 1
