"""Pages of the staff register: the district's and each school's list (filters, paging, Excel
export), one entry with its posts and certificates, edit forms (EDIT_REGISTER), the
district's Excel import, the teacher's own entry with corrections, and the school's
confirmation of corrections. Views fetch through `xinyu.staff.access` and call services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.org.models import District, School, Stage, User

from . import access, importer, selectors, services
from .access import StaffPerm
from .forms import CertificateForm, CorrectionForm, ImportForm, MemberForm, PostForm, ReasonForm, ReturnForm
from .models import CertificateKind, Degree, PostType, StaffMember
from .selectors import Gap, RegisterFilter
from .services import PostSpec


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _filters(request: HttpRequest, schools: QuerySet[School], school: School | None = None) -> RegisterFilter:
    g = request.GET
    if school is None and g.get("school"):
        school = policy.by_uid(schools, g["school"])
    post_type = g.get("post_type", "")
    if post_type not in (*PostType.values, "all", "none"):
        post_type = ""
    certificate = g.get("certificate", "")
    degree = g.get("degree", "")
    gap = g.get("gap", "")
    return RegisterFilter(
        school=school,
        post_type=post_type or None,
        q=g.get("q", "")[:50],
        certificate=certificate if certificate in CertificateKind.values else "",
        degree=degree if degree in Degree.values else "",
        gap=gap if gap in dict(Gap.CHOICES) else "",
    )


def _query_without_page(request: HttpRequest) -> str:
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


@dataclass(frozen=True)
class RowView:
    """One register row as the list shows it (built in Python: a page of 50 rows stays cheap)."""

    url: str
    staff_no: str
    name: str
    school: str
    post: str
    served: str
    degree: str
    certificates: tuple[str, ...]
    phone: str
    pending: bool


def _row_views(page: selectors.RegisterPage, show_phone: bool) -> list[RowView]:
    posts, degrees, stages = (
        {k: str(v) for k, v in choices} for choices in (PostType.choices, Degree.choices, Stage.choices)
    )
    zero = "00000000-0000-0000-0000-000000000000"
    member_url = reverse("staff:member", args=[zero])  # one reverse for the page's rows
    out = []
    for m in page.rows:
        served = "、".join(
            m_post.school.name
            + (f"·{m_post.campus.name}" if m_post.campus else "")
            + (f"·{stages.get(m_post.stage, m_post.stage)}" if m_post.stage else "")
            for m_post in m.posts.all()
        )
        degree = degrees.get(m.degree, "") + (f" {m.major}" if m.major else "")
        out.append(
            RowView(
                url=member_url.replace(zero, str(m.uid)),
                staff_no=m.staff_no,
                name=m.name,
                school=m.school.name if m.school else "—",
                post=posts.get(m.post_type, "") or "—",
                served=served or "—",
                degree=degree.strip() or "—",
                certificates=tuple(c.kind for c in getattr(m, "held", [])),
                phone=m.phone if show_phone else "",
                pending=m.pk in page.pending,
            )
        )
    return out


def _register(request: HttpRequest, school: School | None) -> HttpResponse:
    user = _user(request)
    schools = access.register_schools_for(user).order_by("code")
    filters = _filters(request, schools, school)
    page = selectors.register_page(user, filters, request.GET.get("page", 1))  # type: ignore[arg-type]
    show_phone = access.can_see_phone(user)
    chosen = filters.school.pk if filters.school else None
    return render(
        request,
        "staff/register.html",
        {
            "page": page,
            "rows": _row_views(page, show_phone),
            "filters": filters,
            "school": school,
            "school_options": []
            if school is not None
            else [
                (str(s.uid), f"{s.code} {s.name}", s.pk == chosen)
                for s in schools.only("uid", "code", "name")
            ],
            "post_types": PostType.choices,
            "certificates": CertificateKind.choices,
            "degrees": Degree.choices,
            "gaps": Gap.CHOICES,
            "show_phone": show_phone,
            "can_edit": policy.can(user, StaffPerm.EDIT_REGISTER),
            "can_import": policy.can(user, StaffPerm.IMPORT_REGISTER),
            "query": _query_without_page(request),
            "export_query": request.GET.urlencode(),
            "pending_count": selectors.corrections_to_confirm(user).count(),
        },
    )


@require_GET
def register(request: HttpRequest) -> HttpResponse:
    policy.require(_user(request), StaffPerm.VIEW_REGISTER, what="staff_register")
    return _register(request, None)


@require_GET
def school_register(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = policy.one_for(user, access.register_schools_for(user), uid, "school")
    return _register(request, school)


def _yes(v: bool) -> str:
    return "是" if v else "否"


@require_GET
def register_export(request: HttpRequest) -> HttpResponse:
    """The filtered register as Excel (watermarked, audited)."""
    user = _user(request)
    policy.require(user, StaffPerm.VIEW_REGISTER, what="staff_register_export")
    schools = access.register_schools_for(user)
    filters = _filters(request, schools)
    rows = selectors.export_rows(user, filters)
    show_phone = access.can_see_phone(user)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="心理健康教师名册")
    header = [
        "工号", "姓名", "性别", "出生年份", "学校代码", "学校", "任教学校代码", "校区", "学段", "岗位类型",
        "学历", "专业", "专业对口", "相关工作年限", "岗前培训", "岗前培训日期", "专门培训", "最近培训日期",
        "周课时", "计入班主任年限", "职称", *(["电话"] if show_phone else []),
        "C证编号", "C证日期", "C证发证机构", "C证有效期", "B证编号", "B证日期", "B证发证机构", "B证有效期",
    ]  # fmt: skip
    sheet = book.sheet("心理健康教师名册", header=header)
    stage_names, post_names = importer.STAGE_NAMES, importer.POST_TYPE_NAMES
    degree_names = importer.DEGREE_NAMES
    for m in rows:
        posts = list(m.posts.all())
        certs = {c.kind: c for c in reversed(getattr(m, "held", []))}
        cert_cells: list[Any] = []
        for kind in ("C", "B"):
            c = certs.get(kind)
            cert_cells += [c.number, c.issued_on, c.issuer, c.expires_on] if c else ["", None, "", None]
        sheet.row(
            [
                m.staff_no,
                m.name,
                m.get_gender_display() if m.gender else "",
                m.birth_year,
                m.school.code if m.school else "",
                m.school.name if m.school else "",
                "、".join(dict.fromkeys(p.school.code for p in posts)),
                "、".join(dict.fromkeys(p.campus.name for p in posts if p.campus)),
                "、".join(dict.fromkeys(stage_names.get(p.stage, "") for p in posts if p.stage)),
                post_names.get(m.post_type, ""),
                degree_names.get(m.degree, ""),
                m.major,
                _yes(m.major_relevant),
                m.related_experience_years,
                _yes(m.pre_job_training),
                m.pre_job_training_on,
                _yes(m.specialised_training),
                m.last_trained_on,
                m.weekly_periods,
                m.class_teacher_years,
                m.title,
                *([m.phone] if show_phone else []),
                *cert_cells,
            ]  # fmt: skip
        )
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="staff_register",
        object_id=filters.school.code if filters.school else "",
        school=filters.school,
        role=policy.roles_label(user),
        detail=f"register export: {len(rows)} rows",
    )
    return excel_response(book.save(), f"心理健康教师名册-{timezone.localdate():%Y%m%d}.xlsx")


def _editable_schools(user: User) -> QuerySet[School]:
    return access.register_schools_for(user, StaffPerm.EDIT_REGISTER).order_by("code")


@require_GET
def member_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    member = access.get_member_for(user, uid, audit="register entry")
    member = selectors.member_detail(member)
    can_edit = access.can_edit(user, member)
    schools = _editable_schools(user)
    pending = selectors.pending_correction(member)
    return render(
        request,
        "staff/member.html",
        {
            "m": member,
            "posts": list(member.posts.all()),
            "certificates": list(member.certificates.all()),
            "corrections": list(member.corrections.all()),
            "pending": pending,
            "pending_fields": _proposed_rows(member, pending.proposed) if pending else [],
            "show_phone": access.can_see_phone(user, member),
            "can_edit": can_edit,
            "is_own": member.user_id == user.pk,
            "post_form": PostForm(schools=schools) if can_edit else None,
            "certificate_form": CertificateForm() if can_edit else None,
        },
    )


def _member_form_page(
    request: HttpRequest, form: MemberForm, member: StaffMember | None, status: int = 200
) -> HttpResponse:
    return render(request, "staff/member_form.html", {"form": form, "m": member}, status=status)


@require_http_methods(["GET", "POST"])
def member_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, StaffPerm.EDIT_REGISTER, what="staff_member_new")
    schools = _editable_schools(user)
    if request.method == "GET":
        return _member_form_page(request, MemberForm(schools=schools, creating=True), None)
    form = MemberForm(request.POST, schools=schools, creating=True)
    if form.is_valid():
        school = form.cleaned_data["school"]
        district = (
            school.district
            if school
            else District.objects.filter(
                pk__in=access.district_ids_with(user, StaffPerm.EDIT_REGISTER)
            ).first()
        )
        if school is None and district is None:
            form.add_error("school", _("Please choose the home school."))
        else:
            try:
                assert district is not None
                member = services.create_member(
                    by=user, district=district, school=school, staff_no=form.cleaned_data["staff_no"],
                    fields=form.entry_fields(),
                )  # fmt: skip
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("Saved."))
                return redirect("staff:member", uid=member.uid)
    return _member_form_page(request, form, None, status=400)


@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    member = access.get_member_for(user, uid, StaffPerm.EDIT_REGISTER, own=False)
    schools = _editable_schools(user)
    if request.method == "GET":
        return _member_form_page(
            request, MemberForm(initial=MemberForm.initial_for(member), schools=schools), member
        )
    form = MemberForm(request.POST, schools=schools)
    if form.is_valid():
        try:
            services.update_member(
                by=user, member=member, fields=form.entry_fields(), school=form.cleaned_data["school"]
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("staff:member", uid=member.uid)
    return _member_form_page(request, form, member, status=400)


def _specs(member: StaffMember) -> list[PostSpec]:
    return [PostSpec(p.school, p.campus, p.stage) for p in member.posts.select_related("school", "campus")]


@require_POST
def posts(request: HttpRequest, uid: str) -> HttpResponse:
    """Add a post (school, campus, stage) or remove one (`remove` = the post's id)."""
    user = _user(request)
    member = access.get_member_for(user, uid, StaffPerm.EDIT_REGISTER, own=False)
    current = _specs(member)
    try:
        if request.POST.get("remove"):
            ids = list(member.posts.order_by("id").values_list("pk", flat=True))
            keep = [
                p
                for p in member.posts.select_related("school", "campus").order_by("id")
                if str(p.pk) != request.POST["remove"]
            ]
            if len(keep) == len(ids):
                raise Http404()
            services.set_posts(
                by=user, member=member, posts=[PostSpec(p.school, p.campus, p.stage) for p in keep]
            )
        else:
            form = PostForm(request.POST, schools=_editable_schools(user))
            if not form.is_valid():
                raise ServiceError(
                    "请选择学校（及校区、学段）",
                    "Please choose the school (and campus, stage)",
                    field="school",
                )
            d = form.cleaned_data
            services.set_posts(
                by=user, member=member, posts=[*current, PostSpec(d["school"], d["campus"], d["stage"] or "")]
            )
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("staff:member", uid=member.uid)


@require_POST
def certificate_add(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    member = access.get_member_for(user, uid, StaffPerm.EDIT_REGISTER, own=False)
    form = CertificateForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError("请选择证书类别", "Please choose the certificate kind", field="kind")
        services.record_certificate(by=user, member=member, source="entered", **form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("staff:member", uid=member.uid)


@require_http_methods(["GET", "POST"])
def certificate_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    cert = access.get_certificate_for(user, uid)
    if request.method == "GET":
        initial = {
            "kind": cert.kind, "name": cert.name, "number": cert.number, "issuer": cert.issuer,
            "issued_on": cert.issued_on.isoformat() if cert.issued_on else "",
            "expires_on": cert.expires_on.isoformat() if cert.expires_on else "",
        }  # fmt: skip
        return render(
            request,
            "staff/certificate_form.html",
            {"form": CertificateForm(initial=initial), "cert": cert, "revoke_form": ReasonForm()},
        )
    form = CertificateForm(request.POST)
    if form.is_valid():
        try:
            services.update_certificate(by=user, certificate=cert, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("staff:member", uid=cert.member.uid)
    return render(
        request,
        "staff/certificate_form.html",
        {"form": form, "cert": cert, "revoke_form": ReasonForm()},
        status=400,
    )


@require_POST
def certificate_revoke(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    cert = access.get_certificate_for(user, uid)
    form = ReasonForm(request.POST)
    try:
        services.revoke_certificate(by=user, certificate=cert, reason=form.data.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The certificate has been revoked."))
    return redirect("staff:member", uid=cert.member.uid)


# ---- the teacher's own entry --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest) -> HttpResponse:
    """My register entry (待学校确认 while a correction is pending) and the correction form."""
    user = _user(request)
    own = access.own_member(user)
    if own is None:
        policy.deny(user, object_type="staffmember", object_id="own")
    member = selectors.member_detail(own)
    pending = selectors.pending_correction(member)
    status = 200
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            try:
                services.propose_correction(
                    by=user,
                    member=member,
                    proposed=form.proposed(member),
                    note=form.cleaned_data.get("note", ""),
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("Your correction has been sent to the school for confirmation."))
                return redirect("staff:mine")
        status = 400
    else:
        form = CorrectionForm(initial=MemberForm.initial_for(member))
    return render(
        request,
        "staff/mine.html",
        {
            "m": member,
            "posts": list(member.posts.all()),
            "certificates": list(member.certificates.all()),
            "corrections": list(member.corrections.all()),
            "pending": pending,
            "pending_fields": _proposed_rows(member, pending.proposed) if pending else [],
            "form": form,
        },
        status=status,
    )


FIELD_LABELS = {name: spec.label for name, spec in services.FIELDS.items()}


def _proposed_rows(member: StaffMember, proposed: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field label, current value, proposed value) for display."""
    rows = []
    for f, value in proposed.items():
        label = FIELD_LABELS.get(f)
        current = getattr(member, f, "")
        rows.append(
            (
                f"{label.zh} / {label.english}" if label else f,
                "" if current is None else str(current),
                str(value),
            )
        )
    return rows


# ---- the school's confirmation ------------------------------------------------------------


@require_GET
def corrections(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, StaffPerm.EDIT_REGISTER, what="staff_corrections")
    rows = [(c, _proposed_rows(c.member, c.proposed)) for c in selectors.corrections_to_confirm(user)[:200]]
    return render(request, "staff/corrections.html", {"rows": rows, "return_form": ReturnForm()})


@require_POST
def correction_confirm(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    correction = access.get_correction_for(user, uid)
    try:
        services.confirm_correction(by=user, correction=correction)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The correction has been confirmed into the register."))
    return redirect("staff:corrections")


@require_POST
def correction_return(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    correction = access.get_correction_for(user, uid)
    try:
        services.return_correction(by=user, correction=correction, note=request.POST.get("note", ""))
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The correction has been returned to the teacher."))
    return redirect("staff:corrections")


# ---- the district's import ----------------------------------------------------------------


def _import_district(user: User) -> District:
    ids = access.district_ids_with(user, StaffPerm.IMPORT_REGISTER)
    district = District.objects.filter(pk__in=ids).order_by("pk").first()
    if district is None:
        policy.deny(user, object_type="staff_import", object_id="")
    return district


@require_http_methods(["GET", "POST"])
def import_register(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    district = _import_district(user)
    result = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            if uploaded.size > settings.XINYU_IMPORT_MAX_BYTES:
                form.add_error("file", _("The file is too big."))
                status = 400
            else:
                result = importer.import_register(
                    by=user, district=district, filename=uploaded.name or "", data=uploaded.read(),
                    dry_run=form.cleaned_data["dry_run"],
                )  # fmt: skip
                status = 200 if result.ok else 400
        else:
            status = 400
    else:
        form = ImportForm()
    return render(
        request,
        "staff/import.html",
        {
            "form": form,
            "result": result,
            "district": district,
            "columns": [(h, importer.HELP.get(h, "")) for h, _a in importer.COLUMNS],
            "required": importer.REQUIRED,
        },
        status=status,
    )


@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    _import_district(_user(request))
    return excel_response(importer.template_workbook(), "心理健康教师名册-模板.xlsx")


def register_url(school: School | None = None) -> str:
    return reverse("staff:school", args=[school.uid]) if school else reverse("staff:register")


STAGE_LABELS = dict(Stage.choices)
