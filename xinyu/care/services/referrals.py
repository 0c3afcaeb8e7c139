"""Referral (转介, SPEC §4; XY 7, SJS 3.(四)): the district's registry of institutions, the
referral of a case's student, and the return-to-school support plan (回归保健).

A referral goes sent → seen by the institution → feedback received → back at school →
support plan finished; it may be cancelled before feedback, and the institution's feedback
may arrive without a separate "seen". The feedback is what the psych teacher enters (a
diagnosis summary and treatment advice), never the medical record. The return creates
check-ins on the days of [care.referral] check_in_days; the referral finishes only when every
check-in is done. Every change writes a case event (detail "referral <uid>: …", the
referral's dated history) and an audit row in the same transaction.

Daily jobs: `remind_overdue_feedback` (feedback later than feedback_within_days) and
`remind_due_check_ins` (check-ins due today or overdue); one message per case owner, no names.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.care.access import CarePerm
from xinyu.kernel import validators as v
from xinyu.kernel.errors import ServiceError
from xinyu.notify.models import Message
from xinyu.notify.services import notify_users
from xinyu.org.models import District, User

from ..models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    CheckIn,
    Institution,
    InstitutionKind,
    Referral,
    ReferralStatus,
)
from ..rules import care_rules
from .common import audit_role, check_transition

S = ReferralStatus

REFERRAL_TRANSITIONS: dict[str, set[str]] = {
    S.SENT: {S.SEEN, S.FEEDBACK, S.CANCELLED},
    S.SEEN: {S.FEEDBACK, S.CANCELLED},
    S.FEEDBACK: {S.RETURNED},
    S.RETURNED: {S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
# Chinese labels for refusals (the message names both states).
REFERRAL_LABELS: dict[str, str] = {
    S.SENT: "已转出",
    S.SEEN: "机构已接诊",
    S.FEEDBACK: "已收到反馈",
    S.RETURNED: "已返校",
    S.CLOSED: "回归保健已完成",
    S.CANCELLED: "已取消",
}
OPEN_STATUSES = (S.SENT, S.SEEN, S.FEEDBACK, S.RETURNED)
AWAITING_FEEDBACK = (S.SENT, S.SEEN)
EVENT_PREFIX = "referral"

MAX_TEXT = 4000


def _day(value: dt.date | None, label: v.Label, *, not_before: dt.date | None = None) -> dt.date:
    """A date that happened: required, not in the future, not before `not_before`."""
    day = v.date(value, label)
    assert day is not None  # required
    if day > timezone.localdate():
        raise ServiceError(
            f"{label.zh}不能晚于今天", f"The {label.english} cannot be in the future", field=label.field
        )
    return v.date(day, label, not_before=not_before) or day


def event_prefix(referral: Referral) -> str:
    """The start of every case event's detail about this referral (its history)."""
    return f"{EVENT_PREFIX} {referral.uid}:"


def _event(referral: Referral, *, by: User | None, what: str, created: bool = False) -> None:
    """The case's history row and the referral's audit row, in the caller's transaction.
    `what` never carries the reason, the diagnosis summary or the advice."""
    detail = f"{event_prefix(referral)} {what}"[:300]
    CaseEvent.objects.create(
        case_id=referral.case_id, kind=CaseEventKind.REFERRAL, at=timezone.now(), actor=by, detail=detail
    )
    record(
        actor=by,
        action=Action.CREATE if created else Action.UPDATE,
        obj=referral,
        student=referral.student,
        role=audit_role(by, referral.student),
        detail=f"referral {referral.status}",  # never the reason, summary or advice (audit log)
    )


def _lock(referral: Referral) -> Referral:
    """The case first (as close_case does), then the referral: a case cannot close while a
    referral changes under it."""
    Case.objects.select_for_update().filter(pk=referral.case_id).first()
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case__school__district", "student", "institution")
        .get(pk=referral.pk)
    )


def _move(referral: Referral, target: str) -> None:
    check_transition(REFERRAL_TRANSITIONS, referral.status, target, what="转介", labels=REFERRAL_LABELS)


# ---- the registry ------------------------------------------------------------------------


def _managed_district_ids(user: User) -> set[int]:
    return {g.district_id for g in policy.grants(user) if CarePerm.MANAGE_INSTITUTIONS in g.policy.perms}


def _require_manager(user: User, district_id: int) -> None:
    if district_id not in _managed_district_ids(user):
        raise ServiceError(
            "只有区管理员和指导中心专家可以维护转介机构名录",
            "Only district admins and centre experts manage the referral registry",
            field="district",
        )


def _institution_fields(
    *, name: str, kind: str, department: str, contact: str, phone: str, address: str
) -> dict[str, str]:
    kind = v.choice(kind, v.Label("kind", "机构类型", "kind of institution"), InstitutionKind.values)
    return {
        "name": v.text(name, v.Label("name", "机构名称"), required=True, limit=100),
        "kind": kind,
        "department": v.text(department, v.Label("department", "科室"), required=False, limit=100),
        "contact": v.text(contact, v.Label("contact", "联系人"), required=False, limit=50),
        "phone": v.text(phone, v.Label("phone", "电话"), required=False, limit=30),
        "address": v.text(address, v.Label("address", "地址"), required=False, limit=200),
    }


def _refuse_duplicate(district_id: int, fields: dict[str, str], exclude_pk: int | None = None) -> None:
    same = Institution.objects.filter(
        district_id=district_id, name__iexact=fields["name"], department__iexact=fields["department"]
    )
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ServiceError(
            "名录中已有同名机构（同一科室）",
            "The registry already has an institution with this name and department",
            field="name",
        )


@transaction.atomic
def create_institution(
    *,
    by: User,
    district: District,
    name: str,
    kind: str,
    department: str = "",
    contact: str = "",
    phone: str = "",
    address: str = "",
    green_channel: bool = False,
) -> Institution:
    """Add an institution (medical institution or district service) to the district's registry."""
    _require_manager(by, district.pk)
    fields = _institution_fields(
        name=name, kind=kind, department=department, contact=contact, phone=phone, address=address
    )
    _refuse_duplicate(district.pk, fields)
    institution = Institution.objects.create(district=district, green_channel=bool(green_channel), **fields)
    record(
        actor=by,
        action=Action.CREATE,
        obj=institution,
        role=audit_role(by),
        detail=f"institution {institution.kind}",
    )
    return institution


@transaction.atomic
def update_institution(
    *,
    institution: Institution,
    by: User,
    name: str,
    kind: str,
    department: str = "",
    contact: str = "",
    phone: str = "",
    address: str = "",
    green_channel: bool = False,
    active: bool = True,
) -> Institution:
    """Edit a registry entry; `active=False` takes it off the referral form (existing
    referrals keep pointing at it)."""
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    _require_manager(by, institution.district_id)
    fields = _institution_fields(
        name=name, kind=kind, department=department, contact=contact, phone=phone, address=address
    )
    _refuse_duplicate(institution.district_id, fields, exclude_pk=institution.pk)
    for key, value in fields.items():
        setattr(institution, key, value)
    institution.green_channel = bool(green_channel)
    institution.active = bool(active)
    institution.save()
    record(
        actor=by,
        action=Action.UPDATE,
        obj=institution,
        role=audit_role(by),
        detail="institution updated" + ("" if institution.active else " (inactive)"),
    )
    return institution


@transaction.atomic
def set_institution_active(*, institution: Institution, by: User, active: bool) -> Institution:
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    _require_manager(by, institution.district_id)
    if institution.active != active:
        institution.active = active
        institution.save(update_fields=["active"])
        record(
            actor=by,
            action=Action.UPDATE,
            obj=institution,
            role=audit_role(by),
            detail="institution reactivated" if active else "institution deactivated",
        )
    return institution


# ---- referrals ---------------------------------------------------------------------------


@transaction.atomic
def make_referral(
    *,
    case: Case,
    by: User,
    institution: Institution,
    reason: str,
    referred_on: dt.date | None,
    accompanied_by: str = "",
    guardian_agreed: bool = False,
) -> Referral:
    """Refer the case's student to an active institution of the district's registry. The
    feedback is due `feedback_within_days` after the referral. The case checklist's
    "referral" action is left for the psych teacher to tick."""
    case = (
        Case.objects.select_related("student", "school__district")
        .select_for_update(of=("self",))
        .get(pk=case.pk)
    )
    if case.status != CaseStatus.ACTIVE:
        raise ServiceError(
            f"个案当前为「{case.get_status_display()}」，只有进行中的个案可以转介",
            "Only an active case can make a referral",
            field="case",
        )
    institution = Institution.objects.get(pk=institution.pk)
    if institution.district_id != case.school.district_id or not institution.active:
        raise ServiceError(
            "请从本区转介机构名录中选择一个在用的机构",
            "Choose an active institution from the district's registry",
            field="institution",
        )
    reason = v.text(reason, v.Label("reason", "转介原因"), required=True)
    referred_on = _day(referred_on, v.Label("referred_on", "转介日期"))
    accompanied_by = v.text(accompanied_by, v.Label("accompanied_by", "陪同人"), required=False, limit=100)
    if case.referrals.filter(institution=institution, status__in=OPEN_STATUSES).exists():
        raise ServiceError(
            "该个案已有一个转介到此机构、尚未完成的记录",
            "This case already has an open referral to this institution",
            field="institution",
        )
    now = timezone.now()
    referral = Referral.objects.create(
        case=case,
        student=case.student,
        institution=institution,
        reason=reason,
        referred_on=referred_on,
        accompanied_by=accompanied_by,
        guardian_agreed=bool(guardian_agreed),
        feedback_due_on=referred_on
        + dt.timedelta(days=care_rules(case.school.district.code).feedback_within_days),
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    _event(
        referral,
        by=by,
        what=f"sent {referred_on:%Y-%m-%d}" + ("" if referral.guardian_agreed else " (guardian not agreed)"),
        created=True,
    )
    return referral


@transaction.atomic
def mark_seen(*, referral: Referral, by: User, seen_on: dt.date | None) -> Referral:
    """The institution has seen the student."""
    referral = _lock(referral)
    _move(referral, S.SEEN)
    referral.seen_on = _day(seen_on, v.Label("seen_on", "接诊日期"), not_before=referral.referred_on)
    referral.status = S.SEEN
    referral.updated_at = timezone.now()
    referral.save(update_fields=["seen_on", "status", "updated_at"])
    _event(referral, by=by, what=f"seen {referral.seen_on:%Y-%m-%d}")
    return referral


@transaction.atomic
def record_feedback(
    *,
    referral: Referral,
    by: User,
    diagnosis_summary: str,
    advice: str,
    feedback_on: dt.date | None,
) -> Referral:
    """The institution's feedback, as the psych teacher summarises it: a diagnosis summary
    (optional: the family may not share it) and the treatment advice."""
    referral = _lock(referral)
    _move(referral, S.FEEDBACK)
    summary = v.text(diagnosis_summary, v.Label("diagnosis_summary", "诊断摘要"), required=False, limit=2000)
    advice = v.text(advice, v.Label("advice", "治疗建议"), required=False, limit=2000)
    if not summary and not advice:
        raise ServiceError(
            "请填写诊断摘要或治疗建议", "Fill in the diagnosis summary or the advice", field="advice"
        )
    referral.feedback_on = _day(
        feedback_on, v.Label("feedback_on", "反馈日期"), not_before=referral.seen_on or referral.referred_on
    )
    referral.diagnosis_summary, referral.advice = summary, advice
    referral.status = S.FEEDBACK
    referral.updated_at = timezone.now()
    referral.save(update_fields=["feedback_on", "diagnosis_summary", "advice", "status", "updated_at"])
    _event(referral, by=by, what=f"feedback {referral.feedback_on:%Y-%m-%d}")
    return referral


@transaction.atomic
def record_return(*, referral: Referral, by: User, returned_on: dt.date | None, return_plan: str) -> Referral:
    """The student is back at school: the support plan (回归保健) and its check-ins, on the
    days of [care.referral] check_in_days after the return."""
    referral = _lock(referral)
    _move(referral, S.RETURNED)
    referral.returned_on = _day(
        returned_on, v.Label("returned_on", "返校日期"), not_before=referral.feedback_on
    )
    referral.return_plan = v.text(return_plan, v.Label("return_plan", "回归保健计划"), required=True)
    referral.status = S.RETURNED
    referral.updated_at = timezone.now()
    referral.save(update_fields=["returned_on", "return_plan", "status", "updated_at"])
    days = care_rules(referral.case.school.district.code).check_in_days
    CheckIn.objects.bulk_create(
        CheckIn(referral=referral, due_on=referral.returned_on + dt.timedelta(days=d))
        for d in sorted(set(days))
    )
    _event(
        referral,
        by=by,
        what=f"returned {referral.returned_on:%Y-%m-%d}; {len(set(days))} check-ins",
    )
    return referral


@transaction.atomic
def record_check_in(*, check_in: CheckIn, by: User, done_on: dt.date | None, note: str) -> CheckIn:
    """One check-in of the support plan done, with what was seen."""
    referral = _lock(check_in.referral)
    check_in = CheckIn.objects.select_for_update().get(pk=check_in.pk, referral=referral)
    if referral.status != S.RETURNED:
        raise ServiceError(
            f"转介当前为「{REFERRAL_LABELS.get(referral.status, referral.status)}」，不能记录回访",
            "Check-ins are recorded only while the student is back at school under the support plan",
            field="status",
        )
    if check_in.done_on is not None:
        raise ServiceError("这次回访已记录", "This check-in is already recorded", field="check_in")
    check_in.done_on = _day(done_on, v.Label("done_on", "回访日期"), not_before=referral.returned_on)
    check_in.note = v.text(note, v.Label("note", "回访记录"), required=True, limit=2000)
    check_in.by = by
    check_in.save(update_fields=["done_on", "note", "by"])
    referral.updated_at = timezone.now()
    referral.save(update_fields=["updated_at"])
    _event(
        referral,
        by=by,
        what=f"check-in {check_in.due_on:%Y-%m-%d} done {check_in.done_on:%Y-%m-%d}",
    )
    return check_in


@transaction.atomic
def finish_referral(*, referral: Referral, by: User) -> Referral:
    """The support plan is over: refused while a check-in is not done."""
    referral = _lock(referral)
    _move(referral, S.CLOSED)
    open_check_ins = referral.check_ins.filter(done_on__isnull=True).count()
    if open_check_ins:
        raise ServiceError(
            f"还有 {open_check_ins} 次回访未记录",
            f"{open_check_ins} check-in(s) of the support plan are not done yet",
            field="check_ins",
        )
    referral.status = S.CLOSED
    referral.updated_at = timezone.now()
    referral.save(update_fields=["status", "updated_at"])
    _event(referral, by=by, what="closed")
    return referral


@transaction.atomic
def cancel_referral(*, referral: Referral, by: User, reason: str) -> Referral:
    """Cancel before feedback (e.g. the family chose another way). The reason goes into the
    case history (there is no separate field; keep it short and without names)."""
    referral = _lock(referral)
    _move(referral, S.CANCELLED)
    reason = v.text(reason, v.Label("reason", "取消原因"), required=True, limit=200)
    referral.status = S.CANCELLED
    referral.updated_at = timezone.now()
    referral.save(update_fields=["status", "updated_at"])
    _event(referral, by=by, what=f"cancelled: {reason}")
    return referral


def is_feedback_overdue(referral: Referral, today: dt.date | None = None) -> bool:
    if today is None:
        return referral.feedback_overdue
    return referral.status in AWAITING_FEEDBACK and referral.feedback_due_on < today


# ---- daily jobs --------------------------------------------------------------------------


def remind_overdue_feedback(*, today: dt.date | None = None) -> int:
    """Daily job: referrals still waiting for the institution's feedback after their due date
    remind the case owner once a day; one message per owner, no names. Each owner's rows are
    claimed with a compare-and-set on `feedback_reminded_on`, so running twice (even at once)
    sends one message. Returns the number of referrals reminded."""
    today = today or timezone.localdate()
    not_today = Q(feedback_reminded_on__isnull=True) | Q(feedback_reminded_on__lt=today)
    due = (
        Referral.objects.filter(not_today, status__in=AWAITING_FEEDBACK, feedback_due_on__lt=today)
        .select_related("case__owner")
        .order_by("pk")
    )
    by_owner: dict[int, list[int]] = defaultdict(list)
    owners: dict[int, User] = {}
    for referral in due:
        by_owner[referral.case.owner_id].append(referral.pk)
        owners[referral.case.owner_id] = referral.case.owner
    reminded = 0
    for owner_id, ids in by_owner.items():
        with transaction.atomic():
            won = Referral.objects.filter(
                not_today, pk__in=ids, status__in=AWAITING_FEEDBACK, feedback_due_on__lt=today
            ).update(feedback_reminded_on=today)
            if not won:
                continue  # another run reminded them meanwhile
            notify_users(
                users=[owners[owner_id]],
                kind="referral_feedback_overdue",
                subject=_("Referral feedback overdue"),
                body=_(
                    "%(n)s of your referrals have no feedback from the institution yet. "
                    "Open Xinyu to follow up."
                )
                % {"n": won},
                link="/care/referrals/",
            )
        reminded += won
    return reminded


CHECK_IN_KIND = "referral_check_in_due"


def remind_due_check_ins(*, today: dt.date | None = None) -> int:
    """Daily job: check-ins of return-to-school plans due today or overdue and not done
    remind the case owner, daily while they stay open; one message per owner, no names.
    A check-in has no "reminded" field: the day's message itself is the mark (its link
    carries the day), looked for under a lock on the owner's row, so running twice (even at
    once) sends one message a day. Returns the number of check-ins reminded about."""
    today = today or timezone.localdate()
    due = (
        CheckIn.objects.filter(done_on__isnull=True, due_on__lte=today, referral__status=S.RETURNED)
        .select_related("referral__case__owner")
        .order_by("pk")
    )
    counts: dict[int, int] = defaultdict(int)
    owners: dict[int, User] = {}
    for check_in in due:
        owner = check_in.referral.case.owner
        counts[owner.pk] += 1
        owners[owner.pk] = owner
    link = f"/care/referrals/?check_ins={today:%Y-%m-%d}"
    reminded = 0
    for owner_id, n in counts.items():
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=owner_id).first()
            if Message.objects.filter(recipient_id=owner_id, kind=CHECK_IN_KIND, link=link).exists():
                continue
            notify_users(
                users=[owners[owner_id]],
                kind=CHECK_IN_KIND,
                subject=_("Return-to-school check-ins due"),
                body=_(
                    "%(n)s check-ins of return-to-school support plans are due. Open Xinyu to record them."
                )
                % {"n": n},
                link=link,
            )
        reminded += n
    return reminded
