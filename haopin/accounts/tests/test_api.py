"""API: health, tokens for username and password (with brute-force throttling), /me, docs."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from conftest import PASSWORD
from haopin.accounts import services
from haopin.accounts.api import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS
from haopin.accounts.models import ApiToken
from haopin.core.models import AuditEvent

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def post_json(client, url, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    return body


# --- health -----------------------------------------------------------------------------------


def test_health_needs_no_database_and_no_login(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_wrong_method(client):
    response = client.post("/api/v1/health")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


# --- tokens -----------------------------------------------------------------------------------


def test_token_for_password_then_me_with_bearer(province, client):
    response = post_json(client, TOKEN_URL, {"username": "alice", "password": PASSWORD, "name": "数据同步"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "数据同步"
    assert re.fullmatch(r"hp_[0-9a-f]{8}_[A-Za-z0-9_-]+", body["token"])
    token = ApiToken.objects.get(user=province.alice)
    assert token.digest != body["token"]  # only the digest is stored
    audit = AuditEvent.objects.get(action="accounts.token.created", target_id=str(token.pk))
    assert audit.actor_id == province.alice.pk

    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["organisation"]["name"] == "泉城食品有限公司"


def test_token_default_name_and_expiry(province, client):
    body = post_json(client, TOKEN_URL, {"username": "bob", "password": PASSWORD, "days": 30}).json()
    assert body["name"].startswith("api-")
    assert body["expires_at"] is not None


def test_wrong_password(province, client):
    body = assert_error(
        post_json(client, TOKEN_URL, {"username": "alice", "password": "wrong"}), 400, "invalid_credentials"
    )
    assert body["message"] == "用户名或密码不正确。"
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token(province, client):
    province.alice.is_active = False
    province.alice.save()
    assert_error(
        post_json(client, TOKEN_URL, {"username": "alice", "password": PASSWORD}), 400, "invalid_credentials"
    )


def test_password_guessing_is_throttled_per_account_and_address(province, client):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        post_json(client, TOKEN_URL, {"username": "alice", "password": "guess"})
    # Even the right password is refused now, from this address...
    response = post_json(client, TOKEN_URL, {"username": "Alice ", "password": PASSWORD})
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # ...but alice at her own desk is not locked out, nor is bob from here.
    other = post_json(client, TOKEN_URL, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 201
    assert post_json(client, TOKEN_URL, {"username": "bob", "password": PASSWORD}).status_code == 201


def test_one_address_cannot_walk_through_usernames(province, client):
    for n in range(MAX_FAILURES_PER_ADDRESS):
        post_json(client, TOKEN_URL, {"username": f"user{n}", "password": "guess"})
    assert_error(post_json(client, TOKEN_URL, {"username": "bob", "password": PASSWORD}), 429, "throttled")


def test_success_resets_the_account_counter(province, client):
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        post_json(client, TOKEN_URL, {"username": "alice", "password": "guess"})
    assert post_json(client, TOKEN_URL, {"username": "alice", "password": PASSWORD}).status_code == 201
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        post_json(client, TOKEN_URL, {"username": "alice", "password": "guess"})
    assert post_json(client, TOKEN_URL, {"username": "alice", "password": PASSWORD}).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"username": "alice"}, 422, "validation_error", "password"),
        ({"username": "alice", "password": PASSWORD, "scope": "all"}, 422, "validation_error", "scope"),
        ({"username": ["alice"], "password": PASSWORD}, 422, "validation_error", "username"),
        ({"username": "alice", "password": PASSWORD, "days": 0}, 422, "validation_error", "days"),
        ({"username": "alice", "password": PASSWORD, "days": 10**30}, 422, "validation_error", "days"),
        ({"username": "a" * 151, "password": PASSWORD}, 422, "validation_error", "username"),
        ({"username": "ali\x00ce", "password": PASSWORD}, 422, "validation_error", "username"),
        ('{"username": "alice", "password": ', 400, "malformed_json", None),
        ("[1, 2]", 422, "validation_error", "__all__"),
        ("", 422, "validation_error", "__all__"),
    ],
)
def test_token_bad_input(province, client, body, status, code, field):
    response = post_json(client, TOKEN_URL, body)
    payload = assert_error(response, status, code)
    if field:
        assert field in payload["details"]
    assert not ApiToken.objects.exists()


def test_duplicate_token_name(province, client):
    body = {"username": "alice", "password": PASSWORD, "name": "同步"}
    assert post_json(client, TOKEN_URL, body).status_code == 201
    assert_error(post_json(client, TOKEN_URL, body), 422, "validation_error")


def test_token_endpoint_wrong_method(client):
    assert_error(client.get(TOKEN_URL), 405, "method_not_allowed")


# --- me ---------------------------------------------------------------------------------------


def test_me_with_session(province, as_user):
    body = as_user(province.city_jinan).get("/api/v1/me").json()
    assert body == {
        "username": "city-jinan",
        "full_name": "city-jinan",
        "organisation": {
            "uuid": str(province.jinan_org.uuid),
            "name": "济南市市场监督管理局",
            "kind": "city_bureau",
            "status": "active",
            "region": "370100",
        },
        "roles": ["staff"],
        "scope": "region",
        "can_write": True,
    }


def test_me_roles(province, as_user):
    assert as_user(province.alice_viewer).get("/api/v1/me").json()["can_write"] is False
    expert = as_user(province.expert).get("/api/v1/me").json()
    assert (expert["roles"], expert["scope"], expert["organisation"]) == (["expert"], "none", None)
    admin = as_user(province.admin).get("/api/v1/me").json()
    assert admin["roles"] == ["platform_admin"] and admin["scope"] == "all"


def test_me_unauthenticated(province, client):
    response = client.get("/api/v1/me")
    assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer hp_nope_nope"), 401, "unauthenticated")


def test_revoked_and_expired_tokens_are_refused(province, client):
    token, raw = services.token_create(actor=province.bob, name="短期")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    services.token_revoke(actor=province.bob, token=token)
    assert_error(client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}"), 401, "unauthenticated")


def test_session_writes_need_the_csrf_token(province):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(province.alice)
    url = f"/api/v1/products/{province.alice_product.uuid}"
    response = client.patch(url, data=json.dumps({"specification": "1kg"}), content_type="application/json")
    assert_error(response, 403, "csrf_failed")
    client.get("/api/v1/docs")  # sets the CSRF cookie, as the docs page does for its own calls
    token = client.cookies["csrftoken"].value
    response = client.patch(
        url,
        data=json.dumps({"specification": "1kg"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


def test_me_wrong_method(province, as_user):
    assert_error(as_user(province.alice).post("/api/v1/me"), 405, "method_not_allowed")


def test_english_messages_when_asked(client):
    body = assert_error(
        client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"), 401, "unauthenticated"
    )
    assert body["message"].startswith("Sign in")
    body = assert_error(
        client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"), 401, "unauthenticated"
    )
    assert "令牌" in body["message"]


# --- schema and docs --------------------------------------------------------------------------


def test_openapi_schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "好品山东 API"
    for path in (
        "/api/v1/health",
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/brands/{uuid}/sources/{programme}",
    ):
        assert path in schema["paths"]
    assert_error(client.post("/api/v1/openapi.json"), 405, "method_not_allowed")


def test_docs_page_is_offline_and_has_no_inline_script(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "https://" not in html and "http://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    executable = [(attrs, body) for attrs, body in scripts if 'type="application/json"' not in attrs]
    assert executable and all("src=" in attrs and not body.strip() for attrs, body in executable)
    assert " style=" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    for src in re.findall(r'(?:src|href)="(/api/v1/docs/assets/[^"]+)"', html):
        asset = client.get(src)
        assert asset.status_code == 200, src
        content = b"".join(asset.streaming_content)
        assert b"cdn.jsdelivr" not in content
    assert_error(client.get("/api/v1/docs/assets/redoc.standalone.js"), 404, "path_not_found")
    assert_error(client.get("/api/v1/docs/assets/..%2F..%2Fmain.py"), 404, "path_not_found")


def test_unknown_api_paths_are_404_in_the_error_shape(client):
    for path in ("/api/v1/", "/api/v1/brandz", "/api/v1/brands/x/y/z", "/api/v1/enterprises/"):
        body = assert_error(client.get(path), 404, "path_not_found")
        assert body["details"]["path"] == path
    assert_error(client.delete("/api/v1/nothing"), 404, "path_not_found")
