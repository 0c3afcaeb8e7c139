"""The engine (issue 14 item 2): one run of a district's profile over live data.

For every rule of the profile in effect on the cut-off: the units it applies to (the
district's schools filtered by the rule's `applies`: categories, stages, grades; the district
itself for district rules), the registered evaluator (`xinyu.kernel.compliance.evaluators`)
called once for all of them with the rule's parameters, and one `Result` per unit. A unit the
evaluator gives no finding for is "no data"; an evaluator that fails gives "no data" with its
error named for every unit (a bug in one rule does not stop the nightly run; it is logged).
Waivers in force on the cut-off are linked to their results (the verdict is kept as judged).

Pure of requests: `services.start_run` wraps it in a transaction with the audit row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from xinyu.kernel.compliance import MAX_COUNTED, Context, Finding, Level, evaluators
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import District, Grade, School, User

from . import profiles
from .models import Result, Run, RunKind, Waiver

log = logging.getLogger(__name__)

STAGES = {"primary": "has_primary", "junior": "has_junior", "senior": "has_senior"}


def in_effect(rule: Any, day: dt.date) -> bool:
    applies = rule.applies
    if applies.effective_from and day < applies.effective_from:
        return False
    return not (applies.effective_to and day > applies.effective_to)


def applies_to(rule: Any, school: School, levels: set[int]) -> bool:
    """Whether a school-level rule applies to the school (category, stage, grades held)."""
    a = rule.applies
    if a.categories and school.category not in a.categories:
        return False
    if a.stages and not any(getattr(school, STAGES[s], False) for s in a.stages):
        return False
    if a.min_grade is not None and not any(level >= a.min_grade for level in levels):
        return False
    return not (a.max_grade is not None and not any(level <= a.max_grade for level in levels))


def _grade_levels(schools: Sequence[School]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for school_id, level in Grade.objects.filter(school__in=schools).values_list("school_id", "level"):
        out[school_id].add(level)
    return out


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _result(run: Run, rule_id: str, school: School | None, f: Finding, waiver: Waiver | None) -> Result:
    return Result(
        run=run,
        rule_id=rule_id,
        school=school,
        verdict=str(f.verdict),
        required=f.required,
        actual=f.actual if f.verdict != Verdict.NO_DATA else None,
        measure=_clip(f.measure, 60),
        counted=list(f.counted),
        parts=[[p.uid, _clip(p.label, 60), str(p.verdict), p.actual] for p in f.parts[:MAX_COUNTED]],
        note_zh=_clip(f.note_zh, 300),
        note_en=_clip(f.note_en, 300),
        link=_clip(f.link, 200),
        period=_clip(f.period, 40),
        waiver=waiver,
    )


def evaluate(
    *, district: District, cutoff: dt.date, by: User | None = None, kind: str = RunKind.MANUAL
) -> Run:
    """Run the district's profile over its schools as of `cutoff`; the Run and its Results
    are saved (the caller holds the transaction)."""
    started = time.perf_counter()
    chosen = profiles.profile_for(district.code)
    schools = list(School.objects.filter(district=district).order_by("code"))
    levels = _grade_levels(schools)
    ctx = Context(today=cutoff, district=district, policy=dict(policy_for_code(district.code)))
    waivers: dict[tuple[int, str], Waiver] = {}
    for w in Waiver.objects.filter(district=district, revoked_at__isnull=True, expires_on__gte=cutoff):
        if w.in_force_on(cutoff):
            waivers.setdefault((w.school_id, w.rule_id), w)
    run = Run.objects.create(
        district=district,
        profile_id=chosen.profile.id,
        profile_title=chosen.profile.title_zh,
        profile_hash=chosen.content_hash,
        cutoff=cutoff,
        kind=kind,
        started_by=by,
    )
    snapshot: dict[str, Any] = {}
    rows: list[Result] = []
    for rule in chosen.profile.rules:
        if not in_effect(rule, cutoff):
            snapshot[rule.id] = {"in_effect": False}
            continue
        ev = evaluators.get(rule.evaluator)
        params = ev.params.model_validate(rule.params)
        snapshot[rule.id] = {
            "in_effect": True,
            "evaluator": ev.name,
            "params": params.model_dump(mode="json"),
            "overridden": sorted(chosen.overridden.get(rule.id, {})),
        }
        units: list[Any]
        if ev.level == Level.DISTRICT:
            units = [district]
        else:
            units = [s for s in schools if applies_to(rule, s, levels[s.pk])]
        if not units:
            continue
        try:
            findings = ev.fn(units, params, dataclasses.replace(ctx, rule=rule.id))
        except Exception as exc:  # one rule's failure must not stop the run
            log.exception("compliance evaluator %s failed for rule %s", ev.name, rule.id)
            note = f"evaluator error: {type(exc).__name__}"
            findings = {
                u.pk: Finding(verdict=Verdict.NO_DATA, note_zh="评估出错：" + note, note_en=note)
                for u in units
            }
        for unit in units:
            f = findings.get(unit.pk) or Finding(verdict=Verdict.NO_DATA, note_zh="无数据", note_en="no data")
            if ev.level == Level.DISTRICT:
                rows.append(_result(run, rule.id, None, f, None))
            else:
                rows.append(_result(run, rule.id, unit, f, waivers.get((unit.pk, rule.id))))
    Result.objects.bulk_create(rows, batch_size=2000)
    run.params = snapshot
    run.seconds = round(time.perf_counter() - started, 3)
    run.save(update_fields=["params", "seconds"])
    return run
