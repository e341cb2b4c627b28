"""The admin site: platform admins only; every change through the services, so it is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from haopin.accounts import services
from haopin.accounts.models import ApiToken, ExpertProfile, Membership, Organisation, User
from haopin.core.models import AuditEvent, Region, Tier

PASSWORD = "Ad-Min-Strong-2025"


@pytest.fixture
def admin_client(client, province):
    client.force_login(province.admin)
    return client


def changelists():
    return [
        "core_region",
        "core_category",
        "core_brandtype",
        "core_sourceprogramme",
        "core_tier",
        "core_industrycode",
        "core_auditevent",
        "accounts_user",
        "accounts_organisation",
        "accounts_membership",
        "accounts_expertprofile",
        "accounts_apitoken",
    ]


@pytest.mark.parametrize("name", changelists())
def test_platform_admin_opens_every_list(admin_client, province, name):
    assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_non_admins_are_kept_out(client, province):
    client.force_login(province.office)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_superuser_sees_nothing_even_with_permissions(client, province):
    from django.contrib.auth.models import Permission

    staff = User.objects.create(username="ops", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client.force_login(staff)
    assert client.get(reverse("admin:core_region_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    index = client.get("/admin/")
    assert "行政区划" not in index.content.decode()


def test_groups_are_not_offered(admin_client):
    assert "auth/group" not in admin_client.get("/admin/").content.decode()


# --- reference data -----------------------------------------------------------------------------


def test_editing_a_region_is_audited_with_old_and_new(admin_client, province):
    region = Region.objects.get(code="370102")
    response = admin_client.post(
        reverse("admin:core_region_change", args=[region.pk]),
        {
            "code": "370102",
            "name": "历下区",
            "name_en": "Lixia",
            "level": "county",
            "parent": province.jinan.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="core.reference.updated")
    assert event.actor_id == province.admin.pk and event.target_type == "core.region"
    assert event.old == {"name_en": "Lixia District"} and event.new == {"name_en": "Lixia"}


def test_adding_and_deleting_a_tier_is_audited(admin_client, province):
    response = admin_client.post(
        reverse("admin:core_tier_add"), {"code": "trial", "name": "试点", "name_en": "Trial", "rank": "9"}
    )
    assert response.status_code == 302
    tier = Tier.objects.get(code="trial")
    created = AuditEvent.objects.get(action="core.reference.created")
    assert created.new["name"] == "试点"
    response = admin_client.post(reverse("admin:core_tier_delete", args=[tier.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Tier.objects.filter(code="trial").exists()
    deleted = AuditEvent.objects.get(action="core.reference.deleted")
    assert deleted.old["code"] == "trial"


def test_bulk_delete_goes_through_the_service(admin_client, province):
    a = Tier.objects.create(code="t1", name="甲", rank=11)
    b = Tier.objects.create(code="t2", name="乙", rank=12)
    admin_client.post(
        reverse("admin:core_tier_changelist"),
        {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"},
    )
    assert not Tier.objects.filter(code__in=["t1", "t2"]).exists()
    assert AuditEvent.objects.filter(action="core.reference.deleted").count() == 2


def test_a_region_in_use_cannot_be_deleted(admin_client, province):
    response = admin_client.post(
        reverse("admin:core_region_delete", args=[province.lixia.pk]), {"post": "yes"}
    )
    assert Region.objects.filter(pk=province.lixia.pk).exists()
    assert response.status_code in (200, 403)
    assert not AuditEvent.objects.exists()


# --- the audit trail is read-only -------------------------------------------------------------


def test_audit_events_are_read_only_even_for_superusers(admin_client, province):
    services.token_create(actor=province.alice, name="对接")
    event = AuditEvent.objects.get()
    assert admin_client.get(reverse("admin:core_auditevent_change", args=[event.pk])).status_code == 200
    assert admin_client.get(reverse("admin:core_auditevent_add")).status_code == 403
    response = admin_client.post(reverse("admin:core_auditevent_change", args=[event.pk]), {"action": "x"})
    assert response.status_code == 403
    assert (
        admin_client.post(
            reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    admin_client.post(
        reverse("admin:core_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert AuditEvent.objects.get().action == "accounts.token.created"


# --- accounts ---------------------------------------------------------------------------------


def test_admin_creates_a_platform_admin(admin_client, province):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "ops-2",
            "password": PASSWORD,
            "full_name": "运维二",
            "email": "",
            "phone": "",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="ops-2")
    assert user.is_superuser and user.is_staff and user.check_password(PASSWORD)
    event = AuditEvent.objects.get(action="accounts.user.created")
    assert event.target_id == str(user.pk) and event.new["is_superuser"] is True


def test_weak_password_is_refused_in_the_admin(admin_client, province):
    response = admin_client.post(
        reverse("admin:accounts_user_add"), {"username": "ops-3", "password": "12345678", "full_name": "x"}
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="ops-3").exists()


def change_user(admin_client, user, **overrides):
    data = {
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "is_active": "on",
        "new_password": "",
    }
    data.update(overrides)
    return admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {k: v for k, v in data.items() if v is not None},
    )


def test_admin_deactivates_a_user_and_resets_a_password(admin_client, province):
    response = change_user(admin_client, province.bob, is_active=None, new_password=PASSWORD)
    assert response.status_code == 302
    bob = User.objects.get(pk=province.bob.pk)
    assert not bob.is_active and bob.check_password(PASSWORD)
    events = list(AuditEvent.objects.filter(action="accounts.user.updated").order_by("seq"))
    assert events[0].old == {"is_active": True} and events[0].new == {"is_active": False}
    assert events[1].new == {"password": "（已重置）"}
    assert PASSWORD not in str(events[1].new)


def test_admin_cannot_lock_themselves_out(admin_client, province):
    response = change_user(admin_client, province.admin, is_active=None, is_superuser=None)
    assert response.status_code == 422
    assert "不能停用自己的账号" in response.content.decode()
    assert User.objects.get(pk=province.admin.pk).is_active
    assert not AuditEvent.objects.exists()


def test_users_are_never_deleted(admin_client, province):
    assert admin_client.get(reverse("admin:accounts_user_delete", args=[province.bob.pk])).status_code == 403


def test_admin_creates_and_changes_an_organisation(admin_client, province):
    response = admin_client.post(
        reverse("admin:accounts_organisation_add"),
        {
            "name": "山东省工业和信息化厅",
            "short_name": "工信厅",
            "kind": "department",
            "status": "active",
            "region": province.shandong.pk,
            "uscc": "",
            "managed_categories": [province.cat_food.pk],
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organisation.objects.get(name="山东省工业和信息化厅")
    assert list(org.managed_categories.all()) == [province.cat_food]
    assert AuditEvent.objects.get(action="accounts.organisation.created").target_id == str(org.pk)

    response = admin_client.post(
        reverse("admin:accounts_organisation_change", args=[org.pk]),
        {
            "name": "山东省工业和信息化厅",
            "short_name": "省工信厅",
            "kind": "department",
            "status": "active",
            "region": province.shandong.pk,
            "uscc": "",
            "managed_categories": [province.cat_food.pk, province.cat_tea.pk],
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    updates = list(AuditEvent.objects.filter(action="accounts.organisation.updated").order_by("seq"))
    assert updates[0].new == {"short_name": "省工信厅"}
    assert sorted(updates[1].new["managed_categories"]) == sorted([province.cat_food.pk, province.cat_tea.pk])


def test_admin_checks_the_credit_code_of_an_organisation(admin_client, province):
    response = admin_client.post(
        reverse("admin:accounts_organisation_add"),
        {
            "name": "某检测所",
            "kind": "lab",
            "status": "active",
            "region": province.jinan.pk,
            "uscc": "913701000000000001",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "校验位错误" in response.content.decode()
    assert not Organisation.objects.filter(name="某检测所").exists()


def test_admin_adds_and_changes_a_membership(admin_client, province):
    response = admin_client.post(
        reverse("admin:accounts_membership_add"),
        {
            "organisation": province.qingdao_org.pk,
            "role": "manager",
            "username": "qd-head",
            "full_name": "青岛局长",
            "password": PASSWORD,
            "email": "",
            "phone": "",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="qd-head")
    assert membership.organisation == province.qingdao_org and membership.role == "manager"
    assert AuditEvent.objects.filter(action="accounts.membership.created").exists()

    response = admin_client.post(
        reverse("admin:accounts_membership_change", args=[membership.pk]),
        {"role": "readonly", "active": "on"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="accounts.membership.updated")
    assert (event.old, event.new) == ({"role": "manager"}, {"role": "readonly"})


def test_admin_adds_and_edits_an_expert(admin_client, province):
    response = admin_client.post(
        reverse("admin:accounts_expertprofile_add"),
        {
            "username": "ocean-expert",
            "full_name": "海洋专家",
            "password": PASSWORD,
            "email": "",
            "phone": "",
            "employer": "中国海洋大学",
            "employer_uscc": "",
            "region": province.qingdao.pk,
            "title": "senior",
            "specialities": [province.cat_tea.pk],
        },
    )
    assert response.status_code == 302
    profile = ExpertProfile.objects.get(user__username="ocean-expert")
    assert AuditEvent.objects.get(action="accounts.expert.created").target_id == str(profile.pk)

    response = admin_client.post(
        reverse("admin:accounts_expertprofile_change", args=[profile.pk]),
        {
            "employer": "中国海洋大学",
            "employer_uscc": "",
            "region": province.qingdao.pk,
            "title": "associate",
            "specialities": [province.cat_tea.pk, province.cat_food.pk],
            "note": "",
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.title == "associate" and not profile.active
    event = AuditEvent.objects.get(action="accounts.expert.updated")
    assert event.new["title"] == "associate"
    assert sorted(event.new["specialities"]) == sorted([province.cat_tea.pk, province.cat_food.pk])


def test_tokens_are_read_only_but_can_be_revoked(admin_client, province):
    token, _ = services.token_create(actor=province.bob, name="崂山对接")
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    page = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert page.status_code == 200 and token.digest not in page.content.decode()
    admin_client.post(reverse("admin:accounts_apitoken_change", args=[token.pk]), {"name": "改名"})
    assert ApiToken.objects.get(pk=token.pk).name == "崂山对接"
    assert (
        admin_client.post(
            reverse("admin:accounts_apitoken_delete", args=[token.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    admin_client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.get(action="accounts.token.revoked").actor_id == province.admin.pk
