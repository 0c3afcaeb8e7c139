"""Key populations and key periods (SPEC §4): the term's re-check lists and the key-period
calendar.

- psych teachers: the rounds, "start a round", progress per class, every class list with
  results, notes and why each student is on it;
- class teachers: their class's list in a round (names only, never why), "seems well" /
  "worried" with a note, on a phone;
- grade leaders: progress per class of their grade, counts only;
- everyone with a role: the key-period calendar in scope; district admins edit the
  district's, psych teachers their school's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import District, User

from .. import selectors
from ..forms import KeyPeriodForm, RecheckForm, RecheckStartForm, form_errors
from ..models import KeyPeriod, PeriodKind
from ..rules import care_rules
from ..services import rechecks as services
from . import refuse, submit


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# ---- re-check rounds ---------------------------------------------------------------------------


def rechecks(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    overview = selectors.recheck_overview(_user(request))
    return render(
        request,
        "care/rechecks/index.html",
        {**overview, "today": today, "default_due": today + dt.timedelta(days=14)},
    )


@require_POST
def recheck_start(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = RecheckStartForm(request.POST)
    school = policy.one_for(
        user, policy.schools_with(user, CarePerm.RUN_RECHECKS), form["school"].value() or "", "school"
    )
    done, round = submit(
        request,
        form,
        lambda data: services.start_recheck_round(
            school=school, by=user, term=data["term"], due_on=data["due_on"]
        ),
    )
    if not done:
        return redirect("care:rechecks")
    messages.success(
        request, _("Re-check started: %(n)s students on the lists.") % {"n": round.entries.count()}
    )
    return redirect("care:recheck_round", uid=round.uid)


def recheck_round(request: HttpRequest, uid: str) -> HttpResponse:
    return render(request, "care/rechecks/round.html", selectors.recheck_round_bundle(_user(request), uid))


def recheck_class(request: HttpRequest, uid: str, class_uid: str) -> HttpResponse:
    return render(
        request, "care/rechecks/class.html", selectors.recheck_class_bundle(_user(request), uid, class_uid)
    )


@require_POST
def recheck_record(request: HttpRequest, uid: str, student_uid: str) -> HttpResponse:
    user = _user(request)
    round = care_access.get_recheck_round_for(user, uid)
    entry = care_access.get_recheck_entry_for(user, round, student_uid)
    form = RecheckForm(request.POST)
    if form.is_valid():
        try:
            services.record_recheck(
                entry=entry, by=user, result=form.cleaned_data["result"], note=form.cleaned_data["note"]
            )
        except ServiceError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Saved: %(name)s.") % {"name": entry.student.name})
    for message in form_errors(form):
        messages.error(request, f"{entry.student.name}: {message}")
    url = reverse("care:recheck_class", kwargs={"uid": round.uid, "class_uid": entry.school_class.uid})
    return redirect(f"{url}#s-{entry.student.uid}")


# ---- key periods -------------------------------------------------------------------------------


def _scopes(user: User) -> list[tuple[str, str]]:
    """The calendars the user may add to: ("district:<code>", …) and ("school:<uid>", …)."""
    out: list[tuple[str, str]] = []
    for district in District.objects.filter(pk__in=policy.district_ids(user)).order_by("name"):
        if care_access.can_manage_key_period(user, district.pk, None):
            out.append(
                (
                    f"district:{district.code}",
                    _("%(district)s (whole district)") % {"district": district.name},
                )
            )
    for school in policy.schools_with(user, CarePerm.MANAGE_KEY_PERIODS).order_by("name"):
        out.append((f"school:{school.uid}", school.name))
    return out


def key_periods(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    periods = list(
        care_access.key_periods_for(user)
        .filter(starts_on__gte=today - dt.timedelta(days=60))
        .select_related("school", "district")
        .order_by("starts_on")[:300]
    )
    editable = set(care_access.editable_key_periods_for(user).values_list("pk", flat=True))
    scopes = _scopes(user)
    districts = District.objects.filter(pk__in=policy.district_ids(user))
    lead = care_rules(districts[0].code).key_period_lead_days if districts else 7
    return render(
        request,
        "care/rechecks/key_periods.html",
        {
            "rows": [(p, p.pk in editable and p.tasks_created_at is None) for p in periods],
            "scopes": scopes,
            "kinds": PeriodKind.choices,
            "default_lead": lead,
            "today": today,
        },
    )


@require_POST
def key_period_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = KeyPeriodForm(request.POST)
    scope = str(form["scope"].value() or "")
    kind_of, _sep, ref = scope.partition(":")
    if kind_of == "district":
        district = District.objects.filter(pk__in=policy.district_ids(user), code=ref).first()
        if district is None:
            policy.deny(user, object_type="district", object_id=ref[:64])
        school = None
    else:
        school = policy.one_for(
            user,
            policy.schools_with(user, CarePerm.MANAGE_KEY_PERIODS).select_related("district"),
            ref,
            "school",
        )
        district = school.district
    submit(
        request,
        form,
        lambda data: services.create_key_period(by=user, district=district, school=school, **_period(data)),
        _("Key period added."),
    )
    return redirect("care:key_periods")


def _period(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("name", "kind", "starts_on", "lead_days")}


def _editable(user: User, uid: str) -> KeyPeriod:
    qs = care_access.editable_key_periods_for(user).select_related("school", "district")
    return policy.one_for(user, qs, uid, "keyperiod")


def key_period_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    period = _editable(user, uid)
    values = {
        "name": period.name,
        "kind": period.kind,
        "starts_on": period.starts_on.isoformat(),
        "lead_days": period.lead_days,
    }
    if request.method == "POST":
        form = KeyPeriodForm(request.POST)
        values = {k: form.data.get(k, "") for k in values}
        done, _period_saved = submit(
            request,
            form,
            lambda data: services.update_key_period(period=period, by=user, **_period(data)),
            _("Key period saved."),
        )
        if done:
            return redirect("care:key_periods")
    return render(
        request,
        "care/rechecks/key_period_form.html",
        {"period": period, "values": values, "kinds": PeriodKind.choices},
    )


@require_POST
def key_period_delete(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    period = _editable(user, uid)
    try:
        services.delete_key_period(period=period, by=user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Key period deleted."))
    return redirect("care:key_periods")
