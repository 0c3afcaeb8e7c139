"""Training in the demo district (order 25, after the register's part at 10; the certificates
part at 27 issues from what this writes). Bulk inserts, no per-row service calls:

- a C certificate programme in progress ("6+1": six course days from three days ago to two
  days ahead, the assessment a week on); the past days attended by most, today's session open
  for QR check-in now (a few already scanned), the demo class teacher (`teacher`) enrolled;
- a finished B certificate programme for full-time psych teachers: 80 course hours and a
  2-hour assessment, most passed, one failed, one who missed a 2.5-hour session (79.5 hours);
  the demo psych teacher (`psych`) passed;
- a school-based training this semester at every school but one (QX 6), and an all-staff
  training at every third school (SJS 一.(一)).

Register entries come from the register's demo part; the people it has not entered (class
teachers and leaders who train) are added here with `_register_fallback` (staff number
"TRN" + account id), so the part also runs on a roster without a register.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.kernel.semester import semester_of
from xinyu.org.models import District, Employment, Role, RoleAssignment, School, User
from xinyu.staff.models import PostType, StaffMember

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

TZ = ZoneInfo("Asia/Shanghai")
C_TITLE = "2025–2026学年 C证培训（6+1）"
B_TITLE = "2025年 B证培训（专职心理教师）"
C_PARTICIPANTS = 60
B_PARTICIPANTS = 24


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _register_fallback(district: District) -> None:
    """Register entries for the staff accounts the register has not entered (the trainees)."""
    have = set(
        StaffMember.objects.filter(district=district, user__isnull=False).values_list("user_id", flat=True)
    )
    taken = set(StaffMember.objects.filter(district=district).values_list("staff_no", flat=True))
    rows = (
        RoleAssignment.objects.filter(district=district, school__isnull=False)
        .exclude(user_id__in=have)
        .select_related("user")
        .order_by("user_id", "pk")
    )
    new: dict[int, StaffMember] = {}
    for ra in rows:
        if ra.user_id in new or f"TRN{ra.user_id}" in taken:
            continue
        post = ""
        if ra.role == Role.PSYCH_TEACHER:
            post = PostType.FULL_TIME if ra.employment == Employment.FULL_TIME else PostType.PART_TIME
        new[ra.user_id] = StaffMember(
            district=district,
            school_id=ra.school_id,
            staff_no=f"TRN{ra.user_id}",
            name=ra.user.full_name or ra.user.username,
            user_id=ra.user_id,
            post_type=post,
        )
    StaffMember.objects.bulk_create(new.values(), batch_size=2000)


def _sessions(
    programme: Programme, specs: list[tuple[str, dt.datetime, dt.datetime, Decimal, str]]
) -> list[TrainingSession]:
    rows = [
        TrainingSession(
            programme=programme,
            seq=i,
            kind=kind,
            topic=topic,
            starts_at=start,
            ends_at=end,
            hours=hours,
            place="荣昌区教师进修学院" if programme.school_id is None else "学校会议室",
            trainer="陈教授" if programme.school_id is None else "学校心理教师",
            trainer_title="教授" if programme.school_id is None else "一级教师",
            checkin_secret=secrets.token_hex(32),
        )
        for i, (kind, start, end, hours, topic) in enumerate(specs, start=1)
    ]
    return TrainingSession.objects.bulk_create(rows)


def _enrol(
    programme: Programme, members: list[StaffMember], by: User | None, at: dt.datetime
) -> list[Participant]:
    Participant.objects.bulk_create(
        [Participant(programme=programme, member=m, enrolled_at=at, enrolled_by=by) for m in members]
    )
    return list(Participant.objects.filter(programme=programme).order_by("pk"))


def _attend(pairs: list[tuple[TrainingSession, Participant]], method: str, by: User | None) -> None:
    Attendance.objects.bulk_create(
        [
            Attendance(
                session=s,
                participant=p,
                present=True,
                method=method,
                at=s.starts_at + dt.timedelta(minutes=5),
                by=by,
            )
            for s, p in pairs
        ],
        batch_size=2000,
    )


def _programme(district: District, by: User | None, **fields: object) -> Programme:
    return Programme.objects.create(district=district, created_by=by, **fields)  # type: ignore[arg-type]


@transaction.atomic
def build_demo_training(district: District, *, now: dt.datetime | None = None) -> dict[str, int]:
    """The demo district's programmes; nothing when it already has one."""
    if Programme.objects.filter(district=district).exists():
        return {}
    now = (now or timezone.now()).astimezone(TZ)
    today = now.date()
    _register_fallback(district)
    admin = User.objects.filter(assignments__district=district, assignments__role=Role.DISTRICT_ADMIN).first()
    members = list(
        StaffMember.objects.filter(district=district, is_active=True).select_related("user").order_by("pk")
    )
    by_user = {m.user.username: m for m in members if m.user is not None}
    counts: dict[str, int] = {}

    # ---- C certificate in progress ----------------------------------------------------------
    c = _programme(
        district,
        admin,
        kind=ProgrammeKind.C_CERTIFICATE,
        title=C_TITLE,
        organiser="荣昌区心理健康教育指导中心",
        capacity=80,
        eligibility=Eligibility.ANY_STAFF,
        certificate_rule="C",
        status=ProgrammeStatus.RUNNING,
        starts_on=today - dt.timedelta(days=3),
        ends_on=today + dt.timedelta(days=7),
    )
    specs: list[tuple[str, dt.datetime, dt.datetime, Decimal, str]] = []
    for offset in range(-3, 3):
        day = today + dt.timedelta(days=offset)
        if offset == 0:  # today's session: open for check-in now
            start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
            specs.append(
                (
                    SessionKind.COURSE,
                    start,
                    start + dt.timedelta(hours=6),
                    Decimal("6"),
                    f"第{offset + 4}天 课程",
                )
            )
        else:
            specs.append(
                (SessionKind.COURSE, _at(day, 9), _at(day, 16), Decimal("6"), f"第{offset + 4}天 课程")
            )
    exam_day = today + dt.timedelta(days=7)
    specs.append((SessionKind.ASSESSMENT, _at(exam_day, 9), _at(exam_day, 11), Decimal("2"), "结业考核"))
    c_sessions = _sessions(c, specs)
    trainees = [m for m in members if not m.post_type and m.user is not None]
    c_members = ([by_user["teacher"]] if "teacher" in by_user else []) + [
        m for m in trainees if m.user is not None and m.user.username != "teacher"
    ][: C_PARTICIPANTS - 1]
    c_parts = _enrol(c, c_members, admin, now - dt.timedelta(days=10))
    pairs = []
    for i, p in enumerate(c_parts):
        for s in c_sessions[:3]:  # the three past days: most attended
            if (i + s.seq) % 11 != 0:
                pairs.append((s, p))
    _attend(pairs, AttendanceMethod.TRAINER, admin)
    today_session = c_sessions[3]
    _attend([(today_session, p) for p in c_parts[1:8]], AttendanceMethod.QR, None)
    counts["c_participants"] = len(c_parts)

    # ---- B certificate, finished ------------------------------------------------------------
    full_time = [m for m in members if m.is_full_time]
    start_b = today - dt.timedelta(days=150)
    b = _programme(
        district,
        admin,
        kind=ProgrammeKind.B_CERTIFICATE,
        title=B_TITLE,
        organiser="荣昌区心理健康教育指导中心",
        capacity=30,
        eligibility=Eligibility.FULL_TIME_PSYCH,
        certificate_rule="B",
        status=ProgrammeStatus.FINISHED,
    )
    b_specs: list[tuple[str, dt.datetime, dt.datetime, Decimal, str]] = []
    hours = [Decimal("8")] * 9 + [Decimal("5.5"), Decimal("2.5")]  # 80 course hours
    for i, h in enumerate(hours):
        day = start_b + dt.timedelta(days=7 * i)
        b_specs.append(
            (
                SessionKind.COURSE,
                _at(day, 8, 30),
                _at(day, 8, 30) + dt.timedelta(hours=float(h) + 1),
                h,
                f"专题{i + 1}",
            )
        )
    exam_b = start_b + dt.timedelta(days=7 * len(hours))
    b_specs.append((SessionKind.ASSESSMENT, _at(exam_b, 9), _at(exam_b, 11), Decimal("2"), "结业考核"))
    b_sessions = _sessions(b, b_specs)
    Programme.objects.filter(pk=b.pk).update(starts_on=start_b, ends_on=exam_b)
    b_members = ([by_user["psych"]] if "psych" in by_user and by_user["psych"].is_full_time else []) + [
        m for m in full_time if m.user is None or m.user.username != "psych"
    ][: B_PARTICIPANTS - 1]
    b_parts = _enrol(b, b_members, admin, _at(start_b, 8) - dt.timedelta(days=14))
    pairs = []
    short = b_parts[-1] if len(b_parts) > 2 else None  # 79.5 hours: missed the 2.5-hour session
    failed = b_parts[-2] if len(b_parts) > 2 else None
    for p in b_parts:
        for s in b_sessions:
            if p is short and s.hours == Decimal("2.5"):
                continue
            pairs.append((s, p))
    _attend(pairs, AttendanceMethod.IMPORT, admin)
    for p in b_parts:
        p.assessment = AssessmentResult.FAILED if p is failed else AssessmentResult.PASSED
        p.assessment_score = Decimal("52") if p is failed else Decimal("80") + (p.pk % 15)
    Participant.objects.bulk_update(b_parts, ["assessment", "assessment_score"])
    Feedback.objects.bulk_create(
        [
            Feedback(
                programme=b,
                participant=p,
                rating=5 - (i % 3 == 0),
                comment="内容实用，案例丰富。" if i % 4 == 0 else "",
                at=_at(exam_b, 12),
            )
            for i, p in enumerate(b_parts)
        ]
    )
    counts["b_participants"] = len(b_parts)

    # ---- school-based (every school but one) and all-staff (every third) this semester ------
    calendar = policy_for_code(district.code).get("calendar", {})
    semester = semester_of(today, calendar)
    schools = list(School.objects.filter(district=district).order_by("code"))
    by_school: dict[int, list[StaffMember]] = {}
    for m in members:
        if m.school_id is not None:
            by_school.setdefault(m.school_id, []).append(m)
    day = min(max(semester.start + dt.timedelta(days=20), semester.start), today - dt.timedelta(days=1))
    if day < semester.start:
        day = today
    school_programmes = []
    for i, school in enumerate(schools):
        kinds = [] if i == len(schools) - 1 else [ProgrammeKind.SCHOOL_BASED]  # the last school: none
        if i % 3 == 0:
            kinds.append(ProgrammeKind.ALL_STAFF)
        for kind in kinds:
            label = "校本培训" if kind == ProgrammeKind.SCHOOL_BASED else "全员心理健康培训"
            school_programmes.append(
                (
                    school,
                    Programme(
                        district=district,
                        school=school,
                        kind=kind,
                        title=f"{school.name} {semester.label.split(' (')[0]} {label}",
                        organiser=school.name,
                        status=ProgrammeStatus.FINISHED,
                        starts_on=day,
                        ends_on=day,
                        created_by=admin,
                    ),
                )
            )
    Programme.objects.bulk_create([p for _s, p in school_programmes])
    sessions = TrainingSession.objects.bulk_create(
        [
            TrainingSession(
                programme=p,
                seq=1,
                topic="学生心理危机识别与干预"
                if p.kind == ProgrammeKind.SCHOOL_BASED
                else "全员心理健康教育",
                starts_at=_at(day, 15),
                ends_at=_at(day, 17),
                hours=Decimal("2"),
                place="学校会议室",
                trainer="学校心理教师",
                trainer_title="一级教师",
                checkin_secret=secrets.token_hex(32),
            )
            for _s, p in school_programmes
        ]
    )
    parts = Participant.objects.bulk_create(
        [
            Participant(programme=p, member=m, enrolled_at=_at(day, 8), enrolled_by=admin)
            for school, p in school_programmes
            for m in by_school.get(school.pk, [])
        ],
        batch_size=2000,
    )
    session_of = {s.programme_id: s for s in sessions}
    _attend(
        [(session_of[p.programme_id], p) for i, p in enumerate(parts) if i % 9 != 0],
        AttendanceMethod.TRAINER,
        admin,
    )
    counts["school_programmes"] = len(school_programmes)
    return counts


@demo_builder("training", order=25)
def demo_training(run: DemoRun) -> str | None:
    counts = build_demo_training(run.district)
    if not counts:
        return None
    return (
        f"Training: a C programme in progress ({counts['c_participants']} participants, today's session open "
        f"for check-in), a finished B programme ({counts['b_participants']}), {counts['school_programmes']} "
        "school-based and all-staff trainings this semester."
    )


from . import cert_demo  # noqa: F401,E402  (the certificates part, order 27)
