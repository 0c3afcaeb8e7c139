"""Reads of compliance results, each taking what the caller fetched through `access` first.

- `latest_run(district)`.
- `scorecard(school, run)`: every rule with its result, grouped by area, missed first, with
  the trend over the last runs (one query for the trend, whatever the number of rules).
- `dashboard(district, run)`: per rule the share of schools meeting it, "27 of 30 (90 %)",
  the denominator every school the rule applies to (the roster), waived schools apart;
  per school its counts, worst first; per cluster the same.
- `compare(a, b)`: the results whose verdict changed between two runs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from xinyu.kernel.compliance import AREA_LABELS, Area, Level, evaluators
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import District, School

from . import profiles
from .models import Result, Run

TREND_RUNS = 6
SHOWN = ("missed", "no_data", "pending", "waived", "met", "na")  # the scorecard's order: what to fix first


def latest_run(district: District) -> Run | None:
    return Run.objects.filter(district=district).order_by("-started_at", "-id").first()


def rules_by_id(district: District) -> dict[str, Any]:
    return {r.id: r for r in profiles.profile_for(district.code).profile.rules}


def area_of(rule: Any) -> str:
    if getattr(rule, "area", None):
        return str(rule.area)
    if rule.evaluator in evaluators:
        return str(evaluators.get(rule.evaluator).area)
    return str(Area.ACTIVITIES)


@dataclass
class CardRow:
    rule: Any
    result: Result
    trend: list[str] = field(default_factory=list)  # oldest → newest shown verdicts

    @property
    def shown(self) -> str:
        return self.result.shown


@dataclass
class CardArea:
    area: str
    label: tuple[str, str]
    rows: list[CardRow]

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.shown for r in self.rows)


def scorecard(school: School, run: Run) -> list[CardArea]:
    rules = rules_by_id(school.district)
    results = list(Result.objects.filter(run=run, school=school).select_related("waiver"))
    earlier = list(
        Run.objects.filter(district=school.district, started_at__lte=run.started_at)
        .order_by("-started_at", "-id")
        .values_list("pk", flat=True)[:TREND_RUNS]
    )[::-1]
    trend: dict[str, dict[int, str]] = defaultdict(dict)
    for run_id, rule_id, verdict, waiver_id in Result.objects.filter(
        run_id__in=earlier, school=school
    ).values_list("run_id", "rule_id", "verdict", "waiver_id"):
        trend[rule_id][run_id] = "waived" if waiver_id else verdict
    areas: dict[str, list[CardRow]] = defaultdict(list)
    for r in results:
        rule = rules.get(r.rule_id)
        if rule is None:  # a rule dropped from the profile since the run
            continue
        areas[area_of(rule)].append(CardRow(rule, r, [trend[r.rule_id].get(pk, "") for pk in earlier]))
    out = []
    for area in [a.value for a in Area]:
        if area in areas:
            rows = sorted(areas[area], key=lambda c: (SHOWN.index(c.shown), c.rule.id))
            out.append(CardArea(area, AREA_LABELS[Area(area)], rows))
    return out


@dataclass
class RuleShare:
    rule: Any
    applicable: int  # schools the rule applies to (the roster), waived included
    met: int
    missed: int
    no_data: int
    waived: int
    pending: int = 0  # a period not over, still short (never met, never missed)
    district_result: Result | None = None  # for district rules
    units_met: int = 0  # CAMPUS / CLASS rules: the campuses or classes meeting it (waived schools left out)
    units_judged: int = 0

    @property
    def per_unit(self) -> bool:
        return self.rule.level in (Level.CAMPUS, Level.CLASS)

    @property
    def denominator(self) -> int:
        return self.applicable - self.waived

    @property
    def percent(self) -> int | None:
        return round(100 * self.met / self.denominator) if self.denominator else None


@dataclass
class SchoolLine:
    school: School
    met: int = 0
    missed: int = 0
    no_data: int = 0
    waived: int = 0
    pending: int = 0

    @property
    def judged(self) -> int:
        return self.met + self.missed + self.no_data + self.pending

    @property
    def percent(self) -> int | None:
        return round(100 * self.met / self.judged) if self.judged else None


@dataclass
class Dashboard:
    run: Run
    rules: list[RuleShare]
    schools: list[SchoolLine]  # worst first
    clusters: list[tuple[str, SchoolLine]]


def _add(line: SchoolLine, shown: str) -> None:
    if shown == Verdict.MET:
        line.met += 1
    elif shown == Verdict.MISSED:
        line.missed += 1
    elif shown == Verdict.NO_DATA:
        line.no_data += 1
    elif shown == Verdict.PENDING:
        line.pending += 1
    elif shown == "waived":
        line.waived += 1


def dashboard(district: District, run: Run, *, cluster_id: int | None = None) -> Dashboard:
    """The district's view of one run (or of one cluster's schools)."""
    rules = rules_by_id(district)
    schools_qs = School.objects.filter(district=district).select_related("cluster").order_by("code")
    if cluster_id is not None:
        schools_qs = schools_qs.filter(cluster_id=cluster_id)
    schools = {s.pk: s for s in schools_qs}
    lines = {pk: SchoolLine(s) for pk, s in schools.items()}
    shares: dict[str, RuleShare] = {}
    for rule_id, school_id, verdict, waiver_id in Result.objects.filter(run=run).values_list(
        "rule_id", "school_id", "verdict", "waiver_id"
    ):
        rule = rules.get(rule_id)
        if rule is None or (school_id is not None and school_id not in schools):
            continue
        share = shares.setdefault(rule_id, RuleShare(rule, 0, 0, 0, 0, 0))
        if school_id is None:
            continue
        shown = "waived" if waiver_id else verdict
        if shown == Verdict.NOT_APPLICABLE:
            continue
        share.applicable += 1
        if shown == Verdict.MET:
            share.met += 1
        elif shown == Verdict.MISSED:
            share.missed += 1
        elif shown == Verdict.NO_DATA:
            share.no_data += 1
        elif shown == Verdict.PENDING:
            share.pending += 1
        else:
            share.waived += 1
        _add(lines[school_id], shown)
    for r in Result.objects.filter(run=run, school__isnull=True):
        if r.rule_id in shares:
            shares[r.rule_id].district_result = r
    per_unit = [rid for rid, share in shares.items() if share.per_unit]
    if per_unit:  # the classes / campuses of the schools in scope, from the results' parts
        for rule_id, parts in Result.objects.filter(
            run=run, rule_id__in=per_unit, school_id__in=list(schools), waiver__isnull=True
        ).values_list("rule_id", "parts"):
            share = shares[rule_id]
            share.units_judged += len(parts)
            share.units_met += sum(1 for p in parts if p[2] == Verdict.MET)
    ordered = [shares[rid] for rid in rules if rid in shares]
    worst = sorted(lines.values(), key=lambda x: (x.percent if x.percent is not None else 101, x.school.code))
    by_cluster: dict[str, SchoolLine] = {}
    for line in lines.values():
        name = line.school.cluster.name if line.school.cluster is not None else "—"
        agg = by_cluster.setdefault(name, SchoolLine(line.school))
        agg.met += line.met
        agg.missed += line.missed
        agg.no_data += line.no_data
        agg.pending += line.pending
        agg.waived += line.waived
    return Dashboard(run, ordered, worst, sorted(by_cluster.items()))


@dataclass(frozen=True)
class Change:
    rule_id: str
    school: School | None
    before: str
    after: str


def compare(older: Run, newer: Run) -> list[Change]:
    """Results whose shown verdict differs between two runs of a district (a result present in
    one run only is a change from or to "")."""

    def shown(run: Run) -> dict[tuple[str, int | None], str]:
        return {
            (rule_id, school_id): ("waived" if waiver_id else verdict)
            for rule_id, school_id, verdict, waiver_id in Result.objects.filter(run=run).values_list(
                "rule_id", "school_id", "verdict", "waiver_id"
            )
        }

    a, b = shown(older), shown(newer)
    schools = {s.pk: s for s in School.objects.filter(district=newer.district)}
    out = [
        Change(rule_id, schools.get(school_id) if school_id else None, a.get(key, ""), b.get(key, ""))
        for key in sorted(set(a) | set(b), key=lambda k: (k[0], k[1] or 0))
        for rule_id, school_id in [key]
        if a.get(key, "") != b.get(key, "")
    ]
    return out


# ---- compliance-runs ----

import datetime as dt  # noqa: E402
from collections.abc import Sequence  # noqa: E402


def run_counts(run_ids: Sequence[int]) -> dict[int, Counter[str]]:
    """Per run, its results counted by shown verdict ("waived" apart), in one query."""
    from django.db.models import Count, Q

    out: dict[int, Counter[str]] = {pk: Counter() for pk in run_ids}
    rows = (
        Result.objects.filter(run_id__in=list(run_ids))
        .values("run_id", "verdict")
        .annotate(n=Count("id"), n_waived=Count("id", filter=Q(waiver__isnull=False)))
    )
    for row in rows:
        counts = out[row["run_id"]]
        counts[row["verdict"]] += row["n"] - row["n_waived"]
        counts["waived"] += row["n_waived"]
    return out


def recent_run(district: District, cutoff: dt.date, *, seconds: int = 60) -> Run | None:
    """The district's last run of this cut-off if it started less than `seconds` ago (a
    double-submitted "start a run" answers with it instead of running again)."""
    from django.utils import timezone

    last = Run.objects.filter(district=district).order_by("-started_at", "-id").first()
    if last is None or last.cutoff != cutoff:
        return None
    return last if timezone.now() - last.started_at < dt.timedelta(seconds=seconds) else None


def school_results(run: Run | None, school: School) -> dict[str, Result]:
    """The school's results of a run, by rule id (none without a run)."""
    if run is None:
        return {}
    return {r.rule_id: r for r in Result.objects.filter(run=run, school=school).select_related("waiver")}


# ---- compliance-ui ----
# The dashboard's charts and coverage tables, the waiver list: reads over what `dashboard` and
# the run's results already hold (a fixed number of queries whatever the number of schools).


@dataclass
class AreaCount:
    area: str
    label: tuple[str, str]
    met: int = 0
    missed: int = 0
    no_data: int = 0
    waived: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.met + self.missed + self.no_data + self.pending + self.waived


def area_counts(dash: Dashboard) -> list[AreaCount]:
    """The school verdicts of the run summed per area (the stacked chart), from the rules' shares."""
    out: dict[str, AreaCount] = {}
    for share in dash.rules:
        if share.district_result is not None and not share.applicable:
            continue
        area = area_of(share.rule)
        row = out.setdefault(area, AreaCount(area, AREA_LABELS[Area(area)]))
        row.met += share.met
        row.missed += share.missed
        row.no_data += share.no_data
        row.pending += share.pending
        row.waived += share.waived
    return [out[a.value] for a in Area if a.value in out]


@dataclass
class CoverageLine:
    label: str
    schools: int  # on the roster, in this group
    meeting: int | None  # None: not known (the district's list of ids was cut)
    target: float | None  # percent

    @property
    def percent(self) -> int | None:
        if self.meeting is None or not self.schools:
            return None
        return round(100 * self.meeting / self.schools)

    @property
    def on_target(self) -> bool | None:
        if self.percent is None or self.target is None:
            return None
        return self.meeting is not None and 100 * self.meeting >= self.target * self.schools


@dataclass
class Coverage:
    key: str  # "rooms" | "full_time"
    title: tuple[str, str]
    source: str  # the rule ids read
    by_category: list[CoverageLine]
    by_cluster: list[CoverageLine]


COVERAGE = {
    # key: (district evaluator, school evaluator, title)
    "rooms": ("rooms.coverage", "rooms.configuration", ("心理辅导室达标覆盖", "Compliant counselling rooms")),
    "full_time": (
        "staff.full_time_coverage",
        "staff.full_time_per_school",
        ("专职心理教师覆盖", "Schools with a full-time psych teacher"),
    ),
}
CATEGORY_LABELS = {"urban": "城区 urban", "town": "乡镇 town", "rural": "农村 rural"}


def _snapshot_params(run: Run, rule_id: str) -> dict[str, Any]:
    entry = run.params.get(rule_id) or {}
    return dict(entry.get("params") or {})


def coverage(district: District, run: Run, *, cluster_id: int | None = None) -> list[Coverage]:
    """Compliant rooms and full-time psych teachers by school category and by cluster against
    the targets, from the run's results: the school rule (`rooms.configuration` at the level the
    coverage target names, `staff.full_time_per_school`) where the profile has one, else the
    ids the district rule counted (unknown when they were cut at MAX_COUNTED). Two queries."""
    rules = rules_by_id(district)
    schools_qs = School.objects.filter(district=district).select_related("cluster").order_by("code")
    if cluster_id is not None:
        schools_qs = schools_qs.filter(cluster_id=cluster_id)
    schools = list(schools_qs)
    wanted: dict[str, tuple[list[str], list[str]]] = {}
    for key, (district_ev, school_ev, _title) in COVERAGE.items():
        targets = [rid for rid, r in rules.items() if r.evaluator == district_ev and rid in run.params]
        level = _snapshot_params(run, targets[0]).get("level") if targets else None
        school_rules = [
            rid
            for rid, r in rules.items()
            if r.evaluator == school_ev
            and rid in run.params
            and (level is None or _snapshot_params(run, rid).get("level", level) == level)
        ]
        if targets or school_rules:
            wanted[key] = (targets, school_rules[:1])
    if not wanted:
        return []
    ids = {rid for t, s in wanted.values() for rid in (*t, *s)}
    met_by_rule: dict[str, set[int]] = defaultdict(set)
    judged: dict[str, set[int]] = defaultdict(set)
    district_rows: dict[str, Result] = {}
    for r in Result.objects.filter(run=run, rule_id__in=ids).only(
        "rule_id", "school_id", "verdict", "counted", "actual"
    ):
        if r.school_id is None:
            district_rows[r.rule_id] = r
        else:
            judged[r.rule_id].add(r.school_id)
            if r.verdict == Verdict.MET:
                met_by_rule[r.rule_id].add(r.school_id)
    by_uid = {str(s.uid): s.pk for s in School.objects.filter(district=district).only("uid")}
    out = []
    for key, (targets, school_rules) in wanted.items():
        meeting: set[int] | None
        if school_rules:
            meeting = met_by_rule[school_rules[0]]
            source = school_rules[0]
        else:
            row = district_rows.get(targets[0]) if targets else None
            counted = list(row.counted) if row is not None else []
            total = len(by_uid)
            known = (
                row is not None and row.actual is not None and len(counted) >= round(row.actual * total / 100)
            )
            meeting = {by_uid[u] for u in counted if u in by_uid} if known else None
            source = targets[0] if targets else ""
        # targets per category: a rule naming categories covers those; one without covers all
        per_category: dict[str, float] = {}
        overall: float | None = None
        for rid in targets:
            p = _snapshot_params(run, rid)
            share = p.get("target_share")
            if share is None:
                continue
            named = p.get("categories") or []
            for c in named:
                per_category[c] = 100 * float(share)
            if not named:
                overall = 100 * float(share)

        def line(
            label: str, group: list[School], target: float | None, m: set[int] | None = meeting
        ) -> CoverageLine:
            return CoverageLine(
                label, len(group), None if m is None else sum(s.pk in m for s in group), target
            )

        cats: dict[str, list[School]] = defaultdict(list)
        clusters: dict[str, list[School]] = defaultdict(list)
        for s in schools:
            cats[s.category].append(s)
            clusters[s.cluster.name if s.cluster is not None else "—"].append(s)
        by_category = [
            line(CATEGORY_LABELS.get(c, c), cats[c], per_category.get(c, overall))
            for c in ("urban", "town", "rural")
            if c in cats
        ]
        by_cluster = [line(name, group, overall) for name, group in sorted(clusters.items())]
        by_cluster.append(line("合计 total", schools, overall))
        out.append(Coverage(key, COVERAGE[key][2], source, by_category, by_cluster))
    return out


def screening_shares(dash: Dashboard) -> list[RuleShare]:
    """The screening rules' shares (schools whose participation met the rule): the results keep
    a percentage per school, not the students, so participation is shown as schools met."""
    return [s for s in dash.rules if area_of(s.rule) == Area.SCREENING and s.district_result is None]


WAIVER_STATUSES = ("in_force", "expired", "revoked")


def waiver_status(w: Any, today: Any) -> str:
    if w.revoked_at is not None:
        return "revoked"
    return "in_force" if w.expires_on >= today else "expired"


def filter_waivers(
    qs: Any, *, today: Any, status: str = "", school: School | None = None, rule_id: str = ""
) -> Any:
    """The waiver list's filter (status: in force / expired / revoked; school; rule)."""
    if status == "in_force":
        qs = qs.filter(revoked_at__isnull=True, expires_on__gte=today)
    elif status == "expired":
        qs = qs.filter(revoked_at__isnull=True, expires_on__lt=today)
    elif status == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    if school is not None:
        qs = qs.filter(school=school)
    if rule_id:
        qs = qs.filter(rule_id=rule_id)
    return qs.select_related("school", "granted_by", "revoked_by").order_by("-granted_at", "-id")


def headline(dash: Dashboard) -> tuple[int, int]:
    """(met, denominator) over every school rule of the run: the home panel's share."""
    met = sum(s.met for s in dash.rules if s.district_result is None)
    den = sum(s.denominator for s in dash.rules if s.district_result is None)
    return met, den
