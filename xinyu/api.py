"""JSON API under /api/ (OpenAPI at /api/openapi.json, docs at /api/docs).

One `ninja.Router` per app (`xinyu/<app>/api.py`), mounted here at the API's root so that
every path and operation id stays as it was. This module owns what they share: the API
instance, session or bearer-token authentication on every endpoint, and the error handlers
that produce the one error body (`xinyu.kernel.api.ApiError`, in Chinese and English):
401 without a login, 404 for out of scope or missing (the same answer), 422 when the
request does not validate or a service refuses it (`ServiceError`, naming the field).
Each operation declares those statuses (`xinyu.kernel.api.responses`).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from xinyu.audit.api import router as audit_router
from xinyu.compliance.api import router as compliance_router
from xinyu.homevisits.api import router as homevisits_router
from xinyu.kernel.api import field_error
from xinyu.kernel.errors import ServiceError
from xinyu.lessons.api import router as lessons_router
from xinyu.org import services
from xinyu.org.api import router as org_router
from xinyu.org.models import User
from xinyu.outreach.api import router as outreach_router
from xinyu.schoolevents.api import router as schoolevents_router
from xinyu.screening.api import router as screening_router
from xinyu.staff.api import router as staff_router
from xinyu.training.api import router as training_router


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Xinyu 心育 API",
    version="1",
    description=(
        "Scoped exactly like the web pages: out-of-scope objects answer 404, exactly like missing ones. "
        "Errors are JSON `{message, errors}` in Chinese and English; 422 names each field at fault."
    ),
    # The bearer token first: django_auth checks CSRF before it looks for a session, so a
    # token's POST or DELETE was refused 403 "CSRF check Failed" (found by schemathesis).
    # Browsers never send the token by themselves, so it needs no CSRF token.
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
)

# Mounted at the root: the paths are the ones the first, single-module API had.
api.add_router("", org_router)
api.add_router("", audit_router)
api.add_router("", screening_router)
api.add_router("", staff_router)
api.add_router("", training_router)
api.add_router("", lessons_router)
api.add_router("", outreach_router)
api.add_router("", homevisits_router)
api.add_router("", schoolevents_router)
api.add_router("", compliance_router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"message": "未找到。 Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request, {"message": "请先登录或提供有效的令牌。 Log in or send a valid bearer token."}, status=401
    )


# Pydantic's error types, in Chinese; anything else is "格式有误".
_ZH = {
    "missing": "必填。",
    "extra_forbidden": "不接受此字段。",
    "uuid_parsing": "不是有效的编号。",
    "uuid_type": "不是有效的编号。",
    "int_parsing": "应为整数。",
    "int_type": "应为整数。",
    "float_parsing": "应为数字。",
    "bool_parsing": "应为是或否。",
    "string_type": "应为文本。",
    "date_parsing": "日期格式应为 YYYY-MM-DD。",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD。",
    "datetime_parsing": "时间格式应为 YYYY-MM-DDTHH:MM。",
    "datetime_from_date_parsing": "时间格式应为 YYYY-MM-DDTHH:MM。",
    "json_invalid": "不是有效的 JSON。",
    "model_attributes_type": "应为 JSON 对象。",
    "dict_type": "应为 JSON 对象。",
    "list_type": "应为列表。",
}


def _invalid_field(e: dict[str, Any]) -> dict[str, Any]:
    en = str(e.get("msg", "")) or "Not valid."
    return field_error([p for p in e.get("loc", [])], _ZH.get(str(e.get("type", "")), "格式有误。"), en)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "message": "请求参数有误。 The request is not valid.",
            "errors": [_invalid_field(e) for e in exc.errors],
        },
        status=422,
    )


@api.exception_handler(ServiceError)
def refused(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    """A service's refusal: 422, with the field at fault when the service names one."""
    loc: list[str | int] = [exc.field] if exc.field else []
    return api.create_response(
        request, {"message": str(exc), "errors": [field_error(loc, exc.zh, exc.en or exc.zh)]}, status=422
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"message": str(exc)}, status=exc.status_code)
