"""The registry in the admin site: platform admins only, saves through the services (audited,
validated the same way), read-only where no service fits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from haopin.core.models import AuditEvent
from haopin.registry.models import Brand, Enterprise, Product
from haopin.registry.validation import make_uscc


def admin_url(model: str, action: str = "changelist", *args) -> str:
    return reverse(f"admin:registry_{model}_{action}", args=args)


def enterprise_form(province, **extra) -> dict:
    return {
        "uscc": make_uscc("370102", 70),
        "name": "后台登记企业",
        "region": province.lixia.pk,
        "legal_representative": "",
        "address": "",
        "founded_on": "",
        "industry_code": "",
        "size": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
        **extra,
    }


@pytest.mark.parametrize("model", ["enterprise", "brand", "product", "document", "importjob"])
def test_platform_admin_sees_the_changelists(province, as_user, model):
    assert as_user(province.admin).get(admin_url(model)).status_code == 200


def test_office_staff_are_not_let_into_the_admin(province, as_user):
    response = as_user(province.office).get(admin_url("brand"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_creates_an_enterprise_through_the_service(province, as_user):
    response = as_user(province.admin).post(admin_url("enterprise", "add"), enterprise_form(province))
    enterprise = Enterprise.objects.get(name="后台登记企业")
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(action="registry.enterprise.created")
    assert event.actor_id == province.admin.pk and event.target_id == str(enterprise.pk)


def test_admin_sees_service_errors_next_to_the_field(province, as_user):
    data = enterprise_form(province, uscc=province.alice_ent.uscc, contact_phone="12345")
    response = as_user(province.admin).post(admin_url("enterprise", "add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "uscc" in errors and "contact_phone" in errors
    assert not Enterprise.objects.filter(name="后台登记企业").exists()
    assert not AuditEvent.objects.exists()


def test_admin_change_records_only_what_changed(province, as_user):
    data = enterprise_form(
        province,
        name=province.alice_ent.name,
        legal_representative="李华",
        industry_code="C14",
        size="medium",
    )
    del data["uscc"]  # read-only on change
    response = as_user(province.admin).post(admin_url("enterprise", "change", province.alice_ent.pk), data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="registry.enterprise.updated")
    assert event.old == {"legal_representative": "李明"} and event.new == {"legal_representative": "李华"}


def test_admin_cannot_delete_enterprises_or_brands(province, as_user):
    client = as_user(province.admin)
    assert client.get(admin_url("enterprise", "delete", province.alice_ent.pk)).status_code == 403
    assert client.get(admin_url("brand", "delete", province.alice_brand.pk)).status_code == 403
    assert Brand.objects.filter(pk=province.alice_brand.pk).exists()


def test_admin_sets_a_brand_tier_through_the_service(province, as_user):
    brand = province.alice_brand
    data = {
        "name": brand.name,
        "name_en": "",
        "brand_type": brand.brand_type_id,
        "category": brand.category_id,
        "region": brand.region_id,
        "tier": province.benchmark.pk,
        "status": "active",
        "trademark_numbers": "[]",
        "description": "",
        "description_en": "",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        "sources-MIN_NUM_FORMS": "0",
        "sources-MAX_NUM_FORMS": "1000",
    }
    response = as_user(province.admin).post(admin_url("brand", "change", brand.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    brand.refresh_from_db()
    assert brand.tier == province.benchmark
    assert AuditEvent.objects.get(action="registry.brand.updated").new == {"tier": province.benchmark.pk}


def test_admin_deletes_products_one_audited_event_each(province, as_user):
    response = as_user(province.admin).post(
        admin_url("product"),
        {
            "action": "delete_selected",
            "_selected_action": [province.alice_product.pk, province.bob_product.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Product.objects.exists()
    assert AuditEvent.objects.filter(action="registry.product.deleted").count() == 2


def test_documents_are_read_only_in_the_admin(province, as_user):
    assert as_user(province.admin).get(admin_url("document", "add")).status_code == 403
