"""Forms for counselling pages. They parse and check input shape; the services decide (and
explain, in Chinese and English, naming the field) what is allowed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyu.kernel.forms import DATETIME_LOCAL_INPUTS, DateTimeLocalInput

from .models import IssueCategory, ProjectKind, Weekday, ZoneKind
from .services import SessionNotes

# Date-time inputs render as datetime-local wants them (xinyu.kernel.forms).


def _required(zh: str, en: str) -> dict[str, Any]:
    return {
        "required": f"{zh}：必填。 / {en}: required.",
        "invalid": f"{zh}：格式不正确。 / {en}: invalid value.",
    }


class RoomForm(forms.Form):
    name = forms.CharField(
        label=_("Room name"), max_length=100, error_messages=_required("名称", "Room name")
    )
    location = forms.CharField(
        label=_("Location"), max_length=200, error_messages=_required("位置", "Location")
    )
    mailbox_location = forms.CharField(
        label=_("Mailbox (心理信箱) location"),
        max_length=200,
        error_messages=_required("心理信箱位置", "Mailbox location"),
    )
    help_email = forms.EmailField(
        label=_("School help email"), error_messages=_required("求助邮箱", "Help email")
    )
    booking_note = forms.CharField(label=_("How to book"), max_length=300, required=False)


class ZoneForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Zone"), choices=ZoneKind.choices, error_messages=_required("功能区", "Zone")
    )
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    area_m2 = forms.DecimalField(
        label=_("Area (m²)"),
        max_digits=6,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=Decimal("2000"),
        error_messages={
            **_required("面积（m²）", "Area (m²)"),
            "min_value": "面积（m²）：须大于 0。 / Area (m²): must be above 0.",
            "max_value": "面积（m²）：不能超过 2000。 / Area (m²): at most 2000.",
            "max_decimal_places": "面积（m²）：最多一位小数。 / Area (m²): one decimal place at most.",
        },
    )
    equipment = forms.MultipleChoiceField(
        label=_("Equipment present"), required=False, widget=forms.CheckboxSelectMultiple
    )
    other_equipment = forms.CharField(label=_("Other equipment"), max_length=300, required=False)

    def __init__(self, *args: object, checklist: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["equipment"].choices = [(i, i) for i in checklist]  # type: ignore[attr-defined]


class ProjectForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of project"), choices=ProjectKind.choices, error_messages=_required("项目类型", "Kind")
    )
    completed_on = forms.DateField(
        label=_("Completed on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages=_required("完成日期", "Completed on"),
    )
    project = forms.CharField(
        label=_("Project"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "2025年区级民生实事"}),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ProjectFilterForm(forms.Form):
    """The building-projects list's filter (GET): year completed, kind, school (of those the
    user sees), page."""

    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=_("Kind of project"), required=False)
    school = forms.ChoiceField(label=_("School"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, schools: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("all")), *ProjectKind.choices]  # type: ignore[attr-defined]
        self.fields["school"].choices = [("", _("all")), *schools]  # type: ignore[attr-defined]


class SlotForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=_("Weekday"), choices=Weekday.choices, coerce=int, error_messages=_required("星期", "Weekday")
    )
    starts = forms.TimeField(
        label=_("From"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages=_required("开始时间", "From"),
    )
    ends = forms.TimeField(
        label=_("To"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages=_required("结束时间", "To"),
    )
    staff = forms.ChoiceField(label=_("On duty"), required=False)


class RecordForm(forms.Form):
    held_at = forms.DateTimeField(
        label=_("Held at"),
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_LOCAL_INPUTS,
        error_messages=_required("时间", "Held at"),
    )
    minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=5,
        max_value=240,
        initial=40,
        error_messages=_required("时长", "Duration"),
    )
    category = forms.ChoiceField(
        label=_("Main issue (category)"),
        choices=IssueCategory.choices,
        error_messages=_required("主要问题类别", "Main issue (category)"),
    )
    current_state = forms.CharField(label=_("Current state"), widget=forms.Textarea(attrs={"rows": 2}))
    main_problem = forms.CharField(label=_("Main problem"), widget=forms.Textarea(attrs={"rows": 2}))
    assessment = forms.CharField(label=_("Assessment"), widget=forms.Textarea(attrs={"rows": 2}))
    analysis = forms.CharField(label=_("Analysis"), widget=forms.Textarea(attrs={"rows": 2}))
    measures = forms.CharField(label=_("Measures"), widget=forms.Textarea(attrs={"rows": 2}))
    effect = forms.CharField(label=_("Evaluation of effect"), widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("Next step"), widget=forms.Textarea(attrs={"rows": 2}))
    risk_self_harm = forms.BooleanField(label=_("Risk of self-harm"), required=False)
    risk_harm_others = forms.BooleanField(label=_("Risk of harm to others"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, label in SessionNotes.LABELS.items():
            zh, en = label.split(" / ")
            self.fields[name].error_messages = _required(zh, en)

    def notes(self) -> SessionNotes:
        return SessionNotes(**{name: self.cleaned_data[name] for name in SessionNotes.LABELS})


class GroupForm(forms.Form):
    held_at = RecordForm.base_fields["held_at"]
    minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=5,
        max_value=480,
        initial=45,
        error_messages=_required("时长", "Duration"),
    )
    topic = forms.CharField(label=_("Topic"), max_length=200, error_messages=_required("主题", "Topic"))
    category = RecordForm.base_fields["category"]
    participants = forms.CharField(
        label=_("Participants (student numbers, one per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    other_participants = forms.IntegerField(
        label=_("Other participants (not listed)"), min_value=0, initial=0
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=_required("效果", "Outcome"),
    )


# ---- small forms of the appointment and room pages ----------------------------------------

CHOOSE_TIME = ("时间：请选择一个时段。", "Time: choose a time.")


class UnitForm(forms.Form):
    """One appointment time of a room, posted as "YYYY-MM-DD|HH:MM" (the unit's options)."""

    unit = forms.CharField(required=False)

    def clean_unit(self) -> tuple[dt.date, dt.time]:
        try:
            date_s, time_s = str(self.cleaned_data.get("unit") or "|").split("|")[-2:]
            return dt.date.fromisoformat(date_s), dt.time.fromisoformat(time_s)
        except ValueError:
            raise forms.ValidationError(" / ".join(CHOOSE_TIME)) from None


class BookForm(UnitForm):
    """The student's own booking on the public page: which room and which time."""

    room = forms.CharField(required=False)


class StaffBookForm(UnitForm):
    student = forms.CharField(required=False)  # the student's public id, fetched through access


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=200)


class PhotoForm(forms.Form):
    photo = forms.FileField(
        required=True, error_messages={"required": "照片：请选择文件。 / Photo: choose a file."}
    )
    caption = forms.CharField(required=False)


class KeyForm(forms.Form):
    """The booking code a student types on the room's public page."""

    code = forms.CharField(required=False)


class PickForm(forms.Form):
    """Which school (room pages) or student (new appointment) or zone kind a page is for: a
    public id looked up through the access policy, never trusted as is."""

    school = forms.CharField(required=False)
    student = forms.CharField(required=False)
    kind = forms.CharField(required=False)


def pick(name: str, *sources: Any) -> str:
    """The first non-empty `name` among the sources (e.g. the POST, then the query string)."""
    for data in sources:
        form = PickForm(data)
        if form.is_valid() and form.cleaned_data.get(name):
            return str(form.cleaned_data[name])
    return ""


def first_error(form: forms.Form) -> str:
    """The first message of an invalid form (they are bilingual already)."""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return ""
