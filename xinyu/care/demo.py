"""Care in the demo district, written through the real services: the referral registry, the
district's key-period calendar, and at the demo school the screening warnings triaged into
cases of each tier (checklists partly done, follow-ups, a referral awaiting feedback) and a
staff concern waiting at the grade step."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import District, Role, RoleAssignment, School, User

from .models import EntryKind, Institution, InstitutionKind, Level, Tier, Warning, WarningStatus
from .services import cases, rechecks, referrals

DEMO_SCHOOL = "荣昌区玉屏实验中学"
INSTITUTIONS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("重庆市精神卫生中心", "儿童青少年心理科", InstitutionKind.HOSPITAL, "023-65310000", True),
    ("荣昌区人民医院", "心理门诊", InstitutionKind.HOSPITAL, "023-46732000", True),
    ("荣昌区未成年人心理健康辅导站", "", InstitutionKind.DISTRICT_SERVICE, "023-46720000", False),
)
# (name, kind, days from today): the district's key periods (重点时段, SPEC §4).
PERIODS = (
    ("期末考试", "exam", 9),
    ("寒假前后", "holiday", 50),
    ("春季开学", "school_start", 85),
)
TRIAGE = (
    (Tier.SEVERE, "PHQ-9 第 9 题作答“几乎每天”，面谈中承认近期有过轻生念头，无具体计划。"),
    (Tier.SERIOUS, "与父母冲突频繁，近一个月失眠、成绩下滑明显。"),
    (Tier.GENERAL, "考试焦虑，睡眠尚可，有倾诉意愿。"),
)


def _one(role: str, **where: object) -> User | None:
    a = RoleAssignment.objects.filter(**where).select_related("user").first()
    return a.user if a else None


@transaction.atomic
def build_demo_care(district: District) -> int:
    """Returns the number of cases opened."""
    if Institution.objects.filter(district=district).exists():
        return 0
    admin = _one(Role.DISTRICT_ADMIN, district=district)
    if admin is None:
        return 0
    for name, department, kind, phone, green in INSTITUTIONS:
        referrals.create_institution(
            by=admin,
            district=district,
            name=name,
            department=department,
            kind=kind,
            phone=phone,
            green_channel=green,
        )
    today = timezone.localdate()
    for name, kind, days in PERIODS:
        rechecks.create_key_period(
            by=admin,
            district=district,
            school=None,
            name=name,
            kind=kind,
            starts_on=today + dt.timedelta(days=days),
            lead_days=7,
        )
    school = School.objects.filter(district=district, name=DEMO_SCHOOL).first()
    psych = _one(Role.PSYCH_TEACHER, school=school) if school else None
    if school is None or psych is None:
        return 0
    return _cases_at(school, psych)


# The order "-level" gave while the column was clear text (it is a keyed token now).
_LEVEL_DESC = Case(
    *(When(level=level, then=Value(i)) for i, level in enumerate(sorted(Level.values, reverse=True))),
    output_field=IntegerField(),
)


def _cases_at(school: School, psych: User) -> int:
    warnings = list(
        Warning.objects.filter(school=school, status=WarningStatus.OPEN)
        .select_related("student", "school__district")
        .order_by(_LEVEL_DESC, "opened_at")[: len(TRIAGE)]
    )
    opened = 0
    today = timezone.localdate()
    hospital = Institution.objects.get(district=school.district, name="荣昌区人民医院")
    for warning, (tier, assessment) in zip(warnings, TRIAGE, strict=False):
        case = cases.triage_warning(warning=warning, by=psych, tier=tier, assessment=assessment)
        assert case is not None
        opened += 1
        actions = list(case.actions.all())
        for action in actions[: max(1, len(actions) - 2)]:
            cases.record_action(action=action, by=psych, done=True, note="")
        cases.add_entry(
            case=case,
            by=psych,
            kind=EntryKind.CONTACT,
            on=today - dt.timedelta(days=2),
            note="个别面谈 40 分钟，情绪较前稳定，约定下周再谈。",
        )
        if tier == Tier.SEVERE:
            referral = referrals.make_referral(
                case=case,
                by=psych,
                institution=hospital,
                reason="有轻生念头，建议专科评估。",
                referred_on=today - dt.timedelta(days=1),
                accompanied_by="班主任、母亲",
                guardian_agreed=True,
            )
            referrals.mark_seen(referral=referral, by=psych, seen_on=today)
    # A staff concern about another student, waiting for the grade leader / psych teacher.
    other = (
        school.students.filter(status="active")
        .exclude(warnings__status__in=[WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED])
        .order_by("student_no")
        .first()
    )
    reporter = _one(Role.CLASS_TEACHER, school_class=other.school_class) if other else None
    if other is not None:
        cases.report_concern(
            by=reporter or psych,
            student=other,
            triggers=["academic", "emotion"],
            note="最近两次测验成绩明显下滑，上课常走神。",
            token="demo-concern-1",
        )
    return opened


@demo_builder("care", order=40)
def demo_care(run: DemoRun) -> str | None:
    opened = build_demo_care(run.district)
    return f"Care: referral registry, key periods, {opened} cases at one school."
