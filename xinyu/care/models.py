"""Early warning (SPEC §4): warnings raised about a student, and tasks for staff.

A student has at most one open `Warning`; every new signal (a critical screening answer,
a screening result, later a staff concern or a mailbox letter) attaches to it as a
`Signal` and can only raise its level. The care issue adds acknowledgement deadlines,
escalation and cases on top of these rows.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.org.models import new_uid


class Level(models.TextChoices):
    # Ordered from least to most pressing; `LEVEL_RANK` gives the order.
    WATCH = "watch", _("Watch")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


LEVEL_RANK = {Level.WATCH: 1, Level.HIGH: 2, Level.URGENT: 3}


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

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=~models.Q(status="closed"),
                name="one_open_warning_per_student",
            )
        ]
        indexes = [models.Index(fields=["school", "status"])]

    @property
    def rank(self) -> int:
        return LEVEL_RANK[Level(self.level)]


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
