"""Compliance runs and what they found (issue 14; SPEC §8).

- `Run`: one evaluation of a district's profile: the profile's id and version (content hash),
  the parameters used per rule (the snapshot, overrides marked), the data cut-off, who started
  it (or the nightly job), when it ran.
- `Result`: one rule for one unit (a school; the district itself for district rules): the
  verdict, the numbers compared, the ids of the records counted, the note, the link to where
  the records live, and the waiver in force at the cut-off if any.
- `Waiver`: a school exempted from a rule, with a justification, the approver and an expiry
  date; an expired or revoked waiver makes the rule count again (InSpec's semantics).
- `SelfEvaluation` and its `SelfEvaluationItem`s (CY 四.(三)): a school's own checklist against
  the profile, with notes and evidence files for what the data cannot show; submitted, then
  accepted or returned by the district.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.kernel.evidence import EvidenceFile
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import District, School, User, new_uid


class RunKind(models.TextChoices):
    MANUAL = "manual", _("Started by hand")
    NIGHTLY = "nightly", _("Nightly")
    DEMO = "demo", _("Demo")


class Run(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    profile_id = models.CharField(max_length=60)
    profile_title = models.CharField(max_length=200)
    profile_hash = models.CharField(max_length=64)
    params = models.JSONField(default=dict)  # rule id -> {"params": {...}, "overridden": [...]}
    cutoff = models.DateField()
    kind = models.CharField(max_length=8, choices=RunKind.choices, default=RunKind.MANUAL)
    started_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["district", "-started_at"], name="compliance_run_idx")]

    def __str__(self) -> str:
        return f"{self.profile_id} @ {self.cutoff}"


class Result(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="results")
    rule_id = models.CharField(max_length=80)
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    verdict = models.CharField(max_length=8, choices=[(v.value, v.value) for v in Verdict])
    required = models.FloatField(null=True, blank=True)
    actual = models.FloatField(null=True, blank=True)
    measure = models.CharField(max_length=60, blank=True)
    counted = models.JSONField(default=list)
    parts = models.JSONField(default=list)  # CAMPUS / CLASS rules: [uid, label, verdict, actual] each
    note_zh = models.CharField(max_length=300, blank=True)
    note_en = models.CharField(max_length=300, blank=True)
    link = models.CharField(max_length=200, blank=True)
    period = models.CharField(max_length=40, blank=True)
    waiver = models.ForeignKey("Waiver", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["run", "school"], name="compliance_result_school_idx"),
            models.Index(fields=["run", "rule_id"], name="compliance_result_rule_idx"),
        ]

    @property
    def waived(self) -> bool:
        return self.waiver_id is not None

    @property
    def shown(self) -> str:
        """The verdict as the scorecard counts it: "waived" when a waiver covered it."""
        return "waived" if self.waived else self.verdict


class Waiver(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    rule_id = models.CharField(_("rule"), max_length=80)
    justification = models.TextField(_("justification"))
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    expires_on = models.DateField(_("expires on"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoke_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["district", "rule_id"], name="compliance_waiver_idx")]

    def in_force_on(self, day: dt.date) -> bool:
        """Granted, not revoked, and `day` not after the expiry date."""
        return self.revoked_at is None and self.granted_at.date() <= day <= self.expires_on


class SelfEvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


class SelfEvaluation(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    profile_id = models.CharField(max_length=60)
    year = models.PositiveSmallIntegerField(_("school year"))  # the school year's first calendar year
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(
        max_length=10, choices=SelfEvaluationStatus.choices, default=SelfEvaluationStatus.DRAFT
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "profile_id", "year"], name="unique_self_evaluation"),
        ]


class Declared(models.TextChoices):
    MET = "met", _("Met")
    MISSED = "missed", _("Not met")
    NOT_APPLICABLE = "na", _("Not applicable")


class SelfEvaluationItem(models.Model):
    self_evaluation = models.ForeignKey(SelfEvaluation, on_delete=models.CASCADE, related_name="items")
    rule_id = models.CharField(max_length=80)
    declared = models.CharField(_("school's verdict"), max_length=8, choices=Declared.choices, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["self_evaluation", "rule_id"], name="unique_self_evaluation_item"
            ),
        ]


class SelfEvaluationEvidence(EvidenceFile):
    item = models.ForeignKey(SelfEvaluationItem, on_delete=models.CASCADE, related_name="evidence")
