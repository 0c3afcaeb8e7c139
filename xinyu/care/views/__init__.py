"""Care pages, one module per part. What they share: showing a form's refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def submit(
    request: HttpRequest, form: forms.Form, run: Callable[[dict[str, Any]], Any], ok: str = ""
) -> tuple[bool, Any]:
    """Check the form, run one service call with its cleaned data, and say how it went: the
    success message, or every refusal (the form's and the service's, on its field) as an
    error message. Returns (done, what the service returned)."""
    if form.is_valid():
        try:
            result = run(form.cleaned_data)
        except ServiceError as exc:
            refuse(form, exc)
        else:
            if ok:
                messages.success(request, ok)
            return True, result
    show_errors(request, form)
    return False, None
