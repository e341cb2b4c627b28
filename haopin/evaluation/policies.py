"""Who may see and act on batches and applications.

Seeing an application:
- the office (and platform admins, read-only for decisions) sees all;
- the applicant's organisation sees its own applications;
- a city or county bureau sees the applications of enterprises in its region's subtree; a
  department those in its categories or source programmes (as for brands); a recommender also
  sees the applications it recommended;
- an expert sees an application only once assigned to it *and* after declaring no conflict of
  interest (``Assignment.status`` accepted or submitted).

Acting: the applicant's writing members fill in, submit and withdraw; the recommending unit
(the bureau of the enterprise's region, or a department managing its category or programme)
recommends or sends back submitted applications; the office's writing members take every later
decision. Platform admins operate the platform but take no evaluation decisions (least
privilege): deciding is the office's job.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from haopin.core.policies import Scope, ScopeKind, scope_of
from haopin.evaluation.models import Application, Assignment, Batch
from haopin.registry.models import BrandSource

DECLARED = [Assignment.Status.ACCEPTED, Assignment.Status.SUBMITTED]


def is_office(user: Any) -> bool:
    """A writing member of the provincial office (not a platform admin)."""
    scope = scope_of(user)
    return scope.organisation_kind == "office" and scope.can_write


def is_office_reader(user: Any) -> bool:
    scope = scope_of(user)
    return scope.kind == ScopeKind.ALL


def expert_profile(user: Any) -> Any:
    return getattr(user, "expert_profile", None) if getattr(user, "is_authenticated", False) else None


def _scope_q(scope: Scope) -> Q:
    if scope.kind == ScopeKind.ALL:
        return Q()
    if scope.kind == ScopeKind.REGION:
        return Q(enterprise__region__code__startswith=scope.region_prefix) | Q(
            recommender_id=scope.organisation_id
        )
    if scope.kind == ScopeKind.DEPARTMENT:
        q = Q(brand__category_id__in=scope.category_ids) | Q(recommender_id=scope.organisation_id)
        if scope.programme_ids:
            q |= Q(
                Exists(
                    BrandSource.objects.filter(
                        brand_id=OuterRef("brand_id"), programme_id__in=scope.programme_ids
                    )
                )
            )
        return q
    if scope.kind == ScopeKind.ORGANISATION:
        return Q(enterprise__organisation_id=scope.organisation_id)
    return Q(pk__in=[])


def applications_for_user(user: Any) -> QuerySet[Application]:
    q = _scope_q(scope_of(user))
    profile = expert_profile(user)
    if profile is not None:
        assigned = Assignment.objects.filter(
            application_id=OuterRef("pk"), expert=profile, status__in=DECLARED
        )
        q |= Q(Exists(assigned))
    return Application.objects.filter(q)


def batches_for_user(user: Any) -> QuerySet[Batch]:
    """Drafts only for the office; open and later batches for every signed-in user."""
    if is_office_reader(user):
        return Batch.objects.all()
    if getattr(user, "is_authenticated", False):
        return Batch.objects.exclude(status=Batch.Status.DRAFT)
    return Batch.objects.filter(status__in=[Batch.Status.NOTICE, Batch.Status.PUBLISHED, Batch.Status.CLOSED])


def assignments_for_expert(user: Any) -> QuerySet[Assignment]:
    profile = expert_profile(user)
    if profile is None:
        return Assignment.objects.none()
    return Assignment.objects.filter(expert=profile)


# --- predicates used by the workflow table --------------------------------------------------------


def is_applicant(user: Any, application: Application) -> bool:
    scope = scope_of(user)
    return (
        scope.kind == ScopeKind.ORGANISATION
        and scope.can_write
        and application.enterprise.organisation_id == scope.organisation_id
    )


def is_recommender(user: Any, application: Application) -> bool:
    """The bureau of the enterprise's region, a department managing the brand's category or
    source programme, or the unit that recommended it (writing members)."""
    scope = scope_of(user)
    if not scope.can_write:
        return False
    if application.recommender_id is not None:
        return application.recommender_id == scope.organisation_id
    if scope.kind == ScopeKind.REGION:
        return application.enterprise.region.code.startswith(scope.region_prefix)
    if scope.kind == ScopeKind.DEPARTMENT:
        if application.brand.category_id in scope.category_ids:
            return True
        programmes = set(application.brand.sources.values_list("programme_id", flat=True))
        return bool(programmes & scope.programme_ids)
    return False


def is_stage_owner(user: Any, application: Application) -> bool:
    """Who decides at the application's current stage: the recommender while it waits for a
    recommendation, the office afterwards."""
    if application.status == Application.Status.SUBMITTED:
        return is_recommender(user, application)
    return is_office(user)


def office(user: Any, application: Any = None) -> bool:
    return is_office(user)


def can_view(user: Any, application: Application) -> bool:
    return applications_for_user(user).filter(pk=application.pk).exists()


def can_recommend_for(user: Any, *, region_code: str, category_id: int, programme_ids: set[int]) -> bool:
    """May ``user`` start a recommendation for a brand with these attributes?"""
    scope = scope_of(user)
    if not scope.can_write:
        return False
    if scope.kind == ScopeKind.REGION:
        return region_code.startswith(scope.region_prefix)
    if scope.kind == ScopeKind.DEPARTMENT:
        return category_id in scope.category_ids or bool(programme_ids & scope.programme_ids)
    return False
