"""Reads of accounts data, scoped by ``accounts.policies``."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q, QuerySet

from haopin.accounts import policies
from haopin.accounts.models import ApiToken, ExpertProfile, Membership, Organisation, User
from haopin.core.models import AuditEvent, Category, Region
from haopin.core.policies import get_visible

SELF_REGISTERING_KINDS = (Organisation.Kind.ENTERPRISE, Organisation.Kind.BRAND_OWNER)


def tokens_for_user(user: Any) -> QuerySet[ApiToken]:
    """A user's own tokens (no one else's, not even an admin's view: tokens are personal)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


# --- organisations ---------------------------------------------------------------------------


def organisation_list_for_user(user: Any) -> QuerySet[Organisation]:
    return policies.objects_for_user(user).select_related("region__parent")


def organisation_get_for_user(user: Any, uuid: Any) -> Organisation:
    """The organisation if the user may see it; NotFoundError (404) otherwise."""
    return cast(Organisation, get_visible(organisation_list_for_user(user), uuid=uuid))


def organisation_members(organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("-active", "role", "user__username")
    )


def organisation_manager(organisation: Organisation) -> User | None:
    """The first active manager: for a registration, the person who registered."""
    membership = (
        Membership.objects.filter(organisation=organisation, role=Membership.Role.MANAGER)
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    return membership.user if membership else None


def organisation_history(organisation: Organisation) -> QuerySet[AuditEvent]:
    """Events about the organisation and about its memberships and members' accounts, newest first."""
    memberships = list(Membership.objects.filter(organisation=organisation).values_list("pk", "user_id"))
    return AuditEvent.objects.filter(
        Q(target_type="accounts.organisation", target_id=str(organisation.pk))
        | Q(target_type="accounts.membership", target_id__in=[str(m) for m, _ in memberships])
        | Q(target_type="accounts.user", target_id__in=[str(u) for _, u in memberships])
    ).order_by("-seq")


def registration_list_for_user(user: Any) -> QuerySet[Organisation]:
    """Pending self-registrations this user may review."""
    return policies.pending_registrations_for_user(user).select_related("region__parent")


def registration_get_for_user(user: Any, uuid: Any) -> Organisation:
    """A self-registered organisation (pending or already decided) within the user's view."""
    registrations = organisation_list_for_user(user).filter(kind__in=SELF_REGISTERING_KINDS)
    return cast(Organisation, get_visible(registrations, uuid=uuid))


def reviewer_for(organisation: Organisation) -> AuditEvent | None:
    """The audit event of the decision on a registration, if there was one."""
    return (
        AuditEvent.objects.filter(
            target_type="accounts.organisation",
            target_id=str(organisation.pk),
            action__in=["accounts.organisation.approved", "accounts.organisation.rejected"],
        )
        .order_by("-seq")
        .first()
    )


def city_bureau_for(region: Region | None) -> Organisation | None:
    """The active city bureau whose region contains ``region`` (who reviews registrations there)."""
    if region is None:
        return None
    city_code = region.code[:4] + "00"
    return (
        Organisation.objects.filter(
            kind=Organisation.Kind.CITY_BUREAU,
            status=Organisation.Status.ACTIVE,
            region__code=city_code,
        )
        .order_by("pk")
        .first()
    )


def organisation_counts(user: Any) -> dict[str, int]:
    qs = policies.objects_for_user(user)
    return {
        "organisations": qs.filter(status=Organisation.Status.ACTIVE).count(),
    }


# --- experts ---------------------------------------------------------------------------------


def expert_list_for_user(user: Any) -> QuerySet[ExpertProfile]:
    return policies.experts_for_user(user).select_related("user", "region__parent")


def expert_get_for_user(user: Any, pk: Any) -> ExpertProfile:
    return cast(
        ExpertProfile, get_visible(expert_list_for_user(user).prefetch_related("specialities"), pk=pk)
    )


def expert_history(profile: ExpertProfile) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        Q(target_type="accounts.expertprofile", target_id=str(profile.pk))
        | Q(target_type="accounts.user", target_id=str(profile.user_id))
    ).order_by("-seq")


def expert_profile_of(user: Any) -> ExpertProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        ExpertProfile.objects.select_related("region__parent")
        .prefetch_related("specialities")
        .filter(user=user)
        .first()
    )


# --- choices for forms -----------------------------------------------------------------------


def county_choices_by_city() -> list[tuple[str, list[tuple[str, str]]]]:
    """Current counties grouped under their city, for a grouped <select>."""
    groups: dict[str, list[tuple[str, str]]] = {}
    counties = Region.objects.filter(level=Region.Level.COUNTY, active=True).select_related("parent")
    for county in counties.order_by("code"):
        city = county.parent.name if county.parent is not None else "其他"
        groups.setdefault(city, []).append((county.code, county.name))
    return list(groups.items())


def region_choices_by_city() -> list[tuple[str, list[tuple[str, str]]]]:
    """The province, each city, and the counties under each city, for a grouped <select>."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for region in Region.objects.filter(active=True).select_related("parent").order_by("code"):
        if region.level == Region.Level.PROVINCE:
            groups.setdefault("省级", []).append((region.code, region.name))
        elif region.level == Region.Level.CITY:
            groups.setdefault(region.name, []).append((region.code, f"{region.name}（全市）"))
        else:
            city = region.parent.name if region.parent is not None else "其他"
            groups.setdefault(city, []).append((region.code, region.name))
    return list(groups.items())


def category_tree(*, max_level: int = 3) -> list[dict[str, Any]]:
    """Active categories as industry → [category → [sub-category]] for grouped check boxes."""
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for cat in Category.objects.filter(active=True, level__lte=max_level).order_by("code"):
        node = {"category": cat, "children": []}
        nodes[cat.pk] = node
        parent = nodes.get(cat.parent_id) if cat.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent["children"].append(node)
    return roots


def is_registration_reviewer(user: Any) -> bool:
    """Whether the policy gives this user registrations to review (office and bureau writers)."""
    return policies.can_review_registrations(user)


# --- the workspace home ----------------------------------------------------------------------


def registration_todo(user: Any) -> list[Any]:
    """The reviewer's to-do entry: pending registrations in their region (or the province)."""
    from django.urls import reverse

    from haopin.core.workspace import TodoItem

    if not is_registration_reviewer(user):
        return []
    count = policies.pending_registrations_for_user(user).count()
    return [
        TodoItem(
            "待审核的企业注册",
            count,
            reverse("accounts:registration-list"),
            "核对信用代码与单位名称后通过或不予通过。",
        )
    ]


def home_figures(user: Any) -> list[tuple[str, int]]:
    """Figures for the home page within the user's scope (the office's and bureaus')."""
    from haopin.core.policies import ScopeKind, scope_of

    scope = scope_of(user)
    if scope.kind == ScopeKind.ALL:
        return [
            ("已启用单位", organisation_counts(user)["organisations"]),
            ("在库专家", expert_list_for_user(user).filter(active=True).count()),
        ]
    if scope.kind == ScopeKind.REGION:
        return [("辖区内已启用单位", organisation_counts(user)["organisations"])]
    return []
