"""The school's self-evaluation (CY 四.(三); issue 14 item 4).

A school's leader and psych teachers open the school year's self-evaluation against the
district's profile, see the engine's verdict of the latest run beside each rule, set their own
verdict with a note and evidence files (photos, documents: what the data cannot show), and the
leader submits it. The district admin reviews the submitted ones from /compliance/self/
(accepts, or returns with a note); `compliance.self_declared` reads the accepted ones.

Every fetch goes through `xinyu.compliance.access` (404 + `denied` outside scope); the
writes are `xinyu.compliance.services`; evidence files are checked by content
(`kernel.evidence.check_upload`, in the service) and served through `access.get_evidence_for`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import school_year_of
from xinyu.org.models import School, User

from . import access, profiles, selectors, services
from .access import CompliancePerm
from .models import (
    Declared,
    SelfEvaluation,
    SelfEvaluationEvidence,
    SelfEvaluationItem,
    SelfEvaluationStatus,
)

PAGE = 30
EDITABLE = (SelfEvaluationStatus.DRAFT, SelfEvaluationStatus.RETURNED)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class YearForm(forms.Form):
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)


class ItemForm(forms.Form):
    declared = forms.ChoiceField(
        label=gettext_lazy("school's verdict"), required=False, choices=[("", "—"), *Declared.choices]
    )
    note = forms.CharField(
        label=gettext_lazy("note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("file"))
    caption = forms.CharField(label=gettext_lazy("caption"), max_length=100, required=False)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("accept", gettext_lazy("Accept")), ("return", gettext_lazy("Return to the school"))],
    )
    note = forms.CharField(
        label=gettext_lazy("review note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ListForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", ""), *SelfEvaluationStatus.choices])
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    page = forms.IntegerField(required=False, min_value=1)


def current_year(school: School) -> int:
    """The school year (its first calendar year) containing today, by the district's calendar."""
    calendar = dict(policy_for_code(school.district.code).get("calendar", {}))
    return school_year_of(timezone.localdate(), calendar).year


def _profile_id(school: School) -> str:
    return profiles.profile_for(school.district.code).profile.id


def _self_url(se: SelfEvaluation) -> str:
    return reverse("compliance_self:school", kwargs={"uid": se.school.uid}) + f"?year={se.year}"


def _errors(request: HttpRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


# ---- the school's page ----------------------------------------------------------------------


@dataclass
class ItemRow:
    item: SelfEvaluationItem
    rule: Any  # None: the rule left the profile since the self-evaluation was opened
    result: Any  # the engine's Result of the latest run, or None
    files: list[SelfEvaluationEvidence]
    form: ItemForm


def school(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    sch = access.get_school_for(user, uid)
    form = YearForm(request.GET)
    form.is_valid()
    year = form.cleaned_data.get("year") or current_year(sch)
    se = (
        access.self_evaluations_for(user)
        .filter(school=sch, profile_id=_profile_id(sch), year=year)
        .select_related("submitted_by", "reviewed_by")
        .prefetch_related(
            Prefetch("items", queryset=SelfEvaluationItem.objects.order_by("pk").prefetch_related("evidence"))
        )
        .first()
    )
    run = selectors.latest_run(sch.district)
    results = selectors.school_results(run, sch)
    rules = selectors.rules_by_id(sch.district)
    may_fill = access.may(user, CompliancePerm.FILL_SELF_EVALUATION, sch)
    rows = []
    if se is not None:
        order = {rid: i for i, rid in enumerate(rules)}
        items = sorted(se.items.all(), key=lambda i: (order.get(i.rule_id, len(order)), i.rule_id))
        rows = [
            ItemRow(
                item=i,
                rule=rules.get(i.rule_id),
                result=results.get(i.rule_id),
                files=list(i.evidence.all()),
                form=ItemForm(initial={"declared": i.declared, "note": i.note}, prefix=f"i{i.pk}"),
            )
            for i in items
        ]
    editable = se is not None and se.status in EDITABLE
    return render(
        request,
        "compliance/self_school.html",
        {
            "school": sch,
            "year": year,
            "se": se,
            "rows": rows,
            "run": run,
            "may_open": se is None and may_fill,
            "may_fill": editable and may_fill,
            "may_submit": editable and access.may(user, CompliancePerm.SUBMIT_SELF_EVALUATION, sch),
            "may_review": se is not None
            and se.status == SelfEvaluationStatus.SUBMITTED
            and access.may(user, CompliancePerm.REVIEW_SELF_EVALUATION, sch),
            "declared_count": sum(1 for r in rows if r.item.declared),
            "evidence_form": EvidenceForm(),
            "review_form": ReviewForm(),
        },
    )


@require_POST
def open_self(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    sch = access.get_school_for(user, uid, CompliancePerm.FILL_SELF_EVALUATION)
    form = YearForm(request.POST)
    form.is_valid()
    year = form.cleaned_data.get("year") or current_year(sch)
    try:
        se = services.open_self_evaluation(
            by=user, school=sch, year=year, run=selectors.latest_run(sch.district)
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("compliance_self:school", uid=sch.uid)
    return redirect(_self_url(se))


def _item(user: User, uid: str, rule_id: str, perm: str) -> SelfEvaluationItem:
    se = access.get_self_evaluation_for(user, uid, perm)
    item = se.items.filter(rule_id=rule_id).first()
    if item is None:  # the self-evaluation is in scope; the rule is simply not on it
        raise Http404
    item.self_evaluation = se
    return item


@require_POST
def save_item(request: HttpRequest, uid: str, rule_id: str) -> HttpResponse:
    user = _user(request)
    item = _item(user, uid, rule_id, CompliancePerm.FILL_SELF_EVALUATION)
    form = ItemForm(request.POST, prefix=f"i{item.pk}")
    if not form.is_valid():
        _errors(request, form)
    else:
        try:
            services.save_item(
                by=user, item=item, declared=form.cleaned_data["declared"], note=form.cleaned_data["note"]
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Saved."))
    return redirect(_self_url(item.self_evaluation) + f"#rule-{item.rule_id}")


@require_POST
def upload(request: HttpRequest, uid: str, rule_id: str) -> HttpResponse:
    user = _user(request)
    item = _item(user, uid, rule_id, CompliancePerm.FILL_SELF_EVALUATION)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        _errors(request, form)
    else:
        try:
            services.add_item_evidence(
                by=user, item=item, upload=form.cleaned_data["file"], caption=form.cleaned_data["caption"]
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Attachment added."))
    return redirect(_self_url(item.self_evaluation) + f"#rule-{item.rule_id}")


@require_POST
def submit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    se = access.get_self_evaluation_for(user, uid, CompliancePerm.SUBMIT_SELF_EVALUATION)
    try:
        services.submit_self_evaluation(by=user, se=se)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Self-evaluation submitted to the district."))
    return redirect(_self_url(se))


@require_POST
def review(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    se = access.get_self_evaluation_for(user, uid, CompliancePerm.REVIEW_SELF_EVALUATION)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect(_self_url(se))
    accept = form.cleaned_data["decision"] == "accept"
    try:
        services.review_self_evaluation(by=user, se=se, accept=accept, note=form.cleaned_data["note"])
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(_self_url(se))
    messages.success(
        request, _("Self-evaluation accepted.") if accept else _("Self-evaluation returned to the school.")
    )
    return redirect("compliance_self:list")


def evidence(request: HttpRequest, uid: str) -> FileResponse:
    return kernel_evidence.serve(access.get_evidence_for(_user(request), uid))


# ---- the district's list --------------------------------------------------------------------


def review_list(request: HttpRequest) -> HttpResponse:
    """The district's self-evaluations to review: submitted ones first by default, filtered by
    status and school year, paged."""
    user = _user(request)
    district = access.district_for(user, CompliancePerm.REVIEW_SELF_EVALUATION)
    form = ListForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    status = data.get("status") if "status" in request.GET else SelfEvaluationStatus.SUBMITTED
    qs = access.self_evaluations_for(user, CompliancePerm.REVIEW_SELF_EVALUATION).filter(
        school__district=district
    )
    if data.get("year"):
        qs = qs.filter(year=data["year"])
    totals = Counter(dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n")))
    if status:
        qs = qs.filter(status=status)
    qs = (
        qs.select_related("school", "submitted_by", "reviewed_by")
        .annotate(n_items=Count("items", distinct=True))
        .order_by("-submitted_at", "school__code", "-year")
    )
    page = Paginator(qs, PAGE).get_page(data.get("page"))
    return render(
        request,
        "compliance/self_list.html",
        {
            "district": district,
            "page": page,
            "status": status or "",
            "year": data.get("year") or "",
            "statuses": [
                (value, label, totals.get(value, 0)) for value, label in SelfEvaluationStatus.choices
            ],
        },
    )
