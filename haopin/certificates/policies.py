"""Who may see certificates and change their status.

Seeing (``certificates_for_user``): the office (and platform admins) see all; a city or county
bureau the certificates of holders located in, or brands belonging to, its region's subtree; a
department those of brands in its categories or source programmes; a holder its own. Anyone,
signed in or not, may verify a certificate by its number (``selectors.certificate_public_get``):
the public record is the number, holder, brand, scope, validity, status and status history.

Changing a status is the office's (writing members), as declared in ``workflow.py``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from haopin.certificates.models import Certificate
from haopin.certificates.workflow import CERTIFICATE_TRANSITIONS, MANUAL_ACTIONS, office
from haopin.core import workflow
from haopin.core.policies import ScopeKind, scope_of
from haopin.registry.models import BrandSource


def _scope_q(user: Any) -> Q:
    scope = scope_of(user)
    if scope.kind == ScopeKind.ALL:
        return Q()
    if scope.kind == ScopeKind.REGION:
        return Q(enterprise__region__code__startswith=scope.region_prefix) | Q(
            brand__region__code__startswith=scope.region_prefix
        )
    if scope.kind == ScopeKind.DEPARTMENT:
        q = Q(brand__category_id__in=scope.category_ids) if scope.category_ids else Q(pk__in=[])
        if scope.programme_ids:
            sources = BrandSource.objects.filter(
                brand_id=OuterRef("brand_id"), programme_id__in=scope.programme_ids
            )
            q |= Q(Exists(sources))
        return q
    if scope.kind == ScopeKind.ORGANISATION:
        return Q(enterprise__organisation_id=scope.organisation_id)
    return Q(pk__in=[])


def certificates_for_user(user: Any) -> QuerySet[Certificate]:
    return Certificate.objects.filter(_scope_q(user))


def can_view(user: Any, certificate: Certificate) -> bool:
    return certificates_for_user(user).filter(pk=certificate.pk).exists()


def can_change_status(user: Any) -> bool:
    return office(user)


def available_actions(user: Any, certificate: Certificate) -> list[tuple[str, workflow.Transition]]:
    """The status changes ``user`` may make now (for buttons and the API's action list)."""
    return [
        (name, move)
        for name, move in workflow.available(CERTIFICATE_TRANSITIONS, certificate, user)
        if name in MANUAL_ACTIONS
    ]
