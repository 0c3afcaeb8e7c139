"""Writes of outreach (issue 13 items 2–3): create and edit talks, record one as held with its
attendance, cancel, attach evidence, and the public feedback (one answer per phone, only in
the window `[outreach] feedback_open_minutes_before` .. `feedback_close_hours_after`).
Keyword-only, atomic, audited in the same transaction; refusals raise `ServiceError`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.validators import Label
from xinyu.org.models import District, School, User

from . import access
from .models import AUDIENCES, Feedback, Talk, TalkEvidence, TalkKind, TalkStatus

FEEDBACK_SALT = "xinyu.outreach.feedback"
DEVICE_SALT = "xinyu.outreach.device"

TOPIC = Label("topic", "主题", "topic")
KIND = Label("kind", "类型", "kind")
STATUS = Label("status", "状态", "status")
AUDIENCE = Label("audience", "对象", "audience")
SPEAKER = Label("speaker", "主讲人", "speaker")
QUALIFICATION = Label("speaker_qualification", "主讲人资质", "speaker's qualification")
PLACE = Label("place", "地点", "place")
NOTES = Label("notes", "备注", "notes")
ATTENDANCE = Label("attendance", "参加人数", "attendance")
RATING = Label("rating", "总体评分", "rating")
USEFULNESS = Label("usefulness", "实用性", "usefulness")
COMMENT = Label("comment", "意见建议", "comment")


def section(district: District) -> dict[str, Any]:
    """`[outreach]` of the district's policy file."""
    return dict(policy_for_code(district.code).get("outreach", {}))


def _audit(by: User | None, action: Action, obj: Any, talk: Talk, detail: str) -> None:
    record(
        actor=by,
        action=action,
        obj=obj,
        school=talk.school,
        role=policy.audit_role(by) if by is not None else "",
        detail=detail,
    )


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "topic" in data:
        out["topic"] = validators.text(data["topic"], TOPIC, limit=200)
    if "status" in data:
        out["status"] = validators.choice(data["status"], STATUS, TalkStatus.values)
    if "audience" in data:
        out["audience"] = ",".join(
            validators.choices(data["audience"] or [], AUDIENCE, AUDIENCES, required=False)
        )
    for key, label, limit in (
        ("speaker", SPEAKER, 100),
        ("speaker_qualification", QUALIFICATION, 200),
        ("place", PLACE, 200),
        ("notes", NOTES, 2000),
    ):
        if key in data:
            out[key] = validators.text(data[key], label, required=False, limit=limit)
    if "attendance" in data:
        out["attendance"] = validators.number(
            data["attendance"], ATTENDANCE, required=False, minimum=0, maximum=100000
        )
    return out


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if ends_at <= starts_at:
        raise ServiceError("结束时间须晚于开始时间", "The end must be after the start", field="ends_at")


@transaction.atomic
def create_talk(
    *,
    by: User,
    district: District,
    kind: str,
    topic: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    school: School | None = None,
    audience: list[str] | None = None,
    speaker: str = "",
    speaker_qualification: str = "",
    place: str = "",
    notes: str = "",
    status: str = TalkStatus.PLANNED,
    attendance: int | None = None,
) -> Talk:
    kind = validators.choice(kind, KIND, TalkKind.values)
    if school is not None and school.district_id != district.pk:
        raise ServiceError("学校不属于该区县", "The school is not in this district", field="school")
    if not access.may_create(by, school=school, district_id=district.pk):
        policy.deny(by, object_type="school", object_id=str(school.uid) if school else str(district.pk))
    _check_times(starts_at, ends_at)
    data = _clean(
        {
            "topic": topic,
            "audience": audience or [],
            "speaker": speaker,
            "speaker_qualification": speaker_qualification,
            "place": place,
            "notes": notes,
            "status": status,
            "attendance": attendance,
        }
    )
    talk = Talk.objects.create(
        district=district,
        school=school,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        feedback_secret=secrets.token_hex(32),
        by=by,
        **data,
    )
    _audit(by, Action.CREATE, talk, talk, f"talk created ({kind})")
    return talk


def _require_manage(by: User, talk: Talk) -> None:
    if not access.may_manage(by, talk):
        policy.deny(by, object_type="talk", object_id=str(talk.uid))


@transaction.atomic
def update_talk(
    *,
    by: User,
    talk: Talk,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    **fields: Any,
) -> Talk:
    _require_manage(by, talk)
    allowed = {
        "topic",
        "audience",
        "speaker",
        "speaker_qualification",
        "place",
        "notes",
        "status",
        "attendance",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    data = _clean(fields)
    talk.starts_at = starts_at or talk.starts_at
    talk.ends_at = ends_at or talk.ends_at
    _check_times(talk.starts_at, talk.ends_at)
    for key, value in data.items():
        setattr(talk, key, value)
    talk.save()
    _audit(by, Action.UPDATE, talk, talk, "talk updated")
    return talk


@transaction.atomic
def record_held(*, by: User, talk: Talk, attendance: int, now: dt.datetime | None = None) -> Talk:
    """Mark the talk held with its attendance (not before it started)."""
    _require_manage(by, talk)
    if talk.starts_at > (now or timezone.now()):
        raise ServiceError(
            "活动尚未开始，不能登记为已举办", "The talk has not started yet", field="attendance"
        )
    talk.attendance = _clean({"attendance": attendance})["attendance"]
    if talk.attendance is None:
        raise ServiceError("请填写参加人数", "Please give the attendance", field="attendance")
    talk.status = TalkStatus.HELD
    talk.save(update_fields=["attendance", "status"])
    _audit(by, Action.UPDATE, talk, talk, f"talk held, attendance {talk.attendance}")
    return talk


@transaction.atomic
def cancel_talk(*, by: User, talk: Talk) -> Talk:
    _require_manage(by, talk)
    talk.status = TalkStatus.CANCELLED
    talk.save(update_fields=["status"])
    _audit(by, Action.UPDATE, talk, talk, "talk cancelled")
    return talk


@transaction.atomic
def attach_evidence(*, by: User, talk: Talk, upload: UploadedFile, caption: str = "") -> TalkEvidence:
    _require_manage(by, talk)
    ev = TalkEvidence(talk=talk, uploaded_by=by)
    kernel_evidence.attach(ev, upload, caption=caption)
    _audit(by, Action.CREATE, ev, talk, "talk evidence attached")
    return ev


# ---- public feedback ------------------------------------------------------------------------


def feedback_token(talk: Talk) -> str:
    """The token in the talk's feedback URL (its QR code): an HMAC of the public id keyed by
    the talk's random secret and the site key; not guessable from the uid."""
    return salted_hmac(FEEDBACK_SALT, f"{talk.uid}:{talk.feedback_secret}", algorithm="sha256").hexdigest()[
        :40
    ]


def token_valid(talk: Talk, token: str) -> bool:
    return bool(talk.feedback_secret) and constant_time_compare(feedback_token(talk), token or "")


def device_hash(device_id: str) -> str:
    """Only this keyed hash of the phone's random cookie id is stored."""
    return salted_hmac(DEVICE_SALT, device_id, algorithm="sha256").hexdigest()


def new_device_id() -> str:
    return secrets.token_urlsafe(24)


def feedback_window(talk: Talk) -> tuple[dt.datetime, dt.datetime]:
    cfg = section(talk.district)
    opens = talk.starts_at - dt.timedelta(minutes=int(cfg.get("feedback_open_minutes_before", 30)))
    closes = talk.ends_at + dt.timedelta(hours=int(cfg.get("feedback_close_hours_after", 48)))
    return opens, closes


class FeedbackRefused(ServiceError):
    """An answer that writes nothing: outside the window, cancelled, already answered."""


def feedback_open(talk: Talk, now: dt.datetime | None = None) -> FeedbackRefused | None:
    """None when the form is open; else the refusal to show (403)."""
    now = now or timezone.now()
    opens, closes = feedback_window(talk)
    local = timezone.localtime
    if talk.status == TalkStatus.CANCELLED:
        return FeedbackRefused("该活动已取消", "This talk was cancelled")
    if now < opens:
        return FeedbackRefused(
            f"评价尚未开放：{local(opens):%m-%d %H:%M} 开放",
            f"Feedback is not open yet: it opens at {local(opens):%m-%d %H:%M}",
        )
    if now > closes:
        return FeedbackRefused("评价已结束", "Feedback for this talk has closed")
    return None


def already_answered(talk: Talk, device_id: str) -> bool:
    return bool(device_id) and Feedback.objects.filter(talk=talk, device_hash=device_hash(device_id)).exists()


ALREADY = ("您已提交过评价，感谢参与", "You have already given feedback from this phone. Thank you")


def give_feedback(
    *,
    talk: Talk,
    token: str,
    device_id: str,
    rating: int,
    usefulness: int | None = None,
    comment: str = "",
    now: dt.datetime | None = None,
) -> Feedback:
    """An anonymous answer from the room: only with the talk's token, in the window, once per
    phone (the unique constraint on (talk, device hash) is the guard). Audited without an
    actor; the audit row never holds the comment or the device."""
    if not token_valid(talk, token):
        raise FeedbackRefused("评价链接无效", "This feedback link is not valid")
    refused = feedback_open(talk, now)
    if refused is not None:
        raise refused
    if not device_id:
        raise FeedbackRefused("请允许浏览器保存 Cookie 后重试", "Please allow cookies and try again")
    score = validators.number(rating, RATING, minimum=1, maximum=5) or 0
    useful = validators.number(usefulness, USEFULNESS, required=False, minimum=1, maximum=5)
    text = validators.text(comment, COMMENT, required=False, limit=1000)
    try:
        with transaction.atomic():
            fb = Feedback.objects.create(
                talk=talk,
                rating=score,
                usefulness=useful,
                comment=text,
                device_hash=device_hash(device_id),
                created_at=now or timezone.now(),
            )
            _audit(None, Action.CREATE, fb, talk, "anonymous feedback")
    except IntegrityError as exc:
        raise FeedbackRefused(*ALREADY) from exc
    return fb
