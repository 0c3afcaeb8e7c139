"""Referral (转介, SPEC §4): the district's registry of institutions, the referral form from a
case, the referral page (feedback, return, check-ins) and the list of referrals in scope.

Every fetch goes through `xinyu.access.policy`; every write through `care.services.referrals`.
Whoever sees a referral (the case's people: the school's psych teachers, the case team, the
centre's experts for cases shared with the centre) may record its steps, as on the case page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import District, User

from .. import selectors
from ..forms import (
    ActiveForm,
    AnchorForm,
    CancelForm,
    CheckInForm,
    FeedbackForm,
    InstitutionForm,
    ReferralForm,
    ReturnForm,
    SeenForm,
)
from ..models import (
    ActionStatus,
    CaseEventKind,
    Institution,
    InstitutionKind,
    Referral,
    ReferralStatus,
)
from ..services import referrals as services
from . import submit


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# ---- the registry --------------------------------------------------------------------------


def _manager_districts(user: User) -> list[District]:
    ids = {g.district_id for g in policy.grants(user) if CarePerm.MANAGE_INSTITUTIONS in g.policy.perms}
    return list(District.objects.filter(pk__in=ids).order_by("name"))


def institutions(request: HttpRequest) -> HttpResponse:
    """The registry (green channel first). Everyone who runs cases reads it; district admins
    and centre experts add, edit and deactivate entries."""
    user = _user(request)
    if not (policy.can(user, CarePerm.TRIAGE) or policy.can(user, CarePerm.MANAGE_INSTITUTIONS)):
        policy.deny(user, object_type="institution", object_id="")
    districts = _manager_districts(user)
    posted = None
    if request.method == "POST":
        if not districts:
            policy.deny(user, object_type="institution", object_id="")
        form = InstitutionForm(request.POST, districts=districts)
        done, institution = submit(
            request,
            form,
            lambda data: services.create_institution(
                by=user,
                district=([d for d in districts if d.pk == data["district"]] or districts[:1])[0],
                **form.entry(),
            ),
        )
        if done:
            messages.success(request, _("Added to the registry: %(name)s") % {"name": institution.name})
            return redirect("care:institutions")
        posted = form.data
    rows = care_access.institutions_for(user).select_related("district")
    if not districts:
        rows = rows.filter(active=True)
    rows_list = list(rows)
    return render(
        request,
        "care/referrals/institutions.html",
        {
            "active": [i for i in rows_list if i.active],
            "inactive": [i for i in rows_list if not i.active],
            "can_manage": bool(districts),
            "districts": districts,
            "kinds": InstitutionKind.choices,
            "posted": posted,
        },
    )


def institution_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    institution = care_access.get_institution_for(user, uid, manage=True)
    posted = None
    if request.method == "POST":
        form = InstitutionForm(request.POST)
        done, _saved = submit(
            request,
            form,
            lambda data: services.update_institution(
                institution=institution, by=user, active=data["active"], **form.entry()
            ),
            _("Saved."),
        )
        if done:
            return redirect("care:institutions")
        posted = form.data
    return render(
        request,
        "care/referrals/institution_form.html",
        {"institution": institution, "kinds": InstitutionKind.choices, "posted": posted},
    )


@require_POST
def institution_active(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    institution = care_access.get_institution_for(user, uid, manage=True)
    form = ActiveForm(request.POST)
    active = bool(form.is_valid() and form.cleaned_data["active"])
    try:
        services.set_institution_active(institution=institution, by=user, active=active)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Back on the referral form.") if active else _("Taken off the referral form.")
        )
    return redirect("care:institutions")


# ---- referrals -------------------------------------------------------------------------------


def referral_new(request: HttpRequest, uid: str) -> HttpResponse:
    """The referral form of a case (`uid` is the case's)."""
    user = _user(request)
    case = care_access.get_case_for(user, uid)
    registry = care_access.institutions_for(user).filter(district_id=case.school.district_id)
    choices = list(registry.filter(active=True))
    posted = None
    if request.method == "POST":
        form = ReferralForm(request.POST)
        picked = form["institution"].value()
        # Out of scope is 404 whatever else the form says (no institution: the form says so).
        institution = policy.one_for(user, registry, picked, "institution") if picked else Institution()
        done, referral = submit(
            request,
            form,
            lambda data: services.make_referral(
                case=case,
                by=user,
                institution=institution,
                **{k: data[k] for k in ("reason", "referred_on", "accompanied_by", "guardian_agreed")},
            ),
        )
        if done:
            messages.success(
                request,
                _("Referral recorded. Feedback is expected by %(date)s.")
                % {"date": f"{referral.feedback_due_on:%Y-%m-%d}"},
            )
            if case.actions.filter(code="referral", status=ActionStatus.OPEN).exists():
                messages.info(request, _("Remember to tick the referral action on the case checklist."))
            return redirect("care:referral", uid=referral.uid)
        posted = form.data
    return render(
        request,
        "care/referrals/new.html",
        {
            "case": case,
            "institutions": choices,
            "today": timezone.localdate(),
            "posted": posted,
            "can_manage": policy.can(user, CarePerm.MANAGE_INSTITUTIONS),
        },
    )


HISTORY_LABELS = {
    "sent": gettext_lazy("Referral sent"),
    "seen": gettext_lazy("Seen by the institution"),
    "feedback": gettext_lazy("Feedback received"),
    "returned": gettext_lazy("Back at school"),
    "check-in": gettext_lazy("Check-in done"),
    "closed": gettext_lazy("Support plan finished"),
    "cancelled": gettext_lazy("Cancelled"),
}


def _history(referral: Referral) -> list[dict[str, Any]]:
    """The referral's dated history: its case events (detail "referral <uid>: …")."""
    prefix = services.event_prefix(referral)
    rows = []
    # The detail is encrypted at rest (xinyu.crypto): matched here, among the case's few events.
    for event in referral.case.events.filter(kind=CaseEventKind.REFERRAL).select_related("actor"):
        if not event.detail.startswith(prefix):
            continue
        what = event.detail[len(prefix) :].strip()
        word = what.split(" ", 1)[0].rstrip(":;")
        rows.append(
            {
                "at": event.at,
                "actor": event.actor,
                "label": str(HISTORY_LABELS.get(word, word)),
                "detail": what[len(word) :].lstrip(":; ").strip(),
            }
        )
    return rows


def referral_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    referral = care_access.get_referral_for(user, uid)
    today = timezone.localdate()
    check_ins = list(referral.check_ins.select_related("by"))
    status = referral.status
    return render(
        request,
        "care/referrals/detail.html",
        {
            "r": referral,
            "check_ins": check_ins,
            "history": _history(referral),
            "today": today,
            "overdue": referral.feedback_overdue,
            "can_seen": status == ReferralStatus.SENT,
            "can_feedback": status in services.AWAITING_FEEDBACK,
            "can_return": status == ReferralStatus.FEEDBACK,
            "can_check_in": status == ReferralStatus.RETURNED,
            "can_finish": status == ReferralStatus.RETURNED and all(c.done_on for c in check_ins),
            "can_cancel": status in services.AWAITING_FEEDBACK,
        },
    )


ACTIONS: dict[str, tuple[type[AnchorForm], Any, Any]] = {
    "seen": (
        SeenForm,
        lambda r, u, d: services.mark_seen(referral=r, by=u, seen_on=d["seen_on"]),
        gettext_lazy("Recorded: seen by the institution."),
    ),
    "feedback": (
        FeedbackForm,
        lambda r, u, d: services.record_feedback(
            referral=r,
            by=u,
            diagnosis_summary=d["diagnosis_summary"],
            advice=d["advice"],
            feedback_on=d["feedback_on"],
        ),
        gettext_lazy("Feedback recorded."),
    ),
    "return": (
        ReturnForm,
        lambda r, u, d: services.record_return(
            referral=r, by=u, returned_on=d["returned_on"], return_plan=d["return_plan"]
        ),
        gettext_lazy("Back at school: the support plan and its check-ins are scheduled."),
    ),
    "finish": (
        AnchorForm,
        lambda r, u, d: services.finish_referral(referral=r, by=u),
        gettext_lazy("Support plan finished."),
    ),
    "cancel": (
        CancelForm,
        lambda r, u, d: services.cancel_referral(referral=r, by=u, reason=d["reason"]),
        gettext_lazy("Referral cancelled."),
    ),
}


@require_POST
def referral_action(request: HttpRequest, uid: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404()
    user = _user(request)
    referral = care_access.get_referral_for(user, uid)
    form_class, run, ok = ACTIONS[action]
    form = form_class(request.POST)
    submit(
        request,
        form,
        lambda data: run(referral, user, data),
        str(ok),
    )
    return redirect(reverse("care:referral", kwargs={"uid": referral.uid}) + form.return_anchor())


@require_POST
def check_in_done(request: HttpRequest, uid: str, pk: int) -> HttpResponse:
    user = _user(request)
    referral = care_access.get_referral_for(user, uid)
    check_in = referral.check_ins.filter(pk=pk).first()
    if check_in is None:
        raise Http404()
    form = CheckInForm(request.POST)
    submit(
        request,
        form,
        lambda data: services.record_check_in(
            check_in=check_in,
            by=user,
            done_on=data["done_on"],
            note=data["note"],
        ),
        _("Check-in recorded."),
    )
    return redirect(reverse("care:referral", kwargs={"uid": referral.uid}) + "#check-ins")


def referrals(request: HttpRequest) -> HttpResponse:
    """The referrals in the user's scope: open ones first, overdue feedback in red, and the
    return-to-school check-ins that are due."""
    lists = selectors.referral_lists(_user(request))
    return render(
        request,
        "care/referrals/list.html",
        {**vars(lists), "today": timezone.localdate()},
    )
