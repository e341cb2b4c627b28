"""The JSON API at /api/v1 (django-ninja): one NinjaAPI, one Router per domain.

Errors have one shape everywhere: ``{"code", "message", "details"}``, with Chinese messages
(English when the request's Accept-Language prefers it, for the public parts). Bad input is
always a 4xx: pydantic validation errors become 422 with the offending fields in ``details``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from haopin.accounts import services as account_services
from haopin.core.errors import DomainError


class BearerToken(HttpBearer):
    """``Authorization: Bearer hp_…`` → the token's user (see accounts.services.token_authenticate)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = account_services.token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="好品山东 API",
    version="1",
    description=(
        "好品山东品牌管理平台接口。认证：`POST /api/v1/auth/token` 获取令牌后"
        "使用 `Authorization: Bearer <token>`。"
    ),
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error(
    request: HttpRequest, status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details: dict[str, str] = {}
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "payload")]
        details[".".join(loc) or "__all__"] = _message(item)
    first = next(iter(details.values()), "请求内容不正确。")
    return error(request, 422, "validation_error", f"请求内容不正确：{first}", details)


def _message(item: dict[str, Any]) -> str:
    kind = item.get("type", "")
    messages = {
        "missing": "必填项。",
        "string_too_long": "内容过长。",
        "string_too_short": "内容过短。",
        "int_parsing": "应为整数。",
        "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD。",
        "date_parsing": "日期格式应为 YYYY-MM-DD。",
        "json_invalid": "JSON 格式不正确。",
        "extra_forbidden": "不支持此字段。",
        "bool_parsing": "应为 true 或 false。",
        "uuid_parsing": "标识格式不正确。",
        "list_type": "应为列表。",
        "string_type": "应为文本。",
    }
    return messages.get(kind, item.get("msg", "格式不正确。"))


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(request, 401, "unauthenticated", "请先登录或提供有效的 API 令牌。")


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "not_found", "对象不存在或您无权查看。")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        429: "throttled",
    }
    return error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc.message))


@api.get("/health", auth=None, tags=["system"], summary="健康检查（不访问数据库）")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


def _register_routers() -> None:
    from haopin.accounts.api import router as accounts_router
    from haopin.registry.api import router as registry_router

    api.add_router("/", accounts_router)
    api.add_router("/", registry_router)


_register_routers()
