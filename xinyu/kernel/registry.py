"""Registries that apps fill and hubs read, so that no hub imports an app.

- `home_panels`: the home page's panels (`@home_panel`); the home view shows, in order, every
  panel whose `build(user)` returns a context (None: nothing for this user).
- `timeline_providers`: the student file's sources of dated entries (`@timeline_provider`).
- `demo_builders`: each app's part of the demo district (`@demo_builder`), run in order by
  `manage.py demo`.
- `policy_sections`: each app's section of the district policy files and its check
  (`@policy_section`), run by one system check over every file.
- `nav_items`: the menu's entries (`@nav_item`), each shown when its function says so.

An app fills them from its own modules (`panels.py` for panels and menu entries,
`timeline.py`, `demo.py`, `policy_sections.py`), which the kernel imports once every app is
loaded (`demo.py` only when `manage.py demo` runs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

T = TypeVar("T")


class Registry(Generic[T]):
    """Items under a unique key, read in (order, key) order."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, tuple[int, T]] = {}

    def add(self, key: str, item: T, *, order: int = 100) -> T:
        # Registering a key again replaces it (a module reloaded in a test).
        self._items[key] = (order, item)
        return item

    def __iter__(self) -> Any:
        return iter(item for _, _, item in sorted((o, k, i) for k, (o, i) in self._items.items()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[str]:
        return [k for _, k in sorted((o, k) for k, (o, _i) in self._items.items())]

    def get(self, key: str) -> T:
        return self._items[key][1]

    def discard(self, key: str) -> None:
        """Forget `key` (a test's temporary entry)."""
        self._items.pop(key, None)


# ---- home page panels --------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    key: str
    template: str  # rendered with the context `build` returns
    build: Callable[[Any], dict[str, Any] | None]  # (user) -> context, or None to hide
    order: int = 100


home_panels: Registry[Panel] = Registry("home panel")


def home_panel(key: str, *, template: str, order: int = 100) -> Callable[[Callable[[Any], Any]], Any]:
    """Register `fn(user) -> dict | None` as the home page's panel `key`."""

    def register(fn: Callable[[Any], dict[str, Any] | None]) -> Callable[[Any], dict[str, Any] | None]:
        home_panels.add(key, Panel(key, template, fn, order), order=order)
        return fn

    return register


# ---- the student's file ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str  # the provider's key ("screening", "warning", …): a CSS hook and test handle
    title: str
    detail: str = ""
    url: str = ""
    urgent: bool = False


Provider = Callable[[Any, Any], Iterable[Entry]]  # (user, student) -> entries the user may see
timeline_providers: Registry[Provider] = Registry("timeline provider")


def timeline_provider(kind: str, *, order: int = 100) -> Callable[[Provider], Provider]:
    """Register a source of the student file's entries under `kind`."""

    def register(fn: Provider) -> Provider:
        timeline_providers.add(kind, fn, order=order)
        return fn

    return register


def student_timeline(user: Any, student: Any) -> list[Entry]:
    """The student's file: every entry the user may see about the student, newest first
    (each provider filters by what this viewer may see; equal times keep provider order)."""
    entries = [e for provider in timeline_providers for e in provider(user, student)]
    return sorted(entries, key=lambda e: e.at, reverse=True)


# ---- the demo district -------------------------------------------------------------------


@dataclass
class DemoRun:
    """What builders share: the district the first builder made, the seed, what to say."""

    students: int
    seed: int
    district: Any = None
    lines: list[str] = field(default_factory=list)


DemoBuilder = Callable[[DemoRun], str | None]  # returns a line for the summary, or None
demo_builders: Registry[DemoBuilder] = Registry("demo builder")


def demo_builder(name: str, *, order: int = 100) -> Callable[[DemoBuilder], DemoBuilder]:
    """Register an app's part of the demo district; builders run in `order` (the roster: 0)."""

    def register(fn: DemoBuilder) -> DemoBuilder:
        demo_builders.add(name, fn, order=order)
        return fn

    return register


# ---- district policy files ---------------------------------------------------------------

SectionCheck = Callable[[str, dict[str, Any]], Iterable[str]]  # (district code, merged policy) -> problems


@dataclass(frozen=True)
class PolicySection:
    name: str  # the section's key in the file: "care", "rooms", "screening", "staffing"
    check: SectionCheck
    check_id: str  # the system check's id for its problems ("xinyu.E030")


policy_sections: Registry[PolicySection] = Registry("policy section")


def policy_section(name: str, *, check_id: str) -> Callable[[SectionCheck], SectionCheck]:
    """Register the check of the policy files' section `name` (e.g. "care"): it returns the
    problems found in one district's merged policy, each a message naming the key."""

    def register(fn: SectionCheck) -> SectionCheck:
        policy_sections.add(name, PolicySection(name, fn, check_id))
        return fn

    return register


def visible_panels(user: AbstractBaseUser | AnonymousUser) -> list[tuple[Panel, dict[str, Any]]]:
    """The home page's panels for this user, each with its context, in order."""
    out: list[tuple[Panel, dict[str, Any]]] = []
    for panel in home_panels:
        context = panel.build(user)
        if context is not None:
            out.append((panel, context))
    return out


# ---- the menu ----------------------------------------------------------------------------

NavItem = Callable[[Any], tuple[str, str] | None]  # (user) -> (url, label), or None to hide
nav_items: Registry[NavItem] = Registry("menu item")


def nav_item(key: str, *, order: int = 100) -> Callable[[NavItem], NavItem]:
    """Register a menu entry: `fn(user)` returns (url, label) when the user may go there."""

    def register(fn: NavItem) -> NavItem:
        nav_items.add(key, fn, order=order)
        return fn

    return register
