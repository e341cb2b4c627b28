"""Reads of the registry, always through ``registry.policies`` (already scoped)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from haopin.core.policies import get_visible
from haopin.registry import policies
from haopin.registry.models import Brand, Document, Enterprise, ImportJob, Product


def enterprise_list_for_user(user: Any) -> QuerySet[Enterprise]:
    return policies.enterprises_for_user(user).select_related("region__parent")


def enterprise_get_for_user(user: Any, uuid: Any) -> Enterprise:
    return get_visible(enterprise_list_for_user(user), uuid=uuid)


def brand_list_for_user(user: Any) -> QuerySet[Brand]:
    return policies.brands_for_user(user).select_related(
        "owner", "brand_type", "category", "region__parent", "tier"
    )


def brand_get_for_user(user: Any, uuid: Any) -> Brand:
    return get_visible(brand_list_for_user(user), uuid=uuid)


def product_list_for_user(user: Any) -> QuerySet[Product]:
    return policies.products_for_user(user).select_related("brand__owner")


def product_get_for_user(user: Any, uuid: Any) -> Product:
    return get_visible(product_list_for_user(user), uuid=uuid)


def document_get_for_user(user: Any, uuid: Any) -> Document:
    return get_visible(policies.documents_for_user(user), uuid=uuid)


def brand_sources(brand: Brand) -> QuerySet:
    return brand.sources.select_related("programme", "document")


def import_list_for_user(user: Any) -> QuerySet[ImportJob]:
    return policies.imports_for_user(user).select_related("document", "created_by")


def registry_counts(user: Any) -> dict[str, int]:
    """Figures for the workspace home page, within the user's scope."""
    brands = policies.brands_for_user(user)
    by_tier = dict(brands.values_list("tier__code").annotate(n=Count("pk")).values_list("tier__code", "n"))
    return {
        "enterprises": policies.enterprises_for_user(user).count(),
        "brands": sum(by_tier.values()),
        "pool": by_tier.get("pool", 0),
        "member": by_tier.get("member", 0),
        "benchmark": by_tier.get("benchmark", 0),
    }
