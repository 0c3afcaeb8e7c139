"""Forms for care pages. They parse and check the shape of input (a choice among the
offered ones, a real date); the services decide, and explain in Chinese and English naming
the field, what is allowed. The field names are the ones the templates post."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from xinyu.org.models import Guardian, School, User

from .models import Case, Channel, DisclosureBasis, EntryKind, Level, Outcome, Step, Tier, Trigger
from .selectors import State, WarningFilter
from .services import crisis


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


def flag(**kwargs: Any) -> forms.TypedChoiceField:
    """A checkbox or button that posts "1" (yes) or "0" / nothing (no)."""
    return forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")],
        coerce=lambda v: v == "1",
        required=False,
        empty_value=False,  # type: ignore[arg-type]
        **kwargs,
    )


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


# ---- concerns, tasks, triage ------------------------------------------------------------------


class ConcernForm(forms.Form):
    """The one-minute report. The student is fetched in scope by the view (`one_for`: 404 and
    a denied row outside it); the token makes a double tap record one concern."""

    student = forms.CharField(max_length=64, error_messages=_messages("学生", "student"))
    triggers = forms.MultipleChoiceField(
        choices=Trigger.choices, required=False, error_messages=_messages("观察到的情况", "trigger")
    )
    note = text_field("说明", "note", max_length=2000)
    token = forms.CharField(max_length=40, required=False)

    def clean_token(self) -> str:
        return self.cleaned_data.get("token") or uuid.uuid4().hex


class TaskAnswerForm(forms.Form):
    answer = text_field("观察记录", "answer", max_length=2000)


class TriageForm(forms.Form):
    tier = forms.ChoiceField(
        choices=[("", "—"), *Tier.choices], required=False, error_messages=_messages("干预层级", "tier")
    )
    assessment = text_field("评估", "assessment")
    reason = text_field("原因", "reason", max_length=300)


# ---- the case page ------------------------------------------------------------------------------


ANCHOR = re.compile(r"^#[\w-]{1,40}$")


class AnchorForm(forms.Form):
    """A form on a page with sections: `anchor` is the section to return to."""

    anchor = forms.RegexField(regex=ANCHOR, required=False)

    def return_anchor(self) -> str:
        value = str(self.data.get("anchor", "") or "")
        return value if ANCHOR.match(value) else ""


class CaseForm(AnchorForm):
    """A form on the case page."""

    def __init__(self, data: Any, *, case: Case) -> None:
        super().__init__(data)
        self.case = case


class ActionForm(CaseForm):
    done = forms.TypedChoiceField(choices=[("1", "done"), ("0", "skip")], coerce=lambda v: v == "1")
    note = text_field("说明", "note", max_length=1000)


class PlanForm(CaseForm):
    plan = text_field("计划", "plan")
    goals = text_field("目标", "goals")
    next_contact_on = day_field("下次联系日期", "next contact")


class EntryForm(CaseForm):
    kind = forms.ChoiceField(choices=EntryKind.choices, error_messages=_messages("记录类型", "kind"))
    on = day_field("记录日期", "date")
    note = text_field("说明", "note")
    next_contact_on = day_field("下次联系日期", "next contact")


class TeamForm(CaseForm):
    """Members and owner among the case's candidates (psych teachers of the school and the
    district's centre experts), by public id."""

    members = forms.MultipleChoiceField(required=False, error_messages=_messages("团队成员", "member"))
    owner = forms.ChoiceField(required=False, error_messages=_messages("负责人", "owner"))

    def __init__(self, data: Any, *, case: Case, candidates: list[User]) -> None:
        super().__init__(data, case=case)
        self.candidates = {str(u.uid): u for u in candidates}
        choices = [(uid, str(u)) for uid, u in self.candidates.items()]
        self.fields["members"].choices = choices  # type: ignore[attr-defined]
        self.fields["owner"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]

    def people(self) -> tuple[list[User], User | None]:
        members = [self.candidates[m] for m in self.cleaned_data["members"]]
        return members, self.candidates.get(self.cleaned_data.get("owner") or "")


class TierForm(CaseForm):
    tier = forms.ChoiceField(choices=Tier.choices, error_messages=_messages("干预层级", "tier"))


class GuardianContactForm(CaseForm):
    guardian = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, error_messages=_messages("监护人", "guardian")
    )
    name = text_field("监护人姓名", "guardian's name", max_length=50)
    at = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "沟通时间格式不对 / Not a date and time"},
    )
    channel = forms.ChoiceField(choices=Channel.choices, error_messages=_messages("沟通方式", "channel"))
    agreed = text_field("沟通结果", "what was agreed")

    def __init__(self, data: Any, *, case: Case) -> None:
        super().__init__(data, case=case)
        self.guardians = {g.pk: g for g in case.student.guardians.all()}
        self.fields["guardian"].choices = [("", "—"), *((pk, g.name) for pk, g in self.guardians.items())]  # type: ignore[attr-defined]

    def chosen_guardian(self) -> Guardian | None:
        pk = self.cleaned_data.get("guardian")
        return self.guardians.get(pk) if pk is not None else None


class DisclosureForm(CaseForm):
    basis = forms.ChoiceField(choices=DisclosureBasis.choices, error_messages=_messages("依据", "basis"))
    recipients = text_field("告知对象", "people told", max_length=300)
    what = text_field("告知内容", "what was told")


class AskForm(CaseForm):
    request = text_field("请班主任做的事", "request to the class teacher", max_length=300)
    due_on = day_field("完成期限", "due date")


class ReassessForm(CaseForm):
    instrument = forms.CharField(max_length=40, error_messages=_messages("量表", "instrument"))


class CloseForm(CaseForm):
    outcome = forms.ChoiceField(choices=Outcome.choices, error_messages=_messages("结案结果", "outcome"))
    note = text_field("说明", "note")


class ReopenForm(CaseForm):
    reason = text_field("原因", "reason", max_length=300)


# ---- referrals ----------------------------------------------------------------------------------


class InstitutionForm(forms.Form):
    """A registry entry. `district` matters only to someone who manages several districts."""

    district = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    name = text_field("机构名称", "name", max_length=100)
    kind = forms.CharField(max_length=20, required=False)  # the service names a wrong kind
    department = text_field("科室", "department", max_length=100)
    contact = text_field("联系人", "contact", max_length=50)
    phone = text_field("电话", "phone", max_length=30)
    address = text_field("地址", "address", max_length=200)
    green_channel = flag()
    active = flag()

    def __init__(self, data: Any, *, districts: list[Any] | None = None) -> None:
        super().__init__(data)
        self.fields["district"].choices = [("", "—"), *((d.pk, d.name) for d in districts or [])]  # type: ignore[attr-defined]

    def entry(self) -> dict[str, Any]:
        """The fields every registry service takes."""
        keys = ("name", "kind", "department", "contact", "phone", "address", "green_channel")
        return {k: self.cleaned_data[k] for k in keys}


class ActiveForm(forms.Form):
    active = flag()


class ReferralForm(forms.Form):
    institution = forms.CharField(
        max_length=64,
        error_messages={"required": "请选择转介机构 / Choose the institution"},
    )
    reason = text_field("转介原因", "reason")
    referred_on = day_field("转介日期", "referred on")
    accompanied_by = text_field("陪同人", "accompanied by", max_length=100)
    guardian_agreed = flag()


class SeenForm(AnchorForm):
    seen_on = day_field("接诊日期", "seen on")


class FeedbackForm(AnchorForm):
    diagnosis_summary = text_field("诊断摘要", "diagnosis summary", max_length=2000)
    advice = text_field("治疗建议", "advice", max_length=2000)
    feedback_on = day_field("反馈日期", "feedback on")


class ReturnForm(AnchorForm):
    returned_on = day_field("返校日期", "returned on")
    return_plan = text_field("回归保健计划", "return plan")


class CancelForm(AnchorForm):
    reason = text_field("取消原因", "reason", max_length=200)


class CheckInForm(forms.Form):
    done_on = day_field("回访日期", "done on")
    note = text_field("回访记录", "note", max_length=2000)


# ---- crisis events ------------------------------------------------------------------------------


class StartForm(forms.Form):
    school = forms.ModelChoiceField(label=gettext_lazy("School"), queryset=School.objects.none())
    title = forms.CharField(
        label=gettext_lazy("Title (neutral: no names, no diagnoses)"),
        max_length=crisis.TITLE_MAX,
        help_text=gettext_lazy("It is sent by SMS to the district: e.g. “Incident on the playground”."),
    )
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("When it happened"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    summary = forms.CharField(
        label=gettext_lazy("What happened"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=crisis.MAX_TEXT,
    )

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["school"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = schools
        if schools.count() == 1:
            field.initial = schools.first()
            field.widget = forms.HiddenInput()


class CrisisActionForm(forms.Form):
    step = forms.CharField(max_length=20, required=False)  # the service names a wrong step
    text = text_field("内容", "text")
    informed = text_field("通报对象", "people informed", max_length=crisis.INFORMED_MAX)


class CrisisStudentForm(forms.Form):
    student = forms.CharField(max_length=100, required=False)  # a name or 学籍号
    role_kind = forms.CharField(max_length=20, required=False)


class CrisisSupportForm(forms.Form):
    support = text_field("心理支持情况", "support")


class CrisisCloseForm(forms.Form):
    note = text_field("结案说明", "closing note")


# ---- re-checks and key periods ------------------------------------------------------------------


class RecheckStartForm(forms.Form):
    school = forms.CharField(max_length=64, required=False)  # fetched in scope by the view
    term = text_field("学期", "term", max_length=40)
    due_on = day_field("完成期限", "due date")


class RecheckForm(forms.Form):
    result = forms.CharField(max_length=20, required=False)  # the service names a wrong result
    note = text_field("情况说明", "note", max_length=2000)


class KeyPeriodForm(forms.Form):
    scope = forms.CharField(max_length=80, required=False)  # "district:<code>" or "school:<uid>"
    name = text_field("名称", "name", max_length=100)
    kind = forms.CharField(max_length=20, required=False)
    starts_on = day_field("开始日期", "start date")
    lead_days = forms.IntegerField(required=False, error_messages=_messages("提前天数", "days ahead"))
