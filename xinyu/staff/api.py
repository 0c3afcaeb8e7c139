"""The staff register API: the paged register in the user's scope and one entry, scoped exactly
like the pages (`xinyu.staff.access`; phones only with SEE_CONTACTS or one's own); mounted
by `xinyu.api`."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.access import policy
from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors
from .access import StaffPerm
from .models import CertificateKind, Degree, HeldCertificate, Post, PostType, StaffMember

router = Router(tags=["staff"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class PostOut(Schema):
    school_uid: uuid.UUID
    school: str
    campus: str | None
    stage: str


class CertificateOut(Schema):
    uid: uuid.UUID
    kind: str
    name: str
    number: str
    issued_on: dt.date | None
    expires_on: dt.date | None
    issuer: str
    source: str
    revoked: bool


class MemberOut(Schema):
    uid: uuid.UUID
    staff_no: str
    name: str
    school_uid: uuid.UUID | None
    school: str | None
    post_type: str
    degree: str
    major: str
    major_relevant: bool
    related_experience_years: Decimal | None
    pre_job_training: bool
    specialised_training: bool
    last_trained_on: dt.date | None
    weekly_periods: int | None
    class_teacher_years: Decimal | None
    title: str
    phone: str | None  # null without the right to see contacts
    correction_pending: bool
    posts: list[PostOut]
    certificates: list[CertificateOut]


class RegisterOut(Schema):
    count: int
    page: int
    num_pages: int
    results: list[MemberOut]


def _post(p: Post) -> dict[str, Any]:
    return {
        "school_uid": p.school.uid,
        "school": p.school.name,
        "campus": p.campus.name if p.campus else None,
        "stage": p.stage,
    }


def _cert(c: HeldCertificate) -> dict[str, Any]:
    return {
        "uid": c.uid,
        "kind": c.kind,
        "name": c.name,
        "number": c.number,
        "issued_on": c.issued_on,
        "expires_on": c.expires_on,
        "issuer": c.issuer,
        "source": c.source,
        "revoked": c.revoked_at is not None,
    }


def _member(
    m: StaffMember, *, phone: bool, pending: bool, certificates: list[HeldCertificate]
) -> dict[str, Any]:
    return {
        "uid": m.uid,
        "staff_no": m.staff_no,
        "name": m.name,
        "school_uid": m.school.uid if m.school else None,
        "school": m.school.name if m.school else None,
        "post_type": m.post_type,
        "degree": m.degree,
        "major": m.major,
        "major_relevant": m.major_relevant,
        "related_experience_years": m.related_experience_years,
        "pre_job_training": m.pre_job_training,
        "specialised_training": m.specialised_training,
        "last_trained_on": m.last_trained_on,
        "weekly_periods": m.weekly_periods,
        "class_teacher_years": m.class_teacher_years,
        "title": m.title,
        "phone": m.phone if phone else None,
        "correction_pending": pending,
        "posts": [_post(p) for p in m.posts.all()],
        "certificates": [_cert(c) for c in certificates],
    }


@router.get("/staff/register", response=responses(RegisterOut), operation_id="xinyu_api_staff_register")
def register(
    request: HttpRequest,
    page: int = 1,
    school: uuid.UUID | None = None,
    post_type: str = "",
    certificate: str = "",
    degree: str = "",
    q: str = "",
) -> dict[str, Any]:
    """The register in the user's scope, 50 a page (psych teachers; post_type "all": everyone)."""
    user = _user(request)
    policy.require(user, StaffPerm.VIEW_REGISTER, what="staff_register")
    in_scope = access.register_schools_for(user)
    school_obj = policy.one_for(user, in_scope, school, "school") if school else None
    result = selectors.register_page(
        user,
        selectors.RegisterFilter(
            school=school_obj,
            post_type=post_type if post_type in (*PostType.values, "all", "none") else None,
            q=q[:50],
            certificate=certificate if certificate in CertificateKind.values else "",
            degree=degree if degree in Degree.values else "",
        ),
        max(1, min(page, 100000)),
    )
    phone = access.can_see_phone(user)
    return {
        "count": result.count,
        "page": result.number,
        "num_pages": result.num_pages,
        "results": [
            _member(m, phone=phone, pending=m.pk in result.pending, certificates=getattr(m, "held", []))
            for m in result.rows
        ],
    }


@router.get("/staff/register/{uid}", response=responses(MemberOut), operation_id="xinyu_api_staff_member")
def member(request: HttpRequest, uid: str) -> dict[str, Any]:
    """One entry in scope (or one's own), with its posts and certificates (revoked ones marked)."""
    user = _user(request)
    m = selectors.member_detail(access.get_member_for(user, uid, audit="register entry api"))
    return _member(
        m,
        phone=access.can_see_phone(user, m),
        pending=selectors.pending_correction(m) is not None,
        certificates=list(m.certificates.all()),
    )
