"""API: batches — the list, creating and changing them, their rule sets and quotas, the batch
moves, and the expert review's office side: the draw (and its replay check), the aggregation,
the ranking and the scoring sheet, in JSON and as .xlsx."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from haopin.core.models import AuditEvent
from haopin.evaluation.models import Application, Assignment, Batch, PanelDraw, Quota
from haopin.evaluation.tests import test_applications as shared
from haopin.evaluation.tests.test_api_applications import assert_error, events, ok, send
from haopin.evaluation.tests.test_experts import applicant, food, pool
from haopin.evaluation.tests.test_scoring import accept_all, score_all, split, submit

S = Application.Status
API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = {
    "year": 2025,
    "sequence": 2,
    "title": "2025年第二批“好品山东”品牌评价",
    "apply_from": "2025-07-01",
    "apply_until": "2025-08-31",
}

frozen_clock = shared.frozen_clock
rule_sets = shared.rule_sets
batch = shared.batch
alice_app = shared.alice_app

__all__ = ["food"]  # the fixture, imported for the expert-review tests below


@pytest.fixture
def draft_batch(province):
    return shared.new_batch(province.office, sequence=5)


def batch_path(b, tail=""):
    return f"/batches/{b.uuid}{tail}"


# --- the list and one batch -------------------------------------------------------------------------


def titles(response):
    return [b["title"] for b in ok(response)["items"]]


def test_drafts_are_the_offices(province, as_user, client, batch, draft_batch):
    assert len(titles(as_user(province.office).get(f"{API}/batches"))) == 2
    assert len(titles(as_user(province.office_viewer).get(f"{API}/batches"))) == 2
    for user in (province.alice, province.city_jinan, province.expert):
        assert titles(as_user(user).get(f"{API}/batches")) == [batch.title]
        assert_error(as_user(user).get(f"{API}{batch_path(draft_batch)}"), 404, "not_found")
    client.logout()
    assert_error(client.get(f"{API}/batches"), 401, "unauthenticated")


def test_the_list_filters_and_costs_the_same_whatever_the_page_size(province, as_user, batch):
    for sequence in range(10, 22):
        shared.new_batch(province.office, sequence=sequence)
    client = as_user(province.office)
    assert len(titles(client.get(f"{API}/batches", {"status": "open"}))) == 1
    assert len(titles(client.get(f"{API}/batches", {"year": 2024}))) == 0
    assert_error(client.get(f"{API}/batches", {"status": "asleep"}), 422, "validation_error", "status")
    counts = []
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            assert len(titles(client.get(f"{API}/batches", {"limit": limit}))) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5


def test_a_batch_shows_its_rules_counts_and_moves(province, as_user, batch, alice_app, rule_sets):
    body = ok(as_user(province.office).get(f"{API}{batch_path(batch)}"))
    assert body["status"] == "open" and body["application_count"] == 1
    assert [r["uuid"] for r in body["rule_sets"]] == [str(rule_sets.tea.uuid), str(rule_sets.food.uuid)]
    assert body["status_counts"]["draft"] == 1 and body["notice"] is None
    assert [a["action"] for a in body["actions"]] == ["close_applications"]
    alice = ok(as_user(province.alice).get(f"{API}{batch_path(batch)}"))
    assert alice["actions"] == [] and alice["status_counts"]["draft"] == 1
    assert ok(as_user(province.bob).get(f"{API}{batch_path(batch)}"))["status_counts"]["draft"] == 0


# --- creating and changing ------------------------------------------------------------------------


def test_the_office_creates_a_batch(province, as_user):
    body = ok(send(as_user(province.office), "post", "/batches", {**BATCH, "panel_size": 5}), 201)
    assert (body["status"], body["panel_size"], body["notice_days"], body["reserve_size"]) == (
        "draft",
        5,
        7,
        2,
    )
    assert [a["action"] for a in body["actions"]] == ["open"]
    assert events("evaluation.batch.created", Batch.objects.get()) == 1


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"apply_until": "2025-06-01"}, 422, "validation_error", "apply_until"),
        ({"reserve_size": 7, "panel_size": 5}, 422, "validation_error", "reserve_size"),
        ({"panel_size": 2}, 422, "validation_error", "panel_size"),
        ({"year": 2019}, 422, "validation_error", "year"),
        ({"apply_from": "2025-13-01"}, 422, "validation_error", "apply_from"),
        ({"review_until": "2025-08-01"}, 422, "validation_error", "review_until"),
        ({"quota": 3}, 422, "validation_error", "quota"),
    ],
)
def test_bad_batches_are_refused(province, as_user, changes, status, code, field):
    assert_error(
        send(as_user(province.office), "post", "/batches", {**BATCH, **changes}), status, code, field
    )
    assert not Batch.objects.exists()


def test_a_batch_number_is_taken_once(province, as_user, draft_batch):
    body = {**BATCH, "sequence": draft_batch.sequence}
    assert_error(send(as_user(province.office), "post", "/batches", body), 422, "batch_exists", "sequence")


def test_only_the_offices_writers_manage_batches(province, as_user, draft_batch):
    for user in (province.office_viewer, province.admin, province.alice, province.city_jinan):
        client = as_user(user)
        assert_error(send(client, "post", "/batches", BATCH), 403, "permission_denied")
    viewer = as_user(province.office_viewer)
    assert_error(send(viewer, "patch", batch_path(draft_batch), {"title": "改名"}), 403, "permission_denied")
    assert_error(send(viewer, "post", batch_path(draft_batch, "/actions/open")), 403, "permission_denied")
    assert_error(
        send(viewer, "put", batch_path(draft_batch, "/quotas/category/201"), {"limit": 3}),
        403,
        "permission_denied",
    )
    draft_batch.refresh_from_db()
    assert (draft_batch.title, draft_batch.status, Batch.objects.count()) == (
        "2025年第5批好品山东品牌评价",
        "draft",
        1,
    )
    assert not Quota.objects.exists()


def test_a_draft_changes_freely_an_open_batch_only_its_later_dates(province, as_user, draft_batch, batch):
    client = as_user(province.office)
    body = ok(send(client, "patch", batch_path(draft_batch), {"title": "改名", "notice_days": 5}))
    assert (body["title"], body["notice_days"]) == ("改名", 5)
    assert events("evaluation.batch.updated", draft_batch) == 1
    assert_error(
        send(client, "patch", batch_path(draft_batch), {"title": None}), 422, "validation_error", "title"
    )
    assert_error(send(client, "patch", batch_path(batch), {"title": "改名"}), 422, "batch_frozen", "title")
    assert (
        ok(send(client, "patch", batch_path(batch), {"review_until": "2025-09-30"}))["review_until"]
        == "2025-09-30"
    )


def test_rule_sets_and_quotas(province, as_user, draft_batch, rule_sets):
    client = as_user(province.office)
    url = batch_path(draft_batch, "/rule-sets")
    body = ok(send(client, "post", url, {"rule_set": str(rule_sets.food.uuid)}), 201)
    assert [r["uuid"] for r in body["rule_sets"]] == [str(rule_sets.food.uuid)]
    assert_error(
        send(client, "post", url, {"rule_set": str(rule_sets.food.uuid)}), 422, "ruleset_taken", "rule_set"
    )
    assert_error(
        send(client, "post", url, {"rule_set": "00000000-0000-0000-0000-000000000000"}),
        422,
        "validation_error",
        "rule_set",
    )
    body = ok(send(client, "put", batch_path(draft_batch, "/quotas/category/201"), {"limit": 3}))
    assert body["quotas"] == [{"kind": "category", "code": "201", "name": "食品饮料", "limit": 3}]
    body = ok(send(client, "put", batch_path(draft_batch, "/quotas/city/370100"), {"limit": 2}))
    assert {(q["kind"], q["limit"]) for q in body["quotas"]} == {("category", 3), ("city", 2)}
    assert_error(
        send(client, "put", batch_path(draft_batch, "/quotas/category/20101"), {"limit": 3}),
        422,
        "validation_error",
        "category",
    )
    assert_error(
        send(client, "put", batch_path(draft_batch, "/quotas/city/370102"), {"limit": 3}),
        422,
        "validation_error",
        "city",
    )
    assert_error(
        send(client, "put", batch_path(draft_batch, "/quotas/town/370100"), {"limit": 3}),
        422,
        "validation_error",
        "kind",
    )
    assert_error(
        send(client, "put", batch_path(draft_batch, "/quotas/city/370100"), {"limit": 0}),
        422,
        "validation_error",
        "limit",
    )
    assert send(client, "delete", batch_path(draft_batch, "/quotas/city/370100")).status_code == 204
    assert_error(send(client, "delete", batch_path(draft_batch, "/quotas/city/370100")), 404, "not_found")
    assert (
        send(client, "delete", batch_path(draft_batch, f"/rule-sets/{rule_sets.food.uuid}")).status_code
        == 204
    )
    assert_error(
        send(client, "delete", batch_path(draft_batch, f"/rule-sets/{rule_sets.food.uuid}")), 404, "not_found"
    )
    assert events("evaluation.batch.rules_changed", draft_batch) == 5


def test_a_rule_set_in_use_stays(province, as_user, batch, alice_app, rule_sets):
    response = send(
        as_user(province.office), "delete", batch_path(batch, f"/rule-sets/{rule_sets.food.uuid}")
    )
    assert_error(response, 409, "ruleset_in_use")


def test_batch_moves(province, as_user, draft_batch, rule_sets):
    client = as_user(province.office)
    assert [a["action"] for a in ok(client.get(f"{API}{batch_path(draft_batch, '/actions')}"))] == ["open"]
    assert_error(send(client, "post", batch_path(draft_batch, "/actions/open")), 422, "batch_without_rules")
    assert_error(send(client, "post", batch_path(draft_batch, "/actions/close")), 409, "illegal_transition")
    assert_error(send(client, "post", batch_path(draft_batch, "/actions/dance")), 422, "unknown_action")
    assert_error(send(client, "get", batch_path(draft_batch, "/actions/open")), 405, "method_not_allowed")
    ok(
        send(client, "post", batch_path(draft_batch, "/rule-sets"), {"rule_set": str(rule_sets.food.uuid)}),
        201,
    )
    body = ok(send(client, "post", batch_path(draft_batch, "/actions/open")))
    assert body["status"] == "open" and [a["action"] for a in body["actions"]] == ["close_applications"]
    event = AuditEvent.objects.filter(action="evaluation.batch.moved").latest("seq")
    assert (event.old, event.new["action"]) == ({"status": "draft"}, "open")
    assert_error(
        send(as_user(province.alice), "post", batch_path(draft_batch, "/actions/close_applications")),
        403,
        "permission_denied",
    )
    assert_error(
        send(as_user(province.office), "post", batch_path(draft_batch, "/actions/open_notice")),
        409,
        "illegal_transition",
    )
    draft_batch.refresh_from_db()
    assert draft_batch.status == "open"


# --- the expert review: draw, aggregate, ranking, scoring sheet -----------------------------------


@pytest.fixture
def reviewed(province, food):
    """Three applications of the food batch in review, a pool of three experts for panels of three
    (no reserves), and the office's draw request."""
    food.batch.reserve_size = 0
    food.batch.save()
    pool(3, categories=[province.cat_food])
    applications = [applicant(food.batch, food.rule_set, creator=province.office) for _ in range(3)]
    draw_body = {"rule_set": str(food.rule_set.uuid), "seed": "2025-第3批"}
    return applications, draw_body


def test_the_draw_is_recorded_and_replays(province, as_user, food, reviewed):
    applications, body = reviewed
    client = as_user(province.office)
    drawn = ok(send(client, "post", batch_path(food.batch, "/draws"), body), 201)
    assert drawn["applications"] == sorted(a.number for a in applications)
    assert (drawn["seed"], drawn["seats"], drawn["panel_size"], drawn["shortfalls"]) == (
        "2025-第3批",
        9,
        3,
        [],
    )
    draw = PanelDraw.objects.get()
    assert events("evaluation.draw.made", draw) == 1
    assert {a.status for a in Application.objects.all()} == {S.EXPERT_REVIEW}
    checked = ok(client.get(f"{API}{batch_path(food.batch, f'/draws/{draw.uuid}')}"))
    assert checked["result_matches"] is True and checked["pool_matches"] is True
    assert [d["uuid"] for d in ok(client.get(f"{API}{batch_path(food.batch, '/draws')}"))] == [str(draw.uuid)]
    assert_error(
        client.get(f"{API}{batch_path(food.batch, '/draws/00000000-0000-0000-0000-000000000000')}"),
        404,
        "not_found",
    )


def test_the_draw_is_the_offices(province, as_user, food, reviewed):
    _, body = reviewed
    for user in (province.office_viewer, province.alice, province.expert):
        assert_error(
            send(as_user(user), "post", batch_path(food.batch, "/draws"), body), 403, "permission_denied"
        )
    assert_error(
        as_user(province.alice).get(f"{API}{batch_path(food.batch, '/draws')}"), 403, "permission_denied"
    )
    client = as_user(province.office)
    assert_error(
        send(client, "post", batch_path(food.batch, "/draws"), {**body, "seed": "x" * 65}),
        422,
        "validation_error",
        "seed",
    )
    assert_error(
        send(client, "post", batch_path(food.batch, "/draws"), {"seed": "x"}),
        422,
        "validation_error",
        "rule_set",
    )
    assert not PanelDraw.objects.exists() and not Assignment.objects.exists()


def test_aggregation_ranking_and_scoring_sheet(province, as_user, food, reviewed):
    applications, body = reviewed
    client = as_user(province.office)
    ok(send(client, "post", batch_path(food.batch, "/draws"), body), 201)
    aggregate = {"rule_set": str(food.rule_set.uuid)}
    missing = assert_error(
        send(client, "post", batch_path(food.batch, "/aggregate"), aggregate), 422, "scores_missing"
    )
    assert set(missing["details"]["applications"]) == {a.number for a in applications}
    for application, total in zip(applications, (90, 80, 70), strict=True):
        score_all(application, [total, total, total + 6 if total == 70 else total])
    assert_error(
        send(as_user(province.alice), "post", batch_path(food.batch, "/aggregate"), aggregate),
        403,
        "permission_denied",
    )
    client = as_user(province.office)
    result = ok(send(client, "post", batch_path(food.batch, "/aggregate"), aggregate))
    assert (result["applications"], result["passed"], result["quota_ties"]) == (3, 3, [])
    assert events("evaluation.scores.aggregated", food.batch) == 1
    (ranking,) = ok(client.get(f"{API}{batch_path(food.batch, '/ranking')}"))
    assert [(r["number"], r["rank"], r["status"]) for r in ranking["rows"]] == [
        (applications[0].number, 1, "reviewed"),
        (applications[1].number, 2, "reviewed"),
        (applications[2].number, 3, "reviewed"),
    ]
    assert ranking["rows"][0]["score_total"] == 90.0 and ranking["rows"][2]["score_total"] == 72.0
    sheet = ok(client.get(f"{API}/applications/{applications[2].number}/scoring-sheet"))
    assert [e["total"] for e in sheet["experts"]] == [70.0, 70.0, 76.0] and sheet["total"] == 72.0
    assert sheet["trimmed"] is False and sheet["rows"][0]["cells"][0]["comment"] == "1.1 评语"
    download = client.get(f"{API}/applications/{applications[2].number}/scoring-sheet.xlsx")
    assert download.status_code == 200 and download["Content-Type"] == XLSX
    assert load_workbook(io.BytesIO(download.content)).active.title
    download = client.get(
        f"{API}{batch_path(food.batch, '/ranking.xlsx')}", {"rule_set": str(food.rule_set.uuid)}
    )
    assert download.status_code == 200 and download["Content-Type"] == XLSX
    assert_error(
        client.get(
            f"{API}{batch_path(food.batch, '/ranking')}", {"rule_set": "00000000-0000-0000-0000-000000000000"}
        ),
        422,
        "validation_error",
        "rule_set",
    )


def test_scores_and_rankings_are_the_offices(province, as_user, food, reviewed):
    applications, body = reviewed
    ok(send(as_user(province.office), "post", batch_path(food.batch, "/draws"), body), 201)
    seat = accept_all(applications[0])[0]
    submit(seat, split(80))
    expert = seat.expert.user
    number = applications[0].number
    for user in (province.city_jinan, expert):
        assert_error(
            as_user(user).get(f"{API}{batch_path(food.batch, '/ranking')}"), 403, "permission_denied"
        )
        assert_error(
            as_user(user).get(f"{API}{batch_path(food.batch, '/ranking.xlsx')}"), 403, "permission_denied"
        )
    assert_error(as_user(expert).get(f"{API}/applications/{number}/scoring-sheet"), 403, "permission_denied")
    assert_error(as_user(province.bob).get(f"{API}/applications/{number}/scoring-sheet"), 404, "not_found")
    assert ok(as_user(province.office_viewer).get(f"{API}/applications/{number}/scoring-sheet"))["experts"]


def test_a_ranking_filter_must_name_a_uuid(province, as_user, food):
    response = as_user(province.office).get(f"{API}{batch_path(food.batch, '/ranking')}", {"rule_set": "x"})
    assert_error(response, 422, "validation_error", "rule_set")


def test_a_supplementary_draw_fills_an_empty_seat(province, as_user, food):
    food.batch.reserve_size = 0
    food.batch.save()
    pool(2, categories=[province.cat_food])
    application = applicant(food.batch, food.rule_set, creator=province.office)
    client = as_user(province.office)
    first = ok(
        send(client, "post", batch_path(food.batch, "/draws"), {"rule_set": str(food.rule_set.uuid)}), 201
    )
    assert first["seats"] == 2 and first["shortfalls"][0]["application"] == application.number
    assert_error(
        send(as_user(province.alice), "post", f"/applications/{application.number}/draws"), 404, "not_found"
    )
    pool(1, categories=[province.cat_food])
    client = as_user(province.office)
    body = ok(send(client, "post", f"/applications/{application.number}/draws", {"seed": "补抽-1"}), 201)
    assert (body["seed"], body["seats"], body["applications"]) == ("补抽-1", 1, [application.number])
    assert events("evaluation.draw.made") == 2
    assert Assignment.objects.filter(application=application).count() == 3
    assert_error(send(client, "post", f"/applications/{application.number}/draws"), 409, "panel_complete")
