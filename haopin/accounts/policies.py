"""Who may see and change organisations, members, experts and tokens.

- Platform admins and the office see every organisation; a bureau sees the organisations of
  its region's subtree; everyone else sees only their own organisation.
- A pending enterprise registration is reviewed by a writing member of a bureau whose region
  contains the enterprise, or of the office.
- Members are managed by their organisation's managers (and platform admins).
- The expert pool is managed and seen by the office and platform admins only; an expert sees
  their own profile.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from haopin.accounts.models import ExpertProfile, Organisation
from haopin.core.policies import ScopeKind, scope_of

PUBLIC_BODY_KINDS = {
    Organisation.Kind.OFFICE,
    Organisation.Kind.DEPARTMENT,
    Organisation.Kind.CITY_BUREAU,
    Organisation.Kind.COUNTY_BUREAU,
    Organisation.Kind.EVALUATION_BODY,
    Organisation.Kind.LAB,
}


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def is_office(user: Any) -> bool:
    scope = scope_of(user)
    return scope.kind == ScopeKind.ALL


def objects_for_user(user: Any, action: str = "view") -> QuerySet[Organisation]:
    scope = scope_of(user)
    qs = Organisation.objects.all()
    if scope.kind == ScopeKind.ALL:
        return qs
    if scope.kind == ScopeKind.REGION:
        return qs.filter(Q(region__code__startswith=scope.region_prefix) | Q(pk=scope.organisation_id))
    if scope.organisation_id:
        return qs.filter(pk=scope.organisation_id)
    return qs.none()


def can(user: Any, action: str, org: Organisation) -> bool:
    scope = scope_of(user)
    if action == "view":
        return objects_for_user(user).filter(pk=org.pk).exists()
    if action == "review":
        if org.kind not in {Organisation.Kind.ENTERPRISE, Organisation.Kind.BRAND_OWNER}:
            return False
        if not scope.can_write:
            return False
        if scope.kind == ScopeKind.ALL:
            return True
        return scope.kind == ScopeKind.REGION and org.region is not None and scope.in_region(org.region.code)
    if action in {"edit", "manage_members"}:
        if is_admin(user):
            return True
        if scope.organisation_id == org.pk and scope.is_manager:
            return True
        # The office sets up the public bodies it creates (departments, bureaus, labs), including
        # their first manager; enterprises manage their own members.
        return (
            action == "manage_members"
            and scope.organisation_kind == Organisation.Kind.OFFICE
            and scope.is_manager
            and org.kind in PUBLIC_BODY_KINDS
        )
    return False


def can_review_registrations(user: Any) -> bool:
    """Writing members of the office and of city or county bureaus review registrations."""
    scope = scope_of(user)
    return scope.can_write and scope.kind in {ScopeKind.ALL, ScopeKind.REGION}


def can_create_organisation(user: Any, kind: str) -> bool:
    if is_admin(user):
        return True
    scope = scope_of(user)
    return scope.kind == ScopeKind.ALL and scope.is_manager and kind in PUBLIC_BODY_KINDS


def can_manage_experts(user: Any) -> bool:
    scope = scope_of(user)
    return scope.kind == ScopeKind.ALL and scope.can_write


def experts_for_user(user: Any) -> QuerySet[ExpertProfile]:
    qs = ExpertProfile.objects.select_related("user", "region")
    if scope_of(user).kind == ScopeKind.ALL:
        return qs
    if getattr(user, "is_authenticated", False):
        return qs.filter(user=user)
    return qs.none()


def pending_registrations_for_user(user: Any) -> QuerySet[Organisation]:
    """Registrations this user may review (their to-do list)."""
    scope = scope_of(user)
    if not can_review_registrations(user):
        return Organisation.objects.none()
    qs = Organisation.objects.filter(
        status=Organisation.Status.PENDING,
        kind__in=[Organisation.Kind.ENTERPRISE, Organisation.Kind.BRAND_OWNER],
    )
    if scope.kind == ScopeKind.REGION:
        qs = qs.filter(region__code__startswith=scope.region_prefix)
    return qs
