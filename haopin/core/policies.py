"""The base of every domain's permission policy: whose data a user may see and touch.

A user's *scope* follows from their organisation (DOMAIN.md, "Who uses the platform"):

- platform admins and the provincial office (质量强省办) see everything;
- a city or county bureau sees its own region's subtree (GB/T 2260 code prefix);
- a provincial department sees what falls in the categories and source programmes it manages;
- an enterprise or brand owner sees itself;
- anyone else (experts, pending registrations, inactive accounts) sees nothing here; experts'
  access to assigned applications is granted by the evaluation policy.

Read-only members see their scope but cannot write. Each domain's ``policies.py`` turns a scope
into querysets (``objects_for_user``) and decisions (``can``); views, the API and the admin all
ask those functions, never the scope directly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet

from haopin.core.errors import NotFoundError, PermissionDeniedError


class ScopeKind(enum.StrEnum):
    ALL = "all"
    REGION = "region"
    DEPARTMENT = "department"
    ORGANISATION = "organisation"
    NONE = "none"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    organisation_id: int | None = None
    organisation_kind: str = ""
    region_prefix: str = ""
    # The ids of the regions under ``region_prefix`` (the bureau's own and its counties):
    # filters compare them as literals, which PostgreSQL estimates right (a LIKE subquery on
    # region codes is estimated at one row and planned as a nested loop).
    region_ids: frozenset[int] = field(default_factory=frozenset)
    category_ids: frozenset[int] = field(default_factory=frozenset)
    programme_ids: frozenset[int] = field(default_factory=frozenset)
    role: str = ""
    is_admin: bool = False

    @property
    def can_write(self) -> bool:
        return self.is_admin or self.role in {"manager", "staff"}

    @property
    def is_manager(self) -> bool:
        return self.is_admin or self.role == "manager"

    @property
    def sees_all(self) -> bool:
        return self.kind == ScopeKind.ALL

    def in_region(self, region_code: str | None) -> bool:
        return bool(region_code) and str(region_code).startswith(self.region_prefix)


NO_SCOPE = Scope(ScopeKind.NONE)


def scope_of(user: Any) -> Scope:
    """The user's scope, computed once per user object (i.e. once per request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_haopin_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    user._haopin_scope = scope
    return scope


def _compute_scope(user: Any) -> Scope:
    from haopin.accounts.models import Membership, Organisation, User
    from haopin.core.models import Category, Region

    if user.is_superuser:
        return Scope(ScopeKind.ALL, is_admin=True, role="manager")
    membership = (
        Membership.objects.select_related("organisation__region")
        .filter(user=user, active=True, organisation__status=Organisation.Status.ACTIVE)
        .first()
    )
    if membership is None:
        return NO_SCOPE
    # The page header shows user.organisation: give it the row just read.
    if isinstance(user, User):
        User.membership.related.set_cached_value(user, membership)
    org = membership.organisation
    base: dict[str, Any] = {
        "organisation_id": org.pk,
        "organisation_kind": org.kind,
        "role": membership.role,
    }
    Kind = Organisation.Kind
    if org.kind == Kind.OFFICE:
        return Scope(ScopeKind.ALL, **base)
    if org.kind in {Kind.CITY_BUREAU, Kind.COUNTY_BUREAU} and org.region_id:
        assert org.region is not None  # region_id is set
        prefix = org.region.prefix
        region_ids = frozenset(Region.objects.filter(code__startswith=prefix).values_list("pk", flat=True))
        return Scope(ScopeKind.REGION, region_prefix=prefix, region_ids=region_ids, **base)
    if org.kind == Kind.DEPARTMENT:
        managed = list(org.managed_categories.values_list("code", flat=True))
        category_ids: set[int] = set()
        if managed:
            for cat_id, code in Category.objects.values_list("pk", "code"):
                if any(code.startswith(prefix) for prefix in managed):
                    category_ids.add(cat_id)
        programme_ids = set(org.managed_programmes.values_list("pk", flat=True))
        return Scope(
            ScopeKind.DEPARTMENT,
            category_ids=frozenset(category_ids),
            programme_ids=frozenset(programme_ids),
            **base,
        )
    if org.kind in {Kind.ENTERPRISE, Kind.BRAND_OWNER}:
        return Scope(ScopeKind.ORGANISATION, **base)
    return Scope(ScopeKind.NONE, **base)


def get_visible(queryset: QuerySet, **lookup: Any) -> Model:
    """The object if the (already scoped) queryset holds it; otherwise NotFoundError (→ 404)."""
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise NotFoundError()
    return obj


def deny_unless(allowed: bool, message: str = "您没有执行此操作的权限。") -> None:
    if not allowed:
        raise PermissionDeniedError(message)
