"""Navigation built from what the access module says the user may do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.counselling.access import CounsellingPerm
from xinyu.mailbox.access import MailboxPerm
from xinyu.notify.services import unread_for
from xinyu.org.models import Role
from xinyu.screening import access as screening_access


def nav(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    items: list[tuple[str, str]] = [(reverse("home"), _("Home"))]
    if policy.can(user, Perm.VIEW_ORG):
        items.append((reverse("org:schools"), _("Schools")))
    if policy.students_for(user, Level.BASIC).exists():
        items.append((reverse("org:students"), _("Students")))
    if screening_access.campaigns_for(user).exists() or screening_access.campaign_schools_for(user).exists():
        items.append((reverse("screening:campaigns"), _("Screening")))
    if care_access.warnings_for(user).exists():
        items.append((reverse("care:warnings"), _("Warnings")))
    if policy.can(user, CarePerm.TRIAGE) or policy.has_role(user, Role.CENTRE_EXPERT):
        items.append((reverse("care:cases"), _("Cases")))
    if policy.can(user, CarePerm.TEAM_WARNINGS):
        items.append((reverse("care:attention"), _("Needs attention")))
    if any(policy.can(user, p) for p in (CarePerm.RUN_RECHECKS, CarePerm.DO_RECHECKS)):
        items.append((reverse("care:rechecks"), _("Re-checks")))
    if policy.can(user, CarePerm.VIEW_CRISIS) or policy.can(user, CarePerm.RUN_CRISIS):
        items.append((reverse("care:crisis_list"), _("Crisis")))
    if policy.can(user, MailboxPerm.READ_LETTERS):
        items.append((reverse("mailbox:letters"), _("Mailbox")))
    if policy.can(user, CarePerm.VIEW_TASKS):
        items.append((reverse("care:tasks"), _("Tasks")))
    if any(
        policy.can(user, p)
        for p in (
            CounsellingPerm.VIEW_ROOMS,
            CounsellingPerm.BOOK_FOR_STUDENTS,
            CounsellingPerm.PRINT_STUDENT_KEYS,
        )
    ):
        items.append((reverse("counselling:index"), _("Counselling room")))
    if policy.can(user, Perm.VIEW_STAFF):
        items.append((reverse("org:staff"), _("Staff")))
    if policy.can(user, Perm.IMPORT_ROSTER) or policy.can(user, Perm.IMPORT_STAFF):
        items.append((reverse("roster:index"), _("Import")))
    if policy.can(user, Perm.VIEW_AUDIT):
        items.append((reverse("audit:log"), _("Audit log")))
    unread = unread_for(user)  # type: ignore[arg-type]
    items.append((reverse("notify:inbox"), _("Messages") + (f" ({unread})" if unread else "")))
    path = request.path
    return {
        "nav_items": [
            {"url": url, "label": label, "active": path == url or (url != "/" and path.startswith(url))}
            for url, label in items
        ],
        "user_roles": [policy.ROLE_LABELS.get(r, r) for r in policy.roles(user)],
    }
