"""Scoring one questionnaire protocol, and spotting careless responding.

Pure: no Django, no database, no clock. `score()` turns an instrument and the stored answers
(item number → option value) into an `InstrumentResult`: every scale's raw score, band, concern
level and norm score, the critical answers, and the flags that make a protocol invalid.

A protocol is valid only when it has no flags. Flags:
- "incomplete": an item that was asked has no answer;
- "validity:<scale>": a validity (lie) scale reached its `invalid_at_least`;
- "too_fast": fewer seconds than answered items × the instrument's `min_seconds_per_item`;
- "straightline": at least 8 answers all at the same option position while the items point in
  both directions (see `careless_flags`).
An invalid protocol is marked for re-test; its critical answers and concern still count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .instruments import Instrument, Item

STRAIGHTLINE_MIN_ITEMS = 8


@dataclass(frozen=True)
class NormScore:
    kind: str  # "T" | "percentile"
    value: float
    version: str  # the norm group's version, kept with the result


@dataclass(frozen=True)
class ScaleScore:
    code: str
    raw: float  # after the scale's multiplier
    band: str | None  # band code; None when the scale has no bands or no answered items
    concern: int
    norm: NormScore | None


@dataclass(frozen=True)
class CriticalHit:
    item: int
    code: str


@dataclass(frozen=True)
class InstrumentResult:
    instrument: str
    version: str
    scales: dict[str, ScaleScore]
    concern: int  # highest concern over the non-validity scales
    critical: tuple[CriticalHit, ...]
    valid: bool  # False when flagged
    flags: tuple[str, ...]
    complete: bool
    missing: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "version": self.version,
            "scales": {
                code: {
                    "raw": s.raw,
                    "band": s.band,
                    "concern": s.concern,
                    "norm": None
                    if s.norm is None
                    else {"kind": s.norm.kind, "value": s.norm.value, "version": s.norm.version},
                }
                for code, s in self.scales.items()
            },
            "concern": self.concern,
            "critical": [{"item": h.item, "code": h.code} for h in self.critical],
            "valid": self.valid,
            "flags": list(self.flags),
            "complete": self.complete,
            "missing": list(self.missing),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InstrumentResult:
        scales = {
            code: ScaleScore(
                code=code,
                raw=s["raw"],
                band=s["band"],
                concern=s["concern"],
                norm=None if s["norm"] is None else NormScore(**s["norm"]),
            )
            for code, s in data["scales"].items()
        }
        return cls(
            instrument=data["instrument"],
            version=data["version"],
            scales=scales,
            concern=data["concern"],
            critical=tuple(CriticalHit(h["item"], h["code"]) for h in data["critical"]),
            valid=data["valid"],
            flags=tuple(data["flags"]),
            complete=data["complete"],
            missing=tuple(data["missing"]),
        )


def _item_score(item: Item, value: int) -> int | None:
    try:
        return item.score_of[value]
    except KeyError:
        raise ValueError(f"item {item.number}: {value!r} is not one of its option values") from None


def score(
    instrument: Instrument,
    answers: Mapping[int, int | None],
    *,
    seconds: float | None = None,
    grade: int | None = None,
    sex: str | None = None,
) -> InstrumentResult:
    """Score one protocol. `answers` maps item number → stored option value (None: no answer).

    An item not asked (its `ask_if` is not met) is not missing. An answer given anyway is still
    scored, so a critical answer is never ignored. `seconds`, when given, is checked against the
    instrument's time floor; `grade` and `sex` choose the norm group."""
    for number in answers:
        if number not in instrument.items_by_number:
            raise ValueError(f"{instrument.code} has no item {number!r}")

    scores: dict[int, int] = {}  # item number → score after reversal (refusals score nothing)
    missing: list[int] = []
    answered = 0
    for item in instrument.items:
        value = answers.get(item.number)
        if value is None:
            if item.ask_if is None or item.ask_if.met(answers):
                missing.append(item.number)
            continue
        answered += 1
        item_score = _item_score(item, value)
        if item_score is not None:
            scores[item.number] = item_score

    flags: list[str] = ["incomplete"] if missing else []
    scales: dict[str, ScaleScore] = {}
    concern = 0
    for scale in instrument.scales:
        total = 0
        count = 0
        at_least = scale.count_at_least
        for number in scale.items:
            s = scores.get(number)
            if s is None:
                continue
            count += 1
            if at_least is None:
                total += s
            elif s >= at_least:
                total += 1
        raw = (total / count if scale.method == "mean" and count else float(total)) * scale.multiplier
        band = scale.band_for(raw) if count else None
        scale_concern = band.concern if band else 0
        norm = instrument.norm_for(scale.code, grade, sex)
        scales[scale.code] = ScaleScore(
            code=scale.code,
            raw=raw,
            band=band.code if band else None,
            concern=scale_concern,
            norm=None if norm is None else NormScore(norm.kind, norm.convert(raw), norm.version),
        )
        if scale.validity:
            if scale.invalid_at_least is not None and count and raw >= scale.invalid_at_least:
                flags.append(f"validity:{scale.code}")
        elif scale_concern > concern:
            concern = scale_concern

    critical = tuple(
        CriticalHit(rule.item, rule.code)
        for rule in instrument.critical
        if answers.get(rule.item) in rule.hit_values
    )
    if seconds is not None and seconds < answered * instrument.min_seconds_per_item:
        flags.append("too_fast")
    if _straightlined([(instrument, answers)]):
        flags.append("straightline")
    return InstrumentResult(
        instrument=instrument.code,
        version=instrument.version,
        scales=scales,
        concern=concern,
        critical=critical,
        valid=not flags,
        flags=tuple(flags),
        complete=not missing,
        missing=tuple(missing),
    )


def careless_flags(
    parts: Sequence[tuple[Instrument, Mapping[int, int | None]]], *, seconds: float | None
) -> tuple[str, ...]:
    """Careless-responding flags for a whole battery (several instruments answered in one go).

    "too_fast": `seconds` below the sum over instruments of answered items × min_seconds_per_item.
    "straightline": see `_straightlined`."""
    flags: list[str] = []
    if seconds is not None:
        floor = sum(
            inst.min_seconds_per_item * sum(1 for v in answers.values() if v is not None)
            for inst, answers in parts
        )
        if seconds < floor:
            flags.append("too_fast")
    if _straightlined(parts):
        flags.append("straightline")
    return tuple(flags)


def _straightlined(parts: Sequence[tuple[Instrument, Mapping[int, int | None]]]) -> bool:
    """At least 8 answers, all at the same option position (counted from the first option, or
    all from the last), on items pointing in both directions.

    An item's direction is its instrument's ("problem": a higher value is worse) flipped when
    the item is reverse-scored. The same position on items of opposite direction means opposite
    things (PHQ-9 "not at all" next to WHO-5 "at no time"), so a real respondent rarely does it;
    all zeros on PHQ-9 alone is a plausible answer and is not flagged. Refusals are skipped."""
    from_start: set[int] = set()
    from_end: set[int] = set()
    directions: set[bool] = set()
    count = 0
    for instrument, answers in parts:
        problem = instrument.direction == "problem"
        for item in instrument.items:
            value = answers.get(item.number)
            if value is None:
                continue
            position = item.position_of.get(value)
            if position is None:
                _item_score(item, value)  # raises for a value that is not an option
                continue  # a refusal
            count += 1
            from_start.add(position[0])
            from_end.add(position[1])
            directions.add(problem != item.reverse)
            if len(from_start) > 1 and len(from_end) > 1:
                return False
    return count >= STRAIGHTLINE_MIN_ITEMS and len(directions) == 2
