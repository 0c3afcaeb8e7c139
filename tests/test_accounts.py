"""Accounts per 等保 level 3 (issue 11 item 2): password policy, lockout, temporary passwords
with a forced change, and session limits."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from xinyu.audit.models import Action, AuditEntry
from xinyu.notify.models import Message, MessageChannel
from xinyu.org import auth, services
from xinyu.org.demo import DEMO_PASSWORD
from xinyu.org.models import LoginLock, User
from xinyu.web import middleware

from .personas import PASSWORD, PersonaTestCase


def refused(password: str) -> list[str]:
    try:
        validate_password(password)
    except ValidationError as exc:
        return [e.code or "" for e in exc.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1-short", "password_too_short"),
        ("alllowercaseletters", "password_too_simple"),
        ("lowercase1234", "password_too_simple"),
        ("xinyu2026", "password_too_short"),
        ("Xinyu@2026!", "password_product_name"),
        ("XINYU-2026-2027", "password_product_name"),
        ("xinyuxinyu#2026", "password_product_name"),
        ("Password123!", "password_product_name"),
        ("Qwerty12345", "password_too_common"),
        ("1Q2w3e4r5t", "password_too_common"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    assert code in refused(password)


def test_xinyu2026_is_refused_on_every_count() -> None:
    assert set(refused("xinyu2026")) >= {"password_too_short", "password_too_simple", "password_product_name"}


@pytest.mark.parametrize("password", ["Xy-new-pass-7731", "correct Horse 42", "栀子花开-Spring-9"])
def test_strong_passwords_pass(password: str) -> None:
    assert refused(password) == []


def test_messages_are_in_chinese_and_english() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_password("xinyu2026")
    for message in exc.value.messages:
        assert "/ " in message and any("\u4e00" <= c <= "\u9fff" for c in message), message


def test_demo_and_persona_passwords_meet_the_policy() -> None:
    """They are set directly, but would pass the validators too."""
    assert refused(DEMO_PASSWORD) == []
    assert refused(PASSWORD) == []


def test_temporary_passwords_meet_the_policy() -> None:
    for _ in range(50):
        assert refused(services._temporary_password()) == []


class LockoutTests(PersonaTestCase):
    def fail(self, username: str, times: int = 1) -> str:
        html = ""
        for _ in range(times):
            html = (
                Client()
                .post("/login/", {"username": username, "password": "wrong-password"})
                .content.decode()
            )
        return html

    def test_five_failures_lock_the_account_even_with_the_right_password(self) -> None:
        html = self.fail("psych_a", 4)
        assert "用户名或密码错误" in html and 'id="login-locked"' not in html
        assert Client().login(username="psych_a", password=PASSWORD)  # 4 failures: still fine
        self.fail("psych_a", 5)
        response = Client().post("/login/", {"username": "psych_a", "password": PASSWORD})
        assert response.status_code == 200 and 'id="login-locked"' in response.content.decode()
        assert authenticate(username="psych_a", password=PASSWORD) is None
        lock = LoginLock.objects.get(username="psych_a")
        assert lock.locked_until is not None
        assert dt.timedelta(minutes=29) < lock.locked_until - timezone.now() <= dt.timedelta(minutes=30)

    def test_twenty_wrong_then_right_is_refused(self) -> None:
        self.fail("psych_a", 20)
        assert not Client().login(username="psych_a", password=PASSWORD)

    def test_lock_runs_out_after_thirty_minutes(self) -> None:
        self.fail("psych_a", 5)
        LoginLock.objects.filter(username="psych_a").update(
            locked_until=timezone.now() - dt.timedelta(seconds=1)
        )
        assert Client().login(username="psych_a", password=PASSWORD)
        assert not LoginLock.objects.filter(username="psych_a").exists()  # success clears the count

    def test_success_resets_the_count(self) -> None:
        self.fail("psych_a", 4)
        assert Client().login(username="psych_a", password=PASSWORD)
        self.fail("psych_a", 4)
        assert Client().login(username="psych_a", password=PASSWORD)

    def test_the_answer_never_tells_whether_the_user_exists(self) -> None:
        for username in ("psych_a", "no_such_user"):
            first = self.fail(username)
            assert "用户名或密码错误" in first
            locked = self.fail(username, 5)
            assert 'id="login-locked"' in locked, username
        assert LoginLock.objects.filter(username="no_such_user", locked_until__isnull=False).exists()

    def test_lock_is_per_account(self) -> None:
        self.fail("psych_a", 5)
        assert Client().login(username="psych_b", password=PASSWORD)
        self.fail("PSYCH_A", 1)  # another spelling counts for the same user name
        assert LoginLock.objects.get(username="psych_a").failures == 5

    def test_district_admin_unlocks_audited(self) -> None:
        w = self.w
        self.fail("psych_b", 5)
        admin = self.client_for(w.district_admin)
        html = admin.get("/staff/").content.decode()
        assert f'id="locked-{w.psych_b.uid}"' in html
        response = admin.post("/staff/", {"uid": str(w.psych_b.uid), "op": "unlock"})
        assert response.status_code == 200 and 'id="temporary-password"' not in response.content.decode()
        assert Client().login(username="psych_b", password=PASSWORD)
        entry = AuditEntry.objects.filter(object_id=str(w.psych_b.uid)).latest("id")
        assert (entry.action, entry.user, entry.detail) == (Action.UPDATE, w.district_admin, "login unlocked")

    def test_unlock_out_of_scope(self) -> None:
        w = self.w
        self.fail("psych_a", 5)
        client = self.client_for(w.leader_a)
        response = client.post("/staff/", {"uid": str(w.psych_a.uid), "op": "unlock"})
        assert response.status_code == 404
        assert auth.locked_until("psych_a") is not None
        assert AuditEntry.objects.filter(action=Action.DENIED, user=w.leader_a).exists()
        with pytest.raises(services.ServiceError):
            services.unlock_account(by=w.psych_b, staff=w.psych_a)


class TemporaryPasswordTests(PersonaTestCase):
    def issue(self) -> str:
        html = self.client_for(self.w.district_admin).post("/staff/", {"uid": str(self.w.psych_b.uid)})
        text = html.content.decode()
        return text.split('id="temporary-password"')[1].split("<code>")[1].split("</code>")[0]

    def test_works_once_and_forces_a_change_first(self) -> None:
        password = self.issue()
        assert not Client().login(username="psych_b", password=PASSWORD)  # the old one is gone
        client = Client()
        response = client.post("/login/", {"username": "psych_b", "password": password})
        assert response.status_code == 302
        # Everything but the change page, logout and the language switch leads to the change page.
        for url in ("/", "/staff/", "/counselling/", "/messages/"):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == "/account/password/", url
        assert client.get("/api/me").status_code == 403
        page = client.get("/account/password/")
        assert page.status_code == 200 and 'id="must-change"' in page.content.decode()
        # A second login with the temporary password is refused (it worked once).
        assert not Client().login(username="psych_b", password=password)
        # The new password must meet the policy.
        weak = client.post(
            "/account/password/",
            {"old_password": password, "new_password1": "xinyu2026", "new_password2": "xinyu2026"},
        )
        assert weak.status_code == 200 and "/ The password" in weak.content.decode()
        done = client.post(
            "/account/password/",
            {
                "old_password": password,
                "new_password1": "Own-choice-5521",
                "new_password2": "Own-choice-5521",
            },
        )
        assert done.status_code == 302 and done["Location"] == "/"
        assert client.get("/").status_code == 200  # the same session goes on
        self.w.psych_b.refresh_from_db()
        assert not self.w.psych_b.must_change_password
        assert self.w.psych_b.temporary_password_expires_at is None
        assert Client().login(username="psych_b", password="Own-choice-5521")
        entry = AuditEntry.objects.filter(object_id=str(self.w.psych_b.uid)).latest("id")
        assert (entry.user, entry.detail) == (self.w.psych_b, "password changed")

    def test_logout_stays_reachable(self) -> None:
        password = self.issue()
        client = Client()
        client.post("/login/", {"username": "psych_b", "password": password})
        response = client.post("/logout/")
        assert response.status_code == 302 and response["Location"].startswith("/login")
        assert client.get("/")["Location"].startswith("/login/")

    def test_expires_after_24_hours(self) -> None:
        password = self.issue()
        User.objects.filter(pk=self.w.psych_b.pk).update(
            temporary_password_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        assert not Client().login(username="psych_b", password=password)
        self.w.psych_b.refresh_from_db()
        expires = timezone.now() + dt.timedelta(hours=24)
        self.issue()
        self.w.psych_b.refresh_from_db()
        assert self.w.psych_b.temporary_password_expires_at is not None
        assert abs((self.w.psych_b.temporary_password_expires_at - expires).total_seconds()) < 60

    def test_the_owner_is_told_in_app_and_by_sms(self) -> None:
        User.objects.filter(pk=self.w.psych_b.pk).update(phone="13900139000")
        password = self.issue()
        messages = Message.objects.filter(recipient=self.w.psych_b, kind="account")
        assert {m.channel for m in messages} == {MessageChannel.IN_APP, MessageChannel.SMS}
        for m in messages:
            assert password not in m.body + m.subject
            assert "临时密码" in m.body

    def test_without_phone_only_in_app(self) -> None:
        User.objects.filter(pk=self.w.psych_b.pk).update(phone="")
        self.issue()
        channels = list(
            Message.objects.filter(recipient=self.w.psych_b, kind="account").values_list("channel", flat=True)
        )
        assert channels == [MessageChannel.IN_APP]

    def test_the_new_password_must_differ(self) -> None:
        with pytest.raises(services.ServiceError):
            services.change_own_password(user=self.w.psych_a, new_password=PASSWORD)


class SessionTests(PersonaTestCase):
    def age(self, client: Client, **seconds: int) -> None:
        session = client.session
        for key, ago in seconds.items():
            session[key] = int(time.time()) - ago
        session.save()

    def test_login_stores_times_and_idle_limit(self) -> None:
        client = self.client_for(self.w.psych_a)
        assert client.session[middleware.SESSION_IDLE] == 30 * 60
        admin = self.client_for(self.w.district_admin)
        assert admin.session[middleware.SESSION_IDLE] == 15 * 60
        assert client.session[middleware.SESSION_LOGIN_AT] <= time.time()

    def test_idle_30_minutes_ends_the_session(self) -> None:
        client = self.client_for(self.w.psych_a)
        self.age(client, xy_seen_at=29 * 60)
        assert client.get("/").status_code == 200
        self.age(client, xy_seen_at=30 * 60)
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert 'id="session-expired"' in client.get("/login/").content.decode()
        assert client.get("/")["Location"].startswith("/login/")

    def test_idle_15_minutes_for_district_admins(self) -> None:
        admin = self.client_for(self.w.district_admin)
        self.age(admin, xy_seen_at=14 * 60)
        assert admin.get("/").status_code == 200
        self.age(admin, xy_seen_at=15 * 60)
        assert admin.get("/").status_code == 302
        psych = self.client_for(self.w.psych_a)
        self.age(psych, xy_seen_at=15 * 60)
        assert psych.get("/").status_code == 200

    def test_activity_keeps_it_alive_but_not_past_12_hours(self) -> None:
        client = self.client_for(self.w.psych_a)
        self.age(client, xy_login_at=11 * 3600, xy_seen_at=120)
        assert client.get("/").status_code == 200
        assert time.time() - client.session[middleware.SESSION_SEEN_AT] < 5  # activity recorded
        self.age(client, xy_login_at=12 * 3600, xy_seen_at=10)
        assert client.get("/").status_code == 302

    def test_api_session_expires_as_json(self) -> None:
        client = self.client_for(self.w.psych_a)
        self.age(client, xy_seen_at=31 * 60)
        response = client.get("/api/me")
        assert response.status_code == 401

    def test_public_pages_are_untouched(self) -> None:
        client = self.client_for(self.w.psych_a)
        self.age(client, xy_seen_at=31 * 60)
        assert client.get("/login/").status_code == 200
        assert client.session.get(middleware.SESSION_LOGIN_AT) is not None  # not logged out there
