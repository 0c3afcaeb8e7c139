"""Writes of the compliance app: runs, waivers, self-evaluations. Keyword-only; the scope is
checked first, outside the transaction, so that the `denied` row of an out-of-scope call is
kept (404); then the write and its audit row in one transaction. Refusals are
`ServiceError(zh, en, field=)`."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.compliance import Level
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.evidence import attach
from xinyu.org.models import District, School, User

from . import access, engine, profiles
from .access import CompliancePerm
from .models import (
    Declared,
    Run,
    RunKind,
    SelfEvaluation,
    SelfEvaluationEvidence,
    SelfEvaluationItem,
    SelfEvaluationStatus,
    Waiver,
)

MAX_WAIVER_DAYS = 366 * 2


def start_run(
    *, by: User | None, district: District, cutoff: dt.date | None = None, kind: str = RunKind.MANUAL
) -> Run:
    """Evaluate the district's profile now (the nightly job passes `by=None`)."""
    if (
        by is not None
        and not access.districts_for(by, CompliancePerm.START_RUN).filter(pk=district.pk).exists()
    ):
        policy.deny(by, object_type="district", object_id=str(district.pk))
    with transaction.atomic():
        run = engine.evaluate(district=district, cutoff=cutoff or timezone.localdate(), by=by, kind=kind)
        record(
            actor=by,
            action=Action.CREATE,
            obj=run,
            role=policy.audit_role(by) if by is not None else "system",
            detail=f"compliance run {run.profile_id} ({run.profile_hash[:12]}), cut-off {run.cutoff}, "
            f"{run.results.count()} results",
        )
        return run


def _rule(district: District, rule_id: str) -> profiles.Rule:
    for rule in profiles.profile_for(district.code).profile.rules:
        if rule.id == rule_id:
            return rule
    raise ServiceError("规则不存在", "No such rule in the district's profile", field="rule_id")


def grant_waiver(
    *, by: User, school: School, rule_id: str, justification: str, expires_on: dt.date
) -> Waiver:
    """Exempt `school` from `rule_id` until `expires_on` (inclusive), with a justification."""
    if not access.may(by, CompliancePerm.GRANT_WAIVER, school):
        policy.deny(by, object_type="school", object_id=str(school.uid))
    with transaction.atomic():
        _rule(school.district, rule_id)
        justification = (justification or "").strip()
        if len(justification) < 4:
            raise ServiceError(
                "请写明豁免理由", "Give the justification for the waiver", field="justification"
            )
        if len(justification) > 2000:
            raise ServiceError(
                "豁免理由不能超过 2000 字",
                "The justification may not exceed 2,000 characters",
                field="justification",
            )
        today = timezone.localdate()
        if expires_on < today:
            raise ServiceError(
                "到期日不能早于今天", "The expiry date cannot be in the past", field="expires_on"
            )
        if expires_on > today + dt.timedelta(days=MAX_WAIVER_DAYS):
            raise ServiceError(
                "豁免期不能超过两年", "A waiver may last two years at most", field="expires_on"
            )
        if Waiver.objects.filter(
            school=school, rule_id=rule_id, revoked_at__isnull=True, expires_on__gte=today
        ).exists():
            raise ServiceError(
                "该校此规则已有有效豁免",
                "The school already has a waiver in force for this rule",
                field="rule_id",
            )
        waiver = Waiver.objects.create(
            district=school.district,
            school=school,
            rule_id=rule_id,
            justification=justification,
            granted_by=by,
            expires_on=expires_on,
        )
        record(
            actor=by, action=Action.CREATE, obj=waiver, school=school, role=policy.audit_role(by),
            detail=f"waiver {rule_id} until {expires_on}",
        )  # fmt: skip
        return waiver


def revoke_waiver(*, by: User, waiver: Waiver, reason: str) -> Waiver:
    if not access.may(by, CompliancePerm.GRANT_WAIVER, waiver.school):
        policy.deny(by, object_type="waiver", object_id=str(waiver.uid))
    with transaction.atomic():
        reason = (reason or "").strip()
        if not reason:
            raise ServiceError("请写明撤销原因", "Give the reason for revoking", field="reason")
        if waiver.revoked_at is not None:
            raise ServiceError("该豁免已撤销", "The waiver is already revoked")
        waiver.revoked_at = timezone.now()
        waiver.revoked_by = by
        waiver.revoke_reason = reason[:200]
        waiver.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        record(
            actor=by, action=Action.UPDATE, obj=waiver, school=waiver.school, role=policy.audit_role(by),
            detail=f"waiver {waiver.rule_id} revoked",
        )  # fmt: skip
        return waiver


# ---- self-evaluation ------------------------------------------------------------------------


def _editable(by: User, se: SelfEvaluation) -> None:
    if not access.may(by, CompliancePerm.FILL_SELF_EVALUATION, se.school):
        policy.deny(by, object_type="self_evaluation", object_id=str(se.uid))
    if se.status not in (SelfEvaluationStatus.DRAFT, SelfEvaluationStatus.RETURNED):
        raise ServiceError("自评已提交，不能修改", "The self-evaluation is submitted and cannot be changed")


def open_self_evaluation(*, by: User, school: School, year: int, run: Run | None = None) -> SelfEvaluation:
    """The school's self-evaluation of the year under the district's profile (made once)."""
    if not access.may(by, CompliancePerm.FILL_SELF_EVALUATION, school):
        policy.deny(by, object_type="school", object_id=str(school.uid))
    with transaction.atomic():
        profile = profiles.profile_for(school.district.code).profile
        se, created = SelfEvaluation.objects.get_or_create(
            school=school, profile_id=profile.id, year=year, defaults={"created_by": by, "run": run}
        )
        if created:
            SelfEvaluationItem.objects.bulk_create(
                [
                    SelfEvaluationItem(self_evaluation=se, rule_id=r.id)
                    for r in profile.rules
                    if Level(r.level).per_school
                ]
            )
            record(
                actor=by,
                action=Action.CREATE,
                obj=se,
                school=school,
                role=policy.audit_role(by),
                detail=f"self-evaluation {year}",
            )
        return se


def save_item(*, by: User, item: SelfEvaluationItem, declared: str, note: str) -> SelfEvaluationItem:
    se = item.self_evaluation
    _editable(by, se)
    with transaction.atomic():
        if declared and declared not in Declared.values:
            raise ServiceError("自评结论无效", "Not a verdict", field="declared")
        note = (note or "").strip()
        if len(note) > 2000:
            raise ServiceError(
                "说明不能超过 2000 字", "The note may not exceed 2,000 characters", field="note"
            )
        item.declared, item.note = declared, note
        item.save(update_fields=["declared", "note", "updated_at"])
        record(
            actor=by,
            action=Action.UPDATE,
            obj=se,
            school=se.school,
            role=policy.audit_role(by),
            detail=f"self-evaluation item {item.rule_id}",
        )
        return item


def add_item_evidence(
    *, by: User, item: SelfEvaluationItem, upload: UploadedFile, caption: str = ""
) -> SelfEvaluationEvidence:
    se = item.self_evaluation
    _editable(by, se)
    with transaction.atomic():
        ev = SelfEvaluationEvidence(item=item, uploaded_by=by)
        attach(ev, upload, caption=caption)
        record(
            actor=by,
            action=Action.CREATE,
            obj=ev,
            school=se.school,
            role=policy.audit_role(by),
            detail=f"self-evaluation evidence {item.rule_id}",
        )
        return ev


def submit_self_evaluation(*, by: User, se: SelfEvaluation) -> SelfEvaluation:
    if not access.may(by, CompliancePerm.SUBMIT_SELF_EVALUATION, se.school):
        policy.deny(by, object_type="self_evaluation", object_id=str(se.uid))
    _editable(by, se)
    with transaction.atomic():
        missing = list(se.items.filter(declared="").values_list("rule_id", flat=True)[:3])
        if missing:
            raise ServiceError(
                "还有未填写结论的规则：" + "、".join(missing),
                "Some rules have no verdict yet: " + ", ".join(missing),
            )
        se.status = SelfEvaluationStatus.SUBMITTED
        se.submitted_by, se.submitted_at = by, timezone.now()
        se.save(update_fields=["status", "submitted_by", "submitted_at"])
        record(
            actor=by,
            action=Action.UPDATE,
            obj=se,
            school=se.school,
            role=policy.audit_role(by),
            detail="self-evaluation submitted",
        )
        return se


def review_self_evaluation(*, by: User, se: SelfEvaluation, accept: bool, note: str = "") -> SelfEvaluation:
    """The district accepts a submitted self-evaluation, or returns it with a note."""
    if not access.may(by, CompliancePerm.REVIEW_SELF_EVALUATION, se.school):
        policy.deny(by, object_type="self_evaluation", object_id=str(se.uid))
    with transaction.atomic():
        if se.status != SelfEvaluationStatus.SUBMITTED:
            raise ServiceError("只能审核已提交的自评", "Only a submitted self-evaluation can be reviewed")
        note = (note or "").strip()
        if not accept and not note:
            raise ServiceError("退回时请写明原因", "Say why it is returned", field="note")
        se.status = SelfEvaluationStatus.ACCEPTED if accept else SelfEvaluationStatus.RETURNED
        se.reviewed_by, se.reviewed_at, se.review_note = by, timezone.now(), note[:500]
        se.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        record(
            actor=by, action=Action.UPDATE, obj=se, school=se.school, role=policy.audit_role(by),
            detail="self-evaluation " + ("accepted" if accept else "returned"),
        )  # fmt: skip
        return se
