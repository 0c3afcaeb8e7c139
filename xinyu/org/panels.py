"""The organisation's home-page panels and menu entries (`xinyu.kernel.registry`).

Panels (the home page shows each one whose build returns a context; orders below 100 sit above
"To act on first", 100–499 inside it, 500 and up in the grid below): the no-role notice, the
schools and classes in scope, key populations,
students per cluster, and the quick links. Menu entries: home, schools, students, staff,
import, audit log."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.kernel.registry import home_panel, nav_item

from . import selectors
from .models import Role, User


def _sees_students(user: User) -> bool:
    """Whether any student is in scope, read once per request (the menu and the search box)."""
    cached: bool | None = getattr(user, "_org_sees_students", None)
    if cached is None:
        cached = policy.students_for(user, Level.BASIC).exists()
        user._org_sees_students = cached  # type: ignore[attr-defined]
    return cached


def _overview(user: User) -> list[Any]:
    """The schools in scope with their counts, read once per request."""
    cached: list[Any] | None = getattr(user, "_org_schools_overview", None)
    if cached is None:
        cached = list(selectors.schools_overview(user))
        user._org_schools_overview = cached  # type: ignore[attr-defined]
    return cached


# ---- home page ---------------------------------------------------------------------------


@home_panel("no_role", template="org/panels/no_role.html", order=10)
def no_role(user: User) -> dict[str, Any] | None:
    return None if policy.roles(user) else {}


@home_panel("scope", template="org/panels/scope.html", order=500)
def scope(user: User) -> dict[str, Any] | None:
    """The schools in scope with their students, and (below the district) the classes."""
    return {
        "schools": _overview(user)[:50],
        "classes": list(selectors.classes_overview(user)[:60]) if not policy.has_district_scope(user) else [],
    }


@home_panel("key_populations", template="org/panels/key_populations.html", order=510)
def key_populations(user: User) -> dict[str, Any] | None:
    rows = selectors.key_population_summary(user)
    return {"rows": rows} if rows else None


@home_panel("by_cluster", template="org/panels/by_cluster.html", order=520)
def by_cluster(user: User) -> dict[str, Any] | None:
    if not policy.has_role(user, Role.DISTRICT_ADMIN):
        return None
    rows = selectors.students_by_cluster(user)
    return {"rows": rows} if rows else None


@home_panel("quick_links", template="org/panels/quick_links.html", order=900)
def quick_links(user: User) -> dict[str, Any] | None:
    return {
        "can_search": _sees_students(user),
        "can_import": policy.can(user, Perm.IMPORT_ROSTER),
        "can_audit": policy.can(user, Perm.VIEW_AUDIT),
    }


# ---- menu --------------------------------------------------------------------------------


@nav_item("home", order=0)
def nav_home(user: User) -> tuple[str, str] | None:
    return reverse("home"), _("Home")


@nav_item("schools", order=10)
def nav_schools(user: User) -> tuple[str, str] | None:
    return (reverse("org:schools"), _("Schools")) if policy.can(user, Perm.VIEW_ORG) else None


@nav_item("students", order=20)
def nav_students(user: User) -> tuple[str, str] | None:
    return (reverse("org:students"), _("Students")) if _sees_students(user) else None


@nav_item("staff", order=200)
def nav_staff(user: User) -> tuple[str, str] | None:
    return (reverse("org:staff"), _("Staff")) if policy.can(user, Perm.VIEW_STAFF) else None


@nav_item("import", order=210)
def nav_import(user: User) -> tuple[str, str] | None:
    if not (policy.can(user, Perm.IMPORT_ROSTER) or policy.can(user, Perm.IMPORT_STAFF)):
        return None
    return reverse("roster:index"), _("Import")


@nav_item("audit", order=220)
def nav_audit(user: User) -> tuple[str, str] | None:
    return (reverse("audit:log"), _("Audit log")) if policy.can(user, Perm.VIEW_AUDIT) else None
