"""The JSON API at /api/v1 (django-ninja): one NinjaAPI, one Router per domain.

Errors have one shape everywhere: ``{"code", "message", "details"}``. Messages are Chinese; the
generic ones (validation, authentication, unknown path, wrong method, throttling, malformed
JSON) are English when the request's Accept-Language prefers English (LocaleMiddleware has
activated the language by the time a view runs). Bad input is always a 4xx: pydantic errors are
422 with the offending fields in ``details``, a body that is not JSON is 400, an unknown path
under /api/v1 is 404 and a wrong method 405, both in the same shape.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ninja
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.templatetags.static import static
from django.urls import URLPattern, path, re_path, reverse
from django.utils import translation
from django.utils.html import escape, json_script
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from haopin.accounts import services as account_services
from haopin.core.errors import DomainError

logger = logging.getLogger("haopin.api")

# --- messages ---------------------------------------------------------------------------------

# code → (Chinese, English). Domain errors raised by services carry their own Chinese message.
GENERIC_MESSAGES: dict[str, tuple[str, str]] = {
    "not_found": ("对象不存在或您无权查看。", "Not found, or you may not see it."),
    "path_not_found": ("接口不存在，请查阅 /api/v1/docs。", "No such endpoint; see /api/v1/docs."),
    "method_not_allowed": ("此接口不支持该请求方法。", "This endpoint does not support that method."),
    "unauthenticated": (
        "请先登录或提供有效的 API 令牌。",
        "Sign in or send a valid API token (Authorization: Bearer …).",
    ),
    "permission_denied": ("您没有执行此操作的权限。", "You may not do this."),
    "csrf_failed": (
        "使用登录会话调用写接口时须附带 X-CSRFToken 请求头；机器客户端请使用 API 令牌。",
        "Session-authenticated writes need the X-CSRFToken header; machine clients use an API token.",
    ),
    "throttled": ("请求过于频繁，请稍后再试。", "Too many requests; try again later."),
    "malformed_json": ("请求体不是有效的 JSON。", "The request body is not valid JSON."),
    "too_large": ("请求体过大。", "The request body is too large."),
    "bad_request": ("请求不正确。", "Bad request."),
    "validation_error": ("请求内容不正确", "Invalid request"),
    "internal_error": ("服务器内部错误，请稍后再试。", "Internal server error; try again later."),
}

# pydantic error type → (Chinese, English) for the field messages in ``details``.
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必填项。", "Required."),
    "extra_forbidden": ("不支持此字段。", "Unknown field."),
    "string_too_long": (
        "内容过长（最多 {max_length} 个字符）。",
        "Too long (at most {max_length} characters).",
    ),
    "string_too_short": (
        "内容过短（至少 {min_length} 个字符）。",
        "Too short (at least {min_length} characters).",
    ),
    "string_pattern_mismatch": ("格式不正确。", "Wrong format."),
    "string_type": ("应为文本。", "Must be a string."),
    "string_unicode": ("包含不允许的控制字符或无效编码。", "Contains control characters or invalid Unicode."),
    "int_parsing": ("应为整数。", "Must be an integer."),
    "int_type": ("应为整数。", "Must be an integer."),
    "int_from_float": ("应为整数。", "Must be an integer."),
    "greater_than_equal": ("不能小于 {ge}。", "Must be at least {ge}."),
    "less_than_equal": ("不能大于 {le}。", "Must be at most {le}."),
    "bool_parsing": ("应为 true 或 false。", "Must be true or false."),
    "bool_type": ("应为 true 或 false。", "Must be true or false."),
    "date_parsing": ("日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD."),
    "date_from_datetime_parsing": ("日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD."),
    "date_from_datetime_inexact": ("日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD."),
    "date_type": ("日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD."),
    "uuid_parsing": ("标识格式不正确（应为 UUID）。", "Must be a UUID."),
    "uuid_type": ("标识格式不正确（应为 UUID）。", "Must be a UUID."),
    "list_type": ("应为列表。", "Must be a list."),
    "too_long": ("列表过长（最多 {max_length} 项）。", "Too many items (at most {max_length})."),
    "literal_error": ("取值无效，可选：{expected}。", "Invalid value; expected {expected}."),
    "enum": ("取值无效，可选：{expected}。", "Invalid value; expected {expected}."),
    "model_type": ("应为 JSON 对象。", "Must be a JSON object."),
    "model_attributes_type": ("应为 JSON 对象。", "Must be a JSON object."),
    "dict_type": ("应为 JSON 对象。", "Must be a JSON object."),
    "json_invalid": ("JSON 格式不正确。", "Invalid JSON."),
}


def prefers_english() -> bool:
    return (translation.get_language() or "").startswith("en")


def generic_message(code: str) -> str:
    zh, en = GENERIC_MESSAGES.get(code, GENERIC_MESSAGES["bad_request"])
    return en if prefers_english() else zh


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> HttpResponse:
    body = {"code": code, "message": message or generic_message(code), "details": details or {}}
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="haopin"'
    return response


# --- the API ----------------------------------------------------------------------------------


class BearerToken(HttpBearer):
    """``Authorization: Bearer hp_…`` → the token's user (see accounts.services.token_authenticate)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = account_services.token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class MalformedBody(ValueError):
    pass


class JsonParser(Parser):
    """Ninja wraps any parse failure in a generic HttpError(400); raising our own exception
    lets the handler tell a malformed body (and its position) from other bad requests."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedBody(str(exc)) from exc


DOCS_ASSETS_DIR = Path(ninja.__file__).parent / "static" / "ninja"
DOCS_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-init.js": "text/javascript; charset=utf-8",
}


class OfflineSwagger(DocsBase):
    """Swagger UI from the copy that ships inside the django-ninja package, never a CDN.

    Ninja renders its local template only when "ninja" is in INSTALLED_APPS (otherwise it
    falls back to a CDN template with an inline script). Rather than collecting ninja's 10 MB of
    static files (Redoc and source maps included) into every deployment and every test run's
    collectstatic, the three files the page needs are served by ``docs_asset`` below. The page
    has no inline script or style: the settings travel in a JSON data block, which CSP does not
    treat as script, and ninja's ``swagger-ui-init.js`` reads them; so the site-wide policy
    (script-src 'self', style-src 'self') applies unchanged. Swagger UI sets styles through the
    DOM (CSSOM), which style-src does not restrict.
    """

    settings = {
        "layout": "BaseLayout",
        "deepLinking": True,
        # The default validator badge would load an image from swagger.io: no network here.
        "validatorUrl": None,
        "persistAuthorization": False,
    }

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        from django.middleware.csrf import get_token

        def asset(name: str) -> str:
            return f"{reverse('api:docs-asset', args=[name])}?v={ninja.__version__}"

        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        html = f"""<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(api.title)}</title>
<link rel="stylesheet" href="{asset("swagger-ui.css")}">
<link rel="icon" href="{static("core/mark.svg")}" type="image/svg+xml">
</head>
<body data-csrf-token="{escape(get_token(request))}" data-api-csrf="true">
{json_script(settings, "swagger-settings")}
<div id="swagger-ui"></div>
<script src="{asset("swagger-ui-bundle.js")}"></script>
<script src="{asset("swagger-ui-init.js")}"></script>
</body>
</html>
"""
        return HttpResponse(html)


def docs_asset(request: HttpRequest, name: str) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD"):
        return error_response(request, 405, "method_not_allowed")
    content_type = DOCS_ASSETS.get(name)
    if content_type is None:
        return error_response(request, 404, "path_not_found")
    response = FileResponse((DOCS_ASSETS_DIR / name).open("rb"), content_type=content_type)
    # The URL carries ninja's version, so a new release is a new URL.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


class HaopinAPI(NinjaAPI):
    """NinjaAPI whose URL patterns answer in the error shape where ninja answers in plain text:
    the API root, unknown paths and wrong methods."""

    def _get_urls(self) -> list[Any]:
        urls = super()._get_urls()
        result: list[Any] = []
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                if pattern.name == "api-root":
                    pattern = path("", _path_not_found, name="api-root")
                elif pattern.name in {"openapi-json", "openapi-view"}:
                    pattern.callback = _only_get(pattern.callback)
                else:
                    pattern.callback = _shaped_405(pattern.callback)
            result.append(pattern)
        result.append(path("docs/assets/<str:name>", docs_asset, name="docs-asset"))
        # Last: anything else under /api/v1/ is a 404 in our shape, whatever the method.
        result.append(re_path(r"^.*$", _path_not_found, name="not-found"))
        return result


def _path_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(request, 404, "path_not_found", details={"path": request.path[:200]})


_path_not_found.csrf_exempt = True  # type: ignore[attr-defined]


def _method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    response = error_response(
        request, 405, "method_not_allowed", details={"method": request.method, "allowed": allowed}
    )
    response["Allow"] = allowed
    return response


def _shaped_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            return _method_not_allowed(request, response["Allow"])
        return response

    return wrapper


def _only_get(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed(request, "GET, HEAD")
        return view(request, *args, **kwargs)

    return wrapper


api = HaopinAPI(
    title="好品山东 API",
    version="1",
    description=(
        "好品山东品牌管理平台接口。认证：`POST /api/v1/auth/token` 获取令牌后"
        "使用 `Authorization: Bearer <token>`。错误统一为 `{code, message, details}`；"
        "引用数据用公开代码（区划 370102、类别 20101、品牌类型 product、层级 pool、来源 agi），"
        "对象用 uuid 标识，日期为 ISO 8601。"
    ),
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    docs=OfflineSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=JsonParser(),
)


# --- exception handlers -----------------------------------------------------------------------


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details: dict[str, str] = {}
    for item in exc.errors:
        field = _field_name(item.get("loc", ()))
        details.setdefault(field, _field_message(item))
    if not details:
        details["__all__"] = "Invalid value." if prefers_english() else "格式不正确。"
    first_field, first = next(iter(details.items()))
    prefix = generic_message("validation_error")
    separator = ": " if prefers_english() else "："
    label = "" if first_field == "__all__" else f"{first_field} "
    return error_response(request, 422, "validation_error", f"{prefix}{separator}{label}{first}", details)


def _field_name(loc: Any) -> str:
    # ninja's loc is (source, [parameter name,] field, ...); body schemas are always ``payload``.
    parts = [str(p) for p in list(loc)[1:]]
    if parts and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts) or "__all__"


def _field_message(item: dict[str, Any]) -> str:
    kind = item.get("type", "")
    if kind == "value_error":
        # Our own validators raise ValueError with a Chinese message (see registry.schemas).
        return str(item.get("ctx", {}).get("error", "")) or str(item.get("msg", ""))
    if kind == "missing" and not [p for p in list(item.get("loc", ()))[1:] if p != "payload"]:
        return "Request body is required." if prefers_english() else "缺少请求体。"
    pair = FIELD_MESSAGES.get(kind)
    if pair is None:
        return "Invalid value." if prefers_english() else "格式不正确。"
    template = pair[1] if prefers_english() else pair[0]
    ctx = {k: v for k, v in (item.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split("（")[0].split(" (")[0]


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "unauthenticated")


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = error_response(request, 429, "throttled")
    if exc.wait is not None:
        response["Retry-After"] = str(max(1, int(exc.wait)))
    return response


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found")


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "permission_denied")


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, "too_large")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, MalformedBody):
        return error_response(request, 400, "malformed_json", details={"body": str(exc.__cause__)})
    if exc.status_code == 403 and str(exc.message).startswith("CSRF"):
        # Ninja's session authentication refuses a write without the CSRF token this way.
        return error_response(request, 403, "csrf_failed")
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "throttled",
    }
    code = codes.get(exc.status_code, "bad_request")
    return error_response(request, exc.status_code, code)


@api.exception_handler(Exception)
def internal_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug, not bad input: logged with its traceback, answered in the usual shape with the
    # request id that the log line carries, so a user's report can be matched to it.
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(
        request, 500, "internal_error", details={"request_id": getattr(request, "request_id", "")}
    )


# --- system -----------------------------------------------------------------------------------

_HEALTH = b'{"status":"ok"}'


class HealthOut(ninja.Schema):
    status: str


@api.get("/health", auth=None, tags=["system"], summary="健康检查（不访问数据库）", response=HealthOut)
def health(request: HttpRequest) -> HttpResponse:
    # The benchmarks' baseline: no database, no serialisation, a constant body.
    return HttpResponse(_HEALTH, content_type="application/json")


def _register_routers() -> None:
    from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
    from django.http.multipartparser import MultiPartParserError

    from haopin.accounts.api import router as accounts_router
    from haopin.certificates.api import router as certificates_router
    from haopin.evaluation.api import public_router as evaluation_public_router
    from haopin.evaluation.api import router as evaluation_router
    from haopin.registry.api import router as registry_router
    from haopin.standards.api import malformed_upload
    from haopin.standards.api import router as standards_router

    api.add_router("/", accounts_router)
    api.add_router("/", registry_router)
    api.add_router("/", standards_router)
    api.add_router("/", evaluation_router)
    api.add_router("/", evaluation_public_router)
    api.add_router("/", certificates_router)
    # Uploads (evidence, objections, rule-set workbooks) are parsed by Django before any
    # endpoint runs; a malformed multipart body is the client's error, not ours.
    for error in (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent):
        api.add_exception_handler(error, malformed_upload)


_register_routers()


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for paths outside the API's router (``/api/``, ``/api/v2/…``) in the API's shape."""
    if request.path.startswith("/api/"):
        return error_response(request, 404, "not_found", generic_message("not_found"))
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """Errors raised outside the API's views (in middleware) on /api/ paths, in the API's shape."""
    if request.path.startswith("/api/"):
        return error_response(request, 500, "internal_error", generic_message("internal_error"))
    from django.views.defaults import server_error

    return server_error(request)
