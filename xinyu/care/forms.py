"""Forms for care pages. They parse and check the shape of input (a choice among the
offered ones, a real date); the services decide, and explain in Chinese and English naming
the field, what is allowed. The field names are the ones the templates post."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Level, Step
from .selectors import State, WarningFilter


def _messages(zh: str, en: str) -> dict[str, Any]:
    return {
        "required": f"请填写{zh} / Please fill in the {en}",
        "invalid": f"{zh}格式不正确 / The {en} is not valid",
        "invalid_choice": f"请选择有效的{zh} / Please choose a valid {en}",
        "invalid_pk_value": f"请选择有效的{zh} / Please choose a valid {en}",
        "max_length": f"{zh}太长 / The {en} is too long",
    }


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def day_field(zh: str, en: str, *, required: bool = False, label: Any = None) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        error_messages=_messages(zh, en),
    )


def text_field(zh: str, en: str, *, required: bool = False, max_length: int = 4000) -> forms.CharField:
    # The services check required text themselves (with the field's name); the form only
    # takes it in, so that a refusal reads the same from the page and from the API.
    return forms.CharField(required=required, max_length=max_length, error_messages=_messages(zh, en))


def form_errors(form: forms.Form) -> list[str]:
    """A form's errors as lines for `messages.error` (the pages post and redirect)."""
    return [str(e) for errors in form.errors.values() for e in errors]


# ---- the warning inbox ------------------------------------------------------------------------


class WarningFilterForm(forms.Form):
    """The inbox's filters (GET). An invalid value is dropped (the page shows every warning
    for that filter), never an error page."""

    STATES = [
        ("", _("Not closed")),
        (State.AWAITING, _("Awaiting acknowledgement")),
        (State.ACKNOWLEDGED, _("Acknowledged")),
        (State.CLOSED, _("Closed")),
    ]

    level = forms.ChoiceField(label=_("Level"), required=False, choices=[("", "—"), *Level.choices])
    step = forms.ChoiceField(label=_("Step"), required=False, choices=[("", "—"), *Step.choices])
    state = forms.ChoiceField(label=_("Status"), required=False, choices=STATES)
    school_class = forms.TypedChoiceField(label=_("Class"), required=False, coerce=int, empty_value=None)
    opened_from = day_field("开始日期", "start date", label=_("Opened from"))
    opened_to = day_field("结束日期", "end date", label=_("Opened until"))

    def __init__(self, data: Any, *, classes: list[tuple[int, str]]) -> None:
        super().__init__(data)
        self.fields["school_class"].choices = [("", "—"), *classes]  # type: ignore[attr-defined]

    def filters(self) -> WarningFilter:
        self.is_valid()
        clean = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return WarningFilter(
            level=clean.get("level") or "",
            step=clean.get("step") or "",
            state=clean.get("state") or "",
            school_class=clean.get("school_class"),
            opened_from=clean.get("opened_from"),
            opened_to=clean.get("opened_to"),
        )
