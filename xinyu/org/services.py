"""Writes to the organisation's people. Each function is atomic and writes its audit row
in the same transaction. Callers check permission through `xinyu.access` first; the
functions re-check what they must so that no caller can skip it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError  # noqa: E402  (the one refusal of every service)
from xinyu.org import access as org_access
from xinyu.org import auth, twofactor

from .models import (
    ApiToken,
    Enrollment,
    KeyPopulation,
    ResetKind,
    ResetRequest,
    ResetStatus,
    SchoolClass,
    Student,
    StudentFlag,
    User,
)


def _check_may_flag(by: User, student: Student) -> None:
    if not policy.can(by, Perm.SET_FLAGS) or policy.level_for(by, student) < Level.CARE:
        raise ServiceError(
            "您不能更改该学生的重点人群标记。", "You may not change this student's flags.", field="kind"
        )


def _audit_student_update(by: User, student: Student, detail: str) -> None:
    record(
        actor=by,
        action=Action.UPDATE,
        obj=student,
        student=student,
        role=policy.role_for(by, student),
        detail=detail,
    )


@transaction.atomic
def set_flag(*, by: User, student: Student, kind: str) -> StudentFlag:
    if kind not in KeyPopulation.values:
        raise ServiceError(
            f"未知的重点人群类别：{kind}", f"Unknown key-population flag: {kind}", field="kind"
        )
    _check_may_flag(by, student)
    existing = StudentFlag.objects.filter(student=student, kind=kind, cleared_at__isnull=True).first()
    if existing is not None:
        return existing
    flag = StudentFlag.objects.create(student=student, kind=kind, set_by=by, set_at=timezone.now())
    _audit_student_update(by, student, f"flag set: {kind}")
    return flag


@transaction.atomic
def clear_flag(*, by: User, student: Student, kind: str) -> None:
    _check_may_flag(by, student)
    updated = StudentFlag.objects.filter(student=student, kind=kind, cleared_at__isnull=True).update(
        cleared_at=timezone.now(), cleared_by=by
    )
    if updated:
        _audit_student_update(by, student, f"flag cleared: {kind}")


@transaction.atomic
def transfer_student(*, by: User, student: Student, to_class: SchoolClass, source: str = "manual") -> Student:
    """Move a student to another class (same or another school of the district); the
    enrolment history keeps where they were. Access follows the student at once: the old
    school's staff lose it, the new school's gain it."""
    if student.school_class_id == to_class.pk:
        return student
    from_school = student.school
    if not policy.can(by, Perm.TRANSFER, school=from_school) and not policy.can(
        by, Perm.TRANSFER, school=to_class.school
    ):
        raise ServiceError("您不能为该学生办理转班。", "You may not transfer this student.", field="to_class")
    if to_class.school.district_id != from_school.district_id:
        raise ServiceError(
            "只能在本区内转学。", "A student can only be transferred within the district.", field="to_class"
        )
    Enrollment.objects.create(
        student=student,
        from_class_id=student.school_class_id,
        to_class=to_class,
        from_school=from_school,
        to_school=to_class.school,
        at=timezone.now(),
        by=by,
        source=source,
    )
    student.school_class = to_class
    student.school = to_class.school
    student.save(update_fields=["school_class", "school", "updated_at"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=student,
        student=student,
        role=policy.roles_label(by),
        detail=f"transfer from school {from_school.code} to {to_class.school.code} {to_class}",
    )
    return student


# Sent (inside the issuing transaction) when a district admin gives an account a temporary
# password: the web hub tells the owner through xinyu.notify (in-app and SMS), which this
# floor may not import.
temporary_password_issued = Signal()


def _temporary_password() -> str:
    """12 random characters that meet the password policy (xinyu.org.auth)."""
    while True:
        password = secrets.token_urlsafe(9)
        if auth.character_classes(password) >= auth.MIN_CLASSES:
            return password


def _check_may_manage(by: User, staff: User) -> None:
    if not policy.can(by, Perm.MANAGE_STAFF) or not org_access.staff_for(by).filter(pk=staff.pk).exists():
        raise ServiceError("您不能管理该账号。", "You may not manage this account.")
    if by.pk == staff.pk:
        raise ServiceError(
            "不能重置自己的账号：请使用“修改密码”或两步验证页面。",
            "You cannot reset your own account: use the password or two-step verification page.",
        )


def _needs_approval_error() -> ServiceError:
    return ServiceError(
        "该账号可查看心理辅导记录或全校信息，重置需经第二人（另一位区级管理员或该校校领导）批准。",
        "This account reads counselling notes or a whole school: a reset needs a second person's "
        "approval (another district admin or the school's leader).",
    )


def _set_temporary_password(*, by: User, staff: User) -> str:
    password = _temporary_password()
    staff.set_password(password)
    staff.must_change_password = True
    staff.temporary_password_expires_at = timezone.now() + auth.TEMPORARY_FOR
    staff.temporary_password_used_at = None
    staff.save(
        update_fields=[
            "password",
            "must_change_password",
            "temporary_password_expires_at",
            "temporary_password_used_at",
        ]
    )
    auth.clear_failures(staff.username)
    revoked = _revoke_all_tokens(staff)
    record(
        actor=by,
        action=Action.UPDATE,
        obj=staff,
        role=policy.roles_label(by),
        detail="temporary password" + (f" ({revoked} api tokens revoked)" if revoked else ""),
    )
    temporary_password_issued.send(sender=User, staff=staff, by=by)
    return password


@transaction.atomic
def issue_temporary_password(*, by: User, staff: User) -> str:
    """A new random password for a staff account, shown once to the district admin who
    hands it over. It logs in once, within 24 hours, and the holder must then choose their
    own before anything else; the owner is told (in-app and SMS); their API tokens die.
    Accounts of `[accounts] two_person_roles` need an approved `ResetRequest` instead."""
    _check_may_manage(by, staff)
    if twofactor.needs_two_people(staff):
        raise _needs_approval_error()
    return _set_temporary_password(by=by, staff=staff)


# Sent (inside the transaction) when an account's second factor is reset: the web hub tells
# the owner through xinyu.notify, like temporary_password_issued.
second_factor_reset = Signal()


def _reset_second_factor(*, by: User, staff: User) -> None:
    twofactor.reset_devices(staff)
    record(
        actor=by, action=Action.UPDATE, obj=staff, role=policy.roles_label(by), detail="second factor reset"
    )
    second_factor_reset.send(sender=User, staff=staff, by=by)


@transaction.atomic
def reset_second_factor(*, by: User, staff: User) -> None:
    """Remove the account's second factor (lost phone): the owner enrols again at their next
    login (audited; the owner is told). Accounts of `[accounts] two_person_roles` need an
    approved `ResetRequest` instead."""
    _check_may_manage(by, staff)
    if twofactor.needs_two_people(staff):
        raise _needs_approval_error()
    _reset_second_factor(by=by, staff=staff)


# -- Two-person approval of resets ---------------------------------------------------------

# Sent (inside the transaction) when a reset request is filed: the web hub tells those who may
# approve it, through xinyu.notify.
reset_requested = Signal()


@transaction.atomic
def request_reset(*, by: User, staff: User, kind: str) -> ResetRequest:
    """A district admin asks to reset the password or second factor of an account that needs
    two people: nothing changes until someone else approves (`approve_reset`) before the
    request lapses (`[accounts] reset_request_hours`). Audited. A second request for the same
    account and kind while one is open returns the open one."""
    if kind not in ResetKind.values:
        raise ServiceError("未知的重置类型。", "Unknown kind of reset.", field="kind")
    _check_may_manage(by, staff)
    if not twofactor.needs_two_people(staff):
        raise ServiceError(
            "该账号无需审批，可直接重置。", "This account needs no approval: reset it directly."
        )
    now = timezone.now()
    open_one = ResetRequest.objects.filter(
        target=staff, kind=kind, status__in=[ResetStatus.PENDING, ResetStatus.APPROVED], expires_at__gt=now
    ).first()
    if open_one is not None:
        return open_one
    hours = int(twofactor.user_policy(staff).get("reset_request_hours", 24))
    req = ResetRequest.objects.create(
        kind=kind, target=staff, requested_by=by, expires_at=now + dt.timedelta(hours=hours)
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=req,
        role=policy.roles_label(by),
        detail=f"reset requested: {kind}",
    )
    reset_requested.send(sender=ResetRequest, req=req, approvers=list(org_access.reset_approvers(req)))
    return req


def _open_request(req: ResetRequest, status: str) -> ResetRequest:
    locked = ResetRequest.objects.select_for_update().get(pk=req.pk)
    if locked.status != status or locked.expires_at <= timezone.now():
        raise ServiceError("该申请已处理或已过期。", "This request has already been decided or has lapsed.")
    return locked


def _check_may_decide(by: User, req: ResetRequest) -> None:
    if req.requested_by_id == by.pk:
        raise ServiceError(
            "不能批准或拒绝自己提出的申请，须由第二人批准。",
            "You cannot decide your own request: a second person must approve it.",
        )
    if not org_access.reset_requests_to_decide(by).filter(pk=req.pk).exists():
        raise ServiceError("您不能审批该申请。", "You may not decide this request.")


@transaction.atomic
def approve_reset(*, by: User, req: ResetRequest) -> ResetRequest:
    """The second person approves (never the requester, never the account's owner). A second
    factor is reset at once; a password reset becomes collectable by the requester, who alone
    then sees the temporary password (`collect_reset`). Audited."""
    _check_may_decide(by, req)
    req = _open_request(req, ResetStatus.PENDING)
    now = timezone.now()
    req.status = ResetStatus.APPROVED
    req.decided_by = by
    req.decided_at = now
    record(
        actor=by,
        action=Action.UPDATE,
        obj=req,
        role=policy.roles_label(by),
        detail=f"reset approved: {req.kind}",
    )
    if req.kind == ResetKind.SECOND_FACTOR:
        assert req.requested_by is not None
        _reset_second_factor(by=req.requested_by, staff=req.target)
        req.status = ResetStatus.DONE
        req.done_at = now
    req.save(update_fields=["status", "decided_by", "decided_at", "done_at"])
    return req


@transaction.atomic
def refuse_reset(*, by: User, req: ResetRequest) -> ResetRequest:
    """The second person refuses: nothing changes (audited)."""
    _check_may_decide(by, req)
    req = _open_request(req, ResetStatus.PENDING)
    req.status = ResetStatus.REFUSED
    req.decided_by = by
    req.decided_at = timezone.now()
    req.save(update_fields=["status", "decided_by", "decided_at"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=req,
        role=policy.roles_label(by),
        detail=f"reset refused: {req.kind}",
    )
    return req


@transaction.atomic
def collect_reset(*, by: User, req: ResetRequest) -> str:
    """After approval, the requester (only) makes the temporary password and sees it once;
    it is never stored in clear. The owner is told, their API tokens die."""
    if req.requested_by_id != by.pk or req.kind != ResetKind.PASSWORD:
        raise ServiceError("您不能领取该临时密码。", "You may not collect this temporary password.")
    req = _open_request(req, ResetStatus.APPROVED)
    _check_may_manage(by, req.target)
    password = _set_temporary_password(by=by, staff=req.target)
    req.status = ResetStatus.DONE
    req.done_at = timezone.now()
    req.save(update_fields=["status", "done_at"])
    return password


@transaction.atomic
def unlock_account(*, by: User, staff: User) -> bool:
    """Lift the lockout of a staff account after failed logins (audited). False when it was
    not locked."""
    if not policy.can(by, Perm.MANAGE_STAFF) or not org_access.staff_for(by).filter(pk=staff.pk).exists():
        raise ServiceError("您不能管理该账号。", "You may not manage this account.")
    if auth.locked_until(staff.username) is None:
        return False
    auth.clear_failures(staff.username)
    record(actor=by, action=Action.UPDATE, obj=staff, role=policy.roles_label(by), detail="login unlocked")
    return True


@transaction.atomic
def change_own_password(*, user: User, new_password: str) -> None:
    """The holder sets a new password (already checked against the policy by the form): the
    temporary password and the forced change end (audited)."""
    if user.check_password(new_password):
        raise ServiceError("新密码不能与当前密码相同。", "The new password must differ from the current one.")
    user.set_password(new_password)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    user.temporary_password_used_at = None
    user.save(
        update_fields=[
            "password",
            "must_change_password",
            "temporary_password_expires_at",
            "temporary_password_used_at",
        ]
    )
    revoked = _revoke_all_tokens(user)
    record(
        actor=user,
        action=Action.UPDATE,
        obj=user,
        role=policy.roles_label(user),
        detail="password changed" + (f" ({revoked} api tokens revoked)" if revoked else ""),
    )


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_days(user: User) -> int:
    """How long a new token lives (`[accounts] api_token_days`, 90 by default)."""
    return int(twofactor.user_policy(user).get("api_token_days", 90))


def _revoke_all_tokens(user: User) -> int:
    """Every API token of the user dies (a password change or reset): the count deleted."""
    return int(ApiToken.objects.filter(user_id=user.pk).delete()[0])


@transaction.atomic
def create_api_token(*, by: User, name: str) -> tuple[ApiToken, str]:
    """A new bearer token, expiring after `[accounts] api_token_days`; the plain key is
    returned once and never stored."""
    key = "xy_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=by,
        name=name[:100] or "API",
        key_hash=_hash_key(key),
        expires_at=timezone.now() + dt.timedelta(days=api_token_days(by)),
    )
    record(actor=by, action=Action.CREATE, obj=token, role=policy.roles_label(by))
    return token, key


@transaction.atomic
def revoke_api_token(*, by: User, token_id: int) -> bool:
    """Revoke one of the user's own API tokens (audited); another user's id does nothing."""
    token = ApiToken.objects.filter(user_id=by.pk, pk=token_id).first()
    if token is None:
        return False
    record(actor=by, action=Action.DELETE, obj=token, role=policy.roles_label(by), detail="api token revoked")
    token.delete()
    return True


def user_for_token(key: str) -> User | None:
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is None or token.expires_at <= timezone.now():
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user
