"""Psych classes (心理健康课, issue 13 item 1; QX 9, CY 三.(二), SJS 一.(三)).

- `Lesson`: one period given to one class: date, period number (节次), topic, teacher (the
  register's `StaffMember` when known, and the name as written), form (CY 三.(二)), kind
  (a lesson, or an exam-stress session 考前心理辅导 for a graduating class, SJS 一.(三)),
  source (entered or imported). One row per class, date and period, so importing the same
  lesson log again changes nothing.
- `GraduatingClass`: a class marked graduating for one semester (besides the policy's
  `[lessons] graduating_grades`); its exam-stress sessions count instead of lessons.
- `LessonEvidence`: photos and files of a lesson (`xinyu.kernel.evidence`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.kernel.evidence import EvidenceFile
from xinyu.org.models import School, SchoolClass, User, new_uid
from xinyu.staff.models import StaffMember


class LessonForm(models.TextChoices):
    """CY 三.(二): 团体活动、心理训练、情境设计、问题辨析、角色扮演、游戏辅导、心理情景剧、专题讲座."""

    GROUP_ACTIVITY = "group", _("Group activity (团体活动)")
    TRAINING = "training", _("Psychological training (心理训练)")
    SITUATION = "situation", _("Situation design (情境设计)")
    DISCUSSION = "discussion", _("Problem discussion (问题辨析)")
    ROLE_PLAY = "role_play", _("Role play (角色扮演)")
    GAME = "game", _("Game (游戏辅导)")
    PSYCHODRAMA = "psychodrama", _("Psychodrama (心理情景剧)")
    LECTURE = "lecture", _("Lecture (专题讲座)")


class LessonKind(models.TextChoices):
    LESSON = "lesson", _("Psych lesson (心理健康课)")
    EXAM_STRESS = "exam_stress", _("Exam-stress session (考前心理辅导)")


class LessonSource(models.TextChoices):
    MANUAL = "manual", _("Entered")
    IMPORT = "import", _("Imported")


class Lesson(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")  # = the class's
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="lessons")
    date = models.DateField(_("date"))
    period = models.PositiveSmallIntegerField(_("period"))
    topic = models.CharField(_("topic"), max_length=200)
    teacher = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    teacher_name = models.CharField(_("teacher"), max_length=50, blank=True)
    form = models.CharField(_("form"), max_length=12, choices=LessonForm.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=LessonKind.choices, default=LessonKind.LESSON)
    source = models.CharField(max_length=8, choices=LessonSource.choices, default=LessonSource.MANUAL)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_class", "date", "period"], name="unique_lesson_period"),
        ]
        indexes = [models.Index(fields=["school", "date"], name="lesson_school_date_idx")]
        ordering = ["date", "period", "id"]

    def __str__(self) -> str:
        return f"{self.date} #{self.period} {self.topic}"


class GraduatingClass(models.Model):
    """A class marked graduating (毕业年级) for one semester (`kernel.semester` key "2026-2")."""

    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="+")
    semester = models.CharField(max_length=7)
    marked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_class", "semester"], name="unique_graduating_class"),
        ]


class LessonEvidence(EvidenceFile):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="evidence")


class LessonTally(models.Model):
    """A class's lessons of one semester by day (`tallies.py`), so the district page reads one
    row per class instead of every lesson. Kept by the services and the import in the same
    transaction as the lessons (recounted from the lessons, never incremented); `start`/`end`
    are the semester's days when counted: a calendar changed since makes the row stale and the
    page counts the lessons instead. `lessons` and `sessions` (exam-stress) hold one character
    per period, its day since `start` (`rules.day_chars`)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="+")
    semester = models.CharField(max_length=7)
    start = models.DateField()
    end = models.DateField()
    lessons = models.TextField(blank=True, default="")
    sessions = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_class", "semester"], name="unique_lesson_tally"),
        ]
        indexes = [models.Index(fields=["school", "semester"], name="lesson_tally_school_idx")]
