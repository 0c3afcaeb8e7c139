"""Training's home panels and menu entries (`xinyu.kernel.registry`). The programmes' menu
entry is here (those who view or run training in their scope: district, centre, school
leaders, psych teachers; participants reach their own training at /training/mine/). The
certificates' entries live in cert_panels.py (the certificates and coverage menu entries)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import nav_item
from xinyu.org.models import User

from . import cert_panels  # noqa: F401
from .access import TrainingPerm


@nav_item("training", order=111)
def nav_training(user: User) -> tuple[str, str] | None:
    if policy.can(user, TrainingPerm.VIEW_TRAINING):
        return reverse("training:programmes"), _("Training")
    return None
