"""Labels that must not reach the class, grade and school teams (SPEC §2; XY: 禁止贴"心理疾病"标签).

One place for two things:

- `FORBIDDEN_FOR_TEAMS`: the diagnostic, tier, instrument and warning-level words that no page,
  message or export may show to a class teacher, grade leader, school leader or district admin
  (tests/test_labels.py scans every page those roles can reach for them; the tier names of the
  loaded policy file are added there from `xinyu.screening.tiers`).
- `NEUTRAL_KIND_LABELS`: the neutral need a clinical key-population kind implies, shown instead
  of the kind to everyone but the psych teachers (`kind_label`).
"""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FORBIDDEN_FOR_TEAMS: tuple[str, ...] = (
    "抑郁",
    "焦虑",
    "精神疾病",
    "心理疾病",
    "心理问题",
    "自杀",
    "紧急预警",
    "高危预警",
    "Urgent warning",
    "mental illness",
    "Psychological problems",
    "depression",
    "anxiety",
    "suicid",
)

# Instrument names: forbidden next to a score ("PHQ-9 18", "GAD-7：12"); the name alone may
# appear (the district chooses a campaign's instruments). `SCORED_INSTRUMENT` finds the pair.
INSTRUMENT_NAMES: tuple[str, ...] = ("PHQ-9", "PHQ9", "GAD-7", "GAD7", "ASQ", "K6", "WHO-5", "WHO5")
_NAMES = "|".join(re.escape(n) for n in INSTRUMENT_NAMES)
SCORED_INSTRUMENT = re.compile(
    rf"(?<![0-9A-Za-z])(?:{_NAMES})[ \t]*(?:score|得分|总分)?[ \t]*[:：=≥>]?[ \t]*\d+", re.IGNORECASE
)

# Clinical key-population kinds (org.KeyPopulation values) and the neutral need each implies.
NEUTRAL_KIND_LABELS: dict[str, Promise] = {
    "mental_history": _("Needs ongoing care (需要持续关怀)"),
    "psych_problem": _("Needs extra care (需要特别关怀)"),
}

# The same needs as aggregate rows (students counted), for the district's and schools' tables.
NEUTRAL_KIND_GROUPS: dict[str, Promise] = {
    "mental_history": _("Students needing ongoing care (需持续关怀学生)"),
    "psych_problem": _("Students needing extra care (需特别关怀学生)"),
}


def kind_label(kind: str, label: object, *, clinical: bool, aggregate: bool = False) -> str:
    """The label of a key-population `kind` for a viewer: the real `label` when the viewer may
    read clinical kinds (psych teachers), otherwise the neutral need it implies."""
    if clinical:
        return str(label)
    table = NEUTRAL_KIND_GROUPS if aggregate else NEUTRAL_KIND_LABELS
    return str(table.get(kind, label))
