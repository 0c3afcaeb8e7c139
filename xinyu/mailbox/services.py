"""Writes for the psychological mailbox. Each function is atomic and writes its audit row.

Rows written for the public (a student sending or reading a letter) carry no IP address,
no request id and no user: nothing in the audit log can tie an anonymous letter to a
device or a person. Staff actions are audited as usual (the staff member, never the writer),
with the role derived here from the access policy (`by` is the staff member).

Refusals raise `xinyu.kernel.errors.ServiceError` in Chinese and English, naming the field.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Level
from xinyu.audit.models import Action
from xinyu.audit.services import record, record_many
from xinyu.care import intake as care_services
from xinyu.care.intake import Level as WarningLevel
from xinyu.care.intake import Source
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.validators import Label
from xinyu.mailbox import access as mailbox_access
from xinyu.notify.services import notify_users
from xinyu.org.models import School, Student, User

from . import words
from .models import FlagReason, Letter, LetterStatus, Reply, Signature

MAX_LETTER_CHARS = 5000
MAX_REPLY_CHARS = 5000
# Unambiguous on paper and phone screens (no 0/O, 1/I/L); 12 characters ≈ 60 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4


LETTER = Label("body", "信的内容", "letter")
REPLY = Label("body", "回信内容", "reply")
NAME = Label("signed_name", "姓名", "name")
LEVEL = Label("level", "预警级别", "warning level")


class DuplicateLetter(ServiceError):
    """The same form was sent twice (double tap, reload): the first letter stands."""


@dataclass(frozen=True)
class Sent:
    letter: Letter
    code: str  # shown once to the writer; only its hash is stored


def new_retrieval_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH)) for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def hash_code(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def reply_within_days(school: School) -> int:
    return int(policy_for_code(school.district.code)["mailbox"]["reply_within_days"])


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _public_record(*, action: Action, letter: Letter, detail: str) -> None:
    """An audit row for the writer's own action: no user, no IP, no request id, and (like
    the letter) only the hour, so it cannot be matched to a web-server log line; the
    student only when they identified themselves with their student key. Written by the
    one bulk writer (`record_many`) without the request's context."""
    record_many(
        [
            {
                "at": _hour(timezone.now()),
                "actor": None,
                "role": "public",
                "action": action,
                "object_type": "letter",
                "object_id": str(letter.uid),
                "student_id": letter.student_id if letter.signature == Signature.STUDENT_KEY else None,
                "school_id": letter.school_id,
                "detail": detail,
            }
        ],
        with_request=False,
    )


def _notify_flagged(letter: Letter) -> None:
    """The school's psych teachers at once; no name, no words of the letter (SMS leaves the system)."""
    notify_users(
        users=care_services.psych_teachers_of(letter.school_id),
        kind="mailbox_flagged",
        subject=_("Mailbox letter needs attention"),
        body=_("A letter in your school's mailbox may concern a student's safety. Open Xinyu to read it."),
        link=f"/letters/{letter.uid}/",
    )


@transaction.atomic
def send_letter(
    *,
    school: School,
    body: str,
    signature: Signature,
    signed_name: str = "",
    signed_class: str = "",
    student: Student | None = None,
    once: str = "",
) -> Sent:
    """Post a letter to the school's mailbox. A letter that mentions harm (the word list) is
    flagged and the psych teachers are notified at once."""
    body = validators.text(body, LETTER, limit=MAX_LETTER_CHARS)
    if signature == Signature.ANONYMOUS:
        signed_name, signed_class, student = "", "", None
    elif signature == Signature.SIGNED:
        signed_name, signed_class, student = signed_name.strip()[:50], signed_class.strip()[:50], None
        if not signed_name:
            raise ServiceError(
                "请填写姓名，或选择匿名。",
                "Please write your name, or choose to write anonymously.",
                field="signed_name",
            )
    elif student is None:
        raise ServiceError("学生码无效。", "Your student key was not recognised.", field="student_key")
    else:
        school = student.school
        signed_name, signed_class = "", ""
    now = timezone.now()
    received = _hour(now)
    flagged = bool(words.matches(body))
    code = new_retrieval_code()
    letter = Letter(
        school=school,
        signature=signature,
        student=student,
        signed_name=signed_name,
        signed_class=signed_class,
        body=body,
        retrieval_hash=hash_code(code),
        once_hash=hashlib.sha256((once or secrets.token_hex(16)).encode()).hexdigest(),
        received_at=received,
        reply_due=received + timedelta(days=reply_within_days(school)),
        flagged=flagged,
        flag_reason=FlagReason.WORDS if flagged else "",
        flagged_at=now if flagged else None,
    )
    try:
        with transaction.atomic():
            letter.save()
    except IntegrityError as exc:
        raise DuplicateLetter("这封信已经寄出。", "This letter has already been sent.") from exc
    _public_record(action=Action.CREATE, letter=letter, detail="letter received")
    if flagged:
        _notify_flagged(letter)
    return Sent(letter, code)


def find_by_code(code: str) -> Letter | None:
    if not code.strip():
        return None
    return Letter.objects.select_related("school").filter(retrieval_hash=hash_code(code)).first()


@transaction.atomic
def open_with_code(letter: Letter) -> list[Reply]:
    """The writer reads their letter and its replies; the first read of a reply is noted."""
    replies = list(letter.replies.all())
    unread = [r.pk for r in replies if r.read_at is None]
    if unread:
        Reply.objects.filter(pk__in=unread).update(read_at=timezone.now())
    _public_record(action=Action.VIEW, letter=letter, detail="read with retrieval code")
    return replies


@transaction.atomic
def identify_myself(*, letter: Letter, name: str, school_class: str) -> Letter:
    """An anonymous writer chooses to tell the psych teacher who they are (their decision,
    never the system's)."""
    name = validators.text(name.strip()[:50], NAME)
    if letter.signature != Signature.ANONYMOUS:
        return letter
    letter.signature = Signature.SIGNED
    letter.signed_name = name
    letter.signed_class = school_class.strip()[:50]
    letter.save(update_fields=["signature", "signed_name", "signed_class"])
    _public_record(action=Action.UPDATE, letter=letter, detail="writer signed the letter")
    if letter.flagged:
        _notify_flagged(letter)
    return letter


# ---- the psych teacher's work -------------------------------------------------------------


def _staff_record(by: User, letter: Letter, action: Action, detail: str) -> None:
    record(
        actor=by,
        action=action,
        obj=letter,
        student=letter.student,
        school=None if letter.student else letter.school,
        role=policy.audit_role(by, letter.student),
        detail=detail,
    )


def _check_may_answer(by: User, letter: Letter) -> None:
    if not mailbox_access.letters_for(by).filter(pk=letter.pk).exists():
        raise ServiceError("您无权处理这封来信。", "You may not work on this letter.")


@transaction.atomic
def reply(*, by: User, letter: Letter, body: str) -> Reply:
    _check_may_answer(by, letter)
    body = validators.text(body, REPLY, limit=MAX_REPLY_CHARS)
    answer = Reply.objects.create(letter=letter, body=body, author=by, at=timezone.now())
    letter.status = LetterStatus.REPLIED
    letter.save(update_fields=["status"])
    _staff_record(by, letter, Action.CREATE, "reply")
    return answer


@transaction.atomic
def set_flag(*, by: User, letter: Letter, flagged: bool) -> Letter:
    _check_may_answer(by, letter)
    if letter.flagged == flagged:
        return letter
    letter.flagged = flagged
    letter.flag_reason = FlagReason.MANUAL if flagged else ""
    letter.flagged_at = timezone.now() if flagged else None
    letter.save(update_fields=["flagged", "flag_reason", "flagged_at"])
    _staff_record(by, letter, Action.UPDATE, "flagged" if flagged else "unflagged")
    return letter


@transaction.atomic
def save_note(*, by: User, letter: Letter, note: str) -> Letter:
    _check_may_answer(by, letter)
    letter.note = note.strip()[:5000]
    letter.save(update_fields=["note"])
    _staff_record(by, letter, Action.UPDATE, "note")
    return letter


@transaction.atomic
def close(*, by: User, letter: Letter) -> Letter:
    """No reply needed (e.g. an empty or joke letter); it leaves the awaiting list."""
    _check_may_answer(by, letter)
    if letter.status == LetterStatus.NEW:
        letter.status = LetterStatus.CLOSED
        letter.save(update_fields=["status"])
        _staff_record(by, letter, Action.UPDATE, "closed")
    return letter


@transaction.atomic
def link_student(*, by: User, letter: Letter, student: Student) -> Letter:
    """Match a signed letter to the student who signed it. Anonymous letters cannot be linked."""
    _check_may_answer(by, letter)
    if letter.signature == Signature.ANONYMOUS:
        raise ServiceError(
            "匿名来信不能关联到学生。", "An anonymous letter is never linked to a student.", field="student"
        )
    if policy.level_for(by, student) < Level.FULL:
        raise ServiceError(
            "您不能把这封信关联到该学生。", "You may not link this letter to that student.", field="student"
        )
    letter.student = student
    letter.save(update_fields=["student"])
    _staff_record(by, letter, Action.UPDATE, "linked to student")
    return letter


@transaction.atomic
def raise_warning(*, by: User, letter: Letter, level: str = WarningLevel.URGENT) -> Letter:
    """A flagged letter from an identified student becomes a warning (care's one door), at
    `level` (one of care's warning levels; empty: urgent)."""
    _check_may_answer(by, letter)
    level = WarningLevel(validators.choice(level or WarningLevel.URGENT, LEVEL, WarningLevel.values))
    if letter.student is None:
        raise ServiceError("请先把来信关联到学生。", "Link the letter to a student first.", field="student")
    if not letter.flagged:
        raise ServiceError("只有已标记的来信才能发起预警。", "Only a flagged letter can raise a warning.")
    categories = sorted({m.category for m in words.matches(letter.body)}) or ["manual"]
    warning = care_services.raise_warning(
        student=letter.student,
        level=level,
        source=Source.MAILBOX_LETTER,
        ref=str(letter.uid),
        code="mailbox:" + ",".join(categories),
    )
    letter.warning = warning
    letter.save(update_fields=["warning"])
    _staff_record(by, letter, Action.UPDATE, f"warning raised: {level}")
    return letter


def is_overdue(letter: Letter, now: datetime | None = None) -> bool:
    return letter.status == LetterStatus.NEW and (now or timezone.now()) > letter.reply_due
