"""Request types for type checkers.

django-htmx's middleware (``django_htmx.middleware.HtmxMiddleware``, installed in settings) sets
``request.htmx`` on every request; views that read it annotate ``request`` with
``HtmxHttpRequest``. Nothing here changes a request at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """An ``HttpRequest`` that went through django-htmx's middleware."""

    htmx: HtmxDetails
