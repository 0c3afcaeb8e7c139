"""Care pages, one module per part. What they share: showing a form's refusals."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from xinyu.kernel.errors import ServiceError

from ..forms import form_errors


def refuse(form: forms.Form, exc: ServiceError) -> None:
    """A service's refusal, on the field at fault (or the whole form)."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


def show_errors(request: HttpRequest, form: forms.Form) -> None:
    """The form's errors as messages (the page posts and redirects)."""
    for message in form_errors(form):
        messages.error(request, message)
