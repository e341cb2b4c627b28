from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    """Site-wide template context: the platform's name and, in the workspace, the navigation."""
    context: dict[str, Any] = {"platform_name": "好品山东", "platform_name_en": "Good Products Shandong"}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and request.path.startswith(("/workspace/", "/accounts/")):
        from haopin.core.workspace import navigation

        context["nav"] = navigation(user, request.path)
    return context
