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
from xinyu.org.models import ApiToken, LoginLock, ResetRequest, Role, RoleAssignment, User
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


class ProductionHasherTests(PersonaTestCase):
    """The suite hashes with MD5 for speed (tests/conftest.py); production keeps Django's
    PBKDF2 first. With the production list, a new password is stored as PBKDF2 and the login
    form accepts it."""

    def test_a_password_set_in_production_is_pbkdf2_and_logs_in(self) -> None:
        from django.conf import settings as django_settings

        from . import conftest

        assert conftest.PRODUCTION_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
        with self.settings(PASSWORD_HASHERS=conftest.PRODUCTION_HASHERS):
            assert django_settings.PASSWORD_HASHERS[0].endswith("PBKDF2PasswordHasher")
            services.change_own_password(user=self.w.psych_b, new_password="Tranquil-Harbor-58")
            self.w.psych_b.refresh_from_db()
            assert self.w.psych_b.password.startswith("pbkdf2_sha256$")
            response = Client().post("/login/", {"username": "psych_b", "password": "Tranquil-Harbor-58"})
            assert response.status_code == 302


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
        self.fail("grade_leader_a4", 5)
        LoginLock.objects.filter(username="grade_leader_a4").update(
            locked_until=timezone.now() - dt.timedelta(seconds=1)
        )
        assert Client().login(username="grade_leader_a4", password=PASSWORD)
        assert not LoginLock.objects.filter(username="grade_leader_a4").exists()  # success clears the count

    def test_success_resets_the_count(self) -> None:
        """For a role without a second factor; with one, only a right code clears the count
        (tests/test_twofactor.py)."""
        self.fail("grade_leader_a4", 4)
        assert Client().login(username="grade_leader_a4", password=PASSWORD)
        self.fail("grade_leader_a4", 4)
        assert Client().login(username="grade_leader_a4", password=PASSWORD)

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
    """A grade leader's account: no second factor and no second person needed (those roles
    are in ResetApprovalTests and tests/test_twofactor.py)."""

    def issue(self) -> str:
        html = self.client_for(self.w.district_admin).post(
            "/staff/", {"uid": str(self.w.grade_leader_a4.uid)}
        )
        text = html.content.decode()
        return text.split('id="temporary-password"')[1].split("<code>")[1].split("</code>")[0]

    def test_works_once_and_forces_a_change_first(self) -> None:
        password = self.issue()
        assert not Client().login(username="grade_leader_a4", password=PASSWORD)  # the old one is gone
        client = Client()
        response = client.post("/login/", {"username": "grade_leader_a4", "password": password})
        assert response.status_code == 302
        # Everything but the change page, logout and the language switch leads to the change page.
        for url in ("/", "/staff/", "/counselling/", "/messages/"):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == "/account/password/", url
        assert client.get("/api/me").status_code == 403
        page = client.get("/account/password/")
        assert page.status_code == 200 and 'id="must-change"' in page.content.decode()
        # A second login with the temporary password is refused (it worked once).
        assert not Client().login(username="grade_leader_a4", password=password)
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
        self.w.grade_leader_a4.refresh_from_db()
        assert not self.w.grade_leader_a4.must_change_password
        assert self.w.grade_leader_a4.temporary_password_expires_at is None
        assert Client().login(username="grade_leader_a4", password="Own-choice-5521")
        entry = AuditEntry.objects.filter(object_id=str(self.w.grade_leader_a4.uid)).latest("id")
        assert (entry.user, entry.detail) == (self.w.grade_leader_a4, "password changed")

    def test_logout_stays_reachable(self) -> None:
        password = self.issue()
        client = Client()
        client.post("/login/", {"username": "grade_leader_a4", "password": password})
        response = client.post("/logout/")
        assert response.status_code == 302 and response["Location"].startswith("/login")
        assert client.get("/")["Location"].startswith("/login/")

    def test_expires_after_24_hours(self) -> None:
        password = self.issue()
        User.objects.filter(pk=self.w.grade_leader_a4.pk).update(
            temporary_password_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        assert not Client().login(username="grade_leader_a4", password=password)
        self.w.grade_leader_a4.refresh_from_db()
        expires = timezone.now() + dt.timedelta(hours=24)
        self.issue()
        self.w.grade_leader_a4.refresh_from_db()
        assert self.w.grade_leader_a4.temporary_password_expires_at is not None
        assert abs((self.w.grade_leader_a4.temporary_password_expires_at - expires).total_seconds()) < 60

    def test_the_owner_is_told_in_app_and_by_sms(self) -> None:
        User.objects.filter(pk=self.w.grade_leader_a4.pk).update(phone="13900139000")
        password = self.issue()
        messages = Message.objects.filter(recipient=self.w.grade_leader_a4, kind="account")
        assert {m.channel for m in messages} == {MessageChannel.IN_APP, MessageChannel.SMS}
        for m in messages:
            assert password not in m.body + m.subject
            assert "临时密码" in m.body

    def test_without_phone_only_in_app(self) -> None:
        User.objects.filter(pk=self.w.grade_leader_a4.pk).update(phone="")
        self.issue()
        channels = list(
            Message.objects.filter(recipient=self.w.grade_leader_a4, kind="account").values_list(
                "channel", flat=True
            )
        )
        assert channels == [MessageChannel.IN_APP]

    def test_a_psych_teacher_needs_a_second_person(self) -> None:
        with pytest.raises(services.ServiceError, match="第二人"):
            services.issue_temporary_password(by=self.w.district_admin, staff=self.w.psych_b)
        assert Client().login(username="psych_b", password=PASSWORD)  # unchanged

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


class ResetApprovalTests(PersonaTestCase):
    """Two-person approval: a reset of a psych teacher's, centre expert's or school leader's
    password or second factor takes effect only after another district admin or the
    school's leader approves; the requester cannot approve their own request."""

    def setUp(self) -> None:
        self.admin2 = User.objects.create_user(username="district_admin2", password=PASSWORD)
        RoleAssignment.objects.create(user=self.admin2, role=Role.DISTRICT_ADMIN, district=self.w.district)

    def request(self, staff: User, op: str = "") -> ResetRequest:
        admin = self.client_for(self.w.district_admin)
        data = {"uid": str(staff.uid)} | ({"op": op} if op else {})
        response = admin.post("/staff/", data)
        assert response.status_code == 302 and response["Location"] == "/staff/resets/"
        return ResetRequest.objects.get(target=staff)

    def test_password_reset_waits_for_approval_then_only_the_requester_sees_it(self) -> None:
        w = self.w
        req = self.request(w.psych_a)
        assert (req.kind, req.status, req.requested_by) == ("password", "pending", w.district_admin)
        assert Client().login(username="psych_a", password=PASSWORD)  # nothing changed yet
        assert AuditEntry.objects.filter(user=w.district_admin, detail="reset requested: password").exists()
        # Those who may approve are told in-app (the other admin, the school's leader), not the
        # requester nor the account's owner.
        told = Message.objects.filter(kind="account", link="/staff/resets/")
        assert set(told.values_list("recipient__username", flat=True)) == {"district_admin2", "leader_a"}
        # The requester cannot approve it: no button, and the service refuses.
        admin = self.client_for(w.district_admin)
        page = admin.get("/staff/resets/").content.decode()
        assert f"approve-{req.uid}" not in page and f"collect-{req.uid}" not in page
        admin.post("/staff/resets/", {"uid": str(req.uid), "op": "approve"})
        req.refresh_from_db()
        assert req.status == "pending"
        with pytest.raises(services.ServiceError, match="自己"):
            services.approve_reset(by=w.district_admin, req=req)
        # The school's leader approves.
        leader = self.client_for(w.leader_a)
        assert f"approve-{req.uid}" in leader.get("/staff/resets/").content.decode()
        leader.post("/staff/resets/", {"uid": str(req.uid), "op": "approve"})
        req.refresh_from_db()
        assert (req.status, req.decided_by, req.approved_by) == ("approved", w.leader_a, w.leader_a)
        assert AuditEntry.objects.filter(user=w.leader_a, detail="reset approved: password").exists()
        assert Client().login(username="psych_a", password=PASSWORD)  # still not in effect
        # The leader never sees a password; the requester collects it once.
        assert "temporary-password" not in leader.get("/staff/resets/").content.decode()
        with pytest.raises(services.ServiceError):
            services.collect_reset(by=w.leader_a, req=req)
        html = admin.post("/staff/resets/", {"uid": str(req.uid), "op": "collect"}).content.decode()
        password = html.split('id="temporary-password"')[1].split("<code>")[1].split("</code>")[0]
        assert not Client().login(username="psych_a", password=PASSWORD)
        assert Client().login(username="psych_a", password=password)
        req.refresh_from_db()
        assert req.status == "done"
        assert Message.objects.filter(recipient=w.psych_a, kind="account").exists()  # owner told
        with pytest.raises(services.ServiceError):  # once only
            services.collect_reset(by=w.district_admin, req=req)

    def test_another_district_admin_approves_a_second_factor_reset(self) -> None:
        w = self.w
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from .personas import confirmed_device

        confirmed_device(w.centre_expert)
        req = self.request(w.centre_expert, op="second_factor")
        assert req.kind == "second_factor"
        assert TOTPDevice.objects.filter(user=w.centre_expert).exists()
        # A school leader is not the centre expert's school's leader: cannot decide.
        assert f"approve-{req.uid}" not in self.client_for(w.leader_a).get("/staff/resets/").content.decode()
        with pytest.raises(services.ServiceError):
            services.approve_reset(by=w.leader_a, req=req)
        second = self.client_for(self.admin2)
        second.post("/staff/resets/", {"uid": str(req.uid), "op": "approve"})
        req.refresh_from_db()
        assert (req.status, req.decided_by) == ("done", self.admin2)
        assert not TOTPDevice.objects.filter(user=w.centre_expert).exists()
        entry = AuditEntry.objects.filter(
            object_id=str(w.centre_expert.uid), detail="second factor reset"
        ).get()
        assert entry.user == w.district_admin  # carried out on the requester's behalf, after approval
        body = Message.objects.filter(recipient=w.centre_expert, kind="account").values_list(
            "body", flat=True
        )
        assert any("两步验证" in b for b in body)
        # Next login: enrol again.
        client = Client()
        client.post("/login/", {"username": "centre_expert", "password": PASSWORD})
        assert client.get("/account/2fa/")["Location"].startswith("/account/2fa/enrol/")

    def test_refused_and_lapsed_requests_change_nothing(self) -> None:
        w = self.w
        req = self.request(w.leader_a)
        # The leader cannot decide a request about themselves; another admin refuses it.
        assert not services_can_decide(w.leader_a, req)
        services.refuse_reset(by=self.admin2, req=req)
        req.refresh_from_db()
        assert req.status == "refused"
        with pytest.raises(services.ServiceError):
            services.approve_reset(by=self.admin2, req=req)
        assert Client().login(username="leader_a", password=PASSWORD)
        again = self.request(w.psych_b)
        ResetRequest.objects.filter(pk=again.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        with pytest.raises(services.ServiceError, match="过期"):
            services.approve_reset(by=self.admin2, req=again)

    def test_direct_reset_for_roles_without_approval(self) -> None:
        w = self.w
        assert services.issue_temporary_password(by=w.district_admin, staff=w.class_teacher_a41)
        from .personas import confirmed_device

        confirmed_device(self.admin2)
        services.reset_second_factor(by=w.district_admin, staff=self.admin2)  # admins: not two-person roles
        assert AuditEntry.objects.filter(
            object_id=str(self.admin2.uid), detail="second factor reset"
        ).exists()
        with pytest.raises(services.ServiceError):
            services.request_reset(by=w.district_admin, staff=w.class_teacher_a41, kind="password")
        with pytest.raises(services.ServiceError):  # nobody resets their own account here
            services.reset_second_factor(by=w.district_admin, staff=w.district_admin)

    def test_out_of_scope(self) -> None:
        w = self.w
        req = self.request(w.psych_b)
        # Leader of school A: school B's psych teacher is not theirs (404 + denied).
        before = AuditEntry.objects.filter(action=Action.DENIED).count()
        response = self.client_for(w.leader_a).post("/staff/resets/", {"uid": str(req.uid), "op": "approve"})
        assert response.status_code == 404
        assert AuditEntry.objects.filter(action=Action.DENIED).count() == before + 1
        for persona in (w.psych_a, w.class_teacher_a41, w.centre_expert):
            assert self.client_for(persona).get("/staff/resets/").status_code == 404
        with pytest.raises(services.ServiceError):
            services.request_reset(by=w.leader_a, staff=w.psych_a, kind="password")


def services_can_decide(user: User, req: ResetRequest) -> bool:
    from xinyu.org.access import reset_requests_to_decide

    return reset_requests_to_decide(user).filter(pk=req.pk).exists()


class ApiTokenTests(PersonaTestCase):
    def make(self, user: User) -> str:
        _token, key = services.create_api_token(by=user, name="script")
        return key

    def get_me(self, key: str) -> int:
        return Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code

    def test_tokens_expire_after_the_policy_days(self) -> None:
        key = self.make(self.w.class_teacher_a41)
        token = ApiToken.objects.get(user=self.w.class_teacher_a41)
        assert token.expires_at is not None
        assert abs((token.expires_at - timezone.now() - dt.timedelta(days=90)).total_seconds()) < 60
        assert self.get_me(key) == 200
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        assert self.get_me(key) == 401
        page = self.client_for(self.w.class_teacher_a41).get("/account/tokens/").content.decode()
        assert 'id="token-expiry"' in page and "90" in page

    def test_revoked_token_is_refused(self) -> None:
        key = self.make(self.w.psych_a)
        token = ApiToken.objects.get(user=self.w.psych_a)
        client = self.client_for(self.w.psych_a)
        client.post("/account/tokens/", {"op": "revoke", "id": token.pk})
        assert self.get_me(key) == 401
        assert AuditEntry.objects.filter(user=self.w.psych_a, detail="api token revoked").exists()

    def test_every_token_dies_with_a_password_change(self) -> None:
        keys = [self.make(self.w.psych_a), self.make(self.w.psych_a)]
        other = self.make(self.w.psych_b)
        services.change_own_password(user=self.w.psych_a, new_password="Fresh-pass-8812")
        assert [self.get_me(k) for k in keys] == [401, 401]
        assert self.get_me(other) == 200
        entry = AuditEntry.objects.filter(object_id=str(self.w.psych_a.uid)).latest("id")
        assert entry.detail == "password changed (2 api tokens revoked)"

    def test_every_token_dies_with_a_reset(self) -> None:
        key = self.make(self.w.class_teacher_a41)
        services.issue_temporary_password(by=self.w.district_admin, staff=self.w.class_teacher_a41)
        assert self.get_me(key) == 401
        assert not ApiToken.objects.filter(user=self.w.class_teacher_a41).exists()


class DeployCheckTests(PersonaTestCase):
    def errors(self) -> list[str]:
        from django.core.checks import run_checks

        return [e.msg for e in run_checks(include_deployment_checks=True) if e.id == "xinyu.E061"]

    def test_clean_database_passes(self) -> None:
        assert self.errors() == []

    def test_a_demo_login_fails_the_deploy_check(self) -> None:
        User.objects.create_user(username="psych", password="Some-Other-pass-77")
        assert self.errors() == ["Demo accounts exist: psych."]
        from django.core.management import call_command
        from django.core.management.base import SystemCheckError

        with pytest.raises(SystemCheckError, match="xinyu.E061"):
            call_command("check", "--deploy", "--tag", "security")

    def test_the_demo_password_fails_the_deploy_check(self) -> None:
        from django.contrib.auth.hashers import make_password

        shared = make_password(DEMO_PASSWORD)
        User.objects.filter(pk__in=[self.w.psych_a.pk, self.w.psych_b.pk]).update(password=shared)
        assert self.errors() == ["An account's password is the demo's default password."]

    def test_a_district_admin_with_the_demo_password_fails(self) -> None:
        self.w.district_admin.set_password(DEMO_PASSWORD)
        self.w.district_admin.save()
        assert self.errors() == ["An account's password is the demo's default password."]
