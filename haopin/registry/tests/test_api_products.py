"""API: products, services and engineering works — list, read, create, patch, delete."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haopin.core.models import AuditEvent
from haopin.registry.models import Product
from haopin.registry.validation import make_gtin

URL = "/api/v1/products"
REQUEST_ID = "req-product-00001"


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


def wrong_check_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


# --- list and read ----------------------------------------------------------------------------


def test_list_is_scoped_and_filtered(province, as_user):
    alice = as_user(province.alice).get(URL).json()
    assert [p["name"] for p in alice["items"]] == ["泉城酥锅"]
    assert alice["items"][0]["brand"] == {"uuid": str(province.alice_brand.uuid), "name": "泉城"}
    office = as_user(province.office)
    assert office.get(URL).json()["count"] == 2
    assert office.get(URL, {"brand": str(province.bob_brand.uuid)}).json()["items"][0]["name"] == "崂山绿茶"
    assert office.get(URL, {"gtin": province.bob_product.gtin}).json()["count"] == 1
    assert office.get(URL, {"q": "特级"}).json()["count"] == 1
    assert office.get(URL, {"kind": "service"}).json()["count"] == 0
    assert_error(office.get(URL, {"kind": "magic"}), 422, "validation_error", "kind")
    assert_error(office.get(URL, {"brand": "x"}), 422, "validation_error", "brand")


def test_list_query_count_does_not_grow_with_page_size(province, as_user):
    for n in range(30):
        Product.objects.create(
            brand=province.alice_brand, name=f"酥锅{n:02d}", gtin=make_gtin("6901234", 100 + n)
        )
    client = as_user(province.alice)
    client.get(URL)
    counts = []
    for limit in (2, 30):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(URL, {"limit": limit}).json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5


def test_get_product(province, as_user):
    body = as_user(province.city_jinan).get(f"{URL}/{province.alice_product.uuid}").json()
    assert body["gtin"] == province.alice_product.gtin
    assert body["standard_codes"] == ["GB 2726-2016"]


def test_outsiders_cannot_read(province, as_user):
    assert_error(as_user(province.alice).get(f"{URL}/{province.bob_product.uuid}"), 404, "not_found")
    assert_error(as_user(province.city_qingdao).get(f"{URL}/{province.alice_product.uuid}"), 404, "not_found")


# --- create -----------------------------------------------------------------------------------


def new_product(province, **extra):
    return {
        "brand": str(province.alice_brand.uuid),
        "name": "泉城把子肉",
        "specification": "300g",
        "standard_codes": ["gb/t  23586-2009"],
        "gtin": make_gtin("6901234", 3),
        **extra,
    }


def test_enterprise_registers_a_product(province, as_user):
    response = send(as_user(province.alice), "post", URL, new_product(province))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["standard_codes"] == ["GB/T 23586-2009"]  # normalised
    assert body["kind"] == "goods"
    product = Product.objects.get(uuid=body["uuid"])
    audit = AuditEvent.objects.get(action="registry.product.created", target_id=str(product.pk))
    assert audit.actor_id == province.alice.pk
    assert audit.request_id == REQUEST_ID


def test_a_service_without_gtin(province, as_user):
    body = new_product(province, kind="service", name="泉城宴席定制", gtin=None, standard_codes=[])
    response = send(as_user(province.alice), "post", URL, body)
    assert response.status_code == 201, response.content
    assert response.json()["gtin"] is None


def test_outsiders_cannot_add_products(province, as_user):
    body = new_product(province, brand=str(province.bob_brand.uuid))
    assert_error(send(as_user(province.alice), "post", URL, body), 422, "validation_error", "brand")
    assert_error(
        send(as_user(province.city_qingdao), "post", URL, new_product(province)), 422, "validation_error"
    )
    assert_error(
        send(as_user(province.alice_viewer), "post", URL, new_product(province)), 403, "permission_denied"
    )
    assert not AuditEvent.objects.filter(action="registry.product.created").exists()


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"gtin": wrong_check_digit(make_gtin("6901234", 3))}, "gtin", "校验位"),
        ({"gtin": "69012"}, "gtin", "位"),
        ({"gtin": "69O1234000003"}, "gtin", "数字"),
        ({"gtin": "6" * 21}, "gtin", "20"),
        ({"standard_codes": ["ISO whatever"]}, "standard_codes", "格式"),
        ({"standard_codes": "GB 2726"}, "standard_codes", "列表"),
        ({"kind": "magic"}, "kind", "goods"),
        ({"name": ""}, "name", ""),
        ({"price": 12}, "price", "不支持"),
        ({"brand": "泉城"}, "brand", "UUID"),
    ],
)
def test_create_rejects_bad_input(province, as_user, change, field, fragment):
    response = send(as_user(province.alice), "post", URL, new_product(province, **change))
    body = assert_error(response, 422, "validation_error", field)
    assert fragment in body["details"][field]


def test_gtin_used_by_another_product(province, as_user):
    body = new_product(province, gtin=province.bob_product.gtin)
    response = send(as_user(province.alice), "post", URL, body)
    assert response.status_code in (409, 422)
    assert "条码" in response.json()["message"]


# --- patch and delete -------------------------------------------------------------------------


def test_patch_product(province, as_user):
    url = f"{URL}/{province.alice_product.uuid}"
    response = send(as_user(province.alice), "patch", url, {"specification": "1kg", "gtin": None})
    assert response.status_code == 200, response.content
    assert (response.json()["specification"], response.json()["gtin"]) == ("1kg", None)
    audit = AuditEvent.objects.get(
        action="registry.product.updated", target_id=str(province.alice_product.pk)
    )
    assert audit.new == {"specification": "1kg", "gtin": None}
    assert audit.old["specification"] == "500g"


def test_patch_guards(province, as_user):
    url = f"{URL}/{province.alice_product.uuid}"
    assert_error(send(as_user(province.city_qingdao), "patch", url, {"name": "x"}), 404, "not_found")
    assert_error(send(as_user(province.alice_viewer), "patch", url, {"name": "x"}), 403, "permission_denied")
    assert_error(send(as_user(province.alice), "patch", url, {"name": None}), 422, "validation_error", "name")
    assert_error(
        send(as_user(province.alice), "patch", url, {"brand": "x"}), 422, "validation_error", "brand"
    )
    assert not AuditEvent.objects.filter(action="registry.product.updated").exists()


def test_delete_product(province, as_user):
    url = f"{URL}/{province.alice_product.uuid}"
    assert_error(as_user(province.city_qingdao).delete(url), 404, "not_found")
    assert_error(as_user(province.alice_viewer).delete(url), 403, "permission_denied")
    assert Product.objects.filter(pk=province.alice_product.pk).exists()
    response = as_user(province.alice).delete(url, HTTP_X_REQUEST_ID=REQUEST_ID)
    assert response.status_code == 204
    assert response.content == b""
    audit = AuditEvent.objects.get(
        action="registry.product.deleted", target_id=str(province.alice_product.pk)
    )
    assert audit.old["name"] == "泉城酥锅"
    assert audit.request_id == REQUEST_ID
    assert_error(as_user(province.alice).get(url), 404, "not_found")


def test_wrong_methods(province, as_user):
    client = as_user(province.alice)
    assert_error(send(client, "put", f"{URL}/{province.alice_product.uuid}", {}), 405, "method_not_allowed")
    assert_error(client.patch(URL), 405, "method_not_allowed")
