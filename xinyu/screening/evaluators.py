"""Screening evaluators of the compliance engine (issue 14; area SCREENING).

The school year is the one containing the cut-off under the district's `[calendar]`
(`kernel.semester.school_year_of`), matched to `Campaign.school_year` ("2026-2027"). Two
queries per evaluator for all units.

- Screened: an active student of the school (on the roster at the cut-off) whose stage-1
  invitation of a campaign of that school year is completed on or before the cut-off. A
  student who declined, stopped or was never invited is not screened.
- Consent recorded: the invitation's guardian consent was given (`consent_at` set, consent
  given, or withdrawn after it was given) and the student's own assent (`assent_at`) is set.
- A school year not over with a share short of the rule: PENDING (进行中), never missed early
  (the convention for a period not over, `xinyu.kernel.compliance`; the year before cannot
  be judged instead: its roster is not kept, only today's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from pydantic import Field

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, NoParams, Params, evaluator
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import SchoolYear, school_year_of
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import School, SchoolClass, Student, StudentStatus

from .models import Answer, Consent, Invitation, Progress


class YearlyParams(Params):
    from_grade: int = Field(4, ge=1, le=12)
    min_share: float = Field(1.0, gt=0, le=1)


def _year(ctx: Context) -> SchoolYear:
    calendar = ctx.policy.get("calendar") if ctx.policy else None
    if calendar is None:
        calendar = policy_for_code(ctx.district.code).get("calendar", {})
    return school_year_of(ctx.today, calendar)


def _label(year: SchoolYear) -> str:
    return f"{year.year}-{year.year + 1}"


def _cutoff(today: dt.date) -> dt.datetime:
    """The end of the cut-off day (local time)."""
    return timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))


def _share_met(ok: int, n: int, share: float) -> bool:
    return Fraction(ok) >= Fraction(share).limit_denominator(10_000) * n


@evaluator(
    "screening.yearly_from_grade",
    area=Area.SCREENING,
    params=YearlyParams,
    title=("四年级以上学生每年测评", "Yearly screening from grade 4"),
)
def yearly_from_grade(units: Sequence[School], params: YearlyParams, ctx: Context) -> dict[int, Finding]:
    """Share of the school's active students of grade ≥ `from_grade` screened this school year
    (a completed first-stage screening) ≥ `min_share` (QX 8: 四年级以上每年一次). No student on
    the roster, or only empty classes of those grades: no data; no class of those grades: not
    applicable (as the lessons' rules)."""
    year = _year(ctx)
    label = _label(year)
    eligible = Q(status=StudentStatus.ACTIVE, school_class__grade__level__gte=params.from_grade)
    count = (
        Student.objects.filter(eligible, school_id=OuterRef("pk"))
        .order_by()
        .values("school_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    schools = list(
        School.objects.filter(pk__in=[u.pk for u in units])
        .annotate(
            eligible_n=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
            has_roster=Exists(Student.objects.filter(school_id=OuterRef("pk"))),
            has_grades=Exists(
                SchoolClass.objects.filter(school_id=OuterRef("pk"), grade__level__gte=params.from_grade)
            ),
        )
        .order_by("code")
    )
    screened: dict[int, dict[int, str]] = {s.pk: {} for s in schools}
    campaign: dict[int, tuple[dt.datetime, str]] = {}
    for school_id, student_id, uid, opens, campaign_uid in (
        Invitation.objects.filter(
            stage=1,
            progress=Progress.COMPLETED,
            campaign__school_year=label,
            completed_at__lt=_cutoff(ctx.today),
            student__school_id__in=list(screened),
            student__status=StudentStatus.ACTIVE,
            student__school_class__grade__level__gte=params.from_grade,
        )
        .order_by("student_id", "completed_at", "pk")
        .values_list("student__school_id", "student_id", "uid", "campaign__opens_at", "campaign__uid")
    ):
        screened[school_id].setdefault(student_id, str(uid))
        if school_id not in campaign or opens > campaign[school_id][0]:
            campaign[school_id] = (opens, str(campaign_uid))
    out: dict[int, Finding] = {}
    measure = "% 学生 students"
    for s in schools:
        where = f"/screening/campaigns/{campaign[s.pk][1]}/" if s.pk in campaign else "/screening/"
        n = s.eligible_n  # type: ignore[attr-defined]
        if not n:  # as the lessons' rules: no such class is not applicable, empty classes no data
            roster, grades = s.has_roster, s.has_grades  # type: ignore[attr-defined]
            applicable = roster and not grades
            if applicable:
                zh, en = (
                    f"无{params.from_grade}年级及以上班级",
                    f"no class of grade {params.from_grade} or above",
                )
            elif roster:
                zh, en = (
                    f"{params.from_grade}年级及以上班级均无在籍学生",
                    f"no active student in the classes of grade {params.from_grade} or above",
                )
            else:
                zh, en = "无花名册", "no roster"
            out[s.pk] = Finding(
                verdict=Verdict.NOT_APPLICABLE if applicable else Verdict.NO_DATA,
                measure=measure,
                note_zh=zh,
                note_en=en,
                link=where,
            )
            continue
        ok = len(screened[s.pk])
        verdict = Verdict.MET if _share_met(ok, n, params.min_share) else Verdict.MISSED
        zh = f"{year.label}{params.from_grade}年级及以上在籍学生{n}人，已完成测评{ok}人"
        en = f"{ok} of {n} active students of grade {params.from_grade}+ screened in {label}"
        if verdict == Verdict.MISSED and ctx.today < year.end:
            verdict = Verdict.PENDING
            zh += "（学年未结束）"
            en += " (in progress)"
        out[s.pk] = Finding(
            verdict=verdict,
            required=round(100 * params.min_share, 1),
            actual=round(100 * ok / n, 1),
            measure=measure,
            counted=tuple(list(screened[s.pk].values())[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=where,
            period=f"{year.start.isoformat()}..{year.end.isoformat()}",
        )
    return out


@evaluator(
    "screening.with_consent",
    area=Area.SCREENING,
    params=NoParams,
    title=("测评经知情同意", "Screening with consent"),
)
def with_consent(units: Sequence[School], params: NoParams, ctx: Context) -> dict[int, Finding]:
    """Every screening answered at the school this school year (an invitation with at least one
    answer, first or second stage) has the guardian's consent and the student's assent recorded
    (SJS: 知情自愿). No answer this school year: no data. `counted`: the invitations at fault
    when missed, else those judged."""
    year = _year(ctx)
    label = _label(year)
    ids = [u.pk for u in units]
    consented = (Q(consent=Consent.GIVEN) | Q(consent=Consent.WITHDRAWN)) & Q(
        consent_at__isnull=False, assent_at__isnull=False
    )
    rows: dict[int, tuple[list[str], list[str]]] = {pk: ([], []) for pk in ids}
    latest: dict[int, tuple[dt.datetime, str]] = {}
    for school_id, uid, ok, opens, campaign_uid in (
        Invitation.objects.filter(
            Exists(Answer.objects.filter(invitation_id=OuterRef("pk"), answered_at__lt=_cutoff(ctx.today))),
            school_id__in=ids,
            campaign__school_year=label,
        )
        .annotate(ok=ExpressionWrapper(consented, output_field=BooleanField()))
        .order_by("school_id", "pk")
        .values_list("school_id", "uid", "ok", "campaign__opens_at", "campaign__uid")
    ):
        rows[school_id][0 if ok else 1].append(str(uid))
        if school_id not in latest or opens > latest[school_id][0]:
            latest[school_id] = (opens, str(campaign_uid))
    out: dict[int, Finding] = {}
    measure = "份 screenings"
    for pk in ids:
        good, bad = rows[pk]
        where = f"/screening/campaigns/{latest[pk][1]}/" if pk in latest else "/screening/"
        n = len(good) + len(bad)
        if not n:
            out[pk] = Finding(
                verdict=Verdict.NO_DATA,
                measure=measure,
                note_zh=f"{year.label}无测评作答",
                note_en=f"no screening answered in {label}",
                link=where,
            )
            continue
        zh = f"{year.label}作答{n}份，{len(good)}份有监护人同意和学生本人确认"
        en = f"{len(good)} of {n} screenings answered in {label} have the guardian's consent and the student's assent"
        out[pk] = Finding(
            verdict=Verdict.MET if not bad else Verdict.MISSED,
            required=n,
            actual=len(good),
            measure=measure,
            counted=tuple((bad or good)[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=where,
            period=f"{year.start.isoformat()}..{year.end.isoformat()}",
        )
    return out
