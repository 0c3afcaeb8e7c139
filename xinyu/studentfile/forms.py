"""The stated-reason form (issue 11 item 3)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .reasons import TEXT_MAX, Reason


class ReasonForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=Reason.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label=_("Explain briefly"),
        max_length=TEXT_MAX * 2,  # the service says what is too long, in both languages
        widget=forms.Textarea(attrs={"rows": 3}),
    )
