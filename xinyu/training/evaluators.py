"""Training evaluators of the compliance engine (issue 14; area TRAINING).

Read as the training app's coverage page and reminders count (`training.coverage`,
`training.reminders`), in a fixed number of queries for all units:

- a programme is held on its first day (its first session's day, else `starts_on`; drafts and
  cancelled ones never), counted in the semester containing the cut-off (`[calendar]`) when
  that day is on or before the cut-off;
- a semester (or year) not yet over with fewer than required is not applicable, note
  "in progress": never missed early (as schoolevents' rules);
- a part-time psych teacher (register entry with a part-time post at the school, active) is
  trained within N years when their last training (the later of the last session they
  attended and the register's `last_trained_on`) is after the day N years before the cut-off,
  exactly as `reminders.retrain_due` (trained exactly N years ago is due: not within).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Level, Params, evaluator
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import School
from xinyu.staff.models import CertificateKind, HeldCertificate, PostType, StaffMember

from .certificates import add_years
from .coverage import last_attended, programme_days
from .models import ProgrammeKind


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
    held: dict[int, list[str]] = {s.pk: [] for s in schools}
    sems = {d: semester_of(ctx.today, cal) for d, cal in calendars.items()}
    by_pk = {s.pk: s for s in schools}
    for school_id, uid, day in programme_days(kind, schools):
        sem = sems[by_pk[school_id].district_id]
        if sem.contains(day) and day <= ctx.today:
            held[school_id].append(uid)
    out: dict[int, Finding] = {}
    for s in schools:
        sem = sems[s.district_id]
        n = len(held[s.pk])
        verdict = Verdict.MET if n >= need else Verdict.MISSED
        zh = f"{sem.label}已开展{what[0]}{n}次，要求至少{need}次"
        en = f"{n} {what[1]}(s) held in {sem.label}; at least {need} required"
        if verdict == Verdict.MISSED and ctx.today < sem.end:
            verdict = Verdict.NOT_APPLICABLE
            zh += "（学期未结束）"
            en += " (in progress)"
        out[s.pk] = Finding(
            verdict=verdict,
            required=need,
            actual=n,
            measure="次 trainings",
            counted=tuple(held[s.pk][:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=link(s),
            period=f"{sem.start.isoformat()}..{sem.end.isoformat()}",
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
    1,500 C). A year not over (or not begun) with fewer: not applicable, "in progress"."""
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
        if verdict == Verdict.MISSED and ctx.today < dt.date(params.year, 12, 31):
            verdict = Verdict.NOT_APPLICABLE
            zh += "（年度未结束）"
            en += " (in progress)"
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
        )
    return out
