"""Questionnaires as data: the instrument file format, its loader and the registry.

Every questionnaire is one TOML file in instruments/ (docs/INSTRUMENTS.md describes each field).
`parse_instrument` reads the text, checks every field and returns an `Instrument`; anything wrong
raises `InstrumentError`, whose message names the field at fault, Chinese first:

    phq9.toml: items[3].options: 未知的选项组 "freq" / unknown option set "freq"

Reading order of this module: the error class, the dataclasses (what a loaded instrument looks
like), then `_Parser` (one method per part of the file, top to bottom), then the registry.
Lookups the scorer needs on every protocol (answer value → score, option position) are computed
once here, in `__post_init__`, so scoring never re-reads the file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

FORMAT = "xinyu-instrument/1"
# The UI languages (settings.LANGUAGES). Every text in a file is a table keyed by these codes.
SUPPORTED_LANGUAGES = ("zh-hans", "en")
REQUIRED_LANGUAGE = "zh-hans"
DIRECTIONS = ("problem", "wellbeing")
TRANSLATION_STATUSES = ("original", "validated", "official", "unvalidated")
METHODS = ("sum", "mean", "count")
NORM_KINDS = ("T", "percentile")
SEXES = ("M", "F", "any")
CONCERN_LEVELS = range(0, 4)  # 0 none, 1 mild, 2 moderate, 3 high
GRADE_RANGE = range(1, 13)
DEFAULT_MIN_SECONDS_PER_ITEM = 1.0

CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")  # instrument codes: PHQ9, GAD7, MHT_L
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # scale, band, critical, option-set names

Text = dict[str, str]


# ---- errors ---------------------------------------------------------------------------------


class DataFileError(ValueError):
    """A data file (instrument or policy) that cannot be used, naming the field at fault."""

    def __init__(self, field: str, message_zh: str, message_en: str, *, origin: str = "<string>") -> None:
        super().__init__(field, message_zh, message_en)
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en
        self.origin = origin

    def __str__(self) -> str:
        return f"{self.origin}: {self.field}: {self.message_zh} / {self.message_en}"


class InstrumentError(DataFileError):
    """An instrument file that fails validation."""


# ---- what a loaded instrument looks like ----------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: int  # what is stored as the answer: the item's score before reversal
    label: Text
    refuse: bool = False  # "prefer not to answer": scores nothing, must be a critical rule


@dataclass(frozen=True)
class AskIf:
    """An item asked only when one of `items` was answered with one of `values`."""

    items: tuple[int, ...]
    values: frozenset[int]

    def met(self, answers: Mapping[int, int | None]) -> bool:
        return any(answers.get(n) in self.values for n in self.items)


@dataclass(frozen=True, eq=False)
class Item:
    number: int
    text: Text
    options: tuple[Option, ...]
    reverse: bool = False
    ask_if: AskIf | None = None
    # Derived once from the options (see __post_init__); the scorer reads only these.
    score_of: dict[int, int | None] = field(init=False, repr=False)  # value → score (None: refusal)
    position_of: dict[int, tuple[int, int]] = field(init=False, repr=False)  # value → (from start, from end)
    min_score: int = field(init=False, repr=False)
    max_score: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        scored = [o.value for o in self.options if not o.refuse]
        low, high = min(scored), max(scored)
        score_of: dict[int, int | None] = {o.value: None for o in self.options if o.refuse}
        for v in scored:
            score_of[v] = low + high - v if self.reverse else v
        position_of = {v: (i, len(scored) - 1 - i) for i, v in enumerate(scored)}
        object.__setattr__(self, "score_of", score_of)
        object.__setattr__(self, "position_of", position_of)
        object.__setattr__(self, "min_score", low)
        object.__setattr__(self, "max_score", high)

    def is_asked(self, answers: Mapping[int, int | None]) -> bool:
        return self.ask_if is None or self.ask_if.met(answers)


@dataclass(frozen=True)
class Band:
    code: str
    at_least: float  # inclusive lower bound; the band runs until the next band's bound
    concern: int  # 0 none, 1 mild, 2 moderate, 3 high
    label: Text
    meaning: Text


@dataclass(frozen=True)
class Scale:
    code: str
    name: Text
    items: tuple[int, ...]
    method: str  # "sum" | "mean" | "count"
    count_at_least: int | None = None  # method "count": items whose score is at least this
    multiplier: float = 1.0
    validity: bool = False  # a validity (lie) scale: invalidates the protocol, never a concern
    invalid_at_least: float | None = None
    primary: bool = False
    bands: tuple[Band, ...] = ()
    low: float = 0.0  # lowest and highest possible score (computed by the loader)
    high: float = 0.0

    def band_for(self, raw: float) -> Band | None:
        for band in reversed(self.bands):
            if raw >= band.at_least:
                return band
        return None


@dataclass(frozen=True)
class CriticalRule:
    """An answer that needs a human the same day, whatever the totals say."""

    item: int
    code: str
    label: Text
    at_least: int | None = None  # the item's score (after reversal) is at least this
    values: frozenset[int] | None = None  # the stored answer is one of these
    refused: bool = False  # the student chose a "prefer not to answer" option
    hit_values: frozenset[int] = frozenset()  # stored answers that trigger it (computed by the loader)

    def matches(self, value: int | None, *, refused: bool = False) -> bool:
        return value is not None and (value in self.hit_values or (self.refused and refused))


@dataclass(frozen=True)
class Norm:
    """One norm group: raw score → T-score or percentile for some grades and one sex."""

    version: str
    scale: str
    kind: str  # "T" | "percentile"
    grades: tuple[int, int]
    sex: str  # "M" | "F" | "any"
    mean: float | None = None  # kind "T"
    sd: float | None = None
    points: tuple[tuple[float, float], ...] = ()  # kind "percentile": (raw, percentile), raw ascending
    source: str = ""

    def applies(self, grade: int, sex: str | None) -> bool:
        return self.grades[0] <= grade <= self.grades[1] and self.sex in ("any", sex)

    def convert(self, raw: float) -> float:
        if self.kind == "T":
            assert self.mean is not None and self.sd is not None
            return round(50 + 10 * (raw - self.mean) / self.sd, 1)
        # Percentile table: the value of the last point at or below the raw score.
        value = self.points[0][1]
        for point_raw, point_value in self.points:
            if raw < point_raw:
                break
            value = point_value
        return value


@dataclass(frozen=True, eq=False)
class Instrument:
    code: str
    version: str
    name: Text
    short_name: Text
    instruction: Text
    languages: tuple[str, ...]
    grades: tuple[int, int]
    licence: str
    source: str
    translation: str  # "original" | "validated" | "official" | "unvalidated"
    translation_note: Text
    direction: str  # "problem": higher is worse; "wellbeing": higher is better (WHO-5)
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    critical: tuple[CriticalRule, ...] = ()
    norms: tuple[Norm, ...] = ()
    min_seconds_per_item: float = DEFAULT_MIN_SECONDS_PER_ITEM
    sha256: str = ""  # of the file bytes (UTF-8)
    source_text: str = ""
    notes: Text = field(default_factory=dict)
    items_by_number: dict[int, Item] = field(init=False, repr=False)
    scales_by_code: dict[str, Scale] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items_by_number", {i.number: i for i in self.items})
        object.__setattr__(self, "scales_by_code", {s.code: s for s in self.scales})

    def item(self, number: int) -> Item:
        return self.items_by_number[number]

    def scale(self, code: str) -> Scale:
        return self.scales_by_code[code]

    @property
    def primary_scale(self) -> Scale:
        return next(s for s in self.scales if s.primary)

    def norm_for(self, scale: str, grade: int | None, sex: str | None) -> Norm | None:
        """The norm group for a student: one for their sex first, else one for either sex."""
        if grade is None:
            return None
        found = [n for n in self.norms if n.scale == scale and n.applies(grade, sex)]
        found.sort(key=lambda n: n.sex == "any")
        return found[0] if found else None


def localized(text: Mapping[str, str], language: str) -> str:
    """A text in the given language, falling back to Chinese."""
    return text.get(language) or text.get(REQUIRED_LANGUAGE) or next(iter(text.values()), "")


# ---- the loader -----------------------------------------------------------------------------

TOP_LEVEL_KEYS = {
    "format", "code", "version", "name", "short_name", "languages", "grades", "licence", "source",
    "translation", "instruction", "direction", "notes", "careless", "option_sets", "items",
    "scales", "critical", "norms",
}  # fmt: skip


class _Parser:
    """Reads one instrument file. Each `_read_*` method checks one part and names its field."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.languages: tuple[str, ...] = (REQUIRED_LANGUAGE,)

    # -- small helpers: each returns the checked value or fails naming `where`

    def fail(self, where: str, message_zh: str, message_en: str) -> NoReturn:
        raise InstrumentError(where, message_zh, message_en, origin=self.origin)

    def table(self, data: Any, where: str, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail(where, "应为表（table）", "must be a table")
        for key in data:
            if key not in allowed:
                self.fail(f"{where}.{key}" if where else key, "未知字段", "unknown field")
        return data

    def get(self, data: dict[str, Any], key: str, where: str) -> Any:
        if key not in data:
            self.fail(_join(where, key), "缺少必填字段", "required field is missing")
        return data[key]

    def string(
        self, data: dict[str, Any], key: str, where: str, *, pattern: re.Pattern[str] | None = None
    ) -> str:
        value = self.get(data, key, where)
        if not isinstance(value, str) or not value.strip():
            self.fail(_join(where, key), "应为非空字符串", "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            self.fail(_join(where, key), f"格式不正确：{value!r}", f"badly formed: {value!r}")
        return value

    def choice(
        self, data: dict[str, Any], key: str, where: str, choices: Sequence[str], default: str | None = None
    ) -> str:
        if default is not None and key not in data:
            return default
        value = self.get(data, key, where)
        if value not in choices:
            allowed = " | ".join(choices)
            self.fail(
                _join(where, key),
                f"应为 {allowed} 之一，而不是 {value!r}",
                f"must be one of {allowed}, not {value!r}",
            )
        return str(value)

    def boolean(self, data: dict[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(_join(where, key), "应为 true 或 false", "must be true or false")
        return value

    def integer(self, value: Any, where: str) -> int:
        if type(value) is not int:
            self.fail(where, f"应为整数，而不是 {value!r}", f"must be an integer, not {value!r}")
        return value

    def number(self, value: Any, where: str) -> float:
        if type(value) not in (int, float):
            self.fail(where, f"应为数字，而不是 {value!r}", f"must be a number, not {value!r}")
        return float(value)

    def array(self, data: dict[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
        if not required and key not in data:
            return []
        value = self.get(data, key, where)
        if not isinstance(value, list) or (required and not value):
            self.fail(_join(where, key), "应为非空数组", "must be a non-empty array")
        return value

    def text(self, data: dict[str, Any], key: str, where: str) -> Text:
        """A text: one string per language of the file, e.g. { zh-hans = "…", en = "…" }."""
        value = self.get(data, key, where)
        where = _join(where, key)
        if not isinstance(value, dict):
            self.fail(
                where,
                '应为按语言分的表，如 { zh-hans = "…", en = "…" }',
                'must be a table by language, e.g. { zh-hans = "…", en = "…" }',
            )
        for language in value:
            if language not in self.languages:
                self.fail(
                    f"{where}.{language}",
                    f"语言代码不在 languages 中：{language!r}",
                    f"language key not in languages: {language!r}",
                )
        for language in self.languages:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.fail(f"{where}.{language}", "缺少该语言的文字", "text missing for this language")
        return dict(value)

    def grade_range(self, data: dict[str, Any], key: str, where: str) -> tuple[int, int]:
        value = self.get(data, key, where)
        where = _join(where, key)
        if not isinstance(value, list) or len(value) != 2:
            self.fail(where, "应为 [最低年级, 最高年级]", "must be [lowest grade, highest grade]")
        low, high = (self.integer(v, where) for v in value)
        if low not in GRADE_RANGE or high not in GRADE_RANGE or low > high:
            self.fail(
                where,
                f"年级应在 1–12 之间且从低到高：{value}",
                f"grades must lie in 1–12, lowest first: {value}",
            )
        return low, high

    # -- the file, top to bottom

    def parse(self, text: str) -> Instrument:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            self.fail("(toml)", f"不是有效的 TOML：{exc}", f"not valid TOML: {exc}")
        if data.get("format") != FORMAT:
            self.fail(
                "format",
                f'应为 "{FORMAT}"，而不是 {data.get("format")!r}',
                f'must be "{FORMAT}", not {data.get("format")!r}',
            )
        self.table(data, "", TOP_LEVEL_KEYS)
        code = self.string(data, "code", "", pattern=CODE_RE)
        version = self.string(data, "version", "")
        self.languages = self._read_languages(data)
        translation = self.table(self.get(data, "translation", ""), "translation", {"status", "note"})
        status = self.choice(translation, "status", "translation", TRANSLATION_STATUSES)
        careless = self.table(data.get("careless", {}), "careless", {"min_seconds_per_item"})
        min_seconds = self.number(
            careless.get("min_seconds_per_item", DEFAULT_MIN_SECONDS_PER_ITEM),
            "careless.min_seconds_per_item",
        )
        if min_seconds < 0:
            self.fail("careless.min_seconds_per_item", "不能为负数", "must not be negative")
        option_sets = self._read_option_sets(data)
        items = self._read_items(data, option_sets)
        scales = self._read_scales(data, items)
        critical = self._read_critical(data, items)
        self._check_refusals_are_critical(items, critical)
        return Instrument(
            code=code,
            version=version,
            name=self.text(data, "name", ""),
            short_name=self.text(data, "short_name", ""),
            instruction=self.text(data, "instruction", ""),
            languages=self.languages,
            grades=self.grade_range(data, "grades", ""),
            licence=self.string(data, "licence", ""),
            source=self.string(data, "source", ""),
            translation=status,
            translation_note=self.text(translation, "note", "translation"),
            direction=self.choice(data, "direction", "", DIRECTIONS),
            items=tuple(items.values()),
            scales=scales,
            critical=critical,
            norms=self._read_norms(data, scales),
            min_seconds_per_item=min_seconds,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            source_text=text,
            notes=self.text(data, "notes", "") if "notes" in data else {},
        )

    def _read_languages(self, data: dict[str, Any]) -> tuple[str, ...]:
        languages = self.array(data, "languages", "")
        for i, language in enumerate(languages):
            if language not in SUPPORTED_LANGUAGES:
                self.fail(
                    f"languages[{i}]",
                    f"不支持的语言代码 {language!r}（可用：zh-hans, en）",
                    f"unsupported language code {language!r} (use zh-hans, en)",
                )
        if REQUIRED_LANGUAGE not in languages:
            self.fail("languages", "必须包含 zh-hans", "must include zh-hans")
        if len(set(languages)) != len(languages):
            self.fail("languages", "语言重复", "a language is listed twice")
        return tuple(languages)

    def _read_option_sets(self, data: dict[str, Any]) -> dict[str, tuple[Option, ...]]:
        sets = self.get(data, "option_sets", "")
        if not isinstance(sets, dict) or not sets:
            self.fail(
                "option_sets", "应为至少包含一个选项组的表", "must be a table with at least one option set"
            )
        result = {}
        for name, options in sets.items():
            where = f"option_sets.{name}"
            if not NAME_RE.match(name):
                self.fail(
                    where,
                    "选项组名称只能用字母、数字和下划线",
                    "option set names use letters, digits and _ only",
                )
            if not isinstance(options, list) or not options:
                self.fail(
                    where,
                    "应为选项数组（[[option_sets.名称]]）",
                    "must be an array of options ([[option_sets.name]])",
                )
            parsed = []
            for i, raw in enumerate(options):
                at = f"{where}[{i}]"
                option = self.table(raw, at, {"value", "label", "refuse"})
                parsed.append(
                    Option(
                        value=self.integer(self.get(option, "value", at), f"{at}.value"),
                        label=self.text(option, "label", at),
                        refuse=self.boolean(option, "refuse", at),
                    )
                )
            scored = [o.value for o in parsed if not o.refuse]
            if len(scored) < 2:
                self.fail(where, "至少需要两个计分选项", "needs at least two scored options")
            if len({o.value for o in parsed}) != len(parsed):
                self.fail(where, "选项的 value 重复", "two options have the same value")
            if scored != sorted(scored):
                self.fail(
                    where,
                    "计分选项应按 value 从小到大排列",
                    "scored options must be listed in ascending value order",
                )
            if any(o.refuse for o in parsed[: len(scored)]):
                self.fail(where, "拒答选项应放在最后", "refusal options must come last")
            result[name] = tuple(parsed)
        return result

    def _read_items(
        self, data: dict[str, Any], option_sets: dict[str, tuple[Option, ...]]
    ) -> dict[int, Item]:
        items: dict[int, Item] = {}
        only_set = next(iter(option_sets)) if len(option_sets) == 1 else None
        for i, raw in enumerate(self.array(data, "items", "")):
            where = f"items[{i}]"
            item = self.table(raw, where, {"number", "text", "options", "reverse", "ask_if"})
            number = self.integer(self.get(item, "number", where), f"{where}.number")
            if number in items:
                self.fail(f"{where}.number", f"题号 {number} 重复", f"item number {number} is used twice")
            if number != len(items) + 1:
                self.fail(
                    f"{where}.number",
                    f"题号应从 1 开始连续编号，此处应为 {len(items) + 1}",
                    f"items are numbered 1, 2, 3 … in order; expected {len(items) + 1}",
                )
            set_name = item.get("options", only_set)
            if set_name is None:
                self.fail(
                    f"{where}.options",
                    "有多个选项组时必须指明选项组",
                    "required when the file has several option sets",
                )
            if not isinstance(set_name, str) or set_name not in option_sets:
                self.fail(
                    f"{where}.options", f"未知的选项组 {set_name!r}", f"unknown option set {set_name!r}"
                )
            items[number] = Item(
                number=number,
                text=self.text(item, "text", where),
                options=option_sets[set_name],
                reverse=self.boolean(item, "reverse", where),
                ask_if=self._read_ask_if(item, where, items) if "ask_if" in item else None,
            )
        return items

    def _read_ask_if(self, item: dict[str, Any], where: str, earlier: dict[int, Item]) -> AskIf:
        where = f"{where}.ask_if"
        ask_if = self.table(item["ask_if"], where, {"items", "values"})
        numbers = tuple(self.integer(n, f"{where}.items") for n in self.array(ask_if, "items", where))
        values = frozenset(self.integer(v, f"{where}.values") for v in self.array(ask_if, "values", where))
        for n in numbers:
            if n not in earlier:
                self.fail(
                    f"{where}.items",
                    f"第 {n} 题不存在或不在本题之前",
                    f"item {n} does not exist or does not come before this one",
                )
        possible = {o.value for n in numbers for o in earlier[n].options}
        for v in sorted(values - possible):
            self.fail(
                f"{where}.values",
                f"这些题目没有 value 为 {v} 的选项",
                f"those items have no option with value {v}",
            )
        return AskIf(numbers, values)

    def _read_scales(self, data: dict[str, Any], items: dict[int, Item]) -> tuple[Scale, ...]:
        scales: list[Scale] = []
        allowed = {
            "code",
            "name",
            "items",
            "method",
            "count_at_least",
            "multiplier",
            "validity",
            "invalid_at_least",
            "primary",
            "bands",
        }
        for i, raw in enumerate(self.array(data, "scales", "")):
            where = f"scales[{i}]"
            scale = self.table(raw, where, allowed)
            code = self.string(scale, "code", where, pattern=NAME_RE)
            if any(s.code == code for s in scales):
                self.fail(f"{where}.code", f"量表代码 {code!r} 重复", f"scale code {code!r} is used twice")
            numbers = self._scale_items(scale, where, items)
            method = self.choice(scale, "method", where, METHODS)
            count_at_least = None
            if method == "count":
                count_at_least = self.integer(
                    self.get(scale, "count_at_least", where), f"{where}.count_at_least"
                )
            elif "count_at_least" in scale:
                self.fail(f"{where}.count_at_least", '只用于 method = "count"', 'only for method = "count"')
            multiplier = self.number(scale.get("multiplier", 1), f"{where}.multiplier")
            if multiplier <= 0:
                self.fail(f"{where}.multiplier", "应大于 0", "must be greater than 0")
            validity = self.boolean(scale, "validity", where)
            invalid_at_least = None
            if validity:
                if "invalid_at_least" not in scale:
                    self.fail(
                        f"{where}.invalid_at_least",
                        "效度量表必须给出无效阈值",
                        "a validity scale needs the score that invalidates",
                    )
                invalid_at_least = self.number(scale["invalid_at_least"], f"{where}.invalid_at_least")
            elif "invalid_at_least" in scale:
                self.fail(
                    f"{where}.invalid_at_least",
                    "只用于 validity = true 的量表",
                    "only for scales with validity = true",
                )
            primary = self.boolean(scale, "primary", where)
            if primary and validity:
                self.fail(
                    f"{where}.primary",
                    "效度量表不能作为主量表",
                    "a validity scale cannot be the primary scale",
                )
            low, high = _scale_range([items[n] for n in numbers], method, multiplier)
            bands = self._read_bands(scale, where, low)
            if primary and not bands:
                self.fail(f"{where}.bands", "主量表必须有分段（bands）", "the primary scale needs bands")
            scales.append(
                Scale(
                    code=code,
                    name=self.text(scale, "name", where),
                    items=numbers,
                    method=method,
                    count_at_least=count_at_least,
                    multiplier=multiplier,
                    validity=validity,
                    invalid_at_least=invalid_at_least,
                    primary=primary,
                    bands=bands,
                    low=low,
                    high=high,
                )
            )
        primaries = [s.code for s in scales if s.primary]
        if len(primaries) != 1:
            self.fail(
                "scales",
                f"必须恰好有一个 primary = true 的量表（现有 {len(primaries)} 个）",
                f"exactly one scale must have primary = true (found {len(primaries)})",
            )
        return tuple(scales)

    def _scale_items(self, scale: dict[str, Any], where: str, items: dict[int, Item]) -> tuple[int, ...]:
        value = self.get(scale, "items", where)
        if value == "all":
            return tuple(items)
        if not isinstance(value, list) or not value:
            self.fail(f"{where}.items", '应为题号数组或 "all"', 'must be an array of item numbers or "all"')
        numbers = tuple(self.integer(n, f"{where}.items") for n in value)
        for n in numbers:
            if n not in items:
                self.fail(f"{where}.items", f"第 {n} 题不存在", f"there is no item {n}")
        if len(set(numbers)) != len(numbers):
            self.fail(f"{where}.items", "题号重复", "an item is listed twice")
        return numbers

    def _read_bands(self, scale: dict[str, Any], where: str, low: float) -> tuple[Band, ...]:
        bands: list[Band] = []
        for i, raw in enumerate(self.array(scale, "bands", where, required=False)):
            at = f"{where}.bands[{i}]"
            band = self.table(raw, at, {"code", "at_least", "concern", "label", "meaning"})
            code = self.string(band, "code", at, pattern=NAME_RE)
            if any(b.code == code for b in bands):
                self.fail(f"{at}.code", f"分段代码 {code!r} 重复", f"band code {code!r} is used twice")
            at_least = self.number(self.get(band, "at_least", at), f"{at}.at_least")
            if bands and at_least <= bands[-1].at_least:
                self.fail(f"{at}.at_least", "分段下限必须从小到大递增", "band lower bounds must ascend")
            if not bands and at_least > low:
                self.fail(
                    f"{at}.at_least",
                    f"第一个分段应从最低可能分 {low:g} 或更低开始",
                    f"the first band must start at the lowest possible score {low:g} or below",
                )
            concern = self.integer(self.get(band, "concern", at), f"{at}.concern")
            if concern not in CONCERN_LEVELS:
                self.fail(f"{at}.concern", "关注等级应为 0–3", "concern must be 0–3")
            bands.append(
                Band(code, at_least, concern, self.text(band, "label", at), self.text(band, "meaning", at))
            )
        return tuple(bands)

    def _read_critical(self, data: dict[str, Any], items: dict[int, Item]) -> tuple[CriticalRule, ...]:
        rules = []
        for i, raw in enumerate(self.array(data, "critical", "", required=False)):
            where = f"critical[{i}]"
            rule = self.table(raw, where, {"item", "at_least", "values", "refused", "code", "label"})
            number = self.integer(self.get(rule, "item", where), f"{where}.item")
            if number not in items:
                self.fail(f"{where}.item", f"第 {number} 题不存在", f"there is no item {number}")
            item = items[number]
            conditions = [key for key in ("at_least", "values", "refused") if key in rule]
            if len(conditions) != 1:
                self.fail(
                    where,
                    "需要且只能有 at_least、values、refused = true 之一",
                    "needs exactly one of at_least, values, refused = true",
                )
            at_least, values, refused = None, None, False
            if "at_least" in rule:
                at_least = self.integer(rule["at_least"], f"{where}.at_least")
                hits = frozenset(v for v, s in item.score_of.items() if s is not None and s >= at_least)
            elif "values" in rule:
                values = frozenset(
                    self.integer(v, f"{where}.values") for v in self.array(rule, "values", where)
                )
                for v in sorted(values - set(item.score_of)):
                    self.fail(
                        f"{where}.values",
                        f"第 {number} 题没有 value 为 {v} 的选项",
                        f"item {number} has no option with value {v}",
                    )
                hits = values
            else:
                refused = self.boolean(rule, "refused", where)
                hits = frozenset(o.value for o in item.options if o.refuse)
                if not refused or not hits:
                    self.fail(
                        f"{where}.refused",
                        f"应为 true，且第 {number} 题须有拒答选项",
                        f"must be true, and item {number} must have a refusal option",
                    )
            if not hits:
                self.fail(where, "任何回答都不会触发此规则", "no answer can trigger this rule")
            code = self.string(rule, "code", where, pattern=NAME_RE)
            rules.append(
                CriticalRule(number, code, self.text(rule, "label", where), at_least, values, refused, hits)
            )
        return tuple(rules)

    def _check_refusals_are_critical(
        self, items: dict[int, Item], critical: tuple[CriticalRule, ...]
    ) -> None:
        # A refusal scores nothing, so it must never pass silently as "no concern".
        covered = {r.item for r in critical if r.refused}
        for i, item in enumerate(items.values()):
            if any(o.refuse for o in item.options) and item.number not in covered:
                self.fail(
                    f"items[{i}].options",
                    f"第 {item.number} 题可以拒答，必须有 refused = true 的关键条目规则",
                    f"item {item.number} can be refused, so it needs a critical rule with refused = true",
                )

    def _read_norms(self, data: dict[str, Any], scales: tuple[Scale, ...]) -> tuple[Norm, ...]:
        norms: list[Norm] = []
        scale_codes = {s.code for s in scales}
        for i, raw in enumerate(self.array(data, "norms", "", required=False)):
            where = f"norms[{i}]"
            norm = self.table(
                raw, where, {"version", "scale", "kind", "grades", "sex", "mean", "sd", "points", "source"}
            )
            version = self.string(norm, "version", where)
            scale = self.string(norm, "scale", where)
            if scale not in scale_codes:
                self.fail(f"{where}.scale", f"未知的量表 {scale!r}", f"unknown scale {scale!r}")
            kind = self.choice(norm, "kind", where, NORM_KINDS)
            grades = self.grade_range(norm, "grades", where)
            sex = self.choice(norm, "sex", where, SEXES, default="any")
            mean = sd = None
            points: tuple[tuple[float, float], ...] = ()
            if kind == "T":
                if "points" in norm:
                    self.fail(f"{where}.points", '只用于 kind = "percentile"', 'only for kind = "percentile"')
                mean = self.number(self.get(norm, "mean", where), f"{where}.mean")
                sd = self.number(self.get(norm, "sd", where), f"{where}.sd")
                if sd <= 0:
                    self.fail(
                        f"{where}.sd", "标准差应大于 0", "the standard deviation must be greater than 0"
                    )
            else:
                for key in ("mean", "sd"):
                    if key in norm:
                        self.fail(f"{where}.{key}", '只用于 kind = "T"', 'only for kind = "T"')
                points = self._norm_points(norm, where)
            for other in norms:
                if (
                    other.scale == scale
                    and other.sex == sex
                    and grades[0] <= other.grades[1]
                    and other.grades[0] <= grades[1]
                ):
                    self.fail(
                        f"{where}.grades",
                        "与另一个同量表、同性别的常模组的年级重叠",
                        "overlaps another norm group for the same scale and sex",
                    )
            source = norm.get("source", "")
            if not isinstance(source, str):
                self.fail(f"{where}.source", "应为字符串", "must be a string")
            norms.append(Norm(version, scale, kind, grades, sex, mean, sd, points, source))
        return tuple(norms)

    def _norm_points(self, norm: dict[str, Any], where: str) -> tuple[tuple[float, float], ...]:
        points: list[tuple[float, float]] = []
        for j, pair in enumerate(self.array(norm, "points", where)):
            at = f"{where}.points[{j}]"
            if not isinstance(pair, list) or len(pair) != 2:
                self.fail(at, "应为 [原始分, 百分位]", "must be [raw score, percentile]")
            raw, value = self.number(pair[0], at), self.number(pair[1], at)
            if points and raw <= points[-1][0]:
                self.fail(at, "原始分必须从小到大递增", "raw scores must ascend")
            if not 0 <= value <= 100:
                self.fail(at, "百分位应在 0–100 之间", "percentiles lie in 0–100")
            points.append((raw, value))
        return tuple(points)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _scale_range(items: Sequence[Item], method: str, multiplier: float) -> tuple[float, float]:
    if method == "sum":
        low, high = sum(i.min_score for i in items), sum(i.max_score for i in items)
    elif method == "mean":
        low, high = min(i.min_score for i in items), max(i.max_score for i in items)
    else:  # count
        low, high = 0, len(items)
    return low * multiplier, high * multiplier


def parse_instrument(text: str, *, origin: str = "<string>") -> Instrument:
    """Check an instrument file's text and return the instrument; raises InstrumentError."""
    return _Parser(origin).parse(text)


def load_instrument(path: Path) -> Instrument:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InstrumentError(
            "(file)", "文件不是 UTF-8 编码", "the file is not UTF-8", origin=Path(path).name
        ) from None
    return parse_instrument(text, origin=Path(path).name)


# ---- the registry: every file in settings.XINYU_INSTRUMENT_DIRS -----------------------------


def instrument_files(dirs: Iterable[Path | str] | None = None) -> list[Path]:
    if dirs is None:
        from django.conf import settings

        dirs = settings.XINYU_INSTRUMENT_DIRS
    files: list[Path] = []
    for directory in map(Path, dirs):
        if not directory.is_dir():
            raise InstrumentError(
                "XINYU_INSTRUMENT_DIRS",
                f"目录不存在：{directory}",
                f"no such directory: {directory}",
                origin="settings",
            )
        files.extend(sorted(directory.glob("*.toml")))
    return files


def load_directory(dirs: Iterable[Path | str]) -> dict[str, Instrument]:
    """Load every *.toml file in the directories; two files with one code are an error."""
    found: dict[str, Instrument] = {}
    origins: dict[str, str] = {}
    for path in instrument_files(dirs):
        instrument = load_instrument(path)
        if instrument.code in found:
            raise InstrumentError(
                "code",
                f"量表代码 {instrument.code} 已在 {origins[instrument.code]} 中使用",
                f"instrument code {instrument.code} is already used by {origins[instrument.code]}",
                origin=path.name,
            )
        found[instrument.code] = instrument
        origins[instrument.code] = path.name
    return found


@cache
def registry() -> dict[str, Instrument]:
    """The shipped and district-licensed instruments by code (loaded once; `registry.cache_clear()`)."""
    from django.conf import settings

    return load_directory(settings.XINYU_INSTRUMENT_DIRS)


def get_instrument(code: str) -> Instrument:
    """The instrument with this code; KeyError if there is none."""
    return registry()[code]
