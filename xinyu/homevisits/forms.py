"""Forms of the home-visit pages. They only shape input; the services judge it."""

from __future__ import annotations

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
    met = forms.ChoiceField(label=_("met"), choices=Met.choices, initial=Met.MOTHER)
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
