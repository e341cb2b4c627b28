"""Every rule of ``accounts.policies``, with the personas of the root conftest."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from haopin.accounts import policies
from haopin.accounts.models import ExpertProfile, Organisation
from haopin.registry.validation import make_uscc


def visible(user):
    return set(policies.objects_for_user(user).values_list("name", flat=True))


ALL = {
    "山东省质量强省工作领导小组办公室",
    "山东省农业农村厅",
    "山东省商务厅",
    "济南市市场监督管理局",
    "青岛市市场监督管理局",
    "济南市历下区市场监督管理局",
    "泉城食品有限公司",
    "崂山茶业有限公司",
    "历城新材料有限公司",
}


# --- objects_for_user and "view" ------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "office", "office_viewer"])
def test_admins_and_the_office_see_every_organisation(province, who):
    assert visible(getattr(province, who)) == ALL


def test_city_bureau_sees_its_region_subtree_and_itself(province):
    assert visible(province.city_jinan) == {
        "济南市市场监督管理局",
        "济南市历下区市场监督管理局",
        "泉城食品有限公司",
        "历城新材料有限公司",
    }
    assert visible(province.city_qingdao) == {"青岛市市场监督管理局", "崂山茶业有限公司"}


def test_county_bureau_sees_its_county(province):
    assert visible(province.county_lixia) == {"济南市历下区市场监督管理局", "泉城食品有限公司"}


@pytest.mark.parametrize(
    ("who", "own"),
    [
        ("alice", "泉城食品有限公司"),
        ("alice_viewer", "泉城食品有限公司"),
        ("bob", "崂山茶业有限公司"),
        ("dept_agri", "山东省农业农村厅"),
    ],
)
def test_everyone_else_sees_only_their_own_organisation(province, who, own):
    assert visible(getattr(province, who)) == {own}


def test_pending_expert_and_anonymous_see_nothing(province):
    assert visible(province.carol) == set()
    assert visible(province.expert) == set()
    assert visible(AnonymousUser()) == set()


def test_deactivated_member_sees_nothing(province):
    province.alice_viewer.membership.active = False
    province.alice_viewer.membership.save()
    from haopin.accounts.models import User

    assert visible(User.objects.get(pk=province.alice_viewer.pk)) == set()


def test_can_view_follows_the_scope(province):
    assert policies.can(province.city_jinan, "view", province.alice_org)
    assert not policies.can(province.city_qingdao, "view", province.alice_org)
    assert not policies.can(province.alice, "view", province.bob_org)
    assert policies.can(province.alice, "view", province.alice_org)


# --- review ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("admin", True),
        ("office", True),
        ("city_jinan", True),
        ("office_viewer", False),  # read-only
        ("city_qingdao", False),  # another city
        ("county_lixia", False),  # another county of the same city
        ("dept_agri", False),
        ("alice", False),
        ("carol", False),  # the applicant itself
        ("expert", False),
    ],
)
def test_who_reviews_a_jinan_registration(province, who, allowed):
    assert policies.can(getattr(province, who), "review", province.carol_org) is allowed


def test_county_bureau_reviews_registrations_in_its_county(province):
    org = Organisation.objects.create(
        name="历下新企业",
        kind="enterprise",
        region=province.lixia,
        uscc=make_uscc("370102", 99),
        status="pending",
    )
    assert policies.can(province.county_lixia, "review", org)


def test_read_only_bureau_member_cannot_review(province):
    province.city_jinan.membership.role = "readonly"
    province.city_jinan.membership.save()
    from haopin.accounts.models import User

    assert not policies.can(User.objects.get(pk=province.city_jinan.pk), "review", province.carol_org)


def test_only_enterprises_and_brand_owners_are_reviewed(province):
    assert not policies.can(province.office, "review", province.jinan_org)
    owner = Organisation.objects.create(
        name="崂山茶叶协会",
        kind="brand_owner",
        region=province.laoshan,
        uscc=make_uscc("370212", 7),
        status="pending",
    )
    assert policies.can(province.city_qingdao, "review", owner)


def test_registration_without_a_region_is_for_the_office_only(province):
    org = Organisation.objects.create(name="无区划企业", kind="enterprise", status="pending")
    assert policies.can(province.office, "review", org)
    assert not policies.can(province.city_jinan, "review", org)


# --- edit and members ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "org", "allowed"),
    [
        ("admin", "bob_org", True),
        ("alice", "alice_org", True),
        ("alice_viewer", "alice_org", False),
        ("alice", "bob_org", False),
        ("city_jinan", "alice_org", False),  # the bureau sees it but does not manage it
        ("office", "alice_org", False),
        ("city_jinan", "jinan_org", False),  # staff, not manager, of its own bureau
        ("office", "office_org", True),
        ("expert", "alice_org", False),
    ],
)
@pytest.mark.parametrize("action", ["edit", "manage_members"])
def test_who_edits_and_manages_members(province, who, org, allowed, action):
    assert policies.can(getattr(province, who), action, getattr(province, org)) is allowed


def test_unknown_action_is_refused(province):
    assert not policies.can(province.admin, "destroy", province.alice_org)


# --- creating organisations ------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k, _ in Organisation.Kind.choices])
def test_admin_creates_any_kind(province, kind):
    assert policies.can_create_organisation(province.admin, kind)


@pytest.mark.parametrize("kind", sorted(policies.PUBLIC_BODY_KINDS))
def test_office_manager_creates_public_bodies(province, kind):
    assert policies.can_create_organisation(province.office, kind)
    assert not policies.can_create_organisation(province.office_viewer, kind)
    assert not policies.can_create_organisation(province.city_jinan, kind)
    assert not policies.can_create_organisation(province.alice, kind)


@pytest.mark.parametrize("kind", ["enterprise", "brand_owner"])
def test_enterprises_are_not_created_by_the_office(province, kind):
    assert not policies.can_create_organisation(province.office, kind)


# --- experts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("admin", True),
        ("office", True),
        ("office_viewer", False),
        ("city_jinan", False),
        ("alice", False),
        ("expert", False),
    ],
)
def test_who_manages_the_expert_pool(province, who, allowed):
    assert policies.can_manage_experts(getattr(province, who)) is allowed


def test_office_sees_every_expert_an_expert_only_themselves(province):
    other_user = province.alice.__class__.objects.create(username="expert-2")
    other = ExpertProfile.objects.create(user=other_user, employer="中国海洋大学", region=province.qingdao)
    assert set(policies.experts_for_user(province.office)) == {province.expert.expert_profile, other}
    assert list(policies.experts_for_user(province.expert)) == [province.expert.expert_profile]
    assert list(policies.experts_for_user(other_user)) == [other]
    assert list(policies.experts_for_user(province.alice)) == []
    assert list(policies.experts_for_user(province.city_jinan)) == []
    assert list(policies.experts_for_user(AnonymousUser())) == []


# --- the reviewer's to-do ----------------------------------------------------------------------


def pending_names(user):
    return set(policies.pending_registrations_for_user(user).values_list("name", flat=True))


def test_pending_registrations_follow_the_region(province):
    Organisation.objects.create(
        name="崂山待审",
        kind="enterprise",
        region=province.laoshan,
        uscc=make_uscc("370212", 9),
        status="pending",
    )
    Organisation.objects.create(name="待审检测所", kind="lab", region=province.licheng, status="pending")
    assert pending_names(province.office) == {"历城新材料有限公司", "崂山待审"}
    assert pending_names(province.city_jinan) == {"历城新材料有限公司"}
    assert pending_names(province.city_qingdao) == {"崂山待审"}
    assert pending_names(province.county_lixia) == set()
    for who in ("office_viewer", "alice", "dept_agri", "expert", "carol"):
        assert pending_names(getattr(province, who)) == set()


def test_decided_registrations_leave_the_list(province):
    Organisation.objects.filter(pk=province.carol_org.pk).update(status="rejected")
    assert pending_names(province.city_jinan) == set()


def test_is_admin_and_is_office(province):
    assert policies.is_admin(province.admin) and not policies.is_admin(province.office)
    assert policies.is_office(province.office) and policies.is_office(province.office_viewer)
    assert policies.is_office(province.admin)
    assert not policies.is_office(province.city_jinan) and not policies.is_office(AnonymousUser())
    province.admin.is_active = False
    assert not policies.is_admin(province.admin)
