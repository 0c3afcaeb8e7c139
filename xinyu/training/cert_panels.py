"""The certificates' menu entries and the holder's home panel (`xinyu.kernel.registry`);
imported by training/panels.py."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import User

from . import certificates
from .access import TrainingPerm


@nav_item("training_certificates", order=112)
def nav_certificates(user: User) -> tuple[str, str] | None:
    if policy.can(user, TrainingPerm.VIEW_TRAINING):
        return reverse("training_certs:index"), _("Certificates")
    return None


@nav_item("training_coverage", order=113)
def nav_coverage(user: User) -> tuple[str, str] | None:
    if policy.can(user, TrainingPerm.VIEW_TRAINING):
        return reverse("training_coverage:index"), _("Training coverage")
    return None


@home_panel("my_certificates", template="training/certificates/panels/mine.html", order=560)
def my_certificates(user: User) -> dict[str, Any] | None:
    """The user's own issued certificates (one statement); hidden when they hold none."""
    rows = certificates.own_certificates(user)
    return {"rows": rows} if rows else None
