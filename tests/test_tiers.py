"""District tier rules (`xinyu.screening.tiers`): the default policy, each kind of rule, and
policy sections rejected with the field at fault."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from xinyu.screening.instruments import registry
from xinyu.screening.scoring import InstrumentResult, score
from xinyu.screening.tiers import PolicyError, TierPolicy, assign_tier, tier_policy

DEFAULT_TOML = Path(settings.BASE_DIR) / "policies" / "default.toml"
SECTION: dict[str, Any] = tomllib.loads(DEFAULT_TOML.read_text(encoding="utf-8"))["screening"]
POLICY = tier_policy(SECTION, origin="default.toml")
INSTRUMENTS = registry()


def seq(*values: int) -> dict[int, int | None]:
    return {n: v for n, v in enumerate(values, start=1)}


def phq(*values: int) -> InstrumentResult:
    return score(INSTRUMENTS["PHQ9"], seq(*values))


def gad(*values: int) -> InstrumentResult:
    return score(INSTRUMENTS["GAD7"], seq(*values))


PHQ_NONE = phq(0, 0, 0, 0, 0, 0, 0, 0, 0)
PHQ_MILD = phq(1, 1, 1, 1, 1, 0, 0, 0, 0)  # 5, concern 1
PHQ_MODERATE = phq(3, 3, 3, 1, 0, 0, 0, 0, 0)  # 10, concern 2
PHQ_SEVERE = phq(3, 3, 3, 3, 3, 0, 0, 0, 0)  # 15, concern 3
PHQ_ITEM9 = phq(0, 0, 0, 0, 0, 0, 0, 0, 1)  # 1, critical
GAD_SEVERE = gad(3, 3, 3, 3, 3, 0, 0)  # 15, concern 3


# ---- the default policy -----------------------------------------------------------------


def test_default_policy_shape() -> None:
    assert [(t.code, t.rank) for t in POLICY.tiers] == [
        ("none", 0),
        ("watch", 1),
        ("follow_up", 2),
        ("urgent", 3),
    ]
    assert POLICY.tier("none").label == {"zh-hans": "未见明显风险", "en": "No concern"}
    assert [POLICY.tier(c).label["zh-hans"] for c in ("watch", "follow_up", "urgent")] == [
        "关注",
        "需跟进",
        "紧急",
    ]
    assert POLICY.class_teacher_task_from == "follow_up"
    assert POLICY.default_grades == (4, 5, 6, 7, 8, 9, 10, 11, 12)
    assert [(r.tier, r.kind, r.concern_at_least) for r in POLICY.rules] == [
        ("urgent", "critical", None),
        ("follow_up", "concern", 3),
        ("watch", "concern", 2),
    ]
    with pytest.raises(KeyError):
        POLICY.tier("red")


@pytest.mark.parametrize(
    ("results", "tier", "reasons"),
    [
        ([], "none", ()),
        ([PHQ_NONE], "none", ()),
        ([PHQ_MILD], "none", ()),
        ([PHQ_MODERATE], "watch", ("PHQ9.concern>=2",)),
        ([PHQ_SEVERE], "follow_up", ("PHQ9.concern>=3",)),  # not also concern>=2
        ([PHQ_ITEM9], "urgent", ("PHQ9.critical:phq9_item9",)),
        ([PHQ_ITEM9, GAD_SEVERE], "urgent", ("PHQ9.critical:phq9_item9", "GAD7.concern>=3")),
        ([PHQ_MODERATE, GAD_SEVERE], "follow_up", ("GAD7.concern>=3", "PHQ9.concern>=2")),
    ],
)
def test_default_rules(results: list[InstrumentResult], tier: str, reasons: tuple[str, ...]) -> None:
    assert assign_tier(POLICY, results) == (tier, reasons)


def test_low_wellbeing_is_watch() -> None:
    assert assign_tier(POLICY, [score(INSTRUMENTS["WHO5"], seq(2, 2, 2, 3, 3))]) == (
        "watch",
        ("WHO5.concern>=2",),
    )
    assert assign_tier(POLICY, [score(INSTRUMENTS["WHO5"], seq(3, 2, 3, 2, 3))]) == ("none", ())


def test_k6_at_cutoff_is_watch() -> None:
    assert assign_tier(POLICY, [score(INSTRUMENTS["K6"], seq(1, 2, 2, 2, 2, 2))]) == (
        "watch",
        ("K6.concern>=2",),
    )


def test_asq_positive_refused_and_acute_are_urgent() -> None:
    positive = score(INSTRUMENTS["ASQ"], seq(1, 1, 0, 0, 0))
    assert assign_tier(POLICY, [positive]) == (
        "urgent",
        ("ASQ.critical:asq_positive",),
    )  # one reason per code
    refused = score(INSTRUMENTS["ASQ"], seq(0, 9, 0, 0, 0))
    assert assign_tier(POLICY, [refused]) == ("urgent", ("ASQ.critical:asq_refused",))
    acute = score(INSTRUMENTS["ASQ"], seq(1, 0, 0, 0, 1))
    assert assign_tier(POLICY, [acute]) == ("urgent", ("ASQ.critical:asq_positive", "ASQ.critical:asq_acute"))


def test_invalid_protocols_are_still_tiered() -> None:
    too_fast = score(INSTRUMENTS["PHQ9"], seq(0, 0, 0, 0, 0, 0, 0, 0, 2), seconds=1)
    assert too_fast.valid is False
    assert assign_tier(POLICY, [too_fast]) == ("urgent", ("PHQ9.critical:phq9_item9",))
    incomplete = score(INSTRUMENTS["PHQ9"], {1: 3, 2: 3, 3: 3, 4: 3, 5: 3})
    assert (incomplete.valid, assign_tier(POLICY, [incomplete])[0]) == (False, "follow_up")


def test_shipped_policies_all_parse() -> None:
    from xinyu.kernel.policyfile import policy_for_code

    for path in (Path(settings.BASE_DIR) / "policies").glob("*.toml"):
        policy = tier_policy(
            policy_for_code(path.stem)["screening"], origin=path.name, instruments=set(INSTRUMENTS)
        )
        assert policy.tiers[0].code == "none"


# ---- other rule kinds -------------------------------------------------------------------


def policy_with(*rules: dict[str, Any]) -> TierPolicy:
    return tier_policy(dict(SECTION, rules=list(rules)))


def test_scale_rule_with_lower_and_upper_bound() -> None:
    policy = policy_with(
        {"tier": "watch", "scale": "total", "at_least": 10, "below": 15, "instrument": "PHQ9"}
    )
    assert assign_tier(policy, [phq(3, 3, 3, 0, 0, 0, 0, 0, 0)]) == ("none", ())  # 9
    assert assign_tier(policy, [PHQ_MODERATE]) == ("watch", ("PHQ9.total>=10<15",))  # 10
    assert assign_tier(policy, [phq(2, 2, 2, 2, 2, 2, 2, 0, 0)]) == ("watch", ("PHQ9.total>=10<15",))  # 14
    assert assign_tier(policy, [PHQ_SEVERE]) == ("none", ())  # 15
    assert assign_tier(policy, [gad(3, 3, 3, 1, 0, 0, 0)]) == ("none", ())  # GAD-7 10: other instrument


def test_scale_rule_without_upper_bound() -> None:
    policy = policy_with({"tier": "follow_up", "scale": "total", "at_least": 11})
    assert assign_tier(policy, [PHQ_MODERATE]) == ("none", ())
    assert assign_tier(policy, [PHQ_SEVERE]) == ("follow_up", ("PHQ9.total>=11",))
    assert assign_tier(policy, [GAD_SEVERE]) == ("follow_up", ("GAD7.total>=11",))


def test_band_rule() -> None:
    policy = policy_with(
        {"tier": "follow_up", "band": ["moderate", "severe"]},
        {"tier": "watch", "band": ["low"], "scale": "total"},
    )
    assert assign_tier(policy, [PHQ_MODERATE]) == ("follow_up", ("PHQ9.total.band:moderate",))
    assert assign_tier(policy, [PHQ_SEVERE]) == ("none", ())  # moderately_severe is not listed
    assert assign_tier(policy, [score(INSTRUMENTS["WHO5"], seq(0, 0, 0, 0, 0))]) == (
        "watch",
        ("WHO5.total.band:low",),
    )


def test_critical_rule_restricted_to_one_instrument() -> None:
    policy = policy_with(
        {"tier": "urgent", "critical": True, "instrument": "ASQ"}, {"tier": "follow_up", "critical": True}
    )
    assert assign_tier(policy, [PHQ_ITEM9]) == ("follow_up", ("PHQ9.critical:phq9_item9",))
    assert assign_tier(policy, [score(INSTRUMENTS["ASQ"], seq(1, 0, 0, 0, 0))]) == (
        "urgent",
        ("ASQ.critical:asq_positive",),
    )


def test_tier_order_comes_from_the_tier_list_not_the_rule_order() -> None:
    policy = policy_with({"tier": "watch", "concern_at_least": 1}, {"tier": "urgent", "critical": True})
    assert assign_tier(policy, [phq(1, 1, 1, 1, 1, 0, 0, 0, 1)]) == ("urgent", ("PHQ9.critical:phq9_item9",))


results = st.sampled_from([PHQ_NONE, PHQ_MILD, PHQ_MODERATE, PHQ_SEVERE, PHQ_ITEM9, GAD_SEVERE])


@hsettings(max_examples=100, deadline=None)
@given(st.lists(results, max_size=4))
def test_the_tier_of_a_battery_is_the_highest_tier_of_its_parts(parts: list[InstrumentResult]) -> None:
    tier, _ = assign_tier(POLICY, parts)
    ranks = [POLICY.tier(assign_tier(POLICY, [p])[0]).rank for p in parts]
    assert POLICY.tier(tier).rank == max(ranks, default=0)


# ---- rejected sections ------------------------------------------------------------------


def changed(path: str, value: Any) -> dict[str, Any]:
    """The default section with one value replaced; path like "rules.1.tier" (None deletes)."""
    section = copy.deepcopy(SECTION)
    *parents, last = path.split(".")
    target: Any = section
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is None:
        del target[int(last) if isinstance(target, list) else last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return section


BAD_SECTIONS = [
    ("missing section", None, "screening"),
    ("unknown tier in a rule", changed("rules.2.tier", "amber"), "screening.rules[2].tier"),
    ("rule without a condition", changed("rules.0", {"tier": "urgent"}), "screening.rules[0]"),
    (
        "rule with two conditions",
        changed("rules.0", {"tier": "urgent", "critical": True, "concern_at_least": 3}),
        "screening.rules[0]",
    ),
    ("critical = false", changed("rules.0.critical", False), "screening.rules[0].critical"),
    ("concern out of range", changed("rules.1.concern_at_least", 4), "screening.rules[1].concern_at_least"),
    (
        "at_least without a scale",
        changed("rules.1", {"tier": "watch", "at_least": 10}),
        "screening.rules[1].scale",
    ),
    (
        "below not above at_least",
        changed("rules.1", {"tier": "watch", "scale": "total", "at_least": 10, "below": 10}),
        "screening.rules[1].below",
    ),
    (
        "below on a band rule",
        changed("rules.1", {"tier": "watch", "band": ["x"], "below": 3}),
        "screening.rules[1].below",
    ),
    ("empty band list", changed("rules.1", {"tier": "watch", "band": []}), "screening.rules[1].band"),
    ("unknown rule field", changed("rules.1.instrumnet", "PHQ9"), "screening.rules[1].instrumnet"),
    ("badly formed instrument", changed("rules.1.instrument", "phq-9"), "screening.rules[1].instrument"),
    ("no rules", changed("rules", []), "screening.rules"),
    ("unknown task tier", changed("class_teacher_task_from", "amber"), "screening.class_teacher_task_from"),
    ("duplicate tier", changed("tiers.1.code", "none"), "screening.tiers[1].code"),
    (
        "tier label without English",
        changed("tiers.2.label", {"zh-hans": "需跟进"}),
        "screening.tiers[2].label.en",
    ),
    ("grade 13", changed("default_grades", [4, 13]), "screening.default_grades"),
    ("unknown section key", changed("tier_rules", []), "screening.tier_rules"),
    (
        "warning for unknown tier",
        changed("warning_for_tier", {"red": "urgent"}),
        "screening.warning_for_tier.red",
    ),
]


@pytest.mark.parametrize(("case", "section", "field"), BAD_SECTIONS, ids=[c for c, *_ in BAD_SECTIONS])
def test_bad_policy_sections_name_the_field(case: str, section: Any, field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        tier_policy(section, origin="500153.toml")
    assert caught.value.field == field, str(caught.value)
    assert str(caught.value).startswith(f"500153.toml: {field}: ")
    assert re.search(r"[\u4e00-\u9fff]", caught.value.message_zh)


def test_rule_naming_an_unknown_instrument() -> None:
    section = changed("rules.1.instrument", "SDQ")
    assert tier_policy(section).rules[1].instrument == "SDQ"  # no registry given: not checked
    with pytest.raises(PolicyError) as caught:
        tier_policy(section, instruments={"PHQ9"})
    assert caught.value.field == "screening.rules[1].instrument"


def test_warning_for_tier_is_allowed() -> None:
    policy = tier_policy(changed("warning_for_tier", {"urgent": "urgent", "follow_up": "high"}))
    assert policy.tiers[-1].code == "urgent"


JUNK: list[Any] = ["x", -1, 0, 1.5, True, [], ["a"], [[1, 2]], {}, {"a": 1}, None]


def _paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [prefix.rstrip(".")] + [p for k, v in value.items() for p in _paths(v, f"{prefix}{k}.")]
    if isinstance(value, list):
        return [prefix.rstrip(".")] + [p for i, v in enumerate(value) for p in _paths(v, f"{prefix}{i}.")]
    return [prefix.rstrip(".")]


def test_any_junk_value_is_rejected_cleanly() -> None:
    """Any value of the default section replaced by junk either parses or raises PolicyError."""
    tried = 0
    for path in _paths(SECTION):
        if not path:
            continue
        for junk in JUNK:
            section = changed(path, junk) if junk is not None else changed(path, None)
            tried += 1
            try:
                tier_policy(section)
            except PolicyError as exc:
                assert exc.field.startswith("screening")
    assert tried > 200
