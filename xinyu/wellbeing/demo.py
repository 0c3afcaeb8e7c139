"""Staff wellbeing screening in the demo district (issue 12 item 7), written through the real
services as staff would: a PHQ-9 staff campaign at three demo schools, open now, with some
members undecided, some declined, some answering and most handed in across the tiers, and one
critical answer waiting for the centre's follow-up (the `expert` login sees it on its home).
The demo logins are left undecided, so each sees its own invitation on the home page."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.demo import DEMO_USERNAMES, SCHOOL_PSYCH2, SCHOOL_X
from xinyu.org.models import District, Role, User

from . import services
from .models import StaffCampaign, StaffInvitation

INSTRUMENT = "PHQ9"


def _answers(rng: random.Random, load: float) -> dict[int, int]:
    """0–3 answers for items 1–8, item 9 at 0 (the critical one is written on purpose)."""
    out = {n: min(3, max(0, int(rng.random() * 4 * load + rng.random() * 0.7))) for n in range(1, 9)}
    out[9] = 0
    return out


@transaction.atomic
def build_demo_wellbeing(district: District, *, seed: int = 2025) -> StaffCampaign | None:
    if StaffCampaign.objects.filter(district=district).exists():
        return None
    admin = User.objects.filter(assignments__role=Role.DISTRICT_ADMIN, assignments__district=district).first()
    if admin is None:
        return None
    names = [SCHOOL_X, SCHOOL_PSYCH2]
    schools = list(district.schools.filter(name__in=names))
    schools += list(district.schools.exclude(name__in=names).order_by("name")[:1])
    if not schools:
        return None
    today = timezone.localdate()
    campaign = services.create_campaign(
        by=admin,
        district=district,
        title=f"{today.year} 年教职工心理健康测评",
        instrument=INSTRUMENT,
        schools=schools,
        opens_on=today - dt.timedelta(days=7),
        closes_on=today + dt.timedelta(days=21),
    )
    rng = random.Random(f"{seed}:wellbeing")
    invitations = list(
        StaffInvitation.objects.filter(campaign=campaign)
        .select_related("user", "campaign__district")
        .order_by("pk")
    )
    critical_done = False
    for inv in invitations:
        if inv.user.username in DEMO_USERNAMES:
            continue  # the demo logins decide for themselves
        roll = rng.random()
        if roll < 0.12:
            continue  # undecided
        if roll < 0.24:
            services.record_consent(invitation=inv, by=inv.user, agree=False)
            continue
        inv = services.record_consent(invitation=inv, by=inv.user, agree=True, contact_ok=rng.random() < 0.6)
        answers = _answers(rng, rng.choice((0.1, 0.2, 0.3, 0.5, 0.7, 0.9)))
        if not critical_done:
            answers[9] = 1  # "several days": the centre's experts are told at once
            critical_done = True
        if roll < 0.32:
            answers = dict(list(answers.items())[:4])  # still answering
            answers.pop(9, None)
        for item, value in answers.items():
            inv = services.save_answer(invitation=inv, by=inv.user, item=item, value=value)
        if len(answers) == 9:
            services.submit(invitation=inv, by=inv.user)
    return campaign


@demo_builder("wellbeing", order=45)
def demo_wellbeing(run: DemoRun) -> str | None:
    campaign = build_demo_wellbeing(run.district, seed=run.seed)
    if campaign is None:
        return None
    invited = StaffInvitation.objects.filter(campaign=campaign).count()
    done = StaffInvitation.objects.filter(campaign=campaign, completed_at__isnull=False).count()
    return f"Staff wellbeing: {invited} staff invited at {campaign.schools.count()} schools, {done} handed in (one critical answer awaiting the centre)."
