"""Forms of the compliance pages (dashboard filter, waivers). They shape input; the services
judge it (the expiry's limits, the justification's length)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _in_a_year() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=365)


class DashboardForm(forms.Form):
    """The drill-down: a cluster of the district (the choices are the district's clusters)."""

    cluster = forms.TypedChoiceField(label=_("cluster"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: object, clusters: Sequence[tuple[int, str]] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["cluster"].choices = [("", _("whole district")), *clusters]  # type: ignore[attr-defined]


class WaiverGrantForm(forms.Form):
    justification = forms.CharField(
        label=_("justification"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    expires_on = forms.DateField(
        label=_("expires on"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        initial=_in_a_year,
    )


class WaiverRevokeForm(forms.Form):
    reason = forms.CharField(label=_("reason for revoking"), max_length=200)


class WaiverFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[
            ("", _("all")),
            ("in_force", _("in force")),
            ("expired", _("expired")),
            ("revoked", _("revoked")),
        ],
    )
    school = forms.ChoiceField(label=_("school"), required=False)
    rule = forms.ChoiceField(label=_("rule"), required=False)

    def __init__(
        self,
        *args: object,
        schools: Sequence[tuple[str, str]] = (),
        rules: Sequence[tuple[str, str]] = (),
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["school"].choices = [("", _("all")), *schools]  # type: ignore[attr-defined]
        self.fields["rule"].choices = [("", _("all")), *rules]  # type: ignore[attr-defined]
