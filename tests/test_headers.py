"""Headers and defaults (issue 11 item 11): DEBUG off unless turned on, a Content-Security-Policy
without 'unsafe-inline' on every page (and no inline script or style left in any template),
`Cache-Control: no-store` on every page Django makes (static files keep caching), HSTS and
secure cookies with XINYU_SECURE=1, no server version banner behind the documented gunicorn
configuration, and path traversal under /static/ answered 404 (item 9)."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.test import Client, override_settings

from .personas import PASSWORD, PersonaTestCase
from .screening_helpers import invitation, make_campaign

BASE = Path(settings.BASE_DIR)
CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
}
# What the template scan refuses: inline script, inline style, event-handler attributes and
# javascript: URLs. A <script> is allowed only with a src (static files) — json_script's
# <script type="application/json"> is written by the filter, never by a template.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|style=|\bon[a-z]+=|javascript:", re.IGNORECASE)


def parse_csp(header: str) -> dict[str, set[str]]:
    policy: dict[str, set[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        policy[name] = set(sources)
    return policy


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("XINYU_") and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL")
    }
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE, env=env, capture_output=True, text=True, timeout=120
    )


SETTINGS_PROBE = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'xinyu.settings'; django.setup(); "
    "from django.conf import settings as s; "
    "print(s.DEBUG, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_HTTPONLY)"
)


# ---- DEBUG and the production default ---------------------------------------------------------


def test_debug_is_off_unless_explicitly_turned_on(tmp_path: Path) -> None:
    unset = run_python(SETTINGS_PROBE, clean_env(XINYU_VAR_DIR=str(tmp_path)))
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.split()[0] == "False"
    for off in ("0", "false", "", "no"):
        assert (
            run_python(
                SETTINGS_PROBE, clean_env(XINYU_VAR_DIR=str(tmp_path), XINYU_DEBUG=off)
            ).stdout.split()[0]
            == "False"
        ), off
    on = run_python(SETTINGS_PROBE, clean_env(XINYU_VAR_DIR=str(tmp_path), XINYU_DEBUG="1"))
    assert on.stdout.split()[0] == "True"


def test_unset_debug_means_production_no_key_is_invented(tmp_path: Path) -> None:
    """A forgotten XINYU_DEBUG is production: without XINYU_FIELD_KEY the server refuses to start
    (xinyu.E020) and no key file appears; XINYU_DEBUG=1 (what `make run` exports) generates one."""
    check = [sys.executable, "manage.py", "check"]
    prod = subprocess.run(
        check,
        cwd=BASE,
        env=clean_env(XINYU_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prod.returncode != 0
    assert "xinyu.E020" in prod.stderr
    assert not (tmp_path / "field.key").exists()
    dev = subprocess.run(
        check,
        cwd=BASE,
        env=clean_env(XINYU_VAR_DIR=str(tmp_path), XINYU_DEBUG="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dev.returncode == 0, dev.stderr
    assert (tmp_path / "field.key").exists()


def test_make_run_serve_and_demo_turn_debug_on_for_development() -> None:
    makefile = (BASE / "Makefile").read_text()
    assert re.search(r"^run serve demo: export XINYU_DEBUG := 1$", makefile, re.MULTILINE)
    # `make run` reaches migrate and demo as its prerequisites, which inherit the variable.
    assert re.search(r"^run: .*\bmigrate\b.*\bdemo\b.*\bserve\b", makefile, re.MULTILINE)


# ---- HSTS and secure cookies in production ------------------------------------------------------


def test_xinyu_secure_turns_on_hsts_and_secure_cookies(tmp_path: Path) -> None:
    env = clean_env(
        XINYU_VAR_DIR=str(tmp_path), XINYU_SECURE="1", XINYU_FIELD_KEY=Fernet.generate_key().decode()
    )
    result = run_python(SETTINGS_PROBE, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "31536000", "True", "True", "True", "True", "True"]
    plain = run_python(SETTINGS_PROBE, clean_env(XINYU_VAR_DIR=str(tmp_path)))
    assert plain.stdout.split()[1:6] == ["0", "False", "False", "False", "False"]


class SecureResponses(PersonaTestCase):
    @override_settings(
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        SECURE_HSTS_PRELOAD=True,
        SECURE_SSL_REDIRECT=True,
        SESSION_COOKIE_SECURE=True,
        CSRF_COOKIE_SECURE=True,
    )
    def test_https_answers_carry_hsts_and_cookies_are_secure_and_http_redirects(self) -> None:
        client = Client()
        assert client.get("/login/").status_code == 301  # plain http goes to https
        page = client.get("/login/", secure=True)
        assert page.status_code == 200
        assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert page.cookies["csrftoken"]["secure"]
        login = client.post(
            "/login/", {"username": self.w.class_teacher_a41.username, "password": PASSWORD}, secure=True
        )
        assert login.status_code == 302
        session = login.cookies[settings.SESSION_COOKIE_NAME]
        assert session["secure"] and session["httponly"]


# ---- Content-Security-Policy and no-store -------------------------------------------------------


def test_the_policy_has_no_unsafe_anything() -> None:
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    flat = " ".join(str(s) for sources in directives.values() for s in sources)
    assert "unsafe" not in flat  # neither 'unsafe-inline' nor 'unsafe-eval'
    assert "*" not in flat


def test_no_template_holds_inline_script_style_or_handlers() -> None:
    found = []
    for path in sorted((BASE / "xinyu").rglob("templates/**/*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if INLINE.search(line):
                found.append(f"{path.relative_to(BASE)}:{number}: {line.strip()[:120]}")
    assert not found, "inline script/style in templates:\n" + "\n".join(found)


def test_the_scan_finds_what_it_must() -> None:
    for bad in (
        "<script>alert(1)</script>",
        '<p style="color:red">',
        "<style>p{}</style>",
        '<button onclick="x()">',
        '<form onsubmit="x()">',
        '<a href="javascript:x()">',
        '<script type="module">',
    ):
        assert INLINE.search(bad), bad
    assert not INLINE.search("<script src=\"{% static 'web/app.js' %}\" defer></script>")
    assert not INLINE.search('{{ rows|json_script:"cluster-data" }}')


class PagesWithIndividualData(PersonaTestCase):
    def assert_headers(self, response, where: str) -> None:  # type: ignore[no-untyped-def]
        assert response.status_code < 500, where
        assert parse_csp(response["Content-Security-Policy"]) == CSP, where
        cache = {d.strip() for d in response["Cache-Control"].split(",")}
        assert "no-store" in cache and "private" in cache, (where, response["Cache-Control"])

    def test_staff_pages_public_code_pages_and_the_api_are_no_store_with_the_policy(self) -> None:
        w = self.w
        campaign = make_campaign(w)
        inv = invitation(campaign, w.student_a41)
        teacher = self.client_for(w.class_teacher_a41)
        from xinyu.org.services import create_api_token

        _, key = create_api_token(by=w.class_teacher_a41, name="headers")
        pages = {
            "home (class teacher)": teacher.get("/"),
            "student page": teacher.get(f"/students/{w.student_a41.uid}/"),
            "student code": Client().get(f"/s/{inv.code}/"),
            "code form": Client().get("/s/"),
            "guardian link": Client().get(f"/g/{inv.guardian_token}/"),
            "mailbox": Client().get(f"/mailbox/{w.school_a.code}/"),
            "mailbox reply code": Client().get("/mailbox/read/"),
            "booking code (unknown room)": Client().get("/room/NOPE/"),
            "login": Client().get("/login/"),
            "not found": Client().get("/no-such-page/"),
        }
        for where, response in pages.items():
            self.assert_headers(response, where)
        assert pages["student page"].status_code == 200
        assert pages["student code"].status_code == 200
        assert pages["guardian link"].status_code == 200
        api = Client().get("/api/me", headers={"Authorization": f"Bearer {key}"})
        assert api.status_code == 200
        assert "no-store" in api["Cache-Control"]

    def test_static_files_keep_their_cache_and_skip_the_page_headers(self) -> None:
        with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
            response = Client().get("/static/web/app.css")
            assert response.status_code == 200
            assert "no-store" not in response.get("Cache-Control", "")
            assert "max-age" in response["Cache-Control"]
            b"".join(response.streaming_content)  # type: ignore[attr-defined]


# ---- Path traversal (item 9) --------------------------------------------------------------------

TRAVERSALS = [
    "/static/../",
    "/static/..%2f..%2fsettings.py",
    "/static/%2e%2e/%2e%2e/manage.py",
    "/static/web/../../../settings.py",
    "/static/web/..%2f..%2f..%2fcrypto.py",
    "/media/../",
    "/media/..%2f..%2fmanage.py",
]


def wsgi_get(app, path: str) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """One GET through a WSGI application the way a server passes it (PATH_INFO unquoted)."""
    from urllib.parse import unquote

    raw_path = path
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": unquote(raw_path),
        "RAW_URI": raw_path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    answer: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    # Keep the test's connection open, as Django's test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = app(environ, start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return str(answer["status"]), answer["headers"]  # type: ignore[return-value]


@pytest.mark.django_db
@override_settings(DEBUG=True, WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_traversal_under_static_is_404_through_runserver_handler() -> None:
    """`make run` serves through runserver: its handler (WhiteNoise's, by
    whitenoise.runserver_nostatic) answers 404 where django.contrib.staticfiles' raised
    SuspiciousFileOperation (a 500) before."""
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["runserver"], "runserver")
    options = vars(command.create_parser("manage.py", "runserver").parse_args([]))  # `make serve`
    assert options["use_static_handler"] is False
    handler = command.get_handler(**options)
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.handlers.wsgi import WSGIHandler

    assert not isinstance(handler, StaticFilesHandler)  # the handler that answered 500
    for path in TRAVERSALS:
        status, _ = wsgi_get(handler, path)
        assert status.startswith("404"), (path, status)
    # Static files are still served in development, by WhiteNoise (a fresh app: the one above
    # may have been loaded before this test's settings).
    status, headers = wsgi_get(WSGIHandler(), "/static/web/app.css")
    assert status.startswith("200") and "no-store" not in headers.get("Cache-Control", "")


@pytest.mark.django_db
def test_traversal_under_static_is_404_through_the_production_app() -> None:
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    for path in TRAVERSALS:
        status, headers = wsgi_get(app, path)
        assert status.startswith("404"), (path, status)
        assert "no-store" in headers["Cache-Control"]


# ---- The documented deployment: gunicorn's configuration ----------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_config_sends_no_server_banner(tmp_path: Path) -> None:
    """deploy/gunicorn.conf.py: no `Server: gunicorn` (nor any version) on answers; nginx's
    documented site (deploy/nginx.conf) has `server_tokens off` and hides the upstream header."""
    nginx = (BASE / "deploy" / "nginx.conf").read_text()
    assert re.search(r"^\s*server_tokens off;", nginx, re.MULTILINE)
    assert re.search(r"^\s*proxy_hide_header Server;", nginx, re.MULTILINE)
    port = free_port()
    env = clean_env(
        XINYU_VAR_DIR=str(tmp_path),
        XINYU_FIELD_KEY=Fernet.generate_key().decode(),
        XINYU_SECRET_KEY="s" * 60,
        XINYU_GUNICORN_BIND=f"127.0.0.1:{port}",
        XINYU_GUNICORN_WORKERS="1",
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "-c", "deploy/gunicorn.conf.py", "xinyu.wsgi"],
        cwd=BASE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        for path, status in (("/healthz", 200), ("/static/../", 404), ("/static/..%2f..%2fsettings.py", 404)):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": "localhost"})
            try:
                response = urllib.request.urlopen(request, timeout=30)
                code, headers = response.status, response.headers
            except urllib.error.HTTPError as error:
                code, headers = error.code, error.headers
            assert code == status, (path, code)
            assert "gunicorn" not in (headers.get("Server") or "").lower(), headers.get("Server")
            assert not re.search(r"\d", headers.get("Server") or ""), headers.get("Server")
            assert "no-store" in headers["Cache-Control"]
    finally:
        server.terminate()
        server.wait(timeout=30)


# ---- The browser harness fails tests on CSP violations -----------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_browser_harness_records_csp_violations(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """A page served with the project's policy and an inline script and style: the harness of
    tests/conftest.py records both refusals (and would fail the test); a real page records none."""
    from . import conftest

    header = Client().get("/login/")["Content-Security-Policy"]
    page.route(
        f"{live_server.url}/csp-probe/",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": header},
            body="<!doctype html><p style='color:red'>x</p><script>document.title='ran'</script>",
        ),
    )
    page.goto(f"{live_server.url}/csp-probe/")
    page.wait_for_timeout(200)
    assert page.title() != "ran"  # the inline script did not run
    assert any("script-src" in v for v in conftest.CSP_VIOLATIONS), conftest.CSP_VIOLATIONS
    assert any("style-src" in v for v in conftest.CSP_VIOLATIONS), conftest.CSP_VIOLATIONS
    conftest.CSP_VIOLATIONS.clear()
    page.goto(f"{live_server.url}/login/")
    page.wait_for_timeout(200)
    assert conftest.CSP_VIOLATIONS == []
