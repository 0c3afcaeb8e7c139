"""Policy profiles as data (issue 14 item 1): the rules of a district's plan, one file each in
policies/profiles/<id>.toml, and the district's choice of one in its policy file.

A profile file holds `[profile]` (its id, titles, the seed document's name as the district
publishes it, the date printed on it) and one `[[rules]]` table per rule: an id, titles in
Chinese and English, the citation (document, article, the quoted sentence), the evaluator
registered in `xinyu.kernel.compliance.evaluators` that judges it, its parameters, the level
(school or district), when it applies (`applies`: school categories, stages, grades, effective
dates), a severity and the scorecard's area (the evaluator's unless given).

- `load_profile(path_or_text)` parses (tomllib), validates the schema (pydantic) and, unless
  `registry=None`, `check_against` the evaluator registry (the evaluator exists, the level is
  its level, the parameters pass its `params` model). A bad file is refused with one
  `ProfileError` (a `ServiceError`, in Chinese and English) naming the line and the field at
  fault: tomllib's line for a syntax error, the line of the key for a schema error (`locate`
  maps pydantic's location, e.g. ("rules", 3, "params", "per_semester"), to the line of that key
  inside the 4th `[[rules]]` table).
- `Profile.content_hash`: the profile's version, the sha256 of its normalised content (comments,
  whitespace and key order do not count).
- `profile_for(district_code)`: the profile the district chose in policies/<code>.toml
  (`[compliance] profile = "<id>"`), with its `[[compliance.overrides]]` applied; each override
  names a rule and one of its parameters, a value valid for that parameter, who (`by`), when
  (`on`) and why (`why`). The `Chosen` profile keeps which parameters were overridden.
- `available_profiles()`: every shipped profile, checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from xinyu.kernel.compliance import Area, Evaluator, Level, evaluators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import POLICY_DIR, policy_for_code
from xinyu.kernel.registry import Registry

PROFILE_DIR = POLICY_DIR / "profiles"
LEVEL_ZH = {Level.SCHOOL: "学校", Level.CAMPUS: "校区", Level.CLASS: "班级", Level.DISTRICT: "区县"}

RULE_ID = r"^[a-z][a-z0-9]*(\.[a-z0-9_]+)+$"  # "qx.lessons.two_weeks"
PROFILE_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"  # "rongchang-2025"
EVALUATOR_NAME = r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+$"

Category = Literal["urban", "town", "rural"]
Stage = Literal["primary", "junior", "senior"]
Severity = Literal["low", "medium", "high", "critical"]

Loc = tuple[int | str, ...]


class ProfileError(ServiceError):
    """A refused profile or district choice: one message in Chinese and English naming the
    file, the line (when known) and the field at fault (`field`, e.g. "rules[4].params.min")."""

    def __init__(self, *, source: str, loc: Loc, line: int | None, zh: str, en: str) -> None:
        self.source, self.loc, self.line = source, loc, line
        self.reason_zh, self.reason_en = zh, en
        name = field_name(loc)
        where_zh = f"{source} 第 {line} 行" if line else source
        where_en = f"{source}, line {line}" if line else source
        super().__init__(
            f"{where_zh}{('「' + name + '」') if name else ''}：{zh}",
            f"{where_en}{(', ' + name) if name else ''}: {en}",
            field=name,
        )

    def at(self, source: str, text: str) -> ProfileError:
        """The same error with the file's name and the line of its field in `text`."""
        return ProfileError(
            source=source, loc=self.loc, line=locate(text, self.loc), zh=self.reason_zh, en=self.reason_en
        )


class UnknownProfile(ProfileError):
    """No shipped profile has the id asked for."""


def field_name(loc: Loc) -> str:
    """("rules", 3, "params", "min") -> "rules[4].params.min" (tables counted from 1)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + part
    return out


# ---- the schema ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Citation(_Strict):
    document: str = Field(min_length=1)  # the document's name as the district publishes it
    article: str = Field(min_length=1)  # article and clause, e.g. "四.(二)9"
    quote: str = Field(min_length=1)  # the sentence, verbatim


class Applies(_Strict):
    """Which units a rule applies to; empty lists mean every category / stage."""

    categories: tuple[Category, ...] = ()
    stages: tuple[Stage, ...] = ()
    min_grade: int | None = Field(default=None, ge=1, le=12)
    max_grade: int | None = Field(default=None, ge=1, le=12)
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    @model_validator(mode="after")
    def _ranges(self) -> Applies:
        if self.min_grade is not None and self.max_grade is not None and self.min_grade > self.max_grade:
            raise PydanticCustomError("grade_range", "min_grade is above max_grade", {"at": "max_grade"})
        if self.effective_from and self.effective_to and self.effective_from > self.effective_to:
            raise PydanticCustomError(
                "date_range", "effective_from is after effective_to", {"at": "effective_to"}
            )
        return self

    @property
    def narrows_schools(self) -> bool:
        return bool(
            self.categories or self.stages or self.min_grade is not None or self.max_grade is not None
        )


class Rule(_Strict):
    id: str = Field(pattern=RULE_ID, max_length=80)
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    citation: Citation
    evaluator: str = Field(pattern=EVALUATOR_NAME)
    params: dict[str, Any] = Field(default_factory=dict)  # checked by the evaluator's model
    level: Level
    applies: Applies = Applies()
    severity: Severity
    area: Area | None = None  # None: the evaluator's

    @model_validator(mode="after")
    def _district_rules_cover_the_district(self) -> Rule:
        if self.level == Level.DISTRICT and self.applies.narrows_schools:
            raise PydanticCustomError(
                "district_applies",
                "a district rule applies to the district: categories, stages and grades go in its params",
                {"at": "applies"},
            )
        return self


class ProfileHead(_Strict):
    id: str = Field(pattern=PROFILE_ID, max_length=60)
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    document: str = Field(min_length=1)  # the seed document's name as the district publishes it
    issued: dt.date | None = None  # the date printed on the document (None: it carries none)
    district_kind: str | None = None
    notes: str | None = None


class Profile(_Strict):
    profile: ProfileHead
    rules: tuple[Rule, ...] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        seen: set[str] = set()
        for i, rule in enumerate(rules):
            if rule.id in seen:
                raise PydanticCustomError(
                    "duplicate_id", "rule id {id} is used twice", {"id": rule.id, "index": i}
                )
            seen.add(rule.id)
        return rules

    # The engine and the scorecard read these from the profile itself.
    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def title_zh(self) -> str:
        return self.profile.title_zh

    @property
    def title_en(self) -> str:
        return self.profile.title_en

    @property
    def document(self) -> str:
        return self.profile.document

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    @property
    def content_hash(self) -> str:
        """The profile's version: sha256 of its content as canonical JSON (sorted keys), so
        that comments, whitespace and the order of keys do not change it."""
        data = self.model_dump(mode="json")
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def rule_area(rule: Rule, registry: Registry[Evaluator] | None = None) -> Area:
    """The rule's area on the scorecard: its own, else its evaluator's."""
    if rule.area is not None:
        return rule.area
    return (registry or evaluators).get(rule.evaluator).area


# ---- errors in Chinese and English --------------------------------------------------------

_ZH_BY_TYPE = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "literal_error": "取值不在允许的范围内",
    "enum": "取值不在允许的范围内",
    "string_pattern_mismatch": "格式不对",
    "string_too_short": "不能为空",
    "string_too_long": "太长",
    "too_short": "至少要有一项",
    "greater_than_equal": "数值太小",
    "greater_than": "数值太小",
    "less_than_equal": "数值太大",
    "less_than": "数值太大",
    "duplicate_id": "规则编号重复",
    "grade_range": "起始年级高于截止年级",
    "date_range": "生效日期晚于失效日期",
    "district_applies": "区县级规则不按学校类别、学段或年级筛选（写在参数里）",
}


def _zh_reason(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind in _ZH_BY_TYPE:
        return _ZH_BY_TYPE[kind]
    if kind.endswith(("_type", "_parsing")) or kind in {"bool_parsing", "int_from_float"}:
        return "类型不对"
    return "取值无效"


def _error_loc(error: ErrorDetails) -> Loc:
    """pydantic's location, narrowed to the key at fault where a validator names it."""
    loc: Loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if error["type"] == "duplicate_id":
        return (*loc, int(ctx["index"]), "id")
    if "at" in ctx:
        return (*loc, str(ctx["at"]))
    return loc


def _from_validation(exc: ValidationError, *, prefix: Loc = ()) -> ProfileError:
    error = exc.errors(include_url=False)[0]
    loc = (*prefix, *_error_loc(error))
    value = error.get("input")
    shown = "" if isinstance(value, dict | list | tuple) or value is None else f" (got {value!r})"
    return ProfileError(source="", loc=loc, line=None, zh=_zh_reason(error), en=error["msg"] + shown)


# ---- locating a field's line --------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r'^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\'))*)\s*=(.*)$'
)
_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_TOKENS = re.compile(r"[{}\[\],=]|[A-Za-z0-9_-]+|\"\"")


def _keys(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', dotted)]


def _inline_keys(value: str, base: Loc, lines: dict[Loc, int], lineno: int) -> None:
    """Record the keys of the inline tables in `value` (one line) under `base`."""
    stack: list[Loc] = []  # the inline tables open, innermost last
    last: str | None = None
    for token in _TOKENS.findall(_STRINGS.sub('""', value)):
        if token == "{":
            stack.append(base if not stack else (*stack[-1], last) if last else stack[-1])
            last = None
        elif token == "}":
            if stack:
                stack.pop()
        elif token == "=":
            if stack and last is not None:
                lines.setdefault((*stack[-1], last), lineno)
        elif token in "[],":
            last = None
        else:
            last = token


def _depth(code: str) -> int:
    """Brackets opened minus closed on a line (strings already blanked)."""
    return code.count("[") + code.count("{") - code.count("]") - code.count("}")


def line_map(text: str) -> dict[Loc, int]:
    """Every table and key of a TOML text with its line (1-based); the tables of an array
    (`[[rules]]`) are numbered from 0 as pydantic numbers them."""
    lines: dict[Loc, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: Loc = ()
    in_multiline: str | None = None  # inside a multi-line string: its closing quotes
    open_brackets = 0  # inside a multi-line array
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in raw:
                in_multiline = None
            continue
        if open_brackets:
            code = _STRINGS.sub('""', raw).split("#", 1)[0]
            open_brackets = max(0, open_brackets + _depth(code))
            continue
        header = _HEADER.match(raw)
        if header and not _KEY.match(raw):
            keys = _keys(header.group(2))
            path: list[int | str] = []
            for depth, key in enumerate(keys):
                path.append(key)
                plain = tuple(keys[: depth + 1])
                is_last = depth == len(keys) - 1
                if header.group(1) == "[[" and is_last:
                    counts[plain] = counts.get(plain, -1) + 1
                    path.append(counts[plain])
                elif plain in counts:
                    path.append(counts[plain])
            table = tuple(path)
            lines.setdefault(table, lineno)
            continue
        match = _KEY.match(raw)
        if not match:
            continue
        loc = (*table, *_keys(match.group(1)))
        lines.setdefault(loc, lineno)
        value = match.group(2)
        for quote in ('"""', "'''"):
            if value.count(quote) % 2 == 1:
                in_multiline = quote
        code = _STRINGS.sub('""', value).split("#", 1)[0]
        if not in_multiline:
            open_brackets = max(0, _depth(code))
        if "{" in code:
            _inline_keys(code, loc, lines, lineno)
    return lines


def locate(text: str, loc: Loc) -> int | None:
    """The line of `loc` in `text`, or of its nearest enclosing key or table found."""
    lines = line_map(text)
    for n in range(len(loc), 0, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


# ---- loading ------------------------------------------------------------------------------

_DEFAULT: Any = object()


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"at line (\d+)", message)
        line = int(found.group(1)) if found else len(text.splitlines()) or 1
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        raise ProfileError(
            source=source, loc=(), line=line, zh="TOML 语法错误：" + reason, en="TOML syntax error: " + reason
        ) from exc


def _read(source: Path | str) -> tuple[str, str]:
    if isinstance(source, Path):
        try:
            return source.read_text(encoding="utf-8"), source.name
        except UnicodeDecodeError as exc:
            raise ProfileError(
                source=source.name,
                loc=(),
                line=None,
                zh="不是 UTF-8 文本",
                en=f"not UTF-8 text (byte {exc.start})",
            ) from exc
    return source, "<profile>"


def load_profile(source: Path | str, *, registry: Registry[Evaluator] | None = _DEFAULT) -> Profile:
    """The profile in `source` (a file's path, or its text), validated and, unless
    `registry=None`, checked against the evaluator registry (the kernel's by default);
    raises ProfileError naming the line and field at fault."""
    text, name = _read(source)
    data = _parse(text, name)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise _from_validation(exc).at(name, text) from exc
    if registry is not None:
        try:
            check_against(profile, evaluators if registry is _DEFAULT else registry)
        except ProfileError as exc:
            raise exc.at(name, text) from exc
    return profile


def check_against(profile: Profile, registry: Registry[Evaluator]) -> None:
    """Refuse (ProfileError, line left to the caller) a rule whose evaluator is not
    registered, whose level is not its evaluator's or whose parameters its evaluator's
    `params` model refuses (an unknown key, a wrong type, a value out of range)."""
    for i, rule in enumerate(profile.rules):
        if rule.evaluator not in registry:
            raise ProfileError(
                source="",
                loc=("rules", i, "evaluator"),
                line=None,
                zh=f"没有名为 {rule.evaluator} 的评估器",
                en=f"no evaluator named {rule.evaluator!r} is registered",
            )
        ev = registry.get(rule.evaluator)
        if rule.level != ev.level:
            raise ProfileError(
                source="",
                loc=("rules", i, "level"),
                line=None,
                zh=f"评估器 {ev.name} 是{LEVEL_ZH[ev.level]}级的，规则写的是 {rule.level}",
                en=f"evaluator {ev.name} is {ev.level}-level, the rule says {rule.level}",
            )
        try:
            ev.params.model_validate(rule.params, strict=True)  # "9" is not 9
        except ValidationError as exc:
            raise _from_validation(exc, prefix=("rules", i, "params")) from exc


def profile_path(profile_id: str) -> Path:
    return PROFILE_DIR / f"{profile_id}.toml"


def load_by_id(profile_id: str, *, registry: Registry[Evaluator] | None = _DEFAULT) -> Profile:
    """The shipped profile `profile_id` (its file's name is its id)."""
    path = profile_path(profile_id)
    if not re.fullmatch(PROFILE_ID, profile_id) or not path.exists():
        raise UnknownProfile(
            source=f"{profile_id}.toml",
            loc=(),
            line=None,
            zh=f"没有编号为 {profile_id} 的合规档案",
            en=f"no profile {profile_id!r} in policies/profiles/",
        )
    profile = load_profile(path, registry=registry)
    if profile.id != profile_id:
        raise ProfileError(
            source=path.name,
            loc=("profile", "id"),
            line=None,
            zh=f"档案编号 {profile.id} 与文件名不一致",
            en=f"the profile's id {profile.id!r} is not its file's name",
        ).at(path.name, path.read_text(encoding="utf-8"))
    return profile


def available_profiles(*, registry: Registry[Evaluator] | None = _DEFAULT) -> list[Profile]:
    """Every profile in policies/profiles/, by id."""
    return [load_by_id(p.stem, registry=registry) for p in sorted(PROFILE_DIR.glob("*.toml"))]


# ---- a district's choice and its overrides -------------------------------------------------


class Override(_Strict):
    """One parameter of one rule changed by the district, with who, when and why."""

    rule: str = Field(min_length=1)
    param: str = Field(min_length=1)
    value: Any
    by: str = Field(min_length=1, max_length=100)
    on: dt.date
    why: str = Field(min_length=1, max_length=500)


class Choice(_Strict):
    profile: str = Field(pattern=PROFILE_ID)
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Chosen:
    """A district's profile with its overrides applied: `profile` (what the engine runs),
    `base` (the file as shipped), `content_hash` (the shipped profile's version) and
    `overridden` (rule id -> param -> the Override, for the run's snapshot and the scorecard)."""

    profile: Profile
    base: Profile
    content_hash: str
    overridden: dict[str, dict[str, Override]] = field(default_factory=dict)

    def is_overridden(self, rule_id: str, param: str) -> bool:
        return param in self.overridden.get(rule_id, {})


def _policy_text(district_code: str) -> tuple[str, str]:
    """The file that holds the district's `[compliance]` (its own, else default.toml)."""
    own = POLICY_DIR / f"{district_code}.toml"
    for path in (own, POLICY_DIR / "default.toml"):
        if path.exists():
            text = path.read_text(encoding="utf-8")
            if re.search(r"^\s*\[+\s*compliance\b", text, re.M):
                return text, path.name
    return "", own.name


def apply_overrides(
    profile: Profile, overrides: tuple[Override, ...], *, registry: Registry[Evaluator] | None = None
) -> Chosen:
    """`profile` with `overrides` applied; raises ProfileError (loc under
    ("compliance", "overrides", k), line left to the caller) for an override naming no rule
    of the profile, no parameter of its evaluator, or a value the evaluator refuses."""
    registry = registry or evaluators
    overridden: dict[str, dict[str, Override]] = {}
    params: dict[str, dict[str, Any]] = {r.id: dict(r.params) for r in profile.rules}
    for k, o in enumerate(overrides):
        loc: Loc = ("compliance", "overrides", k)
        if o.rule not in params:
            raise ProfileError(
                source="",
                loc=(*loc, "rule"),
                line=None,
                zh=f"档案 {profile.id} 没有规则 {o.rule}",
                en=f"profile {profile.id} has no rule {o.rule!r}",
            )
        ev = registry.get(profile.rule(o.rule).evaluator)
        if o.param not in ev.params.model_fields:
            known = ", ".join(ev.params.model_fields) or "—"
            raise ProfileError(
                source="",
                loc=(*loc, "param"),
                line=None,
                zh=f"规则 {o.rule} 没有参数 {o.param}（可用：{known}）",
                en=f"rule {o.rule} has no parameter {o.param!r} (it has: {known})",
            )
        if o.param in overridden.get(o.rule, {}):
            raise ProfileError(
                source="",
                loc=(*loc, "param"),
                line=None,
                zh=f"规则 {o.rule} 的参数 {o.param} 被改了两次",
                en=f"parameter {o.param} of rule {o.rule} is overridden twice",
            )
        trial = {**params[o.rule], o.param: o.value}
        try:
            ev.params.model_validate(trial, strict=True)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raise ProfileError(
                source="", loc=(*loc, "value"), line=None, zh=_zh_reason(error), en=error["msg"]
            ) from exc
        params[o.rule] = trial
        overridden.setdefault(o.rule, {})[o.param] = o
    rules = tuple(
        r.model_copy(update={"params": params[r.id]}) if r.id in overridden else r for r in profile.rules
    )
    applied = profile.model_copy(update={"rules": rules})
    return Chosen(profile=applied, base=profile, content_hash=profile.content_hash, overridden=overridden)


def choose(
    policy: dict[str, Any],
    *,
    text: str = "",
    source: str = "policy",
    registry: Registry[Evaluator] | None = None,
) -> Chosen:
    """The profile a district policy (`policy`, parsed from `text`, the file named `source`)
    chooses in `[compliance]`, with its overrides applied and recorded; ProfileError names
    the line of `text` and the field at fault."""
    registry = registry or evaluators
    section = policy.get("compliance")
    if not isinstance(section, dict) or "profile" not in section:
        raise ProfileError(
            source=source,
            loc=("compliance", "profile"),
            line=locate(text, ("compliance",)),
            zh='政策文件未选择合规档案（[compliance] profile = "…"）',
            en='the policy file chooses no profile ([compliance] profile = "…")',
        )
    try:
        choice = Choice.model_validate(section)
    except ValidationError as exc:
        raise _from_validation(exc, prefix=("compliance",)).at(source, text) from exc
    try:
        profile = load_by_id(choice.profile, registry=registry)
    except UnknownProfile as exc:  # the district's choice is at fault, not a profile's file
        raise ProfileError(
            source=source,
            loc=("compliance", "profile"),
            line=locate(text, ("compliance", "profile")),
            zh=exc.reason_zh,
            en=exc.reason_en,
        ) from exc
    try:
        return apply_overrides(profile, choice.overrides, registry=registry)
    except ProfileError as exc:
        raise exc.at(source, text) from exc


def _policy_and_text(
    district_code: str, policy: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str, str]:
    text, name = _policy_text(district_code)
    return (policy_for_code(district_code) if policy is None else policy), text, name


def profile_for(district_code: str, *, registry: Registry[Evaluator] | None = None) -> Chosen:
    """The profile the district chose in policies/<code>.toml (merged over default.toml),
    with its overrides applied and recorded."""
    policy, text, name = _policy_and_text(district_code)
    return choose(policy, text=text, source=name, registry=registry)


def check_policy(district_code: str, policy: dict[str, Any]) -> list[str]:
    """Problems of a district file's `[compliance]` section (its chosen profile loads and
    checks, its overrides apply), for a `policy_section` check; none without the section."""
    if "compliance" not in policy:
        return []
    policy, text, name = _policy_and_text(district_code, policy)
    try:
        choose(policy, text=text, source=name)
    except ProfileError as exc:
        return [str(exc)]
    return []
