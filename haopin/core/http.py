"""HTTP helpers shared by the domains' views: the download header, and request types.

django-htmx's middleware (``django_htmx.middleware.HtmxMiddleware``, installed in settings) sets
``request.htmx`` on every request; views that read it annotate ``request`` with
``HtmxHttpRequest`` (a type only; nothing changes a request at run time).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """An ``HttpRequest`` that went through django-htmx's middleware."""

    htmx: HtmxDetails


_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\]')


def content_disposition(name: str, *, inline: bool = False) -> str:
    """Content-Disposition for a file named ``name`` (Chinese as a rule): an ASCII fallback
    for old clients and the real name (RFC 5987/6266)."""
    fallback = _UNSAFE_IN_QUOTES.sub("_", name).strip() or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
