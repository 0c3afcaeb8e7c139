"""Forms of staff wellbeing screening: they parse input; the services judge it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyu.org.models import School


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    instrument = forms.ChoiceField(label=_("Questionnaire"))
    schools = forms.ModelMultipleChoiceField(
        label=_("Invited schools"), queryset=School.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    opens_on = forms.DateField(label=_("Opens on"), widget=forms.DateInput(attrs={"type": "date"}))
    closes_on = forms.DateField(label=_("Closes on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, schools: Any, instruments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools  # type: ignore[attr-defined]
        self.fields["instrument"].choices = instruments  # type: ignore[attr-defined]


class ConsentForm(forms.Form):
    decision = forms.ChoiceField(choices=[("agree", "agree"), ("decline", "decline")])
    contact_ok = forms.BooleanField(required=False)


class AnswerForm(forms.Form):
    item = forms.IntegerField()
    value = forms.IntegerField()


class FollowUpForm(forms.Form):
    note = forms.CharField(
        label=_("Follow-up note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )
    contacted = forms.BooleanField(label=_("The staff member was contacted"), required=False)
    close = forms.BooleanField(label=_("Close the follow-up"), required=False)
