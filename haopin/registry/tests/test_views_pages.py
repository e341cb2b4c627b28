"""Object pages (enterprise, brand, product) with their related lists, history and only the
buttons the policy allows; the registry's part of the workspace home (navigation, to-dos, figures)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from haopin.registry import services
from haopin.registry.models import Product
from haopin.registry.tests.test_services import PDF, png_bytes


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def edit_url(name: str, obj) -> str:
    return reverse(f"registry:{name}", args=[obj.uuid])


# --- enterprise -------------------------------------------------------------------------------


def test_enterprise_page_shows_fields_brands_documents_and_history(province, as_user):
    services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, address="泉城路 1 号")
    services.document_upload(
        actor=province.alice,
        upload=SimpleUploadedFile("营业执照.pdf", PDF),
        name="营业执照.pdf",
        purpose="licence",
        enterprise=province.alice_ent,
        title="营业执照副本",
    )
    body = page(as_user(province.alice), province.alice_ent.get_absolute_url())
    assert province.alice_ent.uscc in body and "济南市历下区" in body and "李明" in body
    assert "泉城路 1 号" in body
    assert province.alice_brand.get_absolute_url() in body
    assert "营业执照副本" in body and "营业执照" in body
    assert "修改企业信息" in body and "上传文件" in body  # history action label, button
    assert edit_url("enterprise-edit", province.alice_ent) in body
    assert edit_url("enterprise-brand-create", province.alice_ent) in body


def test_read_only_member_sees_the_page_without_buttons(province, as_user):
    body = page(as_user(province.alice_viewer), province.alice_ent.get_absolute_url())
    assert "泉城食品有限公司" in body
    assert edit_url("enterprise-edit", province.alice_ent) not in body
    assert edit_url("enterprise-brand-create", province.alice_ent) not in body
    assert edit_url("enterprise-document-upload", province.alice_ent) not in body


def test_department_may_add_a_brand_but_not_edit_the_enterprise(province, as_user):
    body = page(as_user(province.dept_agri), province.bob_ent.get_absolute_url())
    assert edit_url("enterprise-brand-create", province.bob_ent) in body
    assert edit_url("enterprise-edit", province.bob_ent) not in body


@pytest.mark.parametrize(
    ("persona", "target"),
    [("bob", "alice_ent"), ("city_qingdao", "alice_ent"), ("dept_agri", "alice_ent"), ("expert", "bob_ent")],
)
def test_invisible_enterprise_is_404_on_every_page(province, as_user, persona, target):
    client, obj = as_user(getattr(province, persona)), getattr(province, target)
    for url in (
        obj.get_absolute_url(),
        edit_url("enterprise-edit", obj),
        edit_url("enterprise-brand-create", obj),
        edit_url("enterprise-document-upload", obj),
    ):
        body = page(client, url, 404)
        assert obj.name not in body


def test_unknown_uuid_is_404(province, as_user):
    page(
        as_user(province.office), "/workspace/registry/enterprises/00000000-0000-0000-0000-000000000000/", 404
    )


# --- brand ------------------------------------------------------------------------------------


def test_brand_page_shows_sources_with_evidence_products_logo_and_history(province, as_user):
    bob = province.bob
    evidence = services.document_upload(
        actor=bob,
        upload=SimpleUploadedFile("地标证书.pdf", PDF),
        name="地标证书.pdf",
        purpose="evidence",
        brand=province.bob_brand,
    )
    services.brand_source_set(
        actor=bob,
        brand=province.bob_brand,
        programme=province.prog_agi,
        certificate_number="AGI01234",
        year=2012,
        document=evidence,
    )
    services.brand_set_logo(
        actor=bob,
        brand=province.bob_brand,
        upload=SimpleUploadedFile("logo.png", png_bytes()),
        name="logo.png",
    )
    body = page(as_user(bob), province.bob_brand.get_absolute_url())
    assert "农产品地理标志" in body and "AGI01234" in body and "2012" in body
    assert reverse("registry:document-download", args=[evidence.uuid]) in body
    province.bob_brand.refresh_from_db()
    logo_url = reverse("registry:document-download", args=[province.bob_brand.logo.uuid])
    assert f'<img class="logo" src="{logo_url}"' in body
    assert province.bob_product.get_absolute_url() in body and province.bob_product.gtin in body
    assert "登记品牌来源" in body and "修改品牌信息" in body  # history: the source, the logo
    assert edit_url("product-create", province.bob_brand) in body
    assert edit_url("brand-source-add", province.bob_brand) in body


def test_department_sees_the_brand_it_manages_and_may_edit_it(province, as_user):
    body = page(as_user(province.dept_agri), province.bob_brand.get_absolute_url())
    assert edit_url("brand-edit", province.bob_brand) in body
    assert province.bob_ent.get_absolute_url() in body


def test_read_only_member_gets_no_brand_buttons_and_403_on_forms(province, as_user):
    client = as_user(province.alice_viewer)
    body = page(client, province.alice_brand.get_absolute_url())
    for name in ("brand-edit", "product-create", "brand-source-add", "brand-logo"):
        assert edit_url(name, province.alice_brand) not in body
        assert client.get(edit_url(name, province.alice_brand)).status_code == 403
    assert (
        client.post(edit_url("product-create", province.alice_brand), {"name": "偷偷登记"}).status_code == 403
    )
    assert not Product.objects.filter(name="偷偷登记").exists()


def test_alice_cannot_see_bobs_brand(province, as_user):
    client = as_user(province.alice)
    for name in ("brand-detail", "brand-edit", "product-create", "brand-source-add", "brand-logo"):
        body = page(client, edit_url(name, province.bob_brand), 404)
        assert "崂山绿茶" not in body


def test_dept_agri_sees_tea_but_not_food_brand_pages(province, as_user):
    client = as_user(province.dept_agri)
    page(client, province.bob_brand.get_absolute_url())
    page(client, province.alice_brand.get_absolute_url(), 404)
    page(client, province.alice_product.get_absolute_url(), 404)


# --- product ----------------------------------------------------------------------------------


def test_product_page_shows_fields_history_and_buttons(province, as_user):
    services.product_update(actor=province.alice, product=province.alice_product, specification="1kg")
    body = page(as_user(province.alice), province.alice_product.get_absolute_url())
    assert province.alice_product.gtin in body and "GB 2726-2016" in body and "1kg" in body
    assert "修改产品/服务" in body
    assert edit_url("product-edit", province.alice_product) in body
    assert edit_url("product-delete", province.alice_product) in body


def test_product_page_for_a_viewer_has_no_buttons(province, as_user):
    body = page(as_user(province.alice_viewer), province.alice_product.get_absolute_url())
    assert edit_url("product-edit", province.alice_product) not in body
    assert edit_url("product-delete", province.alice_product) not in body


def test_bobs_product_is_404_for_alice(province, as_user):
    client = as_user(province.alice)
    for name in ("product-detail", "product-edit", "product-delete"):
        page(client, edit_url(name, province.bob_product), 404)
    assert client.post(edit_url("product-delete", province.bob_product)).status_code == 404
    assert Product.objects.filter(pk=province.bob_product.pk).exists()


def test_history_is_limited_to_the_object(province, as_user):
    services.product_update(actor=province.bob, product=province.bob_product, specification="100g")
    body = page(as_user(province.alice), province.alice_product.get_absolute_url())
    assert "100g" not in body and "暂无变更记录" in body


# --- workspace home ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "alice_viewer", "office", "city_jinan", "dept_agri"])
def test_navigation_shows_the_registry_group(province, as_user, persona):
    body = page(as_user(getattr(province, persona)), reverse("workspace:home"))
    assert "品牌登记" in body
    for name in ("enterprise-list", "brand-list", "product-list"):
        assert reverse(f"registry:{name}") in body


@pytest.mark.parametrize("persona", ["expert", "carol"])
def test_navigation_hides_the_registry_from_users_without_scope(province, as_user, persona):
    body = page(as_user(getattr(province, persona)), reverse("workspace:home"))
    assert reverse("registry:brand-list") not in body


def test_enterprise_to_dos_brands_without_products_and_missing_profile(province, as_user):
    services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, industry_code="")
    services.brand_create(
        actor=province.alice,
        owner=province.alice_ent,
        name="泉城二号",
        brand_type=province.product_type,
        category=province.cat_food,
        tier=province.pool,
    )
    response = as_user(province.alice).get(reverse("workspace:home"))
    todo = {item.label: item for item in response.context["todo"]}
    assert todo["个品牌尚未登记产品或服务"].count == 1
    assert todo["个品牌尚未登记产品或服务"].url == reverse("registry:brand-list") + "?products=none"
    assert todo["项企业信息待完善"].url == edit_url("enterprise-edit", province.alice_ent)


def test_complete_enterprise_has_nothing_to_do_and_viewers_never_do(province, as_user):
    todo = as_user(province.alice).get(reverse("workspace:home")).context["todo"]
    assert not [t for t in todo if "品牌" in t.label or "企业" in t.label]
    services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, industry_code="")
    todo = as_user(province.alice_viewer).get(reverse("workspace:home")).context["todo"]
    assert not [t for t in todo if "企业" in t.label]


def test_bureau_to_do_counts_incomplete_profiles_in_its_region(province, as_user):
    response = as_user(province.city_jinan).get(reverse("workspace:home"))
    item = next(t for t in response.context["todo"] if t.label == "家辖区企业信息待完善")
    assert item.count == 1  # carol's enterprise; alice's is complete and bob's is in Qingdao
    assert item.url == reverse("registry:enterprise-list") + "?info=incomplete"
    response = as_user(province.city_qingdao).get(reverse("workspace:home"))
    assert not [t for t in response.context["todo"] if t.label == "家辖区企业信息待完善"]


def test_home_figures_are_scoped(province, as_user):
    office = dict(as_user(province.office).get(reverse("workspace:home")).context["stats"])
    assert office["企业"] == 3 and office["品牌"] == 2
    assert office["培育库品牌"] == 1 and office["好品山东品牌"] == 1 and office["标杆品牌"] == 0
    alice = dict(as_user(province.alice).get(reverse("workspace:home")).context["stats"])
    assert alice["企业"] == 1 and alice["品牌"] == 1 and alice["好品山东品牌"] == 0
    expert = dict(as_user(province.expert).get(reverse("workspace:home")).context["stats"])
    assert "品牌" not in expert


@pytest.mark.parametrize(("persona", "shown"), [("city_jinan", True), ("dept_agri", True), ("alice", False)])
def test_import_entry_only_for_those_who_may_import(province, as_user, persona, shown):
    body = page(as_user(getattr(province, persona)), reverse("workspace:home"))
    assert (reverse("registry:import-list") in body) is shown
