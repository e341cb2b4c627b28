"""Request-scoped middleware: a request id and the client address for the audit trail."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from haopin.core import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the n-th trusted proxy saw (HAOPIN_TRUSTED_PROXIES)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_PROXIES:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= settings.TRUSTED_PROXIES:
            return forwarded[-settings.TRUSTED_PROXIES][:45]
    return remote[:45]


class RequestContextMiddleware:
    """Takes X-Request-ID from the proxy when well-formed, otherwise makes one; echoes it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        with context.bind(request_id=request_id, client_ip=client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class WorkspaceLanguageMiddleware:
    """The workspace, sign-in pages and admin are in Chinese whatever the browser asks for.

    LocaleMiddleware (before this one) picks a language from Accept-Language for the public
    pages and the API, which have English versions; behind these prefixes an English browser
    would otherwise get Django's own messages ("Enter a valid date.") among Chinese pages.
    """

    PREFIXES = ("/workspace/", "/accounts/", "/admin/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return self.get_response(request)


class ActorMiddleware:
    """Marks responses for signed-in users as private so no proxy caches them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.setdefault("Cache-Control", "private, no-store")
        return response


class DomainErrorMiddleware:
    """Turns domain errors that escape a view into pages: 403, 404, or the message with 400/409.

    Views handle ValidationFailed themselves when they have a form to show it in; anything that
    reaches this point is shown as a page (or, for htmx, a fragment) carrying the message.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.template.response import TemplateResponse

        from haopin.core.errors import DomainError

        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        response = TemplateResponse(
            request,
            "core/error.html",
            {"error": exception, "status": exception.status},
            status=exception.status,
        )
        return response.render()
