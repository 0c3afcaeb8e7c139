"""Early warning (SPEC §4): warnings raised about a student, and tasks for staff.

A student has at most one open `Warning`; every new signal (a critical screening answer,
a screening result, a counselling risk, a mailbox letter) attaches to it as a `Signal` and
can only raise its level.

Three-level warning (班级—年级—学校三级预警, SJS 3.(三)1), up to the district centre: a
warning sits at a `Step` whose people must acknowledge it before `ack_due_at` (hours per
level from the district policy file, [care]); an unacknowledged warning escalates to the next
step (`care.services.escalate_overdue`). Every change is a `WarningEvent`.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.org.models import new_uid


class Level(models.TextChoices):
    # Ordered from least to most pressing; `LEVEL_RANK` gives the order.
    WATCH = "watch", _("Watch")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


LEVEL_RANK = {Level.WATCH: 1, Level.HIGH: 2, Level.URGENT: 3}


class Step(models.TextChoices):
    # The escalation ladder, lowest first (`STEP_ORDER`).
    CLASS = "class", _("Class")
    GRADE = "grade", _("Grade")
    SCHOOL = "school", _("School")
    DISTRICT = "district", _("District centre")


STEP_ORDER = [Step.CLASS, Step.GRADE, Step.SCHOOL, Step.DISTRICT]


class WarningStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class Source(models.TextChoices):
    SCREENING_CRITICAL = "screening_critical", _("Critical answer in screening")
    SCREENING_RESULT = "screening_result", _("Screening result")
    COUNSELLING_RISK = "counselling_risk", _("Risk noted in a counselling session")
    MAILBOX_LETTER = "mailbox_letter", _("Letter to the psychological mailbox")


class Warning(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="warnings")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="warnings")
    level = models.CharField(max_length=10, choices=Level.choices)
    status = models.CharField(max_length=14, choices=WarningStatus.choices, default=WarningStatus.OPEN)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.SCHOOL)
    ack_due_at = models.DateTimeField(null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=~models.Q(status="closed"),
                name="one_open_warning_per_student",
            )
        ]
        indexes = [models.Index(fields=["school", "status"]), models.Index(fields=["status", "ack_due_at"])]

    @property
    def rank(self) -> int:
        return LEVEL_RANK[Level(self.level)]

    def overdue(self, now: datetime) -> bool:
        return self.status == WarningStatus.OPEN and self.ack_due_at is not None and self.ack_due_at < now


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    SIGNAL = "signal", _("New signal")
    RAISED = "raised", _("Level raised")
    ESCALATED = "escalated", _("Escalated: not acknowledged in time")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")


class WarningEvent(models.Model):
    """The warning's history, written with every change in the same transaction."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    step = models.CharField(max_length=10, choices=Step.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Signal(models.Model):
    """One reason a warning exists. `ref` points at the source (an invitation uid …);
    `code` says what fired (e.g. "PHQ9.critical:phq9_item9")."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="signals")
    source = models.CharField(max_length=30, choices=Source.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    ref = models.CharField(max_length=64, blank=True)
    code = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class TaskKind(models.TextChoices):
    CONTACT_PSYCH = "contact_psych", _("Please contact the psych teacher about this student")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")


class Task(models.Model):
    """Work for a class teacher. Its wording is neutral: it never says why."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="tasks")
    school_class = models.ForeignKey("org.SchoolClass", on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    warning = models.ForeignKey(
        Warning, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["status", "-created_at"]
        indexes = [models.Index(fields=["school_class", "status"])]
