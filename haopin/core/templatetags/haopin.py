from __future__ import annotations

from typing import Any

from django import template

from haopin.core import formatting
from haopin.core.audit import action_label, value_rows

register = template.Library()

register.filter("cn_date", formatting.cn_date)
register.filter("cn_datetime", formatting.cn_datetime)
register.filter("cn_number", formatting.cn_number)
register.filter("file_size", formatting.file_size)
register.filter("audit_action", action_label)
register.filter("audit_rows", value_rows)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"
