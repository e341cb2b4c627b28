"""API: applications — the scoped list, starting one (owner or recommender), what each reader
sees, filling in (text, figures, self-assessment, evidence, declaration), the review's moves with
opinions, deadlines and ``expected_status``, and the office's checks (criteria, vetoes, quota
ties). Also the request helpers the other evaluation API tests import."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haopin.core.models import AuditEvent
from haopin.evaluation import services
from haopin.evaluation.models import Application, Decision, Evidence, VetoFinding
from haopin.evaluation.tests import test_applications as shared
from haopin.evaluation.tests.test_applications import PDF, advance, fill_in
from haopin.registry.models import Brand, Product

S = Application.Status
API = "/api/v1"

frozen_clock = shared.frozen_clock
rule_sets = shared.rule_sets
batch = shared.batch
alice_app = shared.alice_app
bob_app = shared.bob_app


# --- helpers shared by the evaluation API tests ---------------------------------------------------


def send(client, method, path, body=None, **extra):
    """A JSON request to /api/v1 (``body`` None: no body at all)."""
    if body is None:
        return client.generic(method.upper(), f"{API}{path}", **extra)
    return client.generic(
        method.upper(), f"{API}{path}", json.dumps(body), content_type="application/json", **extra
    )


def ok(response, status=200):
    assert response.status_code == status, response.content.decode()[:1000]
    return response.json() if response.get("Content-Type", "").startswith("application/json") else response


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content.decode()[:1000]
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["message"], body
    if field is not None:
        assert field in body["details"], body
    return body


def events(action, target=None):
    qs = AuditEvent.objects.filter(action=action)
    if target is not None:
        qs = qs.filter(target_id=str(target.pk))
    return qs.count()


def typo(number: str) -> str:
    """The number with its last serial digit changed: the check character no longer matches."""
    digit = "7" if number[-2] != "7" else "8"
    return number[:-2] + digit + number[-1]


def moved(application):
    application.refresh_from_db()
    return (
        application.status,
        Decision.objects.filter(application=application).count(),
        AuditEvent.objects.count(),
    )


def path_of(application, tail=""):
    return f"/applications/{application.number}{tail}"


@pytest.fixture
def complete(province, alice_app):
    return fill_in(alice_app, province.alice)


# --- the list -----------------------------------------------------------------------------------


def numbers(response):
    return sorted(a["number"] for a in ok(response)["items"])


def test_the_list_is_scoped(province, as_user, alice_app, bob_app):
    both = sorted([alice_app.number, bob_app.number])
    assert numbers(as_user(province.office).get(f"{API}/applications")) == both
    assert numbers(as_user(province.alice).get(f"{API}/applications")) == [alice_app.number]
    assert numbers(as_user(province.alice_viewer).get(f"{API}/applications")) == [alice_app.number]
    assert numbers(as_user(province.city_jinan).get(f"{API}/applications")) == [alice_app.number]
    assert numbers(as_user(province.city_qingdao).get(f"{API}/applications")) == [bob_app.number]
    assert numbers(as_user(province.dept_agri).get(f"{API}/applications")) == [bob_app.number]
    assert numbers(as_user(province.expert).get(f"{API}/applications")) == []


def test_the_list_filters(province, as_user, batch, complete, bob_app):
    services.application_submit(actor=province.alice, application=complete)
    client = as_user(province.office)
    assert numbers(client.get(f"{API}/applications", {"status": "submitted"})) == [complete.number]
    assert numbers(client.get(f"{API}/applications", {"category": "105"})) == [bob_app.number]
    assert numbers(client.get(f"{API}/applications", {"q": "崂山"})) == [bob_app.number]
    assert numbers(client.get(f"{API}/applications", {"q": complete.number.lower()})) == [complete.number]
    assert numbers(client.get(f"{API}/applications", {"route": "recommended"})) == []
    assert len(numbers(client.get(f"{API}/applications", {"batch": str(batch.uuid)}))) == 2
    for params, field in [
        ({"status": "lost"}, "status"),
        ({"batch": "1"}, "batch"),
        ({"category": "x"}, "category"),
    ]:
        assert_error(client.get(f"{API}/applications", params), 422, "validation_error", field)


def test_the_list_costs_the_same_whatever_the_page_size(province, as_user, batch):
    for n in range(12):
        brand = Brand.objects.create(
            name=f"泉城{n:02d}",
            owner=province.alice_ent,
            brand_type=province.product_type,
            category=province.cat_food,
            region=province.lixia,
            tier=province.pool,
        )
        services.application_start(actor=province.alice, batch=batch, brand=brand)
    client = as_user(province.city_jinan)
    client.get(f"{API}/applications")
    counts = []
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            assert len(ok(client.get(f"{API}/applications", {"limit": limit}))["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8


# --- starting -------------------------------------------------------------------------------------


def test_alice_applies_for_her_brand(province, as_user, batch, rule_sets):
    response = send(
        as_user(province.alice),
        "post",
        "/applications",
        {"batch": str(batch.uuid), "brand": str(province.alice_brand.uuid), "summary": "百年老店。"},
    )
    body = ok(response, 201)
    assert (body["status"], body["route"], body["recommender"]) == ("draft", "voluntary", None)
    assert body["rule_set"]["uuid"] == str(rule_sets.food.uuid) and body["summary"] == "百年老店。"
    assert [a["action"] for a in body["actions"]] == ["submit", "withdraw"]
    assert body["required_years"] == [2022, 2023, 2024] and "declaration" in body["gaps"]
    application = Application.objects.get(number=body["number"])
    assert events("evaluation.application.created", application) == 1
    assert events("evaluation.application.updated", application) == 1


def test_the_city_bureau_recommends_a_brand_of_its_region(province, as_user, batch):
    response = send(
        as_user(province.city_jinan),
        "post",
        "/applications",
        {"batch": str(batch.uuid), "brand": str(province.alice_brand.uuid), "summary": "推荐理由。"},
    )
    body = ok(response, 201)
    assert body["route"] == "recommended" and body["recommender"]["name"] == province.jinan_org.name
    assert body["actions"] == []  # the owner completes it first
    assert [
        a["action"]
        for a in ok(as_user(province.alice).get(f"{API}{path_of(Application.objects.get())}/actions"))
    ] == [
        "submit",
        "withdraw",
    ]


@pytest.mark.parametrize(
    ("who", "brand", "status", "code", "field"),
    [
        ("alice", "bob_brand", 422, "validation_error", "brand"),  # not hers, not even visible
        ("city_qingdao", "alice_brand", 422, "validation_error", "brand"),  # outside its region
        ("alice_viewer", "alice_brand", 403, "permission_denied", None),  # read-only member
        ("office", "alice_brand", 403, "permission_denied", None),  # the office does not apply
        ("dept_commerce", "alice_brand", 422, "validation_error", "brand"),
    ],
)
def test_starting_is_refused_to_others(province, as_user, batch, who, brand, status, code, field):
    body = {"batch": str(batch.uuid), "brand": str(getattr(province, brand).uuid)}
    assert_error(send(as_user(getattr(province, who)), "post", "/applications", body), status, code, field)
    assert not Application.objects.exists() and not events("evaluation.application.created")


def test_starting_twice_or_in_an_unknown_batch_is_refused(province, as_user, batch, alice_app):
    client = as_user(province.alice)
    body = {"batch": str(batch.uuid), "brand": str(province.alice_brand.uuid)}
    assert_error(send(client, "post", "/applications", body), 409, "application_exists")
    body["batch"] = "00000000-0000-0000-0000-000000000000"
    assert_error(send(client, "post", "/applications", body), 422, "validation_error", "batch")
    assert_error(
        send(client, "post", "/applications", {"brand": body["brand"]}), 422, "validation_error", "batch"
    )
    assert Application.objects.count() == 1


# --- reading ---------------------------------------------------------------------------------------


def test_each_reader_sees_what_is_theirs_to_see(province, as_user, complete):
    advance(
        complete, S.RECOMMENDED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    services.veto_raise(
        actor=province.office,
        application=complete,
        veto_item=complete.rule_set.veto_items.get(code="F1"),
        note="媒体报道质量事故，待核实。",
    )
    office = ok(as_user(province.office).get(f"{API}{path_of(complete)}"))
    assert office["results"] == {
        "score_total": None,
        "score_spread": None,
        "rank": None,
        "passed": None,
        "within_quota": None,
        "quota_tie": False,
    }
    assert office["veto_findings"][0]["raised_by"] == "office"
    assert [d["actor"] for d in office["decisions"]] == ["alice", "city-jinan"]
    alice = ok(as_user(province.alice).get(f"{API}{path_of(complete)}"))
    assert alice["results"] is None and alice["veto_findings"] is None
    assert [d["actor"] for d in alice["decisions"]] == ["", ""]
    assert [d["organisation"] for d in alice["decisions"]] == [
        province.alice_org.name,
        province.jinan_org.name,
    ]
    assert alice["decisions"][1]["opinion"] == "材料真实，同意推荐。"
    assert [f["year"] for f in alice["figures"]] == [2022, 2023, 2024] and alice["figures"][2][
        "rd_ratio"
    ] == 5.0
    assert alice["eligibility"]["outcomes"][0]["criterion"] == "Z1"
    assert len(alice["self_assessment"]) == 15 and alice["gaps"] == {}


def test_outsiders_get_404_and_a_mistyped_number_422(province, as_user, alice_app):
    for user in (province.bob, province.city_qingdao, province.expert, province.dept_commerce):
        assert_error(as_user(user).get(f"{API}{path_of(alice_app)}"), 404, "not_found")
    client = as_user(province.alice)
    body = assert_error(
        client.get(f"{API}/applications/{typo(alice_app.number)}"), 422, "invalid_number", "number"
    )
    assert "校验位不符" in body["message"]
    spaced = f"{alice_app.number[:2].lower()} {alice_app.number[2:6]}-{alice_app.number[6:]}"
    assert ok(client.get(f"{API}/applications/{spaced}"))["number"] == alice_app.number
    assert_error(client.get(f"{API}/applications/SQ!!"), 422, "validation_error", "number")


def test_anonymous_clients_are_refused(client, alice_app):
    assert_error(client.get(f"{API}/applications"), 401, "unauthenticated")
    assert_error(client.get(f"{API}{path_of(alice_app)}"), 401, "unauthenticated")


# --- filling in ------------------------------------------------------------------------------------


def test_alice_fills_in_her_application(province, as_user, alice_app):
    client = as_user(province.alice)
    body = ok(
        send(
            client,
            "patch",
            path_of(alice_app),
            {
                "summary": "第一行\n第二行",
                "products": [str(province.alice_product.uuid)],
                "competitors": [province.bob_ent.uscc.lower()],
                "national_rank": 12,
                "credit_clean": True,
            },
        )
    )
    assert body["products"] == [
        {"uuid": str(province.alice_product.uuid), "name": "泉城酥锅", "kind": "goods"}
    ]
    assert (body["competitors"], body["national_rank"], body["summary"]) == (
        [province.bob_ent.uscc],
        12,
        "第一行\n第二行",
    )
    event = AuditEvent.objects.filter(action="evaluation.application.updated").latest("seq")
    assert event.new["national_rank"] == 12 and event.old["national_rank"] is None
    ok(send(client, "patch", path_of(alice_app), {"national_rank": None}))
    alice_app.refresh_from_db()
    assert alice_app.national_rank is None and alice_app.summary == "第一行\n第二行"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"summary": None}, "summary"),
        ({"national_rank": 0}, "national_rank"),
        ({"competitors": ["913700000000000000"]}, "competitors"),
        ({"colour": "red"}, "colour"),
        ({"products": ["not-a-uuid"]}, "products.0"),
        ({"summary": "x\x00y"}, "summary"),
    ],
)
def test_bad_changes_are_refused(province, as_user, alice_app, body, field):
    before = AuditEvent.objects.count()
    assert_error(
        send(as_user(province.alice), "patch", path_of(alice_app), body), 422, "validation_error", field
    )
    assert AuditEvent.objects.count() == before


def test_products_must_be_the_brands_and_visible(province, as_user, alice_app):
    client = as_user(province.alice)
    other = Product.objects.create(
        brand=Brand.objects.create(
            name="泉城二号",
            owner=province.alice_ent,
            brand_type=province.product_type,
            category=province.cat_food,
            region=province.lixia,
            tier=province.pool,
        ),
        name="别的产品",
    )
    assert_error(
        send(client, "patch", path_of(alice_app), {"products": [str(other.uuid)]}),
        422,
        "validation_error",
        "products",
    )
    bobs = str(province.bob_product.uuid)
    assert_error(
        send(client, "patch", path_of(alice_app), {"products": [bobs]}), 422, "validation_error", "products"
    )
    assert not alice_app.products.exists()


def test_only_the_owners_writers_fill_in(province, as_user, alice_app):
    body = {"summary": "改"}
    assert_error(
        send(as_user(province.alice_viewer), "patch", path_of(alice_app), body), 403, "permission_denied"
    )
    assert_error(
        send(as_user(province.city_jinan), "patch", path_of(alice_app), body), 403, "permission_denied"
    )
    assert_error(send(as_user(province.office), "patch", path_of(alice_app), body), 403, "permission_denied")
    assert_error(send(as_user(province.bob), "patch", path_of(alice_app), body), 404, "not_found")
    figures = {"figures": shared.FIGURES}
    assert_error(
        send(as_user(province.alice_viewer), "put", path_of(alice_app, "/figures"), figures),
        403,
        "permission_denied",
    )
    assert_error(
        send(as_user(province.alice_viewer), "post", path_of(alice_app, "/declaration"), {"name": "李明"}),
        403,
        "permission_denied",
    )
    alice_app.refresh_from_db()
    assert alice_app.summary == "" and not alice_app.figures.exists() and not alice_app.declaration_signed_at


def test_figures_self_assessment_and_declaration(province, as_user, alice_app):
    client = as_user(province.alice)
    body = ok(send(client, "put", path_of(alice_app, "/figures"), {"figures": shared.FIGURES[:2]}))
    assert [f["year"] for f in body["figures"]] == [2022, 2023] and "2024年" in body["gaps"]["figures"]
    assert_error(
        send(
            client, "put", path_of(alice_app, "/figures"), {"figures": [{**shared.FIGURES[0], "year": 2021}]}
        ),
        422,
        "validation_error",
        "figures.2021",
    )
    bad = {**shared.FIGURES[0], "revenue": -1}
    assert_error(
        send(client, "put", path_of(alice_app, "/figures"), {"figures": [bad]}),
        422,
        "validation_error",
        "figures.0.revenue",
    )
    items = [
        {"indicator": "1.1", "score": 9.5, "note": "通过 ISO 9001 认证。"},
        {"indicator": "1.2", "score": "11"},
    ]
    body = ok(send(client, "put", path_of(alice_app, "/self-assessment"), {"items": items}))
    scored = {
        s["indicator"]: (s["score"], s["note"]) for s in body["self_assessment"] if s["score"] is not None
    }
    assert scored == {"1.1": (9.5, "通过 ISO 9001 认证。"), "1.2": (11.0, "")}
    for entry, field in [
        ({"indicator": "1.1", "score": 10.5}, "scores.1.1"),
        ({"indicator": "1", "score": 1}, "scores.1"),
    ]:
        assert_error(
            send(client, "put", path_of(alice_app, "/self-assessment"), {"items": [entry]}),
            422,
            "validation_error",
            field,
        )
    body = ok(send(client, "post", path_of(alice_app, "/declaration"), {"name": "李明"}))
    assert body["declaration"]["signed_by"] == "李明" and "declaration" not in body["gaps"]
    assert_error(
        send(client, "post", path_of(alice_app, "/declaration"), {"name": ""}),
        422,
        "validation_error",
        "name",
    )
    assert events("evaluation.application.updated", alice_app) == 2
    assert events("evaluation.application.declaration_signed", alice_app) == 1


def test_evidence_is_uploaded_and_removed(province, as_user, alice_app):
    client = as_user(province.alice)
    upload = io.BytesIO(PDF)
    upload.name = "认证证书.pdf"
    response = client.post(
        f"{API}{path_of(alice_app, '/evidence')}", {"file": upload, "title": "认证证书", "indicator": "1.1"}
    )
    evidence = ok(response, 201)
    assert (evidence["title"], evidence["indicator"], evidence["file_name"]) == (
        "认证证书",
        "1.1",
        "认证证书.pdf",
    )
    assert events("evaluation.application.evidence_added", alice_app) == 1
    assert ok(client.get(f"{API}{path_of(alice_app)}"))["evidence"] == [evidence]
    text = io.BytesIO(b"just some text, not a PDF")
    text.name = "fake.pdf"
    assert_error(
        client.post(f"{API}{path_of(alice_app, '/evidence')}", {"file": text}),
        422,
        "validation_error",
        "file",
    )
    assert_error(
        client.post(f"{API}{path_of(alice_app, '/evidence')}", {"title": "无文件"}),
        422,
        "validation_error",
        "file",
    )
    upload.seek(0)
    response = client.post(f"{API}{path_of(alice_app, '/evidence')}", {"file": upload, "indicator": "9.9"})
    assert_error(response, 422, "validation_error", "indicator")
    upload.seek(0)
    viewer = as_user(province.alice_viewer)
    assert_error(
        viewer.post(f"{API}{path_of(alice_app, '/evidence')}", {"file": upload}), 403, "permission_denied"
    )
    url = path_of(alice_app, f"/evidence/{evidence['document']}")
    assert_error(send(as_user(province.bob), "delete", url), 404, "not_found")
    assert_error(send(as_user(province.alice_viewer), "delete", url), 403, "permission_denied")
    assert send(as_user(province.alice), "delete", url).status_code == 204
    assert_error(send(as_user(province.alice), "delete", url), 404, "not_found")
    assert not Evidence.objects.exists() and events("evaluation.application.evidence_removed", alice_app) == 1
    broken = as_user(province.alice).post(
        f"{API}{path_of(alice_app, '/evidence')}", b"--", content_type="multipart/form-data"
    )
    assert_error(broken, 400, "malformed_multipart")


# --- the review's moves ---------------------------------------------------------------------------


def test_the_moves_the_caller_may_make(province, as_user, complete):
    def actions(user):
        return [a["action"] for a in ok(as_user(user).get(f"{API}{path_of(complete, '/actions')}"))]

    assert actions(province.alice) == ["submit", "withdraw"]
    assert actions(province.alice_viewer) == actions(province.office) == actions(province.city_jinan) == []
    services.application_submit(actor=province.alice, application=complete)
    assert actions(province.city_jinan) == ["recommend", "return", "reject"]
    assert actions(province.county_lixia) == ["recommend", "return", "reject"]
    assert actions(province.alice) == ["withdraw"]
    needs = {
        a["action"]: a["needs"]
        for a in ok(as_user(province.city_jinan).get(f"{API}{path_of(complete, '/actions')}"))
    }
    assert needs == {"recommend": ["opinion"], "return": ["opinion", "deadline"], "reject": ["opinion"]}
    assert_error(
        as_user(province.city_qingdao).get(f"{API}{path_of(complete, '/actions')}"), 404, "not_found"
    )


def test_submit_recommend_and_qualify_are_recorded(province, as_user, complete):
    ok(
        send(
            as_user(province.alice),
            "post",
            path_of(complete, "/actions/submit"),
            {"expected_status": "draft"},
        )
    )
    body = ok(
        send(
            as_user(province.city_jinan),
            "post",
            path_of(complete, "/actions/recommend"),
            {"opinion": "同意推荐。"},
        )
    )
    assert body["status"] == "recommended"
    shared.check_manual_criteria(complete, province.office)
    body = ok(
        send(
            as_user(province.office), "post", path_of(complete, "/actions/qualify"), {"opinion": "符合条件。"}
        )
    )
    assert body["status"] == "qualified" and body["decisions"][-1]["opinion"] == "符合条件。"
    moves = AuditEvent.objects.filter(
        action="evaluation.application.moved", target_id=str(complete.pk)
    ).order_by("seq")
    assert [e.new["action"] for e in moves] == ["submit", "recommend", "qualify"]
    assert moves.last().actor == province.office


@pytest.mark.parametrize(
    ("who", "action", "body", "status", "code"),
    [
        ("alice", "qualify", {"opinion": "自己通过"}, 403, "permission_denied"),
        ("city_jinan", "qualify", {"opinion": "越级"}, 403, "permission_denied"),
        ("office_viewer", "qualify", {"opinion": "只读"}, 403, "permission_denied"),
        ("office", "recommend", {"opinion": "不归我"}, 409, "illegal_transition"),
        ("office", "approve", {"opinion": "跳步"}, 409, "illegal_transition"),
        ("office", "qualify", {}, 422, "validation_error"),
        ("office", "qualify", {"opinion": "看错了", "expected_status": "submitted"}, 409, "stale_status"),
        ("office", "promote", {}, 422, "unknown_action"),
        ("office", "start_review", {}, 422, "batch_action"),
        ("office", "publish", {}, 422, "batch_action"),
        ("office", "Qualify", {}, 422, "validation_error"),
        ("bob", "withdraw", {}, 404, "not_found"),
    ],
)
def test_refused_moves_change_nothing(province, as_user, complete, who, action, body, status, code):
    advance(
        complete, S.RECOMMENDED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    shared.check_manual_criteria(complete, province.office)
    before = moved(complete)
    response = send(as_user(getattr(province, who)), "post", path_of(complete, f"/actions/{action}"), body)
    assert_error(response, status, code)
    assert moved(complete) == before


def test_a_second_qualify_is_an_illegal_transition(province, as_user, complete):
    advance(
        complete, S.QUALIFIED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    before = moved(complete)
    body = assert_error(
        send(as_user(province.office), "post", path_of(complete, "/actions/qualify"), {"opinion": "再来"}),
        409,
        "illegal_transition",
    )
    assert body["message"] == "当前状态为“待舆情与信用核查”，不能执行“资格审查通过”。"
    assert moved(complete) == before


def test_returning_needs_a_future_deadline_and_the_applicant_corrects(province, as_user, complete):
    advance(
        complete, S.RECOMMENDED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    client = as_user(province.office)
    url = path_of(complete, "/actions/return")
    assert_error(send(client, "post", url, {"opinion": "补充材料"}), 422, "validation_error", "deadline")
    assert_error(
        send(client, "post", url, {"opinion": "补充材料", "deadline": "2025-05-01"}), 422, "deadline_past"
    )
    assert_error(
        send(client, "post", url, {"opinion": "补充材料", "deadline": "明天"}),
        422,
        "validation_error",
        "deadline",
    )
    body = ok(send(client, "post", url, {"opinion": "请补充检测报告。", "deadline": "2025-06-10"}))
    assert (body["status"], body["return_deadline"]) == ("returned", "2025-06-10")
    assert body["decisions"][-1]["deadline"] == "2025-06-10"
    alice = as_user(province.alice)
    ok(send(alice, "patch", path_of(complete), {"summary": "已补充检测报告。"}))
    ok(send(alice, "post", path_of(complete, "/declaration"), {"name": "李明"}))
    assert ok(send(alice, "post", path_of(complete, "/actions/submit")))["status"] == "submitted"


def test_a_decision_cites_only_visible_evidence(province, as_user, complete):
    advance(
        complete, S.SUBMITTED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    body = {"opinion": "同意。", "document": "00000000-0000-0000-0000-000000000001"}
    response = send(as_user(province.city_jinan), "post", path_of(complete, "/actions/recommend"), body)
    assert_error(response, 422, "validation_error", "document")
    assert moved(complete)[0] == S.SUBMITTED


def test_the_applicant_withdraws_before_the_expert_review(province, as_user, complete):
    advance(
        complete, S.CHECKED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    assert (
        ok(send(as_user(province.alice), "post", path_of(complete, "/actions/withdraw")))["status"]
        == "withdrawn"
    )
    assert_error(
        send(as_user(province.alice), "post", path_of(complete, "/actions/withdraw")),
        409,
        "illegal_transition",
    )


def test_wrong_methods_are_405(province, as_user, alice_app):
    client = as_user(province.alice)
    assert_error(send(client, "get", path_of(alice_app, "/actions/submit")), 405, "method_not_allowed")
    assert_error(send(client, "delete", path_of(alice_app)), 405, "method_not_allowed")
    assert_error(send(client, "put", "/applications", {}), 405, "method_not_allowed")
    assert_error(send(client, "get", path_of(alice_app, "/declaration")), 405, "method_not_allowed")


# --- the office's checks ----------------------------------------------------------------------------


def test_criteria_are_checked_by_the_office(province, as_user, complete):
    advance(
        complete, S.RECOMMENDED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    manual = complete.rule_set.criteria.filter(metric="").first()
    url = path_of(complete, f"/criteria/{manual.code}")
    assert_error(send(as_user(province.alice), "put", url, {"met": True}), 403, "permission_denied")
    assert_error(send(as_user(province.office_viewer), "put", url, {"met": True}), 403, "permission_denied")
    assert_error(send(as_user(province.office), "put", url, {"met": "maybe"}), 422, "validation_error", "met")
    body = ok(send(as_user(province.office), "put", url, {"met": True, "note": "核验商标注册证。"}))
    outcome = next(o for o in body["eligibility"]["outcomes"] if o["criterion"] == manual.code)
    assert outcome["met"] is True and "核验商标注册证" in outcome["explanation"]
    assert events("evaluation.application.criterion_checked", complete) == 1
    assert_error(
        send(as_user(province.office), "put", path_of(complete, "/criteria/Z1"), {"met": False, "note": "x"}),
        422,
        "criterion_automatic",
    )
    assert_error(
        send(as_user(province.office), "put", path_of(complete, "/criteria/Z99"), {"met": True}),
        404,
        "not_found",
    )


def test_a_veto_is_raised_blocks_and_is_resolved(province, as_user, complete):
    advance(
        complete, S.RECOMMENDED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    shared.check_manual_criteria(complete, province.office)
    url = path_of(complete, "/veto-findings")
    assert_error(
        send(as_user(province.alice), "post", url, {"veto_item": "F1", "note": "x"}), 403, "permission_denied"
    )
    office = as_user(province.office)  # the one test client, signed in as the office from here on
    assert_error(
        send(office, "post", url, {"veto_item": "F9", "note": "x"}), 422, "validation_error", "veto_item"
    )
    body = ok(send(office, "post", url, {"veto_item": "F1", "note": "网络舆情反映质量事故。"}), 201)
    assert body["veto_findings"][0]["status"] == "raised"
    assert_error(send(office, "post", url, {"veto_item": "F1", "note": "再提"}), 409, "veto_pending")
    blocked = assert_error(
        send(office, "post", path_of(complete, "/actions/qualify"), {"opinion": "通过"}),
        422,
        "review_blocked",
    )
    assert any("F1" in p for p in blocked["details"]["problems"])
    resolution = path_of(complete, "/veto-findings/F1/resolution")
    assert_error(
        send(as_user(province.office_viewer), "post", resolution, {"confirmed": False, "resolution": "x"}),
        403,
        "permission_denied",
    )
    office = as_user(province.office)
    body = ok(
        send(office, "post", resolution, {"confirmed": False, "resolution": "经核实，报道与本企业无关。"})
    )
    assert body["veto_findings"][0]["status"] == "dismissed"
    assert_error(send(office, "post", resolution, {"confirmed": True, "resolution": "x"}), 404, "not_found")
    assert (
        ok(send(office, "post", path_of(complete, "/actions/qualify"), {"opinion": "通过"}))["status"]
        == "qualified"
    )
    assert (
        events("evaluation.veto.raised", complete) == 1 and events("evaluation.veto.resolved", complete) == 1
    )
    assert VetoFinding.objects.get().resolved_by == province.office


def test_a_quota_tie_is_decided_with_reasons(province, as_user, complete):
    Application.objects.filter(pk=complete.pk).update(
        status=S.REVIEWED, score_total=80, passed=True, rank=1, quota_tie=True, within_quota=None
    )
    url = path_of(complete, "/quota-decision")
    assert_error(
        send(as_user(province.alice), "post", url, {"admit": True, "reason": "我要"}),
        403,
        "permission_denied",
    )
    assert_error(
        send(as_user(province.office), "post", url, {"admit": True}), 422, "validation_error", "reason"
    )
    body = ok(send(as_user(province.office), "post", url, {"admit": True, "reason": "质量维度得分更高。"}))
    assert body["results"]["within_quota"] is True
    assert_error(
        send(as_user(province.office), "post", url, {"admit": False, "reason": "改主意"}),
        409,
        "quota_decided",
    )
    assert events("evaluation.quota.decided", complete) == 1


def test_a_supplementary_draw_needs_the_expert_review(province, as_user, complete):
    response = send(as_user(province.office), "post", path_of(complete, "/draws"), {"seed": "x"})
    assert_error(response, 409, "batch_not_reviewing")
    assert_error(send(as_user(province.alice), "post", path_of(complete, "/draws")), 403, "permission_denied")


def test_the_deadline_reminder_date_is_iso(province, as_user, complete):
    advance(
        complete, S.SUBMITTED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    deadline = dt.date(2025, 6, 1)
    services.application_move(
        application=complete, action="return", actor=province.city_jinan, opinion="补充", deadline=deadline
    )
    assert ok(as_user(province.alice).get(f"{API}{path_of(complete)}"))["return_deadline"] == "2025-06-01"
