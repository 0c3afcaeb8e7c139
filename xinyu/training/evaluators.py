"""Training evaluators of the compliance engine (issue 14; area TRAINING).

Read as the training app's coverage page and reminders count (`training.coverage`,
`training.reminders`), in a fixed number of queries for all units:

- a programme is held on its first day (its first session's day, else `starts_on`; drafts and
  cancelled ones never), counted in the semester containing the cut-off (`[calendar]`) when
  that day is on or before the cut-off;
- a period not over follows the engine's convention (`xinyu.kernel.compliance`): the semester
  holding the cut-off is met once its count is reached; short and not over (a cut-off on its
  last day sees all of it), the semester before is judged instead (the programmes are kept),
  the finding's `period` naming it and the note giving this semester's count so far. A
  certificate target or a programme length of a profile's fixed year not over and short is
  PENDING (进行中), never missed early;
- a part-time psych teacher (register entry with a part-time post at the school, active) is
  trained within N years when their last training (the later of the last session they
  attended and the register's `last_trained_on`) is after the day N years before the cut-off,
  exactly as `reminders.retrain_due` (trained exactly N years ago is due: not within);
- a programme's length (`training.programme_length`, RC 二.(二)) is the class hours of all
  its sessions (course and assessment, the hours the certificate ledger adds up) and its
  course days the distinct local days of its course sessions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Level, Params, evaluator
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import School
from xinyu.staff.models import CertificateKind, HeldCertificate, PostType, StaffMember

from .certificates import add_years
from .coverage import last_attended, programme_days
from .models import Programme, ProgrammeKind, ProgrammeStatus, SessionKind, TrainingSession


class MinParams(Params):
    min: int = Field(1, ge=1)


class TrainedWithinParams(Params):
    years: int = Field(3, ge=1)


class CertificatesTargetParams(Params):
    kind: Literal["B", "C"]
    target: int = Field(ge=1)
    year: int = Field(ge=2000, le=2100)


def link(school: School) -> str:
    return f"/training/coverage/school/{school.uid}/"


def _schools(units: Sequence[School]) -> list[School]:
    return list(
        School.objects.filter(pk__in=[u.pk for u in units]).select_related("district").order_by("code")
    )


def _per_semester(
    units: Sequence[School], kind: str, need: int, ctx: Context, what: tuple[str, str]
) -> dict[int, Finding]:
    schools = _schools(units)
    if not schools:
        return {}
    calendars = {s.district_id: policy_for_code(s.district.code).get("calendar", {}) for s in schools}
    sems = {d: semester_of(ctx.today, cal) for d, cal in calendars.items()}
    befores = {d: semester_of(sems[d].start - dt.timedelta(days=1), cal) for d, cal in calendars.items()}
    held: dict[tuple[int, str], list[str]] = {}
    by_pk = {s.pk: s for s in schools}
    for school_id, uid, day in programme_days(kind, schools):
        district_id = by_pk[school_id].district_id
        for sem in (sems[district_id], befores[district_id]):
            if sem.contains(day) and day <= ctx.today:
                held.setdefault((school_id, sem.key), []).append(uid)
    out: dict[int, Finding] = {}
    for s in schools:
        now, before = sems[s.district_id], befores[s.district_id]
        so_far = sorted(held.get((s.pk, now.key), []))
        n = len(so_far)
        judged, counted = now, so_far
        zh = f"{now.label}已开展{what[0]}{n}次，要求至少{need}次"
        en = f"{n} {what[1]}(s) held in {now.label}; at least {need} required"
        if n < need and ctx.today < now.end:  # short and not over: the semester before is judged
            counted = sorted(held.get((s.pk, before.key), []))
            judged, k = before, len(counted)
            zh = f"{before.label}已开展{what[0]}{k}次，要求至少{need}次；本学期尚未结束，已开展{n}次"
            en = (
                f"{k} {what[1]}(s) held in {before.label}; at least {need} required; "
                f"{now.label} not over, {n} so far"
            )
        out[s.pk] = Finding(
            verdict=Verdict.MET if len(counted) >= need else Verdict.MISSED,
            required=need,
            actual=len(counted),
            measure="次 trainings",
            counted=tuple(counted[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=link(s),
            period=f"{judged.start.isoformat()}..{judged.end.isoformat()}",
        )
    return out


@evaluator(
    "training.school_based_per_semester",
    area=Area.TRAINING,
    params=MinParams,
    title=("每学期校本培训", "School-based training each semester"),
)
def school_based_per_semester(units: Sequence[School], params: MinParams, ctx: Context) -> dict[int, Finding]:
    """≥ `min` school-based trainings (校本培训) held by the school in the semester (QX 6)."""
    return _per_semester(
        units, ProgrammeKind.SCHOOL_BASED, params.min, ctx, ("校本培训", "school-based training")
    )


@evaluator(
    "training.all_staff_per_semester",
    area=Area.TRAINING,
    params=MinParams,
    title=("每学期全员培训", "All-staff training each semester"),
)
def all_staff_per_semester(units: Sequence[School], params: MinParams, ctx: Context) -> dict[int, Finding]:
    """≥ `min` all-staff trainings (全员培训) held by the school in the semester (SJS 一.(一)2)."""
    return _per_semester(units, ProgrammeKind.ALL_STAFF, params.min, ctx, ("全员培训", "all-staff training"))


@evaluator(
    "training.part_time_trained_within",
    area=Area.TRAINING,
    params=TrainedWithinParams,
    title=("兼职心理教师定期培训", "Part-time psych teachers trained recently"),
)
def part_time_trained_within(
    units: Sequence[School], params: TrainedWithinParams, ctx: Context
) -> dict[int, Finding]:
    """Every part-time psych teacher with a post at the school was trained within the last
    `years` years (QX 6: 兼职心理教师每3年至少培训1次; required 100 %). No part-time teacher: not
    applicable."""
    schools = _schools(units)
    ids = [s.pk for s in schools]
    people: dict[int, dict[str, Any]] = {}
    at: dict[int, set[int]] = {pk: set() for pk in ids}
    for row in (
        StaffMember.objects.filter(post_type=PostType.PART_TIME, is_active=True, posts__school_id__in=ids)
        .values("pk", "uid", "last_trained_on", "posts__school_id")
        .order_by("name", "pk")
    ):
        people.setdefault(row["pk"], dict(row))
        at[row["posts__school_id"]].add(row["pk"])
    attended = last_attended(list(people))
    since = add_years(ctx.today, -params.years)

    def last(pk: int) -> dt.date | None:
        dates = [d for d in (attended.get(pk), people[pk]["last_trained_on"]) if d is not None]
        return max(dates) if dates else None

    out: dict[int, Finding] = {}
    for s in schools:
        members = sorted(at[s.pk], key=lambda pk: str(people[pk]["uid"]))
        if not members:
            out[s.pk] = Finding(
                verdict=Verdict.NOT_APPLICABLE,
                measure="% 教师 teachers",
                note_zh="无兼职心理教师",
                note_en="no part-time psych teacher",
                link=link(s),
            )
            continue
        trained = [pk for pk in members if (d := last(pk)) is not None and d > since]
        n, ok = len(members), len(trained)
        out[s.pk] = Finding(
            verdict=Verdict.MET if ok == n else Verdict.MISSED,
            required=100.0,
            actual=round(100 * ok / n, 1),
            measure="% 教师 teachers",
            counted=tuple(str(people[pk]["uid"]) for pk in trained[:MAX_COUNTED]),
            note_zh=f"{n}名兼职心理教师中{ok}名近{params.years}年内参加过培训（{since.isoformat()}之后）",
            note_en=f"{ok} of {n} part-time psych teachers trained in the last {params.years} years "
            f"(after {since.isoformat()})",
            link=link(s),
            period=f"{since.isoformat()}..{ctx.today.isoformat()}",
        )
    return out


@evaluator(
    "training.certificates_target",
    area=Area.TRAINING,
    level=Level.DISTRICT,
    params=CertificatesTargetParams,
    title=("心理健康教育证书培训目标", "Certificate training target"),
)
def certificates_target(
    units: Sequence[Any], params: CertificatesTargetParams, ctx: Context
) -> dict[int, Finding]:
    """Staff of the district holding a `kind` certificate issued in `year` (not revoked; in the
    register whatever its source, as the coverage page's targets) ≥ `target` (RC 2025: 50 B,
    1,500 C). A year not over (or not begun) with fewer: PENDING, the count so far in the note."""
    out: dict[int, Finding] = {}
    label_zh = f"{params.kind}证"
    for district in units:
        rows = list(
            HeldCertificate.objects.filter(
                member__district=district,
                kind=CertificateKind(params.kind),
                revoked_at__isnull=True,
                issued_on__year=params.year,
                issued_on__lte=ctx.today,
            )
            .order_by("member_id", "issued_on", "pk")
            .values_list("member_id", "uid")
        )
        holders: dict[int, str] = {}
        for member_id, uid in rows:
            holders.setdefault(member_id, str(uid))
        n = len(holders)
        verdict = Verdict.MET if n >= params.target else Verdict.MISSED
        zh = f"{params.year}年取得{label_zh}{n}人，目标{params.target}人"
        en = f"{n} staff earned the {params.kind} certificate in {params.year}; target {params.target:,}"
        out[district.pk] = Finding(
            verdict=verdict,
            required=params.target,
            actual=n,
            measure="人 staff",
            counted=tuple(list(holders.values())[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link="/training/coverage/",
            period=f"{params.year}-01-01..{params.year}-12-31",
        ).pending_until(dt.date(params.year, 12, 31), ctx.today)
    return out


class ProgrammeLengthParams(Params):
    kind: Literal["B", "C"]
    min_hours: float | None = Field(default=None, gt=0)
    min_course_days: int | None = Field(default=None, ge=1)
    with_assessment: bool = False  # an assessment session besides the course ("6+1": the "1")
    share: float = Field(default=1.0, gt=0, le=1)
    year: int | None = Field(default=None, ge=2000, le=2100)

    @model_validator(mode="after")
    def _asks_for_something(self) -> ProgrammeLengthParams:
        if self.min_hours is None and self.min_course_days is None:
            raise PydanticCustomError(
                "length_asks_nothing", "set min_hours or min_course_days", {"at": "min_hours"}
            )
        return self


PROGRAMME_KINDS = {"B": ProgrammeKind.B_CERTIFICATE, "C": ProgrammeKind.C_CERTIFICATE}


@dataclass
class _Length:
    uid: str
    title: str
    first: dt.date
    last: dt.date
    hours: Decimal = Decimal(0)
    days: set[dt.date] = dataclass_field(default_factory=set)
    assessed: bool = False


def _lengths(district: Any, kind: str) -> list[_Length]:
    """The district's programmes of `kind` (not draft, not cancelled) with their sessions'
    hours and course days. Two queries."""
    programmes = {
        pk: (str(uid), title)
        for pk, uid, title in Programme.objects.filter(district=district, kind=kind)
        .exclude(status__in=(ProgrammeStatus.DRAFT, ProgrammeStatus.CANCELLED))
        .order_by("pk")
        .values_list("pk", "uid", "title")
    }
    found: dict[int, _Length] = {}
    for programme_id, hours, starts_at, session_kind in (
        TrainingSession.objects.filter(programme_id__in=list(programmes))
        .order_by("programme_id", "starts_at")
        .values_list("programme_id", "hours", "starts_at", "kind")
    ):
        day = timezone.localdate(starts_at)
        uid, title = programmes[programme_id]
        length = found.setdefault(programme_id, _Length(uid, title, day, day))
        length.first, length.last = min(length.first, day), max(length.last, day)
        length.hours += hours
        if session_kind == SessionKind.COURSE:
            length.days.add(day)
        else:
            length.assessed = True
    return list(found.values())


@evaluator(
    "training.programme_length",
    area=Area.TRAINING,
    level=Level.DISTRICT,
    params=ProgrammeLengthParams,
    title=("证书培训项目时长", "Length of the certificate programmes"),
)
def programme_length(units: Sequence[Any], params: ProgrammeLengthParams, ctx: Context) -> dict[int, Finding]:
    """The share of the district's `kind` certificate programmes whose sessions total at least
    `min_hours` class hours (course and assessment sessions, as the certificate ledger adds
    them) and `min_course_days` course days (and an assessment session with
    `with_assessment`), ≥ `share` (RC 二.(二)2: B ≥ 80 课时; 二.(二)1: C "6+1"). The
    programmes judged: those whose first session falls in `year`, or without a year those
    whose last session is on or before the cut-off. A programme without a session has no
    recorded length and is not judged; none judged: no data. A `year` not over and short:
    PENDING. `counted`: the uids of the programmes meeting it."""
    kind = PROGRAMME_KINDS[params.kind]
    need_hours = Decimal(str(params.min_hours)) if params.min_hours is not None else None
    out: dict[int, Finding] = {}
    for district in units:
        lengths = [p for p in _lengths(district, kind) if _judged(p, params.year, ctx.today)]

        def meets(p: _Length) -> bool:
            return (
                (need_hours is None or p.hours >= need_hours)
                and (params.min_course_days is None or len(p.days) >= params.min_course_days)
                and (not params.with_assessment or p.assessed)
            )

        wants = []
        if need_hours is not None:
            wants.append((f"不少于{_fmt(need_hours)}课时", f"at least {_fmt(need_hours)} class hours"))
        if params.min_course_days is not None:
            wants.append((f"{params.min_course_days}天集中培训课程", f"{params.min_course_days} course days"))
        if params.with_assessment:
            wants.append(("另设考核", "an assessment"))
        want_zh, want_en = "、".join(w[0] for w in wants), ", ".join(w[1] for w in wants)
        period = f"{params.year}-01-01..{params.year}-12-31" if params.year is not None else f"..{ctx.today}"
        base: dict[str, Any] = {"measure": "个项目 programmes", "link": "/training/", "period": period}
        in_year = f"{params.year}年" if params.year is not None else ""
        in_year_en = f" in {params.year}" if params.year is not None else ""
        if not lengths:
            out[district.pk] = Finding(
                verdict=Verdict.NO_DATA,
                note_zh=f"{in_year}无已排课的{params.kind}证培训项目",
                note_en=f"no {params.kind} certificate programme with sessions{in_year_en}",
                **base,
            )
            continue
        ok = [p for p in lengths if meets(p)]
        short = [p for p in lengths if not meets(p)]
        n, k = len(lengths), len(ok)
        required = math.ceil(n * params.share - 1e-9)
        verdict = Verdict.MET if k >= required else Verdict.MISSED
        zh = f"{in_year}{params.kind}证培训项目{n}个，{k}个达到{want_zh}"
        en = f"{k} of {n} {params.kind} certificate programmes{in_year_en} have {want_en}"
        if required != n:
            zh += f"（需{required}个）"
            en += f" ({required} required)"
        if short:
            zh += "；未达到：" + "、".join(
                f"{p.title}（{_fmt(p.hours)}课时，{len(p.days)}天）" for p in short[:10]
            )
            en += "; short: " + ", ".join(
                f"{p.title} ({_fmt(p.hours)} h, {len(p.days)} days)" for p in short[:10]
            )
        finding = Finding(
            verdict=verdict,
            required=required,
            actual=k,
            counted=tuple(p.uid for p in ok[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            **base,
        )
        out[district.pk] = (
            finding if params.year is None else finding.pending_until(dt.date(params.year, 12, 31), ctx.today)
        )
    return out


def _judged(p: _Length, year: int | None, today: dt.date) -> bool:
    """In `year` (its first session), begun by the cut-off; without a year, over by the cut-off."""
    if year is not None:
        return p.first.year == year and p.first <= today
    return p.last <= today


def _fmt(number: Decimal) -> str:
    return f"{number.normalize():f}"
