"""API: the public notices and objections — anonymous reading and lodging (with the rate limit and
the refusal of duplicates), the public lookup by number (never contact details), and the
office's side: objections with contact details, their evidence, and the answer."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from haopin.core import numbering
from haopin.core.models import AuditEvent
from haopin.evaluation import notices
from haopin.evaluation.models import Application, Objection
from haopin.evaluation.tests import test_notices as shared
from haopin.evaluation.tests.test_api_applications import assert_error, events, ok, send, typo

A = Application.Status
API = "/api/v1"
PDF = shared.PDF

_calendar_and_cache = shared._calendar_and_cache
clock = shared.clock
candidates = shared.candidates
notice = shared.notice


def form(candidate, **values):
    values.setdefault("application", candidate.number)
    values.setdefault("name", "张三")
    values.setdefault("phone", "13800138000")
    values.setdefault("content", "该企业近三年曾因产品抽检不合格被通报，与申报承诺不符。")
    return values


def lodge_url(the_notice):
    return f"{API}/notices/{the_notice.uuid}/objections"


@pytest.fixture
def objection(candidates, notice):
    return shared.lodge(candidates[2], email="zhangsan@example.com", evidence=io.BytesIO(PDF))


# --- reading the notice -----------------------------------------------------------------------------


def test_anyone_reads_the_notices(client, candidates, notice, objection):
    listing = ok(client.get(f"{API}/notices"))
    assert [n["uuid"] for n in listing["items"]] == [str(notice.uuid)]
    assert listing["items"][0]["batch"]["title"] == candidates[0].title
    body = ok(client.get(f"{API}/notices/{notice.uuid}"))
    assert body["title"] == notice.title and body["body"] == notice.body and body["status"] == "open"
    assert [(c["number"], c["removed"]) for c in body["candidates"]] == [
        (candidates[1].number, False),
        (candidates[2].number, False),
    ]
    assert body["candidates"][0]["region"]["code"] == "370102"
    (public,) = body["objections"]
    assert public == {
        "number": objection.number,
        "application": candidates[2].number,
        "brand": "崂山绿茶",
        "enterprise": "崂山茶业有限公司",
        "status": "open",
        "status_label": "待调查",
    }
    assert_error(client.get(f"{API}/notices/00000000-0000-0000-0000-000000000000"), 404, "not_found")
    assert_error(client.delete(f"{API}/notices"), 405, "method_not_allowed")
    assert_error(client.get(lodge_url(notice)), 405, "method_not_allowed")


# --- lodging an objection ---------------------------------------------------------------------------


def test_anyone_lodges_an_objection_with_evidence(client, candidates, notice):
    evidence = io.BytesIO(PDF)
    evidence.name = "通报.pdf"
    response = client.post(
        lodge_url(notice), {**form(candidates[1], email="a@example.com"), "evidence": evidence}
    )
    body = ok(response, 201)
    assert numbering.is_valid(body["number"]) and body["number"].startswith("YY2025")
    assert (body["application"], body["status"]) == (candidates[1].number, "open")
    assert "phone" not in body and "name" not in body
    objection = Objection.objects.get()
    assert (objection.name, objection.phone, objection.email) == ("张三", "13800138000", "a@example.com")
    assert objection.evidence and objection.evidence_sha256
    event = AuditEvent.objects.get(action="evaluation.objection.lodged")
    assert event.actor is None and "13800138000" not in str(event.new) and "张三" not in str(event.new)


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"phone": "12345"}, 422, "validation_error", "phone"),
        ({"content": "不好"}, 422, "validation_error", "content"),
        ({"name": ""}, 422, "validation_error", "name"),
        ({"email": "not-an-email"}, 422, "validation_error", "email"),
        ({"application": "SQ!"}, 422, "validation_error", "application"),
        ({"application": numbering.with_check("SQ2025999999")}, 422, "validation_error", "application"),
        ({"content": "含有\x00控制字符的异议内容，不能保存。"}, 422, "validation_error", "content"),
    ],
)
def test_bad_objections_are_refused(client, candidates, notice, changes, status, code, field):
    assert_error(client.post(lodge_url(notice), form(candidates[1], **changes)), status, code, field)
    assert not Objection.objects.exists() and not events("evaluation.objection.lodged")


def test_a_mistyped_application_number_says_so(client, candidates, notice):
    body = assert_error(
        client.post(lodge_url(notice), form(candidates[1], application=typo(candidates[1].number))),
        422,
        "invalid_number",
        "application",
    )
    assert "校验位不符" in body["message"]


def test_evidence_must_be_a_pdf_or_an_image(client, candidates, notice):
    fake = io.BytesIO(b"MZ\x90\x00 an executable")
    fake.name = "证据.pdf"
    assert_error(
        client.post(lodge_url(notice), {**form(candidates[1]), "evidence": fake}),
        422,
        "validation_error",
        "file",
    )
    response = client.post(lodge_url(notice), b"--broken", content_type="multipart/form-data")
    assert_error(response, 400, "malformed_multipart")
    assert not Objection.objects.exists()


def test_duplicates_and_floods_are_refused(client, candidates, notice):
    ok(client.post(lodge_url(notice), form(candidates[1])), 201)
    again = form(candidates[1], content="  该企业近三年曾因产品抽检不合格被通报，\n与申报承诺不符。")
    body = assert_error(client.post(lodge_url(notice), again), 409, "duplicate_objection")
    assert Objection.objects.get().number in body["message"]
    for n in range(notices.LODGE_LIMIT - 1):
        ok(
            client.post(
                lodge_url(notice), form(candidates[2], content=f"第{n}件：该品牌的宣传与实际不符，请核查。")
            ),
            201,
        )
    flood = client.post(
        lodge_url(notice), form(candidates[2], content="再来一件：该品牌的宣传与实际不符，请核查。")
    )
    assert_error(flood, 429, "rate_limited")
    assert Objection.objects.count() == notices.LODGE_LIMIT


def test_objections_close_with_the_notice(client, candidates, notice, clock):
    after = notice.ends_on + dt.timedelta(days=1)
    clock.move_to(shared.at(after.year, after.month, after.day))
    assert_error(client.post(lodge_url(notice), form(candidates[1])), 422, "notice_ended")
    assert not Objection.objects.exists()


# --- looking one up -----------------------------------------------------------------------------------


def test_anyone_looks_an_objection_up_without_contact_details(client, objection, candidates):
    body = ok(client.get(f"{API}/objections/{objection.number.lower()}"))
    assert body["number"] == objection.number and body["status"] == "open"
    assert set(body) == {"number", "application", "brand", "enterprise", "status", "status_label"}
    assert (
        "校验位不符"
        in assert_error(client.get(f"{API}/objections/{typo(objection.number)}"), 422, "invalid_number")[
            "message"
        ]
    )
    assert_error(client.get(f"{API}/objections/{numbering.with_check('YY2025999999')}"), 404, "not_found")


# --- the office's side ------------------------------------------------------------------------------


def test_the_office_sees_contact_details(province, as_user, objection, notice, candidates):
    client = as_user(province.office)
    (item,) = ok(client.get(f"{API}/objections"))["items"]
    assert (item["name"], item["phone"], item["email"]) == ("张三", "13800138000", "zhangsan@example.com")
    assert item["notice"] == str(notice.uuid) and item["evidence_sha256"] == objection.evidence_sha256
    assert ok(client.get(f"{API}/objections", {"status": "upheld"}))["count"] == 0
    assert ok(client.get(f"{API}/objections", {"application": candidates[2].number}))["count"] == 1
    assert ok(client.get(f"{API}/objections", {"notice": str(notice.uuid)}))["count"] == 1
    assert_error(
        client.get(f"{API}/objections", {"application": typo(candidates[2].number)}), 422, "invalid_number"
    )
    assert ok(client.get(f"{API}/objections/{objection.number}/details"))["content"] == objection.content
    download = client.get(f"{API}/objections/{objection.number}/evidence")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert ok(as_user(province.office_viewer).get(f"{API}/objections"))["count"] == 1


def test_nobody_else_sees_contact_details(province, as_user, client, objection):
    for user in (province.admin, province.city_jinan, province.bob, province.dept_agri, province.expert):
        c = as_user(user)
        assert_error(c.get(f"{API}/objections"), 403, "permission_denied")
        assert_error(c.get(f"{API}/objections/{objection.number}/details"), 403, "permission_denied")
        assert_error(c.get(f"{API}/objections/{objection.number}/evidence"), 403, "permission_denied")
        body = {"outcome": "dismissed", "answer": "不成立"}
        assert_error(
            send(c, "post", f"/objections/{objection.number}/answer", body), 403, "permission_denied"
        )
    client.logout()
    assert_error(client.get(f"{API}/objections"), 401, "unauthenticated")
    objection.refresh_from_db()
    assert objection.status == "open"


def test_the_office_answers(province, as_user, objection, candidates):
    url = f"/objections/{objection.number}/answer"
    body = {"outcome": "dismissed", "answer": "经核查，所称抽检不合格系同名企业。"}
    assert_error(send(as_user(province.office_viewer), "post", url, body), 403, "permission_denied")
    client = as_user(province.office)
    assert_error(
        send(client, "post", url, {"outcome": "maybe", "answer": "x"}), 422, "validation_error", "outcome"
    )
    assert_error(send(client, "post", url, {"outcome": "dismissed"}), 422, "validation_error", "answer")
    answered = ok(send(client, "post", url, body))
    assert (answered["status"], answered["answered_by"]) == ("dismissed", "office")
    assert events("evaluation.objection.answered", objection) == 1
    assert_error(send(client, "post", url, body), 409, "objection_answered")
    candidates[2].refresh_from_db()
    assert candidates[2].status == A.NOTICE


def test_an_upheld_objection_removes_the_candidate(province, as_user, client, objection, notice, candidates):
    office = as_user(province.office)
    ok(
        send(
            office,
            "post",
            f"/objections/{objection.number}/answer",
            {"outcome": "upheld", "answer": "抽检不合格属实。"},
        )
    )
    candidates[2].refresh_from_db()
    assert candidates[2].status == A.REJECTED
    client.logout()
    listed = ok(client.get(f"{API}/notices/{notice.uuid}"))
    assert {c["number"]: c["removed"] for c in listed["candidates"]} == {
        candidates[1].number: False,
        candidates[2].number: True,
    }
    assert ok(client.get(f"{API}/objections/{objection.number}"))["status"] == "upheld"
