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
from functools import cached_property

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedJSONField, EncryptedTextField, TokenField
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

# Where an unacknowledged warning waits, as the class and grade teams read it.
WAITS_AT = {
    Step.CLASS: _("Waiting for the class teacher to acknowledge"),
    Step.GRADE: _("Waiting at the grade step"),
    Step.SCHOOL: _("Waiting for the psych teacher to acknowledge"),
    Step.DISTRICT: _("Waiting at the district centre"),
}


class WarningStatus(models.TextChoices):
    # Nobody has acknowledged it yet: 待确认, never "in progress" (issue 10, item 12).
    OPEN = "open", _("Awaiting acknowledgement")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class Source(models.TextChoices):
    SCREENING_CRITICAL = "screening_critical", _("Critical answer in screening")
    SCREENING_RESULT = "screening_result", _("Screening result")
    COUNSELLING_RISK = "counselling_risk", _("Risk noted in a counselling session")
    MAILBOX_LETTER = "mailbox_letter", _("Letter to the psychological mailbox")
    CONCERN = "concern", _("Concern reported by a staff member")
    SELF_REFERRAL = "self_referral", _("The student asked for help")
    RECHECK = "recheck", _("Concern found in a re-check")
    HOME_VISIT = "home_visit", _("Concern found in a home visit")


class Warning(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="warnings")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="warnings")
    level = TokenField(width=10, choices=Level.choices)  # a keyed token at rest (xinyu.crypto)
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
    # Set by triage: the case this warning became (or None when triage found nothing to do).
    case = models.ForeignKey(
        "Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="warnings"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = EncryptedTextField(max_length=300, blank=True, default="")

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

    @cached_property
    def is_overdue(self) -> bool:
        """Not acknowledged and past its deadline (now). Read once per instance."""
        return self.overdue(timezone.now())

    @property
    def awaits_acknowledgement(self) -> bool:
        return self.status == WarningStatus.OPEN

    @property
    def waits_at_label(self) -> str:
        """Where an unacknowledged warning waits, in neutral words (the class and grade
        teams' view): 等待年级组确认 … Empty once someone has acknowledged it."""
        if self.status != WarningStatus.OPEN:
            return ""
        return str(WAITS_AT[Step(self.step)])


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    SIGNAL = "signal", _("New signal")
    RAISED = "raised", _("Level raised")
    ESCALATED = "escalated", _("Escalated: not acknowledged in time")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    TRIAGED = "triaged", _("Triaged")
    CLOSED = "closed", _("Closed")


class WarningEvent(models.Model):
    """The warning's history, written with every change in the same transaction."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    step = models.CharField(max_length=10, choices=Step.choices)
    level = TokenField(width=10, choices=Level.choices)  # a keyed token at rest (xinyu.crypto)
    detail = EncryptedTextField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]


class Signal(models.Model):
    """One reason a warning exists. `ref` points at the source (an invitation uid …);
    `code` says what fired (e.g. "PHQ9.critical:phq9_item9")."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="signals")
    source = models.CharField(max_length=30, choices=Source.choices)
    level = TokenField(width=10, choices=Level.choices)  # a keyed token at rest (xinyu.crypto)
    ref = models.CharField(max_length=64, blank=True)
    code = TokenField(width=200, blank=True)  # e.g. "PHQ9.critical:phq9_item9": a keyed token
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class TaskKind(models.TextChoices):
    CONTACT_PSYCH = "contact_psych", _("Please contact the psych teacher about this student")
    OBSERVE = "observe", _("Please keep an eye on this student and note what you see")
    RECHECK = "recheck", _("Please check in with this student before the coming key period")
    CASE_ACTION = "case_action", _("Please do what the psych teacher asked about this student")


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
    case = models.ForeignKey("Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks")
    key_period = models.ForeignKey(
        "KeyPeriod", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    # What the psych teacher asks (neutral words, written for the class teacher), and what
    # the class teacher answers when marking it done (a teacher observation on the case).
    request = EncryptedTextField(max_length=300, blank=True, default="")
    due_on = models.DateField(null=True, blank=True)
    answer = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["status", "-created_at"]
        indexes = [models.Index(fields=["school_class", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["key_period", "student"],
                condition=models.Q(key_period__isnull=False),
                name="one_recheck_task_per_period",
            )
        ]


# ---- staff concerns (学生心理异常情况报告, SPEC §4; SJS 1.(二)1) ----------------------------


class Trigger(models.TextChoices):
    """What a staff member saw (the triggers SJS 3.(三)1 names, plus self-harm signs)."""

    THINKING = "thinking", _("Major change in thinking")
    ACADEMIC = "academic", _("Large drop in school work")
    FAMILY = "family", _("Major change in the family")
    SETBACK = "setback", _("Major setback")
    EMOTION = "emotion", _("Clear emotional or behavioural change")
    SELF_HARM = "self_harm", _("Signs of self-harm")
    OTHER = "other", _("Other")


class Concern(models.Model):
    """One staff member's report about a student. It raises (or joins) the student's warning."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="concerns")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    reporter = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="concerns")
    triggers = EncryptedJSONField(default=list)  # Trigger values
    note = EncryptedTextField(blank=True, default="")
    warning = models.ForeignKey(Warning, on_delete=models.PROTECT, related_name="concerns")
    created_at = models.DateTimeField()
    # The form's one-time token: a double tap or a resent form records one concern.
    token = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def trigger_labels(self) -> list[str]:
        labels = dict(Trigger.choices)
        return [str(labels.get(t, t)) for t in self.triggers]


# ---- cases (个案, SPEC §4: tiered intervention, one-to-one / many-to-one tracking) --------------


class Tier(models.TextChoices):
    """分层干预 (SPEC §4; SJS 3.(三)2). Labels never reach class teachers or grade leaders."""

    GENERAL = "general", _("General problem (一般心理问题)")
    SERIOUS = "serious", _("Serious conflict (较严重心理冲突)")
    SEVERE = "severe", _("Severe abnormality or crisis (严重心理异常/心理危机)")


TIER_RANK = {Tier.GENERAL: 1, Tier.SERIOUS: 2, Tier.SEVERE: 3}


class CaseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    # Closed with an outcome, but still on the watch list until `follow_up_until`.
    FOLLOW_UP = "follow_up", _("Follow-up period")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    IMPROVED = "improved", _("Improved, no further intervention needed")
    STABLE = "stable", _("Stable with support")
    REFERRED = "referred", _("In treatment outside the school")
    LEFT_SCHOOL = "left_school", _("Left the school")
    OTHER = "other", _("Other")


class Case(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="cases")
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="cases")
    tier = TokenField(width=10, choices=Tier.choices)  # a keyed token at rest (xinyu.crypto)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.ACTIVE)
    owner = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="owned_cases")
    # Seen by the district centre's experts (serious and severe tiers, or by choice).
    escalated_to_centre = models.BooleanField(default=False)
    assessment = EncryptedTextField(blank=True, default="")  # the triage assessment
    plan = EncryptedTextField(blank=True, default="")
    goals = EncryptedTextField(blank=True, default="")
    next_contact_on = models.DateField(null=True, blank=True)
    last_contact_on = models.DateField(null=True, blank=True)
    next_contact_reminded_on = models.DateField(null=True, blank=True)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    outcome = TokenField(width=12, choices=Outcome.choices, blank=True)
    outcome_note = EncryptedTextField(blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)  # outcome recorded
    follow_up_until = models.DateField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # left the watch list

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"], condition=~models.Q(status="closed"), name="one_open_case_per_student"
            )
        ]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["status", "next_contact_on"]),
        ]

    @property
    def on_watch_list(self) -> bool:
        return self.status != CaseStatus.CLOSED

    @property
    def contact_due(self) -> bool:
        """Active, and the next contact is today or past."""
        return (
            self.status == CaseStatus.ACTIVE
            and self.next_contact_on is not None
            and self.next_contact_on <= timezone.localdate()
        )

    @property
    def can_end(self) -> bool:
        """In follow-up, and the follow-up period is over (or has no end): the student may
        leave the watch list."""
        return self.status == CaseStatus.FOLLOW_UP and (
            self.follow_up_until is None or self.follow_up_until <= timezone.localdate()
        )


class CaseMember(models.Model):
    """The case team (一对一 / 多对一): the owner plus other psych staff or centre experts."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="case_memberships")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="one_membership_per_case")]


class ActionStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class CaseAction(models.Model):
    """One required action of the tier's checklist (from the district policy file). It must be
    recorded done, or skipped with a reason, before the case can close."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    tier = TokenField(width=10, choices=Tier.choices)  # a keyed token at rest (xinyu.crypto)
    status = models.CharField(max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    note = EncryptedTextField(blank=True, default="")  # what was done, or why it was skipped
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "code"], name="one_action_per_code")]


class EntryKind(models.TextChoices):
    CONTACT = "contact", _("Talk with the student")
    COUNSELLING = "counselling", _("Counselling session")
    HOME_CONTACT = "home_contact", _("Home contact")
    TEACHER_OBSERVATION = "teacher_observation", _("Teacher observation")
    REASSESSMENT = "reassessment", _("Re-assessment")
    NOTE = "note", _("Note")


class CaseEntry(models.Model):
    """A dated follow-up entry (跟踪记录)."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    on = models.DateField()
    note = EncryptedTextField(blank=True, default="")
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    # A re-assessment points at the screening invitation that carries it.
    invitation = models.ForeignKey(
        "screening.Invitation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-on", "-id"]


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("Case opened")
    TIER = "tier", _("Tier changed")
    ACTION = "action", _("Checklist action recorded")
    ENTRY = "entry", _("Follow-up recorded")
    PLAN = "plan", _("Plan updated")
    TEAM = "team", _("Team changed")
    ESCALATED = "escalated", _("Shared with the district centre")
    GUARDIAN = "guardian", _("Guardian contact recorded")
    DISCLOSURE = "disclosure", _("Confidentiality exception recorded")
    REFERRAL = "referral", _("Referral")
    CLOSED = "closed", _("Closed with an outcome")
    REOPENED = "reopened", _("Reopened")
    ENDED = "ended", _("Left the watch list")


class CaseEvent(models.Model):
    """The case's history, written with every change in the same transaction."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=CaseEventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    detail = EncryptedTextField(max_length=300, blank=True, default="")  # e.g. a tier change

    class Meta:
        ordering = ["at", "id"]


# ---- guardians and the confidentiality exception (SPEC §2, §4) ------------------------------


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    IN_PERSON = "in_person", _("In person at school")
    HOME_VISIT = "home_visit", _("Home visit")
    MESSAGE = "message", _("Message")


class GuardianContact(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="guardian_contacts")
    guardian = models.ForeignKey(
        "org.Guardian", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    guardian_name = models.CharField(max_length=50)  # as recorded (a guardian row may change)
    at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    agreed = EncryptedTextField(blank=True, default="")  # what was agreed
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-at"]


class DisclosureBasis(models.TextChoices):
    SELF = "self", _("Serious risk of harm to self")
    OTHERS = "others", _("Serious risk of harm to others")


class Disclosure(models.Model):
    """The confidentiality exception (保密例外, SPEC §2): what was told to whom, and why."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="disclosures")
    basis = models.CharField(max_length=8, choices=DisclosureBasis.choices)
    recipients = models.CharField(max_length=300)
    what = EncryptedTextField()
    at = models.DateTimeField()
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-at"]


# ---- referral (转介, SPEC §4; XY 7, SJS 3.(四)) ---------------------------------------------


class InstitutionKind(models.TextChoices):
    HOSPITAL = "hospital", _("Medical institution")
    DISTRICT_SERVICE = "district_service", _("District service")


class Institution(models.Model):
    """The district's referral registry."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey("org.District", on_delete=models.PROTECT, related_name="institutions")
    name = models.CharField(_("name"), max_length=100)
    department = models.CharField(_("department"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=InstitutionKind.choices)
    contact = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    green_channel = models.BooleanField(_("green channel (绿色通道)"), default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-green_channel", "name"]


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    SEEN = "seen", _("Seen by the institution")
    FEEDBACK = "feedback", _("Feedback received")
    RETURNED = "returned", _("Back at school")
    CLOSED = "closed", _("Support plan finished")
    CANCELLED = "cancelled", _("Cancelled")


class Referral(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="referrals")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="referrals")
    reason = EncryptedTextField()
    referred_on = models.DateField()
    accompanied_by = models.CharField(max_length=100, blank=True)
    guardian_agreed = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT)
    feedback_due_on = models.DateField()
    feedback_reminded_on = models.DateField(null=True, blank=True)
    seen_on = models.DateField(null=True, blank=True)
    feedback_on = models.DateField(null=True, blank=True)
    # Only as entered by the psych teacher: a summary, never the medical record.
    diagnosis_summary = EncryptedTextField(blank=True, default="")
    advice = EncryptedTextField(blank=True, default="")
    returned_on = models.DateField(null=True, blank=True)
    return_plan = EncryptedTextField(blank=True, default="")  # 回归保健
    created_by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-referred_on", "-id"]
        indexes = [models.Index(fields=["status", "feedback_due_on"])]

    @property
    def feedback_overdue(self) -> bool:
        """Still waiting for the institution's feedback after its due date."""
        return (
            self.status in (ReferralStatus.SENT, ReferralStatus.SEEN)
            and self.feedback_due_on < timezone.localdate()
        )


class CheckIn(models.Model):
    """A scheduled check-in of the return-to-school support plan."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="check_ins")
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    note = EncryptedTextField(blank=True, default="")
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["due_on", "id"]

    @property
    def is_due(self) -> bool:
        """Not done, and due today or past."""
        return self.done_on is None and self.due_on <= timezone.localdate()


# ---- key populations and key periods (重点对象, 重点时段, SPEC §4) ---------------------------


class RecheckRound(models.Model):
    """Dynamic re-check (动态排查) of a school's key-population students for one term: one
    list per class, which the class teacher completes."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="recheck_rounds")
    term = models.CharField(max_length=40)  # e.g. "2026-2027 第一学期"
    due_on = models.DateField()
    created_by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["school", "term"], name="one_recheck_round_per_term")]


class RecheckResult(models.TextChoices):
    PENDING = "pending", _("Not checked yet")
    STABLE = "stable", _("Seems well")
    CONCERN = "concern", _("Worried: tell the psych teacher")


class RecheckEntry(models.Model):
    round = models.ForeignKey(RecheckRound, on_delete=models.CASCADE, related_name="entries")
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("org.SchoolClass", on_delete=models.PROTECT, related_name="+")
    result = TokenField(width=8, choices=RecheckResult.choices, default=RecheckResult.PENDING)
    note = EncryptedTextField(blank=True, default="")
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        "org.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["school_class_id", "student__name"]
        constraints = [models.UniqueConstraint(fields=["round", "student"], name="one_recheck_per_student")]


class PeriodKind(models.TextChoices):
    EXAM = "exam", _("Exams")
    HOLIDAY = "holiday", _("Before or after a holiday")
    SCHOOL_START = "school_start", _("School start")
    GRADUATION = "graduation", _("Graduation")
    NEW_STUDENTS = "new_students", _("New students arrive")
    OTHER = "other", _("Other")


class KeyPeriod(models.Model):
    """A key period (重点时段) of the district (school=None) or of one school. `lead_days`
    before it starts, students on the watch list get a re-check task."""

    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    district = models.ForeignKey("org.District", on_delete=models.PROTECT, related_name="key_periods")
    school = models.ForeignKey(
        "org.School", on_delete=models.PROTECT, null=True, blank=True, related_name="key_periods"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=14, choices=PeriodKind.choices)
    starts_on = models.DateField(_("starts on"))
    lead_days = models.PositiveSmallIntegerField(_("re-check days before"), default=7)
    tasks_created_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["starts_on"]


# ---- crisis events (突发事件 / 应急预案, SPEC §4; QX 12, XY 6) --------------------------------


class CrisisStatus(models.TextChoices):
    OPEN = "open", _("Emergency plan running")
    CLOSED = "closed", _("Closed")


class CrisisEvent(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="crisis_events")
    title = EncryptedTextField(max_length=100)  # neutral: no names, no diagnoses; encrypted
    occurred_at = models.DateTimeField()
    summary = EncryptedTextField(blank=True, default="")
    status = models.CharField(max_length=8, choices=CrisisStatus.choices, default=CrisisStatus.OPEN)
    started_by = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = EncryptedTextField(blank=True, default="")
    students = models.ManyToManyField("org.Student", through="CrisisStudent", related_name="+")

    class Meta:
        ordering = ["-started_at"]


class CrisisStep(models.TextChoices):
    """The emergency plan's stages (QX 12): start, verify, handle, support others, prevent
    secondary harm; plus people informed."""

    START = "start", _("Plan started")
    VERIFY = "verify", _("Verified")
    HANDLE = "handle", _("Handled")
    INFORM = "inform", _("Informed")
    SUPPORT = "support", _("Support for other students")
    PREVENT = "prevent", _("Preventing secondary harm")
    CLOSE = "close", _("Closed")


class CrisisAction(models.Model):
    """The event's timeline."""

    event = models.ForeignKey(CrisisEvent, on_delete=models.CASCADE, related_name="actions")
    step = models.CharField(max_length=8, choices=CrisisStep.choices)
    at = models.DateTimeField()
    text = EncryptedTextField()
    informed = models.CharField(max_length=200, blank=True)  # for INFORM: who was told
    by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["at", "id"]


class CrisisRole(models.TextChoices):
    INVOLVED = "involved", _("Involved")
    AFFECTED = "affected", _("Affected (needs support)")


class CrisisStudent(models.Model):
    event = models.ForeignKey(CrisisEvent, on_delete=models.CASCADE, related_name="people")
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=8, choices=CrisisRole.choices)
    support = EncryptedTextField(blank=True, default="")  # follow-up support given
    supported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "student"], name="one_role_per_crisis")]
