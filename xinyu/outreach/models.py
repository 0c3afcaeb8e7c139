"""Lectures, volunteer services and parent education (issue 13 items 2–3; RC 一, QX 15,
SJS 三.(二)).

- `Talk`: one lecture (讲座), volunteer service (志愿服务) or parent-education session
  (家庭教育指导): run by a school (`school` set) or by the district / centre (`school` blank);
  planned, held or cancelled; topic, audience (students / parents / teachers, several
  allowed), speaker and qualification, place, start and end, attendance; `feedback_secret`
  keys the HMAC in the public feedback URL (never shown).
- `TalkEvidence`: materials and photos (`xinyu.kernel.evidence`).
- `Feedback`: one anonymous answer (rating 1–5, usefulness 1–5, an encrypted comment) per
  talk and phone: the phone is a random id in a signed cookie, stored only as a hash.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField
from xinyu.kernel.evidence import EvidenceFile
from xinyu.org.models import District, School, User, new_uid


class TalkKind(models.TextChoices):
    LECTURE = "lecture", _("Lecture (讲座)")
    VOLUNTEER = "volunteer", _("Volunteer service (志愿服务)")
    PARENT = "parent", _("Parent education (家庭教育指导)")


class TalkStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


AUDIENCES = {
    "students": ("学生", "students"),
    "parents": ("家长", "parents"),
    "teachers": ("教师", "teachers"),
}


class Talk(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=TalkKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=TalkStatus.choices, default=TalkStatus.PLANNED
    )
    topic = models.CharField(_("topic"), max_length=200)
    audience = models.CharField(_("audience"), max_length=40, blank=True)  # comma-separated AUDIENCES keys
    speaker = models.CharField(_("speaker"), max_length=100, blank=True)
    speaker_qualification = models.CharField(_("speaker's qualification"), max_length=200, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    attendance = models.PositiveIntegerField(_("attendance"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    feedback_secret = models.CharField(max_length=64, blank=True)  # never shown
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["district", "kind", "starts_at"], name="talk_kind_idx")]
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.topic

    @property
    def audiences(self) -> list[str]:
        return [a for a in self.audience.split(",") if a]


class TalkEvidence(EvidenceFile):
    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="evidence")


class Feedback(models.Model):
    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField()  # 1–5 overall
    usefulness = models.PositiveSmallIntegerField(null=True, blank=True)  # 1–5
    comment = EncryptedTextField(blank=True, default="")
    device_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["talk", "device_hash"], name="one_feedback_per_device")
        ]
        ordering = ["-created_at", "-id"]
