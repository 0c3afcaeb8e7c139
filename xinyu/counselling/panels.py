"""Counselling's menu entry (`xinyu.kernel.registry`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import nav_item
from xinyu.org.models import User

from .access import CounsellingPerm

ROOM_PERMS = (
    CounsellingPerm.VIEW_ROOMS,
    CounsellingPerm.BOOK_FOR_STUDENTS,
    CounsellingPerm.PRINT_STUDENT_KEYS,
)


@nav_item("counselling", order=110)
def nav_counselling(user: User) -> tuple[str, str] | None:
    if not any(policy.can(user, p) for p in ROOM_PERMS):
        return None
    return reverse("counselling:index"), _("Counselling room")
