"""Home visits on the student's file (`xinyu.kernel.registry.timeline_provider`): the visits
of the student for those who see the class's coverage; the note only for note readers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.kernel.registry import Entry, timeline_provider

from . import access


@timeline_provider("homevisit", order=60)
def home_visits(user: Any, student: Any) -> Iterable[Entry]:
    visits = list(access.visits_for(user).filter(student=student).order_by("-visited_on", "-id")[:50])
    for v in visits:
        readable = access.may_read_note(user, v)
        at = timezone.make_aware(dt.datetime.combine(v.visited_on, dt.time(12)))
        yield Entry(
            at=at,
            kind="homevisit",
            title=_("Home visit: %(form)s, met %(met)s")
            % {"form": v.get_form_display(), "met": v.get_met_display()},
            detail=v.note if readable else "",
            url=reverse("homevisits:visit", args=[v.uid]) if readable else "",
            urgent=v.concern_raised and readable,
        )
