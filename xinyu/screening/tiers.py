"""District tier rules: from scored instruments to a follow-up tier (分级分类). Pure.

The rules live in the `[screening]` section of a district's policy file (policies/*.toml,
docs/INSTRUMENTS.md "Tier rules"). Each rule names a tier and one condition; a student's tier is
the highest tier whose rule matches any of their results, else the first tier (no concern).
Flagged (invalid) protocols are tiered by the same rules: a critical answer is never ignored.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .instruments import CODE_RE, CONCERN_LEVELS, GRADE_RANGE, NAME_RE, SUPPORTED_LANGUAGES, DataFileError
from .scoring import InstrumentResult

SECTION_KEYS = {"tiers", "rules", "class_teacher_task_from", "default_grades", "warning_for_tier"}
RULE_KEYS = {"tier", "instrument", "critical", "concern_at_least", "scale", "at_least", "below", "band"}
CONDITIONS = ("critical", "concern_at_least", "at_least", "band")


class PolicyError(DataFileError):
    """A `[screening]` policy section that fails validation."""


@dataclass(frozen=True)
class Tier:
    code: str
    label: dict[str, str]
    rank: int  # 0 = no concern; higher is more urgent


@dataclass(frozen=True)
class TierRule:
    tier: str
    kind: str  # "critical" | "concern" | "scale" | "band"
    instrument: str | None = None  # only results of this instrument
    concern_at_least: int | None = None
    scale: str | None = None
    at_least: float | None = None
    below: float | None = None
    bands: frozenset[str] = frozenset()

    def reasons(self, result: InstrumentResult) -> list[str]:
        """Why this rule matches the result (empty: it does not)."""
        code = result.instrument
        if self.instrument is not None and self.instrument != code:
            return []
        if self.kind == "critical":
            return [f"{code}.critical:{c}" for c in dict.fromkeys(hit.code for hit in result.critical)]
        if self.kind == "concern":
            assert self.concern_at_least is not None
            return (
                [f"{code}.concern>={self.concern_at_least}"]
                if result.concern >= self.concern_at_least
                else []
            )
        if self.kind == "scale":
            assert self.scale is not None and self.at_least is not None
            s = result.scales.get(self.scale)
            if s is None or s.raw < self.at_least or (self.below is not None and s.raw >= self.below):
                return []
            upper = f"<{self.below:g}" if self.below is not None else ""
            return [f"{code}.{self.scale}>={self.at_least:g}{upper}"]
        # band
        return [
            f"{code}.{s.code}.band:{s.band}"
            for s in result.scales.values()
            if s.band in self.bands and (self.scale is None or s.code == self.scale)
        ]


@dataclass(frozen=True)
class TierPolicy:
    tiers: tuple[Tier, ...]  # ascending; the first means no concern
    rules: tuple[TierRule, ...]
    class_teacher_task_from: str  # from this tier up, the class teacher gets a task
    default_grades: tuple[int, ...]

    def tier(self, code: str) -> Tier:
        for tier in self.tiers:
            if tier.code == code:
                return tier
        raise KeyError(code)


def assign_tier(policy: TierPolicy, results: Sequence[InstrumentResult]) -> tuple[str, tuple[str, ...]]:
    """The highest tier any rule gives, and the reasons: for each instrument, the matches at its
    own highest tier, most urgent first, e.g. ("PHQ9.critical:phq9_item9", "GAD7.concern>=3")."""
    rank = {t.code: t.rank for t in policy.tiers}
    found: list[tuple[int, int, str]] = []  # (tier rank, order, reason)
    for result in results:
        best = -1
        mine: list[tuple[int, str]] = []
        for rule in policy.rules:
            for reason in rule.reasons(result):
                r = rank[rule.tier]
                if r > best:
                    best, mine = r, []
                if r == best:
                    mine.append((r, reason))
        found.extend((r, len(found) + j, reason) for j, (r, reason) in enumerate(mine))
    if not found:
        return policy.tiers[0].code, ()
    found.sort(key=lambda f: (-f[0], f[1]))
    top = policy.tiers[found[0][0]].code
    return top, tuple(dict.fromkeys(reason for _, _, reason in found))


class _PolicyParser:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message_zh: str, message_en: str) -> NoReturn:
        raise PolicyError(where, message_zh, message_en, origin=self.origin)

    def table(self, data: Any, where: str, allowed: Collection[str]) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            self.fail(where, "应为表（table）", "must be a table")
        for key in data:
            if key not in allowed:
                self.fail(f"{where}.{key}", "未知字段", "unknown field")
        return data

    def array(self, data: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.fail(f"{where}.{key}", "应为非空数组", "must be a non-empty array")
        return value

    def number(self, value: Any, where: str) -> float:
        if type(value) not in (int, float):
            self.fail(where, f"应为数字，而不是 {value!r}", f"must be a number, not {value!r}")
        return float(value)

    def parse(self, section: Any, instruments: Collection[str] | None) -> TierPolicy:
        where = "screening"
        if section is None:
            self.fail(where, "缺少 [screening] 部分", "the [screening] section is missing")
        section = self.table(section, where, SECTION_KEYS)
        tiers = self._tiers(section)
        codes = {t.code for t in tiers}
        rules = tuple(
            self._rule(raw, f"{where}.rules[{i}]", codes, instruments)
            for i, raw in enumerate(self.array(section, "rules", where))
        )
        task_from = section.get("class_teacher_task_from")
        if not isinstance(task_from, str) or task_from not in codes:
            self.fail(
                f"{where}.class_teacher_task_from", f"未知的等级 {task_from!r}", f"unknown tier {task_from!r}"
            )
        grades = self.array(section, "default_grades", where)
        for g in grades:
            if type(g) is not int or g not in GRADE_RANGE:
                self.fail(
                    f"{where}.default_grades",
                    f"年级应为 1–12 的整数，而不是 {g!r}",
                    f"grades are whole numbers 1–12, not {g!r}",
                )
        if len(set(grades)) != len(grades):
            self.fail(f"{where}.default_grades", "年级重复", "a grade is listed twice")
        warning_for_tier = section.get("warning_for_tier", {})
        self.table(warning_for_tier, f"{where}.warning_for_tier", codes)
        return TierPolicy(tiers, rules, task_from, tuple(sorted(grades)))

    def _tiers(self, section: Mapping[str, Any]) -> tuple[Tier, ...]:
        tiers: list[Tier] = []
        for i, raw in enumerate(self.array(section, "tiers", "screening")):
            where = f"screening.tiers[{i}]"
            tier = self.table(raw, where, {"code", "label"})
            code = tier.get("code")
            if not isinstance(code, str) or not NAME_RE.match(code):
                self.fail(
                    f"{where}.code",
                    "应为由字母、数字和下划线组成的代码",
                    "must be a code of letters, digits and _",
                )
            if any(t.code == code for t in tiers):
                self.fail(f"{where}.code", f"等级代码 {code!r} 重复", f"tier code {code!r} is used twice")
            label = tier.get("label")
            if not isinstance(label, Mapping):
                self.fail(
                    f"{where}.label",
                    '应为 { zh-hans = "…", en = "…" }',
                    'must be { zh-hans = "…", en = "…" }',
                )
            for language in label:
                if language not in SUPPORTED_LANGUAGES:
                    self.fail(f"{where}.label.{language}", "不支持的语言代码", "unsupported language code")
            for language in SUPPORTED_LANGUAGES:
                if not isinstance(label.get(language), str) or not label[language].strip():
                    self.fail(
                        f"{where}.label.{language}", "缺少该语言的文字", "text missing for this language"
                    )
            tiers.append(Tier(code, dict(label), i))
        return tuple(tiers)

    def _rule(self, raw: Any, where: str, tiers: set[str], instruments: Collection[str] | None) -> TierRule:
        rule = self.table(raw, where, RULE_KEYS)
        tier = rule.get("tier")
        if not isinstance(tier, str) or tier not in tiers:
            self.fail(f"{where}.tier", f"未知的等级 {tier!r}", f"unknown tier {tier!r}")
        instrument = rule.get("instrument")
        if instrument is not None:
            if not isinstance(instrument, str) or not CODE_RE.match(instrument):
                self.fail(
                    f"{where}.instrument",
                    f"量表代码格式不正确：{instrument!r}",
                    f"badly formed instrument code: {instrument!r}",
                )
            if instruments is not None and instrument not in instruments:
                self.fail(
                    f"{where}.instrument", f"未知的量表 {instrument!r}", f"unknown instrument {instrument!r}"
                )
        present = [key for key in CONDITIONS if key in rule]
        if len(present) != 1:
            self.fail(
                where,
                "需要且只能有一个条件：critical、concern_at_least、at_least（配合 scale）或 band",
                "needs exactly one condition: critical, concern_at_least, at_least (with scale) or band",
            )
        condition = present[0]
        scale = rule.get("scale")
        if scale is not None and (not isinstance(scale, str) or not NAME_RE.match(scale)):
            self.fail(
                f"{where}.scale", f"量表代码格式不正确：{scale!r}", f"badly formed scale code: {scale!r}"
            )
        if scale is not None and condition not in ("at_least", "band"):
            self.fail(
                f"{where}.scale", "只用于 at_least 或 band 条件", "only for at_least or band conditions"
            )
        if "below" in rule and condition != "at_least":
            self.fail(f"{where}.below", "只用于 at_least 条件", "only for the at_least condition")
        if condition == "critical":
            if rule["critical"] is not True:
                self.fail(f"{where}.critical", "应为 true", "must be true")
            return TierRule(tier, "critical", instrument)
        if condition == "concern_at_least":
            level = rule["concern_at_least"]
            if type(level) is not int or level not in CONCERN_LEVELS or level == 0:
                self.fail(f"{where}.concern_at_least", "应为 1–3 的整数", "must be a whole number 1–3")
            return TierRule(tier, "concern", instrument, concern_at_least=level)
        if condition == "at_least":
            if scale is None:
                self.fail(
                    f"{where}.scale",
                    "at_least 条件需要指明量表（scale）",
                    "the at_least condition needs a scale",
                )
            at_least = self.number(rule["at_least"], f"{where}.at_least")
            below = self.number(rule["below"], f"{where}.below") if "below" in rule else None
            if below is not None and below <= at_least:
                self.fail(f"{where}.below", "应大于 at_least", "must be greater than at_least")
            return TierRule(tier, "scale", instrument, scale=scale, at_least=at_least, below=below)
        bands = rule["band"]
        if (
            not isinstance(bands, list)
            or not bands
            or not all(isinstance(b, str) and NAME_RE.match(b) for b in bands)
        ):
            self.fail(f"{where}.band", "应为分段代码的非空数组", "must be a non-empty array of band codes")
        return TierRule(tier, "band", instrument, scale=scale, bands=frozenset(bands))


def tier_policy(
    section: Mapping[str, Any] | None, *, origin: str = "policy", instruments: Collection[str] | None = None
) -> TierPolicy:
    """Check a policy's `[screening]` section and return its tier policy; raises PolicyError.

    `instruments`, when given, are the known instrument codes a rule may name."""
    return _PolicyParser(origin).parse(section, instruments)
