"""Org pages parse their input with forms and write through services (audited)."""

from __future__ import annotations

from django.urls import reverse

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.org import services
from xinyu.org.models import ApiToken


class TokenPageTest(PersonaTestCase):
    def test_revoking_a_token_is_audited_and_another_users_token_is_untouched(self) -> None:
        own, _key = services.create_api_token(by=self.w.psych_a, name="mine")
        other, _key2 = services.create_api_token(by=self.w.psych_b, name="theirs")
        client = self.client_for(self.w.psych_a)
        # Someone else's token id: nothing happens.
        response = client.post(reverse("org:tokens"), {"op": "revoke", "id": other.pk})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(ApiToken.objects.filter(pk=other.pk).exists())
        response = client.post(reverse("org:tokens"), {"op": "revoke", "id": own.pk})
        self.assertFalse(ApiToken.objects.filter(pk=own.pk).exists())
        row = AuditEntry.objects.get(action=Action.DELETE, object_type="apitoken")
        self.assertEqual((row.user_id, row.object_id), (self.w.psych_a.pk, str(own.pk)))

    def test_a_malformed_revoke_changes_nothing(self) -> None:
        own, _key = services.create_api_token(by=self.w.psych_a, name="mine")
        client = self.client_for(self.w.psych_a)
        client.post(reverse("org:tokens"), {"op": "revoke", "id": "1; DROP TABLE"})
        self.assertTrue(ApiToken.objects.filter(pk=own.pk).exists())

    def test_a_new_token_gets_the_name_typed(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.post(reverse("org:tokens"), {"name": "报表脚本"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            list(ApiToken.objects.filter(user=self.w.psych_a).values_list("name", flat=True)), ["报表脚本"]
        )


class TransferFormTest(PersonaTestCase):
    def test_a_malformed_class_id_is_a_message_not_a_change(self) -> None:
        student = self.w.student_a41
        client = self.client_for(self.w.psych_a)
        response = client.post(
            reverse("org:transfer", args=[student.uid]), {"to_class": "not-a-uuid"}, follow=True
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "请选择转入班级")
        student.refresh_from_db()
        self.assertEqual(student.school_class_id, self.w.class_a41.pk)
