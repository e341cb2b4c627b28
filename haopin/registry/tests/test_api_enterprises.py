"""API: enterprises — list, read, create, partial update, within the registry policy."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haopin.core.models import AuditEvent, Region
from haopin.registry.models import Enterprise
from haopin.registry.validation import make_uscc

URL = "/api/v1/enterprises"
REQUEST_ID = "req-enterprise-0001"


def send(client, method, path, body=None, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body) if body is not None else None
    kwargs = {"content_type": "application/json"} if data is not None else {}
    return getattr(client, method)(path, data=data, HTTP_X_REQUEST_ID=REQUEST_ID, **headers, **kwargs)


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    if field is not None:
        assert field in body["details"], body
    return body


def event(action, obj):
    return AuditEvent.objects.get(action=action, target_id=str(obj.pk))


# --- list -------------------------------------------------------------------------------------


def test_office_lists_all_enterprises_with_count(province, as_user):
    response = as_user(province.office).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {e["name"] for e in body["items"]} == {
        "泉城食品有限公司",
        "崂山茶业有限公司",
        "历城新材料有限公司",
    }
    alice = next(e for e in body["items"] if e["uscc"] == province.alice_ent.uscc)
    assert alice["region"] == {"code": "370102", "name": "历下区"}
    assert alice["city"] == {"code": "370100", "name": "济南市"}


def test_city_sees_only_its_region(province, as_user):
    body = as_user(province.city_jinan).get(URL).json()
    assert {e["uscc"] for e in body["items"]} == {province.alice_ent.uscc, province.carol_ent.uscc}


def test_enterprise_sees_only_itself(province, as_user):
    body = as_user(province.alice).get(URL).json()
    assert [e["uuid"] for e in body["items"]] == [str(province.alice_ent.uuid)]
    assert body["count"] == 1


def test_list_filters_and_pagination(province, as_user):
    client = as_user(province.office)
    assert [e["name"] for e in client.get(URL, {"region": "370212"}).json()["items"]] == ["崂山茶业有限公司"]
    assert client.get(URL, {"region": "370100"}).json()["count"] == 2
    assert client.get(URL, {"q": "泉城"}).json()["count"] == 1
    assert client.get(URL, {"q": province.bob_ent.uscc[-6:].lower()}).json()["count"] == 1
    assert client.get(URL, {"size": "medium"}).json()["count"] == 1
    assert client.get(URL, {"industry": "c15"}).json()["count"] == 1
    page = client.get(URL, {"limit": 1, "offset": 1}).json()
    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (3, 1, 1, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"region": "379999"}, "region"),
        ({"region": "jinan"}, "region"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "ten"}, "limit"),
        ({"size": "huge"}, "size"),
        ({"q": "x" * 101}, "q"),
        ({"q": "泉\x00城"}, "q"),
    ],
)
def test_list_rejects_bad_filters(province, as_user, params, field):
    assert_error(as_user(province.office).get(URL, params), 422, "validation_error", field)


def test_list_query_count_does_not_grow_with_page_size(province, as_user):
    for serial in range(10, 40):
        Enterprise.objects.create(
            uscc=make_uscc("370102", serial), name=f"企业{serial}", region=province.lixia
        )
    client = as_user(province.office)
    client.get(URL)  # the session and the scope are loaded once per request either way
    counts = []
    for limit in (2, 30):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(URL, {"limit": limit, "region": "370100"}).json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6


# --- read -------------------------------------------------------------------------------------


def test_get_enterprise(province, as_user):
    response = as_user(province.alice).get(f"{URL}/{province.alice_ent.uuid}")
    assert response.status_code == 200
    assert response.json()["legal_representative"] == "李明"


def test_outsiders_cannot_read(province, as_user):
    assert_error(as_user(province.alice).get(f"{URL}/{province.bob_ent.uuid}"), 404, "not_found")
    assert_error(as_user(province.city_qingdao).get(f"{URL}/{province.alice_ent.uuid}"), 404, "not_found")
    assert_error(as_user(province.expert).get(f"{URL}/{province.alice_ent.uuid}"), 404, "not_found")


def test_get_bad_uuid_is_422_and_unknown_is_404(province, as_user):
    client = as_user(province.office)
    assert_error(client.get(f"{URL}/not-a-uuid"), 422, "validation_error", "uuid")
    assert_error(client.get(f"{URL}/00000000-0000-0000-0000-000000000000"), 404, "not_found")


def test_unauthenticated_is_401(province, client):
    body = assert_error(client.get(URL), 401, "unauthenticated")
    assert "令牌" in body["message"]


# --- create -----------------------------------------------------------------------------------


def wrong_check_character(code: str) -> str:
    return code[:-1] + ("1" if code[-1] == "0" else "0")


def new_enterprise(**extra):
    return {
        "uscc": make_uscc("370102", 777),
        "name": "历下精工机械有限公司",
        "region": "370102",
        "legal_representative": "赵强",
        "founded_on": "2015-03-20",
        "industry_code": "C34",
        "size": "small",
        "contact_phone": "0531-88886666",
        **extra,
    }


def test_city_creates_enterprise_in_its_region(province, as_user):
    response = send(as_user(province.city_jinan), "post", URL, new_enterprise())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["founded_on"] == "2015-03-20"
    assert body["region"]["code"] == "370102"
    enterprise = Enterprise.objects.get(uuid=body["uuid"])
    audit = event("registry.enterprise.created", enterprise)
    assert audit.actor_id == province.city_jinan.pk
    assert audit.request_id == REQUEST_ID
    assert audit.new["name"] == "历下精工机械有限公司"


def test_city_cannot_create_outside_its_region(province, as_user):
    response = send(as_user(province.city_qingdao), "post", URL, new_enterprise())
    assert_error(response, 403, "permission_denied")
    assert not Enterprise.objects.filter(name="历下精工机械有限公司").exists()


@pytest.mark.parametrize("persona", ["office_viewer", "alice", "expert"])
def test_read_only_and_enterprises_cannot_create(province, as_user, persona):
    response = send(as_user(getattr(province, persona)), "post", URL, new_enterprise())
    assert_error(response, 403, "permission_denied")
    assert not AuditEvent.objects.filter(action="registry.enterprise.created").exists()


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"uscc": wrong_check_character(make_uscc("370102", 777))}, "uscc", "校验位"),
        ({"uscc": "91370102"}, "uscc", "18 位"),
        ({"region": "370199"}, "region", "未知"),
        ({"region": "370100"}, "region", "县"),
        ({"founded_on": "2015-13-01"}, "founded_on", "YYYY-MM-DD"),
        ({"founded_on": "20 March 2015"}, "founded_on", "YYYY-MM-DD"),
        ({"industry_code": "X99"}, "industry_code", "行业代码"),
        ({"contact_phone": "12345"}, "contact_phone", "联系电话"),
        ({"contact_email": "not-an-email"}, "contact_email", ""),
        ({"size": "giant"}, "size", ""),
        ({"name": "名" * 101}, "name", "100"),
        ({"name": 42}, "name", "文本"),
        ({"nickname": "x"}, "nickname", "不支持"),
        ({"name": "历下\x00机械"}, "name", "控制字符"),
    ],
)
def test_create_rejects_bad_input(province, as_user, change, field, fragment):
    response = send(as_user(province.city_jinan), "post", URL, new_enterprise(**change))
    body = assert_error(response, 422, "validation_error", field)
    assert fragment in body["details"][field]
    assert not AuditEvent.objects.filter(action="registry.enterprise.created").exists()


def test_create_rejects_duplicate_credit_code(province, as_user):
    response = send(as_user(province.office), "post", URL, new_enterprise(uscc=province.bob_ent.uscc.lower()))
    body = assert_error(response, 422, "validation_error", "uscc")
    assert "已登记" in body["message"]


def test_create_requires_fields(province, as_user):
    body = assert_error(send(as_user(province.office), "post", URL, {}), 422, "validation_error")
    assert {"uscc", "name", "region"} <= set(body["details"])


# --- partial update ---------------------------------------------------------------------------


def test_enterprise_updates_its_own_record(province, as_user):
    url = f"{URL}/{province.alice_ent.uuid}"
    response = send(
        as_user(province.alice), "patch", url, {"address": "济南市历下区泉城路 1 号", "founded_on": None}
    )
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "济南市历下区泉城路 1 号"
    assert response.json()["legal_representative"] == "李明"  # untouched
    audit = event("registry.enterprise.updated", province.alice_ent)
    assert audit.old == {"address": ""}
    assert audit.new == {"address": "济南市历下区泉城路 1 号"}
    assert audit.request_id == REQUEST_ID


def test_patch_without_changes_writes_no_event(province, as_user):
    url = f"{URL}/{province.alice_ent.uuid}"
    assert send(as_user(province.alice), "patch", url, {"legal_representative": "李明"}).status_code == 200
    assert not AuditEvent.objects.filter(action="registry.enterprise.updated").exists()


def test_other_city_cannot_patch(province, as_user):
    url = f"{URL}/{province.alice_ent.uuid}"
    assert_error(send(as_user(province.city_qingdao), "patch", url, {"name": "改名"}), 404, "not_found")
    assert_error(send(as_user(province.bob), "patch", url, {"name": "改名"}), 404, "not_found")
    province.alice_ent.refresh_from_db()
    assert province.alice_ent.name == "泉城食品有限公司"


def test_read_only_member_cannot_patch(province, as_user):
    url = f"{URL}/{province.alice_ent.uuid}"
    assert_error(
        send(as_user(province.alice_viewer), "patch", url, {"name": "改名"}), 403, "permission_denied"
    )
    assert not AuditEvent.objects.filter(action="registry.enterprise.updated").exists()


def test_department_sees_but_cannot_change_enterprises(province, as_user):
    url = f"{URL}/{province.bob_ent.uuid}"
    client = as_user(province.dept_agri)
    assert client.get(url).status_code == 200
    assert_error(send(client, "patch", url, {"name": "改名"}), 403, "permission_denied")


def test_city_cannot_move_an_enterprise_out_of_its_region(province, as_user):
    url = f"{URL}/{province.alice_ent.uuid}"
    response = send(as_user(province.city_jinan), "patch", url, {"region": "370212"})
    assert_error(response, 403, "permission_denied")
    assert send(as_user(province.city_jinan), "patch", url, {"region": "370112"}).status_code == 200
    assert Enterprise.objects.get(pk=province.alice_ent.pk).region == Region.objects.get(code="370112")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"uscc": make_uscc("370102", 9)}, "uscc"),
        ({"region": None}, "region"),
        ({"founded_on": "yesterday"}, "founded_on"),
        ({"size": None}, "size"),
    ],
)
def test_patch_rejects_bad_input(province, as_user, body, field):
    url = f"{URL}/{province.alice_ent.uuid}"
    assert_error(send(as_user(province.alice), "patch", url, body), 422, "validation_error", field)


def test_wrong_methods_are_405_in_the_error_shape(province, as_user):
    client = as_user(province.office)
    response = send(client, "put", f"{URL}/{province.alice_ent.uuid}", {"name": "x"})
    body = assert_error(response, 405, "method_not_allowed")
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    assert body["details"]["method"] == "PUT"
    assert_error(client.delete(URL), 405, "method_not_allowed")
