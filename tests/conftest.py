from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")  # Playwright's sync API runs an event loop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# Content-Security-Policy violations fail the browser test that caused them (issue 11 item 11):
# every context the browser opens (the fixtures' and the tests' own) reports Chromium's
# "Refused to ..." console errors and each securitypolicyviolation event (init scripts are not
# subject to the policy) into CSP_VIOLATIONS, which `_no_csp_violations` checks after each test.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: Refused to " + e.violatedDirective + " " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""
CSP_VIOLATIONS: list[str] = []


def _watch_csp(context) -> None:  # type: ignore[no-untyped-def]
    context.add_init_script(CSP_REPORTER)

    def on_console(msg) -> None:  # type: ignore[no-untyped-def]
        text = msg.text
        if "Refused to" in text or "Content Security Policy" in text:
            CSP_VIOLATIONS.append(f"{msg.page.url if msg.page else '?'}: {text}")

    context.on("console", on_console)


@pytest.fixture(autouse=True)
def _no_csp_violations() -> Iterator[None]:
    CSP_VIOLATIONS.clear()
    yield
    found, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser build)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run `make test` (it installs it).")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        new_context = browser.new_context

        def watched_context(*args, **kwargs):  # type: ignore[no-untyped-def]
            context = new_context(*args, **kwargs)
            _watch_csp(context)
            return context

        browser.new_context = watched_context  # type: ignore[method-assign]
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture(autouse=True, scope="session")
def _audit_flush_allowed() -> None:
    """Transactional tests end with a flush (DELETE FROM), which the audit triggers allow in
    test runs only (xinyu/audit/chain.py FLUSH_ALLOWED)."""
    from xinyu.audit import chain

    chain.FLUSH_ALLOWED = True


# The production hashers (PBKDF2 first, 1,000,000 iterations: ~0.4 s a password here) stay in
# xinyu/settings.py; tests hash with MD5, as Django's "Speeding up the tests" advises, since
# the suite creates thousands of accounts and logs in hundreds of times. The one test that
# needs the real hasher (tests/test_accounts.py, PRODUCTION_HASHERS) overrides it back.
PRODUCTION_HASHERS: list[str] = []


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher() -> None:
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    if not PRODUCTION_HASHERS:
        PRODUCTION_HASHERS.extend(settings.PASSWORD_HASHERS)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()
