"""Access policy of the org family beyond the core scopes: staff accounts, roster import
batches and API tokens (SPEC §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy

from .models import ApiToken, ImportBatch, ImportKind, ResetRequest, Role, RoleAssignment, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


# Approving (or refusing) another administrator's request to reset the password or second factor
# of an account that reads counselling notes (issue 11 item 2): another district admin, or a
# leader of a school where the account holds a role.
APPROVE_RESET = "approve_reset"
policy.grant(Role.DISTRICT_ADMIN, APPROVE_RESET)
policy.grant(Role.SCHOOL_LEADER, APPROVE_RESET)


def import_perm(kind: str) -> policy.Perm:
    """Staff files are for district admins only (IMPORT_STAFF); students and classes need
    IMPORT_ROSTER."""
    return policy.Perm.IMPORT_STAFF if kind == ImportKind.STAFF else policy.Perm.IMPORT_ROSTER


def get_import_batch_for(user: User | AnonymousUser, uid: Any) -> ImportBatch:
    """An uploaded roster file: only its uploader, while they may still import its kind."""
    if not isinstance(user, User):
        policy.deny(user, object_type="importbatch", object_id=str(uid)[:64])
    batch = policy.by_uid(ImportBatch.objects.filter(uploaded_by_id=user.pk), uid)
    if batch is None or not policy.can(user, import_perm(batch.kind)):
        policy.deny(user, object_type="importbatch", object_id=str(uid)[:64])
    return batch


def staff_for(user: User | AnonymousUser) -> QuerySet[User]:
    """Staff accounts the user may list: those holding a role in a school the user may
    see staff of (district admins: the whole district)."""
    q: Q | None = None
    for g in policy.grants(user):
        if policy.Perm.VIEW_STAFF not in g.policy.perms:
            continue
        if g.policy.unit == policy.Unit.DISTRICT:
            part = Q(assignments__district_id=g.district_id)
        else:
            part = Q(assignments__school_id=g.school_id)
        q = part if q is None else q | part
    if q is None:
        return User.objects.none()
    return User.objects.filter(q).distinct()


def get_staff_for(user: User | AnonymousUser, uid: Any, perm: str = policy.Perm.VIEW_STAFF) -> User:
    """A staff account the user may list (and, with `perm`, act on)."""
    staff = policy.by_uid(staff_for(user), uid)
    if staff is None or not policy.can(user, perm):
        policy.deny(user, object_type="user", object_id=str(uid)[:64])
    return staff


def tokens_for(user: User | AnonymousUser) -> QuerySet[ApiToken]:
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=user.pk)


def _approval_q(user: User | AnonymousUser) -> Q | None:
    q: Q | None = None
    for g in policy.grants(user):
        if APPROVE_RESET not in g.policy.perms:
            continue
        if g.policy.unit == policy.Unit.DISTRICT:
            part = Q(target__assignments__district_id=g.district_id)
        else:
            part = Q(target__assignments__school_id=g.school_id)
        q = part if q is None else q | part
    return q


def reset_requests_to_decide(user: User | AnonymousUser) -> QuerySet[ResetRequest]:
    """Reset requests this user may approve or refuse: in their district (district admins) or
    for an account of their school (school leaders), never their own request nor one about
    themselves."""
    q = _approval_q(user)
    if q is None or not isinstance(user, User):
        return ResetRequest.objects.none()
    ids = ResetRequest.objects.filter(q).values("pk")
    return (
        ResetRequest.objects.filter(pk__in=ids)
        .exclude(requested_by_id=user.pk)
        .exclude(target_id=user.pk)
        .select_related("target", "requested_by", "decided_by")
    )


def reset_requests_of(user: User | AnonymousUser) -> QuerySet[ResetRequest]:
    """The reset requests the user made."""
    if not isinstance(user, User):
        return ResetRequest.objects.none()
    return ResetRequest.objects.filter(requested_by_id=user.pk).select_related("target", "decided_by")


def get_reset_request_for(user: User | AnonymousUser, uid: Any) -> ResetRequest:
    """A request the user made or may decide; anything else is 404 + `denied`."""
    req = policy.by_uid(reset_requests_to_decide(user), uid) or policy.by_uid(reset_requests_of(user), uid)
    if req is None:
        policy.deny(user, object_type="resetrequest", object_id=str(uid)[:64])
    return req


def reset_approvers(req: ResetRequest) -> QuerySet[User]:
    """Who may decide the request (told when it is filed): the district admins of the
    account's district and the leaders of its schools, never the requester or the account."""
    target = RoleAssignment.objects.filter(user_id=req.target_id)
    q = Q(
        assignments__role=Role.DISTRICT_ADMIN, assignments__district_id__in=target.values("district_id")
    ) | Q(
        assignments__role=Role.SCHOOL_LEADER,
        assignments__school_id__in=target.filter(school_id__isnull=False).values("school_id"),
    )
    return (
        User.objects.filter(q, is_active=True).exclude(pk__in=[req.requested_by_id, req.target_id]).distinct()
    )
