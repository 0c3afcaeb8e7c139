"""Staffing evaluators of the compliance engine (issue 14; area STAFFING).

Each wraps the app's own rule (`xinyu.staff.staffing`, the evaluation of SPEC §6) with the
profile's parameters laid over the district's `[staffing]` section: the facts (students,
campuses, stages, the teachers with a post at the school) are loaded once for every unit by
`staffing.load_facts` (three queries), plus one query telling whether the district has a
register at all. No register entry in the whole district (no psych teacher recorded): no data
for every unit; a school whose roster and declared enrolment are both empty: no data for the
ratio. Zero teachers at a school of a district with a register is a count (missed).

`staff.cluster_posts`: the org model has no cluster centre school. The centre is taken as the
school of the cluster with the most cluster posts (专职·县管片用, a post row at the school),
ties by school code, so with none at all the cluster's first school by code carries the miss;
the other schools of the cluster, and schools in no cluster, are not applicable.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from pydantic import Field

from xinyu.kernel.compliance import (
    MAX_COUNTED,
    Area,
    Context,
    Finding,
    Level,
    Params,
    Part,
    evaluator,
)
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import School

from . import staffing
from .models import PostType, StaffMember
from .staffing import LoadedFacts, RuleResult, SchoolFacts, Status

TEACHERS = "名 teachers"
FULL_TIME_POSTS = (PostType.FULL_TIME, PostType.CLUSTER)  # as `staffing` counts full-time teachers
VERDICTS = {
    Status.MET: Verdict.MET,
    Status.MISSED: Verdict.MISSED,
    Status.NOT_APPLICABLE: Verdict.NOT_APPLICABLE,
}


class RatioParams(Params):
    students_per_teacher: int = Field(1000, ge=1)
    count_part_time: bool = True


class MinParams(Params):
    min: int = Field(1, ge=1)


class PerStageParams(Params):
    min_per_stage: int = Field(1, ge=1)


class PerCampusParams(Params):
    min_per_campus: int = Field(1, ge=1)
    full_time_only: bool = True  # false: any psych teacher, full- or part-time (SJS 一.(一)1)


class LargeSchoolParams(Params):
    above_students: int = Field(500, ge=0)
    extra: int = Field(1, ge=1)


class ClusterPostsParams(Params):
    min: int = Field(2, ge=1)
    max: int = Field(3, ge=1)


class QualifiedFullTimeParams(Params):
    share: float = Field(1.0, gt=0, le=1)


class QualifiedPartTimeParams(Params):
    min_experience_years: float = Field(2, ge=0)
    share: float = Field(1.0, gt=0, le=1)


class CoverageParams(Params):
    target_share: float = Field(1.0, gt=0, le=1)


def link(uid: str) -> str:
    return f"/staff/staffing/school/{uid}/"


def _rules(district_code: str, **overrides: dict[str, Any]) -> dict[str, Any]:
    """The district's `[staffing]` with the rule tables of `overrides` replaced (switched on)."""
    rules = copy.deepcopy(staffing.rules_for(district_code))
    for rule, table in overrides.items():
        rules[rule] = {**(rules.get(rule) or {}), **table, "enabled": True}
    return rules


def _has_register(units: Sequence[Any]) -> set[int]:
    """The districts (pks) of `units` with at least one active psych teacher in the register."""
    districts = {u.district_id for u in units}
    return set(
        StaffMember.objects.filter(district_id__in=districts, is_active=True)
        .exclude(post_type="")
        .values_list("district_id", flat=True)
        .distinct()
    )


def _load(units: Sequence[School]) -> tuple[LoadedFacts, set[int]]:
    loaded = staffing.load_facts(School.objects.filter(pk__in=[u.pk for u in units]))
    return loaded, _has_register(units)


def _no_register(facts: SchoolFacts) -> Finding:
    return Finding(
        verdict=Verdict.NO_DATA,
        measure=TEACHERS,
        note_zh="本区师资名册无心理教师记录",
        note_en="no psych teacher in the district's staff register",
        link=link(facts.uid),
    )


def _finding(result: RuleResult, facts: SchoolFacts, note_zh: str, note_en: str) -> Finding:
    people = [c.uid for c in result.people] + [c.uid for c in result.short]
    return Finding(
        verdict=VERDICTS[result.status],
        required=float(result.required),
        actual=float(result.actual),
        measure=TEACHERS,
        counted=tuple(people[:MAX_COUNTED]),
        note_zh=note_zh,
        note_en=note_en,
        link=link(facts.uid),
        parts=tuple(Part(p.unit, p.unit, VERDICTS[p.status], float(p.actual)) for p in result.parts),
    )


def _each(
    units: Sequence[School],
    rule: str,
    overrides: dict[str, dict[str, Any]],
    notes: Any,
    *,
    teachers_filter: Any = None,
    check: Any = None,
) -> dict[int, Finding]:
    loaded, registered = _load(units)
    rules_by_code: dict[str, dict[str, Any]] = {}
    out: dict[int, Finding] = {}
    for school, facts, teachers in loaded.schools:
        if school.district_id not in registered:
            out[school.pk] = _no_register(facts)
            continue
        rules = rules_by_code.get(facts.district_code)
        if rules is None:
            rules = rules_by_code[facts.district_code] = _rules(facts.district_code, **overrides)
        if teachers_filter is not None:
            teachers = [t for t in teachers if teachers_filter(t)]
        result = next(r for r in staffing.evaluate_school(facts, teachers, rules) if r.rule == rule)
        if check is not None:
            found = check(facts, result)
            if found is not None:
                out[school.pk] = found
                continue
        assert notes is not None  # a rule without notes is judged by its check
        zh, en = notes(facts, result)
        out[school.pk] = _finding(result, facts, zh, en)
    return out


@evaluator(
    "staff.ratio",
    area=Area.STAFFING,
    level=Level.SCHOOL,
    params=RatioParams,
    title=("心理教师师生比", "Psych teachers per students"),
)
def ratio(units: Sequence[School], params: RatioParams, ctx: Context) -> dict[int, Finding]:
    """At least one psych teacher per `students_per_teacher` students (RC 1:1000): required =
    ceil(students / n) (1,000 need one, 1,001 two); students = active on the roster (declared
    enrolment without a roster); part-time teachers count unless `count_part_time` is false;
    cluster posts weigh as the district's policy says. No student count: no data."""

    def no_students(facts: SchoolFacts, result: RuleResult) -> Finding | None:
        if facts.students == 0 and facts.students_source == "enrolment":
            return Finding(
                verdict=Verdict.NO_DATA,
                measure=TEACHERS,
                note_zh="无花名册且未申报在校生数",
                note_en="no roster and no declared enrolment",
                link=link(facts.uid),
            )
        return None

    def notes(facts: SchoolFacts, r: RuleResult) -> tuple[str, str]:
        source_zh = "在籍学生" if facts.students_source == "roster" else "申报在校生（无花名册）"
        source_en = (
            "active students" if facts.students_source == "roster" else "declared students (no roster)"
        )
        return (
            f"{source_zh}{facts.students}人，按1:{params.students_per_teacher}需心理教师{r.required:g}名，现有{r.actual:g}名",
            f"{facts.students:,} {source_en} need {r.required:g} psych teacher(s) at 1:{params.students_per_teacher:,}; "
            f"{r.actual:g} counted",
        )

    return _each(
        units,
        "ratio",
        {"ratio": {"students_per_teacher": params.students_per_teacher}},
        notes,
        teachers_filter=None if params.count_part_time else (lambda t: t.post_type != PostType.PART_TIME),
        check=no_students,
    )


@evaluator(
    "staff.full_time_per_school",
    area=Area.STAFFING,
    params=MinParams,
    title=("每校专职心理教师", "Full-time psych teachers per school"),
)
def full_time_per_school(units: Sequence[School], params: MinParams, ctx: Context) -> dict[int, Finding]:
    """At least `min` full-time psych teachers with a post at the school (XY 五.2, QX 5, SJS);
    cluster posts count only where the district's policy counts them as the school's."""

    def notes(facts: SchoolFacts, r: RuleResult) -> tuple[str, str]:
        return (
            f"专职心理教师{r.actual:g}名，要求至少{r.required:g}名",
            f"{r.actual:g} full-time psych teacher(s); at least {r.required:g} required",
        )

    return _each(units, "full_time_per_school", {"full_time_per_school": {"min": params.min}}, notes)


def _parts_notes(kind_zh: str, kind_en: str) -> Any:
    def notes(facts: SchoolFacts, r: RuleResult) -> tuple[str, str]:
        if r.status == Status.NOT_APPLICABLE:
            return "学校未设学段", "the school has no stage"
        short = [p.unit for p in r.parts if not p.met]
        zh = f"{len(r.parts)}个{kind_zh}中{len(r.parts) - len(short)}个达标"
        en = f"{len(r.parts) - len(short)} of {len(r.parts)} {kind_en} met"
        if short:
            zh += "；未达标：" + "、".join(short)
            en += "; short: " + ", ".join(short)
        return zh, en

    return notes


@evaluator(
    "staff.full_time_per_stage",
    area=Area.STAFFING,
    params=PerStageParams,
    title=("每学段专职心理教师", "Full-time psych teachers per stage"),
)
def full_time_per_stage(units: Sequence[School], params: PerStageParams, ctx: Context) -> dict[int, Finding]:
    """Each stage the school has (primary, junior, senior) has `min_per_stage` full-time psych
    teachers, each teacher counted for one stage only (CY 三.(四)); no stage: not applicable."""
    return _each(
        units,
        "full_time_per_stage",
        {"full_time_per_stage": {"min": params.min_per_stage}},
        _parts_notes("学段", "stages"),
    )


@evaluator(
    "staff.full_time_per_campus",
    area=Area.STAFFING,
    level=Level.CAMPUS,
    params=PerCampusParams,
    title=("每校区心理教师", "Psych teachers per campus"),
)
def full_time_per_campus(
    units: Sequence[School], params: PerCampusParams, ctx: Context
) -> dict[int, Finding]:
    """Each campus (a school without campus rows is one site) has `min_per_campus` full-time
    psych teachers (cluster posts as the district's policy counts them), each teacher counted
    for one campus only; with `full_time_only` false any psych teacher counts, full- or
    part-time, as the app's own rule does (SJS 一.(一)1: 确保每个校区至少有1名心理教师)."""
    return _each(
        units,
        "per_campus",
        {"per_campus": {"min": params.min_per_campus}},
        _parts_notes("校区", "campuses"),
        teachers_filter=(lambda t: t.post_type in FULL_TIME_POSTS) if params.full_time_only else None,
    )


@evaluator(
    "staff.large_school",
    area=Area.STAFFING,
    params=LargeSchoolParams,
    title=("规模较大学校增配心理教师", "More psych teachers in larger schools"),
)
def large_school(units: Sequence[School], params: LargeSchoolParams, ctx: Context) -> dict[int, Finding]:
    """A school of more than `above_students` students has at least 1 + `extra` psych teachers
    (full- or part-time, SJS 一.(一)1); at or under the size: not applicable."""

    def notes(facts: SchoolFacts, r: RuleResult) -> tuple[str, str]:
        if r.status == Status.NOT_APPLICABLE:
            return (
                f"学生{facts.students}人，未超过{params.above_students}人",
                f"{facts.students:,} students, not above {params.above_students:,}",
            )
        return (
            f"学生{facts.students}人（超过{params.above_students}人），心理教师{r.actual:g}名，要求至少{r.required:g}名",
            f"{facts.students:,} students (above {params.above_students:,}): {r.actual:g} psych teacher(s), "
            f"at least {r.required:g} required",
        )

    return _each(
        units,
        "large_school",
        {"large_school": {"above_students": params.above_students, "min_teachers": 1 + params.extra}},
        notes,
    )


def _share_check(share: float, kind_zh: str, kind_en: str) -> Any:
    """Qualification rules judged as a share of the teachers qualified (the app: all of them)."""

    def check(facts: SchoolFacts, r: RuleResult) -> Finding | None:
        if r.status == Status.NOT_APPLICABLE:
            return Finding(
                verdict=Verdict.NOT_APPLICABLE,
                measure="%",
                note_zh=f"无{kind_zh}",
                note_en=f"no {kind_en}",
                link=link(facts.uid),
            )
        total, ok = int(r.required), int(r.actual)
        met = Fraction(ok) >= Fraction(share).limit_denominator(10_000) * total
        reasons = sorted({reason for c in r.short for reason in c.reasons})
        zh = f"{total}名{kind_zh}中{ok}名符合资质"
        en = f"{ok} of {total} {kind_en} qualified"
        if reasons:
            zh += "（" + "、".join(staffing.REASON_LABELS[x][0] for x in reasons) + "）"
            en += " (" + ", ".join(staffing.REASON_LABELS[x][1] for x in reasons) + ")"
        people = [c.uid for c in r.people]
        return Finding(
            verdict=Verdict.MET if met else Verdict.MISSED,
            required=round(100 * share, 1),
            actual=round(100 * ok / total, 1),
            measure="% 教师 teachers",
            counted=tuple(people[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=link(facts.uid),
        )

    return check


@evaluator(
    "staff.qualified_full_time",
    area=Area.STAFFING,
    params=QualifiedFullTimeParams,
    title=("专职心理教师资质", "Full-time psych teachers qualified"),
)
def qualified_full_time(
    units: Sequence[School], params: QualifiedFullTimeParams, ctx: Context
) -> dict[int, Finding]:
    """Share of the school's full-time psych teachers with a relevant bachelor's degree or
    higher and pre-job training (RC 二.(一)3, XY 五.2; the district's `[staffing.
    full_time_qualification]` says which checks apply) ≥ `share`; no full-time teacher: not
    applicable."""
    return _each(
        units,
        "full_time_qualification",
        {},
        None,
        check=_share_check(params.share, "专职心理教师", "full-time psych teachers"),
    )


@evaluator(
    "staff.qualified_part_time",
    area=Area.STAFFING,
    params=QualifiedPartTimeParams,
    title=("兼职心理教师资质", "Part-time psych teachers qualified"),
)
def qualified_part_time(
    units: Sequence[School], params: QualifiedPartTimeParams, ctx: Context
) -> dict[int, Finding]:
    """Share of the school's part-time psych teachers with ≥ `min_experience_years` years of
    related experience and specialised training (RC 二.(一)3) ≥ `share`; none: not applicable."""
    return _each(
        units,
        "part_time_qualification",
        {"part_time_qualification": {"min_experience_years": params.min_experience_years}},
        None,
        check=_share_check(params.share, "兼职心理教师", "part-time psych teachers"),
    )


def _centres(loaded: LoadedFacts) -> dict[int, int]:
    """Cluster pk -> its centre school's pk (see the module's docstring). One query."""
    cluster_ids = list(loaded.clusters)
    posts: dict[int, int] = {}
    for p in loaded.cluster_post_rows:
        posts[p["school_id"]] = posts.get(p["school_id"], 0) + 1
    best: dict[int, tuple[int, str, int]] = {}
    for pk, code, cluster_id in School.objects.filter(cluster_id__in=cluster_ids).values_list(
        "pk", "code", "cluster_id"
    ):
        key = (-posts.get(pk, 0), code, pk)
        if cluster_id not in best or key < best[cluster_id]:
            best[cluster_id] = key
    return {cluster_id: key[2] for cluster_id, key in best.items()}


@evaluator(
    "staff.cluster_posts",
    area=Area.STAFFING,
    params=ClusterPostsParams,
    title=("片区专职心理教师岗位", "Full-time cluster posts"),
)
def cluster_posts(units: Sequence[School], params: ClusterPostsParams, ctx: Context) -> dict[int, Finding]:
    """The cluster has ≥ `min` full-time cluster posts (QX 2: 2–3 posts at the cluster's centre
    school; above `max` is met, with a note), judged at the cluster centre; other schools of the
    cluster and schools in no cluster: not applicable."""
    loaded, registered = _load(units)
    centres = _centres(loaded)
    out: dict[int, Finding] = {}
    rules_by_code: dict[str, dict[str, Any]] = {}
    for school, facts, _teachers in loaded.schools:
        if facts.cluster_id is None:
            out[school.pk] = Finding(
                verdict=Verdict.NOT_APPLICABLE,
                measure=TEACHERS,
                note_zh="学校不属于任何片区",
                note_en="the school is in no cluster",
                link=link(facts.uid),
            )
            continue
        if centres.get(facts.cluster_id) != school.pk:
            out[school.pk] = Finding(
                verdict=Verdict.NOT_APPLICABLE,
                measure=TEACHERS,
                note_zh=f"非{facts.cluster_name}中心学校（片区岗位在中心学校评价）",
                note_en=f"not the centre school of {facts.cluster_name} (judged at the centre)",
                link=link(facts.uid),
            )
            continue
        if school.district_id not in registered:
            out[school.pk] = _no_register(facts)
            continue
        rules = rules_by_code.get(facts.district_code)
        if rules is None:
            rules = rules_by_code[facts.district_code] = _rules(
                facts.district_code, cluster_posts={"min": params.min, "max": params.max}
            )
        cf, posts = loaded.clusters[facts.cluster_id]
        r = staffing.evaluate_cluster(cf, posts, rules)[0]
        zh = f"{cf.name}专职岗位{r.actual:g}个，要求{params.min}—{params.max}个"
        en = f"{cf.name}: {r.actual:g} full-time cluster post(s); {params.min}–{params.max} required"
        if r.actual > params.max:
            zh += f"（超过规划的{params.max}个）"
            en += f" (above the {params.max} planned)"
        out[school.pk] = _finding(r, facts, zh, en)
    return out


@evaluator(
    "staff.full_time_coverage",
    area=Area.STAFFING,
    level=Level.DISTRICT,
    params=CoverageParams,
    title=("配备专职心理教师的学校比例", "Schools with a full-time psych teacher"),
)
def full_time_coverage(units: Sequence[Any], params: CoverageParams, ctx: Context) -> dict[int, Finding]:
    """Share of the district's schools (every school on the roster) with at least one full-time
    psych teacher (as `staff.full_time_per_school` with min 1 counts them) ≥ `target_share`
    (RC "100 %"). No school, or no register in the district: no data."""
    out: dict[int, Finding] = {}
    for district in units:
        loaded = staffing.load_facts(School.objects.filter(district=district))
        measure, where = "% 学校 schools", "/staff/staffing/"
        if not loaded.schools or not _has_register([loaded.schools[0][0]]):
            out[district.pk] = Finding(
                verdict=Verdict.NO_DATA,
                measure=measure,
                note_zh="无学校或师资名册",
                note_en="no school or no staff register",
                link=where,
            )
            continue
        rules = _rules(district.code, full_time_per_school={"min": 1})
        meeting = []
        for school, facts, teachers in loaded.schools:
            r = next(
                r
                for r in staffing.evaluate_school(facts, teachers, rules)
                if r.rule == "full_time_per_school"
            )
            if r.met:
                meeting.append(str(school.uid))
        n, ok = len(loaded.schools), len(meeting)
        met = Fraction(ok) >= Fraction(params.target_share).limit_denominator(10_000) * n
        out[district.pk] = Finding(
            verdict=Verdict.MET if met else Verdict.MISSED,
            required=round(100 * params.target_share, 1),
            actual=round(100 * ok / n, 1),
            counted=tuple(meeting[:MAX_COUNTED]),
            note_zh=f"{n}所学校中{ok}所配备专职心理教师",
            note_en=f"{ok} of {n} schools have a full-time psych teacher",
            measure=measure,
            link=where,
        )
    return out
