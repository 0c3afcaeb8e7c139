"""Access policy of the org family beyond the core scopes: staff accounts, roster import
batches and API tokens (SPEC §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy

from .models import ApiToken, ImportBatch, ImportKind, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


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
