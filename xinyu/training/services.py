"""Writes of training programmes (SPEC §6; RC 二.(二), QX 6, SJS 一.(一)). Every function is
keyword-only and atomic and writes its audit row in the same transaction; refusals raise
`ServiceError` in Chinese and English before anything is kept.

- Programmes and their sessions (course days and the assessment), with capacity and an
  eligibility rule (the default per kind is the certificate rule's `eligibility` in the
  policy file: B certificate programmes are for full-time psych teachers).
- Enrolment from the register (members in the runner's scope) and withdrawal; Excel
  enrolment and the attendance and assessment imports live in `imports.py`.
- Attendance: the trainer's tap list (idempotent) and the participant's QR scan, accepted
  only in the session's window (`[training] checkin_open_minutes_before` /
  `checkin_close_minutes_after`). The QR encodes a token derived from the session's secret
  with the site key (`checkin_token`): it cannot be guessed from the session's public id.
- Assessment results and participant feedback.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.validators import Label
from xinyu.org.models import District, School, User
from xinyu.staff.models import Post, PostType, StaffMember

from . import access
from .access import TrainingPerm
from .models import (
    AssessmentResult,
    Attendance,
    AttendanceMethod,
    Eligibility,
    Feedback,
    Participant,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    SessionKind,
    TrainingSession,
)

TITLE = Label("title", "培训名称", "title")
KIND = Label("kind", "培训类型", "kind")
ORGANISER = Label("organiser", "主办单位", "organiser")
DESCRIPTION = Label("description", "简介", "description")
CAPACITY = Label("capacity", "名额", "capacity")
ELIGIBILITY = Label("eligibility", "参训条件", "eligibility")
STATUS = Label("status", "状态", "status")
TOPIC = Label("topic", "主题", "topic")
PLACE = Label("place", "地点", "place")
TRAINER = Label("trainer", "授课人", "trainer")
TRAINER_TITLE = Label("trainer_title", "授课人职称", "trainer's title")
SESSION_KIND = Label("kind", "场次类型", "session kind")
RATING = Label("rating", "评分", "rating")
COMMENT = Label("comment", "意见", "comment")
SCORE = Label("score", "成绩", "score")
RESULT = Label("result", "考核结果", "result")

CHECKIN_SALT = "xinyu.training.checkin"
SCHOOL_KINDS = (
    ProgrammeKind.SCHOOL_BASED,
    ProgrammeKind.ALL_STAFF,
    ProgrammeKind.CLASS_TEACHER,
    ProgrammeKind.OTHER,
)


# ---- policy data ---------------------------------------------------------------------------


def training_policy(district: District) -> dict[str, Any]:
    return dict(policy_for_code(district.code).get("training", {}))


def certificate_rule_for(district: District, kind: str) -> tuple[str, dict[str, Any]] | None:
    """The certificate rule (key, table) of `[training.certificates]` whose `programme_kinds`
    name this programme kind, if any."""
    rules = training_policy(district).get("certificates", {})
    for key, rule in rules.items():
        if kind in rule.get("programme_kinds", []):
            return key, dict(rule)
    return None


def default_eligibility(district: District, kind: str) -> str:
    found = certificate_rule_for(district, kind)
    value = found[1].get("eligibility", Eligibility.ANY_STAFF) if found else Eligibility.ANY_STAFF
    return value if value in Eligibility.values else Eligibility.ANY_STAFF


def checkin_window(session: TrainingSession) -> tuple[dt.datetime, dt.datetime]:
    """From `checkin_open_minutes_before` the start until `checkin_close_minutes_after` the end."""
    data = training_policy(session.programme.district)
    before = int(data.get("checkin_open_minutes_before", 15))
    after = int(data.get("checkin_close_minutes_after", 30))
    return session.starts_at - dt.timedelta(minutes=before), session.ends_at + dt.timedelta(minutes=after)


def is_eligible(member: StaffMember, eligibility: str) -> bool:
    if eligibility == Eligibility.PSYCH_TEACHERS:
        return bool(member.post_type)
    if eligibility == Eligibility.FULL_TIME_PSYCH:
        return member.is_full_time
    if eligibility == Eligibility.PART_TIME_PSYCH:
        return member.post_type == PostType.PART_TIME
    return True


ELIGIBILITY_REFUSAL: dict[str, tuple[str, str]] = {
    Eligibility.PSYCH_TEACHERS: ("仅限心理健康教师（专职或兼职）参加", "is open to psych teachers only"),
    Eligibility.FULL_TIME_PSYCH: ("仅限专职心理健康教师参加", "is open to full-time psych teachers only"),
    Eligibility.PART_TIME_PSYCH: ("仅限兼职心理健康教师参加", "is open to part-time psych teachers only"),
}


# ---- who may run what ----------------------------------------------------------------------


def may_run(user: User, *, district: District, school: School | None) -> bool:
    """District grants run every programme of the district; school grants run their own school's."""
    if district.pk in access.district_ids_with(user, TrainingPerm.RUN_TRAINING):
        return True
    if school is None:
        return False
    return access.training_schools_for(user, TrainingPerm.RUN_TRAINING).filter(pk=school.pk).exists()


def _require_run(user: User, programme: Programme) -> None:
    if not may_run(user, district=programme.district, school=programme.school):
        policy.deny(user, object_type="programme", object_id=str(programme.uid))


def _audit(by: User | None, action: Action, obj: Any, programme: Programme, detail: str) -> None:
    record(
        actor=by,
        action=action,
        obj=obj,
        school=programme.school,
        role=policy.audit_role(by) if by is not None else "",
        detail=detail,
    )


# ---- programmes ----------------------------------------------------------------------------


def _clean_programme(district: District, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "title" in data:
        out["title"] = validators.text(data["title"], TITLE, limit=200)
    if "organiser" in data:
        out["organiser"] = validators.text(data["organiser"], ORGANISER, required=False, limit=100)
    if "description" in data:
        out["description"] = validators.text(data["description"], DESCRIPTION, required=False)
    if "capacity" in data:
        out["capacity"] = validators.number(
            data["capacity"], CAPACITY, required=False, minimum=1, maximum=100000
        )
    if "eligibility" in data:
        out["eligibility"] = validators.choice(data["eligibility"], ELIGIBILITY, Eligibility.values)
    if "status" in data:
        out["status"] = validators.choice(data["status"], STATUS, ProgrammeStatus.values)
    return out


@transaction.atomic
def create_programme(
    *,
    by: User,
    district: District,
    kind: str,
    title: str,
    school: School | None = None,
    organiser: str = "",
    description: str = "",
    capacity: int | None = None,
    eligibility: str = "",
    status: str = ProgrammeStatus.DRAFT,
) -> Programme:
    kind = validators.choice(kind, KIND, ProgrammeKind.values)
    if school is not None and school.district_id != district.pk:
        raise ServiceError("学校不属于该区县", "The school is not in this district", field="school")
    if not may_run(by, district=district, school=school):
        raise ServiceError("您无权在此范围内开设培训", "You may not run training here", field="school")
    if school is not None and kind not in SCHOOL_KINDS:
        raise ServiceError(
            "学校只能开设校本、全员、班主任或其他培训；C证、B证培训由区县或中心开设",
            "A school runs school-based, all-staff, class-teacher or other training; "
            "C and B certificate programmes are run by the district or the centre",
            field="kind",
        )
    clean = _clean_programme(
        district,
        {
            "title": title,
            "organiser": organiser,
            "description": description,
            "capacity": capacity,
            "eligibility": eligibility or default_eligibility(district, kind),
            "status": status,
        },
    )
    rule = certificate_rule_for(district, kind)
    programme = Programme.objects.create(
        district=district,
        school=school,
        kind=kind,
        certificate_rule=rule[0] if rule else "",
        created_by=by,
        **clean,
    )
    _audit(by, Action.CREATE, programme, programme, f"programme {kind}")
    return programme


@transaction.atomic
def edit_programme(*, by: User, programme: Programme, **fields: Any) -> Programme:
    _require_run(by, programme)
    allowed = {"title", "organiser", "description", "capacity", "eligibility", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError("无法修改这些字段", "These fields cannot be changed", field=sorted(unknown)[0])
    clean = _clean_programme(programme.district, fields)
    if "capacity" in clean and clean["capacity"] is not None:
        enrolled = programme.participants.filter(withdrawn_at__isnull=True).count()
        if clean["capacity"] < enrolled:
            raise ServiceError(
                f"名额不能少于已报名人数（{enrolled}）",
                f"The capacity cannot be below the {enrolled} already enrolled",
                field="capacity",
            )
    for key, value in clean.items():
        setattr(programme, key, value)
    programme.save(update_fields=list(clean) or None)
    _audit(by, Action.UPDATE, programme, programme, "programme " + ",".join(sorted(clean)))
    return programme


def _refresh_dates(programme: Programme) -> None:
    span = programme.sessions.aggregate(first=Min("starts_at"), last=Max("ends_at"))
    programme.starts_on = timezone.localtime(span["first"]).date() if span["first"] else None
    programme.ends_on = timezone.localtime(span["last"]).date() if span["last"] else None
    programme.save(update_fields=["starts_on", "ends_on"])


# ---- sessions ------------------------------------------------------------------------------


def _hours(value: Any) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ServiceError("课时须为数字", "The class hours must be a number", field="hours") from None
    if not Decimal("0") < hours <= Decimal("24"):
        raise ServiceError(
            "课时须在 0.5–24 之间", "The class hours must be between 0.5 and 24", field="hours"
        )
    return hours


def _clean_session(data: dict[str, Any]) -> dict[str, Any]:
    starts_at, ends_at = data["starts_at"], data["ends_at"]
    if not isinstance(starts_at, dt.datetime) or not isinstance(ends_at, dt.datetime):
        raise ServiceError("请填写开始和结束时间", "Please give the start and end", field="starts_at")
    if ends_at <= starts_at:
        raise ServiceError("结束时间须晚于开始时间", "The end must be after the start", field="ends_at")
    if ends_at - starts_at > dt.timedelta(hours=24):
        raise ServiceError(
            "一个场次不能超过 24 小时", "A session cannot last more than 24 hours", field="ends_at"
        )
    return {
        "kind": validators.choice(data.get("kind") or SessionKind.COURSE, SESSION_KIND, SessionKind.values),
        "topic": validators.text(data.get("topic", ""), TOPIC, required=False, limit=200),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "hours": _hours(data.get("hours")),
        "place": validators.text(data.get("place", ""), PLACE, required=False, limit=200),
        "trainer": validators.text(data.get("trainer", ""), TRAINER, required=False, limit=100),
        "trainer_title": validators.text(
            data.get("trainer_title", ""), TRAINER_TITLE, required=False, limit=100
        ),
    }


@transaction.atomic
def add_session(
    *,
    by: User,
    programme: Programme,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    hours: Decimal | str | float,
    kind: str = SessionKind.COURSE,
    topic: str = "",
    place: str = "",
    trainer: str = "",
    trainer_title: str = "",
) -> TrainingSession:
    _require_run(by, programme)
    clean = _clean_session(
        {
            "kind": kind,
            "topic": topic,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "hours": hours,
            "place": place,
            "trainer": trainer,
            "trainer_title": trainer_title,
        }
    )
    Programme.objects.select_for_update().filter(pk=programme.pk).first()
    seq = (programme.sessions.aggregate(m=Max("seq"))["m"] or 0) + 1
    session = TrainingSession.objects.create(
        programme=programme, seq=seq, checkin_secret=secrets.token_hex(32), **clean
    )
    _refresh_dates(programme)
    _audit(by, Action.CREATE, session, programme, f"session {seq} of {programme.uid}")
    return session


@transaction.atomic
def edit_session(*, by: User, session: TrainingSession, **fields: Any) -> TrainingSession:
    programme = session.programme
    _require_run(by, programme)
    allowed = {"kind", "topic", "starts_at", "ends_at", "hours", "place", "trainer", "trainer_title"}
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError("无法修改这些字段", "These fields cannot be changed", field=sorted(unknown)[0])
    current = {key: getattr(session, key) for key in allowed}
    clean = _clean_session(current | fields)
    for key, value in clean.items():
        setattr(session, key, value)
    session.save()
    _refresh_dates(programme)
    _audit(by, Action.UPDATE, session, programme, f"session {session.seq} of {programme.uid}")
    return session


# ---- enrolment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    added: int
    already: int


def check_enrolment(
    programme: Programme, members: Sequence[StaffMember]
) -> list[tuple[StaffMember, str, str]]:
    """The members who cannot be enrolled, with why (zh, en): other district or school,
    eligibility. Capacity is checked on the whole set by `enrol`."""
    problems: list[tuple[StaffMember, str, str]] = []
    posted: set[int] = set()
    if programme.school_id is not None:  # psych teachers posted at the school (cluster posts) belong too
        posted = set(
            Post.objects.filter(
                member_id__in=[m.pk for m in members if m.pk], school_id=programme.school_id
            ).values_list("member_id", flat=True)
        )
    for m in members:
        if m.district_id != programme.district_id or not m.is_active:
            problems.append((m, "不在本区县在职名册中", "is not on this district's active register"))
        elif programme.school_id is not None and m.school_id != programme.school_id and m.pk not in posted:
            problems.append((m, "不是本校教职工", "is not on this school's staff"))
        elif not is_eligible(m, programme.eligibility):
            zh, en = ELIGIBILITY_REFUSAL.get(programme.eligibility, ("不符合参训条件", "is not eligible"))
            problems.append((m, f"不符合参训条件：本培训{zh}", f"is not eligible: this programme {en}"))
    return problems


@transaction.atomic
def enrol(
    *, by: User, programme: Programme, members: Iterable[StaffMember], source: str = "register"
) -> Enrolled:
    """Enrol these register entries (all or none): each must be eligible and the programme's
    capacity must hold them all. Those already enrolled are left as they are; a withdrawn
    participant is enrolled again."""
    _require_run(by, programme)
    if programme.status in (ProgrammeStatus.FINISHED, ProgrammeStatus.CANCELLED):
        raise ServiceError(
            "培训已结束或已取消，不能报名", "The programme is finished or cancelled", field="members"
        )
    locked = Programme.objects.select_for_update().get(pk=programme.pk)
    chosen = list({m.pk: m for m in members}.values())
    if not chosen:
        raise ServiceError("请选择要报名的人员", "Please choose whom to enrol", field="members")
    problems = check_enrolment(locked, chosen)
    if problems:
        m, zh, en = problems[0]
        more_zh = f"（另有 {len(problems) - 1} 人）" if len(problems) > 1 else ""
        more_en = f" ({len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ServiceError(
            f"{m.name}（{m.staff_no}）{zh}{more_zh}",
            f"{m.name} ({m.staff_no}) {en}{more_en}",
            field="members",
        )
    existing = {p.member_id: p for p in Participant.objects.filter(programme=locked, member__in=chosen)}
    active = Participant.objects.filter(programme=locked, withdrawn_at__isnull=True).count()
    new = [m for m in chosen if m.pk not in existing]
    back = [existing[m.pk] for m in chosen if m.pk in existing and existing[m.pk].withdrawn_at is not None]
    already = len(chosen) - len(new) - len(back)
    if locked.capacity is not None and active + len(new) + len(back) > locked.capacity:
        left = max(locked.capacity - active, 0)
        raise ServiceError(
            f"名额不足：共 {locked.capacity} 个名额，已报名 {active} 人，还剩 {left} 个，本次选择了 {len(new) + len(back)} 人",
            f"Not enough places: capacity {locked.capacity}, {active} enrolled, {left} left, "
            f"{len(new) + len(back)} chosen",
            field="members",
        )
    now = timezone.now()
    Participant.objects.bulk_create(
        [Participant(programme=locked, member=m, enrolled_at=now, enrolled_by=by) for m in new]
    )
    if back:
        Participant.objects.filter(pk__in=[p.pk for p in back]).update(
            withdrawn_at=None, enrolled_at=now, enrolled_by=by
        )
    _audit(by, Action.CREATE, locked, locked, f"enrol {len(new) + len(back)} ({source})")
    return Enrolled(added=len(new) + len(back), already=already)


@transaction.atomic
def withdraw(*, by: User, participant: Participant) -> Participant:
    programme = participant.programme
    _require_run(by, programme)
    if participant.withdrawn_at is None:
        participant.withdrawn_at = timezone.now()
        participant.save(update_fields=["withdrawn_at"])
        _audit(by, Action.UPDATE, participant, programme, "withdrawn")
    return participant


# ---- attendance ----------------------------------------------------------------------------


def _session_participant(session: TrainingSession, participant: Participant) -> None:
    if participant.programme_id != session.programme_id:
        raise ServiceError(
            "该学员不在本培训中", "This participant is not in the programme", field="participant"
        )
    if participant.withdrawn_at is not None:
        raise ServiceError("该学员已退出培训", "This participant has withdrawn", field="participant")


@transaction.atomic
def mark_attendance(
    *, by: User, session: TrainingSession, participant: Participant, present: bool = True
) -> bool:
    """The trainer's tap: set this participant's attendance of the session. Idempotent: the
    same state again writes nothing (returns False)."""
    _require_run(by, session.programme)
    _session_participant(session, participant)
    row = Attendance.objects.select_for_update().filter(session=session, participant=participant).first()
    if row is not None and row.present == present:
        return False
    now = timezone.now()
    if row is None:
        row = Attendance.objects.create(
            session=session,
            participant=participant,
            present=present,
            method=AttendanceMethod.TRAINER,
            at=now,
            by=by,
        )
    else:
        row.present, row.method, row.at, row.by = present, AttendanceMethod.TRAINER, now, by
        row.save(update_fields=["present", "method", "at", "by"])
    _audit(
        by,
        Action.UPDATE,
        participant,
        session.programme,
        f"session {session.seq} {'present' if present else 'absent'}",
    )
    return True


def checkin_token(session: TrainingSession) -> str:
    """The token the session's QR code carries: an HMAC of the session's public id keyed by
    its random secret and the site key. Not guessable, not derivable from the public id."""
    return salted_hmac(
        CHECKIN_SALT, f"{session.uid}:{session.checkin_secret}", algorithm="sha256"
    ).hexdigest()[:40]


def token_valid(session: TrainingSession, token: str) -> bool:
    return bool(session.checkin_secret) and constant_time_compare(checkin_token(session), token or "")


class CheckInRefused(ServiceError):
    """A scan that writes nothing: bad code, outside the window, not enrolled."""


@dataclass(frozen=True)
class CheckedIn:
    session: TrainingSession
    participant: Participant
    new: bool  # False: already marked present (a second scan changes nothing)


@transaction.atomic
def check_in(*, by: User, session: TrainingSession, token: str, now: dt.datetime | None = None) -> CheckedIn:
    """A participant's QR scan: marked present (method "qr") only with the session's token,
    within its window, and when enrolled; a second scan changes nothing."""
    if not token_valid(session, token):
        raise CheckInRefused("签到二维码无效", "This check-in code is not valid")
    now = now or timezone.now()
    opens, closes = checkin_window(session)
    local = timezone.localtime
    if now < opens:
        raise CheckInRefused(
            f"签到尚未开始：{local(opens):%m-%d %H:%M} 开放签到",
            f"Check-in has not opened yet: it opens at {local(opens):%m-%d %H:%M}",
        )
    if now > closes:
        raise CheckInRefused(
            f"签到已结束：签到截止于 {local(closes):%m-%d %H:%M}",
            f"Check-in is closed: it closed at {local(closes):%m-%d %H:%M}",
        )
    participant = (
        Participant.objects.filter(
            programme_id=session.programme_id, member__user_id=by.pk, withdrawn_at__isnull=True
        )
        .select_related("member")
        .first()
    )
    if participant is None:
        raise CheckInRefused(
            "您未报名此培训，不能签到。如有疑问请联系培训组织者。",
            "You are not enrolled in this programme, so you cannot check in. Ask the organisers.",
        )
    row = Attendance.objects.select_for_update().filter(session=session, participant=participant).first()
    if row is not None and row.present:
        return CheckedIn(session, participant, new=False)
    if row is None:
        Attendance.objects.create(
            session=session, participant=participant, present=True, method=AttendanceMethod.QR, at=now, by=by
        )
    else:
        row.present, row.method, row.at, row.by = True, AttendanceMethod.QR, now, by
        row.save(update_fields=["present", "method", "at", "by"])
    _audit(by, Action.UPDATE, participant, session.programme, f"qr check-in session {session.seq}")
    return CheckedIn(session, participant, new=True)


# ---- assessment and feedback ---------------------------------------------------------------


def clean_score(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        score = Decimal(str(value).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ServiceError("成绩须为数字", "The score must be a number", field="score") from None
    if not Decimal("0") <= score <= Decimal("1000"):
        raise ServiceError("成绩须在 0–1000 之间", "The score must be between 0 and 1000", field="score")
    return score


@transaction.atomic
def record_assessment(
    *, by: User, participant: Participant, result: str, score: Decimal | str | None = None
) -> Participant:
    programme = participant.programme
    _require_run(by, programme)
    result = validators.choice(result, RESULT, AssessmentResult.values)
    participant.assessment = result
    participant.assessment_score = clean_score(score)
    participant.save(update_fields=["assessment", "assessment_score"])
    _audit(by, Action.UPDATE, participant, programme, f"assessment {result}")
    return participant


@transaction.atomic
def give_feedback(*, by: User, participant: Participant, rating: int | str, comment: str = "") -> Feedback:
    """A participant's own rating (1–5) and comment on the programme: one each, editable."""
    if participant.member.user_id != by.pk or participant.withdrawn_at is not None:
        policy.deny(by, object_type="participant", object_id=str(participant.uid))
    value = validators.number(rating, RATING, minimum=1, maximum=5) or 0
    text = validators.text(comment, COMMENT, required=False, limit=2000)
    feedback, created = Feedback.objects.update_or_create(
        participant=participant,
        defaults={
            "programme_id": participant.programme_id,
            "rating": value,
            "comment": text,
            "at": timezone.now(),
        },
    )
    _audit(by, Action.CREATE if created else Action.UPDATE, feedback, participant.programme, "feedback")
    return feedback
