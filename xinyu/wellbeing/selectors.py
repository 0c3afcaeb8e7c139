"""Reads of staff wellbeing screening that take the user (all through `access.py`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.kernel.suppression import shown, small_cell, suppress_grid
from xinyu.org.models import School, User

from . import access
from .models import ConsentState, FollowUpState, StaffCampaign, StaffInvitation
from .services import wellbeing_policy


def my_invitations(user: User) -> list[StaffInvitation]:
    return list(
        access.own_invitations(user).select_related("campaign", "school").order_by("-invited_at", "-id")
    )


def pending_for(user: User) -> list[StaffInvitation]:
    """The member's invitations of open campaigns still waiting for them (undecided, or agreed
    and not handed in)."""
    today = timezone.localdate()
    return [
        inv
        for inv in access.own_invitations(user)
        .filter(campaign__opens_on__lte=today, campaign__closes_on__gte=today, completed_at__isnull=True)
        .select_related("campaign")
        if inv.consent in (ConsentState.PENDING, ConsentState.GIVEN)
    ]


def results(user: User, *, open_only: bool = True) -> QuerySet[StaffInvitation]:
    """The centre expert's list: results needing follow-up (critical first), or all results."""
    qs = access.results_for(user).select_related("user", "school", "campaign")
    if open_only:
        qs = qs.filter(follow_up=FollowUpState.OPEN)
    else:
        qs = qs.filter(Q(completed_at__isnull=False) | Q(critical=True))
    # Critical first (newest first), then by hand-in; NULLs last on every database.
    return qs.order_by(
        F("critical_notified_at").desc(nulls_last=True), F("completed_at").desc(nulls_last=True), "-id"
    )


def open_follow_up_count(user: User) -> int:
    return access.results_for(user).filter(follow_up=FollowUpState.OPEN).count()


# ---- the district's table (suppressed) -----------------------------------------------------


def aggregate_label(rank: int) -> str:
    """Neutral group names for counts by tier (no tier word reaches the district's pages)."""
    labels = [
        _("No notable strain (未见明显困扰)"),
        _("Some strain (轻度困扰)"),
        _("Support suggested (建议关注)"),
        _("Prompt contact offered (建议尽快联系)"),
    ]
    return str(labels[rank]) if rank < len(labels) else _("Group %(n)s") % {"n": rank + 1}


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[str, list[object]]] = field(default_factory=list)
    threshold: int = 5
    hidden_any: bool = False


def campaign_table(campaign: StaffCampaign) -> Table:
    """Per invited school and for the district: invited, not (yet) taking part, in progress,
    completed and completed by tier group — small cells suppressed ([privacy] small_cell),
    complementary cells too, over every line that adds up (a row and its total; each column)."""
    rules = wellbeing_policy(campaign.district.code)
    tiers = sorted(rules.tiers.tiers, key=lambda t: t.rank)
    tier_index = {t.code: i for i, t in enumerate(tiers)}
    schools = list(campaign.schools.order_by("name", "pk"))
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * (3 + len(tiers)))
    # Columns of the body: 0 not taking part (undecided or declined), 1 agreed and not yet
    # handed in, 2 completed, 3.. completed by tier group.
    rows = (
        StaffInvitation.objects.filter(campaign=campaign)
        .values("school_id", "consent", "tier")
        .annotate(n=Count("id"), done=Count("id", filter=Q(completed_at__isnull=False)))
        .order_by()
    )
    for row in rows:
        cells = counts[row["school_id"]]
        n, done = row["n"], row["done"]
        if row["consent"] != ConsentState.GIVEN:
            cells[0] += n
            continue
        cells[1] += n - done
        cells[2] += done
        if done and row["tier"] in tier_index:
            cells[3 + tier_index[row["tier"]]] += done
    body = [counts[s.pk] for s in schools]
    total = [sum(col) for col in zip(*body, strict=True)] if body else [0] * (3 + len(tiers))
    grid = [[*cells, cells[0] + cells[1] + cells[2]] for cells in [*body, total]]
    invited = len(grid[0]) - 1
    threshold = small_cell(campaign.district.code)
    hidden = suppress_grid(
        grid,
        threshold=threshold,
        row_groups=[[0, 1, 2, invited], [2, *range(3, 3 + len(tiers))]],
    )
    table = Table(
        columns=[
            _("Invited"),
            _("Not taking part or not yet decided"),
            _("Agreed, not yet handed in"),
            _("Completed"),
            *(aggregate_label(i) for i in range(len(tiers))),
        ],
        threshold=threshold,
        hidden_any=bool(hidden),
    )
    order = [invited, 0, 1, 2, *range(3, 3 + len(tiers))]
    names = [s.name for s in schools] + [_("District")]
    for r, name in enumerate(names):
        table.rows.append((name, [shown(grid[r][c], (r, c), hidden, threshold=threshold) for c in order]))
    return table


def campaigns(user: User) -> list[dict[str, Any]]:
    out = []
    for campaign in access.campaigns_for(user).prefetch_related("schools"):
        out.append({"campaign": campaign, "schools": len(campaign.schools.all())})
    return out


def district_schools(user: User) -> QuerySet[School]:
    ids = access.district_ids(user, access.WellbeingPerm.MANAGE_CAMPAIGNS)
    return School.objects.filter(district_id__in=ids).order_by("name")
