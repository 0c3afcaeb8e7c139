"""Screening's menu entry (`xinyu.kernel.registry`); the home page shows its warnings
through care's panels."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.kernel.registry import nav_item
from xinyu.org.models import User

from . import access as screening_access


@nav_item("screening", order=30)
def nav_screening(user: User) -> tuple[str, str] | None:
    if screening_access.campaigns_for(user).exists() or screening_access.campaign_schools_for(user).exists():
        return reverse("screening:campaigns"), _("Screening")
    return None
