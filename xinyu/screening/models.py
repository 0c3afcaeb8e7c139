"""Screening (SPEC §3): campaigns, guardian consent, answering by code, results.

A `Campaign` invites every student of the target grades in its schools; each student gets
one `Invitation` holding their answering code, their guardian's consent link and the
progress of their answering. `Answer` rows are saved one by one as the student answers
(so nothing is lost), and `Result` rows hold the scored instruments once they submit.

The questionnaires themselves are files (instruments/*.toml); the exact text used by a
campaign is archived in `InstrumentVersion` so that results can always be re-read against
the instrument they were answered on.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import (
    EncryptedFloatField,
    EncryptedIntegerField,
    EncryptedJSONField,
    RowTokenIntegerField,
    TokenBooleanField,
    TokenField,
)
from xinyu.org.models import new_uid

# Answering codes avoid look-alike characters (0/O, 1/I/L) so a student can type them
# from a printed slip.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# 12 characters of 31 (about 59 bits): a year of guessing at the public pages' throttle has
# under one-in-a-million odds of a hit (docs/SECURITY.md, "Public codes"). Codes issued
# before were 8 characters; they stay valid (OLD_CODE_LENGTHS).
CODE_LENGTH = 12
OLD_CODE_LENGTHS = (8,)


def new_answer_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_guardian_token() -> str:
    return secrets.token_urlsafe(18)


class InstrumentVersion(models.Model):
    """The exact instrument file a campaign used, kept for as long as its results."""

    code = models.CharField(max_length=20)
    version = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64, unique=True)
    source_text = models.TextField()
    archived_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.code} {self.version}"


class Campaign(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey("org.District", on_delete=models.PROTECT, related_name="campaigns")
    # A school may run a campaign for its own students; district campaigns leave this empty.
    owner_school = models.ForeignKey(
        "org.School", on_delete=models.PROTECT, null=True, blank=True, related_name="own_campaigns"
    )
    name = models.CharField(_("name"), max_length=100)
    school_year = models.CharField(_("school year"), max_length=9)  # "2026-2027"
    schools = models.ManyToManyField("org.School", related_name="campaigns")
    # A campaign for chosen classes only (a re-test of one class); empty: every class of the
    # target grades in its schools.
    classes = models.ManyToManyField("org.SchoolClass", blank=True, related_name="screening_campaigns")
    scope_label = models.CharField(max_length=200, blank=True)  # "全区" / cluster or school names
    target_grades = models.JSONField(default=list)  # grade levels 1–12
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    consent_text = models.TextField(_("consent text"))
    consent_version = models.CharField(_("consent text version"), max_length=20)
    created_by = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at", "name"]

    def __str__(self) -> str:
        return self.name


class Battery(models.Model):
    """The instruments for one grade band of a campaign (e.g. grades 4–6: PHQ-9 + GAD-7)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="batteries")
    grade_from = models.PositiveSmallIntegerField()
    grade_to = models.PositiveSmallIntegerField()
    instruments = models.ManyToManyField(InstrumentVersion, through="BatteryItem", related_name="+")

    class Meta:
        ordering = ["grade_from"]


class BatteryItem(models.Model):
    battery = models.ForeignKey(Battery, on_delete=models.CASCADE, related_name="items")
    instrument = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]


class Consent(models.TextChoices):
    PENDING = "pending", _("Awaiting guardian")
    GIVEN = "given", _("Consent given")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Channel(models.TextChoices):
    LINK = "link", _("Guardian link")
    QR = "qr", _("QR code on the class sheet")
    SMS = "sms", _("Link sent by SMS")
    PAPER = "paper", _("Paper form, entered by staff")


class Progress(models.TextChoices):
    INVITED = "invited", _("Not started")
    STARTED = "started", _("Started")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped by the student")


class Invitation(models.Model):
    """One student in one campaign (stage 1), or a second-stage assignment (stage 2)."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="invitations")
    # Where the student was when invited; progress is counted by these.
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("org.SchoolClass", on_delete=models.PROTECT, related_name="+")
    grade_level = models.PositiveSmallIntegerField()
    gender = models.CharField(max_length=1)
    stage = models.PositiveSmallIntegerField(default=1)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="follow_ups"
    )
    assigned_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The instruments to answer, in order: InstrumentVersion.sha256 values (pinned at invitation).
    instrument_shas = models.JSONField(default=list)

    # Second-stage assignments may outlive the campaign window.
    expires_at = models.DateTimeField(null=True, blank=True)

    code = models.CharField(max_length=CODE_LENGTH, unique=True, default=new_answer_code)
    guardian_token = models.CharField(max_length=32, unique=True, default=new_guardian_token)

    consent = models.CharField(max_length=10, choices=Consent.choices, default=Consent.PENDING)
    consent_at = models.DateTimeField(null=True, blank=True)
    assent_at = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=10, choices=Progress.choices, default=Progress.INVITED)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Filled when scored. Only the psych teachers of the school ever read these. At rest
    # (xinyu.crypto, docs/SECURITY.md item 4): tier and the two flags are keyed tokens, which
    # the aggregates filter and group on in SQL; the reasons are Fernet-encrypted.
    tier = TokenField(width=20, blank=True)
    tier_reasons = EncryptedJSONField(default=list, blank=True)
    needs_retest = TokenBooleanField(default=False)
    critical = TokenBooleanField(default=False)

    class Meta:
        ordering = ["school_class", "student__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "student"], condition=models.Q(stage=1), name="one_stage1_per_student"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "school", "school_class"]),
            # Covers the progress and results aggregates (GROUP BY school, grade, gender)
            # so they are read from the index alone (150,000-student campaigns < 500 ms).
            models.Index(
                fields=[
                    "campaign",
                    "stage",
                    "school",
                    "grade_level",
                    "gender",
                    "consent",
                    "progress",
                    "needs_retest",
                    "tier",
                ],
                name="invitation_aggregate_cover",
            ),
            # A student's invitations; with the state columns it also covers the key-population
            # counts of the results report, which find each flagged student's invitation here.
            models.Index(
                fields=[
                    "student",
                    "stage",
                    "campaign",
                    "consent",
                    "progress",
                    "needs_retest",
                    "tier",
                    "school",
                ],
                name="invitation_student_cover",
            ),
        ]

    @property
    def withdrawn(self) -> bool:
        return self.consent == Consent.WITHDRAWN

    @property
    def participating(self) -> bool:
        return self.consent == Consent.GIVEN


class ConsentDecision(models.Model):
    """Every guardian decision, kept as history: time, channel and consent-text version."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=10, choices=Consent.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    text_version = models.CharField(max_length=20)
    relation = models.CharField(max_length=20, blank=True)  # 父亲 / 母亲 / … as the guardian states
    recorded_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class Answer(models.Model):
    """One answer, saved the moment it is given. Re-answering an item replaces the value."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="answers")
    instrument = models.CharField(max_length=20)
    item = models.PositiveSmallIntegerField()
    # Sealed per row (a token of "invitation|instrument|item|value"): equal answers of two
    # students never look alike, and the same answer sent twice is still "unchanged".
    value = RowTokenIntegerField(context_fields=("invitation", "instrument", "item"))
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invitation", "instrument", "item"], name="one_answer_per_item")
        ]


class Result(models.Model):
    """A scored instrument. `data` is `InstrumentResult.to_json()`; the columns beside it
    are what aggregates group by."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="results")
    instrument = models.CharField(max_length=20)
    version = models.CharField(max_length=40)
    # Scores and the full result are Fernet-encrypted; the band and the critical flag are
    # keyed tokens (the results report groups by band in SQL). `valid` (a data-quality flag)
    # stays clear.
    primary_raw = EncryptedFloatField(null=True)
    primary_band = TokenField(width=30, blank=True)
    concern = EncryptedIntegerField(default=0)
    valid = models.BooleanField(default=True)
    critical = TokenBooleanField(default=False)
    data = EncryptedJSONField()
    scored_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invitation", "instrument"], name="one_result_per_instrument")
        ]
