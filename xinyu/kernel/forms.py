"""Form pieces every app's forms share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

# What a `datetime-local` input accepts (and sends back): a localised "2026/12/01 16:00" is
# rejected by the browser, which then submits the field empty. Every such input renders this.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
DATETIME_LOCAL_INPUTS = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    """A date-time picker whose value the browser accepts, whatever the active language."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


def datetime_local_field(label: Any, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=DateTimeLocalInput(), input_formats=DATETIME_LOCAL_INPUTS, **kwargs
    )


def local_input(at: dt.datetime) -> str:
    """A moment as the value of a datetime-local input, in local time (2026-12-01T16:00)."""
    return timezone.localtime(at).strftime(DATETIME_LOCAL)
