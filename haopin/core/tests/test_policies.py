"""The scope every domain's policy starts from (``core.policies.scope_of``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from haopin.accounts.models import Membership, Organisation, User
from haopin.core.errors import NotFoundError, PermissionDeniedError
from haopin.core.models import Category, Region
from haopin.core.policies import NO_SCOPE, ScopeKind, deny_unless, get_visible, scope_of


def fresh(user):
    """The user as a new request would load it (the scope is cached on the object)."""
    return User.objects.get(pk=user.pk)


def test_platform_admin_sees_all_and_writes(province):
    scope = scope_of(province.admin)
    assert scope.kind == ScopeKind.ALL and scope.is_admin and scope.can_write and scope.is_manager


def test_office_sees_all(province):
    scope = scope_of(province.office)
    assert scope.kind == ScopeKind.ALL and scope.sees_all
    assert scope.organisation_id == province.office_org.pk
    assert scope.can_write and scope.is_manager and not scope.is_admin


def test_read_only_office_member_sees_all_but_cannot_write(province):
    scope = scope_of(province.office_viewer)
    assert scope.kind == ScopeKind.ALL and not scope.can_write and not scope.is_manager


def test_city_bureau_has_its_city_prefix(province):
    scope = scope_of(province.city_jinan)
    assert scope.kind == ScopeKind.REGION and scope.region_prefix == "3701"
    assert scope.can_write and not scope.is_manager  # staff
    assert scope.in_region("370102") and not scope.in_region("370212")
    assert not scope.in_region("") and not scope.in_region(None)


def test_county_bureau_has_its_county_code(province):
    scope = scope_of(province.county_lixia)
    assert scope.kind == ScopeKind.REGION and scope.region_prefix == "370102"
    assert scope.in_region("370102") and not scope.in_region("370112")


def test_department_manages_its_categories_with_their_descendants_and_programmes(province):
    scope = scope_of(province.dept_agri)
    assert scope.kind == ScopeKind.DEPARTMENT
    primary = set(Category.objects.filter(code__startswith="1").values_list("pk", flat=True))
    assert scope.category_ids == primary
    assert province.cat_tea.pk in scope.category_ids and province.cat_food.pk not in scope.category_ids
    assert scope.programme_ids == {province.prog_agi.pk, province.prog_arpb.pk}


def test_enterprise_sees_itself(province):
    scope = scope_of(province.alice)
    assert scope.kind == ScopeKind.ORGANISATION and scope.organisation_id == province.alice_org.pk
    assert scope.can_write
    viewer = scope_of(province.alice_viewer)
    assert viewer.kind == ScopeKind.ORGANISATION and not viewer.can_write


@pytest.mark.parametrize("kind", [Organisation.Kind.EVALUATION_BODY, Organisation.Kind.LAB])
def test_bodies_without_a_scope_of_their_own(province, kind):
    org = Organisation.objects.create(name="某机构", kind=kind, region=province.jinan)
    user = User.objects.create(username="staff-of-body")
    Membership.objects.create(user=user, organisation=org, role="manager")
    scope = scope_of(user)
    assert scope.kind == ScopeKind.NONE and scope.organisation_id == org.pk


def test_bureau_without_a_region_has_no_scope(province):
    org = Organisation.objects.create(name="无区划局", kind=Organisation.Kind.CITY_BUREAU)
    user = User.objects.create(username="lost-bureau")
    Membership.objects.create(user=user, organisation=org, role="manager")
    assert scope_of(user).kind == ScopeKind.NONE


def test_pending_registration_gives_no_scope(province):
    assert scope_of(province.carol) is NO_SCOPE


@pytest.mark.parametrize("status", ["rejected", "suspended"])
def test_rejected_or_suspended_organisation_gives_no_scope(province, status):
    Organisation.objects.filter(pk=province.alice_org.pk).update(status=status)
    assert scope_of(fresh(province.alice)) is NO_SCOPE


def test_inactive_membership_or_user_gives_no_scope(province):
    Membership.objects.filter(user=province.alice).update(active=False)
    assert scope_of(fresh(province.alice)) is NO_SCOPE
    user = fresh(province.bob)
    user.is_active = False
    assert scope_of(user) is NO_SCOPE


def test_anonymous_none_and_expert_have_no_scope(province):
    assert scope_of(AnonymousUser()) is NO_SCOPE
    assert scope_of(None) is NO_SCOPE
    assert scope_of(province.expert).kind == ScopeKind.NONE


def test_scope_is_computed_once_per_user_object(province, django_assert_num_queries):
    user = fresh(province.city_jinan)
    with django_assert_num_queries(2):  # the membership, then the ids of the city's regions
        scope = scope_of(user)
        scope_of(user)
    jinan = Region.objects.filter(code__startswith="3701").values_list("pk", flat=True)
    assert scope.region_ids == set(jinan) and len(jinan) > 1


def test_get_visible_is_404_outside_the_queryset(province):
    qs = Organisation.objects.filter(pk=province.alice_org.pk)
    assert get_visible(qs, uuid=province.alice_org.uuid) == province.alice_org
    with pytest.raises(NotFoundError):
        get_visible(qs, uuid=province.bob_org.uuid)


def test_deny_unless_is_403():
    deny_unless(True)
    with pytest.raises(PermissionDeniedError) as raised:
        deny_unless(False, "不行。")
    assert raised.value.status == 403 and raised.value.message == "不行。"
