"""The client's address behind the reverse proxy (docs/DEPLOY.md section 3): audit rows and the
wrong-code throttle see the address nginx names in X-Forwarded-For, only when the request
comes from a trusted proxy (XINYU_TRUSTED_PROXIES); otherwise the header is ignored."""

from __future__ import annotations

from django.test import Client, override_settings

from tests.personas import PersonaTestCase
from xinyu.audit.models import AuditEntry
from xinyu.kernel.proxy import client_address

TRUSTED = frozenset({"127.0.0.1"})


def test_client_address() -> None:
    assert client_address("127.0.0.1", "203.0.113.7", TRUSTED) == "203.0.113.7"
    assert client_address("127.0.0.1", "198.51.100.1, 203.0.113.7", TRUSTED) == "203.0.113.7"
    assert client_address("127.0.0.1", "203.0.113.7, 127.0.0.1", TRUSTED) == "203.0.113.7"
    assert client_address("198.51.100.2", "203.0.113.7", TRUSTED) == "198.51.100.2"  # not the proxy
    assert client_address("127.0.0.1", "", TRUSTED) == "127.0.0.1"
    assert client_address("127.0.0.1", "not-an-address", TRUSTED) == "127.0.0.1"
    assert client_address("127.0.0.1", "2001:db8::1", TRUSTED) == "2001:db8::1"


class ProxyAddressTest(PersonaTestCase):
    def _read_ip(self, remote: str, forwarded: str) -> str | None:
        client = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
        client.force_login(self.w.class_teacher_a41)
        assert client.get(f"/students/{self.w.student_a41.uid}/").status_code == 200
        return AuditEntry.objects.filter(user=self.w.class_teacher_a41).latest("id").ip

    def test_the_audit_row_records_the_client_behind_a_trusted_proxy(self) -> None:
        with override_settings(XINYU_TRUSTED_PROXIES=["127.0.0.1"]):
            assert self._read_ip("127.0.0.1", "203.0.113.7") == "203.0.113.7"
            # A client talking to the application directly cannot choose its address.
            assert self._read_ip("198.51.100.2", "203.0.113.7") == "198.51.100.2"

    def test_without_trusted_proxies_the_header_is_ignored(self) -> None:
        with override_settings(XINYU_TRUSTED_PROXIES=[]):
            assert self._read_ip("127.0.0.1", "203.0.113.7") == "127.0.0.1"
