"""The experts' pages: the list of their assignments, the declaration (only what is needed to
judge a conflict before it), the score sheet (drafts, bad input, submission with a confirmation,
read-only afterwards) and raising a veto item; nobody sees another expert's seat."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from haopin.core.models import AuditEvent
from haopin.evaluation import services
from haopin.evaluation.models import Application, Assignment, PanelDraw, Score, VetoFinding
from haopin.evaluation.tests import test_applications as shared
from haopin.evaluation.tests.test_applications import PDF, advance, assign_expert, audit_count, fill_in
from haopin.evaluation.tests.test_experts import applicant, expert
from haopin.evaluation.views.experts import NAV, is_expert, todo_items

A = Assignment.Status
S = Application.Status

frozen_clock = shared.frozen_clock
rule_sets = shared.rule_sets
batch = shared.batch
alice_app = shared.alice_app

LIST = reverse("evaluation:assignment-list")


def url(name, application):
    return reverse(f"evaluation:assignment-{name}", args=[application.uuid])


@pytest.fixture
def in_review(province, alice_app):
    """Alice's application, complete, with evidence and competitors, in the expert review."""
    services.application_evidence_add(
        actor=province.alice, application=alice_app, upload=io.BytesIO(PDF), name="检测报告.pdf", title=""
    )
    application = fill_in(alice_app, province.alice)
    application.competitors = [province.bob_ent.uscc]
    application.save(update_fields=["competitors"])
    return advance(
        application,
        S.EXPERT_REVIEW,
        owner=province.alice,
        recommender=province.city_jinan,
        office=province.office,
    )


@pytest.fixture
def seat(province, in_review):
    return assign_expert(in_review, province.expert, A.INVITED)


@pytest.fixture
def accepted(seat):
    Assignment.objects.filter(pk=seat.pk).update(status=A.ACCEPTED)
    seat.refresh_from_db()
    return seat


def sheet(rule_set, share=Decimal("0.8")) -> dict[str, str]:
    data = {}
    for indicator in rule_set.indicators.filter(parent__isnull=False):
        key = indicator.code.replace(".", "_")
        data[f"score_{key}"] = str((indicator.max_score * share).quantize(Decimal("0.1")))
        data[f"comment_{key}"] = f"{indicator.name}：材料翔实。"
    return data


# --- the list ---------------------------------------------------------------------------------------


def test_an_expert_lists_only_their_own_assignments(province, seat, as_user):
    other = expert("370100", categories=[province.cat_food])
    html = as_user(province.expert).get(LIST).content.decode()
    assert seat.application.number in html and "泉城" in html and "待声明" in html
    assert seat.application.number not in as_user(other.user).get(LIST).content.decode()


def test_standby_seats_are_not_listed(province, seat, as_user):
    Assignment.objects.filter(pk=seat.pk).update(status=A.STANDBY)
    assert seat.application.number not in as_user(province.expert).get(LIST).content.decode()
    assert as_user(province.expert).get(url("detail", seat.application)).status_code == 404


def test_the_to_do_list_counts_seats_to_declare_and_sheets_to_score(province, seat):
    assert [(item.label, item.count) for item in todo_items(province.expert)] == [
        ("项评审任务待声明利益冲突", 1),
        ("项评审任务待提交评分", 0),
    ]
    Assignment.objects.filter(pk=seat.pk).update(status=A.ACCEPTED)
    invited, accepted = todo_items(province.expert)
    assert (invited.count, accepted.count) == (0, 1) and accepted.url.endswith("?status=accepted")
    Application.objects.filter(pk=seat.application_id).update(status=S.REVIEWED)
    assert [item.count for item in todo_items(province.expert)] == [0, 0]
    assert todo_items(province.alice) == []


def test_the_list_is_for_experts(province, as_user):
    for user in (province.alice, province.office, province.city_jinan):
        assert as_user(user).get(LIST).status_code == 403
    (item,) = NAV
    assert item.url_name == "evaluation:assignment-list"
    assert is_expert(province.expert) and not is_expert(province.office)


def test_assignment_list_queries_do_not_grow_with_the_page(province, batch, rule_sets, as_user):
    client = as_user(province.expert)
    profile = province.expert.expert_profile
    draw = PanelDraw.objects.create(
        batch=batch,
        rule_set=rule_sets.food,
        seed="s",
        panel_size=3,
        reserve_size=0,
        avoid_same_city=False,
        pool_digest="0",
        result_digest="0",
        created_by=province.office,
    )

    def count(n):
        while Assignment.objects.count() < n:
            application = applicant(batch, rule_sets.food, creator=province.office, status=S.EXPERT_REVIEW)
            Assignment.objects.create(
                application=application, expert=profile, draw=draw, role="panel", order=1, status=A.INVITED
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST + "?size=100")
        assert response.status_code == 200
        assert len(set(re.findall(r"SQ2025\d{6}[0-9A-Z]", response.content.decode()))) == n
        return len(queries)

    assert count(2) == count(25) <= 7


# --- the declaration ------------------------------------------------------------------------------


def test_before_declaring_only_what_judges_a_conflict_is_shown(province, seat, as_user):
    client = as_user(province.expert)
    response = client.get(url("detail", seat.application))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in (
        "泉城食品有限公司",
        province.alice_ent.uscc,
        "济南市",
        "崂山茶业有限公司",
        province.bob_ent.uscc,
    ):
        assert shown in html
    # Nothing of the application itself: no summary, no figures, no link to its page or the sheet.
    assert "本地传统名品" not in html and "5,000.00" not in html
    assert seat.application.get_absolute_url() not in html
    assert url("scores", seat.application) not in html
    assert client.get(seat.application.get_absolute_url()).status_code == 404
    response = client.get(url("scores", seat.application))
    assert response.status_code == 302 and response.url == url("detail", seat.application)


def test_declaring_no_conflict_opens_the_application(province, seat, as_user):
    client = as_user(province.expert)
    evidence = seat.application.evidence.get()
    document = reverse(
        "evaluation:application-document", args=[seat.application.uuid, evidence.document.uuid]
    )
    assert client.get(document).status_code == 404
    response = client.post(url("accept", seat.application))
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.status == A.ACCEPTED and seat.declared_at is not None
    event = AuditEvent.objects.filter(action="evaluation.assignment.declared").get()
    assert event.new["status"] == A.ACCEPTED
    html = client.get(url("detail", seat.application)).content.decode()
    assert seat.application.get_absolute_url() in html and url("scores", seat.application) in html
    assert client.get(seat.application.get_absolute_url()).status_code == 200
    assert client.get(document).status_code == 200  # the registry's download would refuse an expert


def test_a_conflict_needs_a_note_and_then_hides_the_application(province, seat, as_user):
    client = as_user(province.expert)
    response = client.post(url("conflict", seat.application), {"note": "  "})
    assert response.status_code == 422 and "请填写此项" in response.content.decode()
    seat.refresh_from_db()
    assert seat.status == A.INVITED and audit_count("evaluation.assignment.declared") == 0
    response = client.post(url("conflict", seat.application), {"note": "近三年为该企业提供过质量咨询。"})
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.status == A.CONFLICT and seat.conflict_note == "近三年为该企业提供过质量咨询。"
    assert client.get(seat.application.get_absolute_url()).status_code == 404
    html = client.get(url("detail", seat.application)).content.decode()
    assert "声明存在利益冲突并回避" in html and url("accept", seat.application) not in html
    # A second declaration is refused, with the reason, and changes nothing.
    response = client.post(url("accept", seat.application))
    assert response.status_code == 409 and "已就申报" in response.content.decode()
    seat.refresh_from_db()
    assert seat.status == A.CONFLICT


def test_an_expert_may_decline(province, accepted, as_user):
    response = as_user(province.expert).post(url("decline", accepted.application), {"note": "出差"})
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == A.DECLINED
    assert as_user(province.expert).get(accepted.application.get_absolute_url()).status_code == 404


def test_declaring_outside_the_expert_review_is_refused(province, seat, as_user):
    Application.objects.filter(pk=seat.application_id).update(status=S.REVIEWED)
    response = as_user(province.expert).post(url("accept", seat.application))
    assert response.status_code == 409 and "不在专家评审阶段" in response.content.decode()
    seat.refresh_from_db()
    assert seat.status == A.INVITED


def test_another_expert_never_reaches_the_seat(province, accepted, as_user):
    other = expert("370100", categories=[province.cat_food])
    client = as_user(other.user)
    application = accepted.application
    for name in ("detail", "scores", "submit", "veto"):
        assert client.get(url(name, application)).status_code == 404, name
    for name in ("accept", "conflict", "decline", "scores", "submit", "veto"):
        assert client.post(url(name, application), {"note": "x"}).status_code == 404, name
    assert client.get(application.get_absolute_url()).status_code == 404
    accepted.refresh_from_db()
    assert accepted.status == A.ACCEPTED and not Score.objects.exists()
    # Nor do people without an expert profile.
    assert as_user(province.alice).get(url("detail", application)).status_code == 404


# --- the score sheet --------------------------------------------------------------------------------


def test_the_sheet_lists_every_leaf_indicator_with_its_maximum_and_guidance(province, accepted, as_user):
    html = as_user(province.expert).get(url("scores", accepted.application)).content.decode()
    leaves = list(accepted.application.rule_set.indicators.filter(parent__isnull=False))
    for indicator in leaves:
        assert f'name="score_{indicator.code.replace(".", "_")}"' in html
        assert f'name="comment_{indicator.code.replace(".", "_")}"' in html
        assert indicator.guidance in html
    assert re.search(r'name="score_1_1"[^>]*max="10(\.0)?"', html)  # 1.1 质量管理体系, 10 points


def test_bad_scores_save_nothing(province, accepted, as_user):
    client = as_user(province.expert)
    target = url("scores", accepted.application)
    for data, message in [
        ({"score_1_1": "10.5", "comment_1_1": "好"}, "分数须在 0 至 10 之间"),
        ({"score_1_1": "-1", "comment_1_1": "差"}, "分数须在 0 至 10 之间"),
        ({"score_1_1": "8.25", "comment_1_1": "两位小数"}, "最多保留一位小数"),
        ({"score_1_1": "八", "comment_1_1": "不是数字"}, "请填写 0 至 10 之间的分数"),
        ({"score_1_1": "8"}, "请填写评语"),
        ({"comment_1_1": "只有评语"}, "请填写分数"),
    ]:
        response = client.post(target, {"intent": "save", **data})
        assert response.status_code == 422, data
        assert message in response.content.decode(), data
        assert not Score.objects.exists()


def test_drafts_are_saved_then_submitted_after_a_confirmation(province, accepted, as_user):
    client = as_user(province.expert)
    application = accepted.application
    data = sheet(application.rule_set)
    partial = {k: v for k, v in data.items() if k.endswith(("1_1", "1_2"))}
    response = client.post(url("scores", application), {"intent": "save", **partial})
    assert response.status_code == 302 and response.url == url("scores", application)
    assert Score.objects.filter(assignment=accepted).count() == 2
    assert audit_count("evaluation.scores.submitted") == 0  # drafts are not audited
    # A saved score cannot be emptied.
    response = client.post(
        url("scores", application), {"intent": "save", "score_1_1": "", "comment_1_1": "x"}
    )
    assert response.status_code == 422 and "已保存的分数不能清空" in response.content.decode()
    # The confirmation lists what is missing; submitting then is refused and changes nothing.
    html = client.get(url("submit", application)).content.decode()
    assert "尚有" in html and "1.3 标准引领" in html
    response = client.post(url("submit", application))
    assert response.status_code == 422 and "未评分" in response.content.decode()
    accepted.refresh_from_db()
    assert accepted.status == A.ACCEPTED
    # Everything scored: "submit" saves and asks for the confirmation.
    response = client.post(url("scores", application), {"intent": "submit", **data})
    assert response.status_code == 302 and response.url == url("submit", application)
    html = client.get(url("submit", application)).content.decode()
    assert "确认提交评分" in html and "提交后评分表将锁定" in html
    response = client.post(url("submit", application))
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == A.SUBMITTED
    assert audit_count("evaluation.scores.submitted") == 1


def test_a_submitted_sheet_is_read_only(province, accepted, as_user):
    client = as_user(province.expert)
    application = accepted.application
    client.post(url("scores", application), {"intent": "submit", **sheet(application.rule_set)})
    client.post(url("submit", application))
    html = client.get(url("scores", application)).content.decode()
    assert "评分已于" in html and 'name="score_1_1"' not in html and "质量管理体系：材料翔实。" in html
    before = list(Score.objects.values_list("score", "comment"))
    response = client.post(
        url("scores", application), {"intent": "save", "score_1_1": "1", "comment_1_1": "改"}
    )
    assert response.status_code == 302
    assert list(Score.objects.values_list("score", "comment")) == before
    assert "评分已提交，不能再修改" in client.get(url("scores", application)).content.decode()


def test_inline_check_of_a_score_saves_nothing(province, accepted, as_user):
    response = as_user(province.expert).post(
        url("scores", accepted.application),
        {"score_1_1": "12", "comment_1_1": "好"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "score_1_1"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="field-score_1_1"' in html and "分数须在 0 至 10 之间" in html
    assert not Score.objects.exists()


# --- raising a veto item ------------------------------------------------------------------------------


def test_an_expert_raises_a_veto_item(province, accepted, as_user):
    client = as_user(province.expert)
    application = accepted.application
    item = application.rule_set.veto_items.get(code="F4")
    assert item.text in client.get(url("veto", application)).content.decode()
    response = client.post(url("veto", application), {"veto_item": item.pk, "note": ""})
    assert response.status_code == 422 and not VetoFinding.objects.exists()
    response = client.post(url("veto", application), {"note": "没有选否决项"})
    assert response.status_code == 422 and not VetoFinding.objects.exists()
    note = "申报的出口额与海关数据不符（2024年）。"
    response = client.post(url("veto", application), {"veto_item": item.pk, "note": note})
    assert response.status_code == 302
    finding = VetoFinding.objects.get()
    assert finding.raised_by == province.expert and finding.note == note
    # The applicant sees the finding, not who raised it.
    html = as_user(province.alice).get(application.get_absolute_url()).content.decode()
    assert note in html and str(province.expert) not in html[html.index('id="veto"') :]


def test_a_veto_needs_the_declaration_first(province, seat, as_user):
    item = seat.application.rule_set.veto_items.first()
    response = as_user(province.expert).post(
        url("veto", seat.application), {"veto_item": item.pk, "note": "x"}
    )
    assert response.status_code == 403
    assert not VetoFinding.objects.exists()


def test_the_office_sees_the_submitted_sheets_on_the_application_page(province, accepted, as_user):
    application = accepted.application
    client = as_user(province.expert)
    client.post(url("scores", application), {"intent": "submit", **sheet(application.rule_set)})
    client.post(url("submit", application))
    html = as_user(province.office_viewer).get(application.get_absolute_url()).content.decode()
    section = html[html.index('id="sheet"') :]
    assert "专家评分表" in section and str(province.expert) in section and "山东大学" in section
    assert "8.0" in section  # 1.1: 80 % of 10 points
    for user in (province.alice, province.city_jinan, province.expert):
        html = as_user(user).get(application.get_absolute_url()).content.decode()
        assert 'id="sheet"' not in html, user.username
