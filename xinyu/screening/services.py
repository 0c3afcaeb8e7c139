"""Writes for screening (SPEC §3). Views parse input and call one of these; each is atomic
and writes its audit row in the same transaction.

The student's path: `find_by_code` → `give_assent` → `save_answer` (one per answer, saved
at once) → `submit` (scores, tiers, raises warnings and tasks, all in one transaction).
A critical answer raises the urgent warning the moment it is saved, not only at submit:
a student who answers "yes" and closes the tab is not lost.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from xinyu.access import policy as access_policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.care.intake import Level as WarningLevel
from xinyu.care.intake import NewSignal, Signal, Source, raise_warnings
from xinyu.crypto import RowTokenIntegerField
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.validators import Label
from xinyu.notify.services import send_sms
from xinyu.org.models import District, Guardian, School, SchoolClass, Student, StudentStatus, User

from .instruments import Instrument, get_instrument, parse_instrument
from .models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    OLD_CODE_LENGTHS,
    Answer,
    Battery,
    BatteryItem,
    Campaign,
    Channel,
    Consent,
    ConsentDecision,
    InstrumentVersion,
    Invitation,
    Progress,
    Result,
    new_answer_code,
)
from .prepared import Prepared, int_marker, str_marker
from .scoring import InstrumentResult, careless_flags, score
from .tiers import TierPolicy, assign_tier, tier_policy

# Gaps between two answers longer than this (a break, a dropped connection) count as this
# long when timing a protocol for the careless-response floor.
MAX_GAP_SECONDS = 300
FOLLOW_UP_DAYS = 14

# Which warning a tier raises (care issue: levels and deadlines). A district may override
# this in its policy file: [screening.warning_for_tier].
DEFAULT_WARNING_FOR_TIER = {"urgent": "urgent", "follow_up": "high"}


# ---- instruments and district policy -----------------------------------------------------


@lru_cache(maxsize=64)
def instrument_for_sha(sha256: str) -> Instrument:
    """The instrument exactly as archived when the campaign was created."""
    version = InstrumentVersion.objects.get(sha256=sha256)
    return parse_instrument(version.source_text, origin=f"{version.code} {version.version}")


def archive_instrument(code: str) -> InstrumentVersion:
    instrument = get_instrument(code)
    version, _ = InstrumentVersion.objects.get_or_create(
        sha256=instrument.sha256,
        defaults={
            "code": instrument.code,
            "version": instrument.version,
            "source_text": instrument.source_text,
        },
    )
    return version


def screening_policy(district_code: str) -> TierPolicy:
    return tier_policy(policy_for_code(district_code).get("screening", {}), origin=f"{district_code}.toml")


def warning_for_tier(district_code: str) -> dict[str, str]:
    section = policy_for_code(district_code).get("screening", {})
    return dict(section.get("warning_for_tier", DEFAULT_WARNING_FOR_TIER))


# ---- campaigns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BatterySpec:
    grade_from: int
    grade_to: int
    instruments: Sequence[str]


@transaction.atomic
def create_campaign(
    *,
    by: User,
    name: str,
    school_year: str,
    schools: Sequence[School],
    scope_label: str,
    target_grades: Sequence[int],
    batteries: Sequence[BatterySpec],
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    consent_text: str,
    consent_version: str,
    owner_school: School | None = None,
    classes: Sequence[SchoolClass] = (),
) -> Campaign:
    """Create the campaign and invite every enrolled student of the target grades, or, with
    `classes` (a re-test of one class), of those classes only (their grades are the target)."""
    name = validators.text(name, Label("name", "测评名称", "campaign name"), limit=100)
    if not schools:
        raise ServiceError("请至少选择一所学校", "Choose at least one school", field="scope")
    if closes_at <= opens_at:
        raise ServiceError(
            "结束时间必须晚于开始时间", "The closing time must be after the opening time", field="closes_at"
        )
    consent_text = validators.text(
        consent_text, Label("consent_text", "知情同意书", "consent text"), limit=20000
    )
    consent_version = validators.text(
        consent_version, Label("consent_version", "知情同意书版本号", "consent text version"), limit=20
    )
    classes = list(classes)
    school_ids = {s.pk for s in schools}
    if any(c.school_id not in school_ids for c in classes):
        raise ServiceError(
            "所选班级须属于测评的学校",
            "The chosen classes must belong to the campaign's schools",
            field="classes",
        )
    if classes:
        target_grades = [c.grade.level for c in classes]
    grades = sorted(set(target_grades))
    if not grades or any(g < 1 or g > 12 for g in grades):
        raise ServiceError(
            "目标年级须在 1–12 之间", "Target grades must be between 1 and 12", field="target_grades"
        )
    by_grade: dict[int, BatterySpec] = {}
    for spec in batteries:
        if not spec.instruments:
            raise ServiceError(
                f"{spec.grade_from}–{spec.grade_to} 年级的量表组合为空",
                f"The battery for grades {spec.grade_from}–{spec.grade_to} has no instrument",
                field="batteries",
            )
        for code in spec.instruments:
            try:
                instrument = get_instrument(code)
            except KeyError:
                raise ServiceError(
                    f"未知量表：{code}", f"Unknown instrument: {code}", field="batteries"
                ) from None
            low, high = instrument.grades
            if spec.grade_from < low or spec.grade_to > high:
                raise ServiceError(
                    f"{instrument.code} 适用于 {low}–{high} 年级，不能用于 {spec.grade_from}–{spec.grade_to} 年级",
                    f"{instrument.code} is for grades {low}–{high}, not {spec.grade_from}–{spec.grade_to}",
                    field="batteries",
                )
        for grade in range(spec.grade_from, spec.grade_to + 1):
            if grade in by_grade:
                raise ServiceError(
                    f"{grade} 年级有两套量表组合", f"Grade {grade} has two batteries", field="batteries"
                )
            by_grade[grade] = spec
    missing = [g for g in grades if g not in by_grade]
    if missing:
        raise ServiceError(
            f"以下年级没有量表组合：{'、'.join(map(str, missing))}",
            f"These grades have no battery: {', '.join(map(str, missing))}",
            field="batteries",
        )

    campaign = Campaign.objects.create(
        district_id=schools[0].district_id,
        owner_school=owner_school,
        name=name,
        school_year=school_year,
        scope_label=scope_label,
        target_grades=grades,
        opens_at=opens_at,
        closes_at=closes_at,
        consent_text=consent_text,
        consent_version=consent_version,
        created_by=by,
    )
    campaign.schools.set(schools)
    if classes:
        campaign.classes.set(classes)
    shas_for_grade: dict[int, list[str]] = {}
    for spec in batteries:
        battery = Battery.objects.create(
            campaign=campaign, grade_from=spec.grade_from, grade_to=spec.grade_to
        )
        versions = [archive_instrument(code) for code in spec.instruments]
        BatteryItem.objects.bulk_create(
            BatteryItem(battery=battery, instrument=v, position=i) for i, v in enumerate(versions)
        )
        for grade in range(spec.grade_from, spec.grade_to + 1):
            shas_for_grade[grade] = [v.sha256 for v in versions]

    students = Student.objects.filter(
        school__in=schools, status=StudentStatus.ACTIVE, school_class__grade__level__in=grades
    )
    if classes:
        students = students.filter(school_class__in=classes)
    rows = list(
        students.values_list("pk", "school_id", "school_class_id", "school_class__grade__level", "gender")
    )
    codes = _unique_codes(len(rows))
    Invitation.objects.bulk_create(
        (
            Invitation(
                campaign=campaign,
                student_id=pk,
                school_id=school_id,
                school_class_id=class_id,
                grade_level=level,
                gender=gender,
                instrument_shas=shas_for_grade[level],
                code=code,
            )
            for (pk, school_id, class_id, level, gender), code in zip(rows, codes, strict=True)
        ),
        batch_size=2000,
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=campaign,
        role=access_policy.audit_role(by),
        school=owner_school,
        detail=f"{len(rows)} invited",
    )
    return campaign


def _unique_codes(n: int) -> list[str]:
    """n answering codes not yet used by any invitation."""
    codes: set[str] = set()
    while len(codes) < n:
        batch = {new_answer_code() for _ in range(n - len(codes))} - codes
        for chunk in _chunks(sorted(batch), 900):
            batch -= set(Invitation.objects.filter(code__in=chunk).values_list("code", flat=True))
        codes |= batch
    return list(codes)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ---- consent (SPEC §3: informed, voluntary; guardian and student) -------------------------


@transaction.atomic
def record_consent(
    *,
    invitation: Invitation,
    decision: Consent,
    channel: Channel,
    relation: str = "",
    by: User | None = None,
) -> Invitation:
    """A guardian's decision (through their link, or on paper entered by staff: `by`)."""
    invitation = (
        Invitation.objects.select_for_update().select_related("campaign", "student").get(pk=invitation.pk)
    )
    if decision not in (Consent.GIVEN, Consent.DECLINED, Consent.WITHDRAWN):
        raise ServiceError("无效的选择", "Not a valid decision", field="decision")
    if invitation.stage != 1:
        raise ServiceError(
            "第二阶段测评沿用首次的同意", "A second stage follows the first consent", field="decision"
        )
    now = timezone.now()
    if decision == Consent.WITHDRAWN and invitation.consent != Consent.GIVEN:
        raise ServiceError("尚未同意，无需撤回", "There is no consent to withdraw", field="decision")
    if decision != Consent.WITHDRAWN and now > invitation.campaign.closes_at:
        raise ServiceError("本次测评已结束", "This screening has closed", field="decision")
    if decision == Consent.DECLINED and invitation.progress in (Progress.STARTED, Progress.COMPLETED):
        decision = Consent.WITHDRAWN  # declining after the start is a withdrawal
    ConsentDecision.objects.create(
        invitation=invitation,
        decision=decision,
        channel=channel,
        text_version=invitation.campaign.consent_version,
        relation=relation[:20],
        recorded_by=by,
        at=now,
    )
    invitation.consent = decision
    invitation.consent_at = now
    invitation.save(update_fields=["consent", "consent_at"])
    if decision == Consent.WITHDRAWN:
        # Withdrawal stops further processing: follow-ups end with their parent.
        Invitation.objects.filter(parent=invitation).update(consent=Consent.WITHDRAWN, consent_at=now)
    record(
        actor=by,
        action=Action.UPDATE,
        obj=invitation,
        student=invitation.student,
        role="guardian" if by is None else access_policy.audit_role(by, invitation.student),
        detail=f"consent:{decision}:{channel}:v{invitation.campaign.consent_version}",
    )
    return invitation


def send_consent_links(*, by: User, campaign: Campaign, school_class: SchoolClass) -> int:
    """Text each guardian of the class whose decision is pending their own consent link."""
    pending = Invitation.objects.filter(
        campaign=campaign, school_class=school_class, stage=1, consent=Consent.PENDING
    ).select_related("student")
    sent = 0
    with transaction.atomic():
        for invitation in pending:
            phones = {g.phone for g in Guardian.objects.filter(student_id=invitation.student_id) if g.phone}
            for phone in sorted(phones):
                send_sms(
                    phone=phone,
                    kind="consent_request",
                    subject=f"{campaign.name}：请您为孩子的心理健康测评作出选择",
                    body="请打开链接阅读知情同意书并选择是否参加。",
                    link=guardian_link(invitation, via="sms"),
                )
                sent += 1
        record(
            actor=by,
            action=Action.CREATE,
            obj=school_class,
            school=school_class.school,
            role=access_policy.audit_role(by),
            detail=f"consent sms:{sent}",
        )
    return sent


def guardian_link(invitation: Invitation, *, via: str = "link") -> str:
    from django.conf import settings

    return f"{settings.XINYU_PUBLIC_URL}/g/{invitation.guardian_token}/?via={via}"


def answer_link(invitation: Invitation) -> str:
    from django.conf import settings

    return f"{settings.XINYU_PUBLIC_URL}/s/{invitation.code}/"


# ---- answering -------------------------------------------------------------------------


class State:
    """Why a code can or cannot be used now (shown to the student in plain words)."""

    READY = "ready"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    NO_CONSENT = "no_consent"
    COMPLETED = "completed"


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


# The two lookups of every request on the student's path, compiled once per process
# (xinyu/screening/prepared.py): the invitation by its code (unique index) with what the
# path reads of it and of its campaign (the window), and the answers given so far. The
# other columns load on first use, as with any deferred field.
_PATH_FIELDS = (
    "uid", "campaign_id", "student_id", "school_id", "school_class_id", "instrument_shas",
    "expires_at", "code", "consent", "assent_at", "progress",
    "campaign__district", "campaign__opens_at", "campaign__closes_at",
)  # fmt: skip
_BY_CODE: Prepared[Invitation] = Prepared(
    lambda code: (
        Invitation.objects.select_related("campaign").only(*_PATH_FIELDS).filter(code=code).order_by()
    ),
    [str_marker()],
)
# The invitation again, locked, inside the transaction of assent and hand-in (only its own
# row: the campaign, student and school rows are read, not changed).
_LOCKED_FOR_ASSENT: Prepared[Invitation] = Prepared(
    lambda pk: (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("campaign", "student__school")
        .filter(pk=pk)
        .order_by()
    ),
    [int_marker()],
)
_LOCKED_FOR_SUBMIT: Prepared[Invitation] = Prepared(
    lambda pk: (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("campaign__district", "student__school")
        .filter(pk=pk)
        .order_by()
    ),
    [int_marker()],
)
_SIGNALLED: Prepared[Signal] = Prepared(
    lambda ref: (
        Signal.objects.filter(ref=ref, source=Source.SCREENING_CRITICAL).order_by().values_list("code")
    ),
    [str_marker()],
)
_ANSWERS: Prepared[Answer] = Prepared(
    lambda pk: Answer.objects.filter(invitation_id=pk).order_by().values_list("instrument", "item", "value"),
    [int_marker()],
)


def find_by_code(raw: str) -> Invitation | None:
    """The invitation with this code (spaces, dashes and case ignored), with its campaign."""
    code = normalise_code(raw)
    if len(code) not in (CODE_LENGTH, *OLD_CODE_LENGTHS) or any(ch not in CODE_ALPHABET for ch in code):
        return None
    found = _BY_CODE.objects(code)
    return found[0] if found else None


def _locked(query: Prepared[Invitation], pk: int) -> Invitation:
    found = query.objects(pk)
    if not found:
        raise Invitation.DoesNotExist(f"no invitation {pk}")
    return found[0]


def state_of(invitation: Invitation, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if invitation.progress == Progress.COMPLETED:
        return State.COMPLETED
    if invitation.consent != Consent.GIVEN:
        return State.NO_CONSENT
    if now < invitation.campaign.opens_at:
        return State.NOT_OPEN
    closes = invitation.expires_at or invitation.campaign.closes_at
    if now > closes:
        return State.CLOSED
    return State.READY


def _require_ready(invitation: Invitation) -> None:
    state = state_of(invitation)
    if state != State.READY:
        raise ServiceError("当前不能作答", "Answering is not possible now", field=state)


def _record_student(invitation: Invitation, action: Action, detail: str) -> None:
    """An audit row for what the student (no account) did with their code."""
    record(
        actor=None, action=action, obj=invitation, student=invitation.student, role="student", detail=detail
    )


def instruments_of(invitation: Invitation) -> list[Instrument]:
    return [instrument_for_sha(sha) for sha in invitation.instrument_shas]


@transaction.atomic
def give_assent(*, invitation: Invitation) -> Invitation:
    """The student agrees on the first screen (assent); they may stop at any time."""
    invitation = _locked(_LOCKED_FOR_ASSENT, invitation.pk)
    _require_ready(invitation)
    now = timezone.now()
    if invitation.assent_at is None:
        invitation.assent_at = now
    if invitation.started_at is None:
        invitation.started_at = now
    invitation.progress = Progress.STARTED
    invitation.save(update_fields=["assent_at", "started_at", "progress"])
    _record_student(invitation, Action.UPDATE, "assent")
    return invitation


@transaction.atomic
def stop_answering(*, invitation: Invitation) -> Invitation:
    """The student chooses to stop. Answers given so far are kept but never scored."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.progress != Progress.COMPLETED:
        invitation.progress = Progress.STOPPED
        invitation.save(update_fields=["progress"])
        _record_student(invitation, Action.UPDATE, "stopped")
    return invitation


def save_answer(*, invitation: Invitation, instrument: str, item: int, value: int) -> None:
    """Store one answer (replacing an earlier one for the same item) at once.

    Idempotent: sending the same answer again changes nothing (one row, its first time).
    A critical answer raises the urgent warning in the same transaction as the answer."""
    if invitation.progress not in (Progress.STARTED,) or invitation.assent_at is None:
        raise ServiceError("请先确认参加", "Please confirm that you take part first", field="assent")
    _require_ready(invitation)
    chosen = next((i for i in instruments_of(invitation) if i.code == instrument), None)
    if chosen is None:
        raise ServiceError(
            "这份问卷不在你的测评中", "This questionnaire is not part of your screening", field="instrument"
        )
    try:
        question = chosen.item(item)
    except KeyError:
        raise ServiceError(f"没有第 {item} 题", f"There is no question {item}", field="item") from None
    if value not in {o.value for o in question.options}:
        raise ServiceError(f"第 {item} 题没有这个选项", f"Question {item} has no such option", field="value")
    now = timezone.now()
    hits = _critical_hits(chosen, item, value)
    if not hits:
        # One statement, atomic on its own (autocommit): no transaction to open.
        _store_answer(invitation.pk, chosen.code, item, value, now)
        return
    with transaction.atomic():
        _store_answer(invitation.pk, chosen.code, item, value, now)
        _raise_critical(invitation, chosen.code, hits)


def _store_answer(invitation_id: int, instrument: str, item: int, value: int, at: dt.datetime) -> None:
    """The upsert stores nothing unless consent and assent stand in the database at this
    moment (issue 11 §5), even when the invitation this process holds is stale (the guardian
    withdrew a moment ago). Writing nothing is also what an unchanged answer gives, so only
    then one more statement tells the two apart. The database's triggers (migration 0006)
    refuse every other writer."""
    if _upsert_answer(invitation_id, instrument, item, value, at):
        return
    if not Invitation.objects.filter(
        pk=invitation_id, consent=Consent.GIVEN, assent_at__isnull=False, progress=Progress.STARTED
    ).exists():
        raise ServiceError(
            "没有有效的家长同意和本人确认，不能作答",
            "There is no valid consent and assent to answer",
            field=State.NO_CONSENT,
        )


def _upsert_answer(invitation_id: int, instrument: str, item: int, value: int, at: dt.datetime) -> int:
    """Insert the answer, or change the stored one if the value differs, only while the
    invitation's consent is given and the student has assented. The same answer sent again
    (a double tap, a reloaded page) writes nothing, not even its time. Returns rows written."""
    sealed = _ANSWER_VALUE.seal_row(value, f"{invitation_id}|{instrument}|{item}")  # at rest
    ops = connection.ops
    table = ops.quote_name(Answer._meta.db_table)
    invitations = ops.quote_name(Invitation._meta.db_table)
    inv, ins, itm, val, at_ = (
        ops.quote_name(c) for c in ("invitation_id", "instrument", "item", "value", "answered_at")
    )
    distinct = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
    sql = (
        f"INSERT INTO {table} ({inv}, {ins}, {itm}, {val}, {at_}) SELECT %s, %s, %s, %s, %s "  # noqa: S608
        f"WHERE EXISTS (SELECT 1 FROM {invitations} WHERE id = %s AND consent = %s "
        "AND assent_at IS NOT NULL) "
        f"ON CONFLICT ({inv}, {ins}, {itm}) DO UPDATE SET {val} = excluded.{val}, {at_} = excluded.{at_} "
        f"WHERE {table}.{val} {distinct} excluded.{val}"
    )
    at_value = ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [invitation_id, instrument, item, sealed, at_value, invitation_id, Consent.GIVEN.value]
        )
        return cursor.rowcount


def _critical_hits(instrument: Instrument, item: int, value: int) -> list[str]:
    question = instrument.item(item)
    option = next(o for o in question.options if o.value == value)
    hits: list[str] = []
    for rule in instrument.critical:
        if rule.item != item:
            continue
        if rule.matches(value, refused=option.refuse):
            hits.append(rule.code)
    return hits


def _critical_task(policy: TierPolicy, instrument: str) -> bool:
    """Whether a critical answer on `instrument` reaches a tier that gives the class teacher
    the neutral task (so the task comes with the warning, not only at hand-in)."""
    floor = policy.tier(policy.class_teacher_task_from).rank
    return any(
        rule.kind == "critical"
        and rule.instrument in (None, instrument)
        and policy.tier(rule.tier).rank >= floor
        for rule in policy.rules
    )


def _critical_signals(
    invitation: Invitation, instrument: str, codes: Sequence[str], done: set[str], *, task: bool = False
) -> list[NewSignal]:
    """Signals for critical answers not yet signalled for this invitation (`done`); with
    `task`, the class teacher's neutral task too (one open task per student, however often)."""
    out = []
    for code in codes:
        signal_code = f"{instrument}.critical:{code}"
        if signal_code not in done:
            done.add(signal_code)
            out.append(
                NewSignal(
                    invitation.student_id,
                    invitation.school_id,
                    invitation.school_class_id,
                    WarningLevel.URGENT,
                    Source.SCREENING_CRITICAL,
                    ref=str(invitation.uid),
                    code=signal_code,
                    task=task,
                )
            )
    return out


def _signalled(refs: Sequence[str]) -> dict[str, set[str]]:
    done: dict[str, set[str]] = defaultdict(set)
    if len(refs) == 1:  # the student's own path: one invitation
        done[refs[0]] = {code for (code,) in _SIGNALLED.rows(refs[0])}
        return done
    for ref, code in Signal.objects.filter(ref__in=refs, source=Source.SCREENING_CRITICAL).values_list(
        "ref", "code"
    ):
        done[ref].add(code)
    return done


def _raise_critical(invitation: Invitation, instrument: str, codes: Sequence[str]) -> None:
    done = _signalled([str(invitation.uid)])[str(invitation.uid)]
    if all(f"{instrument}.critical:{code}" in done for code in codes):
        return
    district_code = District.objects.only("code").get(pk=invitation.campaign.district_id).code
    task = _critical_task(screening_policy(district_code), instrument)
    signals = _critical_signals(invitation, instrument, codes, done, task=task)
    if signals:
        raise_warnings(signals)
        Invitation.objects.filter(pk=invitation.pk).update(critical=True)


def answers_of(invitation: Invitation) -> dict[str, dict[int, int | None]]:
    out: dict[str, dict[int, int | None]] = defaultdict(dict)
    for instrument, item, value in _ANSWERS.rows(invitation.pk):
        out[instrument][item] = value
    return out


def next_question(invitation: Invitation) -> tuple[Instrument, int] | None:
    """Where a returning student resumes: the first asked item without an answer."""
    return _first_unanswered(instruments_of(invitation), answers_of(invitation))


def _first_unanswered(
    instruments: Sequence[Instrument], given: Mapping[str, Mapping[int, int | None]]
) -> tuple[Instrument, int] | None:
    for instrument in instruments:
        answers = given.get(instrument.code, {})
        for question in instrument.items:
            if question.is_asked(answers) and question.number not in answers:
                return instrument, question.number
    return None


def seconds_taken(invitation: Invitation) -> float | None:
    return _seconds(invitation, list(invitation.answers.values_list("answered_at", flat=True)))


def _seconds(invitation: Invitation, answered_at: Sequence[dt.datetime]) -> float | None:
    times = sorted(answered_at)
    if not times:
        return None
    start = invitation.assent_at or times[0]
    total = 0.0
    previous = start
    for t in times:
        total += min(max((t - previous).total_seconds(), 0.0), MAX_GAP_SECONDS)
        previous = t
    return total


# ---- scoring and tiering -----------------------------------------------------------------


@dataclass
class Evaluation:
    results: list[InstrumentResult]
    flags: tuple[str, ...]
    tier: str
    reasons: tuple[str, ...]
    critical: list[tuple[str, str]] = field(default_factory=list)  # (instrument, rule code)

    @property
    def needs_retest(self) -> bool:
        return bool(self.flags) or any(not r.valid for r in self.results)


def evaluate(
    instruments: Sequence[Instrument],
    answers: Mapping[str, Mapping[int, int | None]],
    *,
    seconds: float | None,
    grade: int | None,
    sex: str | None,
    policy: TierPolicy,
) -> Evaluation:
    """Score every instrument of a protocol, flag careless responding and choose the tier.
    Pure: the same inputs give the same evaluation."""
    parts = [(i, answers.get(i.code, {})) for i in instruments]
    results = [score(i, a, grade=grade, sex=sex) for i, a in parts]
    flags = careless_flags(parts, seconds=seconds)
    tier, reasons = assign_tier(policy, results)
    critical = [(r.instrument, hit.code) for r in results for hit in r.critical]
    return Evaluation(results, flags, tier, reasons, critical)


# Answers are written by one raw upsert: their value is sealed here (xinyu.crypto).
_ANSWER_VALUE: RowTokenIntegerField = Answer._meta.get_field("value")  # type: ignore[assignment]

RESULT_COLUMNS = (
    "invitation_id", "instrument", "version", "primary_raw", "primary_band",
    "concern", "valid", "critical", "data", "scored_at",
)  # fmt: skip


def _insert_results(params: Sequence[tuple[Any, ...]]) -> None:
    """Insert many results (tuples in RESULT_COLUMNS order, `data` as JSON text, `scored_at`
    adapted for the database) with one prepared statement. The ORM's bulk_create is capped
    at 999 parameters per statement on SQLite (about 100 rows here), and building a model
    instance per row cost as much again: together the largest share of bulk scoring."""
    table = connection.ops.quote_name(Result._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in RESULT_COLUMNS)
    placeholders = ", ".join(["%s"] * len(RESULT_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", params)  # noqa: S608


def _result_values(evaluation: Evaluation, instruments: Sequence[Instrument]) -> list[dict[str, Any]]:
    """The Result columns (without invitation and time) of each scored instrument."""
    values = []
    for instrument, result in zip(instruments, evaluation.results, strict=True):
        primary = result.scales.get(instrument.primary_scale.code)
        data = result.to_json()
        data["battery_flags"] = list(evaluation.flags)
        values.append(
            {
                "instrument": result.instrument,
                "version": result.version,
                "primary_raw": primary.raw if primary else None,
                "primary_band": (primary.band or "") if primary else "",
                "concern": result.concern,
                "valid": result.valid and not evaluation.flags,
                "critical": bool(result.critical),
                "data": data,
            }
        )
    return values


def _result_params(
    invitation_id: int, evaluation: Evaluation, instruments: Sequence[Instrument], scored_at: Any
) -> list[tuple[Any, ...]]:
    return [
        (
            invitation_id,
            v["instrument"],
            v["version"],
            _at_rest("primary_raw", v["primary_raw"]),
            _at_rest("primary_band", v["primary_band"]),
            _at_rest("concern", v["concern"]),
            v["valid"],
            _at_rest("critical", v["critical"]),
            _at_rest("data", v["data"]),
            scored_at,
        )
        for v in _result_values(evaluation, instruments)
    ]


def _at_rest(name: str, value: Any) -> Any:
    """A Result column's stored form (Fernet or keyed token, xinyu.crypto) for the raw insert."""
    return Result._meta.get_field(name).get_prep_value(value)  # type: ignore[union-attr]


def _outcome_signals(
    invitation: Invitation,
    evaluation: Evaluation,
    *,
    policy: TierPolicy,
    levels: Mapping[str, str],
    done: set[str],
) -> list[NewSignal]:
    """The warnings (and the class teacher's task) that critical answers and a tier call for."""
    signals: list[NewSignal] = []
    by_instrument: dict[str, list[str]] = defaultdict(list)
    for instrument, code in evaluation.critical:
        by_instrument[instrument].append(code)
    for instrument, codes in by_instrument.items():
        signals.extend(
            _critical_signals(invitation, instrument, codes, done, task=_critical_task(policy, instrument))
        )
    task = policy.tier(evaluation.tier).rank >= policy.tier(policy.class_teacher_task_from).rank
    # A tier without a warning level of its own that still calls for a task gets a "watch" warning.
    level = levels.get(evaluation.tier) or (WarningLevel.WATCH if task else None)
    if level:
        signals.append(
            NewSignal(
                invitation.student_id,
                invitation.school_id,
                invitation.school_class_id,
                WarningLevel(level),
                Source.SCREENING_RESULT,
                ref=str(invitation.uid),
                code=f"tier:{evaluation.tier}",
                task=task,
            )
        )
    return signals


@transaction.atomic
def submit(*, invitation: Invitation) -> Invitation:
    """Score and store the protocol. Submitting twice stores one response."""
    invitation = _locked(_LOCKED_FOR_SUBMIT, invitation.pk)
    if invitation.progress == Progress.COMPLETED:
        return invitation
    _require_ready(invitation)
    if invitation.assent_at is None:
        raise ServiceError("请先确认参加", "Please confirm that you take part first", field="assent")
    instruments = instruments_of(invitation)
    given: dict[str, dict[int, int | None]] = defaultdict(dict)
    times = []
    for instrument, item, value, answered_at in invitation.answers.values_list(
        "instrument", "item", "value", "answered_at"
    ):
        given[instrument][item] = value
        times.append(answered_at)
    if _first_unanswered(instruments, given) is not None:
        raise ServiceError("还有题目没有回答", "Some questions are not answered yet", field="answers")
    district_code = invitation.campaign.district.code
    policy = screening_policy(district_code)
    evaluation = evaluate(
        instruments,
        given,
        seconds=_seconds(invitation, times),
        grade=invitation.grade_level,
        sex=invitation.gender,
        policy=policy,
    )
    now = timezone.now()
    _insert_results(  # the invitation is locked and ready: the consent trigger cannot fire
        _result_params(invitation.pk, evaluation, instruments, connection.ops.adapt_datetimefield_value(now))
    )
    invitation.progress = Progress.COMPLETED
    invitation.completed_at = now
    invitation.tier = evaluation.tier
    invitation.tier_reasons = list(evaluation.reasons)
    invitation.needs_retest = evaluation.needs_retest
    invitation.critical = invitation.critical or bool(evaluation.critical)
    invitation.save(
        update_fields=["progress", "completed_at", "tier", "tier_reasons", "needs_retest", "critical"]
    )
    raise_warnings(
        _outcome_signals(
            invitation,
            evaluation,
            policy=policy,
            levels=warning_for_tier(district_code),
            done=_signalled([str(invitation.uid)])[str(invitation.uid)],
        )
    )
    _record_student(invitation, Action.CREATE, "submitted")
    return invitation


def bulk_score(invitations: QuerySet[Invitation], *, district_code: str, batch_size: int = 2000) -> int:
    """Score completed protocols that have no results yet, in batches (imports of paper
    answers, re-scoring, the benchmark). Warnings and tasks go through the same services."""
    policy = screening_policy(district_code)
    levels = warning_for_tier(district_code)
    scored = 0
    # Only protocols whose consent still stands: a withdrawal stops processing (§5).
    pending = invitations.filter(
        progress=Progress.COMPLETED, consent=Consent.GIVEN, results__isnull=True
    ).order_by("pk")
    ids = list(pending.values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with transaction.atomic():
            batch = list(
                Invitation.objects.filter(pk__in=chunk)
                .only(
                    "pk",
                    "uid",
                    "student_id",
                    "school_id",
                    "school_class_id",
                    "grade_level",
                    "gender",
                    "instrument_shas",
                    "critical",
                )
                .order_by("pk")
            )
            answers: dict[int, dict[str, dict[int, int | None]]] = defaultdict(lambda: defaultdict(dict))
            for inv_id, instrument, item, value in Answer.objects.filter(invitation_id__in=chunk).values_list(
                "invitation_id", "instrument", "item", "value"
            ):
                answers[inv_id][instrument][item] = value
            now = timezone.now()
            rows: list[tuple[Any, ...]] = []
            scored_at = connection.ops.adapt_datetimefield_value(now)
            signals: list[NewSignal] = []
            done = _signalled([str(i.uid) for i in batch])
            for invitation in batch:
                instruments = instruments_of(invitation)
                evaluation = evaluate(
                    instruments,
                    answers[invitation.pk],
                    seconds=None,
                    grade=invitation.grade_level,
                    sex=invitation.gender,
                    policy=policy,
                )
                rows.extend(_result_params(invitation.pk, evaluation, instruments, scored_at))
                invitation.tier = evaluation.tier
                invitation.tier_reasons = list(evaluation.reasons)
                invitation.needs_retest = evaluation.needs_retest
                invitation.critical = invitation.critical or bool(evaluation.critical)
                signals.extend(
                    _outcome_signals(
                        invitation, evaluation, policy=policy, levels=levels, done=done[str(invitation.uid)]
                    )
                )
            _insert_results(rows)
            # Few distinct outcomes: one UPDATE per outcome is far cheaper than CASE-per-row.
            by_outcome: dict[tuple[str, str, bool, bool], list[int]] = defaultdict(list)
            for invitation in batch:
                key = (
                    invitation.tier,
                    json.dumps(invitation.tier_reasons),
                    invitation.needs_retest,
                    invitation.critical,
                )
                by_outcome[key].append(invitation.pk)
            for (tier, reasons, needs_retest, critical), pks in by_outcome.items():
                Invitation.objects.filter(pk__in=pks).update(
                    tier=tier, tier_reasons=json.loads(reasons), needs_retest=needs_retest, critical=critical
                )
            raise_warnings(signals)
            scored += len(batch)
    return scored


# ---- second stage ------------------------------------------------------------------------


@transaction.atomic
def assign_follow_up(
    *, by: User, parents: Sequence[Invitation], instruments: Sequence[str] | None
) -> list[Invitation]:
    """Give selected students a re-test (instruments=None: the same battery again) or a
    further instrument (e.g. ASQ after a PHQ-9 item-9 answer). Consent carries over from
    the first stage; a student who is not participating gets nothing."""
    created: list[Invitation] = []
    now = timezone.now()
    for parent in parents:
        if parent.consent != Consent.GIVEN or parent.stage != 1:
            raise ServiceError(
                "只能为已同意参加测评的学生安排后续测评",
                "Only students taking part can be given a second stage",
                field="students",
            )
        if instruments:
            shas = []
            for code in instruments:
                try:
                    instrument = get_instrument(code)
                except KeyError:
                    raise ServiceError(
                        f"未知量表：{code}", f"Unknown instrument: {code}", field="instruments"
                    ) from None
                low, high = instrument.grades
                if not low <= parent.grade_level <= high:
                    raise ServiceError(
                        f"{instrument.code} 不适用于 {parent.grade_level} 年级",
                        f"{instrument.code} is not for grade {parent.grade_level}",
                        field="instruments",
                    )
                shas.append(archive_instrument(code).sha256)
        else:
            shas = list(parent.instrument_shas)
        open_same = _open_follow_up(parent, shas)
        if open_same is not None:
            created.append(open_same)
            continue
        child = Invitation.objects.create(
            campaign_id=parent.campaign_id,
            student_id=parent.student_id,
            school_id=parent.school_id,
            school_class_id=parent.school_class_id,
            grade_level=parent.grade_level,
            gender=parent.gender,
            stage=2,
            parent=parent,
            assigned_by=by,
            instrument_shas=shas,
            code=_unique_codes(1)[0],
            consent=Consent.GIVEN,
            consent_at=parent.consent_at,
            expires_at=max(parent.campaign.closes_at, now + dt.timedelta(days=FOLLOW_UP_DAYS)),
        )
        record(
            actor=by,
            action=Action.CREATE,
            obj=child,
            student=child.student,
            role=access_policy.audit_role(by, child.student),
            detail="second stage: " + ",".join(instruments or ["retest"]),
        )
        created.append(child)
    return created


def _open_follow_up(parent: Invitation, shas: list[str]) -> Invitation | None:
    for child in Invitation.objects.filter(parent=parent).exclude(progress=Progress.COMPLETED):
        if list(child.instrument_shas) == shas:
            return child
    return None


def campaign_is_open(campaign: Campaign, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return campaign.opens_at <= now <= campaign.closes_at
