"""The district's compliance runs (issue 14 item 2): the list (profile, version, cut-off, who,
how long, counts met / not met / no data), starting a run (idempotent against a double
submit), one run's page with its parameter snapshot (overrides marked), and the comparison of
two runs (what went from met to not met and back, per rule and school) with its Excel export.

District roles only (`CompliancePerm.VIEW_DASHBOARD`; starting: `START_RUN`); every fetch goes
through `xinyu.compliance.access`, out of scope 404 with a `denied` row. Results hold counts,
never a student."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import District, School, User

from . import access, profiles, selectors, services
from .access import CompliancePerm
from .models import Result, Run, RunKind

PAGE = 30
CHANGES_PAGE = 100
DOUBLE_SUBMIT_SECONDS = 60

SHOWN_LABELS: dict[str, Any] = {
    Verdict.MET: gettext_lazy("Met"),
    Verdict.MISSED: gettext_lazy("Not met"),
    Verdict.NO_DATA: gettext_lazy("No data"),
    Verdict.PENDING: gettext_lazy("In progress"),
    Verdict.NOT_APPLICABLE: gettext_lazy("Not applicable"),
    "waived": gettext_lazy("Waived"),
    "": gettext_lazy("Not in this run"),
}
# The export's cells, in both languages whatever the reader's.
SHOWN_CELLS = {
    Verdict.MET: "达标 / met",
    Verdict.MISSED: "未达标 / not met",
    Verdict.NO_DATA: "无数据 / no data",
    Verdict.PENDING: "进行中 / in progress",
    Verdict.NOT_APPLICABLE: "不适用 / not applicable",
    "waived": "已豁免 / waived",
    "": "—",
}
DIRECTIONS = ("worse", "better", "other")
DIRECTION_CELLS = {
    "worse": "达标→未达标 / met → not met",
    "better": "未达标→达标 / → met",
    "other": "其他 / other",
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class StartRunForm(forms.Form):
    cutoff = forms.DateField(
        label=gettext_lazy("Data cut-off"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: today."),
    )

    def clean_cutoff(self) -> dt.date:
        day = self.cleaned_data.get("cutoff") or timezone.localdate()
        if day > timezone.localdate():
            raise forms.ValidationError(_("The cut-off cannot be in the future."))
        return day


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1)
    show = forms.ChoiceField(required=False, choices=[("", "")] + [(d, d) for d in DIRECTIONS])


def _district(user: User) -> District:
    return access.district_for(user)


def may_start(user: User, district: District) -> bool:
    return access.districts_for(user, CompliancePerm.START_RUN).filter(pk=district.pk).exists()


# ---- the list and starting a run ------------------------------------------------------------


def runs(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    district = _district(user)
    form = PageForm(request.GET)
    form.is_valid()
    qs = (
        access.runs_for(user)
        .filter(district=district)
        .select_related("started_by")
        .order_by("-started_at", "-id")
    )
    page = Paginator(qs, PAGE).get_page(form.cleaned_data.get("page"))
    counts = selectors.run_counts([r.pk for r in page])
    return render(
        request,
        "compliance/runs.html",
        {
            "district": district,
            "page": page,
            "rows": [(run, counts[run.pk]) for run in page],
            "may_start": may_start(user, district),
            "form": StartRunForm(),
        },
    )


def start(*, by: User, district: District, cutoff: dt.date) -> tuple[Run, bool]:
    """A new run, or the district's last one when it has the same cut-off and started less than
    a minute ago (a double-submitted form): (run, started now). The district's row is locked so
    that two submits at once run once (PostgreSQL; SQLite serialises writers itself)."""
    with transaction.atomic():
        list(District.objects.select_for_update().filter(pk=district.pk).values_list("pk", flat=True))
        recent = selectors.recent_run(district, cutoff, seconds=DOUBLE_SUBMIT_SECONDS)
        if recent is not None:
            return recent, False
        return services.start_run(by=by, district=district, cutoff=cutoff, kind=RunKind.MANUAL), True


@require_POST
def start_run(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    district = access.district_for(user, CompliancePerm.START_RUN)
    form = StartRunForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("compliance_runs:list")
    try:
        run, started = start(by=user, district=district, cutoff=form.cleaned_data["cutoff"])
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("compliance_runs:list")
    if started:
        messages.success(request, _("Run finished."))
    else:
        messages.info(request, _("This run was started less than a minute ago; here it is."))
    return redirect("compliance_runs:run", uid=run.uid)


# ---- one run --------------------------------------------------------------------------------


@dataclass
class ParamLine:
    name: str
    value: Any
    overridden: bool
    override: Any = None  # the district's Override (who, when, why) when it still holds this value


@dataclass
class SnapshotRow:
    rule_id: str
    rule: Any  # the profile's rule as it stands now (None: dropped since)
    in_effect: bool
    evaluator: str
    params: list[ParamLine]
    counts: Counter[str]


def _chosen(district: District) -> profiles.Chosen | None:
    try:
        return profiles.profile_for(district.code)
    except ServiceError:
        return None


def snapshot(run: Run) -> list[SnapshotRow]:
    """The run's parameters per rule, in the profile's order, each overridden one marked with
    the district's override (who, when, why) when the file still sets that value."""
    chosen = _chosen(run.district)
    rules = {r.id: r for r in chosen.profile.rules} if chosen else {}
    overridden = chosen.overridden if chosen else {}
    per_rule: dict[str, Counter[str]] = {}
    for rule_id, verdict, waived, n in _rule_counts(run):
        counts = per_rule.setdefault(rule_id, Counter())
        counts["waived" if waived else verdict] += n
    out = []
    for rule_id, snap in run.params.items():
        marked = set(snap.get("overridden", []))
        lines = []
        for name, value in (snap.get("params") or {}).items():
            o = overridden.get(rule_id, {}).get(name)
            lines.append(
                ParamLine(name, value, name in marked, o if o is not None and o.value == value else None)
            )
        out.append(
            SnapshotRow(
                rule_id=rule_id,
                rule=rules.get(rule_id),
                in_effect=bool(snap.get("in_effect", True)),
                evaluator=str(snap.get("evaluator", "")),
                params=lines,
                counts=per_rule.get(rule_id, Counter()),
            )
        )
    return out


def _rule_counts(run: Run) -> list[tuple[str, str, bool, int]]:
    """(rule id, verdict, waived, results) of a run, in one query."""
    from django.db.models import Count, Q

    out: list[tuple[str, str, bool, int]] = []
    rows = (
        Result.objects.filter(run=run)
        .values("rule_id", "verdict")
        .annotate(n=Count("id"), n_waived=Count("id", filter=Q(waiver__isnull=False)))
    )
    for r in rows:
        out.append((r["rule_id"], r["verdict"], False, r["n"] - r["n_waived"]))
        if r["n_waived"]:
            out.append((r["rule_id"], r["verdict"], True, r["n_waived"]))
    return out


def run(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    the_run = access.get_run_for(user, uid)
    others = list(
        access.runs_for(user)
        .filter(district_id=the_run.district_id)
        .exclude(pk=the_run.pk)
        .order_by("-started_at", "-id")[:10]
    )
    previous = next((r for r in others if (r.started_at, r.pk) < (the_run.started_at, the_run.pk)), None)
    return render(
        request,
        "compliance/runs_detail.html",
        {
            "run": the_run,
            "rows": snapshot(the_run),
            "counts": selectors.run_counts([the_run.pk])[the_run.pk],
            "previous": previous,
            "others": others,
        },
    )


# ---- comparing two runs ---------------------------------------------------------------------


@dataclass
class ChangeRow:
    rule_id: str
    title: str
    school: School | None
    before: str
    after: str

    @property
    def direction(self) -> str:
        if self.before == Verdict.MET:
            return "worse"
        if self.after == Verdict.MET:
            return "better"
        return "other"

    @property
    def before_label(self) -> Any:
        return SHOWN_LABELS.get(self.before, self.before)

    @property
    def after_label(self) -> Any:
        return SHOWN_LABELS.get(self.after, self.after)


def _pair(user: User, a: str, b: str) -> tuple[Run, Run]:
    """The two runs, older first; both in scope and of one district (else 404 + denied)."""
    ra, rb = access.get_run_for(user, a), access.get_run_for(user, b)
    if ra.district_id != rb.district_id:
        policy.deny(user, object_type="compliance_run", object_id=str(rb.uid))
    return (ra, rb) if (ra.started_at, ra.pk) <= (rb.started_at, rb.pk) else (rb, ra)


def changes(older: Run, newer: Run) -> list[ChangeRow]:
    chosen = _chosen(newer.district)
    titles = {r.id: r.title_zh for r in chosen.profile.rules} if chosen else {}
    order = {d: i for i, d in enumerate(DIRECTIONS)}
    rows = [
        ChangeRow(c.rule_id, titles.get(c.rule_id, c.rule_id), c.school, c.before, c.after)
        for c in selectors.compare(older, newer)
    ]
    return sorted(rows, key=lambda r: (order[r.direction], r.rule_id, r.school.code if r.school else ""))


def compare(request: HttpRequest, a: str, b: str) -> HttpResponse:
    user = _user(request)
    older, newer = _pair(user, a, b)
    rows = changes(older, newer)
    totals = Counter(r.direction for r in rows)
    per_rule: dict[str, Counter[str]] = {}
    for r in rows:
        per_rule.setdefault(r.rule_id, Counter())[r.direction] += 1
    form = PageForm(request.GET)
    form.is_valid()
    show = form.cleaned_data.get("show") or ""
    shown = [r for r in rows if r.direction == show] if show else rows
    page = Paginator(shown, CHANGES_PAGE).get_page(form.cleaned_data.get("page"))
    return render(
        request,
        "compliance/runs_compare.html",
        {
            "older": older,
            "newer": newer,
            "page": page,
            "totals": totals,
            "per_rule": sorted(per_rule.items()),
            "show": show,
        },
    )


def compare_export(request: HttpRequest, a: str, b: str) -> HttpResponse:
    user = _user(request)
    older, newer = _pair(user, a, b)
    rows = changes(older, newer)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="合规评估对比")
    sheet = book.sheet(
        "变化",
        header=[
            "变化 / Change",
            "规则 / Rule",
            "规则名称 / Title",
            "学校代码 / School code",
            "学校 / School",
            "之前 / Before",
            "之后 / After",
        ],
        widths=[22, 26, 36, 14, 28, 18, 18],
    )
    for r in rows:
        sheet.row(
            [
                DIRECTION_CELLS[r.direction],
                r.rule_id,
                r.title,
                r.school.code if r.school else "",
                r.school.name if r.school else "全区 / district",
                SHOWN_CELLS.get(r.before, r.before),
                SHOWN_CELLS.get(r.after, r.after),
            ]
        )
    book.filter(sheet)
    head = book.sheet("说明", header=["", "之前 / Before", "之后 / After"], widths=[24, 30, 30])
    head.row(
        [
            "档案 / Profile",
            f"{older.profile_id} {older.profile_hash[:12]}",
            f"{newer.profile_id} {newer.profile_hash[:12]}",
        ]
    )
    head.row(["截止日期 / Cut-off", older.cutoff, newer.cutoff])
    head.row(
        [
            "开始时间 / Started",
            timezone.localtime(older.started_at).replace(tzinfo=None),
            timezone.localtime(newer.started_at).replace(tzinfo=None),
        ]
    )
    record(
        actor=user,
        action=Action.EXPORT,
        obj=newer,
        role=policy.audit_role(user),
        detail=f"compliance_compare {older.uid} -> {newer.uid}: {len(rows)} rows",
    )
    return excel_response(book.save(), f"compliance-compare-{older.cutoff}-{newer.cutoff}.xlsx")
