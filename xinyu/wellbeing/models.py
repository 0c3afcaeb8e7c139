"""Staff wellbeing screening (教职工心理健康测评, issue 12 item 6; QX 8 师生心理健康筛查; RC 四:
the centre runs regular district-wide assessments of teachers and students).

- `StaffCampaign`: a district's campaign with one adult instrument (its file text kept, so a
  result is always scored by the questionnaire as it was asked), the invited schools and the
  open/close dates.
- `StaffInvitation`: one invited staff member (a user with a role at an invited school). The
  member's own consent (voluntary: agree or decline, timestamped, never changed once given),
  their answers and result: all sealed at rest (answers and result Fernet, the tier and the
  flags keyed tokens so that the centre's lists can filter and the district's table can count).
- `FollowUp`: a centre expert's note on a result (encrypted), and whether the member was
  contacted; the follow-up can be closed.

Who sees what is in `access.py`: the member and the district's centre experts, nobody else.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedJSONField, EncryptedTextField, TokenBooleanField, TokenField
from xinyu.org.models import District, School, User, new_uid
from xinyu.staff.models import StaffMember


class StaffCampaign(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    instrument = models.CharField(_("instrument"), max_length=20)  # code in the registry
    instrument_version = models.CharField(max_length=20)
    instrument_sha256 = models.CharField(max_length=64)
    instrument_source = models.TextField()  # the file as it was when the campaign was created
    schools = models.ManyToManyField(School, related_name="+")
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-opens_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="wellbeing_dates"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open(self, today: object = None) -> bool:
        day = today or timezone.localdate()
        return self.opens_on <= day <= self.closes_on  # type: ignore[operator]


class ConsentState(models.TextChoices):
    PENDING = "pending", _("Not yet decided")
    GIVEN = "given", _("Agreed to take part")
    DECLINED = "declined", _("Declined")


class FollowUpState(models.TextChoices):
    NONE = "none", _("No follow-up needed")
    OPEN = "open", _("Follow-up open")
    DONE = "done", _("Follow-up closed")


class StaffInvitation(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    campaign = models.ForeignKey(StaffCampaign, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    # The member's own decision: a token at rest (nobody reading the table learns who declined).
    consent = TokenField(choices=ConsentState.choices, default=ConsentState.PENDING, width=16)
    consent_at = models.DateTimeField(null=True, blank=True)
    contact_ok = TokenBooleanField(default=False)  # a centre expert may contact them
    answers = EncryptedJSONField(default=dict)  # {"item number": option value}
    answered_at = models.DateTimeField(null=True, blank=True)  # last answer
    completed_at = models.DateTimeField(null=True, blank=True)
    result = EncryptedJSONField(null=True, blank=True)  # InstrumentResult.to_json() + tier reasons
    tier = TokenField(blank=True, default="", width=16)
    critical = TokenBooleanField(default=False)
    follow_up = TokenField(choices=FollowUpState.choices, default=FollowUpState.NONE, width=8)
    critical_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="wellbeing_one_invitation"),
            # Nothing answered or completed before a decision was recorded.
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, completed_at__isnull=True)
                | Q(consent_at__isnull=False),
                name="wellbeing_answers_need_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"staff invitation {self.uid}"

    @property
    def answers_by_item(self) -> dict[int, int | None]:
        return {int(k): v for k, v in (self.answers or {}).items()}


class FollowUp(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    invitation = models.ForeignKey(StaffInvitation, on_delete=models.CASCADE, related_name="follow_ups")
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = EncryptedTextField(_("note"))
    contacted = TokenBooleanField(default=False)
    closed = TokenBooleanField(default=False)  # this note closed the follow-up

    class Meta:
        ordering = ["-at", "-id"]
