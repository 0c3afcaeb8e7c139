"""Certificates earned from the attendance ledger (issue 12 item 4; RC 二.(二)).

The rules are data: `[training.certificates.<KEY>]` in the district's policy file (C: all six
course days and the assessment passed; B: ≥ 80 class hours and the assessment passed, for
full-time psych teachers; others as the district defines), each with a validity in years and
the programme kinds it applies to. `parse_rules` reads them (and the policy check uses it),
`meets(rule, row)` is the pure decision on one participant's ledger row, `issue_due` issues
every certificate whose rule is met and not yet issued (in bulk: a handful of statements for
the whole programme, the register's `HeldCertificate` rows included), `revoke` withdraws one
with a reason. Both writes are audited in the same transaction.

Who may see an issued certificate (`access.certificates_for`): its holder, the runners of its
programme (`training.access.programmes_for`) and those who see the holder's register entry
(`staff.access.members_q`: the district, the school leader and psych teachers of the
holder's school). Everyone else gets 404 and a `denied` row (`policy.one_for`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record, record_many
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.validators import Label
from xinyu.org.models import District, User
from xinyu.staff.models import CertificateKind, CertificateSource, HeldCertificate, StaffMember

from .access import may_issue
from .models import (
    AssessmentResult,
    Attendance,
    Eligibility,
    IssuedCertificate,
    Participant,
    Programme,
    ProgrammeKind,
    SessionKind,
    TrainingSession,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

DEFAULT_NUMBER_FORMAT = "{district}{year}{kind}{seq:05d}"
REASON = Label("reason", "撤销原因", "reason for revoking")


# ---- the rules (policy data) --------------------------------------------------------------


class RulesError(ValueError):
    """A bad `[training]` value, naming the key."""


@dataclass(frozen=True)
class Rule:
    key: str  # the policy key: "C", "B", …
    kind: str  # the register's certificate kind (CertificateKind)
    title: str
    min_course_days: int
    min_hours: Decimal
    assessment_required: bool
    valid_years: int  # 0: no expiry
    programme_kinds: tuple[str, ...]
    eligibility: str = Eligibility.ANY_STAFF
    citation: str = ""


def _int(value: Any, where: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RulesError(f"{where} must be a whole number ≥ {minimum}")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RulesError(f"{where} must be a number ≥ 0")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RulesError(f"{where} must be a number ≥ 0") from None
    if not number.is_finite() or number < 0:
        raise RulesError(f"{where} must be a number ≥ 0")
    return number


def parse_rule(key: str, raw: Any) -> Rule:
    where = f"training.certificates.{key}"
    if not isinstance(raw, Mapping):
        raise RulesError(f"{where} must be a table")
    kind = raw.get("kind", key)
    if kind not in CertificateKind.values:
        raise RulesError(f"{where}.kind must be one of {', '.join(CertificateKind.values)}")
    kinds = raw.get("programme_kinds", [])
    if not isinstance(kinds, list) or not kinds or any(k not in ProgrammeKind.values for k in kinds):
        raise RulesError(
            f"{where}.programme_kinds must list programme kinds of {', '.join(ProgrammeKind.values)}"
        )
    eligibility = raw.get("eligibility", Eligibility.ANY_STAFF)
    if eligibility not in Eligibility.values:
        raise RulesError(f"{where}.eligibility must be one of {', '.join(Eligibility.values)}")
    required = raw.get("assessment_required", True)
    if not isinstance(required, bool):
        raise RulesError(f"{where}.assessment_required must be true or false")
    days = _int(raw.get("min_course_days", 0), f"{where}.min_course_days")
    hours = _decimal(raw.get("min_hours", 0), f"{where}.min_hours")
    if days == 0 and hours == 0 and not required:
        raise RulesError(f"{where} asks for nothing: set min_course_days, min_hours or assessment_required")
    title = raw.get("title", key)
    if not isinstance(title, str) or not title.strip():
        raise RulesError(f"{where}.title must be a text")
    return Rule(
        key=key,
        kind=kind,
        title=title,
        min_course_days=days,
        min_hours=hours,
        assessment_required=required,
        valid_years=_int(raw.get("valid_years", 0), f"{where}.valid_years"),
        programme_kinds=tuple(kinds),
        eligibility=eligibility,
        citation=str(raw.get("citation", "")),
    )


def parse_rules(training: Mapping[str, Any]) -> dict[str, Rule]:
    raw = training.get("certificates", {})
    if not isinstance(raw, Mapping):
        raise RulesError("training.certificates must be a table of rules")
    return {key: parse_rule(key, value) for key, value in raw.items()}


def check_number_format(fmt: Any) -> str:
    if not isinstance(fmt, str) or "{seq" not in fmt:
        raise RulesError("training.certificate_number_format must be a text with {seq}")
    try:
        sample = fmt.format(district="500153", year=2026, kind="C", seq=1)
    except (KeyError, ValueError, IndexError, AttributeError):
        raise RulesError(
            "training.certificate_number_format may use only {district}, {year}, {kind} and {seq}"
        ) from None
    if len(sample) > 40:
        raise RulesError("training.certificate_number_format gives numbers longer than 40 characters")
    return fmt


def training_policy(district: District) -> dict[str, Any]:
    return dict(policy_for_code(district.code).get("training", {}))


def rules_for(district: District) -> dict[str, Rule]:
    return parse_rules(training_policy(district))


def rule_for(programme: Programme) -> Rule | None:
    """The programme's rule: its `certificate_rule` key, else the first rule whose
    programme_kinds include its kind; None when no certificate is earned."""
    rules = rules_for(programme.district)
    if programme.certificate_rule:
        return rules.get(programme.certificate_rule)
    return next((r for r in rules.values() if programme.kind in r.programme_kinds), None)


# ---- the decision (pure) ------------------------------------------------------------------


class LedgerRow(Protocol):
    """What `meets` reads of one participant's ledger row."""

    hours: Decimal
    course_days: int
    assessment: str


@dataclass(frozen=True)
class Reason:
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class Verdict:
    met: bool
    reasons: tuple[Reason, ...] = ()

    def __bool__(self) -> bool:
        return self.met


def _eligible(eligibility: str, member: StaffMember | None) -> bool:
    if eligibility == Eligibility.ANY_STAFF or member is None:
        return True
    if eligibility == Eligibility.PSYCH_TEACHERS:
        return member.is_psych_teacher
    if eligibility == Eligibility.FULL_TIME_PSYCH:
        return member.is_full_time
    return member.post_type == "part"


def _fmt(number: Decimal | int) -> str:
    return f"{Decimal(number).normalize():f}"


def meets(rule: Rule, row: LedgerRow, member: StaffMember | None = None) -> Verdict:
    """Does this ledger row meet the rule? Met, or every reason it is not (zh / en)."""
    reasons: list[Reason] = []
    days, hours = int(row.course_days), Decimal(row.hours or 0)
    if days < rule.min_course_days:
        reasons.append(
            Reason(
                f"出勤课程 {days} 天，需 {rule.min_course_days} 天",
                f"{days} course days attended, {rule.min_course_days} needed",
            )
        )
    if hours < rule.min_hours:
        reasons.append(
            Reason(
                f"出勤 {_fmt(hours)} 课时，需 {_fmt(rule.min_hours)} 课时",
                f"{_fmt(hours)} class hours attended, {_fmt(rule.min_hours)} needed",
            )
        )
    if rule.assessment_required and row.assessment != AssessmentResult.PASSED:
        if row.assessment == AssessmentResult.FAILED:
            reasons.append(Reason("考核未通过", "assessment failed"))
        else:
            reasons.append(Reason("尚未考核", "not assessed yet"))
    if not _eligible(rule.eligibility, member):
        label = Eligibility(rule.eligibility).label
        reasons.append(Reason(f"不符合参训条件（{label}）", f"not eligible ({label})"))
    return Verdict(not reasons, tuple(reasons))


# ---- the ledger ---------------------------------------------------------------------------


@dataclass
class Row:
    """One participant's ledger row with its verdict."""

    participant: Participant
    hours: Decimal
    course_days: int
    assessment: str
    verdict: Verdict | None = None


def ledger(programme: Programme, participants: Iterable[Participant] | None = None) -> list[Row]:
    """One row per (active) participant: hours of the sessions attended (course and
    assessment, as `training.selectors.ledger` counts them), course days attended (distinct
    local dates of the course sessions attended) and the assessment result.

    The same figures as `selectors.ledger`, computed in Python from the present rows
    (participant, session) and the programme's few sessions: three plain statements, no
    per-row date function in SQL (SQLite's time-zone date cast is a Python callback per row,
    1 s for 10,500 rows on the benchmark machine)."""
    people = {
        p.pk: p
        for p in (
            participants
            if participants is not None
            else Participant.objects.filter(programme=programme, withdrawn_at__isnull=True)
            .select_related("member")
            .defer("member__phone")
        )
    }
    if not people:
        return []
    sessions = {
        pk: (hours, timezone.localdate(starts_at) if kind == SessionKind.COURSE else None)
        for pk, hours, starts_at, kind in TrainingSession.objects.filter(programme=programme).values_list(
            "pk", "hours", "starts_at", "kind"
        )
    }
    hours: dict[int, Decimal] = defaultdict(Decimal)
    days: dict[int, set[dt.date]] = defaultdict(set)
    for participant_id, session_id in Attendance.objects.filter(
        session__programme=programme, present=True
    ).values_list("participant_id", "session_id"):
        if participant_id not in people:
            continue
        session_hours, day = sessions[session_id]
        hours[participant_id] += session_hours
        if day is not None:
            days[participant_id].add(day)
    return [
        Row(p, hours.get(pk, Decimal(0)).quantize(Decimal("0.1")), len(days.get(pk, ())), p.assessment)
        for pk, p in people.items()
    ]


def verdicts(programme: Programme) -> tuple[Rule | None, list[Row]]:
    """The programme's rule and every participant's row with its verdict (for the page)."""
    rule = rule_for(programme)
    rows = ledger(programme)
    if rule is not None:
        for row in rows:
            row.verdict = meets(rule, row, row.participant.member)
    return rule, rows


# ---- issuing and revoking ---------------------------------------------------------------


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def new_verify_code() -> str:
    return secrets.token_urlsafe(16)  # 128 bits, 22 characters: never guessable


@dataclass
class _Numbering:
    fmt: str
    district: str
    year: int
    kind: str
    next_seq: int

    def take(self) -> str:
        number = self.fmt.format(district=self.district, year=self.year, kind=self.kind, seq=self.next_seq)
        self.next_seq += 1
        return number


def _numbering(programme: Programme, rule: Rule, today: dt.date) -> _Numbering:
    fmt = check_number_format(
        training_policy(programme.district).get("certificate_number_format", DEFAULT_NUMBER_FORMAT)
    )
    taken = IssuedCertificate.objects.filter(
        participant__programme__district_id=programme.district_id,
        issued_on__year=today.year,
        held__kind=rule.kind,
    ).count()
    return _Numbering(fmt, programme.district.code, today.year, rule.kind, taken + 1)


@transaction.atomic
def issue_due(*, by: User, programme: Programme, today: dt.date | None = None) -> list[IssuedCertificate]:
    """Issue every certificate of the programme whose rule is met and not yet issued; each
    recorded in the register (`HeldCertificate`, source training) and audited. Running it
    again issues nothing new. A handful of statements whatever the number of participants."""
    if not may_issue(by, programme):
        raise ServiceError("您不能为这个培训项目颁发证书", "You may not issue this programme's certificates")
    rule = rule_for(programme)
    if rule is None:
        raise ServiceError("这个培训项目没有证书规则", "This programme earns no certificate")
    today = today or timezone.localdate()
    # One issuer at a time per district: the numbers' sequence is the district's.
    District.objects.select_for_update().filter(pk=programme.district_id).values_list("pk").first()
    pending = (
        Participant.objects.filter(programme=programme, withdrawn_at__isnull=True, certificate__isnull=True)
        .select_related("member")
        .defer("member__phone")
    )  # no phone to decrypt (1,500 at once)
    due = [row for row in ledger(programme, pending) if meets(rule, row, row.participant.member)]
    if not due:
        return []
    numbering = _numbering(programme, rule, today)
    valid_until = add_years(today, rule.valid_years) if rule.valid_years else None
    issuer = programme.organiser or programme.district.name
    held = HeldCertificate.objects.bulk_create(
        [
            HeldCertificate(
                member=row.participant.member,
                kind=rule.kind,
                name=rule.title,
                number=numbering.take(),
                issued_on=today,
                issuer=issuer[:100],
                expires_on=valid_until,
                source=CertificateSource.TRAINING,
            )
            for row in due
        ]
    )
    if any(h.pk is None for h in held):  # a backend without RETURNING (not SQLite ≥ 3.35, not PostgreSQL)
        by_number = dict(
            HeldCertificate.objects.filter(number__in=[h.number for h in held]).values_list("number", "pk")
        )
        for h in held:
            h.pk = by_number[h.number]
    issued = IssuedCertificate.objects.bulk_create(
        [
            IssuedCertificate(
                participant=row.participant,
                held=h,
                rule=rule.key,
                number=h.number,
                verify_code=new_verify_code(),
                hours=row.hours,
                issued_on=today,
                valid_until=valid_until,
                issued_by=by,
            )
            for row, h in zip(due, held, strict=True)
        ]
    )
    role = policy.audit_role(by)
    record_many(
        {
            "actor": by,
            "action": Action.CREATE,
            "role": role,
            "object_type": "issuedcertificate",
            "object_id": str(cert.uid),
            "school_id": row.participant.member.school_id,
            "detail": f"certificate {rule.key} {cert.number} issued ({programme.uid})",
        }
        for cert, row in zip(issued, due, strict=True)
    )
    return issued


@transaction.atomic
def revoke(*, by: User, certificate: IssuedCertificate, reason: str) -> IssuedCertificate:
    """Revoke an issued certificate with a reason; the register's entry is marked too."""
    programme = certificate.participant.programme
    if not may_issue(by, programme):
        raise ServiceError("您不能撤销这张证书", "You may not revoke this certificate")
    reason = validators.text(reason, REASON, limit=200)
    cert = IssuedCertificate.objects.select_for_update().get(pk=certificate.pk)
    if cert.revoked_at is not None:
        raise ServiceError("这张证书已经撤销", "This certificate is already revoked")
    now = timezone.now()
    cert.revoked_at, cert.revoked_by, cert.revoke_reason = now, by, reason
    cert.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    HeldCertificate.objects.filter(pk=cert.held_id).update(revoked_at=now, revoked_reason=reason)
    record(
        actor=by,
        action=Action.UPDATE,
        obj=cert,
        school=certificate.participant.member.school,
        role=policy.audit_role(by),
        detail=f"certificate {cert.number} revoked",
    )
    return cert


# ---- state and who sees what ------------------------------------------------------------


class State:
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"


STATE_LABELS = {
    State.VALID: ("有效", "valid"),
    State.REVOKED: ("已撤销", "revoked"),
    State.EXPIRED: ("已过期", "expired"),
}


def state_of(cert: IssuedCertificate | HeldCertificate, today: dt.date | None = None) -> str:
    today = today or timezone.localdate()
    if cert.revoked_at is not None:
        return State.REVOKED
    until = cert.valid_until if isinstance(cert, IssuedCertificate) else cert.expires_on
    if until is not None and until < today:
        return State.EXPIRED
    return State.VALID


@dataclass(frozen=True)
class Shown:
    """An issued certificate as a page shows it."""

    cert: IssuedCertificate
    state: str
    state_zh: str
    state_en: str
    rule_title: str
    extra: dict[str, Any] = field(default_factory=dict)


def shown(cert: IssuedCertificate, today: dt.date | None = None) -> Shown:
    state = state_of(cert, today)
    zh, en = STATE_LABELS[state]
    return Shown(cert, state, zh, en, cert.held.name or cert.rule)


def own_certificates(user: User | AnonymousUser) -> list[Shown]:
    if not user.is_authenticated:
        return []
    qs = IssuedCertificate.objects.filter(participant__member__user_id=user.pk).select_related(
        "held", "participant__programme"
    )
    today = timezone.localdate()
    return [shown(c, today) for c in qs]


def by_verify_code(code: str) -> IssuedCertificate | None:
    if not code or len(code) > 32:
        return None
    return (
        IssuedCertificate.objects.filter(verify_code=code)
        .select_related("held", "participant__member")
        .first()
    )
