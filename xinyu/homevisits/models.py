"""Home visits (家访, issue 13 item 4; QX 15, SJS 三.(一)): one row per visit of a student's
family by school staff. The note is sensitive free text (encrypted at rest) and is read only by
the class teacher of the student's class, the school's leaders and its psych teachers
(`xinyu.homevisits.access`)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField
from xinyu.kernel.evidence import EvidenceFile


def new_uid() -> uuid.UUID:
    return uuid.uuid4()


class VisitForm(models.TextChoices):
    VISIT = "visit", _("Home visit (上门家访)")
    PHONE = "phone", _("Phone (电话)")
    VIDEO = "video", _("Video (视频)")
    AT_SCHOOL = "at_school", _("At school (到校面谈)")


class Met(models.TextChoices):
    FATHER = "father", _("Father (父亲)")
    MOTHER = "mother", _("Mother (母亲)")
    GUARDIAN = "guardian", _("Guardian (监护人)")
    GRANDPARENT = "grandparent", _("Grandparent (祖辈)")
    OTHER = "other", _("Other (其他)")


class VisitSource(models.TextChoices):
    MANUAL = "manual", _("Recorded by hand")
    IMPORT = "import", _("Imported from Excel")


class HomeVisit(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="home_visits")
    # Denormalised at the time of the visit: the scope of the row (a transfer keeps the visit
    # with the school and class that made it).
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("org.SchoolClass", on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField(_("visit date"))
    form = models.CharField(_("form"), max_length=10, choices=VisitForm.choices)
    met = models.CharField(_("met"), max_length=12, choices=Met.choices)
    note = EncryptedTextField(_("note"), blank=True)
    concern_raised = models.BooleanField(default=False)
    warning = models.ForeignKey(
        "care.Warning", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    source = models.CharField(max_length=6, choices=VisitSource.choices, default=VisitSource.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "visited_on", "form"], name="homevisit_once_per_day_form"
            )
        ]
        indexes = [
            models.Index(fields=["school", "visited_on"]),
            models.Index(fields=["school_class", "visited_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.visited_on} {self.form}"


class HomeVisitEvidence(EvidenceFile):
    visit = models.ForeignKey(HomeVisit, on_delete=models.CASCADE, related_name="evidence")
