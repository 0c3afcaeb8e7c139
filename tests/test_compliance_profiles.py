"""Policy profiles as data (issue 14 item 1): the five shipped profiles load and check against
the evaluator registry, quote their seed documents verbatim and hold the seeds' numbers; a bad
file is refused with one bilingual error naming the line and the field; a district's overrides
are applied and recorded (and refused without who, when and why); the content hash is the
profile's version."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from xinyu.compliance import profiles
from xinyu.compliance.profiles import (
    Profile,
    ProfileError,
    choose,
    line_map,
    load_by_id,
    load_profile,
    locate,
)
from xinyu.kernel.compliance import Area, Evaluator, Level, Params, evaluators
from xinyu.kernel.registry import Registry

SEEDS = Path(os.environ.get("XINYU_SEEDS", Path(__file__).resolve().parent.parent / "policies" / "seeds"))
SHIPPED = {  # profile id -> the seed file it quotes (by the file name's number)
    "rongchang-2025": "000",
    "xinyang": "001",
    "quxian": "002",
    "changyi": "003",
    "shijingshan": "004",
}


def squeeze(text: str) -> str:
    """Whitespace removed (the seeds are PDF text broken mid-sentence, in Chinese)."""
    return re.sub(r"\s+", "", text)


def seed_text(profile_id: str) -> str:
    found = sorted(SEEDS.glob(f"{SHIPPED[profile_id]}_*.txt"))
    if not found:
        pytest.fail(f"seed {SHIPPED[profile_id]}_*.txt not found in {SEEDS} (set XINYU_SEEDS)")
    return squeeze(found[0].read_text(encoding="utf-8"))


def line_of(text: str, fragment: str, start: int = 0) -> int:
    """The 1-based line of the first line containing `fragment` at or after line `start`."""
    for n, line in enumerate(text.splitlines(), start=1):
        if n >= start and fragment in line:
            return n
    raise AssertionError(fragment)


# ---- the shipped profiles -----------------------------------------------------------------


@pytest.mark.parametrize("profile_id", sorted(SHIPPED))
def test_each_shipped_profile_loads_and_checks_against_the_registry(profile_id: str) -> None:
    profile = load_by_id(profile_id)  # check_against the kernel's registry, no skip
    assert profile.id == profile_id
    assert profile.rules
    for rule in profile.rules:
        ev = evaluators.get(rule.evaluator)
        assert rule.level == ev.level, rule.id
        ev.params.model_validate(rule.params)  # what the engine does with it
        assert profiles.rule_area(rule) in set(Area)


def test_the_five_seed_districts_are_shipped_and_rule_ids_are_unique_everywhere() -> None:
    shipped = profiles.available_profiles()
    assert [p.id for p in shipped] == sorted(SHIPPED)
    ids = [r.id for p in shipped for r in p.rules]
    assert len(ids) == len(set(ids))
    for p in shipped:
        prefixes = {r.id.split(".")[0] for r in p.rules}
        assert len(prefixes) == 1, (p.id, prefixes)


@pytest.mark.parametrize("profile_id", sorted(SHIPPED))
def test_every_quote_is_verbatim_in_its_seed(profile_id: str) -> None:
    seed = seed_text(profile_id)
    profile = load_by_id(profile_id, registry=None)
    assert squeeze(profile.document) in seed  # the document's own name, as it is printed
    missing = [r.id for r in profile.rules if squeeze(r.citation.quote) not in seed]
    assert missing == []
    assert all(r.citation.document.startswith(profile.document) for r in profile.rules)


# (profile, evaluator, params the rule must hold, categories it applies to or None for any)
EXPECTED: list[tuple[str, str, dict[str, Any], tuple[str, ...] | None]] = [
    ("rongchang-2025", "rooms.configuration", {"level": "basic"}, ()),
    ("rongchang-2025", "rooms.configuration", {"level": "standard"}, ()),
    ("rongchang-2025", "rooms.configuration", {"level": "advanced"}, ()),
    ("rongchang-2025", "rooms.zone_area", {"zone": "office", "min_m2": 15.0}, ()),
    ("rongchang-2025", "rooms.zone_area", {"zone": "individual", "min_m2": 10.0, "max_m2": 15.0}, ()),
    ("rongchang-2025", "staff.ratio", {"students_per_teacher": 1000}, ()),
    ("rongchang-2025", "rooms.open_hours", {"min_hours_per_week": 10.0}, ()),
    ("rongchang-2025", "training.certificates_target", {"kind": "B", "target": 50, "year": 2025}, ()),
    ("rongchang-2025", "training.certificates_target", {"kind": "C", "target": 1500, "year": 2025}, ()),
    ("rongchang-2025", "outreach.lectures_per_year", {"target": 50, "year": 2025, "kinds": ["lecture"]}, ()),
    (
        "rongchang-2025",
        "outreach.lectures_per_year",
        {"target": 50, "year": 2025, "kinds": ["volunteer"]},
        (),
    ),
    ("rongchang-2025", "schoolevents.contest_hosted", {"year": 2025, "level": "regional"}, ()),
    ("rongchang-2025", "training.programme_length", {"kind": "B", "min_hours": 80.0}, ()),
    ("rongchang-2025", "training.programme_length", {"kind": "C", "min_course_days": 6}, ()),
    ("rongchang-2025", "staff.full_time_coverage", {"target_share": 1.0}, ()),
    ("rongchang-2025", "rooms.coverage", {"target_share": 1.0}, ()),
    ("xinyang", "rooms.total_area", {"min_m2": 100.0}, ("urban",)),
    ("xinyang", "rooms.total_area", {"min_m2": 70.0}, ("town",)),
    ("xinyang", "rooms.zone_area", {"zone": "individual", "min_m2": 15.0}, ("urban",)),
    ("xinyang", "rooms.zone_area", {"zone": "individual", "min_m2": 10.0}, ("town", "rural")),
    ("xinyang", "rooms.open_every_school_day", {}, ()),
    ("xinyang", "rooms.coverage", {"target_share": 0.7, "categories": ["urban"]}, ()),
    ("xinyang", "rooms.coverage", {"target_share": 0.8, "categories": ["town"]}, ()),
    ("xinyang", "rooms.coverage", {"target_share": 0.8, "categories": ["rural"]}, ()),
    ("xinyang", "rooms.coverage", {"target_share": 1.0}, ()),
    ("quxian", "screening.yearly_from_grade", {"from_grade": 4}, ()),
    ("quxian", "lessons.two_weeks", {"per_two_weeks": 1}, ()),
    ("quxian", "lessons.semester", {"per_semester": 9}, ()),
    ("quxian", "homevisits.every_student", {"per_school_year": 1}, ()),
    ("quxian", "outreach.parent_sessions_per_semester", {"min": 1}, ()),
    ("quxian", "training.school_based_per_semester", {"min": 1}, ()),
    ("quxian", "training.part_time_trained_within", {"years": 3}, ()),
    ("quxian", "schoolevents.committee", {"from_grade": 4}, ()),
    ("quxian", "schoolevents.legal_education_per_semester", {"min": 1}, ()),
    ("quxian", "schoolevents.open_class_per_semester", {"min": 1}, ()),
    ("quxian", "schoolevents.awareness_month", {"month": 5}, ()),
    ("quxian", "schoolevents.county_contest_per_year", {"min": 1}, ()),
    ("quxian", "staff.cluster_posts", {"min": 2, "max": 3}, ()),
    ("changyi", "staff.full_time_per_stage", {"min_per_stage": 1}, ()),
    ("changyi", "lessons.month", {"per_month": 2}, ()),
    ("shijingshan", "staff.full_time_per_school", {"min": 1}, ()),
    ("shijingshan", "staff.full_time_per_campus", {"min_per_campus": 1, "full_time_only": False}, ()),
    ("shijingshan", "staff.large_school", {"above_students": 500, "extra": 1}, ()),
    ("shijingshan", "lessons.two_weeks", {"per_two_weeks": 1, "from_grade": 4}, ()),
    ("shijingshan", "training.all_staff_per_semester", {"min": 1}, ()),
    ("shijingshan", "outreach.parent_sessions_per_semester", {"min": 1}, ()),
    ("shijingshan", "homevisits.every_student", {"per_school_year": 1}, ()),
    ("shijingshan", "schoolevents.leadership_meetings_per_quarter", {"min": 1}, ()),
    ("shijingshan", "care.acknowledged_in_time", {"min_share": 1.0}, ()),
    ("shijingshan", "screening.with_consent", {}, ()),
]


@pytest.mark.parametrize(("profile_id", "evaluator", "params", "categories"), EXPECTED)
def test_the_profiles_hold_the_seeds_numbers(
    profile_id: str, evaluator: str, params: dict[str, Any], categories: tuple[str, ...]
) -> None:
    profile = load_by_id(profile_id, registry=None)
    matching = [
        r
        for r in profile.rules
        if r.evaluator == evaluator
        and all(r.params.get(k) == v for k, v in params.items())
        and r.applies.categories == categories
    ]
    assert len(matching) == 1, [
        (r.id, r.params, r.applies.categories) for r in profile.rules if r.evaluator == evaluator
    ]


def test_self_declared_rules_cover_what_the_data_cannot_show() -> None:
    declared = {
        p.id: {r.id for r in p.rules if r.evaluator == "compliance.self_declared"}
        for p in profiles.available_profiles(registry=None)
    }
    assert {"xy.rooms.mailbox", "xy.rooms.hotline"} <= declared["xinyang"]
    assert {"cy.rooms.activity_plan", "cy.rooms.activity_archive", "cy.self_evaluation"} <= declared[
        "changyi"
    ]


def test_xinyang_coverage_targets_take_effect_at_their_deadlines() -> None:
    xy = load_by_id("xinyang", registry=None)
    urban_2022, all_2025 = xy.rule("xy.coverage.urban_2022"), xy.rule("xy.coverage.all_2025")
    assert urban_2022.applies.effective_from == dt.date(2022, 12, 31)
    assert urban_2022.applies.effective_to == dt.date(2025, 12, 30)
    assert all_2025.applies.effective_from == dt.date(2025, 12, 31)
    assert all_2025.applies.effective_to is None


# ---- a bad file is refused with the line and field ----------------------------------------


class CountParams(Params):
    per_semester: int = Field(default=9, ge=1)
    from_grade: int = 4


def _count(units: Any, params: Any, ctx: Any) -> dict[int, Any]:
    return {}


def small_registry() -> Registry[Evaluator]:
    """A registry of two evaluators, so that the schema's tests do not hang on the apps'."""
    reg: Registry[Evaluator] = Registry("evaluator")
    reg.add(
        "t.count",
        Evaluator(
            name="t.count",
            area=Area.CLASSES,
            level=Level.SCHOOL,
            params=CountParams,
            title=("计", "Count"),
            fn=_count,
        ),
    )
    reg.add(
        "t.total",
        Evaluator(
            name="t.total",
            area=Area.TRAINING,
            level=Level.DISTRICT,
            params=CountParams,
            title=("总", "Total"),
            fn=_count,
        ),
    )
    return reg


RULE = """
[[rules]]
id = "t.rule.{n}"
title_zh = "规则{n}"
title_en = "Rule {n}"
evaluator = "t.count"
level = "school"
severity = "high"
citation = {{ document = "某文件", article = "一.{n}", quote = "每学期不少于 9 课时。" }}
[rules.params]
per_semester = 9
"""

HEAD = """# a test profile
[profile]
id = "test-profile"
title_zh = "测试"
title_en = "Test"
document = "某文件"
issued = 2026-01-05
"""


def profile_text(rules: int = 4) -> str:
    return HEAD + "".join(RULE.format(n=n) for n in range(1, rules + 1))


def refused(text: str, registry: Registry[Evaluator] | None) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        load_profile(text, registry=registry)
    return info.value


def assert_names(error: ProfileError, line: int, field: str) -> None:
    assert error.line == line
    assert error.field == field
    assert f"第 {line} 行" in error.zh and field in error.zh
    assert f"line {line}" in error.en and field in error.en


def test_a_good_file_loads_with_its_rules_and_the_evaluators_area() -> None:
    profile = load_profile(profile_text(), registry=small_registry())
    assert profile.id == "test-profile" and profile.profile.issued == dt.date(2026, 1, 5)
    assert [r.id for r in profile.rules] == ["t.rule.1", "t.rule.2", "t.rule.3", "t.rule.4"]
    assert profiles.rule_area(profile.rules[0], small_registry()) == Area.CLASSES
    assert profile.rules[0].citation.article == "一.1"


def test_a_toml_syntax_error_names_tomllibs_line() -> None:
    text = profile_text().replace('title_en = "Rule 3"', 'title_en = "Rule 3', 1)
    error = refused(text, None)
    assert error.line == line_of(text, 'title_en = "Rule 3')
    assert "TOML" in error.zh and "TOML syntax error" in error.en


def test_an_unknown_param_names_its_line_in_the_fourth_rule() -> None:
    head, fourth = profile_text().split('id = "t.rule.4"')
    text = head + 'id = "t.rule.4"' + fourth.replace("per_semester = 9", "per_semestre = 9")
    error = refused(text, small_registry())
    assert error.loc == ("rules", 3, "params", "per_semestre")
    assert_names(
        error, line_of(text, "per_semestre", line_of(text, 't.rule.4"')), "rules[4].params.per_semestre"
    )
    assert "不认识的字段" in error.zh


def test_a_param_of_the_wrong_type_is_refused_not_coerced() -> None:
    text = profile_text()
    fourth = line_of(text, 't.rule.4"')
    lines = text.splitlines()
    at = line_of(text, "per_semester = 9", fourth)
    lines[at - 1] = 'per_semester = "9"'  # pydantic's lax mode would take "9" for 9
    error = refused("\n".join(lines), small_registry())
    assert_names(error, at, "rules[4].params.per_semester")
    assert "类型不对" in error.zh


def test_a_param_out_of_range_is_refused() -> None:
    text = profile_text(2).replace("per_semester = 9", "per_semester = 0")
    error = refused(text, small_registry())
    assert_names(error, line_of(text, "per_semester = 0"), "rules[1].params.per_semester")


def test_an_unknown_evaluator_and_a_level_mismatch_name_their_lines() -> None:
    text = profile_text().replace('evaluator = "t.count"', 'evaluator = "t.nothing"')
    assert_names(refused(text, small_registry()), line_of(text, "t.nothing"), "rules[1].evaluator")
    lines = profile_text().splitlines()
    second = line_of(profile_text(), 't.rule.2"')
    at = line_of(profile_text(), 'evaluator = "t.count"', second)
    lines[at - 1] = 'evaluator = "t.total"'  # district-level, the rule says school
    error = refused("\n".join(lines), small_registry())
    assert_names(error, line_of(profile_text(), 'level = "school"', second), "rules[2].level")
    assert "区县" in error.zh and "district-level" in error.en


def test_the_schema_alone_does_not_ask_the_registry() -> None:
    text = profile_text().replace('evaluator = "t.count"', 'evaluator = "t.nothing"')
    assert load_profile(text, registry=None).rules[0].evaluator == "t.nothing"
    with pytest.raises(ProfileError):
        profiles.check_against(load_profile(text, registry=None), small_registry())


def test_a_duplicate_rule_id_names_the_second_one() -> None:
    text = profile_text().replace('id = "t.rule.3"', 'id = "t.rule.1"')
    error = refused(text, None)
    assert_names(error, line_of(text, 'id = "t.rule.1"', line_of(text, 'title_zh = "规则2"')), "rules[3].id")
    assert "重复" in error.zh and "t.rule.1" in error.en


@pytest.mark.parametrize(
    ("old", "new", "field", "marker"),
    [
        ('severity = "high"', 'severity = "urgent"', "rules[1].severity", "urgent"),
        ('level = "school"', 'level = "grade"', "rules[1].level", '"grade"'),
        ('id = "t.rule.1"', 'id = "T Rule"', "rules[1].id", "T Rule"),
        ('quote = "每学期不少于 9 课时。"', 'quote = ""', "rules[1].citation.quote", 'quote = ""'),
        ("issued = 2026-01-05", 'issued = "soon"', "profile.issued", "soon"),
    ],
)
def test_a_wrong_value_in_the_schema_names_its_line(old: str, new: str, field: str, marker: str) -> None:
    text = profile_text(2).replace(old, new, 1)
    assert_names(refused(text, None), line_of(text, marker), field)


def test_a_missing_field_names_its_table_and_applies_is_checked() -> None:
    text = profile_text(2).replace('severity = "high"\n', "", 1)
    assert_names(refused(text, None), line_of(text, "[[rules]]"), "rules[1].severity")
    applies = '\n[rules.applies]\ncategories = ["urban", "city"]\n'
    text = profile_text(1) + applies
    assert_names(refused(text, None), line_of(text, "categories"), "rules[1].applies.categories[2]")
    text = profile_text(1) + "\n[rules.applies]\neffective_from = 2026-09-01\neffective_to = 2026-01-01\n"
    assert_names(refused(text, None), line_of(text, "effective_to"), "rules[1].applies.effective_to")


def test_a_district_rule_cannot_narrow_schools_by_category() -> None:
    text = (profile_text(1) + '\n[rules.applies]\ncategories = ["urban"]\n').replace(
        'level = "school"', 'level = "district"'
    )
    error = refused(text, None)
    assert_names(error, line_of(text, "[rules.applies]"), "rules[1].applies")


def test_a_file_not_in_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(profile_text(1).encode("gbk"))
    error = refused_path(path)
    assert "UTF-8" in error.zh and "gbk.toml" in error.en


def refused_path(path: Path) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        load_profile(path, registry=None)
    return info.value


def test_an_unknown_profile_id_is_refused() -> None:
    with pytest.raises(ProfileError) as info:
        load_by_id("atlantis")
    assert "atlantis" in info.value.zh and "atlantis" in info.value.en


# ---- the locator ---------------------------------------------------------------------------


def test_the_locator_maps_array_tables_sub_tables_and_inline_tables() -> None:
    text = """# [rules] in a comment is not a table; nor is x = 1
[profile]
id = "p"  # a comment with = and [brackets]
notes = \"\"\"
[rules]
id = "inside a multi-line string"
\"\"\"

[[rules]]
id = "a"
citation = { document = "d = not a key", article = "1", quote = "q" }
list = [
  [1, 2],
  "x",
]

[[rules]]
id = "b"
[rules.params]
per_semester = 9
"quoted key" = 1
nested = { a = { b = 1 } }
"""
    lines = line_map(text)
    assert lines[("profile",)] == 2
    assert lines[("profile", "id")] == 3
    assert ("rules",) not in lines  # the commented and quoted ones are not tables
    assert lines[("rules", 0)] == 9
    assert lines[("rules", 0, "id")] == 10
    assert lines[("rules", 0, "citation", "quote")] == 11
    assert ("rules", 0, "citation", "d") not in lines
    assert lines[("rules", 0, "list")] == 12
    assert lines[("rules", 1)] == 17
    assert lines[("rules", 1, "id")] == 18
    assert lines[("rules", 1, "params")] == 19
    assert lines[("rules", 1, "params", "per_semester")] == 20
    assert lines[("rules", 1, "params", "quoted key")] == 21
    assert lines[("rules", 1, "params", "nested", "a", "b")] == 22
    # a key not written falls back to the nearest enclosing table or key
    assert locate(text, ("rules", 1, "params", "from_grade")) == 19
    assert locate(text, ("rules", 0, "list", 1)) == 12
    assert locate(text, ("rules", 1, "severity")) == 17
    assert locate(text, ("nothing",)) is None


# ---- content hash --------------------------------------------------------------------------


def test_the_hash_changes_with_content_not_with_whitespace_comments_or_key_order() -> None:
    base = load_profile(profile_text(2), registry=None)
    reformatted = (
        profile_text(2)
        .replace("# a test profile", "# another comment\n\n\n")
        .replace(
            'title_zh = "测试"\ntitle_en = "Test"', 'title_en   =   "Test"   # English\ntitle_zh = "测试"'
        )
        .replace("per_semester = 9", "per_semester=9")
    )
    assert reformatted != profile_text(2)
    assert load_profile(reformatted, registry=None).content_hash == base.content_hash
    assert len(base.content_hash) == 64
    changed_param = profile_text(2).replace("per_semester = 9", "per_semester = 10", 1)
    changed_quote = profile_text(2).replace("9 课时。", "10 课时。", 1)
    changed_date = profile_text(2).replace("2026-01-05", "2026-01-06")
    hashes = {
        load_profile(t, registry=None).content_hash for t in (changed_param, changed_quote, changed_date)
    }
    assert len(hashes) == 3 and base.content_hash not in hashes


def test_the_shipped_profiles_have_distinct_stable_hashes() -> None:
    first = {p.id: p.content_hash for p in profiles.available_profiles(registry=None)}
    again = {p.id: p.content_hash for p in profiles.available_profiles(registry=None)}
    assert first == again and len(set(first.values())) == len(SHIPPED)


# ---- a district's choice and its overrides ---------------------------------------------------

DISTRICT = """# a district's own policy file
[compliance]
profile = "quxian"

[[compliance.overrides]]
rule = "qx.lessons.semester"
param = "per_semester"
value = 12
by = "县教育局 王主任"
on = 2026-09-01
why = "县教育局2026年起要求每学期12课时"

[[compliance.overrides]]
rule = "qx.staff.cluster_posts"
param = "max"
value = 4
by = "县教育局 王主任"
on = 2026-09-01
why = "片区扩大"
"""


def chosen_from(text: str) -> profiles.Chosen:
    return choose(tomllib.loads(text), text=text, source="511725.toml")


def refused_choice(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        chosen_from(text)
    return info.value


def test_overrides_are_applied_and_recorded() -> None:
    chosen = chosen_from(DISTRICT)
    shipped = load_by_id("quxian")
    assert chosen.profile.id == "quxian"
    assert chosen.profile.rule("qx.lessons.semester").params["per_semester"] == 12
    assert chosen.profile.rule("qx.lessons.semester").params["from_grade"] == 1  # the rest kept
    assert chosen.profile.rule("qx.staff.cluster_posts").params == {"min": 2, "max": 4}
    assert chosen.base.rule("qx.lessons.semester").params["per_semester"] == 9
    assert chosen.content_hash == shipped.content_hash  # the version is the shipped file's
    assert {rule: sorted(ps) for rule, ps in chosen.overridden.items()} == {
        "qx.lessons.semester": ["per_semester"],
        "qx.staff.cluster_posts": ["max"],
    }
    o = chosen.overridden["qx.lessons.semester"]["per_semester"]
    assert (o.by, o.on, o.value) == ("县教育局 王主任", dt.date(2026, 9, 1), 12) and o.why
    assert chosen.is_overridden("qx.staff.cluster_posts", "max")
    assert not chosen.is_overridden("qx.staff.cluster_posts", "min")
    untouched = [r for r in chosen.profile.rules if r.id not in chosen.overridden]
    assert untouched == [r for r in shipped.rules if r.id not in chosen.overridden]


def test_a_choice_without_overrides_is_the_shipped_profile() -> None:
    chosen = chosen_from('[compliance]\nprofile = "rongchang-2025"\n')
    assert chosen.profile == load_by_id("rongchang-2025") and chosen.overridden == {}


def test_an_override_without_why_or_by_is_refused_with_its_table() -> None:
    second = line_of(DISTRICT, "[[compliance.overrides]]", line_of(DISTRICT, "[[compliance.overrides]]") + 1)
    text = DISTRICT.replace('why = "片区扩大"\n', "")
    error = refused_choice(text)
    assert_names(error, second, "compliance.overrides[2].why")
    text = DISTRICT.replace('why = "片区扩大"', 'why = "   "')
    assert_names(refused_choice(text), line_of(text, 'why = "   "'), "compliance.overrides[2].why")
    text = DISTRICT.replace("on = 2026-09-01\n", "", 1)
    assert_names(
        refused_choice(text), line_of(text, "[[compliance.overrides]]"), "compliance.overrides[1].on"
    )


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('rule = "qx.staff.cluster_posts"', 'rule = "qx.staff.cluster_post"', "compliance.overrides[2].rule"),
        ('param = "max"', 'param = "maximum"', "compliance.overrides[2].param"),
        ("value = 4", 'value = "four"', "compliance.overrides[2].value"),
        ("value = 12", 'value = "12"', "compliance.overrides[1].value"),
        ('param = "max"', 'param = "per_semester"', "compliance.overrides[2].param"),
    ],
)
def test_an_override_naming_no_rule_or_param_or_a_bad_value_is_refused(
    old: str, new: str, field: str
) -> None:
    text = DISTRICT.replace(old, new)
    second = line_of(text, "[[compliance.overrides]]", line_of(text, "[[compliance.overrides]]") + 1)
    assert_names(refused_choice(text), line_of(text, new, second if "[2]" in field else 0), field)


def test_the_same_param_overridden_twice_is_refused() -> None:
    text = DISTRICT.replace(
        'rule = "qx.staff.cluster_posts"\nparam = "max"',
        'rule = "qx.lessons.semester"\nparam = "per_semester"',
    )
    error = refused_choice(text)
    assert error.field == "compliance.overrides[2].param" and "两次" in error.zh


def test_a_choice_of_no_profile_or_an_unknown_one_is_refused() -> None:
    error = refused_choice('[compliance]\nprofile = "atlantis"\n')
    assert_names(error, 2, "compliance.profile")
    error = refused_choice("[compliance]\n")
    assert error.field == "compliance.profile" and error.line == 1
    assert profiles.check_policy("000000", {}) == []  # a district that has not chosen yet


def test_check_policy_reports_a_bad_override() -> None:
    policy = tomllib.loads(DISTRICT.replace("value = 4", 'value = "four"'))
    problems = profiles.check_policy("000000", policy)
    assert len(problems) == 1 and "compliance.overrides[2].value" in problems[0]


def test_profile_type_exposes_what_the_engine_reads() -> None:
    rc = load_by_id("rongchang-2025")
    assert isinstance(rc, Profile)
    assert rc.title_zh and rc.title_en and rc.document
    rule = rc.rule("rc.staff.ratio")
    assert rule.level == Level.SCHOOL and rule.applies.effective_from is None and rule.severity == "high"
