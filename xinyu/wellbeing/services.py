"""Writes of staff wellbeing screening (issue 12 item 6). Keyword-only, atomic, each with its
audit row in the same transaction; refusals are `ServiceError` raised before anything is kept.

The member's path: `record_consent` (agree or decline, once) → `save_answer` (one answer at a
time, saved at once; a critical answer reaches the district's centre experts in the same
transaction) → `submit` (scored with screening's scoring and tiers, the result sealed).

Scoring reuses the pure modules of screening (the only cross-app edges of this app):
`instruments` (the questionnaire file, parsed from the text kept with the campaign),
`scoring.score` and `tiers.tier_policy` / `assign_tier` over the district's `[screening]` tiers.

Audit rows of the member's own steps name no actor and no school (object: the invitation's
opaque id): the district's audit log must not tell who took part or who declined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.validators import Label
from xinyu.notify.services import notify_users
from xinyu.org.models import District, Role, RoleAssignment, School, User
from xinyu.screening.instruments import (
    Instrument,
    Text,
    get_instrument,
    localized,
    parse_instrument,
    registry,
)
from xinyu.screening.scoring import InstrumentResult, score
from xinyu.screening.tiers import TierPolicy, assign_tier, tier_policy
from xinyu.staff.models import StaffMember

from .access import WellbeingPerm, can_follow_up, district_ids
from .models import ConsentState, FollowUp, FollowUpState, StaffCampaign, StaffInvitation

# The school roles whose holders are staff of the school (invited when the school is).
STAFF_ROLES = (Role.SCHOOL_LEADER, Role.PSYCH_TEACHER, Role.GRADE_LEADER, Role.CLASS_TEACHER)
NOTIFY_KIND = "staff_wellbeing_follow_up"


# ---- the district's policy ---------------------------------------------------------------


@dataclass(frozen=True)
class HelpLine:
    number: str
    label: Text


@dataclass(frozen=True)
class WellbeingPolicy:
    instruments: tuple[str, ...]
    follow_up_from: str
    help_lines: tuple[HelpLine, ...]
    tiers: TierPolicy

    def follow_up_rank(self) -> int:
        return self.tiers.tier(self.follow_up_from).rank


def wellbeing_policy(district_code: str) -> WellbeingPolicy:
    merged = policy_for_code(district_code)
    section = merged.get("wellbeing", {})
    lines = tuple(HelpLine(str(h["number"]), dict(h.get("label", {}))) for h in section.get("help_lines", []))
    return WellbeingPolicy(
        instruments=tuple(section.get("instruments", ["PHQ9"])),
        follow_up_from=str(section.get("follow_up_from", "follow_up")),
        help_lines=lines,
        tiers=tier_policy(merged.get("screening", {}), origin=f"{district_code}.toml"),
    )


def instrument_choices(district_code: str, language: str = "zh-hans") -> list[tuple[str, str]]:
    """(code, name) of the adult instruments the district offers that the registry holds."""
    known = registry()
    return [
        (code, localized(known[code].short_name, language))  # the full names carry clinical words
        for code in wellbeing_policy(district_code).instruments
        if code in known
    ]


@lru_cache(maxsize=32)
def _parsed(sha256: str, source: str, code: str) -> Instrument:
    return parse_instrument(source, origin=f"{code} (staff campaign)")


def instrument_of(campaign: StaffCampaign) -> Instrument:
    """The questionnaire exactly as it was when the campaign was created."""
    return _parsed(campaign.instrument_sha256, campaign.instrument_source, campaign.instrument)


# ---- campaigns ---------------------------------------------------------------------------

TITLE = Label("title", "标题", "title")
INSTRUMENT = Label("instrument", "量表", "instrument")
SCHOOLS = Label("schools", "学校", "schools")
OPENS = Label("opens_on", "开始日期", "opening date")
CLOSES = Label("closes_on", "结束日期", "closing date")
NOTE = Label("note", "跟进记录", "note")


def staff_of(schools: Sequence[School]) -> list[tuple[int, int]]:
    """(user id, school id) of everyone with a staff role at the schools, each user once (the
    first school in the order given)."""
    order = {s.pk: i for i, s in enumerate(schools)}
    seen: dict[int, int] = {}
    rows = RoleAssignment.objects.filter(
        school_id__in=list(order), role__in=STAFF_ROLES, user__is_active=True
    ).values_list("user_id", "school_id")
    for user_id, school_id in sorted(rows, key=lambda r: (order[r[1]], r[0])):
        seen.setdefault(user_id, school_id)
    return list(seen.items())


@transaction.atomic
def create_campaign(
    *,
    by: User,
    district: District,
    title: str,
    instrument: str,
    schools: Sequence[School],
    opens_on: Any,
    closes_on: Any,
) -> StaffCampaign:
    """A staff campaign and an invitation for every staff member of the chosen schools."""
    if district.pk not in district_ids(by, WellbeingPerm.MANAGE_CAMPAIGNS):
        raise ServiceError("无权为该区创建教职工测评", "You may not create staff campaigns for this district")
    clean_title = validators.text(title, TITLE, limit=100)
    code = validators.choice(instrument, INSTRUMENT, [c for c, _n in instrument_choices(district.code)])
    opens = validators.date(opens_on, OPENS)
    closes = validators.date(closes_on, CLOSES, not_before=opens)
    assert opens is not None and closes is not None
    chosen = list(dict.fromkeys(schools))
    if not chosen:
        raise ServiceError("请至少选择一所学校", "Please choose at least one school", field="schools")
    if any(s.district_id != district.pk for s in chosen):
        raise ServiceError(
            "只能邀请本区的学校", "Only schools of the district can be invited", field="schools"
        )
    questionnaire = get_instrument(code)
    campaign = StaffCampaign.objects.create(
        district=district,
        title=clean_title,
        instrument=code,
        instrument_version=questionnaire.version,
        instrument_sha256=questionnaire.sha256,
        instrument_source=questionnaire.source_text,
        opens_on=opens,
        closes_on=closes,
        created_by=by,
    )
    campaign.schools.set(chosen)
    pairs = staff_of(chosen)
    members = dict(
        StaffMember.objects.filter(user_id__in=[u for u, _s in pairs]).values_list("user_id", "pk")
    )
    StaffInvitation.objects.bulk_create(
        StaffInvitation(campaign=campaign, user_id=u, school_id=s, staff_member_id=members.get(u))
        for u, s in pairs
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=campaign,
        role=policy.audit_role(by),
        detail=f"{code}, {len(chosen)} schools, {len(pairs)} invited",
    )
    return campaign


# ---- the member's path ---------------------------------------------------------------------


def _own_step(invitation: StaffInvitation, action: Action, detail: str) -> None:
    """The member's own step: no actor, no school, only the invitation's opaque id."""
    record(actor=None, action=action, obj=invitation, role="staff_self", detail=detail)


def _locked(invitation: StaffInvitation, by: User) -> StaffInvitation:
    locked = (
        StaffInvitation.objects.select_for_update()
        .select_related("campaign__district")
        .filter(pk=invitation.pk, user_id=by.pk)
        .first()
    )
    if locked is None:
        raise ServiceError("找不到这份邀请", "This invitation was not found")
    return locked


def _require_open(invitation: StaffInvitation) -> None:
    if not invitation.campaign.is_open():
        raise ServiceError("测评不在开放时间内", "The screening is not open now", field="campaign")


@transaction.atomic
def record_consent(
    *, invitation: StaffInvitation, by: User, agree: bool, contact_ok: bool = False
) -> StaffInvitation:
    """The member's own voluntary decision, once: agree (and whether a centre expert may contact
    them) or decline. A decision already given is never changed."""
    invitation = _locked(invitation, by)
    if invitation.consent != ConsentState.PENDING:
        raise ServiceError(
            "你已经作出过选择，不能更改", "You have already decided; it cannot be changed", field="consent"
        )
    _require_open(invitation)
    invitation.consent = ConsentState.GIVEN if agree else ConsentState.DECLINED
    invitation.consent_at = timezone.now()
    invitation.contact_ok = bool(agree and contact_ok)
    invitation.save(update_fields=["consent", "consent_at", "contact_ok"])
    _own_step(invitation, Action.UPDATE, "consent recorded")  # the decision itself is not logged
    return invitation


def _require_answering(invitation: StaffInvitation) -> None:
    if invitation.consent != ConsentState.GIVEN:
        raise ServiceError("请先同意参加", "Please agree to take part first", field="consent")
    if invitation.completed_at is not None:
        raise ServiceError("你已经提交了答卷", "You have already handed in your answers", field="completed")
    _require_open(invitation)


@transaction.atomic
def save_answer(*, invitation: StaffInvitation, by: User, item: int, value: int) -> StaffInvitation:
    """Store one answer (replacing an earlier one for the item). A critical answer (the
    instrument's critical items) reaches the district's centre experts at once."""
    invitation = _locked(invitation, by)
    _require_answering(invitation)
    questionnaire = instrument_of(invitation.campaign)
    try:
        question = questionnaire.item(int(item))
    except (KeyError, ValueError, TypeError):
        raise ServiceError(f"没有第 {item} 题", f"There is no question {item}", field="item") from None
    option = next((o for o in question.options if o.value == value), None)
    if option is None:
        raise ServiceError(f"第 {item} 题没有这个选项", f"Question {item} has no such option", field="value")
    answers = dict(invitation.answers or {})
    answers[str(question.number)] = value
    invitation.answers = answers
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["answers", "answered_at"])
    hits = [
        rule.code
        for rule in questionnaire.critical
        if rule.item == question.number and rule.matches(value, refused=option.refuse)
    ]
    if hits:
        _raise_critical(invitation)
    return invitation


def _raise_critical(invitation: StaffInvitation) -> None:
    """Mark the result critical and open its follow-up; the first time, tell the district's
    centre experts (in-app and SMS: no name, no score, only that a result needs follow-up)."""
    first = invitation.critical_notified_at is None
    invitation.critical = True
    invitation.follow_up = FollowUpState.OPEN
    fields = ["critical", "follow_up"]
    if first:
        invitation.critical_notified_at = timezone.now()
        fields.append("critical_notified_at")
    invitation.save(update_fields=fields)
    if first:
        notify_users(
            users=centre_experts(invitation.campaign.district_id),
            kind=NOTIFY_KIND,
            subject="教职工心理测评结果需要跟进 / A staff screening result needs follow-up",
            body="请登录系统查看 / Please sign in to read it",
            link=reverse("wellbeing:result", args=[invitation.uid]),
        )


def centre_experts(district_id: int) -> list[User]:
    return list(
        User.objects.filter(
            assignments__role=Role.CENTRE_EXPERT, assignments__district_id=district_id, is_active=True
        ).distinct()
    )


def next_item(invitation: StaffInvitation) -> int | None:
    """The first question without an answer (None: all answered)."""
    answers = invitation.answers_by_item
    for question in instrument_of(invitation.campaign).items:
        if question.is_asked(answers) and question.number not in answers:
            return question.number
    return None


@dataclass(frozen=True)
class Outcome:
    result: InstrumentResult
    tier: str
    reasons: tuple[str, ...]


def evaluate(questionnaire: Instrument, answers: dict[int, int | None], tiers: TierPolicy) -> Outcome:
    """Pure: screening's scoring and the district's tier rules over one protocol."""
    result = score(questionnaire, answers)
    tier, reasons = assign_tier(tiers, [result])
    return Outcome(result, tier, reasons)


@transaction.atomic
def submit(*, invitation: StaffInvitation, by: User) -> StaffInvitation:
    """Score the answers, choose the tier and seal the result; from the district's follow-up
    tier up (or with a critical answer) the result goes on the centre experts' list."""
    invitation = _locked(invitation, by)
    _require_answering(invitation)
    if next_item(invitation) is not None:
        raise ServiceError("还有题目没有回答", "Some questions are not answered yet", field="answers")
    rules = wellbeing_policy(invitation.campaign.district.code)
    outcome = evaluate(instrument_of(invitation.campaign), invitation.answers_by_item, rules.tiers)
    invitation.result = {**outcome.result.to_json(), "tier": outcome.tier, "reasons": list(outcome.reasons)}
    invitation.tier = outcome.tier
    invitation.completed_at = timezone.now()
    needs = rules.tiers.tier(outcome.tier).rank >= rules.follow_up_rank()
    if needs and invitation.follow_up == FollowUpState.NONE:
        invitation.follow_up = FollowUpState.OPEN
    invitation.save(update_fields=["result", "tier", "completed_at", "follow_up"])
    if outcome.result.critical:
        _raise_critical(invitation)
    _own_step(invitation, Action.UPDATE, "submitted")
    return invitation


# ---- the centre's follow-up ----------------------------------------------------------------


@transaction.atomic
def record_follow_up(
    *, invitation: StaffInvitation, by: User, note: str, contacted: bool = False, close: bool = False
) -> FollowUp:
    """A centre expert's note on a result (encrypted); `close` ends the follow-up."""
    invitation = StaffInvitation.objects.select_for_update().select_related("campaign").get(pk=invitation.pk)
    if not can_follow_up(by, invitation):
        raise ServiceError("无权跟进该结果", "You may not follow up this result")
    if invitation.completed_at is None and not invitation.critical:
        raise ServiceError("该测评尚未完成", "This screening is not completed yet")
    clean = validators.text(note, NOTE, limit=2000)
    entry = FollowUp.objects.create(
        invitation=invitation, by=by, note=clean, contacted=contacted, closed=close
    )
    invitation.follow_up = FollowUpState.DONE if close else FollowUpState.OPEN
    invitation.save(update_fields=["follow_up"])
    record(actor=by, action=Action.CREATE, obj=entry, role=policy.audit_role(by), detail="staff follow-up")
    return entry


def today() -> dt.date:
    return timezone.localdate()
