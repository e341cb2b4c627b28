"""API: certificates — the public verification by number (anonymous; a typo is a 422, an unknown
number a 404), the published lists, the certificates in each caller's scope, and the office's
status changes with reasons."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haopin.certificates.models import Certificate, CertificateEvent
from haopin.certificates.tests import test_services as shared
from haopin.certificates.tests.factories import application, batch
from haopin.core import numbering
from haopin.core.models import AuditEvent
from haopin.evaluation.models import Application, Batch

API = "/api/v1"

clock = shared.clock
published = shared.published
certificates = shared.certificates
alice_cert = shared.alice_cert


def send(client, method, path, body=None):
    if body is None:
        return client.generic(method.upper(), f"{API}{path}")
    return client.generic(method.upper(), f"{API}{path}", json.dumps(body), content_type="application/json")


def ok(response, status=200):
    assert response.status_code == status, response.content.decode()[:1000]
    return response.json()


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content.decode()[:1000]
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["message"], body
    if field is not None:
        assert field in body["details"], body
    return body


def typo(number):
    return number[:-1] + ("A" if number[-1] != "A" else "B")


# --- the public record --------------------------------------------------------------------------------


def test_anyone_verifies_a_certificate(client, alice_cert):
    body = ok(client.get(f"{API}/certificates/{alice_cert.number}"))
    assert (body["number"], body["status"], body["status_label"]) == (alice_cert.number, "valid", "有效")
    assert body["holder"] == {"name": "泉城食品有限公司", "uscc": alice_cert.enterprise.uscc}
    assert body["brand"] == {"name": "泉城", "brand_type": {"code": "product", "name": "产品品牌"}}
    assert body["products"] == ["泉城酥锅 500g"] and "泉城酥锅" in body["scope"]
    assert (body["valid_from"], body["valid_until"]) == ("2025-06-18", "2028-06-17")
    assert [h["to_status"] for h in body["history"]] == ["valid"]
    assert body["verify_url"].endswith(f"/certificates/verify/{alice_cert.number}/")
    assert set(body) == {
        "number",
        "status",
        "status_label",
        "status_reason",
        "holder",
        "brand",
        "scope",
        "products",
        "logo_licence",
        "issued_on",
        "valid_from",
        "valid_until",
        "batch",
        "history",
        "verify_url",
    }


def test_a_typo_is_422_and_an_unknown_number_404(client, alice_cert):
    body = assert_error(
        client.get(f"{API}/certificates/{typo(alice_cert.number)}"), 422, "invalid_number", "number"
    )
    assert "校验位不符" in body["message"]
    assert_error(client.get(f"{API}/certificates/{numbering.with_check('HP2025999999')}"), 404, "not_found")
    assert_error(client.get(f"{API}/certificates/HP*"), 422, "validation_error", "number")
    spaced = f"{alice_cert.number[:6].lower()} {alice_cert.number[6:]}"
    assert ok(client.get(f"{API}/certificates/{spaced}"))["number"] == alice_cert.number
    assert_error(client.post(f"{API}/certificates/{alice_cert.number}"), 405, "method_not_allowed")


def test_the_public_record_costs_a_fixed_number_of_queries(client, alice_cert, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        ok(client.get(f"{API}/certificates/{alice_cert.number}"))


def test_anyone_reads_the_published_lists(client, province, certificates, published):
    the_batch = published[0]
    batch(sequence=4, status=Batch.Status.REVIEWING)  # not published: not listed
    listing = ok(client.get(f"{API}/published-lists"))
    assert [(i["batch"]["uuid"], i["brands"]) for i in listing["items"]] == [(str(the_batch.uuid), 2)]
    body = ok(client.get(f"{API}/published-lists/{the_batch.uuid}"))
    assert [(b["brand"], b["certificate"], b["certificate_status"]) for b in body["brands"]] == [
        ("泉城", certificates["泉城"].number, "valid"),
        ("崂山绿茶", certificates["崂山"].number, "valid"),
    ]
    assert body["brands"][1]["category"] == {"code": "10501", "name": "茶叶"}
    unpublished = Batch.objects.get(sequence=4)
    assert_error(client.get(f"{API}/published-lists/{unpublished.uuid}"), 404, "not_found")


# --- the signed-in list -------------------------------------------------------------------------------


def numbers(response):
    return sorted(c["number"] for c in ok(response)["items"])


def test_each_caller_sees_their_scope(province, as_user, certificates):
    everything = sorted(c.number for c in certificates.values())
    assert numbers(as_user(province.office).get(f"{API}/certificates")) == everything
    assert numbers(as_user(province.alice).get(f"{API}/certificates")) == [certificates["泉城"].number]
    assert numbers(as_user(province.city_qingdao).get(f"{API}/certificates")) == [certificates["崂山"].number]
    assert numbers(as_user(province.dept_agri).get(f"{API}/certificates")) == [certificates["崂山"].number]
    assert numbers(as_user(province.expert).get(f"{API}/certificates")) == []
    client = as_user(province.office)
    assert numbers(client.get(f"{API}/certificates", {"q": "崂山"})) == [certificates["崂山"].number]
    assert numbers(client.get(f"{API}/certificates", {"status": "revoked"})) == []
    assert_error(client.get(f"{API}/certificates", {"status": "lost"}), 422, "validation_error", "status")


def test_the_list_is_for_signed_in_callers(client, certificates):
    assert_error(client.get(f"{API}/certificates"), 401, "unauthenticated")


def test_the_list_costs_the_same_whatever_the_page_size(province, as_user, certificates):
    for sequence in range(10, 18):  # one live application per brand and batch
        the_batch = batch(sequence=sequence, status=Batch.Status.PUBLISHED)
        application(province, the_batch, who="alice", status=Application.Status.PUBLISHED)
        shared.services.certificates_issue_for_batch(actor=province.office, batch=the_batch)
    client = as_user(province.office)
    client.get(f"{API}/certificates")
    counts = []
    for limit in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            assert len(ok(client.get(f"{API}/certificates", {"limit": limit}))["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5


# --- the office's status changes ------------------------------------------------------------------


def test_the_office_suspends_and_restores_with_reasons(province, as_user, client, alice_cert):
    office = as_user(province.office)
    actions = ok(office.get(f"{API}/certificates/{alice_cert.number}/actions"))
    assert [a["action"] for a in actions] == ["suspend", "revoke", "withdraw"]
    assert all(a["needs"] == ["reason"] for a in actions)
    body = ok(
        send(
            office,
            "post",
            f"/certificates/{alice_cert.number}/actions/suspend",
            {"reason": "抽检不合格，限期整改。"},
        )
    )
    assert (body["status"], body["status_reason"]) == ("suspended", "抽检不合格，限期整改。")
    assert [h["to_status"] for h in body["history"]] == ["valid", "suspended"]
    event = AuditEvent.objects.get(action="certificates.certificate.suspended")
    assert (event.old, event.new["reason"]) == ({"status": "valid"}, "抽检不合格，限期整改。")
    body = ok(
        send(
            office,
            "post",
            f"/certificates/{alice_cert.number}/actions/restore",
            {"reason": "整改完成。", "expected_status": "suspended"},
        )
    )
    assert body["status"] == "valid"
    client.logout()
    assert [h["to_status"] for h in ok(client.get(f"{API}/certificates/{alice_cert.number}"))["history"]] == [
        "valid",
        "suspended",
        "valid",
    ]


@pytest.mark.parametrize(
    ("who", "action", "body", "status", "code"),
    [
        ("office", "restore", {"reason": "本来就有效"}, 409, "illegal_transition"),
        ("office", "expire", {"reason": "手动过期"}, 422, "unknown_action"),
        ("office", "suspend", {"reason": ""}, 422, "validation_error"),
        ("office", "suspend", {}, 422, "validation_error"),
        ("office", "suspend", {"reason": "看错了", "expected_status": "suspended"}, 409, "stale_status"),
        ("office_viewer", "suspend", {"reason": "只读"}, 403, "permission_denied"),
        ("alice", "withdraw", {"reason": "持证人自己不能注销"}, 403, "permission_denied"),
        ("admin", "revoke", {"reason": "平台管理员不作决定"}, 403, "permission_denied"),
        ("bob", "suspend", {"reason": "别人的证书"}, 404, "not_found"),
        ("city_qingdao", "suspend", {"reason": "区域外"}, 404, "not_found"),
    ],
)
def test_refused_status_changes_change_nothing(
    province, as_user, alice_cert, who, action, body, status, code
):
    response = send(
        as_user(getattr(province, who)), "post", f"/certificates/{alice_cert.number}/actions/{action}", body
    )
    assert_error(response, status, code)
    alice_cert.refresh_from_db()
    assert alice_cert.status == Certificate.Status.VALID
    assert CertificateEvent.objects.filter(certificate=alice_cert).count() == 1
    assert not AuditEvent.objects.filter(action__in=["certificates.certificate.suspended"]).exists()


def test_actions_are_listed_only_to_who_may_see_the_certificate(province, as_user, alice_cert):
    assert ok(as_user(province.alice).get(f"{API}/certificates/{alice_cert.number}/actions")) == []
    assert_error(
        as_user(province.bob).get(f"{API}/certificates/{alice_cert.number}/actions"), 404, "not_found"
    )
