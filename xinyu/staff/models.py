"""The staff register (师资名册, SPEC §6; CY attachment 心理健康教师基本情况调查表).

A `StaffMember` is one person on a district's staff who matters to mental-health work: every
psych teacher (full-time, part-time or a cluster post serving several schools, QX 县管片用)
and every other teacher who takes part in training (class teachers earning the C certificate,
all-staff training). The psych-teacher register is the members with a `post_type`.

- `Post`: the schools (and campus, stage) a psych teacher serves; a cluster post has several.
- `HeldCertificate`: certificates held (C证, B证, others), entered, imported or issued by the
  training app (`source=training`).
- `Correction`: a teacher's correction of their own entry, marked until the school confirms it.

The staffing rules (ratio, full-time per school / campus / stage, qualifications) are read
from the district's policy file (`[staffing]`) by `xinyu.staff.staffing`, never hard-coded.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField
from xinyu.org.models import Campus, District, Gender, School, Stage, User, new_uid


class PostType(models.TextChoices):
    """Psych-teacher posts (SPEC §6). Blank: not a psych teacher (a trainee only)."""

    FULL_TIME = "full", _("Full-time (专职)")
    PART_TIME = "part", _("Part-time (兼职)")
    CLUSTER = "cluster", _("Full-time cluster post (专职·县管片用)")


class Degree(models.TextChoices):
    BELOW = "below", _("Below college (大专以下)")
    COLLEGE = "college", _("College (大专)")
    BACHELOR = "bachelor", _("Bachelor's (本科)")
    MASTER = "master", _("Master's (硕士)")
    DOCTOR = "doctor", _("Doctorate (博士)")


class StaffMember(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff_members",
        help_text="Home school (人事关系所在学校); blank for the centre's staff.",
    )
    staff_no = models.CharField(_("staff number (工号)"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    user = models.OneToOneField(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="staff_member"
    )
    title = models.CharField(_("professional title (职称)"), max_length=50, blank=True)
    # The psych-teacher part of the register (blank post_type: not a psych teacher).
    post_type = models.CharField(_("post type"), max_length=8, choices=PostType.choices, blank=True)
    degree = models.CharField(_("degree"), max_length=10, choices=Degree.choices, blank=True)
    major = models.CharField(_("major"), max_length=100, blank=True)
    major_relevant = models.BooleanField(_("relevant major (psychology, education …)"), default=False)
    related_experience_years = models.DecimalField(
        _("years of related experience"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    pre_job_training = models.BooleanField(_("pre-job training (岗前培训)"), default=False)
    pre_job_training_on = models.DateField(_("pre-job training date"), null=True, blank=True)
    specialised_training = models.BooleanField(_("specialised training (专业培训)"), default=False)
    last_trained_on = models.DateField(_("last psych training"), null=True, blank=True)
    weekly_periods = models.PositiveSmallIntegerField(_("weekly workload (periods)"), null=True, blank=True)
    class_teacher_years = models.DecimalField(
        _("years counted as class-teacher years (SJS)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "staff_no"], name="unique_staff_no_per_district"),
        ]
        indexes = [models.Index(fields=["district", "post_type", "name"], name="staff_register_idx")]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_psych_teacher(self) -> bool:
        return bool(self.post_type)

    @property
    def is_full_time(self) -> bool:
        return self.post_type in (PostType.FULL_TIME, PostType.CLUSTER)


class Post(models.Model):
    """A school (and optionally a campus and a stage) a psych teacher serves."""

    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="posts")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="psych_posts")
    campus = models.ForeignKey(Campus, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "school", "campus", "stage"], name="unique_post"),
        ]


class CertificateKind(models.TextChoices):
    C = "C", _("C certificate (C证)")
    B = "B", _("B certificate (B证)")
    A = "A", _("A certificate (A证)")
    OTHER = "other", _("Other (其他)")


class CertificateSource(models.TextChoices):
    ENTERED = "entered", _("Entered")
    IMPORTED = "imported", _("Imported")
    TRAINING = "training", _("Issued from training")


class HeldCertificate(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="certificates")
    kind = models.CharField(_("kind"), max_length=8, choices=CertificateKind.choices)
    name = models.CharField(_("certificate name"), max_length=100, blank=True)
    number = models.CharField(_("number"), max_length=50, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    issuer = models.CharField(_("issuer"), max_length=100, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    source = models.CharField(
        max_length=10, choices=CertificateSource.choices, default=CertificateSource.ENTERED
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "expires_on"], name="held_cert_kind_idx")]
        ordering = ["-issued_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the school's confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Returned")


class Correction(models.Model):
    """A teacher's correction of their own register entry: the proposed values stay marked
    until the school (its leader) confirms them into the entry or returns them."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="corrections")
    proposed = models.JSONField(default=dict)  # field name -> new value (as text)
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField()
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "id"]
