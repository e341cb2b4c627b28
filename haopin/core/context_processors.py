from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def platform(request: HttpRequest) -> dict[str, Any]:
    """Site-wide template context: the platform's name and, for signed-in users, the workspace
    navigation — lazily, so only pages that show the menu (workspace.html) compute it."""
    context: dict[str, Any] = {"platform_name": "好品山东", "platform_name_en": "Good Products Shandong"}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from haopin.core.workspace import navigation

        context["nav"] = SimpleLazyObject(lambda: navigation(user, request.path))
    return context
