"""Screening in the demo district: last year's and this year's campaigns with plausible
consent, progress and answers, scored through the real services (bulk_score), so the psych
teacher's home shows warnings and the reports have something to show."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import District, Role, User

from . import services
from .forms import DEFAULT_CONSENT_TEXT
from .models import Answer, Campaign, Consent, ConsentDecision, Invitation, Progress

BATTERY = ("PHQ9", "GAD7")


def _answers(rng: random.Random, items: int, load: float) -> list[int]:
    """0–3 answers; `load` (0–1) is how distressed this synthetic student is."""
    return [min(3, max(0, int(rng.random() * 4 * load + rng.random() * 0.8))) for _ in range(items)]


@transaction.atomic
def build_demo_screening(district: District, *, seed: int = 2025) -> list[Campaign]:
    if Campaign.objects.filter(district=district).exists():
        return []
    admin = User.objects.filter(assignments__role=Role.DISTRICT_ADMIN, assignments__district=district).first()
    if admin is None:
        return []
    schools = list(district.schools.all())
    now = timezone.now()
    campaigns = []
    for year_back, completion in ((1, 0.92), (0, 0.7)):
        start = now.year - year_back if now.month >= 9 else now.year - 1 - year_back
        opens = now - dt.timedelta(days=365 * year_back + 7)
        campaign = services.create_campaign(
            by=admin,
            name=f"{start}-{start + 1} 学年全区心理健康测评",
            school_year=f"{start}-{start + 1}",
            schools=schools,
            scope_label="全区",
            target_grades=list(range(4, 13)),
            batteries=[services.BatterySpec(4, 12, BATTERY)],
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=21),
            consent_text=DEFAULT_CONSENT_TEXT,
            consent_version="1.0",
        )
        _fill(campaign, random.Random(f"{seed}:{year_back}"), completion)
        services.bulk_score(Invitation.objects.filter(campaign=campaign), district_code=district.code)
        campaigns.append(campaign)
    return campaigns


def _fill(campaign: Campaign, rng: random.Random, completion: float) -> None:
    at = campaign.opens_at + dt.timedelta(hours=2)
    invitations = list(Invitation.objects.filter(campaign=campaign))
    decisions, answers = [], []
    for inv in invitations:
        roll = rng.random()
        if roll < 0.04:
            inv.consent = Consent.DECLINED
        elif roll < 0.10:
            continue  # the guardian has not answered yet
        else:
            inv.consent = Consent.GIVEN
        inv.consent_at = at
        decisions.append(
            ConsentDecision(
                invitation=inv,
                decision=inv.consent,
                channel=rng.choice(["qr", "link", "sms", "paper"]),
                text_version="1.0",
                at=at,
            )
        )
        if inv.consent != Consent.GIVEN or rng.random() > completion:
            continue
        load = rng.betavariate(1.6, 4.5)
        inv.assent_at = inv.started_at = at
        inv.completed_at = at + dt.timedelta(minutes=6)
        inv.progress = Progress.COMPLETED
        phq, gad = _answers(rng, 9, load), _answers(rng, 7, load)
        if load < 0.55 or rng.random() < 0.5:
            phq[8] = 0  # item 9 only where distress is high
        for n, value in enumerate(phq, 1):
            answers.append(Answer(invitation=inv, instrument="PHQ9", item=n, value=value, answered_at=at))
        for n, value in enumerate(gad, 1):
            answers.append(Answer(invitation=inv, instrument="GAD7", item=n, value=value, answered_at=at))
    # A few distinct states, each one UPDATE per 900 ids (bulk_update's CASE per row took most
    # of the demo's time at 150,000 students).
    fields = ("consent", "consent_at", "assent_at", "started_at", "completed_at", "progress")
    states: dict[tuple[object, ...], list[int]] = {}
    for inv in invitations:
        states.setdefault(tuple(getattr(inv, f) for f in fields), []).append(inv.pk)
    for state, pks in states.items():
        for i in range(0, len(pks), 900):
            Invitation.objects.filter(pk__in=pks[i : i + 900]).update(**dict(zip(fields, state, strict=True)))
    ConsentDecision.objects.bulk_create(decisions, batch_size=2000)
    Answer.objects.bulk_create(answers, batch_size=5000)


@demo_builder("screening", order=20)
def demo_screening(run: DemoRun) -> str | None:
    campaigns = build_demo_screening(run.district, seed=run.seed)
    return f"Screening: {len(campaigns)} campaigns with answers, scored."
