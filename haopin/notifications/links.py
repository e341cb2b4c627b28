"""Links placed in notifications and to-do items.

Notifications are written by every domain, and some of the pages they point to belong to
workspace modules that are wired separately. A link whose URL name is not (yet) part of the URL
configuration becomes the fallback (no link, or the notifications page) instead of an error
that would undo the domain's write.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse


def url_of(obj: Any, fallback: str = "") -> str:
    """``obj.get_absolute_url()``, or ``fallback`` when its page is not wired."""
    try:
        return obj.get_absolute_url()
    except (NoReverseMatch, AttributeError):
        return fallback


def url_for(name: str, *args: Any, fallback: str = "", query: str = "") -> str:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return fallback
    return f"{url}?{query}" if query else url


def notifications_page() -> str:
    return url_for("notifications:list", fallback=reverse("workspace:home"))
