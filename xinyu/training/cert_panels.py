"""The certificates' menu entries (`xinyu.kernel.registry`); imported by training/panels.py.
No home panel: the holder's certificates are on "my training" (`training/mine/`, the
`_my_certificates.html` include) and `certificates/mine/`, so no home page pays a query more."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import nav_item
from xinyu.org.models import User

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
