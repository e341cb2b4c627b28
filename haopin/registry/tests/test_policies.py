"""registry.policies: who sees which enterprises, brands, products and documents, and who may
change them. Every rule, with the cross-organisation attempts that must fail."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from haopin.registry import policies, services
from haopin.registry.models import Brand, BrandSource, Document, Enterprise, ImportJob, Product
from haopin.registry.tests.test_services import PDF


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    workbook = Workbook()
    workbook.active.append(["统一社会信用代码", "企业名称"])
    workbook.save(buffer)
    return buffer.getvalue()


ALL_ENTERPRISES = {"泉城食品有限公司", "崂山茶业有限公司", "历城新材料有限公司"}


# --- visibility -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "enterprises", "brands"),
    [
        ("admin", ALL_ENTERPRISES, {"泉城", "崂山绿茶"}),
        ("office", ALL_ENTERPRISES, {"泉城", "崂山绿茶"}),
        ("office_viewer", ALL_ENTERPRISES, {"泉城", "崂山绿茶"}),
        ("city_jinan", {"泉城食品有限公司", "历城新材料有限公司"}, {"泉城"}),
        ("city_qingdao", {"崂山茶业有限公司"}, {"崂山绿茶"}),
        ("county_lixia", {"泉城食品有限公司"}, {"泉城"}),
        ("dept_agri", {"崂山茶业有限公司"}, {"崂山绿茶"}),
        ("dept_commerce", set(), set()),
        ("alice", {"泉城食品有限公司"}, {"泉城"}),
        ("alice_viewer", {"泉城食品有限公司"}, {"泉城"}),
        ("bob", {"崂山茶业有限公司"}, {"崂山绿茶"}),
        ("carol", set(), set()),  # registration not yet approved
        ("expert", set(), set()),
    ],
)
def test_who_sees_which_enterprises_brands_and_products(province, persona, enterprises, brands):
    user = getattr(province, persona)
    assert names(policies.enterprises_for_user(user)) == enterprises
    assert names(policies.brands_for_user(user)) == brands
    assert {p.brand.name for p in policies.products_for_user(user).select_related("brand")} == brands


def test_anonymous_sees_nothing(province):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not policies.enterprises_for_user(anonymous).exists()
    assert not policies.brands_for_user(anonymous).exists()
    assert not policies.documents_for_user(anonymous).exists()


def test_department_sees_a_brand_through_a_programme_it_manages(province):
    """dept-commerce manages 中华老字号: a food brand with that source comes into its view,
    together with its owner and products, but not the owner's other brands."""
    services.brand_create(
        actor=province.alice,
        owner=province.alice_ent,
        name="泉城二号",
        brand_type=province.product_type,
        category=province.cat_food,
        tier=province.pool,
    )
    BrandSource.objects.create(brand=province.alice_brand, programme=province.prog_chtb)
    user = province.dept_commerce
    assert names(policies.brands_for_user(user)) == {"泉城"}
    assert names(policies.enterprises_for_user(user)) == {"泉城食品有限公司"}
    assert set(policies.products_for_user(user)) == {province.alice_product}


def test_dept_agri_sees_tea_brands_but_not_food_brands(province):
    user = province.dept_agri
    assert policies.can(user, "view", province.bob_brand)
    assert not policies.can(user, "view", province.alice_brand)
    assert not policies.can(user, "view", province.alice_product)
    assert not policies.can(user, "view", province.alice_ent)


def test_write_querysets_are_empty_for_read_only_members(province):
    for persona in ("alice_viewer", "office_viewer"):
        user = getattr(province, persona)
        assert policies.brands_for_user(user).exists()
        assert not policies.brands_for_user(user, "change").exists()
        assert not policies.enterprises_for_user(user, "change").exists()
        assert not policies.products_for_user(user, "change").exists()


# --- decisions on enterprises -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "view", "change", "add_brand", "delete"),
    [
        ("office", True, True, True, True),
        ("office_viewer", True, False, False, False),
        ("city_jinan", True, True, True, False),
        ("county_lixia", True, True, True, False),
        ("city_qingdao", False, False, False, False),
        ("dept_agri", False, False, False, False),
        ("alice", True, True, True, False),
        ("alice_viewer", True, False, False, False),
        ("bob", False, False, False, False),
        ("expert", False, False, False, False),
    ],
)
def test_decisions_on_alices_enterprise(province, persona, view, change, add_brand, delete):
    user, ent = getattr(province, persona), province.alice_ent
    assert policies.can(user, "view", ent) is view
    assert policies.can(user, "change", ent) is change
    assert policies.can(user, "add_brand", ent) is add_brand
    assert policies.can(user, "delete", ent) is delete


def test_department_adds_brands_to_the_enterprises_it_sees_but_never_changes_them(province):
    assert policies.can(province.dept_agri, "view", province.bob_ent)
    assert policies.can(province.dept_agri, "add_brand", province.bob_ent)
    assert not policies.can(province.dept_agri, "change", province.bob_ent)


def test_city_qingdao_cannot_see_or_change_a_jinan_enterprise(province):
    user = province.city_qingdao
    for action in ("view", "change", "add_brand", "delete"):
        assert not policies.can(user, action, province.alice_ent)
    assert not policies.enterprise_within_scope(user, region_code=province.lixia.code)
    assert policies.enterprise_within_scope(user, region_code=province.laoshan.code)


def test_unsaved_objects_and_unknown_actions_are_refused(province):
    assert not policies.can(province.office, "view", Enterprise(name="未保存"))
    assert not policies.can(province.office, "launch", province.alice_ent)
    assert not policies.can(province.office, "view", object())


# --- decisions on brands and products ---------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "view", "change", "set_tier"),
    [
        ("office", True, True, True),
        ("office_viewer", True, False, False),
        ("dept_agri", True, True, False),
        ("dept_commerce", False, False, False),
        ("city_qingdao", True, True, False),
        ("city_jinan", False, False, False),
        ("bob", True, True, False),
        ("alice", False, False, False),
    ],
)
def test_decisions_on_bobs_brand(province, persona, view, change, set_tier):
    user, brand = getattr(province, persona), province.bob_brand
    assert policies.can(user, "view", brand) is view
    for action in ("change", "add_product", "upload"):
        assert policies.can(user, action, brand) is change, action
    for action in ("set_tier", "set_status", "delete"):
        assert policies.can(user, action, brand) is set_tier, action


def test_alice_cannot_see_bobs_brand_or_product(province):
    assert not policies.can(province.alice, "view", province.bob_brand)
    assert not policies.can(province.alice, "view", province.bob_product)
    assert not policies.can(province.alice, "change", province.bob_product)
    assert not policies.brands_for_user(province.alice).filter(pk=province.bob_brand.pk).exists()


@pytest.mark.parametrize(
    ("persona", "view", "write"),
    [("alice", True, True), ("alice_viewer", True, False), ("bob", False, False), ("city_jinan", True, True)],
)
def test_decisions_on_alices_product(province, persona, view, write):
    user = getattr(province, persona)
    assert policies.can(user, "view", province.alice_product) is view
    assert policies.can(user, "change", province.alice_product) is write
    assert policies.can(user, "delete", province.alice_product) is write


# --- creating within one's scope --------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("office", True),
        ("city_jinan", True),
        ("county_lixia", True),
        ("dept_agri", True),
        ("office_viewer", False),
        ("alice", False),
        ("carol", False),
        ("expert", False),
    ],
)
def test_who_may_register_enterprises_and_import(province, persona, allowed):
    user = getattr(province, persona)
    assert policies.can_create_enterprise(user) is allowed
    assert policies.can_import(user) is allowed


def test_brand_within_scope_for_each_kind_of_user(province):
    p = province
    tea = {"region_code": p.laoshan.code, "category_id": p.cat_tea.pk}
    food_jinan = {"region_code": p.lixia.code, "category_id": p.cat_food.pk}
    assert policies.brand_within_scope(p.office, **tea) and policies.brand_within_scope(
        p.office, **food_jinan
    )
    assert policies.brand_within_scope(p.city_jinan, **food_jinan)
    assert not policies.brand_within_scope(p.city_jinan, **tea)
    assert policies.brand_within_scope(p.dept_agri, **tea)
    assert not policies.brand_within_scope(p.dept_agri, **food_jinan)
    assert policies.brand_within_scope(p.dept_commerce, programme_ids={p.prog_chtb.pk}, **food_jinan)
    assert policies.brand_within_scope(p.alice, owner_organisation_id=p.alice_org.pk, **tea)
    assert not policies.brand_within_scope(p.alice, owner_organisation_id=p.bob_org.pk, **food_jinan)
    assert not policies.brand_within_scope(p.expert, **tea)


def test_enterprise_within_scope(province):
    p = province
    assert policies.enterprise_within_scope(p.office, region_code="371700")
    assert policies.enterprise_within_scope(p.dept_agri, region_code="371700")
    assert policies.enterprise_within_scope(p.county_lixia, region_code="370102")
    assert not policies.enterprise_within_scope(p.county_lixia, region_code="370112")
    assert not policies.enterprise_within_scope(p.alice, region_code="370102")


# --- documents and imports --------------------------------------------------------------------


@pytest.fixture
def documents(province):
    alice_doc = services.document_upload(
        actor=province.alice,
        upload=SimpleUploadedFile("执照.pdf", PDF),
        name="执照.pdf",
        purpose="licence",
        enterprise=province.alice_ent,
    )
    bob_doc = services.document_upload(
        actor=province.bob,
        upload=SimpleUploadedFile("证书.pdf", PDF),
        name="证书.pdf",
        purpose="evidence",
        brand=province.bob_brand,
    )
    agri_import = services.document_upload(
        actor=province.dept_agri,
        upload=SimpleUploadedFile("名单.xlsx", xlsx_bytes()),
        name="名单.xlsx",
        purpose="import",
    )
    return alice_doc, bob_doc, agri_import


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("office", {0, 1, 2}),
        ("alice", {0}),
        ("alice_viewer", {0}),
        ("bob", {1}),
        ("city_jinan", {0}),
        ("city_qingdao", {1}),
        ("dept_agri", {1, 2}),
        ("dept_commerce", set()),
        ("expert", set()),
    ],
)
def test_who_sees_which_documents(province, documents, persona, visible):
    user = getattr(province, persona)
    seen = {i for i, doc in enumerate(documents) if policies.can(user, "view", doc)}
    assert seen == visible
    assert set(policies.documents_for_user(user)) == {documents[i] for i in visible}


def test_documents_are_never_changed_through_the_policy(province, documents):
    assert not policies.can(province.office, "change", documents[0])
    assert not policies.can(province.alice, "delete", documents[0])


def test_imports_are_seen_by_their_organisation_and_the_office(province, documents):
    job = ImportJob.objects.create(
        organisation=province.agri_org, created_by=province.dept_agri, document=documents[2], status="valid"
    )
    assert list(policies.imports_for_user(province.dept_agri)) == [job]
    assert list(policies.imports_for_user(province.office)) == [job]
    for persona in ("dept_commerce", "city_jinan", "alice"):
        assert not policies.imports_for_user(getattr(province, persona)).exists()


def test_policy_querysets_follow_new_rows(province):
    """Scopes are filters, not lists: a brand registered in Qingdao appears for city-qingdao."""
    brand = Brand.objects.create(
        name="崂山矿泉",
        owner=province.bob_ent,
        brand_type=province.product_type,
        category=province.cat_food,
        region=province.laoshan,
        tier=province.pool,
    )
    Product.objects.create(brand=brand, name="崂山矿泉水")
    assert policies.can(province.city_qingdao, "view", brand)
    assert not policies.can(province.city_jinan, "view", brand)
    assert not policies.can(province.dept_agri, "view", brand)
    assert policies.products_for_user(province.city_qingdao).filter(brand=brand).exists()
    assert Document.objects.count() == 0
