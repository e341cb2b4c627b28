"""API: every kind of bad input is a 4xx in the one error shape, never a 5xx."""

from __future__ import annotations

import json

import pytest

from haopin.core.models import AuditEvent


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    if field is not None:
        assert field in body["details"], body
    return body


@pytest.fixture
def office(province, as_user):
    return as_user(province.office)


def writes(province):
    return [
        ("post", "/api/v1/enterprises"),
        ("patch", f"/api/v1/enterprises/{province.alice_ent.uuid}"),
        ("post", "/api/v1/brands"),
        ("patch", f"/api/v1/brands/{province.alice_brand.uuid}"),
        ("put", f"/api/v1/brands/{province.alice_brand.uuid}/sources/chtb"),
        ("post", "/api/v1/products"),
        ("patch", f"/api/v1/products/{province.alice_product.uuid}"),
    ]


@pytest.mark.parametrize(
    "raw",
    [b'{"name": ', b"{'name': 'x'}", b"\xff\xfe\x00{", b"name=x", b'{"name": "x",}', b"NaN-ish"],
)
def test_malformed_json_is_400_on_every_write(province, office, raw):
    for method, url in writes(province):
        response = getattr(office, method)(url, data=raw, content_type="application/json")
        body = assert_error(response, 400, "malformed_json")
        assert "body" in body["details"]
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null"])
def test_body_that_is_not_an_object_is_422(province, office, raw):
    for method, url in writes(province):
        response = getattr(office, method)(url, data=raw, content_type="application/json")
        assert_error(response, 422, "validation_error")


def test_unknown_fields_are_rejected_on_every_write(province, office):
    for method, url in writes(province):
        response = getattr(office, method)(
            url, data=json.dumps({"secret": 1}), content_type="application/json"
        )
        body = assert_error(response, 422, "validation_error", "secret")
        assert body["details"]["secret"] == "不支持此字段。"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [('"\\u0000"', "控制"), ('"\\ud800"', "控制"), ('"a\\u0007b"', "控制"), ('"a\\nb"', "控制")],
)
def test_text_that_cannot_be_stored_is_422(province, office, text, fragment):
    url = f"/api/v1/brands/{province.alice_brand.uuid}"
    response = office.patch(url, data=f'{{"name": {text}}}', content_type="application/json")
    body = assert_error(response, 422, "validation_error", "name")
    assert fragment in body["details"]["name"]


def test_multiline_text_is_allowed_in_descriptions(province, office):
    url = f"/api/v1/brands/{province.alice_brand.uuid}"
    response = office.patch(
        url, data='{"description": "第一行\\r\\n第二行\\t"}', content_type="application/json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"year": 2006.5}, "year"),
        ({"year": 10**40}, "year"),
        ({"year": True}, "year"),
        ({"certificate_number": 12}, "certificate_number"),
        ({"document": "doc-1"}, "document"),
    ],
)
def test_wrong_types_are_422(province, office, body, field):
    url = f"/api/v1/brands/{province.alice_brand.uuid}/sources/chtb"
    assert_error(
        office.put(url, data=json.dumps(body), content_type="application/json"),
        422,
        "validation_error",
        field,
    )


def test_huge_offset_is_422_not_a_database_error(office):
    assert_error(office.get("/api/v1/brands", {"offset": 10**19}), 422, "validation_error", "offset")


def test_oversized_body_is_413(province, office):
    body = json.dumps({"description": "长" * (6 * 1024 * 1024 // 3)})
    url = f"/api/v1/brands/{province.alice_brand.uuid}"
    assert_error(office.patch(url, data=body, content_type="application/json"), 413, "too_large")


def test_validation_messages_in_english_when_asked(province, office):
    url = f"/api/v1/brands/{province.alice_brand.uuid}"
    response = office.patch(
        url,
        data=json.dumps({"name": "x" * 101, "colour": "red"}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = assert_error(response, 422, "validation_error")
    assert body["details"] == {"name": "Too long (at most 100 characters).", "colour": "Unknown field."}
    assert body["message"] == "Invalid request: name Too long (at most 100 characters)."
    response = office.patch(url, data="{", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert assert_error(response, 400, "malformed_json")["message"] == "The request body is not valid JSON."


def test_validation_messages_in_chinese_by_default(province, office):
    url = f"/api/v1/brands/{province.alice_brand.uuid}"
    response = office.patch(url, data=json.dumps({"name": "x" * 101}), content_type="application/json")
    body = assert_error(response, 422, "validation_error", "name")
    assert body["message"] == "请求内容不正确：name 内容过长（最多 100 个字符）。"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/", "/api/v2/brands", "/api/nothing"])
def test_api_paths_outside_the_router_answer_in_the_api_shape(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and response.json()["message"]


@pytest.mark.django_db
def test_other_paths_keep_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
