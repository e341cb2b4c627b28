"""API: brands and their source programmes — list with filters, read, create, patch, sources."""

from __future__ import annotations

import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from haopin.core.models import AuditEvent
from haopin.registry import services
from haopin.registry.models import Brand, BrandSource

URL = "/api/v1/brands"
REQUEST_ID = "req-brand-000001"


def send(client, method, path, body=None):
    data = json.dumps(body) if body is not None else None
    kwargs = {"content_type": "application/json"} if data is not None else {}
    return getattr(client, method)(path, data=data, HTTP_X_REQUEST_ID=REQUEST_ID, **kwargs)


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    if field is not None:
        assert field in body["details"], body
    return body


def names(response):
    assert response.status_code == 200, response.content
    return sorted(b["name"] for b in response.json()["items"])


# --- list -------------------------------------------------------------------------------------


def test_list_shows_codes_and_sources(province, as_user):
    body = as_user(province.office).get(URL).json()
    assert body["count"] == 2
    tea = next(b for b in body["items"] if b["name"] == "崂山绿茶")
    assert tea["brand_type"] == "gi"
    assert tea["tier"] == "member"
    assert tea["category"] == {"code": "10501", "name": "茶叶"}
    assert tea["region"]["code"] == "370212"
    assert tea["owner"]["uscc"] == province.bob_ent.uscc
    assert tea["sources"] == [
        {
            "programme": "agi",
            "programme_name": province.prog_agi.name,
            "certificate_number": "AGI01234",
            "year": 2012,
            "document": None,
        }
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"region": "370200"}, ["崂山绿茶"]),
        ({"region": "370102"}, ["泉城"]),
        ({"region": "370000"}, ["崂山绿茶", "泉城"]),
        ({"category": "1"}, ["崂山绿茶"]),
        ({"category": "20101"}, ["泉城"]),
        ({"type": "product"}, ["泉城"]),
        ({"tier": "member"}, ["崂山绿茶"]),
        ({"programme": "agi"}, ["崂山绿茶"]),
        ({"programme": "chtb"}, []),
        ({"status": "active"}, ["崂山绿茶", "泉城"]),
        ({"q": "崂山"}, ["崂山绿茶"]),
        ({"q": "泉城食品"}, ["泉城"]),
    ],
)
def test_list_filters(province, as_user, params, expected):
    assert names(as_user(province.office).get(URL, params)) == expected


def test_list_filter_by_owner(province, as_user):
    response = as_user(province.office).get(URL, {"owner": str(province.alice_ent.uuid)})
    assert names(response) == ["泉城"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"region": "371299"}, "region"),
        ({"category": "99999"}, "category"),
        ({"category": "tea"}, "category"),
        ({"type": "planet"}, "type"),
        ({"tier": "gold"}, "tier"),
        ({"programme": "nobel"}, "programme"),
        ({"status": "sleeping"}, "status"),
        ({"owner": "bob"}, "owner"),
    ],
)
def test_list_rejects_unknown_codes(province, as_user, params, field):
    assert_error(as_user(province.office).get(URL, params), 422, "validation_error", field)


def test_list_is_scoped(province, as_user):
    assert names(as_user(province.alice).get(URL)) == ["泉城"]
    assert names(as_user(province.city_qingdao).get(URL)) == ["崂山绿茶"]
    assert names(as_user(province.dept_agri).get(URL)) == ["崂山绿茶"]
    assert names(as_user(province.dept_commerce).get(URL)) == []
    assert names(as_user(province.expert).get(URL)) == []


def test_list_query_count_does_not_grow_with_page_size(province, as_user):
    for n in range(30):
        brand = Brand.objects.create(
            name=f"泉城{n:02d}",
            owner=province.alice_ent,
            brand_type=province.product_type,
            category=province.cat_food,
            region=province.lixia,
            tier=province.pool,
        )
        BrandSource.objects.create(brand=brand, programme=province.prog_chtb, year=2006)
    client = as_user(province.alice)
    client.get(URL)
    counts = []
    for limit in (2, 25):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"limit": limit, "programme": "chtb", "region": "370100"})
        assert len(response.json()["items"]) == limit
        assert all(b["sources"][0]["programme"] == "chtb" for b in response.json()["items"])
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8


# --- read -------------------------------------------------------------------------------------


def test_get_brand(province, as_user):
    response = as_user(province.dept_agri).get(f"{URL}/{province.bob_brand.uuid}")
    assert response.status_code == 200
    assert response.json()["name"] == "崂山绿茶"


def test_alice_cannot_read_bobs_brand(province, as_user):
    assert_error(as_user(province.alice).get(f"{URL}/{province.bob_brand.uuid}"), 404, "not_found")
    assert_error(as_user(province.dept_commerce).get(f"{URL}/{province.bob_brand.uuid}"), 404, "not_found")
    assert_error(as_user(province.city_jinan).get(f"{URL}/{province.bob_brand.uuid}"), 404, "not_found")


# --- create -----------------------------------------------------------------------------------


def new_brand(province, **extra):
    return {
        "owner": str(province.alice_ent.uuid),
        "name": "泉城酱香",
        "name_en": "Quancheng Sauce",
        "brand_type": "product",
        "category": "20101",
        "trademark_numbers": ["12345678"],
        **extra,
    }


def test_enterprise_registers_a_brand_in_the_pool(province, as_user):
    response = send(as_user(province.alice), "post", URL, new_brand(province))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tier"] == "pool"
    assert body["region"]["code"] == "370102"  # the owner's
    assert body["trademark_numbers"] == ["12345678"]
    brand = Brand.objects.get(uuid=body["uuid"])
    audit = AuditEvent.objects.get(action="registry.brand.created", target_id=str(brand.pk))
    assert audit.actor_id == province.alice.pk
    assert audit.request_id == REQUEST_ID
    assert audit.new["name"] == "泉城酱香"


def test_brand_created_with_sources_in_one_transaction(province, as_user):
    sources = [{"programme": "chtb", "certificate_number": "商务部 2006-001", "year": 2006}]
    response = send(as_user(province.alice), "post", URL, new_brand(province, sources=sources))
    assert response.status_code == 201, response.content
    assert [s["programme"] for s in response.json()["sources"]] == ["chtb"]
    brand = Brand.objects.get(uuid=response.json()["uuid"])
    assert AuditEvent.objects.filter(action="registry.brand.source_set", target_id=str(brand.pk)).count() == 1

    bad = [{"programme": "chtb", "year": 1800}]
    response = send(as_user(province.alice), "post", URL, new_brand(province, name="泉城二号", sources=bad))
    assert_error(response, 422, "validation_error", "sources.0.year")
    bad = [{"programme": "nobel"}]
    response = send(as_user(province.alice), "post", URL, new_brand(province, name="泉城二号", sources=bad))
    assert_error(response, 422, "validation_error", "programme")
    assert not Brand.objects.filter(name="泉城二号").exists()


def test_regional_brand_names_its_area(province, as_user):
    body = new_brand(province, name="历城黄金梨", brand_type="regional", category="10201", region="370112")
    response = send(as_user(province.city_jinan), "post", URL, body)
    assert response.status_code == 201, response.content
    assert response.json()["region"]["code"] == "370112"


def test_only_the_office_places_brands_above_the_pool(province, as_user):
    response = send(as_user(province.alice), "post", URL, new_brand(province, tier="member"))
    assert_error(response, 403, "permission_denied")
    response = send(as_user(province.office), "post", URL, new_brand(province, tier="member"))
    assert response.status_code == 201
    assert response.json()["tier"] == "member"


def test_outsiders_cannot_register_brands_for_others(province, as_user):
    response = send(as_user(province.bob), "post", URL, new_brand(province))
    assert_error(response, 422, "validation_error", "owner")
    response = send(as_user(province.city_qingdao), "post", URL, new_brand(province))
    assert_error(response, 422, "validation_error", "owner")
    # The Jinan bureau sees alice but may not place a brand in Qingdao.
    response = send(as_user(province.city_jinan), "post", URL, new_brand(province, region="370212"))
    assert_error(response, 403, "permission_denied")
    assert not Brand.objects.filter(name="泉城酱香").exists()


def test_read_only_member_cannot_register(province, as_user):
    assert_error(
        send(as_user(province.alice_viewer), "post", URL, new_brand(province)), 403, "permission_denied"
    )
    assert not AuditEvent.objects.filter(action="registry.brand.created").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"brand_type": "planet"}, "brand_type"),
        ({"category": "99999"}, "category"),
        ({"tier": "gold"}, "tier"),
        ({"region": "379999"}, "region"),
        ({"trademark_numbers": ["TM-1"]}, "trademark_numbers"),
        ({"trademark_numbers": "12345678"}, "trademark_numbers"),
        ({"trademark_numbers": ["1" * 21]}, "trademark_numbers.0"),
        ({"owner": "alice"}, "owner"),
        ({"name": "泉" * 101}, "name"),
        ({"colour": "red"}, "colour"),
        ({"sources": [{"programme": "chtb", "extra": 1}]}, "sources.0.extra"),
    ],
)
def test_create_rejects_bad_input(province, as_user, change, field):
    response = send(as_user(province.alice), "post", URL, new_brand(province, **change))
    assert_error(response, 422, "validation_error", field)
    assert not AuditEvent.objects.filter(action="registry.brand.created").exists()


def test_duplicate_brand_name_for_one_owner(province, as_user):
    response = send(as_user(province.alice), "post", URL, new_brand(province, name="泉城"))
    assert response.status_code in (409, 422)
    assert_error(response, response.status_code, response.json()["code"])
    assert "同名" in response.json()["message"]


# --- partial update ---------------------------------------------------------------------------


def test_enterprise_renames_its_brand(province, as_user):
    url = f"{URL}/{province.alice_brand.uuid}"
    response = send(
        as_user(province.alice), "patch", url, {"name_en": "Quancheng", "description": "百年老店。\n"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["name_en"] == "Quancheng"
    audit = AuditEvent.objects.get(action="registry.brand.updated", target_id=str(province.alice_brand.pk))
    assert audit.new == {"name_en": "Quancheng", "description": "百年老店。\n"}
    assert audit.request_id == REQUEST_ID


def test_office_changes_the_tier(province, as_user):
    url = f"{URL}/{province.alice_brand.uuid}"
    assert_error(send(as_user(province.alice), "patch", url, {"tier": "benchmark"}), 403, "permission_denied")
    assert_error(
        send(as_user(province.alice), "patch", url, {"status": "suspended"}), 403, "permission_denied"
    )
    response = send(as_user(province.office), "patch", url, {"tier": "benchmark", "status": "suspended"})
    assert response.status_code == 200
    assert (response.json()["tier"], response.json()["status"]) == ("benchmark", "suspended")


def test_outsiders_cannot_patch(province, as_user):
    url = f"{URL}/{province.alice_brand.uuid}"
    assert_error(send(as_user(province.city_qingdao), "patch", url, {"name": "x"}), 404, "not_found")
    assert_error(send(as_user(province.bob), "patch", url, {"name": "x"}), 404, "not_found")
    assert_error(send(as_user(province.alice_viewer), "patch", url, {"name": "x"}), 403, "permission_denied")
    assert not AuditEvent.objects.filter(action="registry.brand.updated").exists()


def test_city_cannot_move_a_brand_out_of_its_region(province, as_user):
    url = f"{URL}/{province.alice_brand.uuid}"
    assert_error(
        send(as_user(province.city_jinan), "patch", url, {"region": "370212"}), 403, "permission_denied"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"tier": None}, "tier"),
        ({"status": "sleeping"}, "status"),
        ({"category": "99999"}, "category"),
        ({"owner": "00000000-0000-0000-0000-000000000000"}, "owner"),
        ({"trademark_numbers": ["abc"]}, "trademark_numbers"),
    ],
)
def test_patch_rejects_bad_input(province, as_user, body, field):
    url = f"{URL}/{province.alice_brand.uuid}"
    assert_error(send(as_user(province.office), "patch", url, body), 422, "validation_error", field)


def test_wrong_method(province, as_user):
    response = as_user(province.office).post(f"{URL}/{province.alice_brand.uuid}")
    assert_error(response, 405, "method_not_allowed")
    response = as_user(province.office).get(f"{URL}/{province.alice_brand.uuid}/sources/agi")
    assert_error(response, 405, "method_not_allowed")


# --- sources ----------------------------------------------------------------------------------


def source_url(brand, code):
    return f"{URL}/{brand.uuid}/sources/{code}"


def test_put_source_creates_then_corrects(province, as_user):
    client = as_user(province.alice)
    url = source_url(province.alice_brand, "chtb")
    response = send(client, "put", url, {"certificate_number": "老字号 001", "year": 2006})
    assert response.status_code == 200, response.content
    assert response.json()["programme"] == "chtb"
    response = send(client, "put", url, {"certificate_number": "老字号 002", "year": 2006})
    assert response.json()["certificate_number"] == "老字号 002"
    events = AuditEvent.objects.filter(
        action="registry.brand.source_set", target_id=str(province.alice_brand.pk)
    ).order_by("seq")
    assert [e.new.get("certificate_number") for e in events] == ["老字号 001", "老字号 002"]
    assert events.last().old == {"certificate_number": "老字号 001"}
    assert send(client, "put", url, {"certificate_number": "老字号 002", "year": 2006}).status_code == 200
    assert events.count() == 2  # nothing changed, nothing recorded


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def test_source_with_a_document_of_the_owner(province, as_user):
    document = services.document_upload(
        actor=province.alice, upload=png(), name="cert.png", purpose="evidence", enterprise=province.alice_ent
    )
    url = source_url(province.alice_brand, "chtb")
    response = send(as_user(province.alice), "put", url, {"document": str(document.uuid)})
    assert response.status_code == 200, response.content
    assert response.json()["document"] == str(document.uuid)
    bob_doc = services.document_upload(
        actor=province.bob,
        upload=png(),
        name="b.png",
        purpose="evidence",
        enterprise=province.bob_ent,
    )
    response = send(as_user(province.alice), "put", url, {"document": str(bob_doc.uuid)})
    assert_error(response, 422, "validation_error", "document")


def test_source_rules(province, as_user):
    url = source_url(province.alice_brand, "chtb")
    assert_error(send(as_user(province.alice), "put", url, {"year": 1800}), 422, "validation_error", "year")
    assert_error(
        send(as_user(province.alice), "put", url, {"year": "twenty"}), 422, "validation_error", "year"
    )
    assert_error(send(as_user(province.alice), "put", url, {"since": 1}), 422, "validation_error", "since")
    response = send(as_user(province.alice), "put", source_url(province.alice_brand, "nobel"), {})
    assert_error(response, 404, "not_found")
    assert_error(send(as_user(province.alice_viewer), "put", url, {"year": 2006}), 403, "permission_denied")
    bob_url = source_url(province.bob_brand, "chtb")
    assert_error(send(as_user(province.alice), "put", bob_url, {"year": 2006}), 404, "not_found")
    assert not AuditEvent.objects.filter(action="registry.brand.source_set").exists()


def test_delete_source(province, as_user):
    url = source_url(province.bob_brand, "agi")
    assert_error(as_user(province.alice).delete(url), 404, "not_found")
    assert_error(as_user(province.city_jinan).delete(url), 404, "not_found")
    response = as_user(province.bob).delete(url, HTTP_X_REQUEST_ID=REQUEST_ID)
    assert response.status_code == 204
    assert not BrandSource.objects.filter(brand=province.bob_brand).exists()
    audit = AuditEvent.objects.get(action="registry.brand.source_removed")
    assert audit.old["programme"] == "agi"
    assert audit.request_id == REQUEST_ID
    assert_error(as_user(province.bob).delete(url), 404, "not_found")


def test_read_only_member_cannot_delete_source(province, as_user):
    BrandSource.objects.create(brand=province.alice_brand, programme=province.prog_chtb)
    url = source_url(province.alice_brand, "chtb")
    assert_error(as_user(province.alice_viewer).delete(url), 403, "permission_denied")
    assert BrandSource.objects.filter(brand=province.alice_brand).exists()
