"""The plan and the entry points: `preview` (writes nothing), `create_batch` (keeps the
file as an `ImportBatch`) and `apply_batch`, which re-plans inside one transaction and
writes everything, audit rows included, or nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.access.policy import Perm

from ..models import ImportBatch, ImportKind, ImportStatus, User
from .classes import _apply_classes, _ClassOps, _plan_classes
from .errors import RosterError
from .result import Plan
from .scope import _Scope
from .staff import _apply_staff, _plan_staff, _StaffOps
from .students import _apply_students, _plan_students, _StudentOps
from .table import read_table

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

log = logging.getLogger(__name__)


def perm_for(kind: str) -> Perm:
    """Staff import is for district admins only (IMPORT_STAFF); the rest is IMPORT_ROSTER."""
    from ..access import import_perm

    return import_perm(kind)


def _require(actor: User | AnonymousUser, kind: str) -> User:
    if kind not in ImportKind.values:
        raise RosterError(f"未知的导入类型：{kind}", f"unknown import kind: {kind}")
    if not isinstance(actor, User) or not policy.can(actor, perm_for(kind)):
        raise RosterError("您没有导入此名单的权限", "you may not import this roster")
    return actor


def _plan(*, actor: User, kind: str, filename: str, data: bytes) -> tuple[Plan, _Scope]:
    table = read_table(filename=filename, data=data)
    plan = Plan(kind=kind, filename=filename, notices=list(table.notices))
    perm = perm_for(kind)
    scope = _Scope.load(actor, perm)
    if kind == ImportKind.STUDENTS:
        _plan_students(plan, table, scope)
    elif kind == ImportKind.CLASSES:
        _plan_classes(plan, table, scope)
    else:
        district_ids = {g.district_id for g in policy.grants(actor) if perm in g.policy.perms}
        _plan_staff(plan, table, scope, district_ids)
    return plan, scope


def preview(*, by: User | AnonymousUser, kind: str, filename: str, data: bytes) -> Plan:
    """What importing `data` would do; writes nothing. Raises `RosterError` for a file
    that cannot be read or a user who may not import `kind` (SPEC §2)."""
    user = _require(by, kind)
    plan, _scope = _plan(actor=user, kind=kind, filename=filename, data=data)
    return plan


def create_batch(
    *, by: User | AnonymousUser, kind: str, filename: str, data: bytes
) -> tuple[ImportBatch, Plan]:
    """Preview `data` and keep it as an `ImportBatch` (previewed, or rejected when a row is
    bad) for the uploader to apply. Whole-file problems raise and store nothing."""
    user = _require(by, kind)
    plan, _scope = _plan(actor=user, kind=kind, filename=filename, data=data)
    batch = ImportBatch.objects.create(
        kind=kind,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=user,
        status=ImportStatus.PREVIEWED if plan.valid else ImportStatus.REJECTED,
        summary=plan.summary(),
    )
    log.info(
        "roster preview batch=%s kind=%s rows=%d errors=%d counts=%s",
        batch.uid,
        kind,
        plan.rows,
        len(plan.errors),
        plan.counts,
    )
    return batch, plan


@dataclass
class ApplyResult:
    plan: Plan | None
    applied: bool  # this call wrote the batch
    already_applied: bool = False


def apply_batch(*, by: User, batch: ImportBatch) -> ApplyResult:
    """Apply a previewed batch in one transaction: everything or nothing, audit rows
    included. The file is re-checked against the database as it is now; a second apply
    of the same batch does nothing."""
    _require(by, batch.kind)
    if batch.uploaded_by_id != by.pk:
        raise RosterError("只有上传者可以导入此文件", "only the uploader may apply this file")
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == ImportStatus.APPLIED:
            return ApplyResult(plan=None, applied=False, already_applied=True)
        if locked.status != ImportStatus.PREVIEWED:
            raise RosterError("此文件有错误，未导入任何数据", "this file has errors; nothing was imported")
        plan, scope = _plan(actor=by, kind=locked.kind, filename=locked.filename, data=bytes(locked.content))
        if not plan.valid:
            locked.status = ImportStatus.REJECTED
            locked.summary = plan.summary()
            locked.save(update_fields=["status", "summary"])
            batch.status, batch.summary = locked.status, locked.summary
            return ApplyResult(plan=plan, applied=False)
        detail = f"roster import {locked.uid}"
        if isinstance(plan.ops, _StudentOps):
            _apply_students(actor=by, ops=plan.ops, detail=detail)
        elif isinstance(plan.ops, _ClassOps):
            _apply_classes(actor=by, ops=plan.ops, scope=scope, detail=detail)
        elif isinstance(plan.ops, _StaffOps):
            _apply_staff(actor=by, ops=plan.ops, detail=detail)
        locked.status = ImportStatus.APPLIED
        locked.applied_at = timezone.now()
        locked.summary = plan.summary() | {"applied": dict(plan.counts)}
        locked.save(update_fields=["status", "applied_at", "summary"])
    batch.status, batch.applied_at, batch.summary = locked.status, locked.applied_at, locked.summary
    log.info("roster applied batch=%s kind=%s counts=%s", locked.uid, locked.kind, plan.counts)
    return ApplyResult(plan=plan, applied=True)


def allowed_kinds(user: User | AnonymousUser) -> list[str]:
    return [k for k in ImportKind.values if policy.can(user, perm_for(k))]
