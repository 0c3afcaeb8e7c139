"""The scoring function (`xinyu.screening.scoring`): hand-computed cases for every shipped
instrument, every band boundary and every critical item; reverse scoring, ask_if, refusals,
norms, validity scales, the engine features of MHT / MSSMHS / SCARED / SCL-90 / CES-DC, and
careless-response detection."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyu.screening.instruments import Instrument, load_directory, registry
from xinyu.screening.scoring import InstrumentResult, NormScore, careless_flags, score

TEST_FILES = Path(__file__).parent / "instruments"
SHIPPED = registry()
TESTS = load_directory([TEST_FILES])
PHQ9, GAD7, K6, WHO5, ASQ = (SHIPPED[c] for c in ("PHQ9", "GAD7", "K6", "WHO5", "ASQ"))
MHT, MSSMHS, SCARED, CESDC, SCL90, NORMS = (
    TESTS[c] for c in ("MHT_TEST", "MSSMHS_TEST", "SCARED_TEST", "CESDC_TEST", "SCL90_TEST", "NORMS_TEST")
)


def seq(*values: int) -> dict[int, int | None]:
    """Answers to items 1, 2, 3 … in order."""
    return {n: v for n, v in enumerate(values, start=1)}


def fill(instrument: Instrument, default: int, **by_item: int) -> dict[int, int | None]:
    """Every item answered `default`, except items given as i<number>=value."""
    answers: dict[int, int | None] = {item.number: default for item in instrument.items}
    for key, value in by_item.items():
        answers[int(key[1:])] = value
    return answers


def with_items(
    instrument: Instrument, default: int, items: Sequence[int], value: int
) -> dict[int, int | None]:
    answers: dict[int, int | None] = {item.number: default for item in instrument.items}
    for n in items:
        answers[n] = value
    return answers


def total(result: InstrumentResult, scale: str = "total") -> tuple[float, str | None, int]:
    s = result.scales[scale]
    return s.raw, s.band, s.concern


# ---- PHQ-9 ------------------------------------------------------------------------------

PHQ9_CASES = [
    # answers to items 1–9 (item 9 = 0 unless testing it), total, band, concern
    ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "minimal", 0),
    ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "minimal", 0),
    ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "mild", 1),
    ((3, 3, 3, 0, 0, 0, 0, 0, 0), 9, "mild", 1),
    ((3, 3, 3, 1, 0, 0, 0, 0, 0), 10, "moderate", 2),
    ((2, 2, 2, 2, 2, 2, 2, 0, 0), 14, "moderate", 2),
    ((2, 2, 2, 2, 2, 2, 2, 1, 0), 15, "moderately_severe", 3),
    ((3, 3, 3, 3, 3, 2, 2, 0, 0), 19, "moderately_severe", 3),
    ((3, 3, 3, 3, 3, 3, 2, 0, 0), 20, "severe", 3),
    ((3, 3, 3, 3, 3, 3, 3, 3, 0), 24, "severe", 3),
]


@pytest.mark.parametrize(("answers", "raw", "band", "concern"), PHQ9_CASES)
def test_phq9_bands(answers: tuple[int, ...], raw: int, band: str, concern: int) -> None:
    result = score(PHQ9, seq(*answers))
    assert total(result) == (raw, band, concern)
    assert result.concern == concern
    assert result.critical == () and result.valid and result.complete and result.flags == ()


@pytest.mark.parametrize(("item9", "hit"), [(0, False), (1, True), (2, True), (3, True)])
def test_phq9_item9_is_critical_from_several_days(item9: int, hit: bool) -> None:
    result = score(PHQ9, seq(0, 0, 0, 0, 0, 0, 0, 0, item9))
    assert [(h.item, h.code) for h in result.critical] == ([(9, "phq9_item9")] if hit else [])
    assert total(result) == (item9, "minimal", 0)  # critical whatever the total says


def test_phq9_maximum() -> None:
    result = score(PHQ9, seq(3, 3, 3, 3, 3, 3, 3, 3, 3))
    assert total(result) == (27, "severe", 3) and len(result.critical) == 1


# ---- GAD-7 ------------------------------------------------------------------------------

GAD7_CASES = [
    ((0, 0, 0, 0, 0, 0, 0), 0, "minimal", 0),
    ((1, 1, 1, 1, 0, 0, 0), 4, "minimal", 0),
    ((1, 1, 1, 1, 1, 0, 0), 5, "mild", 1),
    ((3, 3, 3, 0, 0, 0, 0), 9, "mild", 1),
    ((3, 3, 3, 1, 0, 0, 0), 10, "moderate", 2),
    ((2, 2, 2, 2, 2, 2, 2), 14, "moderate", 2),
    ((3, 2, 2, 2, 2, 2, 2), 15, "severe", 3),
    ((3, 3, 3, 3, 3, 3, 3), 21, "severe", 3),
]


@pytest.mark.parametrize(("answers", "raw", "band", "concern"), GAD7_CASES)
def test_gad7_bands(answers: tuple[int, ...], raw: int, band: str, concern: int) -> None:
    result = score(GAD7, seq(*answers))
    assert total(result) == (raw, band, concern) and result.concern == concern
    assert result.critical == ()


# ---- K6 (stored like the Mandarin form: 0 = all of the time, reverse-scored) ---------------

K6_CASES = [
    ((4, 4, 4, 4, 4, 4), 0, "below_cutoff", 0),  # none of the time
    ((2, 2, 2, 2, 2, 2), 12, "below_cutoff", 0),  # some of the time = 2 each
    ((1, 2, 2, 2, 2, 2), 13, "at_cutoff", 2),  # most of the time = 3
    ((0, 0, 0, 0, 0, 0), 24, "at_cutoff", 2),  # all of the time = 4 each
]


@pytest.mark.parametrize(("answers", "raw", "band", "concern"), K6_CASES)
def test_k6_bands(answers: tuple[int, ...], raw: int, band: str, concern: int) -> None:
    result = score(K6, seq(*answers))
    assert total(result) == (raw, band, concern) and result.concern == concern


# ---- WHO-5 (higher is better; the reference file's golden cases) ---------------------------

WHO5_CASES = [
    ((0, 0, 0, 0, 0), 0, 0, "low", 2),
    ((2, 2, 2, 3, 3), 12, 48, "low", 2),
    ((3, 2, 3, 2, 3), 13, 52, "not_low", 0),
    ((5, 5, 5, 5, 5), 25, 100, "not_low", 0),
]


@pytest.mark.parametrize(("answers", "raw", "percent", "band", "concern"), WHO5_CASES)
def test_who5_bands_and_percentage(
    answers: tuple[int, ...], raw: int, percent: int, band: str, concern: int
) -> None:
    result = score(WHO5, seq(*answers))
    assert total(result) == (raw, band, concern)
    assert total(result, "percent") == (percent, None, 0)
    assert result.concern == concern


def test_who5_missing_answer_is_incomplete_and_invalid() -> None:
    result = score(WHO5, {1: 5, 2: 5, 3: 5, 4: 5})
    assert (result.complete, result.missing, result.valid, result.flags) == (
        False,
        (5,),
        False,
        ("incomplete",),
    )
    assert total(result) == (20, "not_low", 0)


def test_an_answer_that_is_not_an_option_is_refused() -> None:
    with pytest.raises(ValueError, match=r"item 1: 9 is not one of its option values"):
        score(WHO5, seq(9, 0, 0, 0, 0))
    with pytest.raises(ValueError, match=r"no item 6"):
        score(WHO5, seq(0, 0, 0, 0, 0, 0))


# ---- ASQ --------------------------------------------------------------------------------

NO, YES, REFUSE = 0, 1, 9


def test_asq_all_no_is_complete_without_question_5() -> None:
    result = score(ASQ, seq(NO, NO, NO, NO))
    assert total(result) == (0, "no_yes", 0)
    assert (result.critical, result.complete, result.valid) == ((), True, True)


@pytest.mark.parametrize("item", [1, 2, 3, 4])
def test_asq_any_yes_is_positive_and_critical(item: int) -> None:
    answers = seq(NO, NO, NO, NO)
    answers[item] = YES
    answers[5] = NO
    result = score(ASQ, answers)
    assert total(result) == (1, "positive", 3) and result.concern == 3
    assert [(h.item, h.code) for h in result.critical] == [(item, "asq_positive")]
    assert result.complete


def test_asq_question_5_must_be_answered_after_a_yes() -> None:
    result = score(ASQ, seq(YES, NO, NO, NO))
    assert (result.complete, result.missing, result.flags) == (False, (5,), ("incomplete",))


def test_asq_yes_to_question_5_is_acute() -> None:
    result = score(ASQ, seq(YES, YES, NO, NO, YES))
    assert total(result) == (2, "positive", 3)
    assert [(h.item, h.code) for h in result.critical] == [
        (1, "asq_positive"),
        (2, "asq_positive"),
        (5, "asq_acute"),
    ]


@pytest.mark.parametrize("item", [1, 2, 3, 4, 5])
def test_asq_refusal_is_critical(item: int) -> None:
    answers = seq(NO, NO, NO, NO, NO)
    answers[item] = REFUSE
    if item == 5:
        answers[1] = YES  # question 5 is only asked after a yes
    result = score(ASQ, answers)
    assert (item, "asq_refused") in [(h.item, h.code) for h in result.critical]
    assert result.complete  # a refusal is an answer, not a gap


def test_asq_refusal_asks_question_5_and_scores_nothing() -> None:
    result = score(ASQ, seq(NO, REFUSE, NO, NO))
    assert result.missing == (5,)
    assert total(result) == (0, "no_yes", 0)
    assert [(h.item, h.code) for h in result.critical] == [(2, "asq_refused")]


def test_an_answer_to_an_item_not_asked_is_still_scored() -> None:
    result = score(ASQ, seq(NO, NO, NO, NO, YES))
    assert [(h.item, h.code) for h in result.critical] == [(5, "asq_acute")]
    assert result.complete


# ---- reverse scoring: CES-DC shape --------------------------------------------------------


def test_cesdc_reverse_items_score_min_plus_max_minus_value() -> None:
    assert [CESDC.item(n).reverse for n in (3, 4, 8, 12, 16)] == [False, True, True, True, True]
    # forward items 0, reversed items answered 3 (score 0): nothing reported, not straight-lined.
    healthy = with_items(CESDC, 0, [4, 8, 12, 16], 3)
    result = score(CESDC, healthy)
    assert total(result) == (0, "below", 0) and result.valid
    # answering 0 everywhere scores the four reversed items 3 each.
    assert total(score(CESDC, fill(CESDC, 0))) == (12, "below", 0)


def test_cesdc_boundary() -> None:
    base = with_items(CESDC, 0, [4, 8, 12, 16], 3)
    fourteen = {**base, 1: 3, 2: 3, 3: 3, 5: 3, 6: 2}  # 3+3+3+3+2
    fifteen = {**fourteen, 7: 1}
    assert total(score(CESDC, fourteen)) == (14, "below", 0)
    assert total(score(CESDC, fifteen)) == (15, "elevated", 2)
    reversed_too = {**fourteen, 4: 2}  # item 4 answered 2 scores 1
    assert total(score(CESDC, reversed_too)) == (15, "elevated", 2)


def test_cesdc_alone_all_one_option_is_straight_lining() -> None:
    result = score(CESDC, fill(CESDC, 1))
    assert total(result) == (16 + 4 * 2, "elevated", 2)
    assert result.flags == ("straightline",) and not result.valid


# ---- MHT shape: yes/no items, content scales, lie scale invalidates ----------------------

LIE = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


@pytest.mark.parametrize(("lie_yes", "valid"), [(0, True), (6, True), (7, False), (10, False)])
def test_mht_lie_scale_invalidates_at_seven(lie_yes: int, valid: bool) -> None:
    result = score(MHT, with_items(MHT, 0, LIE[:lie_yes], 1))
    assert result.scales["L"].raw == lie_yes
    assert result.valid is valid
    assert result.flags == (() if valid else ("validity:L",))
    assert result.concern == 0  # a validity scale never adds concern


def test_mht_content_scale_high_at_eight() -> None:
    study = MHT.scale("study").items
    assert len(study) == 15 and study[:3] == (1, 2, 3)
    seven = score(MHT, with_items(MHT, 0, study[:7], 1))
    eight = score(MHT, with_items(MHT, 0, study[:8], 1))
    assert total(seven, "study") == (7, "normal", 0) and seven.concern == 0
    assert total(eight, "study") == (8, "high", 2) and eight.concern == 2
    assert total(eight) == (8, "normal", 0)


@pytest.mark.parametrize(
    ("yes", "band", "concern"), [(55, "normal", 0), (56, "elevated", 1), (64, "elevated", 1), (65, "high", 3)]
)
def test_mht_total_bands(yes: int, band: str, concern: int) -> None:
    content = MHT.scale("total").items
    result = score(MHT, with_items(MHT, 0, content[:yes], 1))
    assert total(result) == (yes, band, concern)
    assert result.concern >= concern  # content scales are high too by then


def test_invalid_protocol_keeps_its_scores() -> None:
    study = MHT.scale("study").items
    result = score(MHT, with_items(MHT, 0, list(study[:8]) + LIE[:7], 1))
    assert result.flags == ("validity:L",) and result.concern == 2


# ---- MSSMHS shape: factor means -----------------------------------------------------------

OBSESSIVE = [3, 10, 12, 22, 23, 48]


@pytest.mark.parametrize(
    ("values", "mean", "band", "concern"),
    [
        ((1, 1, 1, 1, 1, 1), 1.0, "normal", 0),
        ((1, 2, 2, 2, 2, 2), 11 / 6, "normal", 0),
        ((2, 2, 2, 2, 2, 2), 2.0, "attention", 1),
        ((1, 2, 2, 2, 2, 3), 2.0, "attention", 1),
        ((3, 3, 3, 3, 3, 2), 17 / 6, "attention", 1),
        ((3, 3, 3, 3, 3, 3), 3.0, "moderate", 2),
        ((4, 4, 4, 4, 4, 4), 4.0, "severe", 3),
        ((5, 5, 5, 5, 5, 5), 5.0, "severe", 3),
    ],
)
def test_mssmhs_factor_means(values: tuple[int, ...], mean: float, band: str, concern: int) -> None:
    answers = fill(MSSMHS, 1)
    answers.update(zip(OBSESSIVE, values, strict=True))
    result = score(MSSMHS, answers)
    assert result.scales["obsessive"].raw == pytest.approx(mean)
    assert (result.scales["obsessive"].band, result.scales["obsessive"].concern) == (band, concern)
    assert result.scales["depression"].band == "normal"
    assert result.concern == concern
    assert result.scales["total"].raw == pytest.approx((54 + sum(values)) / 60)


def test_mssmhs_mean_uses_answered_items_only() -> None:
    answers = fill(MSSMHS, 1)
    answers.update({3: 2, 10: 2, 12: 2, 22: 2, 23: 2, 48: None})
    result = score(MSSMHS, answers)
    assert result.scales["obsessive"].raw == 2.0 and result.missing == (48,) and not result.valid


# ---- SCARED shape: subscale thresholds -----------------------------------------------------

SCARED_SUBSCALES = [
    # scale, its items, threshold
    ("panic", [1, 6, 9, 12, 15, 18, 19, 22, 24, 27, 30, 34, 38], 7),
    ("generalized", [5, 7, 14, 21, 23, 28, 33, 35, 37], 9),
    ("separation", [4, 8, 13, 16, 20, 25, 29, 31], 5),
    ("social", [3, 10, 26, 32, 39, 40, 41], 8),
    ("school", [2, 11, 17, 36], 3),
]


def spread(items: Sequence[int], raw: int) -> dict[int, int | None]:
    """SCARED answers (0–2) summing to `raw` on these items: 1 on each in turn, then 2."""
    answers: dict[int, int | None] = {n: 0 for n in range(1, 42)}
    for k in range(raw):
        n = items[k % len(items)]
        answers[n] = (answers[n] or 0) + 1
    return answers


def test_spread_helper() -> None:
    assert {n: v for n, v in spread([2, 11, 17, 36], 6).items() if v} == {2: 2, 11: 2, 17: 1, 36: 1}


@pytest.mark.parametrize(("scale", "items", "threshold"), SCARED_SUBSCALES)
def test_scared_subscale_thresholds(scale: str, items: list[int], threshold: int) -> None:
    assert SCARED.scale(scale).items == tuple(items)
    below = score(SCARED, spread(items, threshold - 1))
    at = score(SCARED, spread(items, threshold))
    assert total(below, scale) == (threshold - 1, "below", 0)
    assert total(at, scale) == (threshold, "elevated", 2)
    assert (below.concern, at.concern) == (0, 2)


@pytest.mark.parametrize(("raw", "band"), [(24, "below"), (25, "elevated")])
def test_scared_total_threshold(raw: int, band: str) -> None:
    result = score(SCARED, spread(list(range(1, 42)), raw))  # 1 on items 1–24 (or 25)
    assert total(result)[:2] == (raw, band)


# ---- SCL-90 shape: total > 160, > 43 items ≥ 2, any factor mean ≥ 2 -----------------------

HOSTILITY = [11, 24, 63, 67, 74, 81]
# Items taken from several factors so that no factor mean reaches 2.
SPREAD = [n for n in range(1, 91) if n not in HOSTILITY]


def test_scl90_all_none_is_no_concern() -> None:
    result = score(SCL90, fill(SCL90, 1))
    assert total(result) == (90, "below", 0)
    assert total(result, "positive_items") == (0, "below", 0)
    assert result.concern == 0 and result.critical == ()


def _count_only(k: int) -> dict[int, int | None]:
    """k items scored 2, chosen round-robin over the factors so each factor mean stays below 2."""
    factors = [s for s in SCL90.scales if s.method == "mean"]
    chosen: list[int] = []
    pools = [list(f.items) for f in factors]
    while len(chosen) < k:
        for pool in pools:
            if len(pool) > 1 and len(chosen) < k:  # leave one item of each factor at 1
                chosen.append(pool.pop())
    return with_items(SCL90, 1, chosen, 2)


@pytest.mark.parametrize(("k", "band", "concern"), [(43, "below", 0), (44, "positive", 2)])
def test_scl90_count_of_items_at_least_two(k: int, band: str, concern: int) -> None:
    result = score(SCL90, _count_only(k))
    assert total(result, "positive_items") == (k, band, concern)
    assert total(result) == (90 + k, "below", 0)
    assert all(
        s.band != "positive" for c, s in result.scales.items() if c not in ("positive_items", "additional")
    )
    assert result.concern == concern


@pytest.mark.parametrize(("extra", "band"), [(70, "below"), (71, "positive")])
def test_scl90_total_above_160(extra: int, band: str) -> None:
    answers = fill(SCL90, 1)
    # raise items by 1 each, avoiding item 15 (critical); 71 items ≥ 2 also passes the count rule
    raised = [n for n in range(1, 91) if n != 15][:extra]
    for n in raised:
        answers[n] = 2
    result = score(SCL90, answers)
    assert total(result)[:2] == (90 + extra, band)


@pytest.mark.parametrize(("twos", "band", "concern"), [(5, "below", 0), (6, "positive", 2)])
def test_scl90_any_factor_mean_at_least_two(twos: int, band: str, concern: int) -> None:
    result = score(SCL90, with_items(SCL90, 1, HOSTILITY[:twos], 2))
    assert result.scales["hostility"].raw == pytest.approx((6 + twos) / 6)
    assert (result.scales["hostility"].band, result.concern) == (band, concern)


@pytest.mark.parametrize(("value", "hit"), [(1, False), (2, True), (5, True)])
def test_scl90_critical_item(value: int, hit: bool) -> None:
    result = score(SCL90, fill(SCL90, 1, i15=value))
    assert [(h.item, h.code) for h in result.critical] == ([(15, "scl90_item15")] if hit else [])


# ---- norms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "sex", "expected"),
    [
        (5, "M", NormScore("T", 60.0, "2020-boys-girls")),  # 50 + 10 × (6 − 4) / 2
        (5, "F", NormScore("T", 54.0, "2020-boys-girls")),  # 50 + 10 × (6 − 5) / 2.5
        (5, None, None),  # no group for either sex in grades 4–6
        (8, "M", NormScore("T", 50.0, "2022-secondary")),  # the "any" group: (6 − 6) / 3
        (8, None, NormScore("T", 50.0, "2022-secondary")),
        (None, "M", None),
    ],
)
def test_t_norms_by_grade_and_sex(grade: int | None, sex: str | None, expected: NormScore | None) -> None:
    result = score(NORMS, seq(3, 3, 0, 0), grade=grade, sex=sex)
    assert result.scales["total"].raw == 6
    assert result.scales["total"].norm == expected


def test_t_norm_rounds_to_one_decimal() -> None:
    result = score(NORMS, seq(1, 0, 0, 0), grade=7, sex="F")  # 50 + 10 × (1 − 6) / 3 = 33.33…
    assert result.scales["total"].norm == NormScore("T", 33.3, "2022-secondary")


@pytest.mark.parametrize(
    ("raw", "percentile"), [(0, 10), (1, 10), (2, 40), (3, 40), (4, 75), (5, 75), (6, 97)]
)
def test_percentile_norms(raw: int, percentile: float) -> None:
    answers = seq(min(raw, 3), raw - min(raw, 3), 0, 0)
    result = score(NORMS, answers, grade=10, sex="F")
    assert result.scales["part"].raw == raw
    assert result.scales["part"].norm == NormScore("percentile", percentile, "2021-pilot")


# ---- careless responding ------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "flagged"), [(8.9, True), (9.0, False), (None, False)])
def test_too_fast_for_one_instrument(seconds: float | None, flagged: bool) -> None:
    result = score(PHQ9, seq(1, 0, 1, 0, 1, 0, 1, 0, 0), seconds=seconds)
    assert result.flags == (("too_fast",) if flagged else ())
    assert result.valid is not flagged


def test_time_floor_is_per_instrument() -> None:
    answers = fill(SCL90, 1, i1=2, i2=3)  # 90 items × 1.5 s = 135 s
    assert score(SCL90, answers, seconds=134.9).flags == ("too_fast",)
    assert score(SCL90, answers, seconds=135).flags == ()


def test_battery_too_fast() -> None:
    parts = [(PHQ9, seq(1, 0, 1, 0, 1, 0, 1, 0, 0)), (GAD7, seq(1, 0, 1, 0, 1, 0, 1))]
    assert careless_flags(parts, seconds=15.9) == ("too_fast",)
    assert careless_flags(parts, seconds=16) == ()
    assert careless_flags(parts, seconds=None) == ()


def test_flagged_protocol_still_reports_concern_and_critical() -> None:
    result = score(PHQ9, seq(3, 3, 3, 3, 3, 3, 3, 3, 3), seconds=2)
    assert (result.valid, result.flags, result.concern) == (False, ("too_fast",), 3)
    assert [h.code for h in result.critical] == ["phq9_item9"]


def test_straight_line_across_phq9_and_who5() -> None:
    # "not at all" on PHQ-9 and "at no time" on WHO-5 contradict each other
    assert careless_flags([(PHQ9, fill(PHQ9, 0)), (WHO5, fill(WHO5, 0))], seconds=None) == ("straightline",)
    # last option everywhere: "nearly every day" and "all of the time"
    assert careless_flags([(PHQ9, fill(PHQ9, 3)), (WHO5, fill(WHO5, 5))], seconds=None) == ("straightline",)


def test_consistent_answers_are_not_straight_lining() -> None:
    assert careless_flags([(PHQ9, fill(PHQ9, 0))], seconds=None) == ()
    assert score(PHQ9, fill(PHQ9, 0)).flags == ()
    assert careless_flags([(PHQ9, fill(PHQ9, 0)), (GAD7, fill(GAD7, 0))], seconds=None) == ()  # one direction
    assert careless_flags([(PHQ9, fill(PHQ9, 0)), (WHO5, fill(WHO5, 5))], seconds=None) == ()  # well on both
    # K6 "all of the time" (reverse-scored) and WHO-5 "at no time" agree: both say unwell.
    assert careless_flags([(K6, fill(K6, 0)), (WHO5, fill(WHO5, 0))], seconds=None) == ()
    assert careless_flags([(K6, fill(K6, 0)), (PHQ9, fill(PHQ9, 0))], seconds=None) == ("straightline",)


def test_straight_line_needs_eight_answers() -> None:
    three = {1: 0, 2: 0, 3: 0}
    two = {1: 0, 2: 0}
    assert careless_flags([(PHQ9, two), (WHO5, fill(WHO5, 0))], seconds=None) == ()  # 7 answers
    assert careless_flags([(PHQ9, three), (WHO5, fill(WHO5, 0))], seconds=None) == ("straightline",)


def test_one_different_answer_breaks_the_straight_line() -> None:
    assert careless_flags([(PHQ9, fill(PHQ9, 0, i4=1)), (WHO5, fill(WHO5, 0))], seconds=None) == ()


def test_refusals_are_not_positions() -> None:
    asq = seq(REFUSE, REFUSE, REFUSE, REFUSE, REFUSE)
    assert careless_flags([(ASQ, asq), (WHO5, fill(WHO5, 0))], seconds=None) == ()


# ---- results as JSON ----------------------------------------------------------------------


def test_json_round_trip() -> None:
    result = score(NORMS, seq(3, 3, 0, 0), grade=5, sex="M", seconds=0.5)
    data = json.loads(json.dumps(result.to_json()))
    assert data["scales"]["total"] == {
        "raw": 6.0,
        "band": "low",
        "concern": 0,
        "norm": {"kind": "T", "value": 60.0, "version": "2020-boys-girls"},
    }
    assert (data["flags"], data["valid"], data["complete"]) == (["too_fast"], False, True)
    assert InstrumentResult.from_json(data) == result
    asq = score(ASQ, seq(YES, NO, NO, NO))
    data = json.loads(json.dumps(asq.to_json()))
    assert data["critical"] == [{"item": 1, "code": "asq_positive"}] and data["missing"] == [5]
    assert InstrumentResult.from_json(data) == asq


# ---- properties ---------------------------------------------------------------------------

ALL = list(SHIPPED.values()) + list(TESTS.values())


@st.composite
def protocols(
    draw: st.DrawFn, instruments: Sequence[Instrument] = ALL
) -> tuple[Instrument, dict[int, int | None]]:
    instrument = draw(st.sampled_from(instruments))
    answers: dict[int, int | None] = {}
    for item in instrument.items:
        scored = [o.value for o in item.options if not o.refuse]
        answers[item.number] = draw(st.sampled_from(scored))
    return instrument, answers


@settings(max_examples=300, deadline=None)
@given(protocols())
def test_every_scale_score_lies_within_its_range(
    protocol: tuple[Instrument, Mapping[int, int | None]],
) -> None:
    instrument, answers = protocol
    result = score(instrument, answers)
    for scale in instrument.scales:
        s = result.scales[scale.code]
        assert scale.low <= s.raw <= scale.high
        assert (s.band is None) == (not scale.bands)
        assert 0 <= s.concern <= 3
    assert result.concern == max(
        (result.scales[s.code].concern for s in instrument.scales if not s.validity), default=0
    )
    assert InstrumentResult.from_json(result.to_json()) == result


@settings(max_examples=300, deadline=None)
@given(protocols([CESDC, K6, PHQ9, WHO5]), st.data())
def test_changing_one_answer_moves_the_sum_by_the_scored_difference(
    protocol: tuple[Instrument, dict[int, int | None]], data: st.DataObject
) -> None:
    instrument, answers = protocol
    item = instrument.item(data.draw(st.sampled_from([i.number for i in instrument.items])))
    new = data.draw(st.sampled_from([o.value for o in item.options]))
    old = answers[item.number]
    assert old is not None
    before = score(instrument, answers).scales["total"].raw
    after = score(instrument, {**answers, item.number: new}).scales["total"].raw
    expected = (old - new) if item.reverse else (new - old)
    assert after - before == expected


@settings(max_examples=200, deadline=None)
@given(protocols([PHQ9]))
def test_phq9_alone_is_never_straight_lining(protocol: tuple[Instrument, dict[int, int | None]]) -> None:
    instrument, answers = protocol
    assert "straightline" not in score(instrument, answers).flags
    assert careless_flags([(instrument, answers)], seconds=None) == ()
