"""Counselling room operations (SPEC §5): rooms with zones, equipment and photos; weekly
opening hours with the staff member on duty; appointments booked by students (with their
`StudentKey`, in xinyu.org), teachers or psych teachers; individual counselling records and
group sessions.

Counselling records and group outcomes are free text about students: they are stored
encrypted (`xinyu.crypto.EncryptedTextField`) and read only through `xinyu.access.policy`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField, TokenBooleanField, TokenField
from xinyu.org import models as org_models
from xinyu.org.models import new_uid

# Students' booking codes (`StudentKey`) live in xinyu.org (the mailbox reads them too);
# migration 0001 still names this module's `new_student_key`.
new_student_key = org_models.new_student_key


def photo_storage() -> FileSystemStorage:
    """Room photos live under XINYU_VAR_DIR (never under the web root); a view serves them."""
    return FileSystemStorage(location=settings.VAR_DIR / "media" / "counselling")


class ZoneKind(models.TextChoices):
    OFFICE = "office", _("Office and reception (办公接待区)")
    INDIVIDUAL = "individual", _("Individual counselling room (个别辅导室)")
    SMALL_GROUP = "small_group", _("Small-group counselling room (小团体辅导室)")
    GROUP = "group", _("Group counselling room (团体辅导室)")
    RELAXATION = "relaxation", _("Relaxation room (放松室)")
    ASSESSMENT = "assessment", _("Assessment and archive room (测评档案室)")
    READING = "reading", _("Reading room (阅览室)")
    # XY 四.1 / 四.4: the 6 zones beside the 3 rooms (心检阅览区 is READING, 艺术放松区 RELAXATION).
    CAREER = "career", _("Clubs and career zone (社团生涯区)")
    POTENTIAL = "potential", _("Potential development zone (潜能开发区)")
    SUPERVISION = "supervision", _("Central control and supervision zone (中控督导区)")
    EMOTION = "emotion", _("Emotion release zone (情绪疏导区)")
    OTHER = "other", _("Other zone (其他)")


class Room(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="counselling_rooms")
    name = models.CharField(_("room name"), max_length=100)
    location = models.CharField(_("location"), max_length=200)
    mailbox_location = models.CharField(_("mailbox (心理信箱) location"), max_length=200)
    help_email = models.EmailField(_("school help email"))
    booking_note = models.CharField(_("how to book"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="unique_room_name_per_school")]

    def __str__(self) -> str:
        return self.name


class Zone(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="zones")
    kind = models.CharField(_("zone"), max_length=12, choices=ZoneKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    area_m2 = models.DecimalField(
        _("area (m²)"),
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("2000"))],
    )
    equipment = models.JSONField(_("equipment"), default=list, blank=True)  # items of the checklist
    other_equipment = models.CharField(_("other equipment"), max_length=300, blank=True)

    class Meta:
        ordering = ["room", "kind", "id"]


class RoomPhoto(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), storage=photo_storage, upload_to="rooms/%Y/")
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningSlot(models.Model):
    """One weekly opening period of a room, with the staff member on duty (None: unstaffed)."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))
    staff = models.ForeignKey(
        "org.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="counselling_duties",
        verbose_name=_("on duty"),
    )

    class Meta:
        ordering = ["room", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts__lt=models.F("ends")), name="slot_starts_before_end"
            )
        ]

    @property
    def hours(self) -> float:
        start = dt.datetime.combine(dt.date.min, self.starts)
        end = dt.datetime.combine(dt.date.min, self.ends)
        return (end - start).total_seconds() / 3600


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    DONE = "done", _("Held")
    NO_SHOW = "no_show", _("Did not come")
    CANCELLED = "cancelled", _("Cancelled")
    RESCHEDULED = "rescheduled", _("Moved")


# Statuses that hold their slot (the unique constraint applies to them only).
HOLDING = [AppointmentStatus.BOOKED, AppointmentStatus.DONE, AppointmentStatus.NO_SHOW]


class BookedVia(models.TextChoices):
    STUDENT = "student", _("The student (with their code)")
    TEACHER = "teacher", _("A teacher on the student's behalf")
    PSYCH = "psych", _("The psych teacher")


class Appointment(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="appointments")
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))
    status = models.CharField(
        _("status"), max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    via = models.CharField(_("booked by"), max_length=8, choices=BookedVia.choices)
    booked_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    staff = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="counselling_appointments"
    )
    moved_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "starts"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "date", "starts"],
                condition=models.Q(status__in=["booked", "done", "no_show"]),
                name="one_appointment_per_slot",
            )
        ]
        indexes = [models.Index(fields=["school", "date"]), models.Index(fields=["student", "status"])]


class IssueCategory(models.TextChoices):
    """What a session was mainly about: for statistics (no diagnosis, no label)."""

    LEARNING = "learning", _("Learning and exams (学习与考试)")
    EMOTION = "emotion", _("Emotions (情绪)")
    PEERS = "peers", _("Friends and classmates (人际关系)")
    FAMILY = "family", _("Family (家庭)")
    ADAPTATION = "adaptation", _("Adapting to school (适应)")
    SELF = "self", _("Self and growing up (自我成长)")
    CAREER = "career", _("Future and career (生涯)")
    BEHAVIOUR = "behaviour", _("Behaviour and habits (行为习惯)")
    OTHER = "other", _("Other (其他)")


class CounsellingRecord(models.Model):
    """One individual session (XY 五.4). Every free-text field is encrypted at rest."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="counselling_records")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="record"
    )
    counsellor = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField(_("held at"))
    minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    walk_in = models.BooleanField(_("walk-in (no appointment)"), default=False)
    category = TokenField(_("main issue (category)"), width=12, choices=IssueCategory.choices)  # keyed token
    current_state = EncryptedTextField(_("current state"))
    main_problem = EncryptedTextField(_("main problem"))
    assessment = EncryptedTextField(_("assessment"))
    analysis = EncryptedTextField(_("analysis"))
    measures = EncryptedTextField(_("measures"))
    effect = EncryptedTextField(_("evaluation of effect"))
    next_step = EncryptedTextField(_("next step"))
    risk_self_harm = TokenBooleanField(_("risk of self-harm"), default=False)
    risk_harm_others = TokenBooleanField(_("risk of harm to others"), default=False)
    warning = models.ForeignKey(
        "care.Warning", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-held_at", "-id"]
        indexes = [models.Index(fields=["school", "held_at"])]

    @property
    def has_risk(self) -> bool:
        return self.risk_self_harm or self.risk_harm_others


class GroupSession(models.Model):
    """A group counselling session or activity: topic, participants, outcome (encrypted)."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    counsellor = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField(_("held at"))
    minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    topic = EncryptedTextField(_("topic"), max_length=200)
    category = TokenField(_("main issue (category)"), width=12, choices=IssueCategory.choices)  # keyed token
    participants = models.ManyToManyField("org.Student", blank=True, related_name="+")
    other_participants = models.PositiveSmallIntegerField(_("other participants (not listed)"), default=0)
    outcome = EncryptedTextField(_("outcome"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-held_at", "-id"]


class ProjectKind(models.TextChoices):
    NEW = "new", _("New room (新建)")
    UPGRADE = "upgrade", _("Upgraded and extended room (优化拓展)")


class RoomProject(models.Model):
    """A counselling room built or upgraded as a project (RC 2025: 新建24所、优化拓展10所左右),
    with the day it was completed; the district's construction targets count these."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="projects")
    kind = models.CharField(_("kind of project"), max_length=8, choices=ProjectKind.choices)
    completed_on = models.DateField(_("completed on"))
    project = models.CharField(_("project"), max_length=100, blank=True)  # e.g. 2025年区级民生实事
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on", "-id"]
        indexes = [models.Index(fields=["school", "completed_on"])]
