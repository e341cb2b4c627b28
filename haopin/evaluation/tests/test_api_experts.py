"""API: the expert's side — my assignments, the conflict-of-interest declaration (accept, decline,
conflict), my score sheet (drafts, submission) and raising a veto item; never anyone else's."""

from __future__ import annotations

import pytest

from haopin.evaluation import experts
from haopin.evaluation.models import Application, Assignment, Score, VetoFinding
from haopin.evaluation.tests.test_api_applications import assert_error, events, ok, send, typo
from haopin.evaluation.tests.test_experts import applicant, food, pool

A = Assignment.Status
API = "/api/v1"
SHEET = [
    {"indicator": "1.1", "score": 24, "comment": "质量管理体系运行有效。"},
    {"indicator": "1.2", "score": "25.5", "comment": "主要指标达到国内先进水平。"},
    {"indicator": "2.1", "score": 16, "comment": "研发投入稳定。"},
    {"indicator": "2.2", "score": 15, "comment": "有发明专利。"},
]

__all__ = ["food"]  # the fixture


@pytest.fixture
def drawn(province, food):
    """One application in expert review with a panel of three and one reserve."""
    team = pool(4, categories=[province.cat_food])
    application = applicant(food.batch, food.rule_set, creator=province.office)
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set, seed="seed")
    seats = list(
        Assignment.objects.filter(application=application).select_related("expert__user").order_by("order")
    )
    assert [s.status for s in seats] == [A.INVITED, A.INVITED, A.INVITED, A.STANDBY]
    return application, [s.expert.user for s in seats], team


def seat_path(application, tail=""):
    return f"/me/assignments/{application.number}{tail}"


def test_an_expert_lists_only_their_own_seats(province, as_user, drawn):
    application, (first, _, _, reserve), _ = drawn
    body = ok(as_user(first).get(f"{API}/me/assignments"))
    assert body["count"] == 1
    (item,) = body["items"]
    assert item["application"]["number"] == application.number and item["status"] == "invited"
    assert item["application"]["enterprise_uscc"] == application.enterprise.uscc  # to judge a conflict
    assert ok(as_user(first).get(f"{API}/me/assignments", {"status": "accepted"}))["count"] == 0
    assert ok(as_user(reserve).get(f"{API}/me/assignments"))["count"] == 0  # standby seats stay hidden
    assert_error(as_user(reserve).get(f"{API}{seat_path(application)}"), 404, "not_found")
    for user in (province.alice, province.office, province.expert):
        assert ok(as_user(user).get(f"{API}/me/assignments"))["count"] == 0
        assert_error(as_user(user).get(f"{API}{seat_path(application)}"), 404, "not_found")
    assert_error(
        as_user(first).get(f"{API}/me/assignments/{typo(application.number)}"), 422, "invalid_number"
    )


def test_the_application_is_shown_only_after_declaring_no_conflict(province, as_user, drawn):
    application, (first, *_), _ = drawn
    client = as_user(first)
    assert_error(client.get(f"{API}/applications/{application.number}"), 404, "not_found")
    assert_error(client.get(f"{API}{seat_path(application, '/scores')}"), 403, "permission_denied")
    assert_error(
        send(client, "put", seat_path(application, "/scores"), {"scores": SHEET}), 403, "permission_denied"
    )
    body = ok(send(client, "post", seat_path(application, "/declaration"), {"decision": "accept"}))
    assert body["status"] == "accepted" and body["declared_at"]
    assert events("evaluation.assignment.declared") == 1
    detail = ok(client.get(f"{API}/applications/{application.number}"))
    assert detail["results"] is None and detail["veto_findings"] == [] and detail["actions"] == []
    assert_error(
        send(client, "post", seat_path(application, "/declaration"), {"decision": "accept"}), 409, "conflict"
    )


def test_a_conflict_needs_a_note_and_calls_the_reserve(province, as_user, drawn):
    application, (first, _, _, reserve), _ = drawn
    client = as_user(first)
    url = seat_path(application, "/declaration")
    assert_error(send(client, "post", url, {"decision": "conflict"}), 422, "validation_error", "note")
    assert_error(send(client, "post", url, {"decision": "maybe"}), 422, "validation_error", "decision")
    body = ok(send(client, "post", url, {"decision": "conflict", "note": "曾为该企业提供咨询服务。"}))
    assert (body["status"], body["note"]) == ("conflict", "曾为该企业提供咨询服务。")
    assert events("evaluation.assignment.replaced") == 1
    assert ok(as_user(reserve).get(f"{API}{seat_path(application)}"))["status"] == "invited"


def test_an_expert_may_decline(province, as_user, drawn):
    application, (_, second, *_), _ = drawn
    body = ok(
        send(
            as_user(second),
            "post",
            seat_path(application, "/declaration"),
            {"decision": "decline", "note": "出差"},
        )
    )
    assert body["status"] == "declined"
    assert_error(as_user(second).get(f"{API}{seat_path(application, '/scores')}"), 403, "permission_denied")


def test_the_score_sheet_is_drafted_then_submitted(province, as_user, drawn):
    application, (first, *_), _ = drawn
    client = as_user(first)
    ok(send(client, "post", seat_path(application, "/declaration"), {"decision": "accept"}))
    sheet = ok(client.get(f"{API}{seat_path(application, '/scores')}"))
    assert [line["indicator"] for line in sheet["lines"]] == ["1.1", "1.2", "2.1", "2.2"]
    assert sheet["complete"] is False and sheet["total"] == 0
    assert_error(send(client, "post", seat_path(application, "/scores/submission")), 422, "scores_incomplete")
    draft = ok(send(client, "put", seat_path(application, "/scores"), {"scores": SHEET[:2]}))
    assert (draft["complete"], draft["total"]) == (False, 49.5)
    assert not events("evaluation.scores.submitted")  # drafts are the expert's own working copy
    body = ok(send(client, "put", seat_path(application, "/scores"), {"scores": SHEET}))
    assert (body["complete"], body["total"]) == (True, 80.5)
    submitted = ok(send(client, "post", seat_path(application, "/scores/submission")))
    assert submitted["assignment"]["status"] == "submitted" and submitted["assignment"]["submitted_at"]
    event = events("evaluation.scores.submitted")
    assert event == 1
    assert_error(
        send(client, "put", seat_path(application, "/scores"), {"scores": SHEET}), 409, "scores_submitted"
    )
    assert_error(send(client, "post", seat_path(application, "/scores/submission")), 409, "scores_submitted")
    assert Score.objects.filter(assignment__expert__user=first).count() == 4


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"indicator": "1.1", "score": 31, "comment": "超出满分"}, "1.1"),
        ({"indicator": "1.1", "score": 12.34, "comment": "两位小数"}, "1.1"),
        ({"indicator": "1.1", "score": 12, "comment": ""}, "scores.1.comment"),
        ({"indicator": "1", "score": 12, "comment": "一级指标"}, "1"),
        ({"indicator": "9.9", "score": 1, "comment": "不存在"}, "9.9"),
        ({"indicator": "1.1", "score": "高", "comment": "不是数字"}, "scores.1.score"),
        ({"indicator": "1.1", "score": -1, "comment": "负分"}, "scores.1.score"),
    ],
)
def test_bad_scores_are_refused_all_or_nothing(province, as_user, drawn, entry, field):
    application, (first, *_), _ = drawn
    client = as_user(first)
    ok(send(client, "post", seat_path(application, "/declaration"), {"decision": "accept"}))
    body = {"scores": [SHEET[1], entry]}
    assert_error(send(client, "put", seat_path(application, "/scores"), body), 422, "validation_error", field)
    assert not Score.objects.exists()


def test_an_indicator_twice_is_refused(province, as_user, drawn):
    application, (first, *_), _ = drawn
    client = as_user(first)
    ok(send(client, "post", seat_path(application, "/declaration"), {"decision": "accept"}))
    body = {"scores": [SHEET[0], SHEET[0]]}
    assert_error(send(client, "put", seat_path(application, "/scores"), body), 422, "validation_error", "1.1")


def test_an_expert_raises_a_veto_item(province, as_user, drawn):
    application, (first, second, *_), _ = drawn
    url = seat_path(application, "/veto-findings")
    assert_error(
        send(as_user(first), "post", url, {"veto_item": "F1", "note": "数据造假"}), 403, "permission_denied"
    )
    ok(send(as_user(first), "post", seat_path(application, "/declaration"), {"decision": "accept"}))
    client = as_user(first)
    assert_error(
        send(client, "post", url, {"veto_item": "F7", "note": "x"}), 422, "validation_error", "veto_item"
    )
    assert_error(send(client, "post", url, {"veto_item": "F1"}), 422, "validation_error", "note")
    ok(send(client, "post", url, {"veto_item": "F1", "note": "检测报告日期晚于申报日期，疑似伪造。"}), 201)
    finding = VetoFinding.objects.get()
    assert (finding.raised_by, finding.status) == (first, "raised")
    assert events("evaluation.veto.raised", application) == 1
    detail = ok(client.get(f"{API}/applications/{application.number}"))
    assert detail["veto_findings"][0]["raised_by"] is None  # experts' names are the office's
    assert_error(
        send(as_user(second), "post", url, {"veto_item": "F1", "note": "x"}), 403, "permission_denied"
    )


def test_writes_need_the_right_method_and_a_signed_in_expert(province, as_user, client, drawn):
    application, (first, *_), _ = drawn
    assert_error(send(as_user(first), "delete", seat_path(application, "/scores")), 405, "method_not_allowed")
    assert_error(
        send(as_user(first), "get", seat_path(application, "/declaration")), 405, "method_not_allowed"
    )
    client.logout()
    assert_error(client.get(f"{API}/me/assignments"), 401, "unauthenticated")
    assert Application.objects.get().status == "expert_review"
