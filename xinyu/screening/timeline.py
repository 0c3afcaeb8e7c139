"""Screening's part of the student's file (`xinyu.kernel.registry.timeline_provider`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinyu.kernel.registry import Entry, timeline_provider
from xinyu.org.models import Student, User

from . import access as screening_access
from .services import screening_policy


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


@timeline_provider("screening", order=10)
def screenings(user: User, student: Student) -> list[Entry]:
    """Screenings with tiers and scores: the psych teachers of the student's school only."""
    rows = list(
        screening_access.result_invitations_for(user)
        .filter(student=student)
        .select_related("campaign__district")
        .prefetch_related("results")
    )
    if not rows:
        return []
    lang = _lang()
    tiers = screening_policy(rows[0].campaign.district.code)
    labels = {t.code: t.label.get(lang, t.code) for t in tiers.tiers}
    entries = []
    for inv in rows:
        if inv.completed_at is None:
            detail = str(inv.get_progress_display())
        else:
            scores = ", ".join(
                f"{r.instrument} {r.primary_raw:g}" for r in inv.results.all() if r.primary_raw is not None
            )
            detail = " · ".join(part for part in (labels.get(inv.tier, inv.tier), scores) if part)
        entries.append(
            Entry(
                at=inv.completed_at or inv.campaign.opens_at,
                kind="screening",
                title=inv.campaign.name + (" · " + _("Second stage") if inv.stage == 2 else ""),
                detail=detail,
                url=reverse("screening:report", args=[inv.uid]),
                urgent=inv.critical,
            )
        )
    return entries
