"""The access matrix's world (tests/test_access_matrix.py): `personas.build_world()` plus
the personas it lacks and one object of every kind at school A and at school B, written
through the real services.

Extra personas:
- class teacher of A 4(2) (`class_teacher_a42`), beside the persona world's A 4(1);
- a cluster psych teacher (QX 县管片用) assigned to school C first and school A second (a
  part-time post at each), so a view that read only the first grant would fail for school A;
- the student code holder: a client that entered student A 4(1)'s personal key at school A's
  room page (the counselling room and mailbox key) and holds the student's screening answer
  code (`code_a` / `code_b` are the answer codes of A 4(1) and B 4(1));
- the guardian link holder: a client that opened A 4(1)'s guardian link (`guardian_a`).

The objects of school B are the out-of-scope objects of every school-A persona (and those
of school A for psych_b); district-wide objects (institutions, district key periods) have
their out-of-scope twin in a second district.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.personas import PASSWORD, World, build_world
from xinyu.org.models import (
    Campus,
    Cluster,
    District,
    Employment,
    Role,
    RoleAssignment,
    School,
    SchoolCategory,
    StudentFlag,
    User,
)

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


@dataclass
class Side:
    """One school's objects (A or B)."""

    school: Any
    klass: Any
    student: Any
    campaign: Any = None
    invitation: Any = None
    code: str = ""
    guardian_token: str = ""
    warning: Any = None
    team_warning: Any = None
    case: Any = None
    action_id: int = 0
    task: Any = None
    referral: Any = None
    check_in_pk: int = 0
    recheck: Any = None
    key_period: Any = None
    crisis: Any = None
    letter: Any = None
    room: Any = None
    zone: Any = None
    photo: Any = None
    slot: Any = None
    appointment: Any = None
    record: Any = None
    group: Any = None
    batch: Any = None
    student_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class MatrixWorld:
    w: World
    class_teacher_a42: User
    cluster_psych: User
    school_c: School
    other_district: District
    a: Side
    b: Side
    institution: Any = None
    institution_other: Any = None
    district_period: Any = None
    district_period_other: Any = None


def _user(username: str, full_name: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, full_name=full_name)


def _png() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buf, "PNG")
    return SimpleUploadedFile("room.png", buf.getvalue(), "image/png")


def build_matrix_world() -> MatrixWorld:
    w = build_world()
    d = w.district
    ct42 = _user("class_teacher_a42", "甲四二班主任")
    RoleAssignment.objects.create(
        user=ct42,
        role=Role.CLASS_TEACHER,
        district=d,
        school=w.school_a,
        grade=w.class_a42.grade,
        school_class=w.class_a42,
    )
    school_c = School.objects.create(
        district=d,
        cluster=w.cluster,
        code="C001",
        name="丙小学",
        category=SchoolCategory.RURAL,
        has_primary=True,
        enrolment=120,
    )
    Campus.objects.create(school=school_c, name="本部", is_main=True)
    cluster_psych = _user("cluster_psych", "片区心理老师")
    for school in (school_c, w.school_a):  # C first: a view reading only the first grant fails
        RoleAssignment.objects.create(
            user=cluster_psych,
            role=Role.PSYCH_TEACHER,
            district=d,
            school=school,
            employment=Employment.PART_TIME,
        )
    other = District.objects.create(code="500154", name="大足区")
    Cluster.objects.create(district=other, name="城区片")
    mw = MatrixWorld(
        w=w,
        class_teacher_a42=ct42,
        cluster_psych=cluster_psych,
        school_c=school_c,
        other_district=other,
        a=Side(w.school_a, w.class_a41, w.student_a41),
        b=Side(w.school_b, w.class_b41, w.student_b41),
    )
    _district_objects(mw)
    for side, psych in ((mw.a, w.psych_a), (mw.b, w.psych_b)):
        _screening(mw, side)
        _care(mw, side, psych)
        _mailbox(side)
        _counselling(mw, side, psych)
        _roster(side, psych)
        _register(mw, side, psych)
        _training(mw, side, psych)
        _certificates(mw, side)
    _wellbeing(mw)
    import importlib

    from tests.access_matrix import EXTENSIONS

    for name in EXTENSIONS:  # the apps of issue 13: tests/matrix_<app>.py
        importlib.import_module(f"tests.matrix_{name}").build(mw)
    return mw


def _district_objects(mw: MatrixWorld) -> None:
    from xinyu.care.models import Institution, InstitutionKind, KeyPeriod
    from xinyu.care.services import rechecks, referrals

    w = mw.w
    mw.institution = referrals.create_institution(
        by=w.district_admin,
        district=w.district,
        name="区人民医院",
        department="心理科",
        kind=InstitutionKind.HOSPITAL,
        phone="023-46732000",
        green_channel=True,
    )
    mw.institution_other = Institution.objects.create(
        district=mw.other_district, name="大足区人民医院", kind=InstitutionKind.HOSPITAL
    )
    mw.district_period = rechecks.create_key_period(
        by=w.district_admin,
        district=w.district,
        school=None,
        name="期末考试",
        kind="exam",
        starts_on=TODAY + 9 * DAY,
        lead_days=7,
    )
    mw.district_period_other = KeyPeriod.objects.create(
        district=mw.other_district, name="期末考试", kind="exam", starts_on=TODAY + 9 * DAY, lead_days=7
    )


def _screening(mw: MatrixWorld, side: Side) -> None:
    from xinyu.screening import services
    from xinyu.screening.models import Channel, Consent, Invitation

    w = mw.w
    now = timezone.now()
    side.campaign = services.create_campaign(
        by=w.district_admin,
        name=f"{side.school.name} 2026 秋季测评",
        school_year="2026-2027",
        schools=[side.school],
        scope_label=side.school.name,
        target_grades=[4, 7],
        batteries=[services.BatterySpec(4, 9, ("PHQ9", "GAD7"))],
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=7),
        consent_text="测试知情同意书",
        consent_version="1.0",
    )
    inv = Invitation.objects.get(campaign=side.campaign, student=side.student, stage=1)
    side.guardian_token = inv.guardian_token
    services.record_consent(invitation=inv, decision=Consent.GIVEN, channel=Channel.LINK)
    side.invitation = Invitation.objects.get(pk=inv.pk)
    side.code = side.invitation.code


def _care(mw: MatrixWorld, side: Side, psych: User) -> None:
    from tests.care_helpers import open_case, warn
    from xinyu.care.models import CheckIn, CrisisRole, Level
    from xinyu.care.services import cases, crisis, rechecks, referrals

    w = mw.w
    side.warning = warn(side.student, Level.HIGH)
    side.case = open_case(side.student, psych)
    side.action_id = side.case.actions.order_by("pk").first().pk
    teacher = w.class_teacher_a41 if side is mw.a else None
    side.task = cases.ask_class_teacher(
        case=side.case, by=psych, request="请留意近一周的情绪", due_on=TODAY + 3 * DAY
    )
    concern = cases.report_concern(
        by=teacher or psych,
        student=side.student,
        triggers=["emotion"],
        note="最近上课常走神",
        token=f"matrix-{side.school.code}",
    )
    side.team_warning = concern.warning
    ref = referrals.make_referral(
        case=side.case,
        by=psych,
        institution=mw.institution,
        reason="建议专业评估",
        referred_on=TODAY - DAY,
        accompanied_by="母亲",
        guardian_agreed=True,
    )
    referrals.record_feedback(
        referral=ref, by=psych, diagnosis_summary="门诊初诊", advice="两周复诊", feedback_on=TODAY
    )
    side.referral = referrals.record_return(
        referral=ref, by=psych, returned_on=TODAY, return_plan="每周谈话一次"
    )
    side.check_in_pk = CheckIn.objects.filter(referral=side.referral).order_by("pk").first().pk
    if side is mw.b:  # a key-population student, so that B's re-check round has an entry
        StudentFlag.objects.create(
            student=side.student, kind="left_behind", set_by=psych, set_at=timezone.now()
        )
    side.recheck = rechecks.start_recheck_round(
        school=side.school, by=psych, term="2026-2027 上学期", due_on=TODAY + 7 * DAY
    )
    side.key_period = rechecks.create_key_period(
        by=psych,
        district=mw.w.district,
        school=side.school,
        name="运动会",
        kind="other",
        starts_on=TODAY + 20 * DAY,
        lead_days=3,
    )
    side.crisis = crisis.start_crisis(
        school=side.school,
        by=psych,
        title="校内突发事件",
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        summary="经过",
    )
    crisis.add_crisis_student(
        event=side.crisis, by=psych, student=side.student, role_kind=list(CrisisRole.values)[0]
    )


def _mailbox(side: Side) -> None:
    from xinyu.mailbox import services
    from xinyu.mailbox.models import Signature

    sent = services.send_letter(school=side.school, body="我最近有点烦", signature=Signature.ANONYMOUS)
    side.letter = sent.letter
    side.extra["retrieval_code"] = sent.code


def _counselling(mw: MatrixWorld, side: Side, psych: User) -> None:
    from xinyu.counselling import services

    side.room = services.save_room(
        by=psych,
        school=side.school,
        name="心理辅导中心",
        location="行政楼三楼",
        mailbox_location="一楼大厅",
        help_email="xinli@example.cn",
        booking_note="扫码或请班主任代约",
    )
    side.zone = services.save_zone(by=psych, room=side.room, kind="individual", area_m2=Decimal("12"))
    side.photo = services.add_photo(by=psych, room=side.room, upload=_png(), caption="个别辅导室")
    for weekday in range(7):
        slot = services.save_slot(
            by=psych, room=side.room, weekday=weekday, starts=dt.time(9), ends=dt.time(11), staff=psych
        )
    side.slot = slot
    keys = services.issue_keys(by=psych, school_class=side.klass)
    side.student_key = next(k for k in keys if k.student == side.student).code
    unit = services.free_units(side.room)[0]
    side.appointment = services.book_appointment(
        student=side.student, room=side.room, date=unit.date, starts=unit.starts, by=psych
    )
    side.record = services.record_session(
        by=psych,
        student=side.student,
        held_at=timezone.now() - dt.timedelta(minutes=5),
        minutes=40,
        category="family",
        notes=services.SessionNotes("记录", "记录", "一般心理问题", "家庭", "倾听", "缓解", "一周后"),
    )
    side.group = services.record_group_session(
        by=psych,
        school=side.school,
        held_at=timezone.now() - dt.timedelta(hours=2),
        minutes=40,
        topic="情绪管理",
        category="emotion",
        outcome="良好",
        participants=[side.student],
    )


def _roster(side: Side, psych: User) -> None:
    from tests.test_roster import csv_bytes, student_row
    from xinyu.org import roster

    side.batch, _plan = roster.create_batch(
        by=psych,
        kind="students",
        filename="roster.csv",
        data=csv_bytes([student_row(学校代码=side.school.code)]),
    )


def _certificates(mw: MatrixWorld, side: Side) -> None:
    """A district C programme per side (six course days and the assessment, in the past) with
    one participant of the side's school who attended everything and passed, and the
    certificate issued through the service: A's holder is A 4(1)'s class teacher, B's a
    teacher without an account."""
    from xinyu.staff.models import StaffMember
    from xinyu.training import certificates
    from xinyu.training.models import Attendance, Participant, Programme, TrainingSession

    w = mw.w
    user = w.class_teacher_a41 if side is mw.a else None
    holder = (StaffMember.objects.filter(user=user).first() if user else None) or StaffMember.objects.create(
        district=w.district,
        school=side.school,
        staff_no=f"CERT-{side.school.code}",
        name="持证教师",
        user=user,
    )
    programme = Programme.objects.create(
        district=w.district,
        kind="c_cert",
        certificate_rule="C",
        title=f"C证培训（{side.school.name}）",
        status="finished",
        created_by=w.district_admin,
    )
    start = timezone.now() - 20 * DAY
    sessions = TrainingSession.objects.bulk_create(
        TrainingSession(
            programme=programme,
            seq=i + 1,
            kind="course" if i < 6 else "assessment",
            starts_at=start + i * DAY,
            ends_at=start + i * DAY + dt.timedelta(hours=6),
            hours=Decimal("6"),
        )
        for i in range(7)
    )
    participant = Participant.objects.create(
        programme=programme, member=holder, enrolled_at=start, assessment="passed"
    )
    Attendance.objects.bulk_create(
        Attendance(session=s, participant=participant, method="trainer", at=s.starts_at) for s in sessions
    )
    side.extra["cert_programme"] = programme
    side.extra["certificate"] = certificates.issue_due(by=w.district_admin, programme=programme)[0]


def _training(mw: MatrixWorld, side: Side, psych: User) -> None:
    """A school-based programme run by the side's school (district admin creates it), with a
    session open for QR check-in now; the side's psych teacher enrolled (linked to their
    account) and a second participant without an account (withdraw, assessment)."""
    from xinyu.staff.models import StaffMember
    from xinyu.staff.services import ensure_member
    from xinyu.training import services

    w = mw.w
    programme = services.create_programme(
        by=w.district_admin,
        district=w.district,
        school=side.school,
        kind="school_based",
        title=f"{side.school.name}校本培训",
        status="running",
    )
    now = timezone.now().replace(second=0, microsecond=0)
    session = services.add_session(
        by=w.district_admin,
        programme=programme,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3),
        hours=Decimal("4"),
        topic="心理健康教育",
    )
    own = StaffMember.objects.filter(user=psych).first() or ensure_member(
        by=w.district_admin,
        district=w.district,
        school=side.school,
        staff_no=f"TRN-{side.school.code}-1",
        name=psych.full_name,
        user=psych,
    )
    other = ensure_member(
        by=w.district_admin,
        district=w.district,
        school=side.school,
        staff_no=f"TRN-{side.school.code}-2",
        name="参训教师",
    )
    services.enrol(by=w.district_admin, programme=programme, members=[own, other])
    side.extra["programme"] = programme
    side.extra["session"] = session
    side.extra["checkin_token"] = services.checkin_token(session)
    side.extra["participant"] = programme.participants.get(member=other)
    side.extra["own_participant"] = programme.participants.get(member=own)


def _register(mw: MatrixWorld, side: Side, psych: User) -> None:
    """The staff register (xinyu.staff): a full-time psych teacher of the side's school (no
    account) with a post there and a C certificate; the side's psych teacher's own entry
    (their account) with a pending correction; for A, A 4(1)'s class teacher's own entry."""
    from xinyu.staff import services as staff
    from xinyu.staff.models import StaffMember

    w = mw.w
    member = staff.create_member(
        by=w.district_admin,
        district=w.district,
        school=side.school,
        staff_no=f"REG-{side.school.code}",
        fields={"name": "名册心理老师", "post_type": "full", "phone": "13700000000"},
    )
    staff.set_posts(by=w.district_admin, member=member, posts=[staff.PostSpec(side.school)])
    side.extra["member"] = member
    side.extra["held_certificate"] = staff.record_certificate(
        by=w.district_admin,
        member=member,
        kind="C",
        number=f"C-{side.school.code}",
        issued_on=TODAY - 30 * DAY,
        expires_on=None,
        issuer="重庆市教育委员会",
        source="entered",
    )
    own = StaffMember.objects.filter(user=psych).first() or staff.ensure_member(
        by=w.district_admin,
        district=w.district,
        school=side.school,
        staff_no=f"REG-{side.school.code}-OWN",
        name=psych.full_name,
        user=psych,
    )
    side.extra["correction"] = staff.propose_correction(
        by=psych, member=own, proposed={"title": "中小学一级教师"}
    )
    if side is mw.a and not StaffMember.objects.filter(user=w.class_teacher_a41).exists():
        staff.ensure_member(
            by=w.district_admin,
            district=w.district,
            school=side.school,
            staff_no=f"REG-{side.school.code}-CT",
            name=w.class_teacher_a41.full_name,
            user=w.class_teacher_a41,
        )


def _wellbeing(mw: MatrixWorld) -> None:
    """A staff campaign per school; A's teacher of 4(1) and B's psych teacher hand in."""
    from xinyu.wellbeing import services
    from xinyu.wellbeing.models import StaffInvitation

    w = mw.w
    for side, member in ((mw.a, w.class_teacher_a41), (mw.b, w.psych_b)):
        campaign = services.create_campaign(
            by=w.district_admin,
            district=w.district,
            title=f"{side.school.name} 教职工心理健康测评",
            instrument="PHQ9",
            schools=[side.school],
            opens_on=TODAY - DAY,
            closes_on=TODAY + 7 * DAY,
        )
        inv = StaffInvitation.objects.get(campaign=campaign, user=member)
        inv = services.record_consent(invitation=inv, by=member, agree=True, contact_ok=True)
        for item in range(1, 10):
            inv = services.save_answer(invitation=inv, by=member, item=item, value=2 if item < 9 else 0)
        side.extra["wb_campaign"] = campaign
        side.extra["wb_invitation"] = services.submit(invitation=inv, by=member)
