"""Training's home panels and menu entries (`xinyu.kernel.registry`). The programmes' menu
entry is here (those who view or run training in their scope: district, centre, school
leaders, psych teachers) and "my training" for everyone who works at a school (a trainee). The
certificates' entries live in cert_panels.py (the certificates and coverage menu entries)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import nav_item
from xinyu.org.models import Role, User

from . import cert_panels  # noqa: F401
from .access import TrainingPerm


@nav_item("training", order=111)
def nav_training(user: User) -> tuple[str, str] | None:
    if policy.can(user, TrainingPerm.VIEW_TRAINING):
        return reverse("training:programmes"), _("Training")
    return None


# Everyone who works at a school may be a trainee (class teachers take the C certificate,
# psych teachers the B, everyone the all-staff training): their own programmes, check-ins,
# feedback and certificates. No query: the grants are cached on the user.
TRAINEE_ROLES = (Role.PSYCH_TEACHER, Role.SCHOOL_LEADER, Role.GRADE_LEADER, Role.CLASS_TEACHER)


@nav_item("training_mine", order=114)
def nav_my_training(user: User) -> tuple[str, str] | None:
    if any(policy.has_role(user, role) for role in TRAINEE_ROLES):
        return reverse("training:mine"), _("My training")
    return None
