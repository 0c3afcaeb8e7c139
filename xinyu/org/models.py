"""Organisation and people (SPEC §1, §2).

district → cluster (片区) → school → campus → grade → class → student.
Staff are `User`s; what each may see comes from their `RoleAssignment`s, read only by
`xinyu.access`. Protected records carry a random `uid` used in every URL and API path,
so ids are never guessable sequential integers.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField, TokenField


def new_uid() -> uuid.UUID:
    return uuid.uuid4()


class District(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    def __str__(self) -> str:
        return self.name


class Cluster(models.Model):
    """片区 (QX) or education group (教育集团, SJS)."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="clusters")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        unique_together = [("district", "name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SchoolCategory(models.TextChoices):
    """XY: room standards differ for urban / town / rural schools."""

    URBAN = "urban", _("Urban (城区)")
    TOWN = "town", _("Town (乡镇)")
    RURAL = "rural", _("Rural (农村)")


class Stage(models.TextChoices):
    PRIMARY = "primary", _("Primary (小学)")
    JUNIOR = "junior", _("Junior high (初中)")
    SENIOR = "senior", _("Senior high (高中)")


# Grade levels 1–12: 小学 1–6, 初中 7–9, 高中 10–12.
STAGE_LEVELS = {Stage.PRIMARY: range(1, 7), Stage.JUNIOR: range(7, 10), Stage.SENIOR: range(10, 13)}
GRADE_NAMES = {
    1: "一年级",
    2: "二年级",
    3: "三年级",
    4: "四年级",
    5: "五年级",
    6: "六年级",
    7: "初一",
    8: "初二",
    9: "初三",
    10: "高一",
    11: "高二",
    12: "高三",
}


def stage_of_level(level: int) -> Stage:
    for stage, levels in STAGE_LEVELS.items():
        if level in levels:
            return stage
    raise ValueError(level)


class School(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    cluster = models.ForeignKey(
        Cluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="schools"
    )
    code = models.CharField(_("school code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=10, choices=SchoolCategory.choices)
    has_primary = models.BooleanField(_("primary stage"), default=False)
    has_junior = models.BooleanField(_("junior high stage"), default=False)
    has_senior = models.BooleanField(_("senior high stage"), default=False)
    is_special_education = models.BooleanField(_("special-education school"), default=False)
    enrolment = models.PositiveIntegerField(_("declared enrolment"), default=0)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def stages(self) -> list[Stage]:
        flags = [
            (Stage.PRIMARY, self.has_primary),
            (Stage.JUNIOR, self.has_junior),
            (Stage.SENIOR, self.has_senior),
        ]
        return [stage for stage, on in flags if on]

    def offers_level(self, level: int) -> bool:
        return stage_of_level(level) in self.stages


class Campus(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="campuses")
    name = models.CharField(_("name"), max_length=100)
    is_main = models.BooleanField(_("main campus"), default=False)

    class Meta:
        unique_together = [("school", "name")]
        ordering = ["-is_main", "name"]

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="grades")
    level = models.PositiveSmallIntegerField(_("grade level"))

    class Meta:
        unique_together = [("school", "level")]
        ordering = ["school", "level"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return GRADE_NAMES.get(self.level, str(self.level))


class SchoolClass(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classes")
    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="classes")
    campus = models.ForeignKey(
        Campus, on_delete=models.SET_NULL, null=True, blank=True, related_name="classes"
    )
    number = models.PositiveSmallIntegerField(_("class number"))

    class Meta:
        unique_together = [("grade", "number")]
        ordering = ["grade__level", "number"]
        verbose_name = _("class")

    def __str__(self) -> str:
        return f"{self.grade.name}{self.name}"

    @property
    def name(self) -> str:
        return f"{self.number}班"


class Gender(models.TextChoices):
    MALE = "M", _("Male (男)")
    FEMALE = "F", _("Female (女)")


class StudentStatus(models.TextChoices):
    ACTIVE = "active", _("Enrolled")
    LEFT = "left", _("Left the district")
    GRADUATED = "graduated", _("Graduated")


class Student(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student_no = models.CharField(_("student number (学籍号)"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="students", verbose_name=_("class")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=StudentStatus.choices, default=StudentStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school_class", "name"]
        indexes = [models.Index(fields=["school", "status"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Guardian(models.Model):
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=20, blank=True)
    phone = EncryptedTextField(_("phone"), max_length=20)  # encrypted at rest (Fernet)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class KeyPopulation(models.TextChoices):
    """重点对象 (SPEC §4; QX 11, SJS 1.(四)2)."""

    LEFT_BEHIND = "left_behind", _("Left-behind child (留守)")
    SINGLE_PARENT = "single_parent", _("Single-parent family (单亲)")
    POOR_FAMILY = "poor_family", _("Family in financial difficulty (家庭经济困难)")
    PROBLEM_FAMILY = "problem_family", _("Family problems (问题家庭)")
    DISABILITY_ILLNESS = "disability_illness", _("Disability or serious illness (残疾或重病)")
    MENTAL_ILLNESS_HISTORY = "mental_history", _("History of mental illness (精神疾病史)")
    ACADEMIC_DIFFICULTY = "academic", _("Academic difficulty (学业困难)")
    PSYCH_PROBLEM = "psych_problem", _("Psychological problems (心理问题)")


class StudentFlag(models.Model):
    """A key-population flag with who set it and when; cleared flags are kept as history."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="flags")
    # A keyed token (xinyu.crypto.TokenField): filters and GROUP BY work, the column is opaque.
    kind = TokenField(_("kind"), width=24, choices=KeyPopulation.choices)
    set_by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    set_at = models.DateTimeField()
    cleared_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["set_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "kind"],
                condition=models.Q(cleared_at__isnull=True),
                name="one_active_flag_per_kind",
            )
        ]


class Enrollment(models.Model):
    """History of where a student has been: first enrolment, class moves and school transfers."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")
    from_class = models.ForeignKey(
        SchoolClass, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_class = models.ForeignKey(SchoolClass, on_delete=models.SET_NULL, null=True, related_name="+")
    from_school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField()
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    source = models.CharField(max_length=20)  # "import", "manual", "demo"

    class Meta:
        ordering = ["at", "id"]


class User(AbstractUser):
    """One account per staff member; `username` is the staff number (工号)."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Set when a district admin issues a temporary password: the holder must choose their own
    # before anything else (xinyu.web.middleware.AccountMiddleware); the temporary one logs in
    # once, within 24 hours (xinyu.org.auth.AccountBackend).
    must_change_password = models.BooleanField(default=False)
    temporary_password_expires_at = models.DateTimeField(null=True, blank=True)
    temporary_password_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.username


class LoginLock(models.Model):
    """Failed logins per user name (casefolded), whether or not such a user exists, so that
    the lockout reveals nothing; kept in the database so that every worker agrees."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.username


class Role(models.TextChoices):
    """Staff roles of SPEC §2. What each may see lives in `xinyu.access.policy`."""

    DISTRICT_ADMIN = "district_admin", _("District admin (区级管理员)")
    CENTRE_EXPERT = "centre_expert", _("Centre expert (指导中心专家)")
    SCHOOL_LEADER = "school_leader", _("School leader (校领导)")
    PSYCH_TEACHER = "psych_teacher", _("Psych teacher (心理教师)")
    GRADE_LEADER = "grade_leader", _("Grade leader (年级组长)")
    CLASS_TEACHER = "class_teacher", _("Class teacher (班主任)")


class Employment(models.TextChoices):
    FULL_TIME = "full", _("Full-time (专职)")
    PART_TIME = "part", _("Part-time (兼职)")


class RoleAssignment(models.Model):
    """A role held over one org unit. A psych teacher shared across a cluster (QX 县管片用)
    holds one assignment per school."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    employment = models.CharField(_("employment"), max_length=4, choices=Employment.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "school", "grade", "school_class"],
                name="unique_role_assignment",
            )
        ]

    def __str__(self) -> str:
        unit = self.school_class or self.grade or self.school or self.district
        return f"{self.get_role_display()} · {unit}"


class ApiToken(models.Model):
    """Bearer token for the JSON API; only a SHA-256 of the key is stored. It expires
    (`[accounts] api_token_days`), can be revoked, and every token of a user is deleted when
    their password is changed or reset (`xinyu.org.services`)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Null only for tokens made before expiry existed: the migration gives them 90 days.
    expires_at = models.DateTimeField(null=True)
    last_used_at = models.DateTimeField(null=True, blank=True)


class ResetKind(models.TextChoices):
    PASSWORD = "password", _("Password (temporary password)")
    SECOND_FACTOR = "second_factor", _("Second factor (TOTP)")


class ResetStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    DONE = "done", _("Carried out")


class ResetRequest(models.Model):
    """A district admin's request to reset the password or second factor of an account that
    reads counselling notes or a whole school (`[accounts] two_person_roles`): it takes effect
    only after a second person (another district admin, or a leader of the target's school)
    approves it, before `expires_at`. A password reset's temporary password is made and shown
    to the requester only after approval (`services.collect_reset`)."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ResetKind.choices)
    target = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=ResetStatus.choices, default=ResetStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    @property
    def approved_by(self) -> User | None:
        return self.decided_by if self.status in (ResetStatus.APPROVED, ResetStatus.DONE) else None


class ImportKind(models.TextChoices):
    STUDENTS = "students", _("Students")
    CLASSES = "classes", _("Grades and classes")
    STAFF = "staff", _("Staff")


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")


class ImportBatch(models.Model):
    """One uploaded roster file (`xinyu.org.roster`): the bytes, what the preview found and
    whether it was applied. Only the uploader may see or apply it."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    summary = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["uploaded_by", "created_at"])]

    def __str__(self) -> str:
        return self.filename


# ---- students' personal codes for the public pages (kiosk) --------------------------------

# The answering-code idea of screening: no 0/O, 1/I/L; 12 characters ≈ 2^59, so a year of
# throttled guessing from one address has odds of about 4e-9 against a school's codes
# (docs/SECURITY.md, item 10). Keys issued before were 8 characters; they stay valid.
KEY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
KEY_LENGTH = 12
OLD_KEY_LENGTHS = (8,)


def new_student_key() -> str:
    import secrets

    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


class StudentKey(models.Model):
    """A student's personal code for the public pages of the school (the counselling room's
    page: book, see, cancel; the mailbox: an identified letter). Printed by the class teacher
    on slips for the class (counselling issues them); reissuing revokes the old one.

    Looked up by `xinyu.org.keys.find_key`, the one door of every app. The table keeps the
    name it had when the model lived in counselling (moved by state only, no table change)."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="counselling_keys")
    code = models.CharField(max_length=KEY_LENGTH, unique=True, default=new_student_key)
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "counselling_studentkey"
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_key_per_student",
            )
        ]

    @property
    def printed(self) -> str:
        """The code as printed on the slip, in groups of four (`XXXX-XXXX-XXXX`); dashes and
        spaces are ignored when typed."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))
