"""The second factor (issue 11 item 2, 等保 level 3 / GB/T 22239-2019 8.1.4.1): TOTP required
after the password for psych teachers, centre experts, school leaders and district admins,
enrolment with a QR code and ten recovery codes, wrong codes counted toward the lockout."""

from __future__ import annotations

import re

from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinyu.audit.models import AuditEntry
from xinyu.org import auth, twofactor
from xinyu.org.models import LoginLock, User
from xinyu.org.policy_sections import check_accounts

from .personas import PASSWORD, PersonaTestCase, confirmed_device, otp_code


def password_login(username: str) -> tuple[Client, str]:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client, response["Location"]


def enrol(client: Client, user: User) -> list[str]:
    """Through the enrolment page, with the code the new device shows."""
    page = client.get("/account/2fa/enrol/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/account/2fa/enrol/", {"code": otp_code(device), "next": "/"})
    html = response.content.decode()
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", html)


def failures(username: str) -> int:
    lock = LoginLock.objects.filter(username=username).first()
    return lock.failures if lock else 0


class WhoNeedsIt(PersonaTestCase):
    def test_roles_from_policy(self) -> None:
        w = self.w
        needs = {u.username for u in User.objects.all() if twofactor.needs_otp(u)}
        assert needs == {"district_admin", "centre_expert", "leader_a", "psych_a", "psych_b"}
        assert set(twofactor.accounts_policy()["otp_roles"]) == {
            "psych_teacher",
            "centre_expert",
            "school_leader",
            "district_admin",
        }
        assert not twofactor.needs_otp(w.class_teacher_a41) and not twofactor.needs_otp(w.grade_leader_a4)

    def test_policy_check_refuses_dropping_a_role(self) -> None:
        policy = {"accounts": dict(twofactor.accounts_policy())}
        assert list(check_accounts("default", policy)) == []
        policy["accounts"]["otp_roles"] = ["psych_teacher"]
        problems = list(check_accounts("x", policy))
        assert any("otp_roles must include" in p and "district_admin" in p for p in problems)

    def test_psych_teacher_without_device_is_sent_to_enrolment(self) -> None:
        client, location = password_login("psych_a")
        assert location == "/"
        home = client.get("/")
        assert home.status_code == 302 and home["Location"].startswith("/account/2fa/")
        assert client.get(home["Location"])["Location"].startswith("/account/2fa/enrol/")
        # Every page with individual data waits for the second factor, the API too.
        student = client.get(f"/students/{self.w.student_a41.uid}/")
        assert student.status_code == 302 and student["Location"].startswith("/account/2fa/")
        api = client.get("/api/me")
        assert api.status_code == 403
        # ... with the declared error body (kernel.api.ApiError), in both languages.
        assert api.json() == {"message": "请先完成两步验证 / Second factor required", "errors": []}
        assert client.get("/account/password/").status_code == 302  # not even the password page

    def test_class_teacher_needs_no_second_factor(self) -> None:
        client, _ = password_login("class_teacher_a41")
        assert client.get("/").status_code == 200
        assert client.get(f"/students/{self.w.student_a41.uid}/").status_code == 200
        assert not TOTPDevice.objects.filter(user=self.w.class_teacher_a41).exists()
        # The second-factor pages are not theirs (404 + denied), so no half-used device exists.
        for url in ("/account/2fa/", "/account/2fa/enrol/", "/account/2fa/recovery/"):
            assert client.get(url).status_code == 404, url
        assert not TOTPDevice.objects.filter(user=self.w.class_teacher_a41).exists()

    def test_each_required_role_is_stopped(self) -> None:
        for user in (self.w.district_admin, self.w.centre_expert, self.w.leader_a, self.w.psych_b):
            client, _ = password_login(user.username)
            assert client.get("/").status_code == 302, user.username
            verified = self.client_for(user)  # the personas' client passes a real device
            assert verified.get("/").status_code == 200, user.username


class Enrolment(PersonaTestCase):
    def test_enrol_shows_qr_and_key_then_ten_codes_once(self) -> None:
        w = self.w
        client, _ = password_login("psych_a")
        page = client.get("/account/2fa/enrol/").content.decode()
        assert 'src="data:image/svg+xml' in page and 'id="otp-secret"' in page
        assert "<script" not in page.split("<main", 1)[1] and "style=" not in page
        device = TOTPDevice.objects.get(user=w.psych_a, confirmed=False)
        secret = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', page).group(1)  # type: ignore[union-attr]
        assert secret.replace(" ", "") == twofactor.secret_base32(device).replace(" ", "")
        # Reloading shows the same key (same unconfirmed device).
        assert secret in client.get("/account/2fa/enrol/").content.decode()
        codes = enrol(client, w.psych_a)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert TOTPDevice.objects.get(user=w.psych_a).confirmed
        assert client.get("/").status_code == 200
        assert AuditEntry.objects.filter(user=w.psych_a, detail="second factor enrolled").count() == 1
        # The codes are stored as digests only.
        stored = set(StaticToken.objects.filter(device__user=w.psych_a).values_list("token", flat=True))
        assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes}
        # Once enrolled, the enrolment page no longer offers a new key.
        assert client.get("/account/2fa/enrol/")["Location"] == "/account/2fa/"

    def test_wrong_enrolment_code_is_refused_and_counted(self) -> None:
        client, _ = password_login("leader_a")
        client.get("/account/2fa/enrol/")
        response = client.post("/account/2fa/enrol/", {"code": "000000"})
        assert "验证码不正确" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=self.w.leader_a, confirmed=True).exists()
        assert failures("leader_a") == 1
        assert client.get("/").status_code == 302


class LoginWithCode(PersonaTestCase):
    def test_code_then_home(self) -> None:
        device = confirmed_device(self.w.psych_a)
        client, _ = password_login("psych_a")
        assert client.get("/")["Location"].startswith("/account/2fa/")
        page = client.get("/account/2fa/").content.decode()
        assert 'name="code"' in page
        response = client.post("/account/2fa/", {"code": otp_code(device), "next": "/"})
        assert response.status_code == 302 and response["Location"] == "/"
        assert client.get("/").status_code == 200
        assert client.get("/api/me").status_code == 200

    def test_code_cannot_be_replayed(self) -> None:
        device = confirmed_device(self.w.psych_a)
        code = otp_code(device)
        first, _ = password_login("psych_a")
        assert first.post("/account/2fa/", {"code": code})["Location"] == "/"
        second, _ = password_login("psych_a")
        second.post("/account/2fa/", {"code": code})
        assert second.get("/").status_code == 302

    def test_recovery_code_works_once(self) -> None:
        w = self.w
        client, _ = password_login("district_admin")
        codes = enrol(client, w.district_admin)
        again, _ = password_login("district_admin")
        assert again.post("/account/2fa/", {"code": codes[3].upper()})["Location"] == "/"
        assert again.get("/").status_code == 200
        assert twofactor.recovery_codes_left(w.district_admin) == 9
        assert AuditEntry.objects.filter(user=w.district_admin, detail="recovery code used (9 left)").exists()
        third, _ = password_login("district_admin")
        refused = third.post("/account/2fa/", {"code": codes[3]})
        assert refused.status_code == 200 and 'id="otp-error"' in refused.content.decode()
        assert third.get("/").status_code == 302
        assert failures("district_admin") == 1

    def test_new_recovery_codes_replace_the_old(self) -> None:
        w = self.w
        client, _ = password_login("centre_expert")
        old = enrol(client, w.centre_expert)
        assert "10" in client.get("/account/2fa/recovery/").content.decode()
        html = client.post("/account/2fa/recovery/").content.decode()
        new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", html)
        assert len(new) == 10 and not set(new) & set(old)
        other, _ = password_login("centre_expert")
        other.post("/account/2fa/", {"code": old[0]})
        assert other.get("/").status_code == 302
        other.post("/account/2fa/", {"code": new[0]})
        assert other.get("/").status_code == 200


class WrongCodesLock(PersonaTestCase):
    def test_five_wrong_codes_lock_the_account(self) -> None:
        device = confirmed_device(self.w.psych_a)
        client, _ = password_login("psych_a")
        for i in range(4):
            response = client.post("/account/2fa/", {"code": f"{i:06d}"})
            assert response.status_code == 200 and 'id="otp-error"' in response.content.decode()
        last = client.post("/account/2fa/", {"code": "999999"})
        assert last.status_code == 302 and last["Location"] == "/login/"
        assert auth.locked_until("psych_a") is not None
        # The half-done session is gone, and the right password no longer logs in.
        assert client.get("/")["Location"].startswith("/login/")
        assert not Client().login(username="psych_a", password=PASSWORD)
        login_page = Client().post("/login/", {"username": "psych_a", "password": PASSWORD})
        assert login_page.status_code == 200 and 'id="login-locked"' in login_page.content.decode()
        assert device.pk  # the device itself is untouched

    def test_the_right_password_does_not_reset_the_code_count(self) -> None:
        confirmed_device(self.w.leader_a)
        client, _ = password_login("leader_a")
        for i in range(4):
            client.post("/account/2fa/", {"code": f"{i:06d}"})
        again, _ = password_login("leader_a")  # a right password again
        assert failures("leader_a") == 4
        again.post("/account/2fa/", {"code": "123456"})
        assert auth.locked_until("leader_a") is not None

    def test_a_right_code_clears_the_count(self) -> None:
        device = confirmed_device(self.w.leader_a)
        client, _ = password_login("leader_a")
        client.post("/account/2fa/", {"code": "111111"})
        assert failures("leader_a") == 1
        client.post("/account/2fa/", {"code": otp_code(device)})
        assert failures("leader_a") == 0
        assert client.get("/").status_code == 200

    def test_class_teacher_password_still_clears_the_count(self) -> None:
        Client().post("/login/", {"username": "class_teacher_a41", "password": "wrong-one"})
        assert failures("class_teacher_a41") == 1
        password_login("class_teacher_a41")
        assert failures("class_teacher_a41") == 0
