"""The index kept in step with every write to a searched field: the registry services, the
bulk import, the demo seed, the accounts' organisations and experts, and the rebuild command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haopin.accounts import services as accounts
from haopin.accounts.models import ExpertProfile, Organisation
from haopin.core import demo
from haopin.registry import services
from haopin.registry.imports import import_commit
from haopin.registry.models import Brand, Enterprise, Product
from haopin.registry.tests.test_import import good_row, validate
from haopin.registry.validation import make_gtin, make_uscc
from haopin.search import index
from haopin.search.models import SearchEntry
from haopin.search.query import matching_ids


def found(kind: str, text: str) -> set[int]:
    return set(matching_ids(kind, text).values_list("object_id", flat=True))


def entry(obj) -> SearchEntry:
    return SearchEntry.objects.get(kind=obj._meta.label_lower, object_id=obj.pk)


def touches_index(captured) -> bool:
    return any("search_entry" in q["sql"] for q in captured.captured_queries)


# --- registry services -------------------------------------------------------------------------


def test_enterprise_create_and_update(province):
    enterprise = services.enterprise_create(
        actor=province.office,
        uscc=make_uscc("370102", 801),
        name="济南鲁润食品有限公司",
        legal_representative="张立新",
        region=province.lixia,
    )
    assert found("registry.enterprise", "鲁润") == {enterprise.pk}
    assert found("registry.enterprise", "张立新") == {enterprise.pk}
    services.enterprise_update(actor=province.office, enterprise=enterprise, name="济南鲁泰食品有限公司")
    assert found("registry.enterprise", "鲁润") == set()
    assert found("registry.enterprise", "lutai") == {enterprise.pk}


def test_a_change_to_an_unsearched_field_does_not_touch_the_index(province):
    index.index_objects("registry.enterprise", [province.alice_ent])
    with CaptureQueriesContext(connection) as captured:
        services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, address="泉城路 9 号")
    assert not touches_index(captured)


def test_an_owner_rename_reaches_its_brands_but_not_their_products(province):
    index.rebuild()
    services.enterprise_update(
        actor=province.office, enterprise=province.alice_ent, name="泉城酥锅坊有限公司"
    )
    assert found("registry.brand", "酥锅坊") == {province.alice_brand.pk}
    assert found("registry.brand", "泉城食品") == set()
    # Products hold their brand's name, not the owner's.
    assert found("registry.product", "酥锅坊") == set()
    assert found("registry.product", "泉城") == {province.alice_product.pk}


def test_brand_create_update_and_its_products(province):
    index.rebuild()
    brand = services.brand_create(
        actor=province.alice,
        owner=province.alice_ent,
        name="泉城老汤",
        brand_type=province.product_type,
        category=province.cat_food,
        tier=province.pool,
    )
    product = services.product_create(actor=province.alice, brand=brand, name="把子肉", specification="1kg")
    assert found("registry.brand", "老汤") == {brand.pk}
    assert found("registry.product", "老汤") == {product.pk}  # the brand's name
    services.brand_update(actor=province.alice, brand=brand, name="泉城老卤", name_en="Quancheng Lulu")
    assert found("registry.brand", "老汤") == set()
    assert found("registry.brand", "lulu") == {brand.pk}
    assert found("registry.product", "老卤") == {product.pk}
    assert found("registry.product", "老汤") == set()


def test_product_update_and_delete(province):
    product = services.product_create(
        actor=province.alice,
        brand=province.alice_brand,
        name="把子肉",
        specification="礼盒 2kg",
        gtin=make_gtin("6901234", 77),
    )
    assert found("registry.product", "礼盒") == {product.pk}
    assert found("registry.product", product.gtin[-6:]) == {product.pk}
    services.product_update(actor=province.alice, product=product, specification="散装 1kg")
    assert found("registry.product", "礼盒") == set()
    assert found("registry.product", "散装") == {product.pk}
    pk = product.pk
    services.product_delete(actor=province.alice, product=product)
    assert not SearchEntry.objects.filter(kind="registry.product", object_id=pk).exists()


def test_a_write_that_fails_leaves_the_index_as_it_was(province):
    from haopin.registry.forms import dry_run

    dry_run(
        lambda: services.enterprise_create(
            actor=province.office, uscc=make_uscc("370102", 802), name="试运行有限公司", region=province.lixia
        )
    )
    assert not Enterprise.objects.filter(name="试运行有限公司").exists()
    assert found("registry.enterprise", "试运行") == set()


def test_self_registration_indexes_the_enterprise_and_its_organisation(province):
    membership = accounts.enterprise_register(
        uscc=make_uscc("370102", 803),
        name="历下趵突泉饮品有限公司",
        region=province.lixia,
        legal_representative="周一",
        contact_name="周一",
        contact_phone="13800000000",
        contact_email="a@example.com",
        username="baotu",
        password="correct-horse-42",
    )
    enterprise = Enterprise.objects.get(uscc=make_uscc("370102", 803))
    assert found("registry.enterprise", "趵突泉") == {enterprise.pk}
    assert found("accounts.organisation", "btq") == {membership.organisation_id}


# --- accounts (signal receivers) ---------------------------------------------------------------


def test_organisations_are_indexed_when_created_renamed_and_deleted(province):
    org = accounts.organisation_create(
        actor=province.admin,
        name="山东省文化和旅游厅",
        short_name="文旅厅",
        kind=Organisation.Kind.DEPARTMENT,
        region=province.shandong,
    )
    assert found("accounts.organisation", "文旅厅") == {org.pk}
    assert found("accounts.organisation", "wlt") == {org.pk}
    assert found("accounts.organisation", "whhlyt") == {org.pk}
    accounts.organisation_update(actor=province.admin, organisation=org, short_name="文化旅游厅")
    assert found("accounts.organisation", "文旅厅") == set()
    pk = org.pk
    org.delete()
    assert not SearchEntry.objects.filter(kind="accounts.organisation", object_id=pk).exists()


def test_an_experts_row_follows_their_name_and_employer(province):
    profile = province.expert.expert_profile
    assert found("accounts.expertprofile", "山东大学") == {profile.pk}
    accounts.user_update(actor=province.admin, user=province.expert, full_name="孙立")
    assert found("accounts.expertprofile", "孙立") == {profile.pk}
    assert found("accounts.expertprofile", "sunli") == {profile.pk}
    accounts.expert_update(actor=province.office, profile=profile, employer="中国海洋大学")
    assert found("accounts.expertprofile", "海洋") == {profile.pk}
    assert found("accounts.expertprofile", "山东大学") == set()


def test_a_sign_in_does_not_touch_the_index(province, client):
    with CaptureQueriesContext(connection) as captured:
        client.force_login(province.expert)
    assert not touches_index(captured)


# --- bulk paths --------------------------------------------------------------------------------


def test_a_committed_import_indexes_new_and_changed_records(province):
    index.rebuild()
    job = validate(
        province.office,
        [
            good_row(),
            good_row(brand_name="示范把子肉", programme="", certificate_number="", year=""),
            # alice's enterprise, renamed by the file: her existing brand's row follows.
            good_row(
                uscc=province.alice_ent.uscc,
                name="泉城鲁菜食品有限公司",
                brand_name="泉城",
                brand_name_en="Quancheng Classic",
                programme="",
                certificate_number="",
                year="",
            ),
        ],
    )
    import_commit(actor=province.office, job=job)
    new = Enterprise.objects.get(uscc=good_row()["uscc"])
    assert found("registry.enterprise", "历下示范") == {new.pk}
    assert found("registry.brand", "示范") == set(new.brands.values_list("pk", flat=True))
    assert len(found("registry.brand", "示范")) == 2
    assert found("registry.brand", "鲁菜") == {province.alice_brand.pk}
    assert found("registry.brand", "classic") == {province.alice_brand.pk}
    assert found("registry.enterprise", "鲁菜") == {province.alice_ent.pk}


def test_seed_demo_indexes_every_record(db):
    demo.seed(demo.build_plan())
    for label, model in (
        ("registry.enterprise", Enterprise),
        ("registry.brand", Brand),
        ("registry.product", Product),
        ("accounts.organisation", Organisation),
        ("accounts.expertprofile", ExpertProfile),
    ):
        indexed = set(SearchEntry.objects.filter(kind=label).values_list("object_id", flat=True))
        assert indexed == set(model.objects.values_list("pk", flat=True)), label
    yantai = Brand.objects.get(name="烟台苹果")
    assert yantai.pk in found("registry.brand", "ytpg")
    assert yantai.pk in found("registry.brand", "烟台苹果")


# --- the rebuild command -----------------------------------------------------------------------


def test_rebuild_restores_the_index_from_the_tables(province):
    SearchEntry.objects.all().delete()
    out = io.StringIO()
    call_command("search_rebuild", stdout=out)
    assert found("registry.brand", "崂山绿茶") == {province.bob_brand.pk}
    assert found("registry.product", "酥锅") == {province.alice_product.pk}
    assert found("registry.enterprise", province.bob_ent.uscc[-6:]) == {province.bob_ent.pk}
    assert found("accounts.organisation", "qdsscjdglj") == {province.qingdao_org.pk}
    assert found("accounts.expertprofile", "sddx") == {province.expert.expert_profile.pk}
    text = out.getvalue()
    assert "registry.brand" in text and "search index rebuilt" in text
    assert SearchEntry.objects.filter(kind="registry.enterprise").count() == Enterprise.objects.count()


def test_rebuild_of_one_kind_leaves_the_others(province):
    index.rebuild()
    SearchEntry.objects.filter(kind="registry.product").delete()
    brands = list(SearchEntry.objects.filter(kind="registry.brand").values_list("id", flat=True))
    call_command("search_rebuild", "--kind", "registry.product", stdout=io.StringIO())
    assert SearchEntry.objects.filter(kind="registry.product").count() == Product.objects.count()
    assert list(SearchEntry.objects.filter(kind="registry.brand").values_list("id", flat=True)) == brands


def test_rebuild_refuses_an_unknown_kind(province):
    with pytest.raises(Exception, match="invalid choice"):
        call_command("search_rebuild", "--kind", "registry.document")


def test_after_a_rebuild_the_index_follows_changes_and_deletions_again(province):
    # On SQLite the rebuild loads the rows without the full-text triggers and puts them back.
    index.rebuild()
    SearchEntry.objects.filter(kind="registry.brand", object_id=province.bob_brand.pk).update(
        bigrams="", chars="", words="", codes=""
    )
    assert found("registry.brand", "崂山绿茶") == set()
    index.index_objects("registry.brand", [province.bob_brand])
    assert found("registry.brand", "崂山绿茶") == {province.bob_brand.pk}
    index.remove("registry.brand", [province.bob_brand.pk])
    assert found("registry.brand", "崂山绿茶") == set()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'search_entry'"
            )
            assert cursor.fetchone()[0] == 3
