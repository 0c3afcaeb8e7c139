"""Instrument files (`xinyu.screening.instruments`): the shipped files, the test files shaped like
MHT / MSSMHS / SCARED / CES-DC / SCL-90, loader rejections naming the field, the registry and
the system checks."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from xinyu.screening import checks
from xinyu.screening.instruments import (
    FORMAT,
    InstrumentError,
    get_instrument,
    load_directory,
    load_instrument,
    localized,
    parse_instrument,
    registry,
)

ROOT = Path(settings.BASE_DIR)
SHIPPED = ROOT / "instruments"
TEST_FILES = Path(__file__).parent / "instruments"


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    registry.cache_clear()
    yield
    registry.cache_clear()


# ---- the shipped instruments ------------------------------------------------------------


def test_registry_holds_the_five_shipped_instruments() -> None:
    assert sorted(registry()) == ["ASQ", "GAD7", "K6", "PHQ9", "WHO5"]
    assert get_instrument("PHQ9") is registry()["PHQ9"]
    with pytest.raises(KeyError):
        get_instrument("SDQ")


@pytest.mark.parametrize("code", ["ASQ", "GAD7", "K6", "PHQ9", "WHO5"])
def test_shipped_instruments_are_chinese_with_english(code: str) -> None:
    instrument = get_instrument(code)
    assert instrument.languages == ("zh-hans", "en")
    assert set(instrument.short_name) == {"zh-hans", "en"}
    texts = [instrument.name, instrument.instruction, instrument.translation_note]
    texts += [item.text for item in instrument.items]
    texts += [o.label for item in instrument.items for o in item.options]
    texts += [b.label for s in instrument.scales for b in s.bands] + [
        b.meaning for s in instrument.scales for b in s.bands
    ]
    texts += [r.label for r in instrument.critical]
    for text in texts:
        assert set(text) == {"zh-hans", "en"}
        assert re.search(r"[\u4e00-\u9fff]", text["zh-hans"]), text
    assert instrument.licence and instrument.source
    assert instrument.primary_scale.code == "total"
    assert (
        instrument.sha256
        == __import__("hashlib").sha256((SHIPPED / f"{code.lower()}.toml").read_bytes()).hexdigest()
    )
    assert instrument.source_text == (SHIPPED / f"{code.lower()}.toml").read_text(encoding="utf-8")


def test_shipped_item_counts_option_ranges_and_directions() -> None:
    shape = {
        code: (len(i.items), i.primary_scale.low, i.primary_scale.high, i.direction)
        for code, i in registry().items()
    }
    assert shape == {
        "PHQ9": (9, 0, 27, "problem"),
        "GAD7": (7, 0, 21, "problem"),
        "K6": (6, 0, 24, "problem"),
        "WHO5": (5, 0, 25, "wellbeing"),
        "ASQ": (5, 0, 4, "problem"),
    }


def test_shipped_grades_and_translation_status() -> None:
    r = registry()
    assert {c: i.grades for c, i in r.items()} == {
        "PHQ9": (4, 12),
        "GAD7": (4, 12),
        "K6": (7, 12),
        "WHO5": (4, 12),
        "ASQ": (4, 12),
    }
    assert r["ASQ"].translation == "unvalidated"
    assert "未经验证" in r["ASQ"].translation_note["zh-hans"]
    assert "nvalidated" in r["ASQ"].translation_note["en"]
    assert {c: i.translation for c, i in r.items() if c != "ASQ"} == {
        "PHQ9": "validated",
        "GAD7": "validated",
        "K6": "official",
        "WHO5": "official",
    }


def test_k6_is_stored_as_in_the_mandarin_form_and_reverse_scored() -> None:
    k6 = get_instrument("K6")
    first = k6.item(1)
    assert first.options[0].label == {"zh-hans": "全部时间", "en": "All of the time"}
    assert all(item.reverse for item in k6.items)
    assert first.score_of == {0: 4, 1: 3, 2: 2, 3: 1, 4: 0}


def test_who5_has_a_percentage_scale_without_bands() -> None:
    percent = get_instrument("WHO5").scale("percent")
    assert (percent.multiplier, percent.bands, percent.low, percent.high, percent.primary) == (
        4,
        (),
        0,
        100,
        False,
    )


def test_asq_question_5_is_asked_only_after_a_yes_or_a_refusal() -> None:
    asq = get_instrument("ASQ")
    q5 = asq.item(5)
    assert q5.is_asked({1: 0, 2: 0, 3: 0, 4: 0}) is False
    assert q5.is_asked({}) is False
    assert q5.is_asked({1: 0, 2: 0, 3: 1, 4: 0}) is True
    assert q5.is_asked({1: 0, 2: 9}) is True  # refusal
    assert asq.item(1).is_asked({}) is True
    refuse = [o for o in q5.options if o.refuse]
    assert [(o.value, o.label["zh-hans"]) for o in refuse] == [(9, "不想回答")]
    assert q5.score_of[9] is None


def test_asq_english_is_the_nimh_wording() -> None:
    asq = get_instrument("ASQ")
    assert [asq.item(n).text["en"] for n in range(1, 6)] == [
        "In the past few weeks, have you wished you were dead?",
        "In the past few weeks, have you felt that you or your family would be better off if you were dead?",
        "In the past week, have you been having thoughts about killing yourself?",
        "Have you ever tried to kill yourself?",
        "Are you having thoughts of killing yourself right now?",
    ]


def test_shipped_critical_rules() -> None:
    phq = get_instrument("PHQ9")
    assert [(r.item, r.code, r.hit_values) for r in phq.critical] == [(9, "phq9_item9", frozenset({1, 2, 3}))]
    asq = get_instrument("ASQ")
    assert sorted((r.code, r.item) for r in asq.critical) == [
        ("asq_acute", 5),
        *[("asq_positive", n) for n in range(1, 5)],
        *[("asq_refused", n) for n in range(1, 6)],
    ]


def test_band_tables_of_shipped_instruments() -> None:
    def bands(code: str) -> list[tuple[float, int]]:
        return [(b.at_least, b.concern) for b in get_instrument(code).primary_scale.bands]

    assert bands("PHQ9") == [(0, 0), (5, 1), (10, 2), (15, 3), (20, 3)]
    assert bands("GAD7") == [(0, 0), (5, 1), (10, 2), (15, 3)]
    assert bands("K6") == [(0, 0), (13, 2)]
    assert bands("WHO5") == [(0, 2), (13, 0)]
    assert bands("ASQ") == [(0, 0), (1, 3)]


def test_localized_falls_back_to_chinese() -> None:
    assert localized({"zh-hans": "中", "en": "E"}, "en") == "E"
    assert localized({"zh-hans": "中"}, "en") == "中"


# ---- the test files: engine features of instruments districts license -------------------


def test_test_instrument_files_load() -> None:
    found = load_directory([TEST_FILES])
    assert sorted(found) == [
        "CESDC_TEST",
        "MHT_TEST",
        "MSSMHS_TEST",
        "NORMS_TEST",
        "SCARED_TEST",
        "SCL90_TEST",
    ]


def test_mht_shape() -> None:
    mht = load_instrument(TEST_FILES / "mht_like.toml")
    assert len(mht.items) == 100
    assert all([o.value for o in i.options] == [0, 1] for i in mht.items)
    content = [s for s in mht.scales if not s.validity and s.code != "total"]
    assert len(content) == 8 and sum(len(s.items) for s in content) == 90
    lie = mht.scale("L")
    assert (lie.validity, lie.invalid_at_least, len(lie.items)) == (True, 7, 10)
    assert mht.languages == ("zh-hans",)


def test_mssmhs_shape() -> None:
    ms = load_instrument(TEST_FILES / "mssmhs_like.toml")
    factors = [s for s in ms.scales if s.code != "total"]
    assert len(factors) == 10 and all(s.method == "mean" and len(s.items) == 6 for s in factors)
    assert ms.scale("obsessive").items == (3, 10, 12, 22, 23, 48)
    assert (ms.scale("total").low, ms.scale("total").high) == (1, 5)


def test_scl90_count_scale() -> None:
    scl = load_instrument(TEST_FILES / "scl90_like.toml")
    count = scl.scale("positive_items")
    assert (count.method, count.count_at_least, count.low, count.high) == ("count", 2, 0, 90)
    assert scl.min_seconds_per_item == 1.5


# ---- rejections -------------------------------------------------------------------------

BASE = """
format = "xinyu-instrument/1"
code = "DEMO"
version = "1"
name = { zh-hans = "示例", en = "Demo" }
short_name = { zh-hans = "示例", en = "Demo" }
languages = ["zh-hans", "en"]
grades = [4, 12]
licence = "free"
source = "test"
direction = "problem"
instruction = { zh-hans = "请作答", en = "Please answer" }

[translation]
status = "validated"
note = { zh-hans = "说明", en = "Note" }

[[option_sets.freq]]
value = 0
label = { zh-hans = "从不", en = "Never" }
[[option_sets.freq]]
value = 1
label = { zh-hans = "有时", en = "Sometimes" }
[[option_sets.freq]]
value = 2
label = { zh-hans = "经常", en = "Often" }

[[items]]
number = 1
text = { zh-hans = "条目 1", en = "Item 1" }
[[items]]
number = 2
text = { zh-hans = "条目 2", en = "Item 2" }
[[items]]
number = 3
reverse = true
text = { zh-hans = "条目 3", en = "Item 3" }

[[scales]]
code = "total"
name = { zh-hans = "总分", en = "Total" }
items = "all"
method = "sum"
primary = true
[[scales.bands]]
code = "low"
at_least = 0
concern = 0
label = { zh-hans = "低", en = "Low" }
meaning = { zh-hans = "低分", en = "Low score" }
[[scales.bands]]
code = "high"
at_least = 4
concern = 2
label = { zh-hans = "高", en = "High" }
meaning = { zh-hans = "高分", en = "High score" }

[[critical]]
item = 1
at_least = 2
code = "demo_item1"
label = { zh-hans = "第 1 题", en = "Item 1" }
"""

VALIDITY_SCALE = """
[[scales]]
code = "L"
name = { zh-hans = "效度", en = "Lie" }
items = [1, 2]
method = "sum"
validity = true
"""

NORM = """
[[norms]]
version = "v1"
scale = "{scale}"
kind = "T"
grades = [{grades}]
mean = 2.0
sd = {sd}
"""

REFUSE_OPTION = """
[[option_sets.yn]]
value = 0
label = { zh-hans = "否", en = "No" }
[[option_sets.yn]]
value = 1
label = { zh-hans = "是", en = "Yes" }
[[option_sets.yn]]
value = 9
refuse = true
label = { zh-hans = "不想回答", en = "Prefer not to answer" }
"""


def mutate(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


BAD_FILES = [
    # (case, text, field at fault)
    ("missing code", mutate('code = "DEMO"\n', ""), "code"),
    ("lowercase code", mutate('code = "DEMO"', 'code = "demo"'), "code"),
    ("wrong format marker", mutate('"xinyu-instrument/1"', '"xinyu-instrument/2"'), "format"),
    ("no format marker", mutate('format = "xinyu-instrument/1"\n', ""), "format"),
    ("not TOML", BASE + "\nitems = [", "(toml)"),
    ("version not a string", mutate('version = "1"', "version = 1"), "version"),
    ("duplicate item number", mutate("number = 2", "number = 1"), "items[1].number"),
    ("gap in item numbers", mutate("number = 3", "number = 4"), "items[2].number"),
    (
        "band not ascending",
        mutate("at_least = 4\nconcern = 2", "at_least = 0\nconcern = 2"),
        "scales[0].bands[1].at_least",
    ),
    (
        "first band above the lowest score",
        mutate("at_least = 0\nconcern = 0", "at_least = 1\nconcern = 0"),
        "scales[0].bands[0].at_least",
    ),
    ("concern out of range", mutate("concern = 2", "concern = 4"), "scales[0].bands[1].concern"),
    ("scale with unknown item", mutate('items = "all"', "items = [1, 2, 7]"), "scales[0].items"),
    ("scale lists an item twice", mutate('items = "all"', "items = [1, 2, 2]"), "scales[0].items"),
    ("unknown option set", mutate("number = 1\n", 'number = 1\noptions = "frequency"\n'), "items[0].options"),
    (
        "critical on unknown item",
        mutate("item = 1\nat_least = 2", "item = 9\nat_least = 2"),
        "critical[0].item",
    ),
    (
        "critical with two conditions",
        mutate("at_least = 2\ncode", "at_least = 2\nvalues = [2]\ncode"),
        "critical[0]",
    ),
    (
        "critical value not an option",
        mutate("at_least = 2\ncode", "values = [5]\ncode"),
        "critical[0].values",
    ),
    ("critical no answer can reach", mutate("at_least = 2\ncode", "at_least = 3\ncode"), "critical[0]"),
    (
        "bad language key",
        mutate(
            'name = { zh-hans = "示例", en = "Demo" }',
            'name = { zh-hans = "示例", en = "Demo", zh-CN = "示例" }',
        ),
        "name.zh-CN",
    ),
    (
        "unsupported language",
        mutate('languages = ["zh-hans", "en"]', 'languages = ["zh-CN", "en"]'),
        "languages[0]",
    ),
    ("no Chinese", mutate('languages = ["zh-hans", "en"]', 'languages = ["en"]'), "languages"),
    (
        "missing English text",
        mutate('text = { zh-hans = "条目 3", en = "Item 3" }', 'text = { zh-hans = "条目 3" }'),
        "items[2].text.en",
    ),
    ("grades above 12", mutate("grades = [4, 12]", "grades = [4, 13]"), "grades"),
    ("grades below 1", mutate("grades = [4, 12]", "grades = [0, 12]"), "grades"),
    ("grades reversed", mutate("grades = [4, 12]", "grades = [9, 4]"), "grades"),
    ("invalid method", mutate('method = "sum"', 'method = "median"'), "scales[0].method"),
    ("count without threshold", mutate('method = "sum"', 'method = "count"'), "scales[0].count_at_least"),
    ("validity without threshold", BASE + VALIDITY_SCALE, "scales[1].invalid_at_least"),
    (
        "two primary scales",
        BASE
        + VALIDITY_SCALE.replace("validity = true", "primary = true")
        + '[[scales.bands]]\ncode = "any"\nat_least = 0\nconcern = 0\nlabel = { zh-hans = "任", en = "Any" }\n'
        + 'meaning = { zh-hans = "任", en = "Any" }\n',
        "scales",
    ),
    (
        "validity scale as primary",
        BASE + VALIDITY_SCALE + "invalid_at_least = 2\nprimary = true\n",
        "scales[1].primary",
    ),
    ("norm for unknown scale", BASE + NORM.format(scale="anxiety", grades="4, 6", sd=1.0), "norms[0].scale"),
    ("norm with sd 0", BASE + NORM.format(scale="total", grades="4, 6", sd=0), "norms[0].sd"),
    (
        "overlapping norms",
        BASE
        + NORM.format(scale="total", grades="4, 6", sd=1.0)
        + NORM.format(scale="total", grades="6, 9", sd=1.0),
        "norms[1].grades",
    ),
    ("options not ascending", mutate("value = 0", "value = 5"), "option_sets.freq"),
    ("unknown field (typo)", mutate("reverse = true", "revrese = true"), "items[2].revrese"),
    ("bad translation status", mutate('status = "validated"', 'status = "machine"'), "translation.status"),
    ("bad direction", mutate('direction = "problem"', 'direction = "up"'), "direction"),
    (
        "refusal without a critical rule",
        mutate("[[items]]\nnumber = 1\n", REFUSE_OPTION + '[[items]]\nnumber = 1\noptions = "yn"\n')
        .replace("[[items]]\nnumber = 2\n", '[[items]]\nnumber = 2\noptions = "freq"\n')
        .replace("[[items]]\nnumber = 3\n", '[[items]]\nnumber = 3\noptions = "freq"\n')
        .replace("at_least = 2\ncode", "values = [1]\ncode"),
        "items[0].options",
    ),
    (
        "ask_if on a later item",
        mutate("number = 1\n", "number = 1\nask_if = { items = [2], values = [1] }\n"),
        "items[0].ask_if.items",
    ),
    (
        "ask_if value not an option",
        mutate("number = 2\n", "number = 2\nask_if = { items = [1], values = [7] }\n"),
        "items[1].ask_if.values",
    ),
]


@pytest.mark.parametrize(("case", "text", "field"), BAD_FILES, ids=[case for case, *_ in BAD_FILES])
def test_loader_rejects_a_bad_file_naming_the_field(case: str, text: str, field: str) -> None:
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(text, origin="bad.toml")
    error = caught.value
    assert error.field == field, str(error)
    assert error.origin == "bad.toml"
    assert str(error) == f"bad.toml: {field}: {error.message_zh} / {error.message_en}"
    assert re.search(r"[\u4e00-\u9fff]", error.message_zh)
    assert isinstance(error, ValueError)


def test_at_least_twelve_distinct_rejections() -> None:
    assert len({field for *_, field in BAD_FILES}) >= 12


def test_the_base_of_the_bad_files_is_itself_valid() -> None:
    demo = parse_instrument(BASE, origin="demo.toml")
    assert demo.code == "DEMO" and demo.item(3).score_of == {0: 2, 1: 1, 2: 0}
    assert FORMAT == "xinyu-instrument/1"


def test_a_refusal_with_its_critical_rule_is_accepted() -> None:
    text = (
        mutate("[[items]]\nnumber = 1\n", REFUSE_OPTION + '[[items]]\nnumber = 1\noptions = "yn"\n')
        .replace("[[items]]\nnumber = 2\n", '[[items]]\nnumber = 2\noptions = "freq"\n')
        .replace("[[items]]\nnumber = 3\n", '[[items]]\nnumber = 3\noptions = "freq"\n')
        .replace("at_least = 2\ncode", "refused = true\ncode")
    )
    demo = parse_instrument(text)
    assert demo.critical[0].refused and demo.critical[0].hit_values == frozenset({9})
    assert demo.critical[0].matches(9, refused=True) and not demo.critical[0].matches(1)


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(BASE.encode("gb18030"))
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert (caught.value.origin, caught.value.field) == ("gbk.toml", "(file)")


# ---- registry and system checks ---------------------------------------------------------


def test_registry_rejects_two_files_with_one_code(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "phq9.toml", tmp_path / "a.toml")
    shutil.copy(SHIPPED / "phq9.toml", tmp_path / "b.toml")
    with override_settings(XINYU_INSTRUMENT_DIRS=[tmp_path]), pytest.raises(InstrumentError) as caught:
        registry()
    assert (caught.value.origin, caught.value.field) == ("b.toml", "code")
    assert "a.toml" in str(caught.value)


def test_registry_reads_every_configured_directory(tmp_path: Path) -> None:
    shutil.copy(TEST_FILES / "mht_like.toml", tmp_path / "mht.toml")
    with override_settings(XINYU_INSTRUMENT_DIRS=[SHIPPED, tmp_path]):
        assert "MHT_TEST" in registry() and "PHQ9" in registry()


def test_check_reports_each_bad_instrument_file(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "bad.toml").write_text(BASE.replace('method = "sum"', 'method = "median"'), encoding="utf-8")
    with override_settings(XINYU_INSTRUMENT_DIRS=[tmp_path]):
        errors = checks.check_instruments()
    assert [e.id for e in errors] == ["xinyu.E010"]
    assert errors[0].msg.startswith("bad.toml: scales[0].method: ")


def test_check_reports_a_missing_directory(tmp_path: Path) -> None:
    with override_settings(XINYU_INSTRUMENT_DIRS=[tmp_path / "nowhere"]):
        errors = checks.check_instruments()
    assert [e.id for e in errors] == ["xinyu.E010"] and "XINYU_INSTRUMENT_DIRS" in errors[0].msg


def test_checks_pass_on_the_shipped_files_and_policies() -> None:
    from xinyu.kernel import checks as kernel_checks

    assert checks.check_instruments() == []
    assert kernel_checks.district_policy_files() == []


def _check_policy(tmp_path, monkeypatch, policy_text: str) -> list:
    """Run the policy-file checks over a policies/ folder holding only `policy_text` as the
    default file (the real loader and the real system check; nothing patched but the folder)."""
    from xinyu.kernel import checks as kernel_checks
    from xinyu.kernel import policyfile

    (tmp_path / "default.toml").write_text(policy_text)
    monkeypatch.setattr(policyfile, "POLICY_DIR", tmp_path)
    policyfile.policy_for_code.cache_clear()
    try:
        return [e for e in kernel_checks.district_policy_files() if e.id == "xinyu.E011"]
    finally:
        monkeypatch.undo()
        policyfile.policy_for_code.cache_clear()


def test_policy_check_reports_a_bad_screening_section(tmp_path, monkeypatch) -> None:
    bad = """
[[screening.tiers]]
code = "none"
label = { zh-hans = "无", en = "None" }

[[screening.rules]]
tier = "red"
critical = true
"""
    errors = _check_policy(tmp_path, monkeypatch, bad)
    assert errors and {e.id for e in errors} == {"xinyu.E011"}
    assert "screening.rules[0].tier" in errors[0].msg


def test_policy_check_names_instruments_the_registry_lacks(tmp_path, monkeypatch) -> None:
    import tomllib

    from xinyu.kernel.policyfile import POLICY_DIR

    text = (POLICY_DIR / "default.toml").read_text()
    policy = tomllib.loads(text)
    assert policy["screening"]["rules"], "the default policy has tier rules"
    # The same file with one more rule naming an instrument the registry does not have.
    text += '\n[[screening.rules]]\ntier = "urgent"\ncritical = true\ninstrument = "SDQ"\n'
    n = len(policy["screening"]["rules"])
    errors = _check_policy(tmp_path, monkeypatch, text)
    assert errors and f"screening.rules[{n}].instrument" in errors[0].msg


JUNK = [
    '"x"',
    "-1",
    "0",
    "1.5",
    "true",
    "[]",
    '["a"]',
    "[[1, 2]]",
    "{}",
    "{ a = 1 }",
    '{ zh-hans = "", en = "" }',
]


def test_any_junk_value_is_rejected_cleanly() -> None:
    """Every `key = value` line of a valid file, with its value replaced by junk, either still
    loads or raises InstrumentError: never another exception."""
    lines = BASE.splitlines()
    tried = 0
    for n, line in enumerate(lines):
        if " = " not in line or line.startswith("["):
            continue
        key = line.split(" = ", 1)[0]
        for junk in JUNK:
            text = "\n".join([*lines[:n], f"{key} = {junk}", *lines[n + 1 :]])
            tried += 1
            try:
                parse_instrument(text)
            except InstrumentError as exc:
                assert exc.field and exc.message_zh and exc.message_en
    assert tried > 400
