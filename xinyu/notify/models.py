"""Outbound messages (in-app, SMS, email). Every message is a row first, so each send is
logged and a failed send can be retried; the backend that delivers it is pluggable
(settings.XINYU_SMS_BACKEND / XINYU_EMAIL_BACKEND)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField
from xinyu.org.models import new_uid


class MessageChannel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    READ = "read", _("Read")


class Message(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    kind = models.CharField(max_length=40)  # "urgent_warning", "consent_request" …
    recipient = models.ForeignKey(
        "org.User", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    # Encrypted at rest: a guardian's phone, and texts that may quote a student's case.
    address = EncryptedTextField(max_length=120, blank=True, default="")  # phone or email for guardians
    subject = EncryptedTextField(max_length=200)
    body = EncryptedTextField()
    link = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    backend = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "status"]), models.Index(fields=["status", "channel"])]
