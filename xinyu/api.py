"""JSON API under /api/ (OpenAPI at /api/openapi.json, docs at /api/docs).

Session or bearer-token authentication on every endpoint; the same scoping as the pages
(`xinyu.access`); errors are JSON with a `message` in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.responses import Status
from ninja.security import HttpBearer, django_auth

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.audit.selectors import AuditFilter, audit_entries_for
from xinyu.org import selectors, services
from xinyu.org.models import User
from xinyu.screening import access as screening_access
from xinyu.screening import selectors as screening_selectors


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Xinyu 心育 API",
    version="1",
    description="Scoped exactly like the web pages: out-of-scope objects answer 404.",
    auth=[django_auth, BearerToken()],
    urls_namespace="api",
)


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"message": "未找到。 Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request, {"message": "请先登录或提供有效的令牌。 Log in or send a valid bearer token."}, status=401
    )


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"where": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg", "")} for e in exc.errors
    ]
    return api.create_response(
        request, {"message": "请求参数有误。 The request is not valid.", "errors": errors}, status=422
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"message": str(exc)}, status=exc.status_code)


class Message(Schema):
    message: str


class MeOut(Schema):
    username: str
    full_name: str
    roles: list[str]


class SchoolOut(Schema):
    uid: uuid.UUID
    code: str
    name: str
    category: str
    cluster: str | None
    stages: list[str]
    is_special_education: bool
    student_count: int


class ClassOut(Schema):
    uid: uuid.UUID
    school_code: str
    grade_level: int
    grade: str
    name: str
    student_count: int


class GuardianOut(Schema):
    name: str
    relation: str
    phone: str


class StudentOut(Schema):
    uid: uuid.UUID
    student_no: str
    name: str
    gender: str
    birth_date: dt.date
    school_code: str
    class_uid: uuid.UUID
    grade_level: int
    class_name: str
    guardians: list[GuardianOut] | None = None
    flags: list[str] | None = None


class FlagIn(Schema):
    kind: str


class AuditOut(Schema):
    at: dt.datetime
    username: str
    role: str
    action: str
    object_type: str
    object_id: str
    school_code: str | None
    ip: str | None
    request_id: str
    detail: str


@api.get("/me", response=MeOut, tags=["people"])
def me(request: HttpRequest) -> dict:
    user = _user(request)
    return {"username": user.username, "full_name": user.full_name, "roles": policy.roles(user)}


@api.get("/schools", response=list[SchoolOut], tags=["organisation"])
def list_schools(request: HttpRequest) -> list[dict]:
    return [
        {
            "uid": s.uid,
            "code": s.code,
            "name": s.name,
            "category": s.category,
            "cluster": s.cluster.name if s.cluster else None,
            "stages": [str(x.value) for x in s.stages],
            "is_special_education": s.is_special_education,
            "student_count": s.student_count,  # type: ignore[attr-defined]
        }
        for s in selectors.schools_overview(_user(request))
    ]


def _class_out(c) -> dict:  # type: ignore[no-untyped-def]
    return {
        "uid": c.uid,
        "school_code": c.school.code,
        "grade_level": c.grade.level,
        "grade": c.grade.name,
        "name": c.name,
        "student_count": c.student_count,
    }


@api.get("/schools/{uid}/classes", response=list[ClassOut], tags=["organisation"])
def school_classes(request: HttpRequest, uid: uuid.UUID) -> list[dict]:
    user = _user(request)
    school = policy.get_school_for(user, uid)
    return [_class_out(c) for c in selectors.classes_overview(user, school)]


def _student_out(user: User, s, level: Level) -> dict:  # type: ignore[no-untyped-def]
    out = {
        "uid": s.uid,
        "student_no": s.student_no,
        "name": s.name,
        "gender": s.gender,
        "birth_date": s.birth_date,
        "school_code": s.school.code,
        "class_uid": s.school_class.uid,
        "grade_level": s.school_class.grade.level,
        "class_name": s.school_class.name,
    }
    if level >= Level.CARE:
        out["guardians"] = [
            {"name": g.name, "relation": g.relation, "phone": g.phone} for g in s.guardians.all()
        ]
        out["flags"] = [f.kind for f in selectors.active_flags(s)]
    return out


@api.get("/classes/{uid}/students", response=list[StudentOut], exclude_none=True, tags=["students"])
def class_students(request: HttpRequest, uid: uuid.UUID) -> list[dict]:
    user = _user(request)
    school_class = policy.get_class_for(user, uid)
    students = selectors.class_roster(user, school_class, via="api")
    return [_student_out(user, s, Level.BASIC) for s in students]


@api.get("/students", response=list[StudentOut], exclude_none=True, tags=["students"])
def search_students(request: HttpRequest, q: str) -> list[dict]:
    user = _user(request)
    return [_student_out(user, s, Level.BASIC) for s in selectors.search_students(user, q[:50])]


@api.get("/students/{uid}", response=StudentOut, exclude_none=True, tags=["students"])
def get_student(request: HttpRequest, uid: uuid.UUID) -> dict:
    user = _user(request)
    student = policy.get_student_for(user, uid, detail="api")
    return _student_out(user, student, policy.level_for(user, student))


@api.post(
    "/students/{uid}/flags", response={200: StudentOut, 400: Message}, exclude_none=True, tags=["students"]
)
def add_flag(request: HttpRequest, uid: uuid.UUID, payload: FlagIn) -> Status:
    user = _user(request)
    student = policy.get_student_for(user, uid, level=Level.CARE, action=None)
    try:
        services.set_flag(actor=user, student=student, kind=payload.kind)
    except services.ServiceError as exc:
        return Status(400, {"message": str(exc)})
    return Status(200, _student_out(user, student, policy.level_for(user, student)))


@api.delete(
    "/students/{uid}/flags/{kind}",
    response={200: StudentOut, 400: Message},
    exclude_none=True,
    tags=["students"],
)
def remove_flag(request: HttpRequest, uid: uuid.UUID, kind: str) -> Status:
    user = _user(request)
    student = policy.get_student_for(user, uid, level=Level.CARE, action=None)
    try:
        services.clear_flag(actor=user, student=student, kind=kind)
    except services.ServiceError as exc:
        return Status(400, {"message": str(exc)})
    return Status(200, _student_out(user, student, policy.level_for(user, student)))


@api.get("/audit", response=list[AuditOut], tags=["audit"])
def audit_log(
    request: HttpRequest,
    user: str = "",
    student: str = "",
    school: str = "",
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 100,
) -> list[dict]:
    actor = _user(request)
    policy.require(actor, Perm.VIEW_AUDIT, what="audit")
    f = AuditFilter(user, student, school, action, date_from, date_to)
    return [
        {
            "at": e.at,
            "username": e.username,
            "role": e.role,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "school_code": e.school.code if e.school_id and e.school else None,
            "ip": e.ip,
            "request_id": e.request_id,
            "detail": e.detail,
        }
        for e in audit_entries_for(actor, f)[: max(1, min(limit, 1000))]
    ]


# ---- screening (SPEC §3): campaigns and their progress; never an individual's score ------


class CampaignOut(Schema):
    uid: uuid.UUID
    name: str
    school_year: str
    scope: str
    target_grades: list[int]
    opens_at: dt.datetime
    closes_at: dt.datetime
    consent_version: str


class ProgressRowOut(Schema):
    label: str
    invited: int
    given: int
    not_participating: str  # "<5" above the school when small
    pending: int
    started: int
    completed: int
    flagged: str | None = None


class ProgressOut(Schema):
    grouping: str
    rows: list[ProgressRowOut]
    total: dict[str, int]


@api.get("/campaigns", response=list[CampaignOut], tags=["screening"])
def campaigns(request: HttpRequest) -> list[dict]:
    return [
        {
            "uid": c.uid,
            "name": c.name,
            "school_year": c.school_year,
            "scope": c.scope_label,
            "target_grades": c.target_grades,
            "opens_at": c.opens_at,
            "closes_at": c.closes_at,
            "consent_version": c.consent_version,
        }
        for c in screening_access.campaigns_for(_user(request)).order_by("-opens_at")[:200]
    ]


@api.get("/campaigns/{uid}/progress", response=ProgressOut, exclude_none=True, tags=["screening"])
def campaign_progress(request: HttpRequest, uid: str) -> dict:
    user = _user(request)
    table = screening_selectors.campaign_progress(user, screening_access.get_campaign_for(user, uid))
    total = {k: v for k, v in table.total.items() if table.show_flagged or k != "flagged"}
    return {
        "grouping": table.grouping,
        "rows": [
            {
                **{k: r.counts[k] for k in ("invited", "given", "pending", "started", "completed")},
                "label": r.label,
                "not_participating": r.cell("not_participating"),
                "flagged": r.cell("flagged") if table.show_flagged else None,
            }
            for r in table.rows
        ],
        "total": total,
    }
