"""Psych committee members (心理委员, QX 17) and the school's yearly events (QX 7, 10, 17;
SJS 四.(一)) — issue 13 items 5 and 6.

- `CommitteeMember`: a student appointed psych committee member of their class; the role
  (boy / girl member) is taken from the student's gender when appointed. Active while
  `ended_on` is empty (or in the future).
- `SchoolEvent`: one event of a school: the May awareness-month activity, a legal-education
  session, an open or observation class, a meeting of the school's leading group on
  students' mental health (attendees and an encrypted minutes summary) or another event.
- `Contest` and `ContestEntry`: the county (or regional, "五育润心") teaching contests run by
  the district, and each school's entries with their results.
- `EventEvidence`, `ContestEvidence`: files attached (`xinyu.kernel.evidence`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField
from xinyu.kernel.evidence import EvidenceFile
from xinyu.org.models import District, School, SchoolClass, Student, User, new_uid
from xinyu.staff.models import StaffMember


class CommitteeRole(models.TextChoices):
    BOY = "boy", _("Boy member (男心理委员)")
    GIRL = "girl", _("Girl member (女心理委员)")


class CommitteeMember(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=4, choices=CommitteeRole.choices)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    training = models.CharField(_("training received"), max_length=200, blank=True)
    trained_on = models.DateField(_("trained on"), null=True, blank=True)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["school", "ended_on"], name="committee_school_idx")]
        ordering = ["school_class", "role", "-started_on"]


class EventKind(models.TextChoices):
    AWARENESS_MONTH = "awareness_month", _("Awareness-month activity (心理健康教育月活动)")
    LEGAL_EDUCATION = "legal_education", _("Legal education (法治教育)")
    OPEN_CLASS = "open_class", _("Open or observation class (公开课/观摩课)")
    LEADERSHIP_MEETING = "leadership_meeting", _("Leading group's meeting (领导小组专题会议)")
    OTHER = "other", _("Other (其他)")


class SchoolEvent(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    title = models.CharField(_("title"), max_length=200)
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    participants = models.PositiveIntegerField(_("participants"), null=True, blank=True)
    attendees = models.TextField(_("attendees"), blank=True)  # meetings: who attended
    minutes = EncryptedTextField(_("minutes summary"), blank=True, default="")  # meetings only
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["school", "kind", "date"], name="schoolevent_kind_idx")]
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return self.title


class ContestLevel(models.TextChoices):
    COUNTY = "county", _("County (县级)")
    REGIONAL = "regional", _("Regional (片区/市级)")


class Contest(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=10, choices=ContestLevel.choices)
    title = models.CharField(_("title"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    host_school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ContestEntry(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="entries")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    teacher_name = models.CharField(_("teacher"), max_length=50)
    lesson_title = models.CharField(_("lesson"), max_length=200)
    result = models.CharField(_("result"), max_length=100, blank=True)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["contest", "school", "id"]


class EventEvidence(EvidenceFile):
    event = models.ForeignKey(SchoolEvent, on_delete=models.CASCADE, related_name="evidence")


class ContestEvidence(EvidenceFile):
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="evidence")
