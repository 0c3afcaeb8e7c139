"""The second factor in a real browser on a phone (iPhone-size viewport): a psych teacher
enrols TOTP at first login (the key read from the page, the code computed with django-otp's
own TOTP, as an authenticator app would), sees the ten recovery codes, logs out, and logs in
again with a code."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinyu.org.models import User

from .personas import PASSWORD, build_world, otp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_psych_teacher_enrols_on_a_phone_then_logs_in_with_a_code(phone_page, live_server) -> None:  # type: ignore[no-untyped-def]
    build_world()
    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "psych_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/account/2fa/enrol/**")
    # The QR code is an image (a data: URI, no script) that fits the phone's width.
    qr = page.locator("#otp-qr")
    assert qr.is_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    box = qr.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    secret = page.inner_text("#otp-secret").replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("#otp-code", f"{TOTP(key).token():06d}")
    page.click("#otp-submit")
    page.wait_for_selector("#recovery-codes")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    page.click("#otp-continue")
    page.wait_for_url(f"{live_server.url}/")
    assert "甲小学" in page.inner_text("main") + page.inner_text("header")

    page.click("header form[action='/logout/'] button")
    page.wait_for_url(f"{live_server.url}/login/**")
    page.fill("input[name=username]", "psych_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/account/2fa/**")
    assert "enrol" not in page.url and page.locator("#otp-qr").count() == 0
    # A wrong code first: refused, the page says so.
    page.fill("#otp-code", "000000")
    page.click("#otp-submit")
    page.wait_for_selector("#otp-error")
    device = TOTPDevice.objects.get(user=User.objects.get(username="psych_a"), confirmed=True)
    page.fill("#otp-code", otp_code(device))
    page.click("#otp-submit")
    page.wait_for_url(f"{live_server.url}/")
    assert "甲小学" in page.inner_text("main") + page.inner_text("header")
