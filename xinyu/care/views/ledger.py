"""The high-risk ledger (高风险台账): the school's (its psych teachers) and the district
centre's (its experts: cases escalated to the centre), on a page and as a watermarked Excel
file. Who sees which cases is `care_access.ledger_cases_for`; anyone else gets a 404 and a
`denied` audit row. Every view of the page and every export is audited."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.query import EmptyQuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.kernel.excel import excel_response
from xinyu.org.models import User

from .. import ledger
from ..models import Case, Tier


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _scope(centre: bool) -> str:
    return "centre" if centre else "school"


def _cases(user: User, *, centre: bool) -> QuerySet[Case]:
    """The ledger's cases; a user with no ledger at all (not a psych teacher, or not a centre
    expert for the centre's) gets a 404 and a `denied` row, as for a missing page."""
    cases = care_access.ledger_cases_for(user, centre=centre)
    if isinstance(cases, EmptyQuerySet):
        policy.deny(user, object_type="ledger", object_id=_scope(centre))
    return cases


def _filtered(request: HttpRequest, cases: QuerySet[Case]) -> tuple[QuerySet[Case], dict[str, str]]:
    return ledger.filtered(
        cases,
        school=request.GET.get("school", ""),
        tier=request.GET.get("tier", ""),
        sort=request.GET.get("sort", ""),
    )


def school_ledger(request: HttpRequest) -> HttpResponse:
    return _page(request, centre=False)


def centre_ledger(request: HttpRequest) -> HttpResponse:
    return _page(request, centre=True)


def school_export(request: HttpRequest) -> HttpResponse:
    return _export(request, centre=False)


def centre_export(request: HttpRequest) -> HttpResponse:
    return _export(request, centre=True)


def _page(request: HttpRequest, *, centre: bool) -> HttpResponse:
    user = _user(request)
    cases = _cases(user, centre=centre)
    scoped, applied = _filtered(request, cases)
    rows = ledger.ledger_rows(scoped)
    schools = ledger.ledger_schools(cases)
    record(
        actor=user,
        action=Action.VIEW,
        object_type="ledger",
        object_id=_scope(centre),
        detail=f"high-risk ledger ({_scope(centre)}), {len(rows)} rows",
    )
    return render(
        request,
        "care/ledger/ledger.html",
        {
            "centre": centre,
            "rows": rows,
            "schools": schools,
            "tiers": Tier.choices,
            "sorts": [
                ("next", _("Next contact, soonest first")),
                ("-next", _("Next contact, latest first")),
                ("opened", _("Opened, newest first")),
                ("tier", _("Tier, most serious first")),
            ],
            "applied": applied,
            "query": request.GET.urlencode(),
            "overdue": sum(r.overdue for r in rows),
        },
    )


def _export(request: HttpRequest, *, centre: bool) -> HttpResponse:
    user = _user(request)
    cases = _cases(user, centre=centre)
    now = timezone.now()
    with translation.override("zh-hans"):  # the provincial ledger is in Chinese
        scoped, applied = _filtered(request, cases)
        rows = ledger.ledger_rows(scoped)
        title = _("High-risk ledger")
        data = ledger.workbook(rows, title=title, mark=ledger.watermark(user, now))
    filename = f"高风险台账-{_place(user, centre=centre, school=applied['school'])}-{timezone.localdate(now):%Y-%m-%d}.xlsx"
    ledger.record_export(user=user, rows=rows, scope=_scope(centre), filename=filename)
    response = excel_response(data, filename)
    response["Cache-Control"] = "no-store"
    return response


def _place(user: User, *, centre: bool, school: str) -> str:
    """Where the ledger is from, for the file name: the filtered school, the user's one
    school, or the centre."""
    names: list[str] = []
    if school:
        names = list(policy.schools_for(user).filter(uid=school).values_list("name", flat=True))
    elif not centre:
        names = list(policy.schools_with(user, CarePerm.TRIAGE).values_list("name", flat=True)[:2])
    if len(names) == 1:
        return names[0]
    return "指导中心" if centre else "学校"
