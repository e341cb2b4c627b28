"""Reads of reference data and of the audit trail."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from haopin.core.models import AuditEvent, Category, Region
from haopin.core.policies import ScopeKind, scope_of


def history_for(obj: Model) -> QuerySet[AuditEvent]:
    """The audit events about ``obj``, newest first. Callers have checked ``obj`` is visible."""
    return AuditEvent.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk)).order_by(
        "-seq"
    )


def audit_events_for_user(user: Any) -> QuerySet[AuditEvent]:
    """The whole trail is for the office and platform admins; others see object histories."""
    if scope_of(user).kind == ScopeKind.ALL:
        return AuditEvent.objects.all()
    return AuditEvent.objects.none()


def cities() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.CITY)


def counties() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.COUNTY).select_related("parent")


def region_choices(user: Any, *, levels: tuple[str, ...] = ("city",)) -> list[tuple[str, str]]:
    """Regions for filter drop-downs, limited to the user's region when they are a bureau."""
    scope = scope_of(user)
    qs = Region.objects.filter(level__in=levels).select_related("parent")
    if scope.kind == ScopeKind.REGION:
        qs = qs.filter(code__startswith=scope.region_prefix)
    return [(r.code, r.full_name) for r in qs]


def category_choices(*, max_level: int = 2) -> list[tuple[str, str]]:
    return [
        (c.code, ("　" * (c.level - 1)) + c.name)
        for c in Category.objects.filter(level__lte=max_level, active=True)
    ]
