"""Psych-teacher staffing against the rules, per school, campus and stage (SPEC §6; issue 12
item 2). The numbers and the switches are the district's `[staffing]` section
(policies/default.toml, each rule citing its seed); nothing here is a number of a rule.

Two layers:

- **The evaluation** (pure, no database): `evaluate_school(facts, teachers, rules)` returns
  one `RuleResult` per rule, in `RULES` order; `evaluate_cluster(facts, teachers, rules)` the
  cluster's (QX 2). The supervision issue (compliance engine) reads these: the rule ids, the
  `Status` values and the fields of `RuleResult` are a stable interface.
- **The selector** `staffing_for(user, schools=None)`: the schools in the user's register
  scope (`StaffPerm.VIEW_REGISTER`), their facts and teachers loaded in three queries, each
  evaluated under its district's policy file.

Counting choices (documented here and in default.toml):

- Students: the school's active students on the roster; the declared `School.enrolment` only
  when the school has no roster at all (no student row in any status); `SchoolFacts.
  students_source` says which.
- A teacher is the register entry (`StaffMember`, active, with a post type) with a `Post` at
  the school. A post without a campus or a stage may be counted for any one campus or stage of
  the school; each teacher is counted for ONE campus and ONE stage only (a maximum matching:
  CY asks for a teacher per stage, SJS for one per campus, so one person does not cover two).
- Cluster posts (`post_type = cluster`, QX 县管片用): the org model has no centre school, so a
  cluster's posts are the cluster posts serving any of its schools, evaluated once per cluster
  (`evaluate_cluster`), not as a school's miss. In a school's ratio a cluster post serving n
  schools weighs `cluster_post_ratio_weight` ("share": 1/n, "each": 1, "none": 0); in the
  people rules it counts only with `cluster_post_counts_as_school_staff = true`.
- Ratio (RC): required = ceil(students / students_per_teacher): 1,000 students need one
  teacher, 1,001 need two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from xinyu.kernel.policyfile import policy_for_code
from xinyu.org.models import Campus, School, Stage, Student, StudentStatus

from .access import StaffPerm, register_schools_for
from .models import Degree, Post, PostType

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from xinyu.org.models import User


class Status(StrEnum):
    MET = "met"
    MISSED = "missed"
    NOT_APPLICABLE = "na"


STATUS_LABELS = {
    Status.MET: ("达标", "met"),
    Status.MISSED: ("未达标", "missed"),
    Status.NOT_APPLICABLE: ("不适用", "not applicable"),
}

# The rule ids, in the order every result list follows (`cluster_posts` only for clusters).
SCHOOL_RULES = (
    "ratio",
    "full_time_per_school",
    "full_time_per_stage",
    "per_campus",
    "large_school",
    "full_time_qualification",
    "part_time_qualification",
)
CLUSTER_RULES = ("cluster_posts", "full_time_qualification")
RULES = (*SCHOOL_RULES, "cluster_posts")

CITATIONS = {
    "ratio": "RC 二.(一)3",
    "full_time_per_school": "XY 五.2; QX 5; SJS 一.(一)1",
    "full_time_per_stage": "CY 三.(四)",
    "per_campus": "SJS 一.(一)1",
    "large_school": "SJS 一.(一)1",
    "cluster_posts": "QX 2",
    "full_time_qualification": "RC 二.(一)3; XY 五.2",
    "part_time_qualification": "RC 二.(一)3",
}

DEGREE_ORDER = [Degree.BELOW, Degree.COLLEGE, Degree.BACHELOR, Degree.MASTER, Degree.DOCTOR]
RATIO_WEIGHTS = ("share", "each", "none")
STAGE_NAMES = {s.value: s for s in Stage}


# ---- the facts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampusFacts:
    id: int
    name: str
    is_main: bool = False


@dataclass(frozen=True, slots=True)
class SchoolFacts:
    id: int
    uid: str
    code: str
    name: str
    district_code: str
    students: int
    students_source: str = "roster"  # "roster" | "enrolment" (no roster at all)
    stages: tuple[str, ...] = ()  # Stage values the school has (has_primary/junior/senior)
    campuses: tuple[CampusFacts, ...] = ()
    cluster_id: int | None = None
    cluster_name: str = ""


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    id: int
    name: str
    district_code: str
    school_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Teacher:
    """A psych teacher as seen from one school (or one cluster): their register entry and
    what their posts there name (None / "" = a post naming no campus / no stage)."""

    uid: str
    name: str
    post_type: str  # PostType value
    degree: str = ""
    major_relevant: bool = False
    related_experience_years: Decimal | float | None = None
    pre_job_training: bool = False
    specialised_training: bool = False
    campus_ids: frozenset[int | None] = frozenset({None})
    stages: frozenset[str] = frozenset({""})
    schools_served: int = 1


@dataclass(frozen=True, slots=True)
class Counted:
    """A person counted by a rule (or not: `reasons` says why they fall short)."""

    uid: str
    name: str
    post_type: str
    weight: float = 1.0
    reasons: tuple[str, ...] = ()  # qualification shortfalls: "degree", "major", "pre_job_training", …


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome for one school (or cluster), or for one of its campuses or stages
    (`parts`). `required` and `actual` are numbers of teachers (the ratio's `actual` may be
    a fraction with shared cluster posts); `people` are those counted, `short` those who fall
    short of a qualification rule."""

    rule: str
    title_zh: str
    title_en: str
    citation: str
    status: Status
    required: float = 0
    actual: float = 0
    people: tuple[Counted, ...] = ()
    short: tuple[Counted, ...] = ()
    scope: str = "school"  # "school" | "campus" | "stage" | "cluster"
    unit: str = ""  # the campus's name, the stage's label, the cluster's name
    parts: tuple[RuleResult, ...] = ()
    note: str = ""

    @property
    def met(self) -> bool:
        return self.status == Status.MET

    @property
    def missed(self) -> bool:
        return self.status == Status.MISSED

    @property
    def status_zh(self) -> str:
        return STATUS_LABELS[self.status][0]

    @property
    def status_en(self) -> str:
        return STATUS_LABELS[self.status][1]


# ---- the rules ---------------------------------------------------------------------------


def rules_for(district_code: str) -> dict[str, Any]:
    """The district's `[staffing]` section (policies/<code>.toml over default.toml)."""
    return policy_for_code(district_code)["staffing"]


def _on(rules: dict[str, Any], rule: str) -> dict[str, Any] | None:
    table = rules.get(rule) or {}
    return table if table.get("enabled", True) else None


def _counts_here(teacher: Teacher, rules: dict[str, Any]) -> bool:
    """Whether the teacher counts as the school's own in the people rules."""
    if teacher.post_type == PostType.CLUSTER:
        return bool(rules.get("cluster_post_counts_as_school_staff", False))
    return teacher.post_type in (PostType.FULL_TIME, PostType.PART_TIME)


def _full_time(teacher: Teacher) -> bool:
    return teacher.post_type in (PostType.FULL_TIME, PostType.CLUSTER)


def _counted(t: Teacher, weight: float = 1.0, reasons: tuple[str, ...] = ()) -> Counted:
    return Counted(t.uid, t.name, t.post_type, weight, reasons)


def _result(rule: str, zh: str, en: str, status: Status, **kw: Any) -> RuleResult:
    return RuleResult(rule, zh, en, CITATIONS[rule], status, **kw)


OFF = "本区已关闭此规则 / switched off by the district's policy file"


def _students_note(facts: SchoolFacts) -> str:
    if facts.students_source == "roster":
        return f"花名册在籍学生{facts.students}人 / {facts.students} active students on the roster"
    return f"申报在校生{facts.students}人（无花名册）/ {facts.students} declared (no roster)"


def _na(rule: str, zh: str, en: str, note: str = "", **kw: Any) -> RuleResult:
    return _result(rule, zh, en, Status.NOT_APPLICABLE, note=note, **kw)


def _status(ok: bool) -> Status:
    return Status.MET if ok else Status.MISSED


def _match(units: Sequence[Any], eligible: dict[str, set[Any]], need: int) -> dict[Any, list[str]]:
    """Assign teachers (uid -> the units they may be counted for) to units, each teacher to
    one unit, up to `need` per unit, as many as possible (Kuhn's augmenting paths over
    `need` slots per unit); then the unassigned eligible teachers join a unit they may serve,
    so everyone is shown once. Returns unit -> teacher uids (the first `need` were matched)."""
    slots = [(u, i) for u in units for i in range(need)]
    owner: dict[tuple[Any, int], str] = {}

    def augment(uid: str, seen: set[tuple[Any, int]]) -> bool:
        for slot in slots:
            if slot[0] in eligible[uid] and slot not in seen:
                seen.add(slot)
                if slot not in owner or augment(owner[slot], seen):
                    owner[slot] = uid
                    return True
        return False

    for uid in eligible:
        augment(uid, set())
    out: dict[Any, list[str]] = {u: [] for u in units}
    for (unit, _i), uid in sorted(owner.items(), key=lambda kv: (units.index(kv[0][0]), kv[0][1])):
        out[unit].append(uid)
    assigned = set(owner.values())
    for uid, allowed in eligible.items():
        if uid not in assigned and allowed:
            out[next(u for u in units if u in allowed)].append(uid)
    return out


def _ratio(facts: SchoolFacts, teachers: Sequence[Teacher], rules: dict[str, Any]) -> RuleResult:
    rule = _on(rules, "ratio")
    per = int(rule["students_per_teacher"]) if rule else 0
    zh, en = f"师生比不低于1:{per}", f"At least one psych teacher per {per:,} students"
    if rule is None:
        return _na("ratio", "师生比", "Students per psych teacher", OFF)
    mode = rules.get("cluster_post_ratio_weight", "share")
    whole = 0  # full- and part-time posts count 1 each
    shared = Fraction(0)  # cluster posts, exact (1/3 + 1/3 + 1/3 is 1)
    people = []
    for t in teachers:
        if t.post_type != PostType.CLUSTER:
            whole += 1
            people.append(_counted(t))
            continue
        w = Fraction(1, max(t.schools_served, 1)) if mode == "share" else Fraction(int(mode == "each"))
        if w:
            shared += w
            people.append(_counted(t, float(w)))
    total = whole + shared
    required = math.ceil(facts.students / per) if per else 0
    return _result(
        "ratio",
        zh,
        en,
        _status(total >= required),
        required=required,
        actual=round(float(total), 2),
        people=tuple(people),
        note=_students_note(facts),
    )


def _full_time_per_school(teachers: Sequence[Teacher], rules: dict[str, Any]) -> RuleResult:
    rule = _on(rules, "full_time_per_school")
    if rule is None:
        return _na("full_time_per_school", "每校专职心理教师", "Full-time psych teachers per school", OFF)
    need = int(rule["min"])
    people = tuple(_counted(t) for t in teachers if _full_time(t) and _counts_here(t, rules))
    return _result(
        "full_time_per_school",
        f"每校至少{need}名专职心理教师",
        f"At least {need} full-time psych teacher(s) per school",
        _status(len(people) >= need),
        required=need,
        actual=len(people),
        people=people,
    )


def _per_units(
    rule_id: str,
    zh: str,
    en: str,
    scope: str,
    units: Sequence[tuple[Any, str]],  # (key, label)
    eligible: dict[str, set[Any]],
    need: int,
    by_uid: dict[str, Teacher],
) -> RuleResult:
    keys = [k for k, _label in units]
    assigned = _match(keys, eligible, need)
    parts = []
    for key, label in units:
        uids = assigned[key]  # the matched ones first; extras only join a unit already full
        parts.append(
            _result(
                rule_id,
                zh,
                en,
                _status(len(uids) >= need),
                required=need,
                actual=len(uids),
                people=tuple(_counted(by_uid[uid]) for uid in uids),
                scope=scope,
                unit=label,
            )
        )
    matched_total = sum(min(len(assigned[k]), need) for k in keys)
    return _result(
        rule_id,
        zh,
        en,
        _status(all(p.met for p in parts)),
        required=need * len(units),
        actual=matched_total,
        people=tuple(c for p in parts for c in p.people),
        parts=tuple(parts),
    )


def _per_stage(facts: SchoolFacts, teachers: Sequence[Teacher], rules: dict[str, Any]) -> RuleResult:
    rule = _on(rules, "full_time_per_stage")
    if rule is None:
        return _na("full_time_per_stage", "每学段专职心理教师", "Full-time psych teachers per stage", OFF)
    need = int(rule["min"])
    zh, en = f"每个学段至少{need}名专职心理教师", f"At least {need} full-time psych teacher(s) per stage"
    if not facts.stages:
        return _na("full_time_per_stage", zh, en, "学校未设学段 / the school has no stage")
    stages = set(facts.stages)
    eligible = {}
    for t in teachers:
        if _full_time(t) and _counts_here(t, rules):
            eligible[t.uid] = stages if "" in t.stages else (set(t.stages) & stages)
    units = [(s, str(STAGE_NAMES[s].label) if s in STAGE_NAMES else s) for s in facts.stages]
    return _per_units(
        "full_time_per_stage", zh, en, "stage", units, eligible, need, {t.uid: t for t in teachers}
    )


def _per_campus(facts: SchoolFacts, teachers: Sequence[Teacher], rules: dict[str, Any]) -> RuleResult:
    rule = _on(rules, "per_campus")
    if rule is None:
        return _na("per_campus", "每校区心理教师", "Psych teachers per campus", OFF)
    need = int(rule["min"])
    zh, en = f"每个校区至少{need}名心理教师", f"At least {need} psych teacher(s) on each campus"
    # A school without campus rows is one site: the school itself.
    units: list[tuple[Any, str]] = [(c.id, c.name) for c in facts.campuses] or [(None, facts.name)]
    keys = {k for k, _l in units}
    eligible = {}
    for t in teachers:
        if _counts_here(t, rules):
            eligible[t.uid] = keys if None in t.campus_ids else (set(t.campus_ids) & keys)
    return _per_units("per_campus", zh, en, "campus", units, eligible, need, {t.uid: t for t in teachers})


def _large_school(facts: SchoolFacts, teachers: Sequence[Teacher], rules: dict[str, Any]) -> RuleResult:
    rule = _on(rules, "large_school")
    if rule is None:
        return _na("large_school", "规模较大学校增配", "More psych teachers in larger schools", OFF)
    above, need = int(rule["above_students"]), int(rule["min_teachers"])
    zh = f"学生{above}人以上的学校至少{need}名心理教师"
    en = f"Schools of more than {above} students: at least {need} psych teachers"
    if facts.students <= above:
        return _na("large_school", zh, en, _students_note(facts))
    people = tuple(_counted(t) for t in teachers if _counts_here(t, rules))
    return _result(
        "large_school",
        zh,
        en,
        _status(len(people) >= need),
        required=need,
        actual=len(people),
        people=people,
        note=_students_note(facts),
    )


def full_time_shortfalls(t: Teacher, rule: dict[str, Any]) -> tuple[str, ...]:
    """Why a full-time teacher falls short of the qualification rule (empty: qualified)."""
    reasons = []
    floor = DEGREE_ORDER.index(Degree(rule.get("min_degree", "bachelor")))
    if t.degree not in DEGREE_ORDER or DEGREE_ORDER.index(Degree(t.degree)) < floor:
        reasons.append("degree")
    if rule.get("relevant_major", True) and not t.major_relevant:
        reasons.append("major")
    if rule.get("pre_job_training", True) and not t.pre_job_training:
        reasons.append("pre_job_training")
    return tuple(reasons)


def part_time_shortfalls(t: Teacher, rule: dict[str, Any]) -> tuple[str, ...]:
    """Why a part-time teacher falls short of the qualification rule (empty: qualified)."""
    reasons = []
    years = Decimal(str(t.related_experience_years or 0))
    if years < Decimal(str(rule.get("min_experience_years", 2))):
        reasons.append("experience")
    if rule.get("specialised_training", True) and not t.specialised_training:
        reasons.append("specialised_training")
    return tuple(reasons)


REASON_LABELS = {
    "degree": ("学历或专业未达本科", "degree below the minimum"),
    "major": ("非相关专业", "major not relevant"),
    "pre_job_training": ("未经岗前培训", "no pre-job training"),
    "experience": ("相关工作经历不足", "too little related experience"),
    "specialised_training": ("未完成专门培训", "no specialised training"),
}


def _qualification(
    rule_id: str, teachers: Sequence[Teacher], rules: dict[str, Any], *, scope: str = "school", unit: str = ""
) -> RuleResult:
    full = rule_id == "full_time_qualification"
    rule = _on(rules, rule_id)
    if full:
        zh, en = (
            "专职教师资质（相关专业本科及以上、岗前培训）",
            "Full-time: relevant bachelor's or higher, pre-job training",
        )
    else:
        years = (rule or {}).get("min_experience_years", 2)
        zh = f"兼职教师资质（{years}年以上相关经历、专门培训）"
        en = f"Part-time: {years}+ years' related experience, specialised training"
    if rule is None:
        return _na(rule_id, zh, en, OFF, scope=scope, unit=unit)
    if full:
        subject = [t for t in teachers if _full_time(t)]
        check = full_time_shortfalls
    else:
        subject = [t for t in teachers if t.post_type == PostType.PART_TIME]
        check = part_time_shortfalls
    if not subject:
        return _na(rule_id, zh, en, "无此类教师 / no such teacher", scope=scope, unit=unit)
    people: list[Counted] = []
    short: list[Counted] = []
    for t in subject:
        reasons = check(t, rule)
        (short if reasons else people).append(_counted(t, reasons=reasons))
    return _result(
        rule_id,
        zh,
        en,
        _status(not short),
        required=len(subject),
        actual=len(people),
        people=tuple(people),
        short=tuple(short),
        scope=scope,
        unit=unit,
    )


def evaluate_school(
    facts: SchoolFacts, teachers: Sequence[Teacher], rules: dict[str, Any]
) -> list[RuleResult]:
    """The school's result for each rule of `SCHOOL_RULES`, in that order.

    `teachers`: the psych teachers with a post at this school (any post type; cluster posts
    weigh and count as `rules` says). `rules`: the district's `[staffing]` section
    (`rules_for(code)`). A rule switched off (`enabled = false`) answers not applicable."""
    teachers = list(teachers)
    own = [t for t in teachers if t.post_type != PostType.CLUSTER or _counts_here(t, rules)]
    return [
        _ratio(facts, teachers, rules),
        _full_time_per_school(teachers, rules),
        _per_stage(facts, teachers, rules),
        _per_campus(facts, teachers, rules),
        _large_school(facts, teachers, rules),
        _qualification("full_time_qualification", own, rules),
        _qualification("part_time_qualification", own, rules),
    ]


def evaluate_cluster(
    facts: ClusterFacts, teachers: Sequence[Teacher], rules: dict[str, Any]
) -> list[RuleResult]:
    """The cluster's results (QX 2): its cluster posts (those serving any of its schools)
    against `[staffing.cluster_posts]` min–max, and their full-time qualifications."""
    posts = [t for t in teachers if t.post_type == PostType.CLUSTER]
    rule = _on(rules, "cluster_posts")
    low, high = (int(rule["min"]), int(rule["max"])) if rule else (0, 0)
    zh, en = f"片区专职岗位{low}—{high}个", f"{low}–{high} full-time cluster posts per cluster"
    if rule is None:
        first = _na(
            "cluster_posts",
            "片区专职岗位",
            "Full-time cluster posts",
            OFF,
            scope="cluster",
            unit=facts.name,
        )
    else:
        first = _result(
            "cluster_posts",
            zh,
            en,
            _status(len(posts) >= low),
            required=low,
            actual=len(posts),
            people=tuple(_counted(t) for t in posts),
            scope="cluster",
            unit=facts.name,
            note=f"超过规划的{high}个 / above the {high} planned" if len(posts) > high else "",
        )
    return [first, _qualification("full_time_qualification", posts, rules, scope="cluster", unit=facts.name)]


# ---- the selector ------------------------------------------------------------------------


@dataclass
class SchoolStaffing:
    facts: SchoolFacts
    results: list[RuleResult]
    school: School | None = None
    cluster: ClusterStaffing | None = None

    @property
    def missed(self) -> list[RuleResult]:
        return [r for r in self.results if r.missed]

    @property
    def missed_count(self) -> int:
        return len(self.missed)

    def result(self, rule: str) -> RuleResult | None:
        return next((r for r in self.results if r.rule == rule), None)

    @property
    def campus_parts(self) -> tuple[RuleResult, ...]:
        r = self.result("per_campus")
        return r.parts if r else ()

    @property
    def stage_parts(self) -> tuple[RuleResult, ...]:
        r = self.result("full_time_per_stage")
        return r.parts if r else ()


@dataclass
class ClusterStaffing:
    facts: ClusterFacts
    results: list[RuleResult]

    @property
    def missed_count(self) -> int:
        return sum(1 for r in self.results if r.missed)


@dataclass
class StaffingReport:
    schools: list[SchoolStaffing] = field(default_factory=list)
    clusters: list[ClusterStaffing] = field(default_factory=list)

    @property
    def missing(self) -> list[SchoolStaffing]:
        return [s for s in self.schools if s.missed_count]


def _teacher(row: dict[str, Any], campus_ids: set[int | None], stages: set[str]) -> Teacher:
    return Teacher(
        uid=str(row["member__uid"]),
        name=row["member__name"],
        post_type=row["member__post_type"],
        degree=row["member__degree"],
        major_relevant=row["member__major_relevant"],
        related_experience_years=row["member__related_experience_years"],
        pre_job_training=row["member__pre_job_training"],
        specialised_training=row["member__specialised_training"],
        campus_ids=frozenset(campus_ids),
        stages=frozenset(stages),
        schools_served=row["served"] or 1,
    )


def _teachers(rows: Iterable[dict[str, Any]]) -> list[Teacher]:
    """One Teacher per member out of their post rows (already one school's or cluster's)."""
    grouped: dict[int, tuple[dict[str, Any], set[int | None], set[str]]] = {}
    for row in rows:
        first, campuses, stages = grouped.setdefault(row["member_id"], (row, set(), set()))
        campuses.add(row["campus_id"])
        stages.add(row["stage"] or "")
    out = [_teacher(first, campuses, stages) for first, campuses, stages in grouped.values()]
    return sorted(out, key=lambda t: (t.name, t.uid))


def staffing_for(user: User | AnonymousUser, schools: Iterable[School] | None = None) -> StaffingReport:
    """Every school of the user's register scope (or those of `schools` in scope), evaluated
    under its district's rules, with the clusters of those schools (QX 2). Worst first is
    the caller's sort; the schools come in code order.

    Three queries whatever the number of schools: the schools with their student counts
    (active on the roster, and whether there is a roster), their campuses, and the posts of
    the teachers serving them (the schools' own and the cluster posts of their clusters,
    each with the number of schools it serves)."""
    qs = register_schools_for(user, StaffPerm.VIEW_REGISTER)
    if schools is not None:
        qs = qs.filter(pk__in=[s.pk for s in schools])
    loaded = load_facts(qs)
    report = StaffingReport()
    clusters: dict[int, ClusterStaffing] = {}
    for cluster_id, (cf, teachers) in loaded.clusters.items():
        clusters[cluster_id] = ClusterStaffing(
            cf, evaluate_cluster(cf, teachers, rules_for(cf.district_code))
        )
    for s, facts, teachers in loaded.schools:
        report.schools.append(
            SchoolStaffing(
                facts,
                evaluate_school(facts, teachers, rules_for(facts.district_code)),
                school=s,
                cluster=clusters.get(s.cluster_id) if s.cluster_id else None,
            )
        )
    report.clusters = sorted(clusters.values(), key=lambda c: c.facts.name)
    return report


@dataclass
class LoadedFacts:
    """What the rules read, not yet evaluated: per school (code order) its facts and the
    teachers with a post there; per cluster of those schools its facts and its cluster posts
    (the clusters in the order their first school comes)."""

    schools: list[tuple[School, SchoolFacts, list[Teacher]]] = field(default_factory=list)
    clusters: dict[int, tuple[ClusterFacts, list[Teacher]]] = field(default_factory=dict)
    cluster_post_rows: list[dict[str, Any]] = field(default_factory=list)  # one per cluster post and school


def load_facts(qs: QuerySet[School]) -> LoadedFacts:
    """The facts and teachers of the schools of `qs` (no access check: the caller scoped
    `qs`), in three queries whatever their number (see `staffing_for`). Read-only."""
    active = (
        Student.objects.filter(school_id=OuterRef("pk"), status=StudentStatus.ACTIVE)
        .order_by()
        .values("school_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    any_student = Student.objects.filter(school_id=OuterRef("pk")).order_by().values("pk")[:1]
    rows = list(
        qs.select_related("district", "cluster")
        .annotate(
            active_students=Coalesce(Subquery(active, output_field=IntegerField()), Value(0)),
            roster_row=Subquery(any_student),
        )
        .order_by("code")
    )
    if not rows:
        return LoadedFacts()
    ids = [s.pk for s in rows]
    campuses: dict[int, list[CampusFacts]] = {}
    for c in Campus.objects.filter(school_id__in=ids).order_by("school_id", "-is_main", "name"):
        campuses.setdefault(c.school_id, []).append(CampusFacts(c.pk, c.name, c.is_main))
    cluster_ids = {s.cluster_id for s in rows if s.cluster_id}
    served = (
        Post.objects.filter(member_id=OuterRef("member_id"))
        .order_by()
        .values("member_id")
        .annotate(n=Count("school_id", distinct=True))
        .values("n")
    )
    where = Q(school_id__in=ids)
    if cluster_ids:
        where |= Q(school__cluster_id__in=cluster_ids, member__post_type=PostType.CLUSTER)
    posts = cast(
        list[dict[str, Any]],
        list(
            Post.objects.filter(where, member__is_active=True)
            .exclude(member__post_type="")
            .annotate(served=Subquery(served, output_field=IntegerField()))
            .values(
                "member_id",
                "school_id",
                "school__cluster_id",
                "campus_id",
                "stage",
                "served",
                "member__uid",
                "member__name",
                "member__post_type",
                "member__degree",
                "member__major_relevant",
                "member__related_experience_years",
                "member__pre_job_training",
                "member__specialised_training",
            )
            .order_by("member__name", "member_id", "school_id")
        ),
    )
    by_school: dict[int, list[dict[str, Any]]] = {}
    by_cluster: dict[int, list[dict[str, Any]]] = {}
    for p in posts:
        by_school.setdefault(p["school_id"], []).append(p)
        if p["member__post_type"] == PostType.CLUSTER and p["school__cluster_id"]:
            by_cluster.setdefault(p["school__cluster_id"], []).append(p)

    out = LoadedFacts(cluster_post_rows=[p for rows_ in by_cluster.values() for p in rows_])
    for s in rows:
        if s.cluster_id and s.cluster_id not in out.clusters:
            assert s.cluster is not None
            cf = ClusterFacts(
                s.cluster_id,
                s.cluster.name,
                s.district.code,
                tuple(r.pk for r in rows if r.cluster_id == s.cluster_id),
            )
            out.clusters[s.cluster_id] = (cf, _teachers(by_cluster.get(s.cluster_id, [])))
    for s in rows:
        has_roster = s.roster_row is not None  # type: ignore[attr-defined]
        facts = SchoolFacts(
            id=s.pk,
            uid=str(s.uid),
            code=s.code,
            name=s.name,
            district_code=s.district.code,
            students=s.active_students if has_roster else s.enrolment,  # type: ignore[attr-defined]
            students_source="roster" if has_roster else "enrolment",
            stages=tuple(str(st) for st in s.stages),
            campuses=tuple(campuses.get(s.pk, [])),
            cluster_id=s.cluster_id,
            cluster_name=s.cluster.name if s.cluster else "",
        )
        out.schools.append((s, facts, _teachers(by_school.get(s.pk, []))))
    return out


def worst_first(schools: Iterable[SchoolStaffing]) -> list[SchoolStaffing]:
    """Most rules missed first, then the larger ratio shortfall, then the school code."""

    def shortfall(s: SchoolStaffing) -> float:
        r = s.result("ratio")
        return (r.required - r.actual) if r and r.missed else 0

    return sorted(schools, key=lambda s: (-s.missed_count, -shortfall(s), s.facts.code))
