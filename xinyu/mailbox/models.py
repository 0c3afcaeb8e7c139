"""The psychological mailbox (心理信箱, SPEC §5: XY "a mailbox outside the room", SJS "online
mailbox 24 h a day", QX 18 "school email answered by psych teachers").

A student writes from the school's public page without an account, anonymously or signed
(name and class as they write them, or identified by their student key). The school's psych
teachers triage and reply within the district's deadline (`[mailbox]` in policies/*.toml);
the student reads the reply with the retrieval code shown once when they sent the letter
(only its SHA-256 is stored).

Privacy: letter text, signatures, replies and triage notes are encrypted at rest
(`xinyu.crypto.EncryptedTextField`). An anonymous letter carries no IP address, device or
session identifier, and no audit row links it to a person. The time of receipt is kept to
the hour only, so it cannot be matched against web-server logs to the second.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyu.crypto import EncryptedTextField
from xinyu.org.models import new_uid


class Signature(models.TextChoices):
    ANONYMOUS = "anonymous", _("Anonymous")
    SIGNED = "signed", _("Signed with name and class")
    STUDENT_KEY = "student_key", _("Identified by student key")


class LetterStatus(models.TextChoices):
    NEW = "new", _("Awaiting reply")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", _("Closed without reply")


class FlagReason(models.TextChoices):
    WORDS = "words", _("Mentions harm (word list)")
    MANUAL = "manual", _("Flagged by the psych teacher")


class Letter(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    # The mailbox it was posted to. Once the letter is linked to a student, scope follows the
    # student's current school instead (`xinyu.access.mailbox_access.letters_for`).
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="letters")
    signature = models.CharField(max_length=12, choices=Signature.choices)
    # Set for a student-key letter, or when the psych teacher matches a signed letter to a
    # student. Never for an anonymous letter (`services.link_student` refuses).
    student = models.ForeignKey(
        "org.Student", on_delete=models.PROTECT, null=True, blank=True, related_name="letters"
    )
    signed_name = EncryptedTextField(blank=True, default="")
    signed_class = EncryptedTextField(blank=True, default="")
    body = EncryptedTextField()
    retrieval_hash = models.CharField(max_length=64, unique=True)
    # Hash of the form's one-time token: sending the same form twice stores one letter.
    once_hash = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField()  # truncated to the hour
    reply_due = models.DateTimeField()
    status = models.CharField(max_length=8, choices=LetterStatus.choices, default=LetterStatus.NEW)
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=8, choices=FlagReason.choices, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)
    note = EncryptedTextField(blank=True, default="")  # the psych teacher's triage note
    warning = models.ForeignKey(
        "care.Warning", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-flagged", "reply_due", "id"]
        indexes = [models.Index(fields=["school", "status"]), models.Index(fields=["student"])]

    @property
    def is_anonymous(self) -> bool:
        return self.signature == Signature.ANONYMOUS


class Reply(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="replies")
    body = EncryptedTextField()
    author = models.ForeignKey("org.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)  # first read by the student

    class Meta:
        ordering = ["at", "id"]
