"""Forms of the home-visit pages. They only shape input; the services judge it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Met, VisitForm


class VisitEntryForm(forms.Form):
    visited_on = forms.DateField(
        label=_("visit date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    form = forms.ChoiceField(label=_("form"), choices=VisitForm.choices, initial=VisitForm.VISIT)
    met = forms.ChoiceField(label=_("person met"), choices=Met.choices, initial=Met.MOTHER)
    note = forms.CharField(
        label=_("note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    raise_concern = forms.BooleanField(label=_("Raise a concern"), required=False)
    seen = forms.CharField(
        label=_("What was seen"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel file"))
    check_only = forms.BooleanField(label=_("Check only, do not save"), required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("file"))
    caption = forms.CharField(label=_("caption"), max_length=100, required=False)


class VisitEditForm(forms.Form):
    visited_on = forms.DateField(
        label=_("visit date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    form = forms.ChoiceField(label=_("form"), choices=VisitForm.choices)
    met = forms.ChoiceField(label=_("person met"), choices=Met.choices)
    note = forms.CharField(
        label=_("note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class VisitDeleteForm(forms.Form):
    reason = forms.CharField(label=_("Reason for deleting"), max_length=100)


class VisitFilterForm(forms.Form):
    """The visit list's filters; the choices are the caller's scope (given by the view), so a
    school, class or recorder outside it is simply not a valid choice."""

    school = forms.ChoiceField(label=_("School"), required=False)
    school_class = forms.ChoiceField(label=_("Class"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    form = forms.ChoiceField(label=_("form"), required=False)
    by = forms.ChoiceField(label=_("Recorded by"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any,
        *,
        schools: Sequence[tuple[str, str]],
        classes: Sequence[tuple[str, str]],
        recorders: Sequence[tuple[str, str]],
    ) -> None:
        super().__init__(data)
        everyone = [("", _("All"))]
        self.fields["school"].choices = everyone + list(schools)  # type: ignore[attr-defined]
        self.fields["school_class"].choices = everyone + list(classes)  # type: ignore[attr-defined]
        self.fields["form"].choices = everyone + list(VisitForm.choices)  # type: ignore[attr-defined]
        self.fields["by"].choices = everyone + list(recorders)  # type: ignore[attr-defined]
        if len(schools) <= 1:
            self.fields["school"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class CoverageFilterForm(forms.Form):
    """The school and district coverage pages' filters: the school year (this one and the two
    before, given by the view), only the units under a coverage, and the page."""

    year = forms.ChoiceField(label=_("School year"), required=False)
    under = forms.IntegerField(label=_("Only coverage under (%)"), required=False, min_value=1, max_value=100)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, years: Sequence[tuple[str, str]]) -> None:
        super().__init__(data)
        self.fields["year"].choices = list(years)  # type: ignore[attr-defined]
