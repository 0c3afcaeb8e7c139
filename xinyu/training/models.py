"""Training programmes and the certificates earned from attendance (SPEC §6; RC 二.(二),
QX 6, SJS 一.(一)).

- `Programme`: one training of a kind (C certificate in the "6+1" mode, B certificate of
  ≥ 80 class hours, school-based, all-staff, class-teacher, other), run by the district, the
  centre or a school, with a capacity and an eligibility rule.
- `TrainingSession`: a course day or the assessment: date, start and end, hours, place,
  trainer and their title; its QR check-in secret (valid only in the session's window).
- `Participant`: a staff member (`xinyu.staff.StaffMember`) enrolled in a programme, with the
  assessment result.
- `Attendance`: the ledger, one row per participant and session (trainer on a phone, a
  participant's QR scan, or an Excel import).
- `Feedback`: one participant's rating and comment on a programme.
- `IssuedCertificate`: a certificate issued when the programme's certificate rule (data in
  the policy file, `[training.certificates.<kind>]`) is met, with a number, a public
  verification code and a validity; it is recorded in the register as a `HeldCertificate`
  and can be revoked with a reason.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.org.models import District, School, User, new_uid
from xinyu.staff.models import HeldCertificate, StaffMember


class ProgrammeKind(models.TextChoices):
    C_CERTIFICATE = "c_cert", _("C certificate (C证, 6+1)")
    B_CERTIFICATE = "b_cert", _("B certificate (B证, ≥ 80 class hours)")
    SCHOOL_BASED = "school_based", _("School-based training (校本培训)")
    ALL_STAFF = "all_staff", _("All-staff training (全员培训)")
    CLASS_TEACHER = "class_teacher", _("Class-teacher training (班主任培训)")
    OTHER = "other", _("Other (其他)")


class Eligibility(models.TextChoices):
    ANY_STAFF = "any", _("Any staff member")
    PSYCH_TEACHERS = "psych", _("Psych teachers (full- or part-time)")
    FULL_TIME_PSYCH = "full_time", _("Full-time psych teachers (专职)")
    PART_TIME_PSYCH = "part_time", _("Part-time psych teachers (兼职)")


class ProgrammeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for enrolment")
    RUNNING = "running", _("In progress")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class Programme(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The school that runs it (school-based and all-staff training); blank: district or centre.",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ProgrammeKind.choices)
    title = models.CharField(_("title"), max_length=200)
    organiser = models.CharField(_("organiser"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    eligibility = models.CharField(
        _("eligibility"), max_length=10, choices=Eligibility.choices, default=Eligibility.ANY_STAFF
    )
    # The certificate rule applied (a key of [training.certificates] in the policy file); blank: none.
    certificate_rule = models.CharField(_("certificate rule"), max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=ProgrammeStatus.choices, default=ProgrammeStatus.DRAFT)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["district", "kind", "starts_on"], name="programme_kind_idx")]
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.title


class SessionKind(models.TextChoices):
    COURSE = "course", _("Course (课程)")
    ASSESSMENT = "assessment", _("Assessment (考核)")


class TrainingSession(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="sessions")
    seq = models.PositiveSmallIntegerField(_("number"))
    kind = models.CharField(max_length=10, choices=SessionKind.choices, default=SessionKind.COURSE)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    hours = models.DecimalField(_("class hours"), max_digits=4, decimal_places=1)
    place = models.CharField(_("place"), max_length=200, blank=True)
    trainer = models.CharField(_("trainer"), max_length=100, blank=True)
    trainer_title = models.CharField(_("trainer's title"), max_length=100, blank=True)
    checkin_secret = models.CharField(max_length=64, blank=True)  # the session QR's key; never shown

    class Meta:
        constraints = [models.UniqueConstraint(fields=["programme", "seq"], name="unique_session_seq")]
        ordering = ["programme", "seq"]

    def __str__(self) -> str:
        return f"{self.programme} #{self.seq}"


class AssessmentResult(models.TextChoices):
    PENDING = "pending", _("Not assessed yet")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class Participant(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="participants")
    member = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="trainings")
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    assessment = models.CharField(
        max_length=8, choices=AssessmentResult.choices, default=AssessmentResult.PENDING
    )
    assessment_score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["programme", "member"], name="unique_participant")]
        ordering = ["programme", "id"]


class AttendanceMethod(models.TextChoices):
    TRAINER = "trainer", _("Marked by the trainer")
    QR = "qr", _("Scanned the session QR code")
    IMPORT = "import", _("Imported")


class Attendance(models.Model):
    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="attendance")
    present = models.BooleanField(default=True)
    method = models.CharField(max_length=8, choices=AttendanceMethod.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "participant"], name="unique_attendance"),
        ]


class Feedback(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="feedback")
    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField()  # 1–5
    comment = models.TextField(blank=True)
    at = models.DateTimeField()


class IssuedCertificate(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="certificate")
    held = models.OneToOneField(HeldCertificate, on_delete=models.PROTECT, related_name="issued")
    rule = models.CharField(max_length=20)  # the policy key the certificate was issued under
    number = models.CharField(max_length=50, unique=True)
    verify_code = models.CharField(max_length=32, unique=True)  # the public verification URL's code
    hours = models.DecimalField(max_digits=5, decimal_places=1)
    issued_on = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoke_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
